"""One escaping helper per format, cached per name (names repeat on every render).

* :func:`printable` (terminals): control, bidi-override, zero-width and
  lone-surrogate characters are written as visible escapes (``\\u202e``), so a
  name can neither break a row nor pass for another name.
* :func:`escape_markdown`: the same, plus markdown that would change the
  rendering: ``|`` (cells), backticks, ``*``, ``_`` at a word's edge
  (``load_csv`` stays ``load_csv``), brackets, ``~``, ``$`` (Jupyter renders
  ``$...$`` as math); ``<``, ``>`` and ``&`` become entities.
* :func:`escape_html`: the same visible escapes, then :func:`html.escape`.

>>> printable("x\\u202egnp.exe")
'x\\\\u202egnp.exe'
>>> escape_markdown("load_csv $5 | _it_")
'load_csv \\\\$5 \\\\| \\\\_it\\\\_'
>>> escape_html("<b>\\u200b")
'&lt;b&gt;\\\\u200b'
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

__all__ = ["escape_html", "escape_markdown", "printable"]

_CACHE_SIZE = 65_536


def _escape_unprintable(text: str) -> str:
    # Rare path: only names that are not printable reach it, one character at a time
    # (isprintable() covers every category that needs escaping, a regex cannot name them all).
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


@lru_cache(maxsize=_CACHE_SIZE)
def _printable(text: str) -> str:
    return text if text.isprintable() else _escape_unprintable(text)


def printable(name: str, width: int | None = None) -> str:
    """A name safe for a terminal table: unprintable characters escaped, long names
    shortened to ``width`` characters with ``…``.

    >>> printable("two\\nlines"), printable("x" * 10, 5)
    ('two\\\\nlines', 'xxxx…')
    """
    safe = _printable(name if type(name) is str else str(name))
    if width is not None and len(safe) > width:
        safe = safe[: max(width - 1, 0)] + "…"
    return safe


_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]|~$<>&]|(?<![^\W_])_|_(?![^\W_])")
_MARKDOWN_REPLACEMENTS = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_LINE_BREAKS = str.maketrans(dict.fromkeys("\r\n\t\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "))


def _markdown_sub(match: re.Match[str]) -> str:
    ch = match.group()
    return _MARKDOWN_REPLACEMENTS.get(ch) or "\\" + ch


@lru_cache(maxsize=_CACHE_SIZE)
def escape_markdown(text: str) -> str:
    """Text that renders literally in a markdown paragraph or table cell.

    Line breaks fold into spaces (a name cannot end a row); other unprintable
    characters become visible escapes with their backslash escaped.

    >>> escape_markdown("a|b"), escape_markdown("__init__"), escape_markdown("<i>")
    ('a\\\\|b', '\\\\_\\\\_init\\\\_\\\\_', '&lt;i&gt;')
    """
    if not text.isprintable():
        text = _escape_unprintable(text.translate(_LINE_BREAKS))
    return _MARKDOWN_SPECIAL.sub(_markdown_sub, text)


@lru_cache(maxsize=_CACHE_SIZE)
def escape_html(text: str) -> str:
    """Text for an HTML element or attribute: ``<>&"'`` as entities and unprintable
    characters (bidi overrides, zero-width, lone surrogates) as visible escapes.

    >>> escape_html('"x"\\ud800')
    '&quot;x&quot;\\\\ud800'
    """
    return html.escape(_printable(text), quote=True)
