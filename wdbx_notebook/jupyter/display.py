"""Rich display for notebooks: mimebundles with a plain-text twin always present.

Nothing here imports IPython at module level, so ``profiler._repr_mimebundle_``
works (and is testable) without a running shell.

>>> from wdbx_notebook import PerformanceProfiler
>>> profiler = PerformanceProfiler(track_memory=False)
>>> with profiler.profile_block("load"):
...     pass
>>> sorted(profiler_bundle(profiler))
['text/html', 'text/plain']

The statistics table is :func:`wdbx_notebook.report.table.statistics_table`
(the one table model every view shares): a translucent bar on the mean
duration, a *slow* badge apart from the name (slow is decided over every
operation, not the rows shown), failing rows tinted and their exception types
named, "—" where a figure does not exist, and the stability warnings as one
summary line with the details on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._units import CSS
from ..report.table import DEFAULT_COLUMNS, statistics_table

__all__ = [
    "StatisticsTable",
    "markdown_bundle",
    "profiler_bundle",
    "statistics_bundle",
    "statistics_html",
    "statistics_text",
]

#: The columns of :meth:`StatisticsTable.styled`: the table's, less the standard deviation.
STYLED_COLUMNS = tuple(key for key in DEFAULT_COLUMNS if key != "std_duration_ms")


def statistics_text(
    source: Any, names: Sequence[str] | None = None, *, width: int | None = None
) -> str:
    """The statistics table as plain text that fits ``width`` columns (default: the
    terminal's), the twin of :func:`statistics_html`.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_text(PerformanceProfiler())
    'No operations have been profiled yet.'
    """
    return statistics_table(source, names).to_text(width)


def statistics_html(source: Any, names: Sequence[str] | None = None) -> str:
    """The statistics table as a self-contained HTML fragment (inline, theme-aware styles).

    Every operation name and error type is escaped (bidi overrides, zero-width
    characters and lone surrogates included).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> statistics_html(PerformanceProfiler())
    '<div class="wdbx-stats"><p>No operations have been profiled yet.</p></div>'
    """
    return statistics_table(source, names).to_html()


def statistics_bundle(source: Any, names: Sequence[str] | None = None) -> dict[str, str]:
    """``{"text/plain": ..., "text/html": ...}`` for the statistics table.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> sorted(statistics_bundle(PerformanceProfiler()))
    ['text/html', 'text/plain']
    """
    table = statistics_table(source, names)  # built once for both twins
    return {"text/plain": table.to_text(), "text/html": table.to_html()}


def profiler_bundle(profiler: Any) -> dict[str, str]:
    """The profiler's own display: its state and its statistics table.

    Called by ``PerformanceProfiler._repr_mimebundle_``; ``text/plain`` is
    always present, so terminals, VS Code and nbconvert read it too.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler_bundle(PerformanceProfiler())["text/plain"].splitlines()[0]
    '<PerformanceProfiler enabled, 0 operations>'
    """
    from .._views import mimebundle

    return mimebundle(profiler)


def markdown_bundle(markdown: str) -> dict[str, str]:
    """Markdown for front ends that render it, the same text as the plain twin.

    >>> markdown_bundle("# Title")["text/plain"]
    '# Title'
    """
    return {"text/markdown": markdown, "text/plain": markdown}


class StatisticsTable:
    """The statistics table of some operations, displayed as HTML with a text twin.

    What ``%wdbx_stats`` returns; ``.dataframe`` is the same numbers as a
    DataFrame (see :func:`wdbx_notebook.frames.statistics_dataframe`).

    >>> from wdbx_notebook import PerformanceProfiler
    >>> table = StatisticsTable(PerformanceProfiler())
    >>> table.dataframe.empty
    True
    """

    def __init__(self, source: Any, names: Sequence[str] | None = None) -> None:
        self.source = source
        # Read once now, so an unknown name fails here, at the call that named it.
        self.table = statistics_table(source, names)
        self.names = [row.name for row in self.table.rows]

    @property
    def dataframe(self) -> Any:
        """The table's numbers as a DataFrame indexed by ``operation``."""
        from ..frames import statistics_dataframe

        return statistics_dataframe(self.source, self.names)

    def styled(self) -> Any:
        """The main columns as a pandas ``Styler``: a bar on the mean duration, failing
        operations tinted, names HTML-escaped (for ``.to_html()`` or ``.to_excel()``).

        >>> from wdbx_notebook import PerformanceProfiler
        >>> StatisticsTable(PerformanceProfiler()).styled().data.empty
        True
        """
        frame = self.dataframe[list(STYLED_COLUMNS)]

        def tint_failures(row: Any) -> list[str]:
            # The mean keeps its bar; every other cell of a failing operation is tinted.
            style = f"background-color: {CSS.FAIL_TINT}" if row["error_count"] else ""
            return ["" if column == "avg_duration_ms" else style for column in row.index]

        styler = frame.style.format(precision=3, escape="html").format_index(escape="html")
        if not frame.empty:
            styler = styler.bar(subset=["avg_duration_ms"], color=CSS.BAR, vmin=0)
            styler = styler.apply(tint_failures, axis=1)
        return styler

    def to_text(self, width: int | None = None) -> str:
        """The table as plain text fitting ``width`` columns (default: the terminal's)."""
        return self.table.to_text(width)

    def to_html(self) -> str:
        return self.table.to_html()

    def to_markdown(self) -> str:
        return self.table.to_markdown()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.table.to_text(), "text/html": self.table.to_html()}

    def __repr__(self) -> str:
        return self.table.to_text()
