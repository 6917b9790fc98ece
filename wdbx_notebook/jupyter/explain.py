"""``%wdbx_explain NAME [--slowest N]``: why one operation is slow and varies.

The magic in :mod:`.magics` parses the line and calls :func:`explain_magic`; the
work is :func:`wdbx_notebook.explain.explain`'s. The returned
:class:`~wdbx_notebook.explain.Explanation` displays as HTML in a notebook and as
text in a terminal; ``.to_dataframe()`` holds the slowest calls.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..explain import Explanation, explain
from ..profiler import UnknownOperationError

__all__ = ["explain_magic"]


def explain_magic(profiler: Any, name: str, slowest: int = 10) -> Explanation:
    """The explanation of ``name`` in ``profiler``; a ``UsageError`` for an unknown
    name (suggesting close ones) or a bad count.

    Example (in a notebook)::

        %wdbx_explain load_data
        why = %wdbx_explain load_data --slowest 20
        why.to_dataframe()
    """
    if slowest < 1:
        raise UsageError(f"--slowest must be at least 1, got {slowest}")
    try:
        return explain(name, profiler, slowest=slowest)
    except UnknownOperationError as err:
        raise UsageError(str(err)) from None
