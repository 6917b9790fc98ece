"""The shortcuts that profilers and snapshots offer to the views.

``profiler.report()``, ``snapshot.to_dataframe()``, ``profiler.save(path)``
and friends are conveniences over functions of the readers. They live here,
above every reader; the package's ``__init__`` hands this module to the core
(:mod:`._hooks`), so the core never imports it, and each reader is imported
only when its shortcut is first used.
"""

from __future__ import annotations

import os
from typing import Any


def to_dataframe(source: Any, **options: Any) -> Any:
    from .frames import statistics_dataframe

    return statistics_dataframe(source, **options)


def history_dataframe(source: Any, name: str | None = None, **options: Any) -> Any:
    from .frames import history_dataframe as build

    return build(source, name, **options)


def report(source: Any, format_type: str = "text") -> Any:
    from .report import PerformanceReport

    return PerformanceReport(source, format_type)


def mimebundle(source: Any) -> dict[str, str]:
    """The rich display of a profiler or snapshot: a title line (what it is) and the
    statistics table, as HTML with a plain-text twin."""
    from .report.escape import escape_html
    from .report.table import statistics_table, summaries_of

    # Every operation's summary is read once, for the table and for the title's count.
    summaries = summaries_of(source)
    table = statistics_table(source, summaries=summaries)
    title_of = getattr(source, "_title", None)
    title = title_of(len(summaries)) if callable(title_of) else repr(source)
    return {
        "text/plain": title + "\n" + table.to_text(),
        "text/html": f"<div><p><code>{escape_html(title)}</code></p>{table.to_html()}</div>",
    }


def explain(source: Any, name: str) -> Any:
    from .explain import explain as build

    return build(name, source)


def save(source: Any, path: str | os.PathLike[str]) -> str:
    from .persistence import save_session

    return save_session(source, path)


def compare_operations(source: Any, a: str, b: str, **options: Any) -> Any:
    from .compare import compare_operations as build

    return build(source, a, b, **options)


def add_alert(profiler: Any, *args: Any, **options: Any) -> Any:
    from .alerts import add_alert as add

    return add(profiler, *args, **options)


def list_alerts(profiler: Any) -> Any:
    from .alerts import list_alerts as listing

    return listing(profiler)


def remove_alert(profiler: Any, rule: Any = None) -> Any:
    from .alerts import remove_alert as remove

    return remove(profiler, rule)
