"""The package stays light to import, and its public API is what __all__ says."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wdbx_notebook

HEAVY = ("numpy", "pandas", "matplotlib", "ipywidgets", "IPython", "scipy")


def _fresh(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the heavy modules it left loaded."""
    code += (
        "\nimport sys\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules if m.split('.')[0] in {HEAVY!r}}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])


def test_import_loads_no_heavy_dependency():
    assert _fresh("import wdbx_notebook") == []


def test_import_loads_no_submodule_until_a_name_is_used():
    # Only the warning types, the hook that hands the views to the core (and _views,
    # which imports its readers only when used), and compare (a function named like its
    # module, which must be bound before anything imports the module).
    code = (
        "import sys, wdbx_notebook\n"
        "print(sorted(m for m in sys.modules if m.startswith('wdbx_notebook.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "['wdbx_notebook._hooks', 'wdbx_notebook._views', 'wdbx_notebook._warnings', "
        "'wdbx_notebook.compare']"
    )


def test_first_profiled_calls_load_no_numpy():
    code = (
        "import asyncio, wdbx_notebook\n"
        "profiler = wdbx_notebook.get_performance_profiler()\n"
        "square = profiler.profile('square')(lambda x: x * x)\n"
        "timed = profiler.profile('timed', track_memory=False)(lambda: None)\n"
        "@profiler.profile\n"
        "async def nap():\n"
        "    await asyncio.sleep(0)\n"
        "square(3); timed(); asyncio.run(nap())\n"
        "with profiler.profile_block('block'):\n"
        "    pass\n"
        "try:\n"
        "    with profiler.profile_block('failing'):\n"
        "        raise ValueError('x')\n"
        "except ValueError:\n"
        "    pass\n"
    )
    assert _fresh(code) == []
    # Reading a statistic is what loads numpy, and only numpy.
    assert _fresh(code + "profiler.get_statistics('square')") == ["numpy"]


def test_lazy_names_are_the_submodules_objects():
    import importlib

    for name, module in wdbx_notebook._LAZY.items():
        assert getattr(wdbx_notebook, name) is getattr(
            importlib.import_module(f"wdbx_notebook.{module}"), name
        ), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        wdbx_notebook.no_such_name  # noqa: B018


def test_dir_lists_every_public_name():
    code = (
        "import wdbx_notebook\nprint(sorted(set(wdbx_notebook.__all__) - set(dir(wdbx_notebook))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_profiling_loads_no_heavy_dependency():
    code = (
        "import sys\n"
        "from wdbx_notebook import get_performance_profiler, generate_performance_report\n"
        "p = get_performance_profiler()\n"
        "f = p.profile('op')(lambda: 1)\n"
        "[f() for _ in range(10000)]\n"
        "p.get_statistics('op'); generate_performance_report('html')\n"
        "heavy = ('pandas', 'matplotlib', 'ipywidgets', 'IPython')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_all_is_sorted_and_every_name_exists():
    assert wdbx_notebook.__all__ == sorted(wdbx_notebook.__all__)
    assert len(set(wdbx_notebook.__all__)) == len(wdbx_notebook.__all__)
    assert set(wdbx_notebook._LAZY) <= set(wdbx_notebook.__all__)
    for name in wdbx_notebook.__all__:
        assert hasattr(wdbx_notebook, name), name


def test_every_public_name_is_in_all():
    public = {
        name
        for name, value in vars(wdbx_notebook).items()
        if not name.startswith("_") and not isinstance(value, type(sys))
    }
    public -= {"annotations", "Any"}
    assert public <= set(wdbx_notebook.__all__)


def test_every_public_name_has_a_docstring():
    for name in wdbx_notebook.__all__:
        if name.startswith("__"):
            continue
        assert getattr(wdbx_notebook, name).__doc__, name
