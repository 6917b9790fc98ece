"""The read model: snapshots of the live profiler, of files, of merges and drains agree.

Every view reads a Snapshot; these tests pin that the live profiler and a
snapshot of it give the same numbers in every view, that a loaded session
gives the same numbers as the snapshot it was saved from, and that drains and
absorbs move calls between processes exactly.
"""

from __future__ import annotations

import contextlib
import copy
import math
import pickle
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from wdbx_notebook import (
    PerformanceProfiler,
    ProfilerInternalWarning,
    Snapshot,
    WdbxWarning,
    history_dataframe,
    load_session,
    statistics_dataframe,
)
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.snapshot import CallColumns, as_snapshot
from wdbx_notebook.stats import EXACT_SAMPLE_LIMIT, SKETCH_RELATIVE_ERROR


def _busy_profiler(clock: FakeClock | None = None) -> PerformanceProfiler:
    """Two operations with known durations, failures, and a time-only and a memory mode."""
    clock = clock or FakeClock(1_000)
    profiler = PerformanceProfiler(clock=clock, track_memory=False)

    @profiler.profile("load")
    def load(ms: float) -> None:
        clock.advance_ms(ms)
        if ms > 8:
            raise ValueError("too slow")

    for i in range(40):
        with contextlib.suppress(ValueError):
            load(1 + i % 10)
        clock.advance_ms(0.5)
    for i in range(5):
        with profiler.profile_block("parse <b>$x</b>"):
            clock.advance_ms(2 * (i + 1))
    return profiler


def _mask_times(text: str) -> str:
    return re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?", "<time>", text)


# -- the same numbers in every view ----------------------------------------------------------
def test_live_profiler_and_its_snapshot_agree_in_every_view() -> None:
    profiler = _busy_profiler()
    snap = profiler.snapshot()
    assert snap.get_all_operations() == profiler.get_all_operations()
    for name in profiler.get_all_operations():
        assert snap.get_statistics(name) == profiler.get_statistics(name)
        assert snap.summary(name) == profiler.summary(name)
    pd.testing.assert_frame_equal(statistics_dataframe(snap), statistics_dataframe(profiler))
    pd.testing.assert_frame_equal(history_dataframe(snap), history_dataframe(profiler))
    assert snap.get_call_history() == profiler.get_call_history()
    for fmt in ("text", "markdown", "html"):
        assert _mask_times(snap.report(fmt).render()) == _mask_times(profiler.report(fmt).render())
    # The rich display differs only in its title line (which names the kind of source).
    table = snap._repr_mimebundle_()["text/html"].split("</p>", 1)[1]
    assert table == profiler._repr_mimebundle_()["text/html"].split("</p>", 1)[1]


def test_statistics_match_numpy_on_the_same_calls() -> None:
    profiler = _busy_profiler()
    calls = profiler.snapshot().calls("load")
    durations_ms = calls.duration_ns[calls.success] / 1e6
    stats = profiler.get_statistics("load")
    assert stats["call_count"] == len(calls) == 40
    assert stats["error_count"] == int((~calls.success).sum()) == 8
    assert stats["avg_duration_ms"] == pytest.approx(np.mean(durations_ms))
    assert stats["std_duration_ms"] == pytest.approx(np.std(durations_ms, ddof=1))
    for key, q in (("median", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert stats[f"{key}_duration_ms"] == pytest.approx(np.percentile(durations_ms, q))


def test_a_loaded_session_gives_the_numbers_of_the_snapshot_it_was_saved_from(
    tmp_path: Path,
) -> None:
    profiler = _busy_profiler()
    snap = profiler.snapshot()
    loaded = load_session(snap.save(tmp_path / "run.json"))
    assert loaded.get_all_statistics() == snap.get_all_statistics()
    for name in snap.get_all_operations():
        assert loaded.calls(name) == snap.calls(name)
    pd.testing.assert_frame_equal(statistics_dataframe(loaded), statistics_dataframe(snap))
    pd.testing.assert_frame_equal(history_dataframe(loaded), history_dataframe(snap))


def test_a_session_of_the_first_schema_says_unknown_not_invented_numbers(tmp_path: Path) -> None:
    import json

    profiler = _busy_profiler()
    path = profiler.save(tmp_path / "new.json")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    data["schema_version"] = 1
    for entry in data["operations"].values():
        calls = entry.pop("calls")
        ok = [i for i, e in enumerate(calls["error"]) if e is None]
        entry["recent_start_ns"] = [calls["start_ns"][i] for i in ok]
        entry["recent_duration_ns"] = [calls["end_ns"][i] - calls["start_ns"][i] for i in ok]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data), encoding="utf-8")
    history = load_session(old).get_call_history("load")["load"]
    assert len(history) == 32  # the successful calls the first schema kept
    assert {r["thread"] for r in history} == {None}
    assert {r["memory_delta"] for r in history} == {None}
    frame = history_dataframe(load_session(old), "load")
    assert frame["memory_delta"].isna().all() and frame["thread"].isna().all()


# -- snapshots travel ------------------------------------------------------------------------
def test_snapshots_pickle_deep_copy_and_round_trip_plain_data() -> None:
    snap = _busy_profiler().snapshot()
    for copied in (pickle.loads(pickle.dumps(snap)), copy.deepcopy(snap), copy.copy(snap)):
        assert isinstance(copied, Snapshot)
        assert copied.get_all_statistics() == snap.get_all_statistics()
        assert copied.calls("load") == snap.calls("load")
    data = snap.to_dict()
    as_tuples = copy.deepcopy(data)
    for entry in as_tuples["operations"].values():
        entry["calls"] = {key: tuple(values) for key, values in entry["calls"].items()}
    for rebuilt in (Snapshot.from_dict(data), Snapshot.from_dict(as_tuples)):
        assert rebuilt.get_all_statistics() == snap.get_all_statistics()
        assert rebuilt.calls("parse <b>$x</b>") == snap.calls("parse <b>$x</b>")


def test_a_snapshot_is_read_only() -> None:
    snap = _busy_profiler().snapshot()
    with pytest.raises(AttributeError, match="read-only"):
        snap.saved_at = 0  # type: ignore[misc]
    with pytest.raises(AttributeError, match="read-only"):
        del snap.path


def test_as_snapshot_takes_snapshots_profilers_and_none() -> None:
    profiler = _busy_profiler()
    snap = profiler.snapshot()
    assert as_snapshot(snap) is snap
    assert as_snapshot(profiler).get_all_statistics() == snap.get_all_statistics()
    assert isinstance(as_snapshot(None), Snapshot)
    with pytest.raises(TypeError, match="a PerformanceProfiler, a Snapshot"):
        as_snapshot({"load": {}})


# -- recent calls in start order, consistent cuts, no lost batch ---------------------------------
def test_history_is_in_start_order_across_wrappers_of_different_modes() -> None:
    clock = FakeClock(0)
    profiler = PerformanceProfiler(clock=clock)
    timed = profiler.profile("op", track_memory=False)(lambda: clock.advance_ns(10))
    measured = profiler.profile("op", track_memory=True)(lambda: clock.advance_ns(10))
    for i in range(10):
        (timed if i % 2 else measured)()
    calls = profiler.snapshot().calls("op")
    assert calls.start_ns.tolist() == sorted(calls.start_ns.tolist())
    assert (calls.mem_before >= 0).tolist() == [i % 2 == 0 for i in range(10)]
    frame = profiler.history_dataframe("op")
    assert frame["timestamp"].is_monotonic_increasing


def test_calls_that_end_out_of_order_are_kept_in_start_order() -> None:
    profiler = PerformanceProfiler(track_memory=False)
    started = threading.Event()

    def long_call() -> None:
        with profiler.profile_block("op"):
            started.set()
            release.wait(5)

    release = threading.Event()
    worker = threading.Thread(target=long_call)
    worker.start()
    started.wait(5)
    for _ in range(3):
        with profiler.profile_block("op"):
            pass
    profiler.get_all_operations()  # fold the three short calls first
    release.set()
    worker.join()
    calls = profiler.snapshot().calls("op")
    assert len(calls) == 4
    assert calls.start_ns.tolist() == sorted(calls.start_ns.tolist())
    assert calls.duration_ns.argmax() == 0  # the long call started first


def test_a_batch_beyond_int64_is_folded_exactly_not_dropped() -> None:
    huge = 2**63 + 1_000
    clock = FakeClock(huge)
    profiler = PerformanceProfiler(clock=clock, track_memory=False, history_limit=100)

    @profiler.profile("op")
    def op() -> None:
        clock.advance_ns(7)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfilerInternalWarning)
        for _ in range(20_000):
            op()
        stats = profiler.get_statistics("op")
    assert stats["call_count"] == 20_000
    assert stats["min_duration_ms"] == stats["max_duration_ms"] == 7 / 1e6
    assert stats["total_duration_ms"] == pytest.approx(20_000 * 7 / 1e6)


def test_a_fold_that_fails_keeps_its_calls_for_the_next_fold(monkeypatch: Any) -> None:
    from wdbx_notebook.stats import OperationStats

    profiler = PerformanceProfiler(track_memory=False)
    op = profiler.profile("op")(lambda: None)
    real = OperationStats.add_successes
    monkeypatch.setattr(OperationStats, "add_successes", _raise)
    for _ in range(5):
        op()
    with pytest.warns(ProfilerInternalWarning, match="aggregation"):
        assert profiler.get_statistics("op")["call_count"] == 0
    monkeypatch.setattr(OperationStats, "add_successes", real)
    op()
    assert profiler.get_statistics("op")["call_count"] == 6


def _raise(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("aggregation bug")


def test_snapshot_during_recording_is_one_consistent_cut() -> None:
    profiler = PerformanceProfiler(track_memory=False, history_limit=50)
    op = profiler.profile("op")(lambda: None)
    stop = threading.Event()

    def record() -> None:
        while not stop.is_set():
            op()
            if np.random.random() < 0.001:
                profiler.reset_statistics("op")

    thread = threading.Thread(target=record)
    thread.start()
    try:
        for _ in range(200):
            snap = profiler.snapshot()
            if "op" in snap:
                stats, calls = snap.get_statistics("op"), snap.calls("op")
                assert len(calls) == min(stats["call_count"], 50)
                assert len(snap.recent_durations_ns("op")) == len(snap.recent_starts_ns("op"))
    finally:
        stop.set()
        thread.join()


# -- bad input and many names ----------------------------------------------------------------
def test_a_clock_that_does_not_return_int_nanoseconds_is_refused() -> None:
    import time

    with pytest.raises(TypeError, match="int nanoseconds"):
        PerformanceProfiler(clock=time.perf_counter)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int nanoseconds"):
        PerformanceProfiler(clock=lambda: True)  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="callable"):
        PerformanceProfiler(clock=5)  # type: ignore[arg-type]


def test_many_operation_names_warn_once_with_the_fix() -> None:
    profiler = PerformanceProfiler(track_memory=False, operation_limit=100)
    with pytest.warns(WdbxWarning, match=r'profile_block\("query"\)') as caught:
        for i in range(300):
            with profiler.profile_block(f"query {i}"):
                pass
    assert len([w for w in caught if issubclass(w.category, WdbxWarning)]) == 1
    assert len(profiler.get_all_operations()) == 300  # warned, not refused


def test_constant_call_columns_are_shared_broadcasts() -> None:
    # Columns holding one value (unknown, no GC time, one thread) hold no memory per
    # call, and short ones are one shared object, so an idle operation owns no array.
    from wdbx_notebook._calls import _filled, uniform

    value = 123_456_789  # a value no other test has filled a column with
    long = _filled(value, 100_000)  # a long one first: later short ones slice it
    assert long.strides == (0,) and not long.flags.writeable and len(long) == 100_000
    for n in (1, 5, 64):
        column = _filled(value, n)
        assert column is _filled(value, n)
        assert column.tolist() == [value] * n and uniform(column) == (True, value)
    assert _filled(None, 3).tolist() == [None, None, None]
    assert _filled("MainThread", 65).strides == (0,)


def test_many_idle_operations_stay_small() -> None:
    import tracemalloc

    profiler = PerformanceProfiler(track_memory=False, operation_limit=None)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(1_000):
            with profiler.profile_block(f"item {i}"):
                pass
        profiler.get_all_operations()
        per_operation = (tracemalloc.get_traced_memory()[0] - before) / 1_000
    finally:
        tracemalloc.stop()
    # 3.4 KB before the read model; the idle part is now about 2.6-2.9 KB.
    assert per_operation < 3_300, f"{per_operation:.0f} bytes per one-call operation"


# -- drain and absorb --------------------------------------------------------------------------
def _worker_drain(seed: int, n: int) -> tuple[Snapshot, list[int]]:
    """A separate profiler standing in for a worker process: its drain and its durations."""
    rng = np.random.default_rng(seed)
    durations = rng.integers(1_000, 5_000_000, n).tolist()
    clock = FakeClock(10**12 * (seed + 1))
    worker = PerformanceProfiler(clock=clock, track_memory=False)
    for d in durations:
        with worker.profile_block("task"):
            clock.advance_ns(d)
        clock.advance_ns(100)
    return worker.drain(worker=f"w{seed}"), durations


@pytest.mark.parametrize("n", [300, EXACT_SAMPLE_LIMIT + 2_500])
def test_absorbing_drains_is_exact(n: int) -> None:
    home = PerformanceProfiler(track_memory=False)
    drains = [_worker_drain(seed, n) for seed in range(2)]
    for drain, _ in drains:
        assert home.absorb(drain) == n
    truth = np.array([d for _, durations in drains for d in durations]) / 1e6
    stats = home.get_statistics("task")
    assert stats["call_count"] == 2 * n
    assert stats["total_duration_ms"] == pytest.approx(truth.sum(), rel=1e-12)
    assert stats["min_duration_ms"] == truth.min() and stats["max_duration_ms"] == truth.max()
    assert math.isclose(stats["avg_duration_ms"], truth.mean(), rel_tol=1e-9)
    assert math.isclose(stats["std_duration_ms"], truth.std(ddof=1), rel_tol=1e-9)
    p95 = np.percentile(truth, 95)
    tolerance = 1e-12 if stats["percentiles_exact"] else 2 * SKETCH_RELATIVE_ERROR
    assert stats["p95_duration_ms"] == pytest.approx(p95, rel=tolerance)
    starts = home.snapshot().calls("task").start_ns
    assert starts.tolist() == sorted(starts.tolist())
    assert {s["worker"]: s["calls"] for s in home.sources()} == {"w0": n, "w1": n}
    by_source = statistics_dataframe(home, by="source")
    assert by_source["call_count"].sum() == 2 * n
    assert sorted(by_source.index.get_level_values("operation")) == ["task", "task"]


def test_absorbing_the_same_drain_twice_adds_nothing() -> None:
    home = PerformanceProfiler(track_memory=False)
    drain, _ = _worker_drain(3, 50)
    assert home.absorb(drain) == 50
    assert home.absorb(pickle.loads(pickle.dumps(drain))) == 0
    assert home.get_statistics("task")["call_count"] == 50


def test_each_call_lands_in_exactly_one_drain() -> None:
    profiler = PerformanceProfiler(track_memory=False)
    op = profiler.profile("op")(lambda: None)
    stop = threading.Event()
    made = [0]

    def record() -> None:
        while not stop.is_set():
            op()
            made[0] += 1

    thread = threading.Thread(target=record)
    thread.start()
    drained = 0
    try:
        for _ in range(50):
            drain = profiler.drain()
            drained += drain.get_statistics("op")["call_count"] if "op" in drain else 0
    finally:
        stop.set()
        thread.join()
    last = profiler.drain()
    drained += last.get_statistics("op")["call_count"] if "op" in last else 0
    assert drained == made[0] == profiler.get_statistics("op")["call_count"]


def test_absorb_fires_the_watchers_and_refuses_what_is_not_a_snapshot() -> None:
    home = PerformanceProfiler(track_memory=False)
    seen: list[str] = []
    home.watch("task", seen.append)
    home.absorb(_worker_drain(4, 10)[0])
    assert seen == ["task"]
    with pytest.raises(TypeError, match="drain"):
        home.absorb({"task": 1})  # type: ignore[arg-type]


def test_call_columns_reject_columns_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="expected 2"):
        CallColumns.from_lists([1, 2], [3])


def test_a_call_never_uses_more_cpu_time_than_it_lasted() -> None:
    # The CPU clock is read just outside the wall clock; for sub-microsecond calls the
    # reads' own cost would otherwise make CPU share exceed 100%.
    profiler = PerformanceProfiler(track_memory=False, track_cpu=True)
    tiny = profiler.profile("tiny")(lambda: None)
    for _ in range(2_000):
        tiny()
    calls = profiler.snapshot().calls("tiny")
    known = calls.cpu_ns >= 0
    assert known.all()
    assert (calls.cpu_ns <= calls.duration_ns).all()
    assert 0 <= profiler.get_statistics("tiny")["cpu_share"] <= 100.0
