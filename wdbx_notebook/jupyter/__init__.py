"""The Jupyter layer: magics, rich display and widgets (the only code importing IPython).

``%load_ext wdbx_notebook`` calls :func:`load_ipython_extension`, which registers
the magics (and their input transformer), a PNG formatter for matplotlib
figures and the alert banner listener; ``%unload_ext wdbx_notebook`` calls
:func:`unload_ipython_extension`, which removes them again.

Example (an IPython shell of your own; tests/test_magics.py runs this)::

    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
    load_ipython_extension(ip)
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_REGISTRY_KEY = "WdbxMagics"
_FIGURE = ("matplotlib.figure", "Figure")


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the figure formatter and the alert banners (once)."""
    from ..alerts import add_alert_listener
    from .banners import show_alert_banner
    from .magics import WdbxMagics

    if _REGISTRY_KEY in ipython.magics_manager.registry:
        return
    magics = WdbxMagics(ipython)
    ipython.register_magics(magics)
    magics.install()
    _register_figure_png(ipython)
    add_alert_listener(show_alert_banner)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` registered."""
    from ..alerts import remove_alert_listener
    from .banners import show_alert_banner

    manager = ipython.magics_manager
    magics = manager.registry.pop(_REGISTRY_KEY, None)
    if magics is None:
        return
    magics.close()
    # IPython has no unregister call: drop each of our entries from its tables.
    for table in manager.magics.values():
        for name in list(table):
            if getattr(table[name], "__self__", None) is magics:
                del table[name]
    _unregister_figure_png(ipython)
    remove_alert_listener(show_alert_banner)


def _figure_png(fig: Any) -> bytes:
    from .figures import _figure_png as render

    return render(fig)


def _register_figure_png(ipython: Any) -> None:
    """Show the package's figures (built without pyplot) as PNG, unless something
    already does (the inline backend's formatter wins). Registered by name, so
    matplotlib loads with the first figure, not with the extension."""
    png = ipython.display_formatter.formatters["image/png"]
    if _FIGURE in png.deferred_printers:
        return
    import sys

    figure_module = sys.modules.get(_FIGURE[0])
    if figure_module is not None:
        try:
            png.lookup_by_type(figure_module.Figure)
            return
        except KeyError:
            pass
    png.for_type_by_name(*_FIGURE, _figure_png)


def _unregister_figure_png(ipython: Any) -> None:
    png = ipython.display_formatter.formatters["image/png"]
    if png.deferred_printers.get(_FIGURE) is _figure_png:
        del png.deferred_printers[_FIGURE]
    for cls, printer in list(png.type_printers.items()):
        if printer is _figure_png:
            del png.type_printers[cls]
