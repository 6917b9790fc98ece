"""Alerts: every path (warning, callback, banner once per crossing, baseline rule,
removal), patterns that match later operations, and the cheap checking."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wdbx_notebook import PerformanceProfiler, PerformanceWarning, ProfilerInternalWarning
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.alerts import (
    AlertRule,
    add_alert,
    add_alert_listener,
    alert_history,
    list_alerts,
    remove_alert,
    remove_alert_listener,
)
from wdbx_notebook.diagnostics import SystemDiagnostics
from wdbx_notebook.profiler import FLUSH_EVERY
from wdbx_notebook.stats import OperationStats

HOSTILE = "db|`<script>alert(1)</script>\n"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_000_000_000)


@pytest.fixture
def profiler(clock: FakeClock) -> PerformanceProfiler:
    return PerformanceProfiler(track_memory=False, clock=clock)


def _calls(
    profiler: PerformanceProfiler, clock: FakeClock, name: str, *durations_ms: float
) -> None:
    for ms in durations_ms:
        with profiler.profile_block(name):
            clock.advance_ms(ms)
        clock.advance_ms(0.1)


@pytest.fixture
def quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerformanceWarning)
        yield


# -- the warning -------------------------------------------------------------------------
def test_warning_once_per_crossing_and_rearming(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    add_alert(profiler, "db.*", metric="avg_duration_ms", above=5)
    with pytest.warns(PerformanceWarning) as record:
        _calls(profiler, clock, "db.query", 2, 2, 2)  # mean 2: fine
        assert len(record) == 0
        _calls(profiler, clock, "db.query", 20)  # mean 6.5: crossed
        assert len(record) == 1
        _calls(profiler, clock, "db.query", 20, 20, 20)  # still above: no repeat
        assert len(record) == 1
        _calls(profiler, clock, "db.query", *[1] * 30)  # mean back under 5: re-armed
        assert len(record) == 1
        _calls(profiler, clock, "db.query", *[100] * 3)  # crossed again
        assert len(record) == 2
    message = str(record[0].message)
    assert "'db.query' avg_duration_ms is 6.5, above the limit 5" in message
    assert record[0].filename == __file__  # the warning points at the user's code
    kinds = [event["kind"] for event in alert_history(profiler)]
    assert kinds == ["crossed", "recovered", "crossed"]
    first = alert_history(profiler)[0]
    assert first["operation"] == "db.query" and first["value"] == 6.5 and first["threshold"] == 5


def test_warnings_can_be_filtered_and_never_raise_into_user_code(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    seen: list[tuple[Any, ...]] = []
    add_alert(profiler, "*", metric="max_duration_ms", above=1, callback=lambda *a: seen.append(a))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("ignore", PerformanceWarning)
        _calls(profiler, clock, "a", 5)
    assert record == [] and len(seen) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerformanceWarning)
        _calls(profiler, clock, "b", 5)  # an "error" filter must not break the profiled code
    assert [e["operation"] for e in alert_history(profiler)] == ["a", "b"]
    assert len(seen) == 2


# -- the callback ------------------------------------------------------------------------
def test_callback_gets_operation_metric_value_threshold(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    seen: list[tuple[Any, ...]] = []
    rule = profiler.add_alert(
        "search", metric="p95_duration_ms", above=10.0, callback=lambda *a: seen.append(a)
    )
    _calls(profiler, clock, "search", *[5] * 19)
    assert seen == []
    _calls(profiler, clock, "search", 30)  # p95 of 19 x 5 and 1 x 30: 5 + 0.05 * 25 = 6.25
    assert seen == []
    _calls(profiler, clock, "search", 30)  # 21 calls, p95 = 30
    assert seen == [("search", "p95_duration_ms", 30.0, 10.0)]
    assert rule.fired == 1 and rule.firing == {"search"}


def test_below_rule_on_success_rate(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    seen: list[tuple[Any, ...]] = []
    add_alert(
        profiler, "fetch", metric="success_rate", below=90, callback=lambda *a: seen.append(a)
    )
    _calls(profiler, clock, "fetch", *[1] * 9)
    for _ in range(2):
        with pytest.raises(TimeoutError), profiler.profile_block("fetch"):
            raise TimeoutError
    assert seen == [("fetch", "success_rate", 100 * 9 / 11, 90.0)]


def test_a_failing_callback_is_reported_not_raised(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("callback bug")

    add_alert(profiler, "x", metric="max_duration_ms", above=1, callback=broken)
    with pytest.warns(ProfilerInternalWarning, match="callback of alert rule .*callback bug"):
        _calls(profiler, clock, "x", 5)
    assert len(alert_history(profiler)) == 1


# -- the banner ----------------------------------------------------------------------------
@pytest.mark.notebook
def test_banner_once_per_crossing_and_no_repeated_warning_in_a_real_kernel() -> None:
    import nbformat
    from nbclient import NotebookClient

    setup = (
        "%load_ext wdbx_notebook\n"
        "import warnings\n"
        "from wdbx_notebook import PerformanceProfiler\n"
        "from wdbx_notebook._clock import FakeClock\n"
        "clock = FakeClock()\n"
        "profiler = PerformanceProfiler(track_memory=False, clock=clock)\n"
        "profiler.add_alert('db*', metric='avg_duration_ms', above=5)\n"
        "def calls(name, *durations_ms):\n"
        "    for ms in durations_ms:\n"
        "        with profiler.profile_block(name):\n"
        "            clock.advance_ms(ms)\n"
    )
    run = (
        f"name = {HOSTILE!r}\n"
        "calls(name, 1, 1, 50, 50, 50)  # crossed once\n"
        "calls(name, *[1] * 200)        # back under: re-armed, no banner\n"
        "calls(name, *[500] * 5)        # crossed again\n"
        "print(len(profiler.list_alerts()))\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell(run)]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = nb.cells[1].outputs
    banners = [o for o in outputs if "wdbx-alert-banner" in o.get("data", {}).get("text/html", "")]
    assert len(banners) == 2
    html = banners[0]["data"]["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    plain = banners[0]["data"]["text/plain"]
    assert plain.startswith("⚠ Performance alert") and "\n" not in plain
    # One message per event: the banner shows it, so no PerformanceWarning repeats it.
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "PerformanceWarning" not in stderr and stderr.strip() == ""


def test_no_banner_in_a_terminal_ipython_shell(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    # Reuse a shell another test started; else start one and clear it again, so the
    # singleton does not leak into other test files.
    created = not InteractiveShell.initialized()
    shell = InteractiveShell.instance()
    try:
        assert shell is not None and getattr(shell, "kernel", None) is None
        add_alert(profiler, "*", metric="max_duration_ms", above=1)
        with capture_output() as captured:
            _calls(profiler, clock, "x", 5)
        assert captured.outputs == [] and len(alert_history(profiler)) == 1
    finally:
        if created:
            InteractiveShell.clear_instance()


# -- baseline rules ------------------------------------------------------------------------
def _baseline(n: int = 200, ms: float = 1.0) -> Any:
    clock = FakeClock()
    base = PerformanceProfiler(track_memory=False, clock=clock)
    for i in range(n):
        with base.profile_block("search"):
            clock.advance_ns(int(ms * 1e6) + i % 10 * 5_000)
    return base.snapshot()


def test_baseline_rule_fires_on_a_slower_verdict(
    profiler: PerformanceProfiler, clock: FakeClock, tmp_path: Path
) -> None:
    path = _baseline().save(tmp_path / "base.json")
    seen: list[tuple[Any, ...]] = []
    rule = add_alert(profiler, "search", baseline=path, callback=lambda *a: seen.append(a))
    assert rule.metric == "median_ratio_vs_baseline"
    with pytest.warns(PerformanceWarning, match=r"'search' is 1\.\d\dx slower than its baseline"):
        for i in range(100):
            _calls(profiler, clock, "search", 1.2 + i % 10 * 0.006)
    assert len(seen) == 1
    operation, metric, ratio, threshold = seen[0]
    assert (operation, metric, threshold) == ("search", "median_ratio_vs_baseline", 1.05)
    assert ratio == pytest.approx(1.2, rel=0.01)


def test_baseline_rule_stays_quiet_at_the_same_speed(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    seen: list[tuple[Any, ...]] = []
    add_alert(profiler, "*", baseline=_baseline(), callback=lambda *a: seen.append(a))
    for i in range(300):
        _calls(profiler, clock, "search", 1.0 + i % 10 * 0.005)
    _calls(profiler, clock, "not_in_baseline", *[50] * 20)
    assert seen == [] and alert_history(profiler) == []


# -- patterns, listing, removal --------------------------------------------------------------
def test_pattern_matches_operations_created_later(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    seen: list[str] = []
    add_alert(
        profiler,
        "db.*",
        metric="max_duration_ms",
        above=10,
        callback=lambda op, *_: seen.append(op),
    )
    _calls(profiler, clock, "web.page", 50)

    @profiler.profile("db.later")
    def later() -> None:
        clock.advance_ms(50)

    later()
    _calls(profiler, clock, "db.block", 50)
    assert seen == ["db.later", "db.block"]
    # Watched operations fold every call at first; others keep the default batching.
    assert profiler._operations["db.later"].watch_every == 1
    assert profiler._operations["web.page"].watch_every == FLUSH_EVERY


def test_existing_calls_are_judged_when_the_rule_is_added(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    _calls(profiler, clock, "old", 50)
    seen: list[str] = []
    add_alert(
        profiler, "old", metric="max_duration_ms", above=10, callback=lambda op, *_: seen.append(op)
    )
    assert seen == ["old"]


def test_list_and_remove(profiler: PerformanceProfiler, clock: FakeClock, quiet: None) -> None:
    seen: list[str] = []
    first = add_alert(
        profiler, "a*", metric="max_duration_ms", above=10, callback=lambda op, *_: seen.append(op)
    )
    second = profiler.add_alert("b*", metric="avg_duration_ms", above=10)
    third = profiler.add_alert("b*", metric="max_duration_ms", above=100)
    assert profiler.list_alerts() == list_alerts(profiler) == [first, second, third]
    assert isinstance(first, AlertRule) and "max_duration_ms of 'a*' above 10" in first.describe()
    assert profiler.remove_alert(first) == 1
    _calls(profiler, clock, "a1", 50)
    assert seen == []  # removed: no alert
    assert profiler._operations["a1"].watch_every == FLUSH_EVERY
    assert profiler._operations["a1"].listeners == []
    assert remove_alert(profiler, second.id) == 1
    assert remove_alert(profiler, "b*") == 1
    with pytest.raises(
        ValueError, match="no alert rule matches 'zz'; the rules are: there are none"
    ):
        remove_alert(profiler, "zz")
    profiler.add_alert("c", above=1)
    profiler.add_alert("d", above=1)
    assert profiler.remove_alert() == 2 and profiler.list_alerts() == []
    with pytest.raises(TypeError, match="rule must be"):
        remove_alert(profiler, 1.5)  # type: ignore[arg-type]


def test_bad_rules_are_refused_with_the_fix(profiler: PerformanceProfiler) -> None:
    with pytest.raises(ValueError, match=r"unknown metric 'p95'; choose one of .*p95_duration_ms"):
        add_alert(profiler, "*", metric="p95", above=1)
    with pytest.raises(ValueError, match="give above=, below="):
        add_alert(profiler, "*")
    with pytest.raises(TypeError, match="above must be a number"):
        add_alert(profiler, "*", above="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="use below < above"):
        add_alert(profiler, "*", above=1, below=2)
    with pytest.raises(TypeError, match="pattern must be a non-empty glob"):
        add_alert(profiler, "", above=1)
    with pytest.raises(TypeError, match="callback must be callable"):
        add_alert(profiler, "*", above=1, callback=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="baseline must be a Snapshot"):
        add_alert(profiler, "*", baseline=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="check_every"):
        add_alert(profiler, "*", above=1, check_every=0)
    assert list_alerts(profiler) == []


# -- cheap checking ---------------------------------------------------------------------------
def test_checks_are_spread_over_calls_and_read_one_summary_each(
    profiler: PerformanceProfiler, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, quiet: None
) -> None:
    import wdbx_notebook.alerts as alerts

    summaries = checks = 0
    real_summary = OperationStats.summary
    real_check = alerts._Alerts._check

    def counting_summary(self: OperationStats) -> Any:
        nonlocal summaries
        summaries += 1
        return real_summary(self)

    def counting_check(self: Any, *args: Any) -> Any:
        nonlocal checks
        checks += 1
        return real_check(self, *args)

    monkeypatch.setattr(OperationStats, "summary", counting_summary)
    monkeypatch.setattr(alerts._Alerts, "_check", counting_check)
    add_alert(profiler, "hot", metric="p95_duration_ms", above=1_000)
    summaries = checks = 0  # adding the rule read the list of metrics; count from here
    _calls(profiler, clock, "hot", *[1] * 5_000)
    # Every call at first, then about every 2% of the calls: far fewer checks than
    # calls, and each reads the operation's summary once (it is cached per fold).
    assert 60 < checks < 400
    assert summaries <= checks
    # By the end it checks about every 100 calls (2% of 5,000).
    assert 95 <= profiler._operations["hot"].watch_every <= 100


def test_checks_of_a_cheap_metric_come_at_most_every_64_calls(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    add_alert(profiler, "hot", metric="avg_duration_ms", above=1_000)
    _calls(profiler, clock, "hot", *[1] * 5_000)
    assert profiler._operations["hot"].watch_every == 64


def test_alerts_from_several_threads_fire_once(profiler: PerformanceProfiler, quiet: None) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def remember(op: str, *_: Any) -> None:
        with lock:
            seen.append(op)

    add_alert(profiler, "threaded", metric="call_count", above=1_000, callback=remember)

    @profiler.profile("threaded")
    def work() -> None:
        pass

    def run() -> None:
        for _ in range(800):
            work()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    profiler.get_statistics("threaded")
    assert seen == ["threaded"]


def test_alert_history_in_the_diagnostics(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    add_alert(profiler, "x", metric="max_duration_ms", above=1)
    _calls(profiler, clock, "x", 5)
    history = SystemDiagnostics(profiler).get_metrics_history()
    assert [e["operation"] for e in history["alerts"]] == ["x"]
    assert history["alerts"][0]["message"].startswith(
        "wdbx_notebook alert: 'x' max_duration_ms is 5"
    )


# -- after a reset, and what may reach the profiled code ------------------------------------
def test_a_firing_alert_rearms_after_reset_statistics(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    seen: list[float] = []
    rule = add_alert(
        profiler, "db", metric="max_duration_ms", above=10, callback=lambda *a: seen.append(a[2])
    )
    with pytest.warns(PerformanceWarning):
        _calls(profiler, clock, "db", 50)
    assert seen == [50.0] and rule.firing == {"db"}
    profiler.reset_statistics("db")
    assert rule.firing == set()
    with pytest.warns(PerformanceWarning, match="max_duration_ms is 30"):
        _calls(profiler, clock, "db", 30)  # the first crossing after the reset fires
    assert seen == [50.0, 30.0] and rule.fired == 2
    profiler.reset_statistics()  # every operation, the same
    with pytest.warns(PerformanceWarning, match="max_duration_ms is 20"):
        _calls(profiler, clock, "db", 20)
    assert [e["kind"] for e in alert_history(profiler)] == ["crossed"] * 3


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit, GeneratorExit, ValueError])
def test_nothing_a_callback_raises_reaches_a_call_that_succeeded(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None, raised: type[BaseException]
) -> None:
    def callback(*args: Any) -> None:
        raise raised("from the callback")

    add_alert(profiler, "op", metric="max_duration_ms", above=1, callback=callback)

    @profiler.profile("op")
    def op() -> str:
        clock.advance_ms(5)
        return "result"

    with pytest.warns(
        ProfilerInternalWarning, match=rf"callback of alert rule .*{raised.__name__}"
    ):
        assert op() == "result"
    with pytest.warns(ProfilerInternalWarning, match=raised.__name__):
        with profiler.profile_block("op"):
            clock.advance_ms(1)
        profiler.reset_statistics("op")
        with profiler.profile_block("op"):  # fires again after the reset
            clock.advance_ms(5)
    assert len(alert_history(profiler)) == 2


def test_the_profiled_codes_own_exception_still_reaches_the_caller(
    profiler: PerformanceProfiler, clock: FakeClock, quiet: None
) -> None:
    def callback(*args: Any) -> None:
        raise KeyboardInterrupt("from the callback")

    add_alert(profiler, "op", metric="success_rate", below=100, callback=callback)
    with (
        pytest.warns(ProfilerInternalWarning),
        pytest.raises(LookupError, match="its own"),
        profiler.profile_block("op"),
    ):
        raise LookupError("its own")


# -- listeners: one message per event -------------------------------------------------------
def test_a_listener_that_shows_the_event_replaces_the_warning(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    shown: list[dict[str, Any]] = []

    def banner(event: dict[str, Any]) -> bool:
        shown.append(event)
        return True

    add_alert(profiler, "op", metric="max_duration_ms", above=1)
    add_alert_listener(banner)
    add_alert_listener(banner)  # once is enough
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerformanceWarning)  # a warning would raise here...
            _calls(profiler, clock, "op", 5)  # ...but the listener showed the event
        assert [e["message"] for e in shown] == [alert_history(profiler)[0]["message"]]
        assert shown[0]["operation"] == "op" and shown[0]["kind"] == "crossed"
    finally:
        assert remove_alert_listener(banner) is True
    assert remove_alert_listener(banner) is False
    profiler.reset_statistics()
    with pytest.warns(PerformanceWarning):  # no listener: the warning, as in a script
        _calls(profiler, clock, "op", 5)
    assert len(shown) == 1


def test_a_listener_that_does_not_show_or_fails_leaves_the_warning(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    def terminal(event: dict[str, Any]) -> bool:
        return False  # no notebook to show it in

    def broken(event: dict[str, Any]) -> bool:
        raise KeyboardInterrupt("listener bug")

    add_alert(profiler, "op", metric="max_duration_ms", above=1)
    add_alert_listener(terminal)
    add_alert_listener(broken)
    try:
        with (
            pytest.warns(PerformanceWarning, match="alert: 'op'"),
            pytest.warns(
                ProfilerInternalWarning, match="alert listener .*KeyboardInterrupt: listener bug"
            ),
        ):
            _calls(profiler, clock, "op", 5)
    finally:
        remove_alert_listener(terminal)
        remove_alert_listener(broken)
    with pytest.raises(TypeError, match="alert listener must be callable"):
        add_alert_listener(3)  # type: ignore[arg-type]


def test_alerts_use_only_the_profilers_public_hooks() -> None:
    import ast
    import inspect

    import wdbx_notebook.alerts as alerts

    tree = ast.parse(inspect.getsource(alerts))
    private = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and isinstance(node.value, ast.Name)
        and node.value.id in ("profiler", "op", "baseline", "snapshot")
    }
    assert private == set()
    imports = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any("jupyter" in module for module in imports)


# -- a baseline taken earlier in the same session ---------------------------------------------
def test_a_baseline_from_the_same_session_is_not_mixed_into_the_current_calls(
    profiler: PerformanceProfiler, clock: FakeClock
) -> None:
    for i in range(300):
        _calls(profiler, clock, "search", 1.0 + i % 10 * 0.005)
    baseline = profiler.snapshot()
    seen: list[tuple[Any, ...]] = []
    add_alert(profiler, "search", baseline=baseline, callback=lambda *a: seen.append(a))
    with pytest.warns(PerformanceWarning, match=r"'search' is (1\.9|2\.0)\dx slower"):
        for i in range(120):
            _calls(profiler, clock, "search", 2.0 + i % 10 * 0.01)
    # The ratio of the calls after the baseline (2x), not diluted by the baseline's own.
    assert len(seen) == 1 and seen[0][2] == pytest.approx(2.0, rel=0.02)
