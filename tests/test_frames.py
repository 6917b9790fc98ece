"""DataFrame views: columns, dtypes and numbers checked against the engine and numpy."""

from __future__ import annotations

import statistics
import threading

import numpy as np
import pandas as pd
import pytest

from wdbx_notebook import PerformanceProfiler, UnknownOperationError
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.frames import (
    HISTORY_COLUMNS,
    history_dataframe,
    statistics_columns,
    statistics_dataframe,
)

DURATIONS_MS = [2.0, 3.5, 1.25, 10.0, 4.0]


def _profiled(track_memory: bool | str = False) -> tuple[PerformanceProfiler, FakeClock]:
    clock = FakeClock(start_ns=1_000_000_000)
    profiler = PerformanceProfiler(track_memory=track_memory, clock=clock)
    for ms in DURATIONS_MS:
        with profiler.profile_block("search"):
            clock.advance_ms(ms)
        clock.advance_ms(1)
    for exc in (ValueError("a"), ValueError("b"), KeyError("c")):
        with pytest.raises(type(exc)), profiler.profile_block("load"):
            clock.advance_ms(0.5)
            raise exc
    with profiler.profile_block("load"):
        clock.advance_ms(7)
    return profiler, clock


def test_statistics_dataframe_has_one_row_per_operation_and_every_statistic() -> None:
    profiler, _ = _profiled()
    frame = statistics_dataframe(profiler)
    assert frame.index.name == "operation"
    assert list(frame.index) == ["search", "load"]
    assert list(frame.columns) == list(profiler.get_statistics("search"))
    for name in ("search", "load"):
        stats = profiler.get_statistics(name)
        for key, value in stats.items():
            cell = frame.loc[name, key]
            if key in ("first_call", "last_call"):
                assert (
                    cell == pd.Timestamp(value, unit="s").floor("us")
                    or abs(cell.value / 1e9 - value) < 1e-6
                )
            elif key == "errors_by_type":
                assert cell == value
            elif value is None:  # no figure (no CPU measured): NaN, never a made-up number
                assert np.isnan(cell), key
            else:
                assert cell == pytest.approx(value), key


def test_statistics_dataframe_numbers_match_numpy() -> None:
    profiler, _ = _profiled()
    row = statistics_dataframe(profiler).loc["search"]
    assert row["call_count"] == len(DURATIONS_MS)
    assert row["avg_duration_ms"] == pytest.approx(np.mean(DURATIONS_MS))
    assert row["median_duration_ms"] == pytest.approx(statistics.median(DURATIONS_MS))
    assert row["std_duration_ms"] == pytest.approx(np.std(DURATIONS_MS, ddof=1))
    assert row["p95_duration_ms"] == pytest.approx(np.percentile(DURATIONS_MS, 95))
    load = statistics_dataframe(profiler).loc["load"]
    assert load["error_count"] == 3
    assert load["errors_by_type"] == {"ValueError": 2, "KeyError": 1}
    assert load["success_rate"] == pytest.approx(25.0)


def test_statistics_dataframe_dtypes() -> None:
    profiler, _ = _profiled()
    frame = statistics_dataframe(profiler)
    for column in ("call_count", "success_count", "error_count", "memory_call_count"):
        assert frame[column].dtype == np.int64, column
    for column in ("avg_duration_ms", "p95_duration_ms", "success_rate", "calls_per_second"):
        assert frame[column].dtype == np.float64, column
    assert frame["first_call"].dtype == "datetime64[ns]"
    assert frame["last_call"].dtype == "datetime64[ns]"
    assert frame["percentiles_exact"].dtype == bool
    assert frame["errors_by_type"].dtype == object
    assert {str(frame[c].dtype) for c in frame.columns} == set(statistics_columns().values())
    # First/last call are the wall-clock times of the first start and the last end.
    stats = profiler.get_statistics("search")
    assert frame.loc["search", "first_call"].value == pytest.approx(
        stats["first_call"] * 1e9, abs=1e3
    )
    assert frame.loc["search", "last_call"] > frame.loc["search", "first_call"]


def test_empty_profiler_gives_empty_frame_with_the_same_columns_and_dtypes() -> None:
    profiled = statistics_dataframe(_profiled()[0])
    empty = statistics_dataframe(PerformanceProfiler())
    assert empty.empty
    assert empty.index.name == "operation"
    assert list(empty.columns) == list(profiled.columns)
    assert empty.dtypes.equals(profiled.dtypes)


def test_statistics_dataframe_reads_any_source_and_a_subset() -> None:
    profiler, _ = _profiled()

    class Holder:  # anything with .snapshot() is read through it
        def snapshot(self) -> object:
            return profiler.snapshot()

    pd.testing.assert_frame_equal(statistics_dataframe(Holder()), statistics_dataframe(profiler))
    pd.testing.assert_frame_equal(
        statistics_dataframe(profiler.snapshot()), statistics_dataframe(profiler)
    )
    assert list(statistics_dataframe(profiler, ["load"]).index) == ["load"]
    assert profiler.to_dataframe().equals(statistics_dataframe(profiler))
    with pytest.raises(TypeError, match="PerformanceProfiler, a Snapshot"):
        statistics_dataframe(object())
    with pytest.raises(TypeError, match="list"):
        statistics_dataframe(profiler, "load")  # type: ignore[arg-type]


def test_history_dataframe_has_one_row_per_call() -> None:
    profiler, _ = _profiled()
    frame = history_dataframe(profiler)
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    assert len(frame) == len(DURATIONS_MS) + 4
    assert frame["timestamp"].is_monotonic_increasing
    search = frame[frame["operation"] == "search"]
    assert search["duration_ms"].tolist() == pytest.approx(DURATIONS_MS)
    load = history_dataframe(profiler, "load")
    assert load["success"].tolist() == [False, False, False, True]
    assert load["error"].tolist() == ["ValueError", "ValueError", "KeyError", None]
    assert load["duration_ms"].tolist() == pytest.approx([0.5, 0.5, 0.5, 7.0])
    assert set(frame["thread"]) == {threading.current_thread().name}
    # The call history the engine reports, field by field.
    history = profiler.get_call_history("search")["search"]
    assert [h["duration_ms"] for h in history] == pytest.approx(search["duration_ms"].tolist())
    assert [h["timestamp"] for h in history] == pytest.approx(
        (search["timestamp"].astype("int64") / 1e9).tolist()
    )


def test_history_dataframe_dtypes_and_missing_memory() -> None:
    profiler, _ = _profiled(track_memory=False)
    frame = profiler.history_dataframe()
    assert frame["timestamp"].dtype == "datetime64[ns]"
    assert frame["duration_ms"].dtype == np.float64
    assert str(frame["memory_delta"].dtype) == "Int64"
    assert frame["memory_delta"].isna().all()
    assert frame["success"].dtype == bool


def test_history_dataframe_memory_delta_is_exact_when_measured() -> None:
    profiler = PerformanceProfiler(track_memory="tracemalloc")
    with profiler.profile_block("grow"):
        kept = [bytearray(200_000)]
    frame = history_dataframe(profiler, "grow")
    assert str(frame["memory_delta"].dtype) == "Int64"
    history = profiler.get_call_history("grow")["grow"]
    assert frame["memory_delta"].tolist() == [h["memory_delta"] for h in history]
    assert frame["memory_delta"].iloc[0] >= 200_000
    del kept


def test_history_dataframe_records_thread_names() -> None:
    profiler = PerformanceProfiler(track_memory=False)

    recorded = threading.Barrier(4)
    release = threading.Event()

    def work() -> None:
        with profiler.profile_block("threaded"):
            pass
        recorded.wait()
        release.wait()  # the engine names threads while they are alive, at its next flush

    threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    recorded.wait()
    frame = history_dataframe(profiler, "threaded")
    release.set()
    for thread in threads:
        thread.join()
    assert sorted(frame["thread"]) == ["worker-0", "worker-1", "worker-2"]


def test_history_dataframe_errors() -> None:
    profiler, _ = _profiled()
    with pytest.raises(UnknownOperationError, match="did you mean 'search'"):
        history_dataframe(profiler, "serch")
    with pytest.raises(KeyError):
        profiler.history_dataframe("nope")
    with pytest.raises(TypeError, match="'window'"):
        history_dataframe(profiler, "search", window=5)
    with pytest.raises(TypeError, match="a PerformanceProfiler, a Snapshot"):
        history_dataframe(object())


def test_empty_history_dataframe() -> None:
    frame = history_dataframe(PerformanceProfiler())
    assert frame.empty
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    assert frame["timestamp"].dtype == "datetime64[ns]"


def test_hostile_names_survive_as_index_labels() -> None:
    profiler = PerformanceProfiler(track_memory=False)
    names = ["a|b", "`tick`", "<script>alert(1)</script>", "line\nbreak"]
    for name in names:
        with profiler.profile_block(name):
            pass
    assert list(statistics_dataframe(profiler).index) == names
    assert list(history_dataframe(profiler)["operation"]) == names
