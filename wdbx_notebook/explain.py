"""Why an operation is slow, and why it varies: measured causes, stated with their figures.

:func:`explain` reads one operation of a :class:`~wdbx_notebook.Snapshot` (a live
profiler, a saved session or a merge) and checks four causes against its recent
successful calls:

* **waiting**: the calls spend at least :data:`WAITING_SHARE` % of their wall time
  off-CPU (``100 - cpu_share``): sleeping, in I/O, on locks, or waiting for the GIL
  another thread holds;
* **GC**: at least :data:`GC_MIN_CALLS` of the slowest calls (and at least
  :data:`GC_MIN_SHARE` of them) overlap a garbage collection, and those pauses make up
  at least :data:`GC_EXCESS_SHARE` of those calls' time above the median;
* **warm-up**: the first call(s) took more than ``WARMUP_FACTOR`` (5) times the median
  of the rest, with at least ``WARMUP_MIN_CALLS`` (5) successful calls;
* **machine busy**: with the system sampler running
  (``system_diagnostics.start()``), at least :data:`BUSY_MIN_CALLS` of the slowest
  calls ran while the machine's CPU was at :data:`BUSY_MACHINE_PERCENT` % or more and
  this process used less than half of it, and such calls are at least twice as
  frequent among the slowest as among the others.

When none holds, the verdict says so ("none of these: the spread is in the work
itself"), naming any cause that could not be checked because it was not measured.
A verdict is never given without the figures behind it.

>>> from wdbx_notebook import PerformanceProfiler
>>> import time
>>> profiler = PerformanceProfiler()
>>> nap = profiler.profile("nap")(lambda: time.sleep(0.002))
>>> for _ in range(5):
...     nap()
>>> explanation = explain("nap", profiler)
>>> [v.kind for v in explanation.verdicts]
['waiting']
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _gc
from ._units import format_duration_ms
from .report.escape import escape_html, printable
from .snapshot import Snapshot, as_snapshot
from .stats import WARMUP_FACTOR, WARMUP_MIN_CALLS

__all__ = [
    "BUSY_MACHINE_PERCENT",
    "BUSY_MIN_CALLS",
    "GC_EXCESS_SHARE",
    "GC_MIN_CALLS",
    "GC_MIN_SHARE",
    "SLOWEST",
    "WAITING_SHARE",
    "WARMUP_MAX_CALLS",
    "Explanation",
    "Verdict",
    "explain",
    "findings",
    "mostly_waits",
    "plot_time_breakdown",
    "time_breakdown",
    "warmup_calls",
]

#: The slowest calls examined and listed.
SLOWEST = 10
#: Off-CPU share of wall time (percent) at or above which an operation is "waiting".
WAITING_SHARE = 50.0
#: The GC verdict needs at least this many of the slowest calls to overlap a collection...
GC_MIN_CALLS = 2
#: ...and at least this share of the slowest calls...
GC_MIN_SHARE = 0.2
#: ...and their pauses must be at least this share of their time above the median.
GC_EXCESS_SHARE = 0.5
#: At most this many leading calls are flagged as warm-up calls.
WARMUP_MAX_CALLS = 3
#: Machine CPU use (percent of all cores) at or above which the machine is busy.
BUSY_MACHINE_PERCENT = 90.0
#: The "machine busy" verdict needs at least this many of the slowest calls on a busy machine.
BUSY_MIN_CALLS = 2

_NS_PER_MS = 1_000_000


@dataclass(frozen=True)
class Verdict:
    """One finding: ``kind`` (``"waiting"``, ``"gc"``, ``"warmup"``, ``"busy"``,
    ``"none"`` or ``"few"``), the sentence, and the figures that support it."""

    kind: str
    text: str
    figures: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


def warmup_calls(durations_ns: Any) -> int:
    """How many leading calls are warm-up calls: the largest ``k`` (at most
    :data:`WARMUP_MAX_CALLS`) such that each of the first ``k`` durations is more than
    ``WARMUP_FACTOR`` times the median of the calls after them, with at least
    ``WARMUP_MIN_CALLS`` calls in all and ``WARMUP_MIN_CALLS - 1`` after them.

    >>> warmup_calls([60, 1, 1, 2, 1]), warmup_calls([60, 50, 1, 1, 1, 1])
    (1, 2)
    >>> warmup_calls([3, 1, 1, 1, 1]), warmup_calls([60, 1, 1, 1])
    (0, 0)
    """
    import numpy as np

    durations = np.asarray(durations_ns, dtype=np.float64)
    n = len(durations)
    best = 0
    if n < WARMUP_MIN_CALLS:
        return 0
    for k in range(1, WARMUP_MAX_CALLS + 1):
        if n - k < WARMUP_MIN_CALLS - 1:
            break
        rest = float(np.median(durations[k:]))
        if bool((durations[:k] > WARMUP_FACTOR * rest).all()):
            best = k
    return best


def _pct(value: float) -> str:
    if 99 < value < 100:
        return "99%"  # never round up to "all of the time"
    return f"{value:.0f}%" if value >= 1 or value == 0 else f"{value:.1g}%"


def _times(value: float) -> str:
    return f"{value:.0f}x" if value >= 10 else f"{value:.1f}x"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class Explanation:
    """What :func:`explain` found for one operation: verdicts with their figures, and
    the slowest calls (``to_dataframe()``); displays as text or HTML."""

    def __init__(
        self,
        name: str,
        verdicts: list[Verdict],
        notes: list[str],
        figures: dict[str, Any],
        slowest: list[dict[str, Any]],
    ) -> None:
        self.name = name
        self.verdicts = verdicts
        self.notes = notes
        self.figures = figures
        self.slowest = slowest

    @property
    def kinds(self) -> list[str]:
        """The kinds of the verdicts, in order."""
        return [v.kind for v in self.verdicts]

    @property
    def lines(self) -> list[str]:
        """The verdict sentences."""
        return [v.text for v in self.verdicts]

    def to_dataframe(self) -> Any:
        """The slowest calls, slowest first, one row each (pandas DataFrame indexed by
        ``call``, the call's position among the recent calls in start order).

        Columns: ``start`` (datetime64), ``duration_ms``, ``cpu_ms``, ``waiting_ms``,
        ``gc_ms`` (NaN where not measured), ``gc_generation`` (nullable Int64: the
        oldest generation collected during the call, where known), ``warmup``,
        ``process_cpu_percent``, ``machine_cpu_percent`` (NaN without a system
        sample), ``machine_busy`` (nullable boolean) and ``thread``.
        """
        import numpy as np
        import pandas as pd

        rows = self.slowest

        def floats(key: str) -> Any:
            return np.array(
                [np.nan if r[key] is None else float(r[key]) for r in rows], dtype=np.float64
            )

        frame = pd.DataFrame(
            {
                "start": np.array([r["start_ns"] for r in rows], dtype=np.int64).view(
                    "datetime64[ns]"
                ),
                "duration_ms": floats("duration_ms"),
                "cpu_ms": floats("cpu_ms"),
                "waiting_ms": floats("waiting_ms"),
                "gc_ms": floats("gc_ms"),
                "gc_generation": pd.array([r["gc_generation"] for r in rows], dtype="Int64"),
                "warmup": np.array([r["warmup"] for r in rows], dtype=bool),
                "process_cpu_percent": floats("process_cpu_percent"),
                "machine_cpu_percent": floats("machine_cpu_percent"),
                "machine_busy": pd.array([r["machine_busy"] for r in rows], dtype="boolean"),
                "thread": pd.Series([r["thread"] for r in rows], dtype=object),
            },
            index=pd.Index([r["call"] for r in rows], name="call", dtype=np.int64),
        )
        return frame

    # -- display ---------------------------------------------------------------
    _HEADERS = ("call", "duration", "CPU", "waiting", "GC", "warm-up", "machine CPU")

    def _cells(self, row: dict[str, Any]) -> list[str]:
        machine = row["machine_cpu_percent"]
        machine_text = "—" if machine is None else f"{machine:.0f}%"
        if row["machine_busy"]:
            machine_text += " busy"
        gc_text = format_duration_ms(row["gc_ms"])
        if row["gc_generation"] is not None and row["gc_ms"]:
            gc_text += f" (gen {row['gc_generation']})"
        return [
            f"#{row['call']}",
            format_duration_ms(row["duration_ms"]),
            format_duration_ms(row["cpu_ms"]),
            format_duration_ms(row["waiting_ms"]),
            gc_text,
            "yes" if row["warmup"] else "",
            machine_text,
        ]

    def _title_figures(self) -> str:
        f = self.figures
        if not f.get("calls"):
            return ""
        return (
            f": {_plural(f['calls'], 'recent successful call')}, median "
            f"{format_duration_ms(f['median_ms'])}, max {format_duration_ms(f['max_ms'])}"
        )

    def to_text(self) -> str:
        """The plain-text twin of the HTML display."""
        title = f"Why '{printable(self.name)}' is slow and varies" + self._title_figures()
        lines = [title]
        lines += [f"  - {v.text}" for v in self.verdicts]
        lines += [f"  note: {n}" for n in self.notes]
        if self.slowest:
            lines.append(f"The {_plural(len(self.slowest), 'slowest call')}:")
            table = [list(self._HEADERS)] + [self._cells(r) for r in self.slowest]
            widths = [max(len(row[i]) for row in table) for i in range(len(self._HEADERS))]
            for row in table:
                lines.append(
                    "  "
                    + "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
                )
        return "\n".join(lines)

    def to_html(self) -> str:
        """The notebook display (JupyterLab colours, so it reads on light and dark themes)."""
        title = f"Why <code>{escape_html(self.name)}</code> is slow and varies"
        title += escape_html(self._title_figures())
        border = "1px solid var(--jp-border-color2, #ccc)"
        parts = [
            '<div class="wdbx-explain" style="color: var(--jp-ui-font-color1, inherit);">',
            f"<p><strong>{title}</strong></p><ul>",
        ]
        for v in self.verdicts:
            parts.append(f'<li data-kind="{escape_html(v.kind)}">{escape_html(v.text)}</li>')
        parts.append("</ul>")
        for n in self.notes:
            parts.append(
                '<p style="color: var(--jp-ui-font-color2, inherit);">'
                f"<small>{escape_html(n)}</small></p>"
            )
        if self.slowest:
            parts.append(
                f"<p>The {_plural(len(self.slowest), 'slowest call')}:</p>"
                '<table style="border-collapse: collapse;"><thead><tr>'
            )
            for header in self._HEADERS:
                parts.append(
                    f'<th style="border-bottom: {border}; padding: 2px 8px; '
                    f'text-align: right;">{escape_html(header)}</th>'
                )
            parts.append("</tr></thead><tbody>")
            for row in self.slowest:
                parts.append("<tr>")
                for cell in self._cells(row):
                    parts.append(
                        f'<td style="padding: 2px 8px; text-align: right;">{escape_html(cell)}</td>'
                    )
                parts.append("</tr>")
            parts.append("</tbody></table>")
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        kinds = ", ".join(self.kinds) or "nothing"
        return f"<Explanation of {printable(self.name)!r}: {kinds}>"


# -- the checks -------------------------------------------------------------------------
def explain(
    name: str, source: Any = None, *, system: Any = None, slowest: int = SLOWEST
) -> Explanation:
    """Why the operation ``name`` is slow and why its durations vary.

    Args:
        name: the operation.
        source: a profiler, a :class:`~wdbx_notebook.Snapshot`, or ``None`` for the
            shared profiler.
        system: system samples to match calls with: a ``SystemDiagnostics``, its
            ``to_dataframe()``, or a list of sample dicts (``timestamp`` in seconds,
            ``process_cpu_percent``, ``system_cpu_percent``); by default the shared
            ``system_diagnostics`` (nothing when it never ran).
        slowest: how many of the slowest calls to examine and list.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> spin = profiler.profile("spin")(lambda: sum(range(20_000)))
    >>> for _ in range(8):
    ...     _ = spin()
    >>> explain("spin", profiler).figures["calls"]
    8
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be an operation name (a str), got {type(name).__name__}")
    if isinstance(slowest, bool) or not isinstance(slowest, int) or slowest < 1:
        raise ValueError(f"slowest must be an int >= 1, got {slowest!r}")
    import numpy as np

    snapshot = _snapshot_of(source, name)
    summary = snapshot.summary(name)  # an unknown name raises KeyError with suggestions
    columns = snapshot.calls(name)
    calls = columns.take(columns.success)
    n = len(calls)
    durations = calls.duration_ns.astype(np.float64)
    figures: dict[str, Any] = {
        "calls": n,
        "median_ms": float(np.median(durations)) / _NS_PER_MS if n else None,
        "max_ms": float(durations.max()) / _NS_PER_MS if n else None,
        "cpu_share": summary["cpu_share"],
        "avg_cpu_ms": summary["avg_cpu_ms"],
        "avg_waiting_ms": summary["avg_waiting_ms"],
    }
    verdicts: list[Verdict] = []
    notes: list[str] = []

    order = np.argsort(-durations, kind="stable")[:slowest]
    cpu = calls.cpu_ns
    gc_ns = calls.gc_ns
    cpu_known = cpu >= 0
    gc_known = gc_ns >= 0
    generations = _gc_generations(source, calls, order.tolist())

    # Warm-up: from the recent calls when they still hold the first call, else the summary.
    first_start = snapshot.operation_stats(name).first_success_start_ns
    holds_first = n > 0 and first_start is not None and int(calls.start_ns[0]) <= first_start
    warm = warmup_calls(durations) if holds_first else 0
    warm_flags = np.zeros(n, dtype=bool)
    warm_flags[:warm] = True

    samples = _samples(system)
    ncpu = int(snapshot.environment.get("cpu_count") or os.cpu_count() or 1)
    process_pct, machine_pct = _match_samples(calls, samples)
    busy = np.where(
        np.isnan(machine_pct),
        False,
        (machine_pct >= BUSY_MACHINE_PERCENT) & (process_pct / ncpu < machine_pct / 2),
    )

    # 1. waiting
    share = summary["cpu_share"]
    if share is not None:
        off = max(100.0 - share, 0.0)
        figures["off_cpu_share"] = off
        if off >= WAITING_SHARE:
            top_known = cpu_known[order]
            top_off = None
            if top_known.any():
                wall = float(durations[order][top_known].sum())
                top_off = 100.0 * (1 - float(cpu[order][top_known].sum()) / wall) if wall else None
            text = (
                f"waiting, not computing: {_pct(off)} of the time is off-CPU "
                f"(sleep, I/O, locks, the GIL held by another thread, or other processes "
                f"holding the CPU); "
                f"{format_duration_ms(summary['avg_waiting_ms'])} waiting and "
                f"{format_duration_ms(summary['avg_cpu_ms'])} CPU per call on average"
            )
            verdicts.append(
                Verdict(
                    "waiting",
                    text,
                    {
                        "off_cpu_share": off,
                        "avg_waiting_ms": summary["avg_waiting_ms"],
                        "avg_cpu_ms": summary["avg_cpu_ms"],
                        "slowest_off_cpu_share": top_off,
                    },
                )
            )
    else:
        notes.append(
            "CPU time was not measured (time-only mode without track_cpu=True, async "
            "calls, or an older session): waiting could not be told from computing."
        )

    # 2. GC
    median_ns = float(np.median(durations)) if n else 0.0
    top_gc_known = gc_known[order]
    if n and top_gc_known.any():
        examined = int(top_gc_known.sum())
        hit = top_gc_known & (gc_ns[order] > 0)
        count = int(hit.sum())
        pause = gc_ns[order][hit].astype(np.float64)
        excess = np.clip(durations[order][hit] - median_ns, 0, None)
        figures["slowest_with_gc"] = count
        if (
            count >= GC_MIN_CALLS
            and count >= GC_MIN_SHARE * examined
            and float(pause.sum()) >= GC_EXCESS_SHARE * float(excess.sum())
        ):
            gens = [generations.get(i) for i in order[hit].tolist()]
            oldest = max((g for g in gens if g is not None), default=None)
            at_oldest = sum(1 for g in gens if g is not None and g == oldest)
            if oldest is None:
                what = "a garbage collection"
            elif at_oldest == count:
                what = f"a generation-{oldest} collection"
            else:
                what = "a garbage collection"
            avg_pause_ms = float(pause.mean()) / _NS_PER_MS
            text = (
                f"GC: {count} of the {examined} slowest calls overlap {what} "
                f"({format_duration_ms(avg_pause_ms)} on average"
                + (
                    f"; generation {oldest} in {at_oldest} of them)"
                    if oldest is not None and at_oldest != count
                    else ")"
                )
            )
            verdicts.append(
                Verdict(
                    "gc",
                    text,
                    {
                        "calls": count,
                        "examined": examined,
                        "generation": oldest,
                        "calls_at_generation": at_oldest,
                        "avg_pause_ms": avg_pause_ms,
                        "pause_share_of_excess": float(pause.sum()) / float(excess.sum())
                        if excess.sum()
                        else None,
                    },
                )
            )
    elif n:
        notes.append(
            "GC pauses were not measured (a profiler with its own clock, or an older "
            "session): collections could not be checked."
        )

    # 3. warm-up
    if warm:
        rest_ms = float(np.median(durations[warm:])) / _NS_PER_MS
        ratios = [
            float(d) / _NS_PER_MS / rest_ms if rest_ms else math.inf for d in durations[:warm]
        ]
        if warm == 1:
            text = f"warm-up: the first call took {_times(ratios[0])} the median of the rest"
        else:
            text = (
                f"warm-up: the first {warm} calls took "
                f"{', '.join(_times(r) for r in ratios[:-1])} and {_times(ratios[-1])} "
                "the median of the rest"
            )
        first_ms = float(durations[0]) / _NS_PER_MS
        text += f" ({format_duration_ms(first_ms)} vs {format_duration_ms(rest_ms)})"
        verdict = Verdict(
            "warmup", text, {"calls": warm, "ratios": ratios, "steady_median_ms": rest_ms}
        )
        _warmup_verdict_or_note(verdict, first_ms, durations, order, verdicts, notes)
    elif not holds_first and summary["warmup_calls"]:
        first_ms, steady = summary["first_call_ms"], summary["steady_median_ms"]
        ratio = first_ms / steady if steady else math.inf
        verdict = Verdict(
            "warmup",
            f"warm-up: the first call took {_times(ratio)} the median of the rest "
            f"({format_duration_ms(first_ms)} vs {format_duration_ms(steady)})",
            {"calls": 1, "ratios": [ratio], "steady_median_ms": steady},
        )
        _warmup_verdict_or_note(verdict, first_ms, durations, order, verdicts, notes)
    figures["warmup_calls"] = warm if holds_first else summary["warmup_calls"]

    # 4. machine busy
    sampled = ~np.isnan(machine_pct)
    if sampled.any():
        top_sampled = sampled[order]
        top_busy = int(busy[order][top_sampled].sum())
        examined = int(top_sampled.sum())
        others = np.ones(n, dtype=bool)
        others[order] = False
        others &= sampled
        other_share = float(busy[others].mean()) if others.any() else None
        figures["slowest_on_busy_machine"] = top_busy
        top_share = top_busy / examined if examined else 0.0
        if top_busy >= BUSY_MIN_CALLS and (other_share is None or top_share >= 2 * other_share):
            text = f"machine busy during {top_busy} of the {examined} slowest calls"
            if other_share is not None:
                text += f" (vs {_pct(100 * other_share)} of the other calls)"
            verdicts.append(
                Verdict(
                    "busy",
                    text,
                    {"calls": top_busy, "examined": examined, "other_share": other_share},
                )
            )
    elif n:
        notes.append(
            "Machine load was not sampled while these calls ran: start "
            "system_diagnostics.start() to check for a busy machine."
        )

    if not verdicts:
        if n < 2:
            verdicts.append(
                Verdict("few", f"only {_plural(n, 'successful call')}: no spread to explain", {})
            )
        else:
            missing = [
                what
                for what, known in (
                    ("CPU time", share is not None),
                    ("GC pauses", bool(gc_known.any())),
                )
                if not known
            ]
            if missing:
                text = f"none of the causes measured here; {' and '.join(missing)} not measured"
            else:
                text = "none of these: the spread is in the work itself"
            verdicts.append(Verdict("none", text, {"missing": missing}))

    rows = []
    for index in order.tolist():
        c = int(cpu[index])
        g = int(gc_ns[index])
        d = float(durations[index])
        rows.append(
            {
                "call": int(index),
                "start_ns": int(calls.start_ns[index]),
                "duration_ms": d / _NS_PER_MS,
                "cpu_ms": c / _NS_PER_MS if c >= 0 else None,
                "waiting_ms": max(d - c, 0.0) / _NS_PER_MS if c >= 0 else None,
                "gc_ms": g / _NS_PER_MS if g >= 0 else None,
                "gc_generation": generations.get(index) if g > 0 else None,
                "warmup": bool(warm_flags[index]),
                "process_cpu_percent": None
                if math.isnan(process_pct[index])
                else float(process_pct[index]),
                "machine_cpu_percent": None
                if math.isnan(machine_pct[index])
                else float(machine_pct[index]),
                "machine_busy": None if math.isnan(machine_pct[index]) else bool(busy[index]),
                "thread": calls.thread[index],
            }
        )
    return Explanation(name, verdicts, notes, figures, rows)


def _snapshot_of(source: Any, name: str) -> Any:
    """A snapshot holding ``name``: of that operation alone for a live profiler (a
    snapshot of every operation costs time in a session with thousands of them)."""
    if source is None:
        from . import _operation

        getter = _operation.shared_profiler
        source = getter() if getter is not None else None
    if source is not None and not isinstance(source, Snapshot):
        take = getattr(source, "snapshot", None)
        if callable(take):
            try:
                taken = take([name])
            except TypeError:  # a snapshot() without names
                taken = None
            if isinstance(taken, Snapshot):
                return taken
    return as_snapshot(source)


def _gc_generations(source: Any, calls: Any, indices: list[int]) -> dict[int, int]:
    """The oldest generation collected during each of the calls at ``indices``, from
    the live recorder (calls that overlapped none are left out). Empty when the source
    is not a live profiler on the recorder's clock: a snapshot's calls cannot be placed
    on the recorder's clock."""
    if source is None:
        from . import _operation

        getter = _operation.shared_profiler
        source = getter() if getter is not None else None
    if source is None or getattr(source, "_gc_pauses", None) is not _gc.pauses:
        return {}
    recorded = _gc.collections()
    if not recorded or not indices:
        return {}
    import numpy as np

    offset = int(source.wall_offset_ns)
    table = np.array(recorded, dtype=np.int64)
    starts, ends, gens = table[:, 0] + offset, table[:, 1] + offset, table[:, 2]
    result: dict[int, int] = {}
    for index in indices:
        start, end = int(calls.start_ns[index]), int(calls.end_ns[index])
        overlap = (ends > start) & (starts < end)
        if overlap.any():
            result[index] = int(gens[overlap].max())
    return result


def _samples(system: Any) -> Any:
    """``(timestamps_ns, process_percent, machine_percent)`` arrays of the system samples."""
    import numpy as np

    records: list[Mapping[str, Any]]
    if system is None:
        # The shared sampler, when its module is loaded: if it is not, the sampler has
        # never run, and importing it here would only start psutil for nothing.
        module = sys.modules.get(f"{__package__}.diagnostics")
        system = getattr(module, "system_diagnostics", None)
        if system is None:
            records = []
            system = records
    if hasattr(system, "to_dataframe") and hasattr(system, "running"):
        system = system.to_dataframe()
    if hasattr(system, "index") and hasattr(system, "columns"):  # a DataFrame
        if not len(system):
            records = []
        else:
            stamps = np.asarray(system.index.values).astype("datetime64[ns]").view(np.int64)
            return (
                stamps,
                np.asarray(system["process_cpu_percent"], dtype=np.float64),
                np.asarray(system["system_cpu_percent"], dtype=np.float64),
            )
    else:
        records = list(system)
    stamps = np.array([round(float(r["timestamp"]) * 1e9) for r in records], dtype=np.int64)
    process = np.array(
        [
            np.nan if r.get("process_cpu_percent") is None else r["process_cpu_percent"]
            for r in records
        ],
        dtype=np.float64,
    )
    machine = np.array(
        [
            np.nan if r.get("system_cpu_percent") is None else r["system_cpu_percent"]
            for r in records
        ],
        dtype=np.float64,
    )
    return stamps, process, machine


def _match_samples(calls: Any, samples: Any) -> tuple[Any, Any]:
    """Each call's process and machine CPU percent: from the sample whose interval
    (previous sample, this sample] holds the call's midpoint; NaN when none does."""
    import numpy as np

    stamps, process, machine = samples
    n = len(calls)
    proc = np.full(n, np.nan)
    mach = np.full(n, np.nan)
    if not n or len(stamps) < 2:
        return proc, mach
    order = np.argsort(stamps, kind="stable")
    stamps, process, machine = stamps[order], process[order], machine[order]
    mid = calls.start_ns + (calls.end_ns - calls.start_ns) // 2
    index = np.searchsorted(stamps, mid, side="left")
    # The first sample covers only the instant after the sampler started.
    ok = (index > 0) & (index < len(stamps))
    proc[ok] = process[index[ok]]
    mach[ok] = machine[index[ok]]
    return proc, mach


def _warmup_verdict_or_note(
    verdict: Verdict,
    first_ms: float,
    durations: Any,
    order: Any,
    verdicts: list[Verdict],
    notes: list[str],
) -> None:
    """A warm-up explains the spread only if the first call is as slow as the slowest
    calls listed; otherwise it is true but beside the point: a note, not a verdict."""
    slowest_floor_ms = float(durations[order[-1]]) / _NS_PER_MS if len(order) else 0.0
    if first_ms >= slowest_floor_ms:
        verdicts.append(verdict)
    else:
        notes.append(
            verdict.text.replace("warm-up: ", "A warm-up, too small to explain the spread: ", 1)
        )


# -- for the other views ----------------------------------------------------------------
#: Time a GC or warm-up finding must cost before a report recommends acting on it (ms):
#: a first call 7x slower than the rest is not worth a line when the rest take 300 ns.
NOTABLE_MS = 1.0


def findings(name: str, summary: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The report's findings for one operation from its statistics alone (cheap):
    ``(kind, action, evidence)`` for an operation that mostly waits, that spends a
    large share of its time in GC, or whose first call was a warm-up call (GC and
    warm-up only when they cost at least :data:`NOTABLE_MS`).

    >>> findings("x", {"cpu_share": 1.0, "success_count": 3, "avg_duration_ms": 10.0,
    ...     "total_duration_ms": 30.0, "gc_pause_ms": 0.0, "calls_with_gc": 0, "warmup_calls": 0})
    [('waits', 'Look at I/O, sleeps or locks in', 'waits: 99% off-CPU; look at I/O or sleeps')]
    """
    found: list[tuple[str, str, str]] = []
    share = summary.get("cpu_share")
    if share is not None and summary.get("success_count"):
        off = max(100.0 - float(share), 0.0)
        if off >= WAITING_SHARE:
            found.append(
                (
                    "waits",
                    "Look at I/O, sleeps or locks in",
                    f"waits: {_pct(off)} off-CPU; look at I/O or sleeps",
                )
            )
    total = float(summary.get("total_duration_ms") or 0.0)
    gc_ms = float(summary.get("gc_pause_ms") or 0.0)
    gc_calls = int(summary.get("calls_with_gc") or 0)
    if total > 0 and gc_ms >= 0.1 * total and gc_ms >= NOTABLE_MS:
        found.append(
            (
                "gc",
                "Reduce garbage collection in",
                f"{_pct(100 * gc_ms / total)} of its time is GC pauses "
                f"({format_duration_ms(gc_ms)} in {_plural(gc_calls, 'call')})",
            )
        )
    if summary.get("warmup_calls"):
        first, steady = summary.get("first_call_ms"), summary.get("steady_median_ms")
        if first is not None and steady and first - steady >= NOTABLE_MS:
            found.append(
                (
                    "warmup",
                    "Warm up or cache the first call of",
                    f"the first call took {_times(first / steady)} the median of the rest "
                    f"({format_duration_ms(first)} vs {format_duration_ms(steady)})",
                )
            )
    return found


def mostly_waits(summary: Mapping[str, Any]) -> bool:
    """Whether an operation spends at least :data:`WAITING_SHARE` % of its time off-CPU
    (then "optimize" is the wrong advice: the time goes to I/O, sleeps or locks)."""
    share = summary.get("cpu_share")
    return share is not None and 100.0 - float(share) >= WAITING_SHARE


def time_breakdown(source: Any = None, names: Iterable[str] | None = None) -> Any:
    """Where each operation's time goes, per successful call on average, in ms: a pandas
    DataFrame indexed by ``operation`` with ``cpu_ms`` (CPU outside GC), ``waiting_ms``
    (off-CPU), ``gc_ms`` (GC pauses inside the call) and ``total_ms`` (the mean
    duration; the three parts add up to it). A collection runs on the thread whose
    allocation triggered it, so a call's GC time is counted as its own CPU time and
    taken out of it; ``cpu_ms`` and ``waiting_ms`` are NaN where CPU time was not
    measured.
    """
    import numpy as np
    import pandas as pd

    snapshot = as_snapshot(source)
    chosen = snapshot.get_all_operations() if names is None else list(names)
    if isinstance(names, str):
        raise TypeError("names must be a list of operation names, not a single str")
    rows = []
    for name in chosen:
        s = snapshot.summary(name)
        n = int(s["success_count"])
        total = float(s["avg_duration_ms"]) if n else np.nan
        gc_ms = float(s["gc_pause_ms"]) / n if n and s["gc_pause_ms"] is not None else np.nan
        if s["avg_cpu_ms"] is None or not n:
            cpu_ms = waiting_ms = np.nan
        else:
            cpu_ms = max(float(s["avg_cpu_ms"]) - gc_ms, 0.0)
            waiting_ms = max(total - cpu_ms - gc_ms, 0.0)
        rows.append((cpu_ms, waiting_ms, gc_ms, total))
    frame = pd.DataFrame(
        rows,
        columns=["cpu_ms", "waiting_ms", "gc_ms", "total_ms"],
        index=pd.Index(chosen, name="operation", dtype=object),
        dtype=np.float64,
    )
    return frame


#: Colours of the time breakdown's parts (colour-blind safe, readable on white).
BREAKDOWN_COLORS = {"cpu_ms": "#0072B2", "waiting_ms": "#E69F00", "gc_ms": "#CC79A7"}
_BREAKDOWN_LABELS = {"cpu_ms": "CPU", "waiting_ms": "waiting (off-CPU)", "gc_ms": "GC pauses"}


def plot_time_breakdown(
    source: Any = None, names: Iterable[str] | None = None, *, log_scale: bool = False
) -> Any:
    """A stacked bar per operation of where its time goes per call (CPU, waiting, GC;
    see :func:`time_breakdown`), as a matplotlib ``Figure`` (no pyplot state).

    Operations without CPU figures show their GC part and a hatched remainder
    ("not measured"), never a made-up split. The axis stays linear even with
    ``log_scale`` (parts of a sum would be distorted); the title says so.
    """
    import numpy as np

    from .plots import _figure, shorten

    frame = time_breakdown(source, names)
    count = len(frame)
    fig = _figure(7.5, max(2.4, 1.2 + 0.42 * count))
    ax = fig.add_subplot()
    if not count:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "No operations to show", ha="center", va="center", color="0.35")
        return fig
    rows = np.arange(count)[::-1]  # the first operation at the top
    left = np.zeros(count)
    for key in ("cpu_ms", "waiting_ms", "gc_ms"):
        values = np.nan_to_num(frame[key].to_numpy(dtype=np.float64), nan=0.0)
        ax.barh(rows, values, left=left, color=BREAKDOWN_COLORS[key], label=_BREAKDOWN_LABELS[key])
        left += values
    unknown = frame["cpu_ms"].isna().to_numpy()
    if unknown.any():
        rest = np.where(unknown, frame["total_ms"].to_numpy() - left, 0.0)
        ax.barh(
            rows,
            rest,
            left=left,
            color="white",
            edgecolor="0.5",
            hatch="//",
            label="CPU time not measured",
        )
    ax.set_yticks(rows, [shorten(str(n)) for n in frame.index])
    ax.set_xlabel("Mean time per call (ms)")
    title = "Where the time goes: CPU, waiting, GC"
    if log_scale:
        title += "\n(linear scale: the parts add up to the mean duration)"
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    return fig
