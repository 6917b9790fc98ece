"""Where the layers above the core plug in, so that the core imports nothing above it.

The profiler's and snapshot's conveniences (``report()``, ``to_dataframe()``,
``save()``, ``add_alert()``, ...) are implemented by :mod:`._views`, above every
reader. The package's ``__init__`` installs that module here when
``wdbx_notebook`` is imported (which any import of a submodule does first), and
the core calls ``views()``: a dependency handed down, not an import going up.
"""

from __future__ import annotations

from typing import Any

_views: Any = None


def install_views(module: Any) -> None:
    """Called once by ``wdbx_notebook/__init__.py`` with :mod:`wdbx_notebook._views`."""
    global _views
    _views = module


def views() -> Any:
    """The installed views module (see the module docstring)."""
    if _views is None:  # pragma: no cover - the package's __init__ always installs it
        raise RuntimeError("wdbx_notebook's views are not installed: import wdbx_notebook first")
    return _views
