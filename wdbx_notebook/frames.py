"""pandas views of the profiler: one row per operation, or one row per call.

pandas is imported inside the functions, so ``import wdbx_notebook`` stays light.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> statistics_dataframe(profiler).loc["load", "call_count"]
np.int64(1)
>>> list(history_dataframe(profiler).columns)
['operation', 'timestamp', 'duration_ms', 'memory_delta', 'success', 'error', 'thread']

Conventions (the same in every frame):

* Times of day (``first_call``, ``last_call``, ``timestamp``) are
  ``datetime64[ns]`` in UTC, timezone-naive, as ``pd.to_datetime(..., unit="s")``
  gives them; missing ones are ``NaT``.
* ``errors_by_type`` is a column of dicts ``{exception type name: count}``:
  lossless, and ``df["errors_by_type"].apply(len)`` or ``pd.json_normalize``
  take it apart; the displays format it as ``"ValueError (2), KeyError (1)"``.
* ``memory_delta`` in the history is pandas' nullable ``Int64`` (bytes), with
  ``<NA>`` where a call's memory was not measured (``track_memory=False``), so
  the known deltas stay exact integers.
"""

from __future__ import annotations

from typing import Any

from .snapshot import as_snapshot
from .stats import DURATION_KEYS, OperationStats

_NS_PER_S = 1_000_000_000

__all__ = ["HISTORY_COLUMNS", "history_dataframe", "statistics_columns", "statistics_dataframe"]

#: The columns of :func:`history_dataframe`, in order.
HISTORY_COLUMNS = (
    "operation",
    "timestamp",
    "duration_ms",
    "memory_delta",
    "success",
    "error",
    "thread",
)

_DATETIME_KEYS = frozenset({"first_call", "last_call"})

#: Options :func:`history_dataframe` accepts through ``**options``.
HISTORY_OPTIONS: frozenset[str] = frozenset({"rolling"})


def statistics_columns() -> dict[str, str]:
    """``{column: dtype}`` of :func:`statistics_dataframe`, in column order.

    Derived from the engine's own statistics dict, so a new statistic becomes a
    column without touching this module: ints stay ``int64``, flags ``bool``,
    ``first_call``/``last_call`` become ``datetime64[ns]``, ``errors_by_type``
    stays a column of dicts (``object``) and the rest are ``float64``.

    >>> statistics_columns()["call_count"]
    'int64'
    """
    columns: dict[str, str] = {}
    for key, value in OperationStats().summary().as_dict().items():
        if key in _DATETIME_KEYS:
            columns[key] = "datetime64[ns]"
        elif isinstance(value, bool):
            columns[key] = "bool"
        elif isinstance(value, int):
            columns[key] = "int64"
        elif isinstance(value, dict):
            columns[key] = "object"
        else:
            columns[key] = "float64"
    return columns


def _epoch_seconds_to_datetime(values: list[Any]) -> Any:
    import numpy as np

    # Through integer nanoseconds so the column is datetime64[ns] on every pandas version.
    ns = np.array(
        [np.iinfo(np.int64).min if v is None else round(float(v) * _NS_PER_S) for v in values],
        dtype=np.int64,
    )
    return ns.view("datetime64[ns]")


def statistics_dataframe(
    source: Any = None, names: list[str] | None = None, by: str | None = None
) -> Any:
    """One row per operation, one column per statistic of ``get_statistics``.

    Args:
        source: a profiler, a :class:`~wdbx_notebook.Snapshot` (a saved or
            merged session), or ``None`` for the shared profiler.
        names: only these operations, in this order (default: all, in order of
            first use). An unknown name raises the source's ``KeyError``.
        by: ``"source"`` gives one row per (source, operation) of the calls
            absorbed from other processes (:meth:`PerformanceProfiler.absorb`),
            indexed by ``source`` and ``operation``.

    Returns:
        A DataFrame indexed by ``operation``; integer counts, float durations
        (ms) and memory figures (bytes), ``datetime64[ns]`` first/last call,
        ``errors_by_type`` as dicts. A statistic with no figure is NaN (the
        durations of an operation none of whose calls succeeded, CPU share
        without CPU measurements). An empty source gives an empty frame with
        the same columns and dtypes.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_dataframe(PerformanceProfiler()).empty
    True
    """
    import pandas as pd

    snap = as_snapshot(source)
    if by not in (None, "source"):
        raise ValueError(f"by must be None or 'source', got {by!r}")
    if by == "source":
        if names is not None:
            raise ValueError("names and by='source' cannot be combined; filter the frame instead")
        per_source = snap.source_statistics()
        index = pd.MultiIndex.from_tuples(list(per_source), names=["source", "operation"])
        return _frame(list(per_source.values()), index)
    if names is None:
        names = snap.get_all_operations()
    elif isinstance(names, str):
        raise TypeError(
            f"names must be a list of operation names, got the str {names!r}; wrap it in a list"
        )
    else:
        names = list(names)
    summaries = [snap.summary(name) for name in names]
    return _frame(summaries, pd.Index(names, name="operation", dtype=object))


def _frame(summaries: list[Any], index: Any) -> Any:
    import numpy as np
    import pandas as pd

    rows = [summary.as_dict() for summary in summaries]
    frame = pd.DataFrame(index=index)
    columns = statistics_columns()
    for key, dtype in columns.items():
        values = [row.get(key) for row in rows]
        if dtype == "datetime64[ns]":
            frame[key] = _epoch_seconds_to_datetime(values)
        elif dtype == "object":
            frame[key] = pd.Series([dict(v or {}) for v in values], index=frame.index, dtype=object)
        elif dtype == "float64":
            frame[key] = np.array(
                [
                    np.nan
                    if value is None or (key in DURATION_KEYS and not summary.has_durations)
                    else value
                    for value, summary in zip(values, summaries, strict=True)
                ],
                dtype=dtype,
            )
        else:
            frame[key] = np.array(values, dtype=dtype)
    return frame


def _check_options(options: dict[str, Any]) -> None:
    unknown = sorted(set(options) - HISTORY_OPTIONS)
    if unknown:
        accepted = ", ".join(sorted(HISTORY_OPTIONS)) or "none yet"
        raise TypeError(
            "history_dataframe() got unexpected option(s) "
            + ", ".join(repr(u) for u in unknown)
            + f"; accepted options: {accepted}"
        )


def history_dataframe(source: Any = None, name: str | None = None, **options: Any) -> Any:
    """One row per recorded call (the most recent ``history_limit`` calls per operation).

    Columns: ``operation``, ``timestamp`` (start of the call, ``datetime64[ns]``
    UTC), ``duration_ms`` (float), ``memory_delta`` (bytes, nullable ``Int64``:
    ``<NA>`` when not measured), ``success`` (bool), ``error`` (the exception
    type's name, missing for successful calls) and ``thread`` (its name;
    missing where unknown, as in sessions saved before threads were stored).
    Rows are in the order the calls started.

    Args:
        source: a profiler, a :class:`~wdbx_notebook.Snapshot`, or ``None`` for
            the shared profiler.
        name: only this operation's calls; an unknown name raises ``KeyError``
            (which suggests close names).
        **options: ``rolling=WINDOW`` adds ``rolling_mean_ms`` and
            ``rolling_p95_ms`` over each operation's last WINDOW successful
            calls (see :func:`wdbx_notebook.trends.add_rolling_columns`);
            unknown options raise ``TypeError``.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler(track_memory=False)
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> history_dataframe(profiler, "load")["success"].tolist()
    [True]
    """
    import numpy as np
    import pandas as pd

    _check_options(options)
    snap = as_snapshot(source)
    names = [name] if name is not None else snap.get_all_operations()
    parts = [snap.calls(op_name) for op_name in names]
    ops = [op_name for op_name, calls in zip(names, parts, strict=True) for _ in range(len(calls))]

    def column(attribute: str, dtype: Any) -> Any:
        arrays = [getattr(calls, attribute) for calls in parts]
        return np.concatenate(arrays).astype(dtype) if arrays else np.array([], dtype=dtype)

    start_ns = column("start_ns", np.int64)
    end_ns = column("end_ns", np.int64)
    before = column("mem_before", np.int64)
    after = column("mem_after", np.int64)
    errors = column("error", object)
    known = (before >= 0) & (after >= 0)
    memory = pd.array(np.where(known, after - before, 0), dtype="Int64")
    memory[~known] = pd.NA
    frame = pd.DataFrame(
        {
            "operation": pd.Series(ops, dtype=object),
            "timestamp": start_ns.view("datetime64[ns]"),
            "duration_ms": (end_ns - start_ns) / 1e6,
            "memory_delta": memory,
            "success": np.equal(errors, None).astype(bool),  # type: ignore[call-overload]
            "error": pd.Series(errors, dtype=object),
            "thread": pd.Series(column("thread", object), dtype=object),
        },
        columns=list(HISTORY_COLUMNS),
    )
    if len(names) > 1:
        frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    if options.get("rolling") is not None:
        from .trends import add_rolling_columns

        frame = add_rolling_columns(frame, options["rolling"])
    return frame
