"""The Jupyter layer: magics, rich display and widgets (the only code importing IPython).

``%load_ext wdbx_notebook`` calls :func:`load_ipython_extension`;
``%unload_ext wdbx_notebook`` calls :func:`unload_ipython_extension`, which
removes the magics, the autoprofile hooks and the input transformer again.

Example (an IPython shell of your own; tests/test_magics.py runs this)::

    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
    load_ipython_extension(ip)
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_REGISTRY_KEY = "WdbxMagics"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics with ``ipython`` (a no-op when they already are)."""
    from .magics import WdbxMagics

    if _REGISTRY_KEY in ipython.magics_manager.registry:
        return
    magics = WdbxMagics(ipython)
    ipython.register_magics(magics)
    magics.install()


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics registered by :func:`load_ipython_extension`."""
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
