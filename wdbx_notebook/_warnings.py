"""Warning categories of the package, so users can filter them."""

from __future__ import annotations


class WdbxWarning(UserWarning):
    """Base class of every warning wdbx_notebook emits."""


class ProfilerInternalWarning(WdbxWarning):
    """The profiler hit trouble of its own; user code was not affected."""


class PerformanceWarning(WdbxWarning):
    """An alert rule on an operation's performance was crossed."""
