"""Units: the one place numbers become text (µs not us, KiB where the number is /1024, "—")."""

from __future__ import annotations

import math

import pytest

from wdbx_notebook import _units
from wdbx_notebook._units import (
    EMPTY,
    format_bytes,
    format_count,
    format_duration_ms,
    format_duration_ns,
    format_kib,
    format_ms,
    format_percent,
    is_empty,
)


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0 ns"),
        (850, "850 ns"),
        (999, "999 ns"),
        (1_000, "1.00 µs"),
        (1_500, "1.50 µs"),
        (12_345, "12.3 µs"),
        (999_000, "999 µs"),
        (1_000_000, "1.00 ms"),
        (75_320_000, "75.3 ms"),
        (2_500_000_000, "2.50 s"),
        (125_000_000_000, "125 s"),
    ],
)
def test_durations_pick_their_unit_and_write_micro_as_mu(ns: int, text: str) -> None:
    assert format_duration_ns(ns) == text
    assert format_duration_ms(ns / 1e6) == text
    assert "us" not in format_duration_ns(ns).replace("µs", "")


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0 B"), (512, "512 B"), (1024, "1.00 KiB"), (1536, "1.50 KiB"), (3 * 2**20, "3.00 MiB")],
)
def test_memory_is_binary_and_says_so(value: int, text: str) -> None:
    assert format_bytes(value) == text
    assert format_bytes(5 * 2**30) == "5.00 GiB"
    assert format_bytes(2048, signed=True) == "+2.00 KiB"
    assert format_bytes(-2048, signed=True) == "-2.00 KiB"


def test_table_columns_in_fixed_units() -> None:
    assert format_ms(75.3249) == "75.32"
    assert format_ms(0.0) == "0.00"
    assert format_ms(0.00123) == "0.00123"  # tiny values keep three significant digits
    assert format_kib(1536) == "1.50"  # a "(KiB)" column holds bytes / 1024
    assert format_kib(-512, signed=True) == "-0.50"
    assert format_percent(99.54) == "99.5"
    assert format_count(1_234_567) == "1,234,567"


@pytest.mark.parametrize("empty", [None, math.nan])
def test_a_missing_figure_is_a_dash_never_zero(empty: float | None) -> None:
    assert is_empty(empty)
    for fmt in (
        format_ms,
        format_duration_ns,
        format_duration_ms,
        format_bytes,
        format_kib,
        format_percent,
        format_count,
    ):
        assert fmt(empty) == EMPTY == "—"
    assert not is_empty(0.0)


def test_css_colours_are_theme_variables_with_contrasting_fallbacks() -> None:
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    def contrast(a: float, b: float) -> float:
        high, low = max(a, b), min(a, b)
        return (high + 0.05) / (low + 0.05)

    for name in ("SUBTLE", "BORDER", "ERROR", "WARNING"):
        value = getattr(_units.CSS, name)
        if value == "inherit":  # the page's own text colour: readable in every theme
            continue
        assert value.startswith("var(--jp-"), name
        fallback = value.rsplit(",", 1)[1].strip(" )")
        lum = luminance(fallback)
        # Readable on a white page and on a black one (nbconvert exports, VS Code).
        assert contrast(lum, 1.0) >= 4.5 and contrast(lum, 0.0) >= 4.5, (name, fallback)
    # Tints and bars are translucent: they keep the theme's own text colour readable.
    assert _units.CSS.FAIL_TINT.startswith("rgba(") and _units.CSS.BAR.startswith("rgba(")
