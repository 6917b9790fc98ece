"""System diagnostics: the profiler's per-call history beside process and machine metrics.

``system_diagnostics`` is the shared instance, bound to the shared profiler.
``start()`` samples the process (resident memory, CPU percent, threads, open
files) and the machine (CPU and memory percent) with psutil in a background
daemon thread; ``stop()`` ends it. The samples sit beside the calls so a slow
stretch can be matched with memory pressure or a busy machine.

>>> from wdbx_notebook import system_diagnostics
>>> metrics = system_diagnostics.get_metrics_history()
>>> sorted(metrics)
['alerts', 'profiler_data', 'system']

>>> diagnostics = SystemDiagnostics()
>>> diagnostics.start(interval=0.5)
True
>>> diagnostics.start()  # already sampling: no second sampler
False
>>> diagnostics.stop()
>>> diagnostics.running
False
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from .profiler import PerformanceProfiler, _warn_internal, get_performance_profiler

#: Samples kept by default (an hour at one sample a second); the oldest go first.
DEFAULT_SYSTEM_HISTORY = 3_600

#: The shortest sampling interval accepted, in seconds.
MIN_INTERVAL = 0.01

#: The longest sampling interval accepted, in seconds (a day).
MAX_INTERVAL = 86_400.0

#: The columns of every sample and of :meth:`SystemDiagnostics.to_dataframe`.
SAMPLE_COLUMNS = (
    "rss_bytes",
    "process_cpu_percent",
    "threads",
    "open_files",
    "system_cpu_percent",
    "system_memory_percent",
)


class SystemDiagnostics:
    """Gathers what is known about performance into one history.

    Args:
        profiler: the profiler whose per-call history is reported; the shared
            one when omitted (looked up at each call, so it is always current).
        history_limit: system samples kept (the most recent).
    """

    def __init__(
        self,
        profiler: PerformanceProfiler | None = None,
        *,
        history_limit: int = DEFAULT_SYSTEM_HISTORY,
    ) -> None:
        if (
            isinstance(history_limit, bool)
            or not isinstance(history_limit, int)
            or history_limit < 1
        ):
            raise ValueError(f"history_limit must be an int >= 1, got {history_limit!r}")
        self._profiler = profiler
        self._samples: deque[dict[str, Any]] = deque(maxlen=history_limit)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._interval = 1.0
        self._process: Any = None
        self._warned = False

    @property
    def profiler(self) -> PerformanceProfiler:
        return self._profiler if self._profiler is not None else get_performance_profiler()

    # -- sampling ------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the background sampler is running."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def interval(self) -> float:
        """Seconds between two samples of the running (or last) sampler."""
        return self._interval

    def start(self, interval: float = 1.0) -> bool:
        """Start sampling every ``interval`` seconds in a daemon thread.

        Takes a first sample at once. ``interval`` is seconds from
        :data:`MIN_INTERVAL` (0.01) to :data:`MAX_INTERVAL` (a day); anything
        else (0, negative, NaN, infinity) is refused with a ``ValueError``.
        Returns True when a sampler started,
        False when one was already running (there is never a second one; stop
        it first to change the interval).

        >>> diagnostics = SystemDiagnostics()
        >>> diagnostics.start(0.2), diagnostics.stop()
        (True, None)
        """
        if isinstance(interval, bool) or not isinstance(interval, (int, float)):
            raise TypeError(f"interval must be a number of seconds such as 1.0, got {interval!r}")
        if not MIN_INTERVAL <= interval <= MAX_INTERVAL:  # NaN fails too
            raise ValueError(
                f"interval must be at least {MIN_INTERVAL} seconds and at most {MAX_INTERVAL:g} "
                f"(a day), such as 1.0; got {interval!r}"
            )
        with self._lock:
            if self.running:
                return False
            import psutil

            self._process = psutil.Process()
            # cpu_percent compares with the previous call: prime both counters
            # so the first real sample covers the first interval.
            self._process.cpu_percent(None)
            psutil.cpu_percent(None)
            self._interval = float(interval)
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._stop, self._interval),
                name="wdbx-system-sampler",
                daemon=True,
            )
            self._thread.start()
        return True

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the sampler and wait for its thread to end (a no-op when not running)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, stop: threading.Event, interval: float) -> None:
        self._sample_safely()
        while not stop.wait(interval):
            self._sample_safely()

    def _sample_safely(self) -> None:
        try:
            self._samples.append(self.sample())
        except Exception as err:
            if not self._warned:  # once: a sampler failing each second must not flood
                self._warned = True
                _warn_internal("sampling system metrics", err)

    def sample(self) -> dict[str, Any]:
        """Take one sample now (the sampler calls this) and return it, without storing it.

        Keys: ``timestamp`` (seconds since the epoch) and :data:`SAMPLE_COLUMNS`;
        a figure the platform denies is ``None``.
        """
        import psutil

        process = self._process
        if process is None:
            process = self._process = psutil.Process()
        with process.oneshot():
            rss = process.memory_info().rss
            cpu = process.cpu_percent(None)
            threads = process.num_threads()
            try:
                open_files: int | None = len(process.open_files())
            except (psutil.AccessDenied, psutil.Error, OSError):
                open_files = None
        return {
            "timestamp": time.time(),
            "rss_bytes": int(rss),
            "process_cpu_percent": float(cpu),
            "threads": int(threads),
            "open_files": open_files,
            "system_cpu_percent": float(psutil.cpu_percent(None)),
            "system_memory_percent": float(psutil.virtual_memory().percent),
        }

    def clear(self) -> None:
        """Forget the system samples taken so far."""
        self._samples.clear()

    # -- reading -------------------------------------------------------------------
    def get_metrics_history(self) -> dict[str, Any]:
        """Everything recorded so far.

        Returns a dict with ``profiler_data`` (operation name -> list of
        per-call records, oldest first: ``timestamp``, ``duration_ms``,
        ``memory_delta``, ``success``, ``error``, ``thread``), ``system``
        (sampled process and machine metrics, oldest first: ``timestamp`` and
        the :data:`SAMPLE_COLUMNS`) and ``alerts`` (the alert history of the
        profiler, see :func:`wdbx_notebook.alerts.alert_history`).
        """
        from .alerts import alert_history

        profiler = self.profiler
        return {
            "profiler_data": profiler.get_call_history(),
            "system": [dict(s) for s in list(self._samples)],
            "alerts": alert_history(profiler),
        }

    def to_dataframe(self) -> Any:
        """The system samples as a pandas DataFrame indexed by time.

        The index (``timestamp``) is ``datetime64[ns]`` in UTC, timezone-naive,
        like the profiler's frames; columns are :data:`SAMPLE_COLUMNS`
        (``open_files`` is a nullable ``Int64``). ``plot_timeline(system=...)``
        overlays it on call durations.

        >>> SystemDiagnostics().to_dataframe().empty
        True
        """
        import numpy as np
        import pandas as pd

        samples = list(self._samples)
        index = pd.DatetimeIndex(
            np.array([round(s["timestamp"] * 1e9) for s in samples], dtype=np.int64).view(
                "datetime64[ns]"
            ),
            name="timestamp",
        )
        frame = pd.DataFrame(index=index)
        frame["rss_bytes"] = np.array([s["rss_bytes"] for s in samples], dtype=np.int64)
        frame["process_cpu_percent"] = np.array(
            [s["process_cpu_percent"] for s in samples], dtype=np.float64
        )
        frame["threads"] = np.array([s["threads"] for s in samples], dtype=np.int64)
        frame["open_files"] = pd.array([s["open_files"] for s in samples], dtype="Int64")
        frame["system_cpu_percent"] = np.array(
            [s["system_cpu_percent"] for s in samples], dtype=np.float64
        )
        frame["system_memory_percent"] = np.array(
            [s["system_memory_percent"] for s in samples], dtype=np.float64
        )
        return frame

    def __repr__(self) -> str:
        state = f"sampling every {self._interval:g}s" if self.running else "not sampling"
        return f"<SystemDiagnostics {state}, {len(self._samples)} samples>"


system_diagnostics = SystemDiagnostics()
