"""Reports: the same numbers rendered as text, markdown or HTML.

>>> from wdbx_notebook import PerformanceProfiler, generate_performance_report
>>> profiler = PerformanceProfiler()
>>> with profiler.profile_block("load"):
...     pass
>>> print(generate_performance_report(profiler=profiler).splitlines()[0])
WDBX PERFORMANCE REPORT
"""

from __future__ import annotations

import os
from typing import Any

from ..snapshot import as_snapshot
from .base import FORMATS, ReportData, StatisticsSource, collect
from .html import render_html
from .markdown import render_markdown
from .table import Table, statistics_table
from .text import render_text

__all__ = [
    "FORMATS",
    "PerformanceReport",
    "ReportData",
    "Table",
    "collect",
    "generate_performance_report",
    "statistics_table",
]

_RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html}


def _check_format(format_type: object) -> str:
    if not isinstance(format_type, str) or format_type not in _RENDERERS:
        raise ValueError(
            f"unknown report format {format_type!r}; choose one of "
            + ", ".join(repr(f) for f in FORMATS)
        )
    return str(format_type)


class PerformanceReport:
    """A report over a profiler's (or a saved session's) statistics at one moment.

    Displays as HTML in Jupyter with a plain-text twin, and converts to every
    format: ``to_text()``, ``to_markdown()``, ``to_html()``, ``save(path)``.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> report = PerformanceReport(PerformanceProfiler())
    >>> "No operations" in report.to_text()
    True
    """

    def __init__(self, source: StatisticsSource, format_type: str = "text") -> None:
        self.format_type = _check_format(format_type)
        self.data: ReportData = collect(source)

    def render(self, format_type: str | None = None) -> str:
        """The report as a string in ``format_type`` (default: this report's format)."""
        return _RENDERERS[_check_format(format_type or self.format_type)](self.data)

    def to_text(self) -> str:
        return render_text(self.data)

    def to_markdown(self) -> str:
        return render_markdown(self.data)

    def to_html(self) -> str:
        return render_html(self.data)

    def save(self, path: str | os.PathLike[str], format_type: str | None = None) -> str:
        """Write the report; the format follows ``format_type``, else the file's suffix
        (``.md``, ``.html``/``.htm``, anything else text). Returns the path written."""
        path = os.fspath(path)
        if format_type is None:
            suffix = os.path.splitext(path)[1].lower()
            format_type = {
                ".md": "markdown",
                ".markdown": "markdown",
                ".html": "html",
                ".htm": "html",
            }.get(suffix, "text")
        body = self.render(format_type)
        if format_type == "html":
            body = (
                '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                "<title>Performance report</title></head><body>\n" + body + "\n</body></html>\n"
            )
        # Renderers escape every name; backslashreplace only guards what they cannot see.
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(body)
        return path

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        bundle = {"text/plain": self.to_text(), "text/html": self.to_html()}
        if self.format_type == "markdown":
            bundle["text/markdown"] = self.to_markdown()
        return bundle


def generate_performance_report(
    format_type: str = "text", profiler: StatisticsSource | None = None
) -> str:
    """A performance report of every profiled operation, as a string.

    Args:
        format_type: ``"text"`` (the default), ``"markdown"`` or ``"html"``.
        profiler: the profiler or saved session to report on; the shared
            profiler when omitted.

    Raises:
        ValueError: ``format_type`` is not one of the three formats.

    >>> report = generate_performance_report("markdown")
    """
    _check_format(format_type)
    return PerformanceReport(as_snapshot(profiler), format_type).render()
