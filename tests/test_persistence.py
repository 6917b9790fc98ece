"""Saved sessions: round trips, atomic writes, clear errors, migrations, exact merges."""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import wdbx_notebook
from wdbx_notebook import PerformanceProfiler, Snapshot, load_session, merge_sessions
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.persistence import (
    FORMAT_NAME,
    SCHEMA_VERSION,
    SessionFileError,
    save_session,
)
from wdbx_notebook.stats import EXACT_SAMPLE_LIMIT, SKETCH_RELATIVE_ERROR

HOSTILE = "a|b`<script>alert(1)</script>\nx"


def _profiler_with(
    durations_ns: dict[str, list[int]], failures: dict[str, int] | None = None, start_ns: int = 0
) -> PerformanceProfiler:
    clock = FakeClock(start_ns)
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for name, values in durations_ns.items():
        for ns in values:
            with profiler.profile_block(name):
                clock.advance_ns(ns)
            clock.advance_ns(1_000)
    for name, count in (failures or {}).items():
        for _ in range(count):
            with pytest.raises(KeyError), profiler.profile_block(name):
                clock.advance_ns(500)
                raise KeyError("missing")
    return profiler


def _durations(seed: int, n: int, scale_ms: float = 1.0) -> list[int]:
    rng = np.random.default_rng(seed)
    return [int(v) for v in rng.lognormal(np.log(scale_ms * 1e6), 0.3, n)]


def test_round_trip_gives_identical_statistics(tmp_path: Path) -> None:
    profiler = _profiler_with(
        {"search": _durations(1, 500), HOSTILE: _durations(2, 30)}, failures={"search": 7}
    )
    path = tmp_path / "run.json"
    assert profiler.save(path) == str(path)
    session = load_session(path)
    assert isinstance(session, Snapshot)
    assert session.get_all_operations() == profiler.get_all_operations() == ["search", HOSTILE]
    for name in profiler.get_all_operations():
        assert session.get_statistics(name) == profiler.get_statistics(name)
    assert session.get_all_statistics() == profiler.get_all_statistics()
    assert session.path == str(path) and session.schema_version == SCHEMA_VERSION
    # The recent calls survive too, in order, failures and their columns included.
    live = profiler.snapshot().calls("search")
    assert session.calls("search") == live
    expected = (live.end_ns - live.start_ns)[live.success].tolist()
    assert session.recent_durations_ns("search").tolist() == expected
    assert session.recent_starts_ns("search").tolist() == live.start_ns[live.success].tolist()


def test_round_trip_of_a_sketched_operation(tmp_path: Path) -> None:
    values = _durations(3, EXACT_SAMPLE_LIMIT + 2_000)
    profiler = _profiler_with({"big": values})
    assert profiler.get_statistics("big")["percentiles_exact"] is False
    session = load_session(profiler.save(tmp_path / "big.json"))
    assert session.get_statistics("big") == profiler.get_statistics("big")
    # The profiler keeps history_limit recent calls; so does the file.
    assert session.recent_durations_ns("big").tolist() == values[-profiler.history_limit :]


def test_file_contents_schema_time_and_environment(tmp_path: Path) -> None:
    profiler = _profiler_with({"op": [1_000_000] * 3})
    path = tmp_path / "s.json"
    save_session(profiler, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT_NAME and data["schema_version"] == SCHEMA_VERSION
    assert isinstance(data["saved_at"], float) and data["saved_at_iso"].endswith("Z")
    env = data["environment"]
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["cpu_count"] == os.cpu_count() and env["pid"] == os.getpid()
    assert env["packages"]["wdbx_notebook"] == wdbx_notebook.__version__
    assert env["packages"]["numpy"] == np.__version__
    assert set(env["packages"]) == {"wdbx_notebook", "numpy", "pandas"}
    calls = data["operations"]["op"]["calls"]
    assert [e - s for s, e in zip(calls["start_ns"], calls["end_ns"], strict=True)] == [
        1_000_000
    ] * 3
    assert calls["error"] == [None] * 3 and len(calls["thread"]) == 3
    assert data["operations"]["op"]["stats"]["call_count"] == 3
    assert b"pickle" not in path.read_bytes()


def test_saving_does_not_import_pandas(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys, wdbx_notebook\n"
        "p = wdbx_notebook.PerformanceProfiler(track_memory=False)\n"
        "with p.profile_block('x'): pass\n"
        f"p.save({str(tmp_path / 'x.json')!r})\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_snapshot_is_read_only_and_frozen_in_time() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    with profiler.profile_block("op"):
        clock.advance_ms(1)
    snap = profiler.snapshot()
    assert profiler.snapshot().get_statistics("op") == snap.get_statistics("op")
    with profiler.profile_block("op"):
        clock.advance_ms(1)
    assert snap.get_statistics("op")["call_count"] == 1
    with pytest.raises(AttributeError, match="read-only"):
        snap.path = "x"
    stats = snap.get_statistics("op")
    stats["call_count"] = 99
    stats["errors_by_type"]["X"] = 1
    assert snap.get_statistics("op")["call_count"] == 1
    assert snap.get_statistics("op")["errors_by_type"] == {}
    with pytest.raises(KeyError, match="did you mean 'op'"):
        snap.get_statistics("opp")
    assert "op" in snap and len(snap) == 1 and list(snap) == ["op"]
    assert "1 operation, 1 call" in repr(snap)


def test_snapshot_works_as_a_report_and_dataframe_source(tmp_path: Path) -> None:
    profiler = _profiler_with({HOSTILE: _durations(4, 40), "plain": _durations(5, 40)})
    session = load_session(profiler.save(tmp_path / "r.json"))
    text = session.report("text").to_text()
    assert "Statistics from session file" in text and str(tmp_path / "r.json") in text
    markdown = session.report("markdown").to_markdown()
    assert "a\\|b\\`&lt;script&gt;" in markdown
    html = session.report("html").to_html()
    assert "<script>" not in html
    generated = wdbx_notebook.generate_performance_report("markdown", session)
    assert "## Operation Details" in generated
    frame = session.to_dataframe()
    assert list(frame.index) == [HOSTILE, "plain"]
    assert frame.loc["plain", "call_count"] == 40
    assert frame.loc["plain", "p95_duration_ms"] == pytest.approx(
        np.percentile(np.array(_durations(5, 40)) / 1e6, 95), rel=1e-12
    )
    history = session.history_dataframe("plain")
    assert history["duration_ms"].tolist() == [d / 1e6 for d in _durations(5, 40)]
    bundle = session._repr_mimebundle_()
    assert bundle["text/plain"].startswith("<Snapshot of 2 operations")


def test_saving_a_snapshot_round_trips(tmp_path: Path) -> None:
    profiler = _profiler_with({"op": _durations(6, 50)})
    snap = profiler.snapshot()
    again = load_session(snap.save(tmp_path / "snap.json"))
    assert again.get_statistics("op") == snap.get_statistics("op")
    assert again.environment == snap.environment


def test_overwriting_keeps_the_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "mode.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    save_session(_profiler_with({"op": [1]}), path)
    assert (os.stat(path).st_mode & 0o777) == 0o640
    fresh = tmp_path / "fresh.json"
    save_session(_profiler_with({"op": [1]}), fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert (os.stat(fresh).st_mode & 0o777) == 0o666 & ~umask


# -- interrupted writes -------------------------------------------------------------
@pytest.mark.parametrize("crash_in", ["json.dump", "os.replace", "os.fsync"])
def test_interrupted_write_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash_in: str
) -> None:
    path = tmp_path / "run.json"
    save_session(_profiler_with({"old": [1_000] * 5}), path)
    before = path.read_bytes()
    module_name, func_name = crash_in.split(".")
    import wdbx_notebook.persistence as persistence

    module = getattr(persistence, module_name)
    real = getattr(module, func_name)

    def crash(*args: Any, **kwargs: Any) -> Any:
        if crash_in == "json.dump":
            # Write half of the document first, as a dying process would.
            args[1].write('{"format": "wdbx_notebook.session", "operations": {"new')
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(module, func_name, crash)
    with pytest.raises(KeyboardInterrupt):
        save_session(_profiler_with({"new": [2_000] * 5}), path)
    monkeypatch.setattr(module, func_name, real)
    assert path.read_bytes() == before
    assert load_session(path).get_all_operations() == ["old"]
    # No temporary file is left behind either.
    assert sorted(os.listdir(tmp_path)) == ["run.json"]


def test_save_errors_name_the_problem(tmp_path: Path) -> None:
    profiler = _profiler_with({"op": [1]})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        profiler.save(tmp_path / "missing" / "x.json")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        profiler.save(tmp_path)
    with pytest.raises(TypeError, match="path must be a str"):
        save_session(profiler, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="PerformanceProfiler or a Snapshot"):
        save_session({"op": 1}, tmp_path / "x.json")  # type: ignore[arg-type]


# -- bad files ----------------------------------------------------------------------
def _good_file(tmp_path: Path) -> Path:
    return Path(save_session(_profiler_with({"op": _durations(7, 30)}), tmp_path / "good.json"))


def test_truncated_file(tmp_path: Path) -> None:
    good = _good_file(tmp_path).read_bytes()
    path = tmp_path / "truncated.json"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(SessionFileError, match="truncated") as info:
        load_session(path)
    assert str(path) in str(info.value) and info.value.path == str(path)


def test_corrupted_file(tmp_path: Path) -> None:
    good = _good_file(tmp_path).read_text()
    path = tmp_path / "corrupt.json"
    path.write_text(good.replace('"operations":', '"operations"=', 1))
    with pytest.raises(SessionFileError, match=r"corrupted: invalid JSON at line 1 column \d+"):
        load_session(path)
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(SessionFileError, match="not UTF-8"):
        load_session(path)
    path.write_text("")
    with pytest.raises(SessionFileError, match="empty"):
        load_session(path)


def test_foreign_json(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_text(json.dumps({"name": "left-pad", "version": "1.3.0"}))
    with pytest.raises(SessionFileError, match="not a wdbx_notebook session") as info:
        load_session(path)
    assert "'name', 'version'" in str(info.value) and str(path) in str(info.value)
    path.write_text("[1, 2, 3]")
    with pytest.raises(SessionFileError, match="a JSON list"):
        load_session(path)


def test_tampered_session_data(tmp_path: Path) -> None:
    data = json.loads(_good_file(tmp_path).read_text())
    path = tmp_path / "tampered.json"
    broken = json.loads(json.dumps(data))
    broken["operations"]["op"]["stats"]["call_count"] = "thirty"
    path.write_text(json.dumps(broken))
    with pytest.raises(SessionFileError, match="operation 'op': call_count must be an integer"):
        load_session(path)
    broken = json.loads(json.dumps(data))
    broken["operations"]["op"]["stats"]["duration_m2"] = float("nan")
    path.write_text(json.dumps(broken))  # Python's json writes NaN; it is not valid JSON data
    with pytest.raises(SessionFileError, match="corrupted: it holds NaN"):
        load_session(path)
    broken["operations"]["op"]["stats"]["duration_m2"] = -1.0
    path.write_text(json.dumps(broken))
    with pytest.raises(SessionFileError, match=r"duration_m2 must be >= 0|out of range"):
        load_session(path)
    broken = json.loads(json.dumps(data))
    del broken["operations"]["op"]["stats"]["duration_m2"]
    path.write_text(json.dumps(broken))
    with pytest.raises(SessionFileError, match="missing field"):
        load_session(path)
    broken = json.loads(json.dumps(data))
    broken["operations"]["op"]["stats"]["distribution"]["values_ns"].pop()
    path.write_text(json.dumps(broken))
    with pytest.raises(SessionFileError, match="distribution does not hold"):
        load_session(path)


def test_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    data = json.loads(_good_file(tmp_path).read_text())
    data["schema_version"] = SCHEMA_VERSION + 1
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionFileError, match=r"newer wdbx_notebook.*upgrade"):
        load_session(path)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"no session file at 'nowhere\.json'"):
        load_session("nowhere.json")


def test_schema_version_0_still_loads(tmp_path: Path) -> None:
    # The first draft layout: aggregates straight under each name, "time", no environment.
    v0 = {
        "format": "wdbx_notebook.session",
        "schema_version": 0,
        "time": 1_700_000_000.5,
        "operations": {
            "legacy": {
                "call_count": 4,
                "success_count": 3,
                "error_count": 1,
                "errors_by_type": {"ValueError": 1},
                "duration_sum_ns": 6_000_000,
                "duration_mean_ns": 2_000_000.0,
                "duration_m2": 2e12,
                "duration_min_ns": 1_000_000,
                "duration_max_ns": 3_000_000,
                "distribution": {"kind": "exact", "values_ns": [1_000_000, 2_000_000, 3_000_000]},
                "memory_count": 0,
                "memory_sum": 0,
                "memory_min": None,
                "memory_max": None,
                "first_start_ns": 1_700_000_000_000_000_000,
                "last_end_ns": 1_700_000_001_000_000_000,
            }
        },
    }
    path = tmp_path / "v0.json"
    path.write_text(json.dumps(v0))
    session = load_session(path)
    stats = session.get_statistics("legacy")
    assert stats["call_count"] == 4 and stats["success_rate"] == 75.0
    assert stats["avg_duration_ms"] == 2.0 and stats["median_duration_ms"] == 2.0
    assert stats["std_duration_ms"] == statistics.stdev([1.0, 2.0, 3.0])
    assert session.saved_at == 1_700_000_000.5 and session.environment == {}
    assert session.recent_durations_ns("legacy").tolist() == []
    # And it saves forward in the current schema.
    again = json.loads(Path(session.save(tmp_path / "v1.json")).read_text())
    assert again["schema_version"] == SCHEMA_VERSION


# -- merges -------------------------------------------------------------------------
def _check_against_numpy(stats: dict[str, Any], raw_ns: list[int], exact: bool) -> None:
    ms = np.array(raw_ns, dtype=np.float64) / 1e6
    assert stats["success_count"] == len(raw_ns)
    assert stats["total_duration_ms"] == sum(raw_ns) / 1e6  # sums are exact integers
    assert stats["min_duration_ms"] == ms.min() and stats["max_duration_ms"] == ms.max()
    assert stats["avg_duration_ms"] == pytest.approx(ms.mean(), rel=1e-12)
    assert stats["std_duration_ms"] == pytest.approx(ms.std(ddof=1), rel=1e-9)
    for key, q in (("median", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        expected = np.percentile(ms, q)
        tolerance = 1e-12 if exact else SKETCH_RELATIVE_ERROR
        assert stats[f"{key}_duration_ms"] == pytest.approx(expected, rel=tolerance), key


def test_merge_matches_the_concatenated_raw_data() -> None:
    a, b, c = _durations(10, 1_200), _durations(11, 900, 1.5), _durations(12, 40, 0.2)
    parts = [
        _profiler_with({"op": a, "only_a": [5_000] * 3}, failures={"op": 2}),
        _profiler_with({"op": b}, failures={"op": 1}, start_ns=10**12),
        _profiler_with({"op": c}, start_ns=2 * 10**12),
    ]
    merged = merge_sessions([p.snapshot() for p in parts])
    stats = merged.get_statistics("op")
    _check_against_numpy(stats, a + b + c, exact=True)
    assert stats["call_count"] == len(a + b + c) + 3 and stats["errors_by_type"] == {"KeyError": 3}
    assert merged.get_all_operations() == ["op", "only_a"]
    assert merged.get_statistics("only_a")["call_count"] == 3
    assert len(merged.parts) == 3 and "merged from 3 runs" in repr(merged)
    # Pooled recent calls are in start order.
    starts = merged.recent_starts_ns("op")
    assert (np.diff(starts) >= 0).all() and len(starts) == len(a + b + c)
    # snapshot + snapshot and sum() agree with merge_sessions.
    added = parts[0].snapshot() + parts[1].snapshot() + parts[2].snapshot()
    assert added.get_statistics("op") == stats
    assert sum(p.snapshot() for p in parts).get_statistics("op") == stats  # type: ignore[union-attr]


def test_merge_into_the_sketch_stays_within_its_error(tmp_path: Path) -> None:
    a, b = _durations(20, 8_000), _durations(21, 7_000, 3.0)
    first = _profiler_with({"op": a}).save(tmp_path / "a.json")
    second = _profiler_with({"op": b})
    merged = merge_sessions([first, second])  # a path and a live profiler
    stats = merged.get_statistics("op")
    assert stats["percentiles_exact"] is False
    _check_against_numpy(stats, a + b, exact=False)
    # Recent calls: the most recent history_limit by start time.
    assert len(merged.recent_durations_ns("op")) == merged.history_limit


def test_merge_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        merge_sessions([])
    with pytest.raises(TypeError, match="item 1 must be a Snapshot"):
        merge_sessions([PerformanceProfiler(), 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="takes a list"):
        merge_sessions("a.json")
    snap = PerformanceProfiler().snapshot()
    with pytest.raises(TypeError):
        snap + 1


# -- multiprocessing ------------------------------------------------------------------
def _worker(args: tuple[str, int]) -> str:
    path, seed = args
    profiler = PerformanceProfiler(track_memory=False, clock=FakeClock(seed * 10**12))
    for ns in _durations(seed, 300):
        with profiler.profile_block("search"):
            profiler._clock.advance_ns(ns)  # type: ignore[attr-defined]
    return profiler.save(path)


def test_multiprocessing_workers_save_and_the_parent_merges(tmp_path: Path) -> None:
    jobs = [(str(tmp_path / f"worker{i}.json"), 100 + i) for i in range(3)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        paths = pool.map(_worker, jobs)
    merged = merge_sessions(paths)
    pids = {part["environment"]["pid"] for part in merged.parts}
    assert len(pids) >= 2 and os.getpid() not in pids  # really other processes
    raw = [ns for _, seed in jobs for ns in _durations(seed, 300)]
    _check_against_numpy(merged.get_statistics("search"), raw, exact=True)
    assert merged.get_statistics("search")["call_count"] == 900
    assert not math.isnan(merged.get_statistics("search")["calls_per_second"])


# -- a consistent cut ----------------------------------------------------------------
def test_saves_while_a_thread_records_and_resets_always_load(tmp_path: Path) -> None:
    import threading

    profiler = PerformanceProfiler(history_limit=500)
    stop = threading.Event()

    @profiler.profile("busy")
    def busy(i: int) -> int:
        if i % 97 == 0:
            raise ValueError("sometimes")
        return i

    def record() -> None:
        i = 0
        while not stop.is_set():
            with contextlib.suppress(ValueError):
                busy(i)
            i += 1
            if i % 1_500 == 0:
                profiler.reset_statistics("busy")

    worker = threading.Thread(target=record)
    worker.start()
    try:
        for n in range(100):
            path = profiler.save(tmp_path / f"s{n}.json")
            session = load_session(path)  # never refused, never raises
            if "busy" in session:
                stats = session.get_statistics("busy")
                calls = session.calls("busy")
                assert stats["success_count"] + stats["error_count"] == stats["call_count"]
                assert len(calls) <= stats["call_count"]
                assert int(calls.success.sum()) <= stats["success_count"]
    finally:
        stop.set()
        worker.join()


# -- loading never blocks and stays bounded ------------------------------------------
def _load_in_thread(path: Any, **options: Any) -> BaseException | None:
    """Load in a thread, so that a regression (a blocking open) fails instead of hanging."""
    import threading

    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            load_session(path, **options)
            outcome.append(None)
        except BaseException as err:  # the test inspects it
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert outcome, "load_session() blocked"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_loading_refuses_a_fifo_a_device_and_a_directory(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    err = _load_in_thread(fifo)
    assert isinstance(err, SessionFileError) and "a FIFO (named pipe), not a regular file" in str(
        err
    )
    err = _load_in_thread("/dev/zero")
    assert isinstance(err, SessionFileError) and "a character device" in str(err)
    err = _load_in_thread(tmp_path)
    assert isinstance(err, IsADirectoryError)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_path_swapped_for_a_fifo_after_the_check_does_not_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wdbx_notebook.persistence as persistence

    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    regular = os.stat(_good_file(tmp_path))
    real_stat = os.stat

    def stale_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        # What os.stat saw just before another process put a FIFO there.
        return regular if os.fspath(path) == str(fifo) else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(persistence.os, "stat", stale_stat)
    err = _load_in_thread(fifo)
    assert isinstance(err, SessionFileError) and "FIFO" in str(err)


def test_the_size_cap_is_clear_and_can_be_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wdbx_notebook.persistence as persistence

    path = _good_file(tmp_path)
    size = path.stat().st_size
    with pytest.raises(SessionFileError) as info:
        load_session(path, max_bytes=size - 1)
    message = str(info.value)
    assert f"{size:,} bytes, more than the {size - 1:,} bytes" in message
    assert f"load_session(path, max_bytes={size})" in message and "MAX_SESSION_BYTES" in message
    assert load_session(path, max_bytes=size).get_all_operations() == ["op"]
    monkeypatch.setattr(persistence, "MAX_SESSION_BYTES", size - 1)
    with pytest.raises(SessionFileError, match="more than the"):
        load_session(path)
    assert size - 1 == persistence.MAX_SESSION_BYTES
    monkeypatch.undo()
    assert persistence.MAX_SESSION_BYTES == 256 * 1024 * 1024
    with pytest.raises(ValueError, match="max_bytes must be an int"):
        load_session(path, max_bytes=0)


def test_loading_a_large_file_needs_about_twice_its_size(tmp_path: Path) -> None:
    import tracemalloc

    profiler = PerformanceProfiler(history_limit=200_000)
    work = profiler.profile("work")(lambda: None)
    for _ in range(120_000):
        work()
    path = profiler.save(tmp_path / "large.json")
    size = os.path.getsize(path)
    assert size > 8_000_000
    tracing = tracemalloc.is_tracing()  # a tracemalloc-mode profiler may have started it
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        session = load_session(path)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    # Every call survives, exactly; the parse holds under three times the file (it held seven
    # times the file when every number became a Python int).
    assert session.calls("work") == profiler.snapshot().calls("work")
    assert peak < 3 * size, (peak, size)


def test_a_nesting_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SessionFileError, match="nested far deeper"):
        load_session(path)
    data = json.loads(_good_file(tmp_path).read_text())
    text = json.dumps(data).replace('"environment": {', '"environment": {"x": ' + "[" * 50_000, 1)
    path.write_text(text)
    with pytest.raises(SessionFileError):
        load_session(path)


def test_names_and_strings_that_look_like_arrays_are_left_alone(tmp_path: Path) -> None:
    tricky = 'x "start_ns":[1,2] \\"thread":["a]"'
    profiler = _profiler_with({tricky: [5_000, 6_000], "t]": [7_000]})
    session = load_session(profiler.save(tmp_path / "tricky.json"))
    assert session.get_all_operations() == [tricky, "t]"]
    assert session.calls(tricky) == profiler.snapshot().calls(tricky)
    assert session.get_statistics(tricky) == profiler.get_statistics(tricky)


# -- saving never replaces what is not a session ----------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_saving_refuses_a_fifo_and_a_socket(tmp_path: Path) -> None:
    import socket
    import stat as stat_module

    profiler = _profiler_with({"op": [1_000]})
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(SessionFileError, match=r"cannot save session to .*a FIFO.*regular files"):
        profiler.save(fifo)
    assert stat_module.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.json"))
        with pytest.raises(SessionFileError, match="a socket"):
            profiler.save(tmp_path / "sock.json")
        assert stat_module.S_ISSOCK(os.stat(tmp_path / "sock.json").st_mode)
    finally:
        server.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json", "sock.json"]


def test_saving_through_a_symlink_writes_the_file_it_points_to(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "session.json"
    target.write_text("{}")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    _profiler_with({"op": [1_000, 2_000]}).save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert load_session(target).get_statistics("op")["call_count"] == 2
    assert load_session(link).get_statistics("op")["call_count"] == 2
    # A dangling link gets its file created.
    dangling = tmp_path / "next.json"
    dangling.symlink_to(real_dir / "new.json")
    _profiler_with({"op": [1_000]}).save(dangling)
    assert dangling.is_symlink() and (real_dir / "new.json").is_file()
    assert sorted(p.name for p in real_dir.iterdir()) == ["new.json", "session.json"]


def _dead_pid() -> int:
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_orphans_of_interrupted_saves_are_removed_but_not_a_running_save(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.json"
    dead = tmp_path / f".run.json.{_dead_pid()}.abcd1234.tmp"
    old_style = tmp_path / ".run.json.zz99yy88.tmp"
    running = tmp_path / f".run.json.{os.getpid()}.qwer5678.tmp"  # a save in progress
    other = tmp_path / f".other.json.{_dead_pid()}.abcd1234.tmp"  # another path's
    for orphan in (dead, old_style, running, other):
        orphan.write_text('{"format": "half')
    old = time.time() - 3_600
    os.utime(old_style, (old, old))
    _profiler_with({"op": [1_000]}).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["run.json", running.name, other.name]
    )
    os.utime(running, (old, old))  # its writer stopped touching it long ago
    _profiler_with({"op": [1_000]}).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["run.json", other.name])


def test_the_temp_file_of_a_killed_save_goes_with_the_next_save(tmp_path: Path) -> None:
    import signal
    import subprocess

    path = tmp_path / "run.json"
    code = (
        "import os, sys, time\n"
        "import wdbx_notebook.persistence as persistence\n"
        "from wdbx_notebook import PerformanceProfiler\n"
        "def stuck(fd):\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(600)\n"
        "persistence.os.fsync = stuck\n"
        "profiler = PerformanceProfiler()\n"
        "with profiler.profile_block('op'): pass\n"
        f"profiler.save({str(path)!r})\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    orphans = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(orphans) == 1 and orphans[0].startswith(f".run.json.{child.pid}.")
    _profiler_with({"op": [1_000]}).save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


# -- every single-field mutation is refused or works everywhere -------------------------
_SWAPS: tuple[Any, ...] = (
    None,
    True,
    "x",
    "NaN",
    "",
    0,
    -1,
    -5,
    1.5,
    2**63,
    10**30,
    -(2**63) - 1,
    1e308,
    -1e308,
    [],
    {},
    [1],
    ["x"],
    float("nan"),
    float("inf"),
)


def _mutations(value: Any) -> list[Any]:
    """Every replacement of one value tried: type swaps, negatives, huge, non-finite,
    off by one, lists of the wrong length or order."""
    found: list[Any] = list(_SWAPS)
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        found += [value + 1, value - 1, -value, value * 2**20, str(value), float(value)]
    elif isinstance(value, float):
        found += [value * 1e6, -value, value + 1, str(value)]
    elif isinstance(value, str):
        found += [value + "x", value.upper(), 5]
    elif isinstance(value, list) and value:
        found += [value[:-1], value + value[-1:], value[::-1], value * 2, [value]]
    elif isinstance(value, dict) and value:
        first = next(iter(value))
        found += [{k: v for k, v in value.items() if k != first}, [value], {**value, "": 1}]
    return found


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every value's path; of a long list only the first and last items."""
    if path:
        yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*path, key))
    elif isinstance(node, list):
        indexes = range(len(node)) if len(node) <= 2 else (0, len(node) - 1)
        for i in indexes:
            yield from _paths(node[i], (*path, i))


def mutated_documents(data: dict[str, Any]) -> Iterator[str]:
    """Each single-field mutation of ``data`` (a value replaced, or a key removed), as JSON."""
    seen: set[str] = set()
    for path in list(_paths(data)):
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        original = parent[last]
        options: list[Any] = _mutations(original)
        if isinstance(parent, dict):
            options.append(_REMOVE)
        for option in options:
            if option is _REMOVE:
                order = list(parent)
                del parent[last]
                text = json.dumps(data)
                items = {k: parent.pop(k) for k in list(parent)}
                parent.update({k: original if k == last else items[k] for k in order})
            else:
                parent[last] = option
                text = json.dumps(data)  # NaN and Infinity written as Python writes them
                parent[last] = original
            if text not in seen:
                seen.add(text)
                yield text


_REMOVE = object()


def _mutation_source() -> Snapshot:
    """A small, complete session: memory figures, failures of two kinds, two threads,
    CPU and GC columns."""
    import threading

    profiler = PerformanceProfiler(history_limit=1_000)

    @profiler.profile("query")
    def query(i: int) -> list[int]:
        if i == 3:
            raise KeyError("missing")
        if i == 5:
            raise TimeoutError("slow")
        return [0] * (i * 10_000)

    for i in range(6):
        with contextlib.suppress(KeyError, TimeoutError):
            query(i)
    worker = threading.Thread(target=query, args=(1,), name="worker")
    worker.start()
    worker.join()
    with profiler.profile_block("load"):
        sum(range(1000))
    return profiler.snapshot()


def check_every_view(session: Snapshot, reference: Snapshot, tmp_path: Path) -> None:
    """What a loaded session must support: reports, frames, comparison, merge, saving."""
    from wdbx_notebook import compare, history_dataframe, statistics_dataframe

    for name in session.get_all_operations():
        session.get_statistics(name)
        session.calls(name)
    session.get_call_history()
    session.report("text").to_text()
    session.report("markdown").to_markdown()
    session.report("html").to_html()
    statistics_dataframe(session)
    history_dataframe(session)
    history_dataframe(session, rolling=2)
    compare(reference, session, resamples=2_000)
    compare(session, session, resamples=2_000)
    merged = merge_sessions([session, reference])
    merged.report("text").to_text()
    again = load_session(session.save(tmp_path / "again.json"))
    assert again.get_all_statistics() == session.get_all_statistics()


def classify_mutations(
    load: Any, data: dict[str, Any], reference: Snapshot, tmp_path: Path
) -> tuple[int, int, list[str]]:
    """``(mutations, refused, problems)``: a problem is a mutation neither refused with
    SessionFileError nor usable in every view."""
    path = tmp_path / "mutated.json"
    total = refused = 0
    problems: list[str] = []
    for text in mutated_documents(data):
        total += 1
        path.write_text(text)
        try:
            session = load(path)
        except SessionFileError:
            refused += 1
            continue
        except Exception as err:
            problems.append(f"load raised {type(err).__name__}: {err}")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check_every_view(session, reference, tmp_path)
        except Exception as err:
            problems.append(f"loaded, then {type(err).__name__}: {err}")
    return total, refused, problems


def test_every_single_field_mutation_is_refused_or_works_in_every_view(tmp_path: Path) -> None:
    source = _mutation_source()
    valid = Path(source.save(tmp_path / "valid.json"))
    data = json.loads(valid.read_text())
    reference = load_session(valid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_every_view(reference, reference, tmp_path)  # the unmutated file works
    total, refused, problems = classify_mutations(load_session, data, reference, tmp_path)
    assert total > 3_000 and refused > 2_000
    assert problems == []


@pytest.mark.skipif(not hasattr(os, "mknod") or os.geteuid() != 0, reason="needs root")
def test_saving_as_root_never_replaces_a_device_node(tmp_path: Path) -> None:
    import stat as stat_module

    device = tmp_path / "null.json"
    os.mknod(device, stat_module.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
    with pytest.raises(SessionFileError, match="a character device"):
        _profiler_with({"op": [1_000]}).save(device)
    assert stat_module.S_ISCHR(os.stat(device).st_mode)
    with pytest.raises(SessionFileError, match="a character device"):
        load_session(device)
