"""``make demo``: execute the quickstart notebook headless and keep what it produced.

Runs ``notebooks/quickstart.ipynb`` in a Jupyter kernel of this interpreter's
environment (nbclient), with ``build/`` as its working directory, then writes

* ``build/quickstart.html``: the executed notebook, converted by nbconvert;
* ``build/performance_report.md``: the markdown report the notebook exports,

and prints both absolute paths, labelled. Usage (from the repository root)::

    .venv/bin/python notebooks/run_demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
BUILD = ROOT / "build"

#: Seconds any one cell may take before the run is abandoned.
CELL_TIMEOUT_S = 300


def _python3_kernel_is_ours() -> str | None:
    """Why the ``python3`` kernel would not run this interpreter, or None when it does."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    command = spec.argv[0]
    # jupyter_client starts a kernelspec whose command is plain "python" with sys.executable.
    if command in {"python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}"}:
        return None
    if Path(command).resolve() == Path(sys.executable).resolve():
        return None
    return f"the python3 kernelspec in {spec.resource_dir} runs {command}, not {sys.executable}"


def execute_notebook(notebook: Path, workdir: Path, timeout_s: int = CELL_TIMEOUT_S) -> Any:
    """Run every cell of ``notebook`` in a fresh ``python3`` kernel, in ``workdir``.

    Returns the executed notebook (an ``nbformat`` node with outputs); raises
    nbclient's ``CellExecutionError`` at the first cell that fails.

    >>> nb = execute_notebook(NOTEBOOK, BUILD)  # doctest: +SKIP
    """
    import nbformat
    from nbclient import NotebookClient

    problem = _python3_kernel_is_ours()
    if problem:
        raise RuntimeError(f"{problem}; run this with the project's .venv/bin/python")
    workdir.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout_s, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return nb


def run_demo(notebook: Path = NOTEBOOK, build: Path = BUILD) -> tuple[Path, Path, Path]:
    """Execute ``notebook`` in ``build`` and return the paths of the executed notebook
    as HTML and of the markdown and HTML reports it writes.

    >>> html, report, report_html = run_demo()  # doctest: +SKIP
    """
    from nbconvert import HTMLExporter

    nb = execute_notebook(notebook, build)
    html_path = build / "quickstart.html"
    body, _ = HTMLExporter().from_notebook_node(nb)
    html_path.write_text(body, encoding="utf-8")
    reports = [build / "performance_report.md", build / "performance_report.html"]
    for path in reports:
        if not path.is_file():
            raise SystemExit(f"run_demo: the notebook did not write {path}")
    return html_path.resolve(), reports[0].resolve(), reports[1].resolve()


def main() -> int:
    html_path, report_path, report_html = run_demo()
    print(f"executed notebook: {html_path}")
    print(f"markdown report:   {report_path}")
    print(f"HTML report:       {report_html}")
    print("open the notebooks themselves in JupyterLab with: make lab")
    return 0


if __name__ == "__main__":
    sys.exit(main())
