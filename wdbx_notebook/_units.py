"""Units and number formats: the one place numbers become text.

Every view (reports, the statistics table, the widget, comparisons, magics)
formats through these helpers, so one quantity reads the same everywhere:

* durations: ``ns``, ``µs`` (never ``us``), ``ms``, ``s``;
* memory: binary units, labelled so (``B``, ``KiB``, ``MiB``, ``GiB``);
* percentages with one decimal, counts with thousands separators;
* :data:`EMPTY` (an em dash) for a value that does not exist, never ``0.00``.

>>> format_duration_ns(1_500)
'1.50 µs'
>>> format_ms(75.3249), format_ms(None)
('75.32', '—')
>>> format_bytes(3 * 1024 * 1024)
'3.00 MiB'
>>> format_kib(2048), format_percent(99.54), format_count(1247)
('2.00', '99.5', '1,247')

Colours for HTML views live here too (:data:`CSS`): JupyterLab's theme
variables with fallbacks that keep a 4.5:1 contrast on light and dark
backgrounds, so tables, badges and banners stay readable in both themes.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = [
    "CSS",
    "EMPTY",
    "KIB",
    "MIB",
    "format_bytes",
    "format_count",
    "format_duration_ms",
    "format_duration_ns",
    "format_kib",
    "format_ms",
    "format_percent",
    "is_empty",
]

#: What a view shows for a value that does not exist (no successful call, no memory reading).
EMPTY: Final = "—"

KIB: Final = 1024
MIB: Final = 1024 * 1024
GIB: Final = 1024 * 1024 * 1024

_DURATION_STEPS: Final = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"))
_BYTE_STEPS: Final = ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB"))


def is_empty(value: object) -> bool:
    """Whether ``value`` stands for "no figure": ``None`` or NaN.

    >>> is_empty(None), is_empty(float("nan")), is_empty(0.0)
    (True, True, False)
    """
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_ms(value: float | None) -> str:
    """Milliseconds for a table column headed ``(ms)``: two decimals, three significant
    digits below 0.01 ms, :data:`EMPTY` when there is no value.

    >>> format_ms(0.00123), format_ms(0.0), format_ms(float("nan"))
    ('0.00123', '0.00', '—')
    """
    if value is None or value != value:
        return EMPTY
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_duration_ns(value: float | None) -> str:
    """A duration in nanoseconds with the unit that suits it (three significant digits).

    >>> format_duration_ns(850), format_duration_ns(12_345_678), format_duration_ns(2.5e9)
    ('850 ns', '12.3 ms', '2.50 s')
    """
    if value is None or value != value:
        return EMPTY
    size = abs(value)
    for step, unit in _DURATION_STEPS:
        if size >= step:
            return f"{_three_digits(value / step)} {unit}"
    return f"{value:.0f} ns" if size >= 1 or value == 0 else f"{value:.3g} ns"


def format_duration_ms(value: float | None) -> str:
    """A duration given in milliseconds, with the unit that suits it.

    >>> format_duration_ms(0.0004), format_duration_ms(75.32)
    ('400 ns', '75.3 ms')
    """
    if value is None or value != value:
        return EMPTY
    return format_duration_ns(value * 1e6)


def _three_digits(value: float) -> str:
    size = abs(value)
    if size >= 100:
        return f"{value:.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_bytes(value: float | None, *, signed: bool = False) -> str:
    """A memory quantity in bytes with a binary unit (``KiB`` = 1024 bytes).

    >>> format_bytes(512), format_bytes(1536), format_bytes(-3 * 1024**3, signed=True)
    ('512 B', '1.50 KiB', '-3.00 GiB')
    """
    if value is None or value != value:
        return EMPTY
    sign = "+" if signed and value > 0 else ""
    size = abs(value)
    for step, unit in _BYTE_STEPS:
        if size >= step:
            return f"{sign}{value / step:.2f} {unit}"
    return f"{sign}{value:.0f} B"


def format_kib(value_bytes: float | None, *, signed: bool = False) -> str:
    """Bytes as KiB with two decimals, for a column headed ``(KiB)``.

    >>> format_kib(1536), format_kib(None), format_kib(-512, signed=True)
    ('1.50', '—', '-0.50')
    """
    if value_bytes is None or value_bytes != value_bytes:
        return EMPTY
    return f"{value_bytes / KIB:+.2f}" if signed else f"{value_bytes / KIB:.2f}"


def format_percent(value: float | None, *, sign: bool = False) -> str:
    """A percentage with one decimal (no ``%``: columns say it in their header).

    >>> format_percent(100.0), format_percent(None)
    ('100.0', '—')
    """
    if value is None or value != value:
        return EMPTY
    return f"{value:+.1f}" if sign else f"{value:.1f}"


def format_count(value: int | float | None) -> str:
    """A count with thousands separators.

    >>> format_count(1234567), format_count(None)
    ('1,234,567', '—')
    """
    if value is None or value != value:
        return EMPTY
    return f"{int(value):,}"


class CSS:
    """Theme-aware colours for HTML views (JupyterLab variables with safe fallbacks).

    Text keeps the page's own colour (nothing here sets it), tints and bars are
    translucent so they darken a dark page and lighten a light one, and every
    coloured text falls back to a colour with a contrast of at least 4.5:1
    against both a white and a black page (nbconvert exports, VS Code).
    """

    #: Secondary text (units, notes): mid grey, 4.6:1 on white and on black.
    SUBTLE: Final = "var(--jp-ui-font-color2, #757575)"
    BORDER: Final = "var(--jp-border-color2, #757575)"
    #: A failing row: a translucent red over whatever the background is.
    FAIL_TINT: Final = "rgba(235, 0, 0, 0.14)"
    #: Text that signals an error or a warning keeps the page's text colour (bold, or
    #: beside a coloured mark): JupyterLab's own error and warning colours read at 2.2-3.7:1
    #: on its light theme, and no single colour reaches 4.5:1 on both its themes.
    ERROR: Final = "inherit"
    WARNING: Final = "inherit"
    #: The duration bar: translucent orange, so the number on it keeps the text colour.
    BAR: Final = "rgba(245, 158, 11, 0.40)"
    #: The slow badge: an outlined pill in the warning colour, distinct from the name.
    BADGE: Final = (
        "display:inline-block;margin-left:4px;padding:0 5px;border-radius:8px;"
        "border:1px solid var(--jp-warn-color1, #a16a00);color:inherit;"
        "font-size:10px;line-height:14px;font-weight:bold;font-family:sans-serif"
    )
