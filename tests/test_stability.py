"""Stability warnings: each rule fires at its boundary, names the operation and the figure,
and every report shows them in its notes."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from wdbx_notebook import PerformanceProfiler
from wdbx_notebook._clock import FakeClock
from wdbx_notebook.report import PerformanceReport
from wdbx_notebook.stability import (
    NOISY_CV,
    P95_MIN_CALLS,
    P99_MIN_CALLS,
    RESOLUTION_FACTOR,
    all_stability_warnings,
    stability_warnings,
)


def _profile(durations_ms: list[float], name: str = "op") -> PerformanceProfiler:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for ms in durations_ms:
        with profiler.profile_block(name):
            clock.advance_ms(ms)
    return profiler


def test_steady_operation_with_enough_calls_has_no_warning() -> None:
    profiler = _profile([2.0] * 150)
    assert stability_warnings("op", profiler.get_statistics("op")) == []


def test_coefficient_of_variation_threshold_is_ten_percent() -> None:
    # Alternating 1.0 and 1.0 + 2d ms: mean 1 + d, sample std about d.
    def cv_of(values: list[float]) -> float:
        return float(np.std(values, ddof=1) / np.mean(values))

    noisy = [1.0, 1.25] * 100  # cv ~ 11%
    calm = [1.0, 1.15] * 100  # cv ~ 7%
    assert cv_of(noisy) >= NOISY_CV > cv_of(calm)
    noisy_warnings = stability_warnings("op", _profile(noisy).get_statistics("op"))
    assert len(noisy_warnings) == 1
    expected = f"{cv_of(noisy):.0%}"
    assert (
        "'op'" in noisy_warnings[0] and f"coefficient of variation {expected}" in noisy_warnings[0]
    )
    assert stability_warnings("op", _profile(calm).get_statistics("op")) == []


@pytest.mark.parametrize(
    ("calls", "expected"),
    [
        (1, "p95 and p99 rest on only 1 successful call;"),
        (P95_MIN_CALLS - 1, f"p95 and p99 rest on only {P95_MIN_CALLS - 1} successful calls;"),
        (P95_MIN_CALLS, f"p99 rests on only {P95_MIN_CALLS} successful calls;"),
        (P99_MIN_CALLS - 1, f"p99 rests on only {P99_MIN_CALLS - 1} successful calls;"),
        (P99_MIN_CALLS, None),
    ],
)
def test_too_few_calls_for_p95_and_p99(calls: int, expected: str | None) -> None:
    warnings = stability_warnings("fetch", _profile([3.0] * calls, "fetch").get_statistics("fetch"))
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert warnings[0].startswith("'fetch': ") and expected in warnings[0]


def test_failures_do_not_count_as_calls_for_percentiles() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for i in range(150):
        expectation = pytest.raises(ValueError) if i >= 10 else contextlib.nullcontext()
        with expectation, profiler.profile_block("flaky"):
            clock.advance_ms(1.0)
            if i >= 10:
                raise ValueError("boom")
    warnings = stability_warnings("flaky", profiler.get_statistics("flaky"))
    assert any("only 10 successful calls" in w for w in warnings)


def test_no_successful_call_says_so() -> None:
    stats = {"success_count": 0, "call_count": 3}
    assert stability_warnings("broken", stats) == [
        "'broken': no successful calls, so there are no duration statistics yet."
    ]


def test_durations_near_clock_resolution() -> None:
    # 50 ns median with a 1 ns clock step: under RESOLUTION_FACTOR steps.
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for _ in range(200):
        with profiler.profile_block("tiny"):
            clock.advance_ns(50)
    stats = profiler.get_statistics("tiny")
    warnings = stability_warnings("tiny", stats, resolution_ns=1.0)
    assert warnings == [
        "'tiny': median duration 50 ns is near the clock's resolution (1 ns); "
        "time a batch of calls per measurement instead."
    ]
    # The same durations with a step small enough are fine.
    assert stability_warnings("tiny", stats, resolution_ns=50 / RESOLUTION_FACTOR / 2) == []
    # A 1 us median on a coarse 100 ns clock is flagged too.
    assert (
        len(stability_warnings("tiny", dict(stats, median_duration_ms=0.001), resolution_ns=100))
        == 1
    )


def test_default_resolution_comes_from_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from wdbx_notebook import _clock

    monkeypatch.setattr(_clock, "resolution_ns", lambda: 1_000_000.0)  # a 1 ms clock
    stats = _profile([5.0] * 200).get_statistics("op")
    (warning,) = stability_warnings("op", stats)
    assert "near the clock's resolution (1.00 ms)" in warning


def test_hostile_name_is_quoted_not_interpreted() -> None:
    name = "a|b`<script>\nx"
    warnings = stability_warnings(
        name,
        {
            "success_count": 1,
            "avg_duration_ms": 1.0,
            "std_duration_ms": 0.0,
            "median_duration_ms": 1.0,
        },
    )
    assert warnings[0].startswith(repr(name) + ":")
    assert "\n" not in warnings[0]


def test_bad_stats_argument_is_reported() -> None:
    with pytest.raises(TypeError, match="get_statistics"):
        stability_warnings("op", [1, 2, 3])  # type: ignore[arg-type]


def test_reports_carry_the_warnings_as_notes() -> None:
    clock = FakeClock()
    profiler = PerformanceProfiler(track_memory=False, clock=clock)
    for _ in range(5):
        with profiler.profile_block("few|calls<script>"):
            clock.advance_ms(2.0)
    for _ in range(150):
        with profiler.profile_block("steady"):
            clock.advance_ms(2.0)
    notes = all_stability_warnings(profiler)
    assert len(notes) == 1 and "only 5 successful calls" in notes[0]
    report = PerformanceReport(profiler)
    assert report.data.notes[: len(notes)] == notes
    text, markdown, html = report.to_text(), report.to_markdown(), report.to_html()
    assert "NOTES" in text and "only 5 successful calls" in text
    assert "## Notes" in markdown and "few\\|calls&lt;script&gt;" in markdown
    assert "only 5 successful calls" in html and "<script>" not in html
