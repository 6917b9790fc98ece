"""Saved sessions: round trips, atomic writes, clear errors, migrations, exact merges."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import statistics
import sys
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
        snap.path = "x"  # type: ignore[misc]
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
    with pytest.raises(SessionFileError, match="duration_m2 must be a finite number, got nan"):
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
        merge_sessions("a.json")  # type: ignore[arg-type]
    snap = PerformanceProfiler().snapshot()
    with pytest.raises(TypeError):
        snap + 1  # type: ignore[operator]


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
