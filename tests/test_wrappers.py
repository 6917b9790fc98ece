"""The hot path's wrappers are transparent: a profiled function is the same function to its
callers (signature, identity, defaults, errors, tracebacks), in every mode, sync and async,
generated or generic, and a profile_block object can be kept and entered again."""

from __future__ import annotations

import asyncio
import functools
import inspect
import traceback
from typing import Any

import pytest

from wdbx_notebook import PerformanceProfiler, ProfileBlock
from wdbx_notebook._calls import LAYOUTS

MODES = [
    pytest.param({"track_memory": False}, id="time-only"),
    pytest.param({"track_memory": False, "track_cpu": True}, id="time+cpu"),
    pytest.param({}, id="default"),
    pytest.param({"track_cpu": False}, id="memory-only"),
]


def _own_parameters(func: Any) -> list[tuple[str, Any, Any]]:
    """The parameters of ``func``'s own code, not following ``__wrapped__``."""
    signature = inspect.signature(func, follow_wrapped=False)
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


SENTINEL = object()


def original(
    a: int, /, b: str = "x", *args: int, c: float, d: object = SENTINEL, **kw: object
) -> str:
    """Docs of the original."""
    return f"{a}{b}{args}{c}{d is SENTINEL}{sorted(kw)}"


class Holder:
    def method(self, x: int, *, scale: int = 3) -> int:
        """A method's docs."""
        return x * scale


async def fetch(delay: float, /, label: str = "done", *, times: int = 1) -> str:
    """Async docs."""
    await asyncio.sleep(delay)
    return label * times


# -- identity and signature --------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_generated_wrapper_has_the_functions_own_signature_and_identity(mode):
    profiler = PerformanceProfiler(**mode)
    wrapped = profiler.profile("sig")(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Docs of the original."
    assert wrapped.__module__ == original.__module__
    assert wrapped.__wrapped__ is original
    assert wrapped.__annotations__ == original.__annotations__
    assert inspect.signature(wrapped) == inspect.signature(original)
    # Not just what __wrapped__ says: the wrapper's own code takes the same parameters...
    assert _own_parameters(wrapped) == _own_parameters(original)
    # ...with the very same default objects (not copies).
    assert wrapped.__defaults__ == original.__defaults__
    assert wrapped.__kwdefaults__["d"] is SENTINEL
    assert wrapped(1, c=2.0) == original(1, c=2.0)
    assert wrapped(1, "y", 7, 8, c=2.5, d=9, z=1, y=2) == original(
        1, "y", 7, 8, c=2.5, d=9, z=1, y=2
    )
    assert profiler.get_statistics("sig")["call_count"] == 2


@pytest.mark.parametrize(
    "bad_call",
    [
        pytest.param(lambda f: f(a=1, c=2.0), id="positional-only passed by keyword"),
        pytest.param(lambda f: f(1), id="missing keyword-only"),
        pytest.param(lambda f: f(1, "b", c=1, b="again"), id="b twice"),
        pytest.param(lambda f: f(), id="nothing"),
    ],
)
def test_a_bad_call_fails_exactly_as_it_would_unwrapped_and_records_nothing(bad_call):
    profiler = PerformanceProfiler(track_memory=False)
    wrapped = profiler.profile("bad_calls")(original)
    with pytest.raises(TypeError) as plain:
        bad_call(original)
    with pytest.raises(TypeError) as through_wrapper:
        bad_call(wrapped)
    assert str(through_wrapper.value) == str(plain.value)
    assert profiler.get_all_operations() == []


def test_methods_keep_binding_and_keyword_only_defaults():
    profiler = PerformanceProfiler(track_memory=False)

    class Scaled(Holder):
        method = profiler.profile("method")(Holder.method)

    assert Scaled().method(2) == 6
    assert Scaled().method(2, scale=5) == 10
    assert Scaled.method.__qualname__ == "Holder.method"
    assert Scaled.method.__kwdefaults__ == {"scale": 3}
    assert profiler.get_statistics("method")["call_count"] == 2


@pytest.mark.parametrize("mode", MODES)
def test_an_async_wrapper_is_generated_with_the_signature_and_stays_a_coroutine_function(mode):
    profiler = PerformanceProfiler(**mode)
    wrapped = profiler.profile("fetch")(fetch)
    assert inspect.iscoroutinefunction(wrapped)
    assert wrapped.__name__ == "fetch" and wrapped.__doc__ == "Async docs."
    assert wrapped.__wrapped__ is fetch
    assert _own_parameters(wrapped) == _own_parameters(fetch)
    coro = wrapped(0, "ab", times=2)
    assert coro.__qualname__ == "fetch"
    assert asyncio.run(coro) == "abab"
    with pytest.raises(TypeError) as through_wrapper:
        wrapped(delay=0)  # positional-only
    with pytest.raises(TypeError) as plain:
        fetch(delay=0)
    assert str(through_wrapper.value) == str(plain.value)
    assert profiler.get_statistics("fetch")["call_count"] == 1


def test_async_time_only_records_three_fields_and_reads_no_memory_or_cpu(monkeypatch):
    from wdbx_notebook import _wrappers

    def no_cpu_read() -> int:
        raise AssertionError("an async wrapper must not read the thread's CPU clock")

    monkeypatch.setattr(_wrappers, "thread_cpu_ns", no_cpu_read)
    profiler = PerformanceProfiler(track_memory=False, track_cpu=True)
    wrapped = profiler.profile("async_lean")(fetch)
    op = profiler._operation("async_lean")
    asyncio.run(wrapped(0))
    assert len(op.timed) == len(LAYOUTS["timed"]) == 3
    assert not (op.timed_cpu or op.measured or op.measured_cpu)
    stats = profiler.get_statistics("async_lean")
    assert stats["call_count"] == 1 and stats["memory_call_count"] == 0


def test_async_in_the_default_mode_measures_memory_but_not_cpu():
    profiler = PerformanceProfiler()
    wrapped = profiler.profile("async_default")(fetch)
    op = profiler._operation("async_default")
    asyncio.run(wrapped(0))
    assert len(op.measured) == len(LAYOUTS["measured"])
    stats = profiler.get_statistics("async_default")
    assert stats["memory_call_count"] == 1
    assert stats.get("avg_cpu_ms") is None  # never measured for coroutines


def test_the_sync_time_only_path_records_three_fields_per_call():
    profiler = PerformanceProfiler(track_memory=False)
    wrapped = profiler.profile("lean")(original)
    op = profiler._operation("lean")
    wrapped(1, c=1.0)
    wrapped(2, c=1.0)
    assert len(op.timed) == 6
    assert not (op.timed_cpu or op.measured or op.measured_cpu)


def test_generic_wrappers_are_transparent_too():
    profiler = PerformanceProfiler(track_memory=False)
    power = functools.partial(pow, 2)
    wrapped = profiler.profile("partial")(power)
    assert wrapped(10) == 1024
    assert wrapped.__wrapped__ is power

    async def add(x: int, y: int) -> int:
        return x + y

    wrapped_async = profiler.profile("async_partial")(functools.partial(add, 1))
    assert inspect.iscoroutinefunction(wrapped_async)
    assert asyncio.run(wrapped_async(2)) == 3
    assert profiler.get_statistics("partial")["call_count"] == 1
    assert profiler.get_statistics("async_partial")["call_count"] == 1


# -- exceptions ----------------------------------------------------------------------
def _deep_failure(depth: int) -> None:
    if depth == 0:
        raise LookupError("deep")
    _deep_failure(depth - 1)


def _frames(exc: BaseException) -> list[tuple[str, int | None]]:
    return [(f.name, f.lineno) for f in traceback.extract_tb(exc.__traceback__)]


@pytest.mark.parametrize("mode", MODES)
def test_an_exception_is_the_same_object_with_the_same_traceback(mode):
    profiler = PerformanceProfiler(**mode)
    wrapped = profiler.profile("deep")(_deep_failure)
    with pytest.raises(LookupError) as plain:
        _deep_failure(3)
    with pytest.raises(LookupError) as through_wrapper:
        wrapped(3)
    # The function's own frames, in order, then nothing else: the wrapper adds one
    # frame (named after the function) in front of them and changes nothing below.
    plain_frames, wrapped_frames = _frames(plain.value), _frames(through_wrapper.value)
    assert wrapped_frames[-len(plain_frames) + 1 :] == plain_frames[-len(plain_frames) + 1 :]
    names = [name for name, _ in wrapped_frames]
    assert names.count("_deep_failure") == 5  # the wrapper's frame and the four levels
    assert profiler.get_statistics("deep")["errors_by_type"] == {"LookupError": 1}

    error = ValueError("the very object")

    def raise_it() -> None:
        raise error

    with pytest.raises(ValueError) as caught:
        profiler.profile("same_object")(raise_it)()
    assert caught.value is error
    assert _frames(caught.value)[-1][0] == "raise_it"


def test_an_async_exception_is_the_same_object():
    profiler = PerformanceProfiler(track_memory=False)
    error = KeyError("missing")

    @profiler.profile("async_fail")
    async def fail() -> None:
        await asyncio.sleep(0)
        raise error

    with pytest.raises(KeyError) as caught:
        asyncio.run(fail())
    assert caught.value is error
    assert _frames(caught.value)[-1][0] == "fail"
    assert profiler.get_statistics("async_fail")["errors_by_type"] == {"KeyError": 1}


# -- disabled ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_disabled_profiler_records_nothing_on_any_path(mode):
    profiler = PerformanceProfiler(enabled=False, **mode)
    sync = profiler.profile("sync")(original)
    generic = profiler.profile("generic")(functools.partial(pow, 2))
    coroutine = profiler.profile("coroutine")(fetch)
    kept = profiler.profile_block("kept")

    def failing() -> None:
        raise RuntimeError

    fails = profiler.profile("fails")(failing)
    assert sync(1, c=1.0) == original(1, c=1.0)
    assert generic(3) == 8
    assert asyncio.run(coroutine(0)) == "done"
    with kept:
        pass
    with profiler.profile_block("afresh") as afresh:
        pass
    with pytest.raises(RuntimeError):
        fails()
    assert kept.duration_ms is None and afresh.duration_ms is None
    assert profiler.get_all_operations() == []
    for name in ("sync", "generic", "coroutine", "kept", "afresh", "fails"):
        op = profiler._operation(name)
        assert not op.has_pending()
        assert profiler.get_statistics(name)["call_count"] == 0
    profiler.enable()
    sync(1, c=1.0)
    with kept:
        pass
    assert profiler.get_all_operations() == ["sync", "kept"]


# -- @profile above @staticmethod / @classmethod ---------------------------------------
def test_profile_above_staticmethod_keeps_it_static_and_records_calls():
    profiler = PerformanceProfiler(track_memory=False)

    class Maths:
        @profiler.profile("maths.double")
        @staticmethod
        def double(x: int) -> int:
            """Twice x."""
            return 2 * x

        @profiler.profile
        @staticmethod
        def triple(x: int) -> int:
            return 3 * x

    assert isinstance(Maths.__dict__["double"], staticmethod)
    assert Maths.double(2) == 4
    assert Maths().double(3) == 6  # no self passed through an instance
    assert Maths.triple(2) == 6
    assert Maths.double.__doc__ == "Twice x."
    assert Maths.double.__wrapped__.__name__ == "double"
    assert profiler.get_statistics("maths.double")["call_count"] == 2
    # Named after the function inside, like any other bare @profile.
    assert profiler.get_all_operations() == [
        "maths.double",
        "test_profile_above_staticmethod_keeps_it_static_and_records_calls.<locals>.Maths.triple",
    ]


def test_profile_above_classmethod_is_refused_with_what_to_do_instead():
    profiler = PerformanceProfiler(track_memory=False)
    with pytest.raises(TypeError, match=r"below @classmethod"):

        class Refused:
            @profiler.profile
            @classmethod
            def make(cls) -> Any:
                return cls()

    with pytest.raises(TypeError, match=r"below @classmethod"):
        profiler.profile("named")(classmethod(lambda cls: cls))
    assert profiler.operation_names() == []


def test_profile_below_classmethod_works():
    profiler = PerformanceProfiler(track_memory=False)

    class Factory:
        @classmethod
        @profiler.profile("factory.make")
        def make(cls) -> Any:
            return cls()

    assert isinstance(Factory.make(), Factory)
    assert profiler.get_statistics("factory.make")["call_count"] == 1


# -- profile_block ---------------------------------------------------------------------
def test_a_kept_block_records_each_run_and_its_own_figures(profiler, clock):
    block = profiler.profile_block("step")
    assert isinstance(block, ProfileBlock)
    for ms in (1, 2, 3):
        with block as entered:
            clock.advance_ms(ms)
        assert entered is block
        assert block.duration_ms == ms
    with pytest.raises(ZeroDivisionError), block:
        clock.advance_ms(4)
        1 / 0  # noqa: B018
    stats = profiler.get_statistics("step")
    assert (stats["call_count"], stats["error_count"]) == (4, 1)
    assert stats["total_duration_ms"] == 6.0
    assert block.memory_delta is None


def test_profile_block_per_run_reuses_its_maker_but_still_checks_names(profiler, clock):
    first = profiler.profile_block("afresh")
    second = profiler.profile_block("afresh")
    assert first is not second  # each run its own figures
    with first:
        clock.advance_ms(1)
    with second:
        clock.advance_ms(2)
    assert (first.duration_ms, second.duration_ms) == (1.0, 2.0)
    assert profiler.get_statistics("afresh")["call_count"] == 2
    for bad, error in ((123, TypeError), ("", ValueError), (["a"], TypeError), (None, TypeError)):
        with pytest.raises(error, match="operation name"):
            profiler.profile_block(bad)  # type: ignore[arg-type]


def test_profile_block_modes_feed_their_own_layouts():
    profiler = PerformanceProfiler()
    for name, options, kind in (
        ("t", {"track_memory": False}, "timed"),
        ("tc", {"track_memory": False, "track_cpu": True}, "timed_cpu"),
        ("m", {"track_cpu": False}, "measured"),
        ("mc", {}, "measured_cpu"),
    ):
        with profiler.profile_block(name, **options) as block:
            _ = [0] * 1000
        op = profiler._operation(name)
        assert len(getattr(op, kind)) == len(LAYOUTS[kind]), name
        assert (block.memory_delta is None) == (kind.startswith("timed")), name
        assert profiler.get_statistics(name)["call_count"] == 1
    assert profiler.get_statistics("mc")["avg_cpu_ms"] is not None


# -- GC pauses reach the calls they interrupt ---------------------------------------------
def test_a_call_that_collects_is_charged_its_pause_even_after_the_ring_wraps():
    import gc

    from wdbx_notebook import _gc

    profiler = PerformanceProfiler(track_memory=False)

    @profiler.profile("collects")
    def collects() -> None:
        gc.collect()

    @profiler.profile("idle")
    def idle() -> None:
        pass

    for _ in range(_gc.KEEP + 10):  # more collections than the recorder keeps
        gc.collect(0)
    idle()
    collects()
    idle()
    busy, quiet = profiler.get_statistics("collects"), profiler.get_statistics("idle")
    assert busy["calls_with_gc"] == 1 and busy["gc_pause_ms"] > 0
    assert busy["gc_pause_ms"] <= busy["total_duration_ms"]
    assert quiet["calls_with_gc"] == 0


def test_an_async_with_block_does_not_claim_cpu_time() -> None:
    # While the block awaits, other tasks run on the same thread: its CPU clock would
    # count their work, so the block's CPU time is unknown (as for async functions).
    profiler = PerformanceProfiler()  # the default mode measures CPU time

    async def busy() -> None:
        sum(range(200_000))

    async def main() -> None:
        async with profiler.profile_block("awaiting"):
            await asyncio.gather(busy(), asyncio.sleep(0.01))
        with profiler.profile_block("plain"):
            sum(range(1_000))

    asyncio.run(main())
    assert (profiler.snapshot().calls("awaiting").cpu_ns == -1).all()
    assert profiler.get_statistics("awaiting")["cpu_share"] is None
    assert profiler.get_statistics("plain")["cpu_share"] is not None
