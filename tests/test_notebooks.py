"""The example notebooks, executed in a real Jupyter kernel (nbclient): `pytest -m notebook`."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
SUMMARY = re.compile(
    r"^wdbx_profile (\S+): (?:[\d.]+ (?:ns|µs|ms|s), memory \S+(?: \S+)?"
    r"|\d+ runs?, mean [\d.]+ (?:ns|µs|ms|s).*, memory .+ in all)$",
    re.M,
)


def _load_run_demo() -> Any:
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "notebooks" / "run_demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_demo = _load_run_demo()


def _code_cells(nb: Any) -> list[Any]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _cell(nb: Any, first_line: str) -> Any:
    matches = [c for c in _code_cells(nb) if c.source.splitlines()[0].strip() == first_line]
    assert len(matches) == 1, f"no single cell starting with {first_line!r}"
    return matches[0]


def _stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def _data(cell: Any, mime: str) -> list[str]:
    return [o.data[mime] for o in cell.outputs if "data" in o and mime in o.data]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    workdir = tmp_path_factory.mktemp("quickstart")
    nb = nbformat.read(QUICKSTART, as_version=4)
    # One extra cell, in memory only: which interpreter runs the kernel.
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    copy = workdir / "quickstart.ipynb"
    nbformat.write(nb, copy)
    return run_demo.execute_notebook(copy, workdir, timeout_s=120), workdir


def test_quickstart_is_stored_without_outputs() -> None:
    nb = nbformat.read(QUICKSTART, as_version=4)
    nbformat.validate(nb)
    for cell in _code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None


def test_kernel_is_this_environments_python(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    assert _stdout(nb.cells[-1]).strip() == sys.executable


def test_quickstart_has_no_error_output(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    for cell in _code_cells(nb):
        assert cell.execution_count is not None, cell.source
        for output in cell.outputs:
            assert output.output_type != "error", (cell.source, output.get("evalue"))
            if output.output_type == "stream" and output.name == "stderr":
                assert "Traceback" not in output.text and "Error" not in output.text, output.text


def test_seed_guide_examples_print_what_the_guide_shows(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    stats = _stdout(_cell(nb, 'stats = profiler.get_statistics("vector_search")'))
    assert "Call count: 50" in stats
    for label in (
        "Average duration:",
        "95th percentile:",
        "Success rate: 100.0%",
        "Calls per second:",
    ):
        assert label in stats
    comparison = _stdout(_cell(nb, "# Get a list of all profiled operations"))
    assert comparison.splitlines()[0] == "Performance Comparison:"
    assert re.search(r"^vector_search\s+[\d.]+\s+[\d.]+\s+[\d.]+", comparison, re.M)
    assert re.search(r"^batch_processing\s+", comparison, re.M)
    reset = _stdout(_cell(nb, "# Reset a specific operation"))
    assert "after resetting vector_search: ['batch_processing']" in reset
    assert "after resetting everything: []" in reset
    text_report = _stdout(_cell(nb, "# Generate a plain text report"))
    assert text_report.startswith("WDBX PERFORMANCE REPORT")
    for section in ("OPERATION DETAILS", "ERRORS", "PERFORMANCE RECOMMENDATIONS"):
        assert section in text_report
    assert re.search(r"^parse_record\s+42\s+", text_report, re.M)
    assert "Recent average execution time:" in _stdout(
        _cell(nb, "# Get all metrics including profiling data")
    )
    leak = _stdout(_cell(nb, "cache = []"))
    assert re.search(r"Warning: Operation 'cache.fill' has accumulated [\d.]+ MB", leak)
    components = _stdout(_cell(nb, "# Profile vector store operations"))
    assert re.search(r"Vector Store Add: [\d.]+ ms\nBlock Manager Create: [\d.]+ ms", components)


def test_magics_print_their_summary_and_show_html_tables(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    for label in ("10k", "100k", "1m"):
        cell = _cell(nb, f"%%wdbx_profile groupby_{label} -n 5")
        summaries = SUMMARY.findall(_stdout(cell))
        assert summaries == [f"groupby_{label}"]
        assert "5 runs, mean" in _stdout(cell)
        # The cell's last expression is displayed as usual, once.
        assert len(_data(cell, "text/html")) == 1 and "<table" in _data(cell, "text/html")[0]
    assert SUMMARY.findall(_stdout(_cell(nb, 'values = arrays["100k"].tolist()'))) == [
        "python_sort_100k"
    ]
    fetch = _cell(nb, "%%wdbx_profile async_fetch")
    assert SUMMARY.findall(_stdout(fetch)) == ["async_fetch"]
    assert "'status': 200" in _data(fetch, "text/plain")[0]
    stats_html = _data(_cell(nb, "%wdbx_stats"), "text/html")[0]
    assert 'class="wdbx-stats"' in stats_html and "<table" in stats_html
    for name in ("vector_search", "groupby_1m", "np_sort_1m", "async_fetch", "parse_record"):
        assert name in stats_html
    assert 'class="wdbx-failing"' in stats_html  # parse_record failed twice
    assert "wdbx-slow" in stats_html
    assert _data(_cell(nb, "%wdbx_stats"), "text/plain")[0].startswith("Operation")
    subset = _data(_cell(nb, "%wdbx_stats groupby_10k groupby_100k groupby_1m"), "text/html")[0]
    assert "groupby_1m" in subset and "np_sort_1m" not in subset


def test_comparison_is_displayed(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    cell = _cell(nb, "%wdbx_compare np_sort_100k python_sort_100k")
    views = _data(cell, "application/vnd.jupyter.widget-view+json")
    if views:
        # The widget's model is saved with the notebook, so it renders in nbconvert HTML too.
        state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert views[0]["model_id"] in state
    else:
        shown = _stdout(cell) + "".join(_data(cell, "text/plain"))
        assert "np_sort_100k" in shown and "python_sort_100k" in shown


def test_dataframes_and_report_object(quickstart: tuple[Any, Path]) -> None:
    nb, workdir = quickstart
    frame_html = _data(_cell(nb, "df = profiler.to_dataframe()"), "text/html")[0]
    assert "avg_duration_ms" in frame_html and "operation" in frame_html
    dtypes = _stdout(_cell(nb, 'history = profiler.history_dataframe("vector_search")'))
    assert re.search(r"timestamp\s+datetime64\[ns\]", dtypes)
    assert re.search(r"memory_delta\s+Int64", dtypes)
    report_cell = _cell(nb, 'report = profiler.report(format_type="markdown")')
    assert "WDBX Performance Report" in _data(report_cell, "text/html")[0]
    assert _data(report_cell, "text/plain")[0].startswith("WDBX PERFORMANCE REPORT")
    assert (
        (workdir / "performance_report.html")
        .read_text(encoding="utf-8")
        .startswith("<!DOCTYPE html>")
    )
    profiler_cell = _cell(nb, "profiler")
    assert _data(profiler_cell, "text/plain")[0].startswith(
        "<PerformanceProfiler enabled, 14 operations>"
    )


def test_explain_section_shows_each_verdict(quickstart: tuple[Any, Path]) -> None:
    nb, _ = quickstart
    html = _data(_cell(nb, "%wdbx_explain cycles_step"), "text/html")[0]
    assert 'class="wdbx-explain"' in html and "GC: " in html
    assert (
        "waiting, not computing"
        in _data(_cell(nb, 'profiler.explain("sleep_step")'), "text/html")[0]
    )
    lines = dict(
        line.split(": ", 1)
        for line in _stdout(
            _cell(nb, 'for name in ("sleep_step", "cpu_step", "cycles_step", "cold_step"):')
        ).splitlines()
    )
    shares = {key.split(" (")[0]: float(key.split("(")[1].split("%")[0]) for key in lines}
    verdicts = {key.split(" (")[0]: value for key, value in lines.items()}
    assert verdicts["sleep_step"].startswith("waiting, not computing: ")
    assert shares["sleep_step"] < 20 and shares["cpu_step"] > 10 * shares["sleep_step"]
    assert "GC: " in verdicts["cycles_step"]
    assert "warm-up: the first call took " in verdicts["cold_step"]
    frame = _data(_cell(nb, 'profiler.explain("cold_step").to_dataframe()'), "text/html")[0]
    assert "warmup" in frame and "gc_ms" in frame
    breakdown = _data(_cell(nb, "from wdbx_notebook.explain import time_breakdown"), "text/html")[0]
    assert "waiting_ms" in breakdown and "cycles_step" in breakdown


def test_markdown_report_is_exported(quickstart: tuple[Any, Path]) -> None:
    nb, workdir = quickstart
    cell = _cell(nb, "%wdbx_report -f markdown -o performance_report.md")
    assert "Report written to performance_report.md" in _stdout(cell)
    report = (workdir / "performance_report.md").read_text(encoding="utf-8")
    assert report == _data(cell, "text/markdown")[0]
    assert report.startswith("# WDBX Performance Report")
    # Markdown escapes only what would change the rendering: "_" inside a word stays.
    for name in ("groupby_1m", "np_sort_10k", "async_fetch", "vector_search", "parse_record"):
        assert f"| {name} |" in report
    assert "## Errors" in report and "ValueError (2)" in report


def test_make_demo_writes_html_and_report(tmp_path: Path) -> None:
    # What `make demo` runs, from the repository root, into a scratch copy of the layout.
    (tmp_path / "notebooks").mkdir()
    for name in ("quickstart.ipynb", "run_demo.py"):
        (tmp_path / "notebooks" / name).write_bytes((ROOT / "notebooks" / name).read_bytes())
    done = subprocess.run(
        [sys.executable, "notebooks/run_demo.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    html_path, report_path, report_html = (
        Path(line.split(": ", 1)[1].strip()) for line in lines[:3]
    )
    assert html_path == tmp_path / "build" / "quickstart.html"
    assert report_path == tmp_path / "build" / "performance_report.md"
    assert report_html == tmp_path / "build" / "performance_report.html"
    assert "<table" in report_html.read_text(encoding="utf-8")
    assert lines[-1] == "open the notebooks themselves in JupyterLab with: make lab"
    html = html_path.read_text(encoding="utf-8")
    assert "wdbx-stats" in html and "wdbx_profile groupby_1m" in html
    assert report_path.read_text(encoding="utf-8").startswith("# WDBX Performance Report")


def _execute_cells(tmp_path: Path, sources: list[str]) -> tuple[Any, Any]:
    """Run ``sources`` as a notebook: (the executed notebook, None) or (None, the cell's error)."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path = tmp_path / "magics.ipynb"
    nbformat.write(nb, path)
    try:
        return run_demo.execute_notebook(path, tmp_path, timeout_s=60), None
    except CellExecutionError as err:
        return None, err


def test_magics_in_a_real_kernel(tmp_path: Path) -> None:
    nb, error = _execute_cells(
        tmp_path,
        [
            "%load_ext wdbx_notebook\nimport asyncio\n"
            "import wdbx_notebook.jupyter.cell as m\nm.PROGRESS_AFTER_S = 0.0",
            "%wdbx_autoprofile on",
            "%%wdbx_profile waited\nawait asyncio.sleep(0.1)\nafter_await = 7\nafter_await",
            "%%wdbx_profile looped -n 3\ntotal = sum(range(1000))",
            "plain = 1",
            "%wdbx_profile line_wait await asyncio.sleep(0.05)",
            "%wdbx_autoprofile off",
            "from wdbx_notebook import get_performance_profiler\n"
            "p = get_performance_profiler()\n"
            "print(p.get_all_operations())\n"
            "print(p.get_statistics('waited')['min_duration_ms'] >= 100)\n"
            "print(p.get_statistics('line_wait')['min_duration_ms'] >= 50)",
        ],
    )
    assert error is None, error
    cells = _code_cells(nb)
    waited = cells[2]
    assert SUMMARY.findall(_stdout(waited)) == ["waited"]
    assert _data(waited, "text/plain") == ["7"]
    # -n with a progress bar: an ipywidgets bar under a kernel.
    looped = cells[3]
    assert _data(looped, "application/vnd.jupyter.widget-view+json")
    assert "IntProgress" in _data(looped, "text/plain")[0]
    assert SUMMARY.findall(_stdout(cells[5])) == ["line_wait"]
    names, awaited_long_enough, line_awaited_long_enough = _stdout(cells[7]).splitlines()
    operations = eval(names)  # a printed list of str
    assert operations[:2] == ["waited", "looped"] and "line_wait" in operations
    # Each plain cell once, under its number; the profiled cells only under their own names.
    assert [n for n in operations if n.startswith("cell ")] == ["cell 5: plain = 1"]
    assert awaited_long_enough == line_awaited_long_enough == "True"


def test_a_failing_profiled_cell_stops_the_notebook_like_any_failing_cell(tmp_path: Path) -> None:
    nb, error = _execute_cells(
        tmp_path,
        [
            "%load_ext wdbx_notebook",
            "%%wdbx_profile risky\nraise ValueError('boom')",
            "print('never reached')",
        ],
    )
    assert nb is None and error is not None
    assert error.ename == "ValueError" and error.evalue == "boom"
    assert "never reached" not in str(error)


def test_a_failing_profiled_cell_shows_one_traceback_and_is_recorded(tmp_path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("%load_ext wdbx_notebook\nimport asyncio"),
            nbformat.v4.new_code_cell("%%wdbx_profile risky\nraise ValueError('boom')"),
            nbformat.v4.new_code_cell("%%wdbx_profile risky\nawait asyncio.sleep(0)\n1 / 0"),
            nbformat.v4.new_code_cell(
                "from wdbx_notebook import get_performance_profiler\n"
                "print(get_performance_profiler().get_statistics('risky')['errors_by_type'])"
            ),
        ]
    )
    NotebookClient(nb, kernel_name="python3", timeout=60, allow_errors=True).execute()
    for cell, ename in ((nb.cells[1], "ValueError"), (nb.cells[2], "ZeroDivisionError")):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert [e.ename for e in errors] == [ename]
        assert "run_cell_magic" not in "".join(errors[0].traceback)
        failed = rf"^wdbx_profile risky: failed after [\d.]+ (ns|µs|ms|s) \({ename}\)$"
        assert re.search(failed, _stdout(cell), re.M), _stdout(cell)
    assert _stdout(nb.cells[3]).strip() == "{'ValueError': 1, 'ZeroDivisionError': 1}"
