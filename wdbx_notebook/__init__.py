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

from typing import Any

from ._warnings import PerformanceWarning, ProfilerInternalWarning, WdbxWarning
from .compare import compare, comparison_markdown
from .diagnostics import SystemDiagnostics, system_diagnostics
from .frames import history_dataframe, statistics_dataframe
from .persistence import Snapshot, load_session, merge_sessions
from .plots import plot_comparison, plot_distribution, plot_timeline, plot_trend
from .profiler import (
    PerformanceProfiler,
    ProfileBlock,
    UnknownOperationError,
    get_performance_profiler,
)
from .report import PerformanceReport, generate_performance_report

__version__ = "0.1.0"

__all__ = [
    "PerformanceProfiler",
    "PerformanceReport",
    "PerformanceWarning",
    "ProfileBlock",
    "ProfilerInternalWarning",
    "Snapshot",
    "SystemDiagnostics",
    "UnknownOperationError",
    "WdbxWarning",
    "__version__",
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
    "unload_ipython_extension",
]


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
