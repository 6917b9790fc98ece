"""wdbx_notebook: a low-overhead profiler for Jupyter and plain Python.

>>> from wdbx_notebook import get_performance_profiler
>>> profiler = get_performance_profiler()
>>> @profiler.profile("vector_search")
... def search_vectors(query, top_k=10):
...     return sorted(query)[:top_k]

In IPython or Jupyter, ``%load_ext wdbx_notebook`` adds the ``%%wdbx_profile``
cell magic and friends. Importing this package loads neither IPython, pandas,
matplotlib nor ipywidgets; each is imported when first needed.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

# Only these load now: the warning types, two tiny modules that hand the views to
# the core, and compare (below). Every other name loads its submodule when first
# used (PEP 562): the decorator only the core (profiler, hot path, aggregates, no
# numpy until statistics are read), a plot matplotlib, a DataFrame pandas.
#
# The core's shortcuts (profiler.report(), snapshot.save(), ...) call the views
# through _hooks instead of importing above themselves; _views imports its readers
# only when a shortcut is used.
#
# A function named like its submodule is bound now: importing the submodule later
# (which any ``from .compare import ...`` does) would otherwise set the package's
# attribute to the module. compare.py imports nothing heavy at module level.
from . import _hooks, _views
from ._warnings import PerformanceWarning, ProfilerInternalWarning, WdbxWarning
from .compare import compare, comparison_markdown

_hooks.install_views(_views)

if typing.TYPE_CHECKING:
    from .diagnostics import SystemDiagnostics, system_diagnostics
    from .distributed import collected
    from .export import PrometheusCollector, to_otel
    from .frames import history_dataframe, statistics_dataframe
    from .persistence import load_session, merge_sessions
    from .plots import plot_comparison, plot_distribution, plot_timeline, plot_trend
    from .profiler import (
        PerformanceProfiler,
        ProfileBlock,
        UnknownOperationError,
        get_performance_profiler,
    )
    from .report import PerformanceReport, generate_performance_report
    from .snapshot import Snapshot

#: Public name -> the submodule that defines it, imported on first access (PEP 562).
_LAZY = {
    "PerformanceProfiler": "profiler",
    "PerformanceReport": "report",
    "PrometheusCollector": "export",
    "ProfileBlock": "profiler",
    "Snapshot": "snapshot",
    "SystemDiagnostics": "diagnostics",
    "UnknownOperationError": "profiler",
    "collected": "distributed",
    "generate_performance_report": "report",
    "get_performance_profiler": "profiler",
    "history_dataframe": "frames",
    "load_session": "persistence",
    "merge_sessions": "persistence",
    "plot_comparison": "plots",
    "plot_distribution": "plots",
    "plot_timeline": "plots",
    "plot_trend": "plots",
    "statistics_dataframe": "frames",
    "system_diagnostics": "diagnostics",
    "to_otel": "export",
}

__version__ = "0.1.0"

__all__ = [
    "PerformanceProfiler",
    "PerformanceReport",
    "PerformanceWarning",
    "ProfileBlock",
    "ProfilerInternalWarning",
    "PrometheusCollector",
    "Snapshot",
    "SystemDiagnostics",
    "UnknownOperationError",
    "WdbxWarning",
    "__version__",
    "collected",
    "compare",
    "comparison_markdown",
    "comparison_widget",
    "generate_performance_report",
    "get_performance_profiler",
    "history_dataframe",
    "load_ipython_extension",
    "load_session",
    "merge_sessions",
    "plot_comparison",
    "plot_distribution",
    "plot_timeline",
    "plot_trend",
    "statistics_dataframe",
    "system_diagnostics",
    "to_otel",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    """Import the submodule behind a public name on first use, then keep the name here."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """Called by ``%load_ext wdbx_notebook``: registers the magics."""
    from .jupyter import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Called by ``%unload_ext wdbx_notebook``: removes the magics again."""
    from .jupyter import unload_ipython_extension as unload

    unload(ipython)


def comparison_widget(operations: Any = None, profiler: Any = None, **options: Any) -> Any:
    """The interactive comparison app (an ipywidgets ``VBox``) for ``operations`` (all
    when None) of ``profiler`` (the shared one when None); ipywidgets loads on first use.
    See :func:`wdbx_notebook.jupyter.widgets.comparison_widget` for the options.

    >>> from wdbx_notebook import PerformanceProfiler, comparison_widget
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> comparison_widget(profiler=profiler).metric.value
    'mean'
    """
    from .jupyter.widgets import comparison_widget as build

    return build(operations, profiler, **options)
