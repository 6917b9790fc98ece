"""The hot path: the wrappers that ``profile`` puts around a function.

A successful time-only call costs two clock reads, a thread id, one
``list.extend`` of a tuple (atomic under the GIL, so threads need no lock) and
a length check.

For a function with an ordinary Python signature the wrapper is generated with
that same signature (as the ``decorator`` package does), sync or async,
because packing ``*args, **kwargs`` and unpacking them again costs about 60 ns
a call, more than half of the whole budget. Anything else (builtins, partials,
signatures that cannot be read) gets the generic ``*args, **kwargs`` wrapper,
which behaves the same. ``benchmarks/overhead.py`` measures every path.

Wrappers travel: every object a wrapper holds (the globals of a generated
wrapper's own namespace, the closure of a generic one) pickles, either by
reference (builtins, module-level functions) or as a pointer to the same-named
object of the receiving process's shared profiler (the operation, its pending
lists and thresholds, the enabled flag: see :mod:`._operation`). So ``pickle``
ships a module-level profiled function by reference, ``cloudpickle`` ships a
notebook's by value, and either records into the worker's shared profiler,
under the same name and memory mode, at the same cost per call.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import keyword
import linecache
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from . import _memory
from ._memory import UNKNOWN

if TYPE_CHECKING:
    from ._clock import Clock
    from ._memory import MemoryProbe
    from ._operation import State, _Operation

#: The CPU clock of the calling thread, read around each call in the default mode.
thread_cpu_ns = time.thread_time_ns

_get_ident = threading.get_ident

_PREFIX = "_wdbx_"
_counter = itertools.count()

# One template for every mode, sync and async; {before}/{after} lines vanish when
# memory or CPU time is not measured. Every name the body uses is a global of the
# wrapper's own namespace, prefixed so that no parameter name of the user's can
# shadow one (builtins included). Globals, not closure cells: a call copies no
# cells into its frame, which measured about 18 ns less per call.
_TEMPLATE = """\
{async_}def _wdbx_wrapper({params}):
    if not _wdbx_state.enabled:
        return {await_}_wdbx_func({call})
{before}    _wdbx_start = _wdbx_clock()
    try:
        _wdbx_result = {await_}_wdbx_func({call})
    except _wdbx_base_exception as _wdbx_exc:
        _wdbx_end = _wdbx_clock()
{after}        _wdbx_fail(_wdbx_start, _wdbx_end, _wdbx_exc{fail_extra})
        raise
{after_ok}    _wdbx_extend({record})
    if _wdbx_len(_wdbx_pending) >= _wdbx_limit.value:
        _wdbx_op.flush(False)
    return _wdbx_result
"""


def kind_of(memory: bool, cpu: bool) -> str:
    """The pending list (a layout of :data:`._calls.LAYOUTS`) a wrapper of this mode feeds."""
    return ("measured" if memory else "timed") + ("_cpu" if cpu else "")


def _layout(memory: bool, cpu: bool) -> dict[str, str]:
    """The template's mode-dependent lines: which pending list, what is read when.

    Reads nest around the call: memory, CPU, clock ... clock, CPU, memory, so
    neither the memory probe nor the clock counts in the call's CPU time. In
    time-only mode the closing clock read sits inside the record itself.
    """
    before = after = ""
    fields = ["_wdbx_start", "_wdbx_end", "_wdbx_ident()"]
    fail = []
    if memory:
        before += "    _wdbx_mem_before = _wdbx_probe()\n"
    if cpu:
        before += "    _wdbx_cpu_before = _wdbx_cpu()\n"
        after += "    _wdbx_cpu_after = _wdbx_cpu()\n"
    if memory:
        after += "    _wdbx_mem_after = _wdbx_probe()\n"
        fields += ["_wdbx_mem_before", "_wdbx_mem_after"]
        fail += ["_wdbx_mem_before", "_wdbx_mem_after"]
    if cpu:
        fields += ["_wdbx_cpu_before", "_wdbx_cpu_after"]
        fail += (["-1", "-1"] if not memory else []) + ["_wdbx_cpu_before", "_wdbx_cpu_after"]
    if after:
        after_ok = "    _wdbx_end = _wdbx_clock()\n" + after
    else:
        after_ok, fields[1] = "", "_wdbx_clock()"
    return {
        "kind": kind_of(memory, cpu),
        "before": before,
        "after": after.replace("    ", "        "),
        "after_ok": after_ok,
        "record": f"({', '.join(fields)})",
        "fail_extra": "".join(f", {f}" for f in fail),
    }


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


class _TracemallocProbe:
    """The tracemalloc probe as a closure value that restarts tracing where it unpickles.

    A wrapper shipped by value to another process must measure the Python heap
    there too, and tracing is per process.
    """

    __slots__ = ()

    def __call__(self) -> int:
        return _memory._tracemalloc_current()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_tracemalloc_probe_here, ())


def _tracemalloc_probe_here() -> _TracemallocProbe:
    _memory.tracemalloc_probe()  # starts tracing in this process if needed
    return _TRACEMALLOC_PROBE


_TRACEMALLOC_PROBE = _TracemallocProbe()


def _travelling(probe: MemoryProbe | None) -> MemoryProbe | None:
    """``probe`` as a value that does the same job in the process it is unpickled in."""
    if probe is _memory._tracemalloc_current:
        return _TRACEMALLOC_PROBE
    return probe


def _generated(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    cpu: bool,
    state: State,
    is_async: bool = False,
) -> Callable[..., Any] | None:
    source = _signature_source(func)
    name = getattr(func, "__name__", "")
    if (
        source is None
        or not isinstance(name, str)
        or not name.isidentifier()
        or keyword.iskeyword(name)
        or name.startswith(_PREFIX)
    ):
        return None
    params, call, defaults = source
    layout = _layout(probe is not None, cpu)
    text = _TEMPLATE.format(
        async_="async " if is_async else "",
        await_="await " if is_async else "",
        params=params,
        call=call,
        before=layout["before"],
        after=layout["after"],
        after_ok=layout["after_ok"],
        record=layout["record"],
        fail_extra=layout["fail_extra"],
    )
    filename = f"<wdbx_notebook profile wrapper {next(_counter)}>"
    pending = getattr(op, layout["kind"])
    namespace: dict[str, Any] = {
        "_wdbx_func": func,
        "_wdbx_state": state,
        "_wdbx_clock": clock,
        "_wdbx_probe": _travelling(probe),
        "_wdbx_cpu": thread_cpu_ns,
        "_wdbx_extend": pending.extend,
        "_wdbx_pending": pending,
        "_wdbx_limit": op.limits[layout["kind"]],
        "_wdbx_op": op,
        "_wdbx_fail": op.record_failure,
        "_wdbx_ident": _get_ident,
        "_wdbx_len": len,
        "_wdbx_base_exception": BaseException,
        **defaults,
    }
    exec(compile(text, filename, "exec"), namespace)
    # Let tracebacks through the wrapper show its source line.
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    wrapper = namespace["_wdbx_wrapper"]
    # Tracebacks and profilers show the wrapped function's name for this frame.
    wrapper.__code__ = wrapper.__code__.replace(co_name=name)
    return functools.wraps(func)(wrapper)


def _generic(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    cpu: bool,
    state: State,
) -> Callable[..., Any]:
    """The fallback for callables without a readable signature (builtins, partials).

    One wrapper for every mode: such callables are rare, so a few nanoseconds
    for reading "unknown" probes matter less than one copy of this code.
    """
    read_memory = _travelling(probe) or _unknown
    read_cpu = thread_cpu_ns if cpu else _unknown
    pending = op.measured_cpu
    extend = pending.extend
    limit = op.limits["measured_cpu"]
    record_failure = op.record_failure
    get_ident = _get_ident

    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if not state.enabled:
            return func(*args, **kwargs)
        mem_before = read_memory()
        cpu_before = read_cpu()
        start = clock()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            end = clock()
            cpu_after = read_cpu()
            record_failure(start, end, exc, mem_before, read_memory(), cpu_before, cpu_after)
            raise
        end = clock()
        cpu_after = read_cpu()
        extend((start, end, get_ident(), mem_before, read_memory(), cpu_before, cpu_after))
        if len(pending) >= limit.value:
            op.flush(False)
        return result

    return timed


def sync_wrapper(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    cpu: bool,
    state: State,
) -> Callable[..., Any]:
    """The fastest correct wrapper for a plain (non-async) callable."""
    return _generated(func, op, clock, probe, cpu, state) or _generic(
        func, op, clock, probe, cpu, state
    )


def async_wrapper(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    cpu: bool,
    state: State,
) -> Callable[..., Any]:
    """A coroutine-function wrapper whose duration covers the whole await.

    ``cpu`` is ignored: a coroutine never reads CPU time. While it awaits, the
    event loop runs other tasks on the same thread, so the thread's CPU clock
    would charge their work to this call (and a call that awaited a sleep would
    look busy). Time-only coroutines record ``(start, end, thread)`` like sync
    functions and read no memory probe.
    """
    return _generated(func, op, clock, probe, False, state, is_async=True) or _generic_async(
        func, op, clock, probe, state
    )


def _generic_async(
    func: Callable[..., Any],
    op: _Operation,
    clock: Clock,
    probe: MemoryProbe | None,
    state: State,
) -> Callable[..., Any]:
    """The async fallback for callables without a readable signature."""
    read_memory = _travelling(probe) or _unknown
    pending = op.measured
    extend = pending.extend
    limit = op.limits["measured"]
    record_failure = op.record_failure
    get_ident = _get_ident

    @functools.wraps(func)
    async def timed_async(*args: Any, **kwargs: Any) -> Any:
        if not state.enabled:
            return await func(*args, **kwargs)
        mem_before = read_memory()
        start = clock()
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            end = clock()
            record_failure(start, end, exc, mem_before, read_memory())
            raise
        end = clock()
        extend((start, end, get_ident(), mem_before, read_memory()))
        if len(pending) >= limit.value:
            op.flush(False)
        return result

    return timed_async


def _unknown() -> int:
    return UNKNOWN


class ProfileBlock:
    """A timed block: ``with profiler.profile_block("name"):`` or ``async with``.

    After the block, ``duration_ms`` and ``memory_delta`` (bytes, or ``None``
    when memory was not measured) hold this run's figures.

    A block object can be kept and entered again and again (``block =
    profile_block("step")`` once, then ``with block:`` in a loop): each run is
    one call, with no name check or lookup per run. One object times one run at
    a time: nested or concurrent runs each need their own block.
    """

    # Everything a run needs sits in one tuple shared by every block of the same
    # operation and mode, so making a block is one allocation and one store.
    __slots__ = ("_cfg", "_end", "_start")

    _cfg: tuple[Any, ...]
    _start: int | None
    _end: int | None

    def __new__(
        cls,
        op: _Operation,
        clock: Clock,
        probe: MemoryProbe | None,
        state: State,
        cpu: bool = False,
    ) -> ProfileBlock:
        return new_block(block_spec(op, clock, probe, state, cpu))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # __new__ made it whole

    def __reduce__(self) -> tuple[Any, ...]:
        # A kept block travels like a wrapper: it records into the same-named
        # operation of the receiving process's shared profiler.
        return (_rebuilt_block, (type(self), self._cfg))

    def __enter__(self) -> ProfileBlock:  # pragma: no cover - every block is a subclass
        raise NotImplementedError

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        raise NotImplementedError  # pragma: no cover

    async def __aenter__(self) -> ProfileBlock:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        return self.__exit__(exc_type, exc, tb)

    @property
    def duration_ms(self) -> float | None:
        """This run's duration in milliseconds, once the block has ended."""
        start, end = getattr(self, "_start", None), getattr(self, "_end", None)
        if start is None or end is None:
            return None
        return (end - start) / 1e6

    @property
    def memory_delta(self) -> int | None:
        """This run's change of memory in bytes, or ``None`` when not measured."""
        return None


class _TimedBlock(ProfileBlock):
    """Time only: a clock read on entry; on exit a clock read and a 3-tuple."""

    __slots__ = ()

    def __enter__(self) -> ProfileBlock:
        cfg = self._cfg
        self._start = cfg[0]() if cfg[1].enabled else None
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        start = self._start
        if start is None:
            return False
        clock, _, pending, limit, op = self._cfg
        self._end = end = clock()
        if exc is not None:
            op.record_failure(start, end, exc)
            return False
        pending.extend((start, end, _get_ident()))
        if len(pending) >= limit.value:
            op.flush(False)
        return False


class _MeasuredBlock(ProfileBlock):
    """Memory and/or CPU time too (the probes cost far more than this code)."""

    __slots__ = ("_cpu_before", "_mem_after", "_mem_before")

    def __enter__(self) -> ProfileBlock:
        clock, state, _, _, _, probe, cpu = self._cfg
        if not state.enabled:
            self._start = None
            return self
        self._mem_before = probe() if probe is not None else UNKNOWN
        self._mem_after = UNKNOWN
        self._cpu_before = thread_cpu_ns() if cpu else UNKNOWN
        self._start = clock()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        # Other tasks run on this thread while an ``async with`` block awaits, so its CPU
        # clock would count their work too: the block's CPU time is unknown, as for
        # async functions.
        self._cpu_before = UNKNOWN
        return self.__exit__(exc_type, exc, tb)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        start = self._start
        if start is None:
            return False
        clock, _, pending, limit, op, probe, cpu = self._cfg
        self._end = end = clock()
        cpu_before = self._cpu_before
        cpu_after = thread_cpu_ns() if cpu else UNKNOWN
        mem_before = self._mem_before
        self._mem_after = mem_after = probe() if probe is not None else UNKNOWN
        if exc is not None:
            op.record_failure(start, end, exc, mem_before, mem_after, cpu_before, cpu_after)
            return False
        if probe is None:  # CPU time only
            pending.extend((start, end, _get_ident(), cpu_before, cpu_after))
        elif cpu:
            pending.extend((start, end, _get_ident(), mem_before, mem_after, cpu_before, cpu_after))
        else:
            pending.extend((start, end, _get_ident(), mem_before, mem_after))
        if len(pending) >= limit.value:
            op.flush(False)
        return False

    @property
    def memory_delta(self) -> int | None:
        """This run's change of memory in bytes, or ``None`` when not measured."""
        before = getattr(self, "_mem_before", UNKNOWN)
        after = getattr(self, "_mem_after", UNKNOWN)
        if before == UNKNOWN or after == UNKNOWN:
            return None
        return int(after - before)


def _rebuilt_block(cls: type[ProfileBlock], cfg: tuple[Any, ...]) -> ProfileBlock:
    return new_block((cls, cfg))


def block_spec(
    op: _Operation, clock: Clock, probe: MemoryProbe | None, state: State, cpu: bool
) -> tuple[type[ProfileBlock], tuple[Any, ...]]:
    """``(block class, its cfg)`` for blocks of one operation and mode.

    A block is ``object.__new__(cls)`` with ``_cfg`` set: ``profile_block(name)``
    called afresh for each run looks the pair up by name and does just that.
    """
    kind = kind_of(probe is not None, cpu)
    pending, limit = getattr(op, kind), op.limits[kind]
    if probe is None and not cpu:
        return _TimedBlock, (clock, state, pending, limit, op)
    return _MeasuredBlock, (clock, state, pending, limit, op, _travelling(probe), cpu)


def new_block(spec: tuple[type[ProfileBlock], tuple[Any, ...]]) -> ProfileBlock:
    """A block of ``spec`` (see :func:`block_spec`)."""
    block = object.__new__(spec[0])
    block._cfg = spec[1]
    return block
