"""Facts about this machine and interpreter, stored with every snapshot and session file."""

from __future__ import annotations

import os
import platform
from typing import Any

_PACKAGES = ("wdbx_notebook", "numpy", "pandas")
_cache: tuple[int, dict[str, Any]] | None = None


def _package_version(name: str) -> str | None:
    # importlib.metadata reads the installed metadata without importing the
    # package, so taking facts never drags pandas into a plain-Python process.
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_facts() -> dict[str, Any]:
    """Python, platform, CPU count, pid and package versions (read once per process).

    >>> sorted(environment_facts())[:3]
    ['cpu_count', 'implementation', 'machine']
    """
    global _cache
    pid = os.getpid()
    if _cache is None or _cache[0] != pid:
        _cache = (
            pid,
            {
                "python": platform.python_version(),
                "implementation": platform.python_implementation(),
                "platform": platform.platform(),
                "machine": platform.machine(),
                "cpu_count": os.cpu_count(),
                "pid": pid,
                "packages": {name: _package_version(name) for name in _PACKAGES},
            },
        )
    facts = dict(_cache[1])
    facts["packages"] = dict(facts["packages"])
    return facts
