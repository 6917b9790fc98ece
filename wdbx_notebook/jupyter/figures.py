"""Let IPython show the package's matplotlib figures as images.

:mod:`wdbx_notebook.plots` builds figures with the object API
(``matplotlib.figure.Figure``), never touching pyplot. IPython only learns to
draw figures as PNG when pyplot's inline backend starts (``%matplotlib
inline`` or ``import matplotlib.pyplot``); before that a figure displays as
``<Figure size 800x260 with 1 Axes>``. :func:`enable_figure_display` registers
a PNG formatter for ``Figure`` when the shell has none, so
``plot_comparison()`` as the last line of a cell shows the chart.
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["enable_figure_display"]


def _figure_png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def enable_figure_display() -> bool:
    """Register a PNG formatter for matplotlib figures in the running IPython shell,
    unless one is registered already (the inline backend's wins). Returns whether a
    shell now shows figures as images; never raises.

    >>> enable_figure_display()  # outside IPython there is nothing to do
    False
    """
    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure

        shell = get_ipython()
        if shell is None:
            return False
        png = shell.display_formatter.formatters["image/png"]
        try:
            png.lookup_by_type(Figure)
        except KeyError:
            png.for_type(Figure, _figure_png)
        return True
    except Exception:  # display is a convenience: never fail the plot over it
        return False
