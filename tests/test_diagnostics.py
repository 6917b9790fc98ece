"""System diagnostics: the psutil sampler thread really starts once and really stops,
its history is bounded, and the metrics history holds calls, samples and alerts."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator

import psutil
import pytest

from wdbx_notebook import PerformanceProfiler, PerformanceWarning, system_diagnostics
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.diagnostics import SAMPLE_COLUMNS, SystemDiagnostics


def _samplers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wdbx-system-sampler"]


@pytest.fixture
def diagnostics() -> Iterator[SystemDiagnostics]:
    diag = SystemDiagnostics(PerformanceProfiler(track_memory=False))
    yield diag
    diag.stop()


def _wait_for(predicate: object, limit_s: float = 20.0) -> None:
    # Waits for behaviour, not for a time: the limit only stops a broken test hanging.
    deadline = time.monotonic() + limit_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_start_samples_in_a_daemon_thread_and_stop_joins_it(diagnostics: SystemDiagnostics) -> None:
    before = len(_samplers())
    assert diagnostics.start(interval=0.02) is True
    assert diagnostics.running and "sampling every 0.02s" in repr(diagnostics)
    (thread,) = [t for t in _samplers()][before:] or _samplers()[-1:]
    assert thread.daemon
    _wait_for(lambda: len(diagnostics.get_metrics_history()["system"]) >= 3)
    diagnostics.stop()
    assert not thread.is_alive() and not diagnostics.running
    assert len(_samplers()) == before
    count = len(diagnostics.get_metrics_history()["system"])
    time.sleep(0.1)  # five intervals: a live sampler would have added samples
    assert len(diagnostics.get_metrics_history()["system"]) == count
    diagnostics.stop()  # stopping twice is harmless


def test_starting_twice_keeps_one_sampler(diagnostics: SystemDiagnostics) -> None:
    before = len(_samplers())
    assert diagnostics.start(interval=0.05) is True
    assert diagnostics.start(interval=0.01) is False
    assert len(_samplers()) == before + 1 and diagnostics.interval == 0.05
    diagnostics.stop()
    assert diagnostics.start(interval=0.05) is True  # can start again after stopping
    diagnostics.stop()
    assert len(_samplers()) == before


def test_sample_values_are_this_process(diagnostics: SystemDiagnostics) -> None:
    sample = diagnostics.sample()
    assert set(sample) == {"timestamp", *SAMPLE_COLUMNS}
    process = psutil.Process(os.getpid())
    rss = process.memory_info().rss
    assert 0.5 * rss < sample["rss_bytes"] < 2 * rss
    assert sample["threads"] >= threading.active_count()
    # Parked threads show up in the count.
    park = threading.Event()
    extra = [threading.Thread(target=park.wait) for _ in range(5)]
    for t in extra:
        t.start()
    try:
        assert diagnostics.sample()["threads"] >= sample["threads"] + 5 - 1
    finally:
        park.set()
        for t in extra:
            t.join()
    assert sample["open_files"] == len(process.open_files())
    assert 0 <= sample["system_memory_percent"] <= 100
    assert 0 <= sample["system_cpu_percent"] <= 100
    assert sample["process_cpu_percent"] >= 0
    assert abs(sample["timestamp"] - time.time()) < 60


def test_history_is_bounded() -> None:
    diag = SystemDiagnostics(PerformanceProfiler(), history_limit=3)
    try:
        diag.start(interval=0.01)
        _wait_for(lambda: len(diag.get_metrics_history()["system"]) == 3)
        first = diag.get_metrics_history()["system"][0]["timestamp"]
        _wait_for(lambda: diag.get_metrics_history()["system"][0]["timestamp"] > first)
        assert len(diag.get_metrics_history()["system"]) == 3
    finally:
        diag.stop()
    diag.clear()
    assert diag.get_metrics_history()["system"] == []


def test_to_dataframe_is_time_indexed(diagnostics: SystemDiagnostics) -> None:
    import pandas as pd

    empty = diagnostics.to_dataframe()
    assert empty.empty and list(empty.columns) == list(SAMPLE_COLUMNS)
    diagnostics.start(interval=0.01)
    _wait_for(lambda: len(diagnostics.get_metrics_history()["system"]) >= 2)
    diagnostics.stop()
    samples = diagnostics.get_metrics_history()["system"]
    frame = diagnostics.to_dataframe()
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "timestamp"
    assert str(frame.index.dtype) == "datetime64[ns]" and frame.index.is_monotonic_increasing
    assert list(frame.columns) == list(SAMPLE_COLUMNS)
    assert frame["rss_bytes"].tolist() == [s["rss_bytes"] for s in samples]
    assert str(frame["open_files"].dtype) == "Int64"
    expected = pd.to_datetime([s["timestamp"] for s in samples], unit="s")
    assert (abs(frame.index - expected) < pd.Timedelta(microseconds=1)).all()


def test_plot_timeline_overlays_the_samples(diagnostics: SystemDiagnostics) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from wdbx_notebook.plots import plot_timeline

    profiler = diagnostics.profiler
    diagnostics.start(interval=0.01)
    for _ in range(20):
        with profiler.profile_block("work"):
            sum(range(10_000))
        time.sleep(0.005)
    diagnostics.stop()
    fig = plot_timeline(profiler=profiler, system=diagnostics.to_dataframe())
    assert len(fig.axes) == 2 and "RSS" in fig.axes[1].get_ylabel()


def test_bad_intervals_are_refused(diagnostics: SystemDiagnostics) -> None:
    with pytest.raises(ValueError, match=r"at least 0\.01 seconds"):
        diagnostics.start(interval=0)
    for interval in (float("inf"), float("nan"), -1.0, 86_401, 10**30):
        with pytest.raises(ValueError, match=r"at least 0\.01 seconds and at most 86400 \(a day\)"):
            diagnostics.start(interval=interval)
        assert not diagnostics.running
    with pytest.raises(TypeError, match="number of seconds"):
        diagnostics.start(interval="1s")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="history_limit"):
        SystemDiagnostics(history_limit=0)
    assert not diagnostics.running


def test_metrics_history_holds_calls_samples_and_alerts() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    diag = SystemDiagnostics(profiler)
    profiler.add_alert("slow", metric="max_duration_ms", above=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerformanceWarning)
        with profiler.profile_block("slow"):
            clock.advance_ms(25)
    diag._samples.append(diag.sample())
    history = diag.get_metrics_history()
    assert sorted(history) == ["alerts", "profiler_data", "system"]
    assert history["profiler_data"] == profiler.get_call_history()
    assert history["profiler_data"]["slow"][0]["duration_ms"] == 25.0
    assert len(history["system"]) == 1
    (alert,) = history["alerts"]
    assert alert["operation"] == "slow" and alert["value"] == 25.0 and alert["kind"] == "crossed"


def test_shared_instance_follows_the_shared_profiler(shared_profiler: PerformanceProfiler) -> None:
    with shared_profiler.profile_block("shared"):
        pass
    assert "shared" in system_diagnostics.get_metrics_history()["profiler_data"]
    assert system_diagnostics.profiler is shared_profiler
