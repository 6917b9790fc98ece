"""The hot path: the wrappers that ``profile`` puts around a function.

A successful call costs two clock reads, a thread id, one ``list.extend`` of a
tuple (atomic under the GIL, so threads need no lock) and a length check.

For a function with an ordinary Python signature the wrapper is generated with
that same signature (as the ``decorator`` package does), because packing
``*args, **kwargs`` and unpacking them again costs about 60 ns a call, more
than half of the whole budget. Anything else (builtins, signatures that cannot
be read) gets the generic ``*args, **kwargs`` wrapper, which behaves the same.
``benchmarks/overhead.py`` measures both paths.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import keyword
import linecache
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._memory import UNKNOWN

if TYPE_CHECKING:
    from ._clock import Clock
    from ._memory import MemoryProbe
    from .profiler import _Operation, _State

_PREFIX = "_wdbx_"
_counter = itertools.count()

# One template for both modes; {probe_*} lines vanish when memory is not tracked.
# Every name the body uses is a parameter of _wdbx_make (builtins included), so
# no parameter or function name of the user's can shadow one.
_TEMPLATE = """\
def _wdbx_make(_wdbx_func, _wdbx_state, _wdbx_clock, _wdbx_probe, _wdbx_extend, _wdbx_pending,
               _wdbx_limit, _wdbx_op, _wdbx_fail, _wdbx_ident, _wdbx_unknown, _wdbx_len,
               _wdbx_base_exception{default_names}):
    def _wdbx_wrapper({params}):
        if not _wdbx_state.enabled:
            return _wdbx_func({call})
{probe_before}        _wdbx_start = _wdbx_clock()
        try:
            _wdbx_result = _wdbx_func({call})
        except _wdbx_base_exception as _wdbx_exc:
            _wdbx_end = _wdbx_clock()
            _wdbx_fail(_wdbx_start, _wdbx_end, {fail_memory}, _wdbx_exc)
            raise
        _wdbx_end = _wdbx_clock()
        _wdbx_extend({record})
        if _wdbx_len(_wdbx_pending) >= _wdbx_limit[0]:
            _wdbx_op.flush(False)
        return _wdbx_result
    return _wdbx_wrapper
"""


def _signature_source(func: Callable[..., Any]) -> tuple[str, str, dict[str, Any]] | None:
    """``(parameters, call arguments, defaults)`` source for ``func``, or None if unsuitable."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params: list[str] = []
    call: list[str] = []
    defaults: dict[str, Any] = {}
    kinds = inspect.Parameter
    saw_star = False
    last_positional_only = -1
    for index, param in enumerate(signature.parameters.values()):
        name = param.name
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith(_PREFIX):
            return None
        text = name
        if param.default is not param.empty:
            default_name = f"{_PREFIX}d{index}"
            defaults[default_name] = param.default
            text = f"{name}={default_name}"
        if param.kind is kinds.POSITIONAL_ONLY:
            last_positional_only = len(params)
            call.append(name)
        elif param.kind is kinds.POSITIONAL_OR_KEYWORD:
            call.append(name)
        elif param.kind is kinds.VAR_POSITIONAL:
            saw_star = True
            text = f"*{name}"
            call.append(f"*{name}")
        elif param.kind is kinds.KEYWORD_ONLY:
            if not saw_star:
                params.append("*")
                saw_star = True
            call.append(f"{name}={name}")
        else:  # VAR_KEYWORD
            text = f"**{name}"
            call.append(f"**{name}")
        params.append(text)
    if last_positional_only >= 0:
        params.insert(last_positional_only + 1, "/")
    return ", ".join(params), ", ".join(call), defaults


def _generated(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    state: _State,
) -> Callable[..., Any] | None:
    source = _signature_source(func)
    name = getattr(func, "__name__", "")
    if (
        source is None
        or not name.isidentifier()
        or keyword.iskeyword(name)
        or name.startswith(_PREFIX)
    ):
        return None
    params, call, defaults = source
    if probe is None:
        probe_before, fail_memory = "", "_wdbx_unknown, _wdbx_unknown"
        record, pending = "(_wdbx_start, _wdbx_end, _wdbx_ident())", op.timed
    else:
        probe_before = "        _wdbx_before = _wdbx_probe()\n"
        fail_memory = "_wdbx_before, _wdbx_probe()"
        record, pending = (
            "(_wdbx_start, _wdbx_end, _wdbx_ident(), _wdbx_before, _wdbx_probe())",
            op.measured,
        )
    text = _TEMPLATE.format(
        params=params,
        call=call,
        default_names="".join(f", {d}" for d in defaults),
        probe_before=probe_before,
        fail_memory=fail_memory,
        record=record,
    )
    filename = f"<wdbx_notebook profile wrapper {next(_counter)}>"
    namespace: dict[str, Any] = {}
    exec(compile(text, filename, "exec"), namespace)
    # Let tracebacks through the wrapper show its source line.
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    wrapper = namespace["_wdbx_make"](
        func,
        state,
        clock,
        probe,
        pending.extend,
        pending,
        op.flush_limit,
        op,
        op.record_failure,
        threading.get_ident,
        UNKNOWN,
        len,
        BaseException,
        *defaults.values(),
    )
    # Tracebacks and profilers show the wrapped function's name for this frame.
    wrapper.__code__ = wrapper.__code__.replace(co_name=name)
    return functools.wraps(func)(wrapper)


def _generic(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    state: _State,
) -> Callable[..., Any]:
    """The fallback for callables without a readable signature (builtins, partials).

    One wrapper for both modes: such callables are rare, so a few nanoseconds
    for an unknown-memory probe call matter less than one copy of this code.
    """
    read_memory = probe if probe is not None else _unknown_memory
    pending = op.measured
    extend = pending.extend
    flush_limit = op.flush_limit
    record_failure = op.record_failure
    get_ident = threading.get_ident

    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if not state.enabled:
            return func(*args, **kwargs)
        before = read_memory()
        start = clock()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            end = clock()
            record_failure(start, end, before, read_memory(), exc)
            raise
        end = clock()
        extend((start, end, get_ident(), before, read_memory()))
        if len(pending) >= flush_limit[0]:
            op.flush(False)
        return result

    return timed


def sync_wrapper(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    state: _State,
) -> Callable[..., Any]:
    """The fastest correct wrapper for a plain (non-async) callable."""
    return _generated(func, op, clock, probe, state) or _generic(func, op, clock, probe, state)


def async_wrapper(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    state: _State,
) -> Callable[..., Any]:
    """A coroutine-function wrapper whose duration covers the whole await."""
    # One wrapper for both modes: an await already costs far more than the branch.
    read_memory = probe if probe is not None else _unknown_memory
    pending = op.measured
    extend = pending.extend
    flush_limit = op.flush_limit
    get_ident = threading.get_ident

    @functools.wraps(func)
    async def timed_async(*args: Any, **kwargs: Any) -> Any:
        if not state.enabled:
            return await func(*args, **kwargs)
        before = read_memory()
        start = clock()
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            end = clock()
            op.record_failure(start, end, before, read_memory(), exc)
            raise
        end = clock()
        extend((start, end, get_ident(), before, read_memory()))
        if len(pending) >= flush_limit[0]:
            op.flush(False)
        return result

    return timed_async


def _unknown_memory() -> int:
    return UNKNOWN
