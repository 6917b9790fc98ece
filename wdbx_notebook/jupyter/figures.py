"""Matplotlib figures in the notebook: the PNG formatter and the comparison app's charts.

:mod:`wdbx_notebook.plots` builds figures with the object API
(``matplotlib.figure.Figure``), never touching pyplot. IPython only learns to
draw figures as PNG when pyplot's inline backend starts (``%matplotlib
inline`` or ``import matplotlib.pyplot``); before that a figure displays as
``<Figure size 800x260 with 1 Axes>``. :func:`enable_figure_display` registers
a PNG formatter for ``Figure`` when the shell has none, so
``plot_comparison()`` as the last line of a cell shows the chart;
``load_ipython_extension`` calls it.

The comparison app draws its chart through a :class:`ChartRenderer`: one
:class:`ChartRequest` in (what to draw, from which snapshot), one
:class:`Chart` out (PNG bytes and a width). :class:`PngChartRenderer`, the
default, keeps one matplotlib figure per chart kind and, when only the
numbers changed (a Live refresh), updates its artists instead of building a
new figure; tests pass a cheap renderer and check the app's state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .. import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..snapshot import Snapshot

__all__ = ["Chart", "ChartRenderer", "ChartRequest", "PngChartRenderer", "enable_figure_display"]


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


# -- the comparison app's charts ---------------------------------------------------------
@dataclass(frozen=True)
class ChartRequest:
    """What the comparison app wants drawn.

    ``names`` are the selected operations with calls, in the app's list order
    (distribution and timeline charts keep that order; bars sort by the
    metric); ``stats`` their statistics and ``snapshot`` the data they come from.
    """

    kind: str  # one of plots.CHART_KINDS
    metric: str  # a key of plots.METRICS (bars only)
    log_scale: bool
    names: tuple[str, ...]
    stats: dict[str, dict[str, Any]] = field(compare=False, repr=False)
    snapshot: Snapshot | None = field(default=None, compare=False, repr=False)
    #: the bars' order, top to bottom (None: worst first by the metric); the app keeps
    #: it under Live so that bars do not jump while calls arrive
    order: tuple[str, ...] | None = None
    #: what a subtitle suggests when operations were left out
    more: str = "select fewer operations to see the others"

    def key(self) -> tuple[Any, ...]:
        """What the chart depends on: equal keys draw equal charts."""
        return (
            self.kind,
            self.metric if self.kind == "bar" else None,
            self.order if self.kind == "bar" else None,
            self.log_scale,
            tuple((name, self.stats[name].get("call_count")) for name in self.names),
        )


@dataclass(frozen=True)
class Chart:
    """A drawn chart: PNG bytes and its width in pixels."""

    png: bytes
    width: int


class ChartRenderer(Protocol):
    """Draws the comparison app's chart."""

    def render(self, request: ChartRequest) -> Chart:
        """The chart for ``request``."""
        ...


def _frozen_layout() -> type:
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    return PlaceHolderLayoutEngine


def _sticky_limits(ax: Any, bars: plots.Bars, log_scale: bool, force: bool = False) -> bool:
    """Set the value axis with room to grow, and keep it while the values fit it well,
    so a Live redraw does not rescale the axis on every call. Returns whether it moved."""
    lower = bars.lower or [0.0] * len(bars.values)
    upper = bars.upper or [0.0] * len(bars.values)
    high = max(v + u for v, u in zip(bars.values, upper, strict=True))
    low_log = max(
        min(v - d for v, d in zip(bars.values, lower, strict=True)), min(bars.values) / 10
    )
    left, right = ax.get_xlim()
    if log_scale:
        if not force and left <= low_log and high <= right and right <= high * 10:
            return False
        ax.set_xlim(low_log / 2, high * 2)
        return True
    if bars.metric.key == "success_rate":
        ax.set_xlim(0, 105)
        return force
    if not force and high <= right and high >= 0.6 * right:
        return False
    ax.set_xlim(0, high * 1.2 if high > 0 else 1.0)
    return True


#: Operations each chart kind draws at most (the app's subtitle says how many were left out).
TOP = {"bar": 25, "box": 20, "violin": 20, "histogram": 8, "timeline": 8, "breakdown": 25}


class PngChartRenderer:
    """Real matplotlib charts as PNG, one reused figure per chart kind.

    A redraw with the same operations and controls (new calls arriving under
    Live) updates the figure's artists (bar widths, error bars, axis range)
    or redraws into the same axes, with the layout computed once; other
    changes build the figure anew.

    >>> from wdbx_notebook import PerformanceProfiler
    >>> profiler = PerformanceProfiler()
    >>> with profiler.profile_block("load"):
    ...     pass
    >>> snap = profiler.snapshot()
    >>> stats = {"load": snap.get_statistics("load")}
    >>> request = ChartRequest("bar", "mean", False, ("load",), stats, snap)
    >>> chart = PngChartRenderer().render(request)
    >>> chart.png[:4], chart.width
    (b'\\x89PNG', 720)
    """

    dpi = 90

    def __init__(self) -> None:
        # kind -> (structure key, figure); one figure per kind, reused while the structure holds
        self._figures: dict[str, tuple[tuple[Any, ...], Figure]] = {}
        self.figures_built = 0  # how many figures were made (the rest were updates)
        self._label_width = 0  # the longest bar label the bar figure's layout made room for
        self._background: tuple[Figure, Any] | None = None  # the bars' figure without bars

    def render(self, request: ChartRequest) -> Chart:
        """Draw ``request`` and return the PNG."""
        if request.kind == "bar":
            fig, png = self._bars(request)
            return Chart(png, round(fig.get_figwidth() * self.dpi))
        if request.kind == "breakdown":
            from ..explain import plot_time_breakdown

            names = list(request.names)[: TOP["breakdown"]]
            if request.snapshot is None or not names:
                fig = self._empty("breakdown", "No successful calls to show yet.")
            else:
                fig = plot_time_breakdown(request.snapshot, names, log_scale=request.log_scale)
            return Chart(self._png(fig), round(fig.get_figwidth() * self.dpi))
        draw = self._timeline if request.kind == "timeline" else self._distribution
        fig = draw(request)
        return Chart(self._png(fig), round(fig.get_figwidth() * self.dpi))

    # -- one figure per kind ---------------------------------------------------------
    def _reuse(self, kind: str, structure: tuple[Any, ...]) -> Figure | None:
        held = self._figures.get(kind)
        return held[1] if held is not None and held[0] == structure else None

    def _new(self, kind: str, structure: tuple[Any, ...], width: float, height: float) -> Figure:
        fig = plots._figure(width, height)
        self._figures[kind] = (structure, fig)
        self.figures_built += 1
        return fig

    def _cleared_axes(
        self, kind: str, structure: tuple[Any, ...], width: float, height: float
    ) -> tuple[Figure, Any]:
        """The figure of this kind and layout with its one axes cleared (a new one if
        the layout changed)."""
        fig = self._reuse(kind, structure)
        if fig is None:
            fig = self._new(kind, structure, width, height)
            return fig, fig.add_subplot()
        ax = fig.axes[0]
        ax.clear()
        return fig, ax

    def _png(self, fig: Figure, animated: list[Any] | None = None) -> bytes:
        """Draw ``fig`` and encode it. With ``animated`` (the bars' figure), those artists
        are drawn over a saved background, so a redraw that only moved them (same labels,
        same axis) repaints just them (:meth:`_blit_png`)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        if fig.dpi != self.dpi:
            fig.set_dpi(self.dpi)
        # one draw (savefig draws twice once a layout engine was set)
        canvas.draw()
        if not isinstance(fig.get_layout_engine(), _frozen_layout()):
            # the layout of this structure is settled: later redraws keep it
            fig.set_layout_engine("none")
        if animated is not None:
            self._background = (fig, canvas.copy_from_bbox(fig.bbox))
            for artist in animated:
                fig.draw_artist(artist)
        return self._encode(canvas)

    def _blit_png(self, fig: Figure, animated: list[Any]) -> bytes | None:
        """Repaint only ``animated`` over the saved background, or None when there is none."""
        held = self._background
        if held is None or held[0] is not fig:
            return None
        canvas = fig.canvas
        canvas.restore_region(held[1])  # type: ignore[attr-defined]
        for artist in animated:
            fig.draw_artist(artist)
        return self._encode(canvas)

    @staticmethod
    def _encode(canvas: Any) -> bytes:
        from PIL import Image

        buffer = io.BytesIO()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        # fast zlib: a chart's PNG is written on every redraw and read once
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def _empty(self, kind: str, message: str) -> Figure:
        fig = self._reuse(kind, ("empty", message))
        if fig is None:
            fig = self._new(kind, ("empty", message), 8.0, 2.6)
            plots._empty(fig, message)
        return fig

    def _bars(self, request: ChartRequest) -> tuple[Figure, bytes]:
        log = request.log_scale
        bars = plots.bar_data(
            request.stats, request.metric, top=TOP["bar"], log_scale=log, order=request.order
        )
        if not bars.names:
            fig = self._empty("bar", "No profiled operations to compare yet.")
            return fig, self._png(fig)
        labels = [plots.shorten(n) for n in bars.names]
        # what the layout depends on: new values, or the same number of bars in another
        # order (a Refresh), reuse the figure; longer labels need a new layout
        structure = (request.metric, log, len(labels), bars.total, request.more)
        held = self._reuse("bar", structure)
        if held is None or max(map(len, labels)) > self._label_width:
            self._label_width = max(map(len, labels))
            fig = self._new("bar", structure, 8.0, max(2.6, 1.3 + 0.3 * len(bars.names)))
            ax = fig.add_subplot()
            plots.draw_bars(ax, bars, log_scale=log, more=request.more)
            _sticky_limits(ax, bars, log, force=True)
            return fig, self._png(fig, self._animate(ax))
        fig = held
        ax = fig.axes[0]
        for patch, value in zip(ax.patches, bars.values, strict=True):
            patch.set_width(value)  # type: ignore[attr-defined]  # the bars are Rectangles
        relabel = [t.get_text() for t in ax.get_yticklabels()] != labels
        if relabel:
            ax.set_yticks(range(len(labels)), labels)
        for container in list(ax.containers):
            if type(container).__name__ == "ErrorbarContainer":
                container.remove()
        if bars.upper is not None and bars.lower is not None:
            ax.errorbar(
                bars.values,
                list(range(len(bars.names))),
                xerr=[bars.lower, bars.upper],
                fmt="none",
                ecolor="0.3",
                capsize=3,
            )
        moved = _sticky_limits(ax, bars, log)
        animated = self._animate(ax)
        if not relabel and not moved:
            png = self._blit_png(fig, animated)
            if png is not None:
                return fig, png
        return fig, self._png(fig, animated)

    @staticmethod
    def _animate(ax: Any) -> list[Any]:
        """The bars' moving parts (bars and whiskers), drawn over the saved background."""
        artists = list(ax.patches)
        for container in ax.containers:
            if type(container).__name__ == "ErrorbarContainer":
                artists.extend(container.get_children())
        for artist in artists:
            artist.set_animated(True)
        return artists

    def _distribution(self, request: ChartRequest) -> Figure:
        kind = request.kind
        snapshot = request.snapshot
        samples = plots.durations_ms(snapshot, request.names) if snapshot is not None else {}
        names = list(samples)[: TOP[kind]]
        if not names:
            return self._empty(kind, "No successful calls to show yet.")
        structure = (request.log_scale, tuple(names), len(samples), request.more)
        height = plots.distribution_height(kind, len(names))
        fig, ax = self._cleared_axes(kind, structure, 8.0, height)
        plots.draw_distribution(
            ax,
            {n: samples[n] for n in names},
            kind=kind,
            log_scale=request.log_scale,
            bins=40,
            total=len(samples),
            more=request.more,
        )
        return fig

    def _timeline(self, request: ChartRequest) -> Figure:
        snapshot = request.snapshot
        series = plots.timeline_series(snapshot, request.names) if snapshot is not None else {}
        names = list(series)[: TOP["timeline"]]
        if not names:
            return self._empty("timeline", "No successful calls to show yet.")
        structure = (request.log_scale, tuple(names), len(series), request.more)
        fig, ax = self._cleared_axes("timeline", structure, 9.0, 4.8)
        plots.draw_timeline(
            ax,
            {n: series[n] for n in names},
            window=None,
            log_scale=request.log_scale,
            total=len(series),
            more=request.more,
        )
        return fig
