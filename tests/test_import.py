"""The package stays light to import, and its public API is what __all__ says."""

from __future__ import annotations

import subprocess
import sys

import wdbx_notebook


def test_import_loads_no_heavy_dependency():
    code = (
        "import sys, wdbx_notebook\n"
        "heavy = ('pandas', 'matplotlib', 'ipywidgets', 'IPython')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
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
