"""The profiler's API: decorator forms, blocks, errors, enable/disable, reset, bad input."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import sys
import traceback

import pytest

from wdbx_notebook import (
    PerformanceProfiler,
    ProfileBlock,
    UnknownOperationError,
    get_performance_profiler,
)
from wdbx_notebook._clock import FakeClock


def test_shared_profiler_is_one_instance():
    assert get_performance_profiler() is get_performance_profiler()
    assert isinstance(get_performance_profiler(), PerformanceProfiler)


def test_decorator_with_a_name(profiler, clock):
    @profiler.profile("vector_search")
    def search(query: list[int], top_k: int = 10) -> list[int]:
        clock.advance_ms(3)
        return sorted(query)[:top_k]

    assert search([3, 1, 2], top_k=2) == [1, 2]
    stats = profiler.get_statistics("vector_search")
    assert stats["call_count"] == 1
    assert stats["avg_duration_ms"] == 3.0


def test_bare_decorator_names_the_operation_after_the_qualified_name(profiler):
    @profiler.profile
    def load() -> int:
        return 1

    class Store:
        @profiler.profile
        def add(self, x: int) -> int:
            return x

    assert load() == 1
    assert Store().add(5) == 5
    assert profiler.get_all_operations() == [
        "test_bare_decorator_names_the_operation_after_the_qualified_name.<locals>.load",
        "test_bare_decorator_names_the_operation_after_the_qualified_name.<locals>.Store.add",
    ]


def test_keyword_name_and_track_memory(profiler):
    @profiler.profile(name="kw", track_memory=False)
    def f() -> str:
        return "ok"

    assert f() == "ok"
    assert profiler.get_statistics("kw")["memory_call_count"] == 0


def test_wrapper_keeps_identity_and_signature(profiler):
    def original(a: int, /, b: str = "x", *args: int, c: float, d: int = 4, **kw: object) -> str:
        """Docs of the original."""
        return f"{a}{b}{args}{c}{d}{sorted(kw)}"

    wrapped = profiler.profile("sig")(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__doc__ == "Docs of the original."
    assert wrapped.__wrapped__ is original
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert wrapped(1, c=2.0) == original(1, c=2.0)
    assert wrapped(1, "y", 7, 8, c=2.5, d=9, z=1, y=2) == original(
        1, "y", 7, 8, c=2.5, d=9, z=1, y=2
    )
    with pytest.raises(TypeError):
        wrapped(a=1, c=2.0)  # positional-only stays positional-only
    with pytest.raises(TypeError):
        wrapped(1)  # missing keyword-only argument
    assert profiler.get_statistics("sig")["call_count"] == 2


def test_mutable_default_is_the_original_object(profiler):
    def append(x: int, into: list[int] = []) -> list[int]:  # noqa: B006 - identity is the point
        into.append(x)
        return into

    wrapped = profiler.profile("defaults")(append)
    assert wrapped(1) is wrapped(2) is append.__defaults__[0]


def test_callables_without_a_python_signature_still_work(profiler):
    wrapped_len = profiler.profile("len")(len)
    partial = profiler.profile("partial")(functools.partial(pow, 2))
    assert wrapped_len([1, 2, 3]) == 3
    assert partial(10) == 1024
    assert profiler.get_statistics("len")["call_count"] == 1
    assert profiler.get_statistics("partial")["call_count"] == 1


def test_parameter_names_that_clash_with_the_wrapper_still_work(profiler):
    def clash(_wdbx_func: int, clock: int = 2) -> int:
        return _wdbx_func + clock

    def shadowing(len: int, BaseException: int = 1) -> int:
        return len + BaseException

    assert profiler.profile("clash")(clash)(1) == 3
    assert profiler.profile("shadowing")(shadowing)(2) == 3
    assert profiler.get_statistics("shadowing")["call_count"] == 1


def test_async_function_stays_a_coroutine_function_and_times_the_whole_await(profiler):
    @profiler.profile("fetch")
    async def fetch(delay: float) -> str:
        await asyncio.sleep(delay)
        return "done"

    assert inspect.iscoroutinefunction(fetch)
    coro = fetch(0.05)
    assert profiler.get_all_operations() == []  # creating the coroutine records nothing
    assert asyncio.run(coro) == "done"
    stats = profiler_real_time_stats = None  # noqa: F841
    real = PerformanceProfiler(track_memory=False)

    @real.profile("fetch")
    async def fetch_real(delay: float) -> str:
        await asyncio.sleep(delay)
        return "done"

    asyncio.run(fetch_real(0.05))
    stats = real.get_statistics("fetch")
    assert stats["call_count"] == 1
    assert stats["avg_duration_ms"] >= 50.0


def test_profile_block_records_one_run_and_reports_it(profiler, clock):
    with profiler.profile_block("batch_processing") as block:
        clock.advance_ms(12)
    assert isinstance(block, ProfileBlock)
    assert block.duration_ms == 12.0
    assert block.memory_delta is None  # time-only profiler
    assert profiler.get_statistics("batch_processing")["call_count"] == 1


def test_profile_block_with_async_with(profiler, clock):
    async def main() -> None:
        async with profiler.profile_block("async_block"):
            clock.advance_ms(4)
            await asyncio.sleep(0)

    asyncio.run(main())
    assert profiler.get_statistics("async_block")["avg_duration_ms"] == 4.0


def test_profile_block_records_failures_and_lets_them_through(profiler):
    with pytest.raises(KeyError), profiler.profile_block("lookup"):
        {}["missing"]
    stats = profiler.get_statistics("lookup")
    assert stats["error_count"] == 1
    assert stats["errors_by_type"] == {"KeyError": 1}


def test_the_exception_is_the_same_object_with_its_traceback(profiler):
    error = RuntimeError("boom")

    @profiler.profile("explode")
    def explode() -> None:
        raise error

    with pytest.raises(RuntimeError) as caught:
        explode()
    assert caught.value is error
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "explode"
    stats = profiler.get_statistics("explode")
    assert (stats["call_count"], stats["error_count"]) == (1, 1)
    assert profiler.get_call_history("explode")["explode"][0]["error"] == "RuntimeError"


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, GeneratorExit])
def test_base_exceptions_are_recorded_and_reraised(profiler, exc_type):
    @profiler.profile("interrupted")
    def interrupted() -> None:
        raise exc_type()

    with pytest.raises(exc_type):
        interrupted()
    assert profiler.get_statistics("interrupted")["errors_by_type"] == {exc_type.__name__: 1}


def test_recursion_counts_every_level(profiler, clock):
    @profiler.profile("fib")
    def fib(n: int) -> int:
        clock.advance_ns(1)
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    assert fib(15) == 610
    calls = 1973  # calls of a naive fib(15)
    stats = profiler.get_statistics("fib")
    assert stats["call_count"] == calls
    assert stats["success_count"] == calls


def test_disable_and_enable(profiler):
    @profiler.profile("op")
    def op() -> int:
        return 1

    op()
    profiler.disable()
    assert profiler.enabled is False
    assert op() == 1
    with profiler.profile_block("op") as block:
        pass
    assert block.duration_ms is None
    profiler.enable()
    op()
    assert profiler.get_statistics("op")["call_count"] == 2


def test_reset_one_or_all(profiler):
    @profiler.profile("a")
    def a() -> None:
        pass

    @profiler.profile("b")
    def b() -> None:
        pass

    a(), b(), b()
    profiler.reset_statistics("b")
    assert profiler.get_all_operations() == ["a"]
    assert profiler.get_statistics("b")["call_count"] == 0  # known, just empty
    b()  # the decorated function keeps recording afresh
    assert profiler.get_statistics("b")["call_count"] == 1
    profiler.reset_statistics()
    assert profiler.get_all_operations() == []


def test_unknown_name_suggests_close_names(profiler):
    with profiler.profile_block("vector_search"):
        pass
    with pytest.raises(KeyError) as caught:
        profiler.get_statistics("vector_serch")
    assert isinstance(caught.value, UnknownOperationError)
    assert "did you mean 'vector_search'?" in str(caught.value)
    with pytest.raises(KeyError, match="known operations: 'vector_search'"):
        profiler.get_statistics("zzz")


def test_unknown_name_on_an_empty_profiler(profiler):
    with pytest.raises(KeyError, match="nothing has been profiled yet"):
        profiler.get_statistics("anything")


@pytest.mark.parametrize(
    ("bad", "error"), [(42, TypeError), (None, TypeError), ("", ValueError), ("   ", ValueError)]
)
def test_bad_names_are_refused_where_they_are_given(profiler, bad, error):
    with pytest.raises(error, match="non-empty str"):
        profiler.profile_block(bad)
    with pytest.raises(error, match="non-empty str"):
        profiler.get_statistics(bad)
    if bad is not None:
        with pytest.raises(error, match="non-empty str"):
            profiler.profile(bad)


def test_decorating_a_non_callable_says_so(profiler):
    with pytest.raises(TypeError, match="decorates a function or other callable, got int 42"):
        profiler.profile("x")(42)
    with pytest.raises(TypeError, match="put @profile below @classmethod"):
        profiler.profile("x")(classmethod(lambda cls: None))


def test_generator_functions_are_refused_with_the_alternative(profiler):
    def numbers():
        yield 1

    async def agen():
        yield 1

    for func in (numbers, agen):
        with pytest.raises(TypeError, match=r"generator function.*profile_block"):
            profiler.profile(func)
    with profiler.profile_block("loop"):
        assert list(numbers()) == [1]


@pytest.mark.parametrize("bad", ["heap", 1, "RSS"])
def test_bad_track_memory_is_refused(profiler, bad):
    with pytest.raises(ValueError, match="track_memory must be"):
        profiler.profile("x", track_memory=bad)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="history_limit"):
        PerformanceProfiler(history_limit=-1)
    with pytest.raises(TypeError, match="clock"):
        PerformanceProfiler(clock=5)  # type: ignore[arg-type]


def test_history_records_each_call(profiler, clock):
    @profiler.profile("op")
    def op(fail: bool) -> None:
        clock.advance_ms(2)
        if fail:
            raise ValueError

    op(False)
    with pytest.raises(ValueError):
        op(True)
    records = profiler.get_call_history("op")["op"]
    assert [r["success"] for r in records] == [True, False]
    assert [r["error"] for r in records] == [None, "ValueError"]
    assert [r["duration_ms"] for r in records] == [2.0, 2.0]
    assert all(r["thread"] == "MainThread" for r in records)
    assert records[0]["timestamp"] < records[1]["timestamp"]
    assert set(records[0]) == {
        "timestamp",
        "duration_ms",
        "memory_delta",
        "success",
        "error",
        "thread",
    }


def test_history_is_bounded_but_statistics_are_not(clock):
    profiler = PerformanceProfiler(clock=clock, track_memory=False, history_limit=50)

    @profiler.profile("op")
    def op(i: int) -> None:
        clock.advance_ns(i)

    for i in range(1, 20_001):
        op(i)
    history = profiler.get_call_history("op")["op"]
    assert len(history) == 50
    assert history[-1]["duration_ms"] == 20_000 / 1e6
    assert history[0]["duration_ms"] == 19_951 / 1e6
    assert profiler.get_statistics("op")["call_count"] == 20_000


def test_memory_is_tracked_by_default():
    profiler = PerformanceProfiler()

    @profiler.profile("allocate")
    def allocate() -> bytes:
        block = bytearray(64 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
        return bytes(block[:1])

    allocate()
    stats = profiler.get_statistics("allocate")
    assert stats["memory_call_count"] == 1
    # The 64 MiB was resident during the call and freed before its end: the delta is small,
    # but it was measured (not unknown).
    record = profiler.get_call_history("allocate")["allocate"][0]
    assert isinstance(record["memory_delta"], int)


def test_memory_delta_sees_memory_kept_by_the_call():
    profiler = PerformanceProfiler()
    kept: list[bytearray] = []

    @profiler.profile("keep")
    def keep() -> None:
        # Above glibc's largest mmap threshold (32 MiB), so the block is always fresh
        # pages, whatever earlier tests freed into the heap.
        block = bytearray(48 * 2**20)
        block[::4096] = b"x" * len(block[::4096])
        kept.append(block)

    keep()
    assert profiler.get_statistics("keep")["avg_memory_delta"] >= 46 * 2**20


def test_tracemalloc_mode_measures_the_python_heap():
    import tracemalloc

    was_tracing = tracemalloc.is_tracing()
    profiler = PerformanceProfiler(track_memory="tracemalloc")
    kept: list[list[int]] = []
    try:

        @profiler.profile("heap")
        def heap() -> None:
            kept.append(list(range(100_000)))

        heap()
        delta = profiler.get_statistics("heap")["avg_memory_delta"]
        assert delta >= sys.getsizeof(kept[0])
    finally:
        if not was_tracing:
            tracemalloc.stop()


def test_a_failing_memory_probe_never_reaches_user_code(monkeypatch):
    import psutil

    from wdbx_notebook import _memory

    class Denied:
        def memory_info(self) -> None:
            raise psutil.AccessDenied(pid=1)

    monkeypatch.setattr(_memory, "_statm_fd", None)
    monkeypatch.setattr(_memory, "_psutil_process", Denied())
    profiler = PerformanceProfiler()

    @profiler.profile("op")
    def op() -> str:
        return "fine"

    assert op() == "fine"
    with profiler.profile_block("block") as block:
        pass
    stats = profiler.get_statistics("op")
    assert stats["call_count"] == 1
    assert stats["memory_call_count"] == 0
    assert profiler.get_call_history("op")["op"][0]["memory_delta"] is None
    assert block.memory_delta is None


def test_trouble_inside_the_profiler_is_a_warning_not_an_exception(profiler, monkeypatch):
    from wdbx_notebook import ProfilerInternalWarning
    from wdbx_notebook.stats import OperationStats

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("aggregation bug")

    @profiler.profile("op")
    def op() -> int:
        return 7

    monkeypatch.setattr(OperationStats, "add_successes", broken)
    assert op() == 7
    with pytest.warns(ProfilerInternalWarning, match="aggregation bug"):
        profiler.get_all_operations()


def test_custom_profilers_are_independent(clock):
    first = PerformanceProfiler(clock=clock, track_memory=False)
    second = PerformanceProfiler(clock=FakeClock(), track_memory=False)
    with first.profile_block("only_first"):
        pass
    assert first.get_all_operations() == ["only_first"]
    assert second.get_all_operations() == []


def test_repr_names_state_and_count(profiler):
    with profiler.profile_block("x"):
        pass
    assert repr(profiler) == "<PerformanceProfiler enabled, 1 operation>"


def test_recent_successes_match_the_history(clock):
    profiler = PerformanceProfiler(clock=clock, track_memory=False, history_limit=6)

    @profiler.profile("op")
    def op(i: int) -> None:
        clock.advance_ns(100 + i)
        if i % 3 == 0:
            raise ValueError

    for i in range(10):
        with contextlib.suppress(ValueError):
            op(i)
        clock.advance_ns(1_000)
    calls = profiler.snapshot().calls("op")
    assert len(calls) == 6
    assert calls.error.tolist() == [None, None, "ValueError", None, None, "ValueError"]
    ok = calls.success
    assert profiler.recent_durations_ns("op").tolist() == calls.duration_ns[ok].tolist()
    assert profiler.recent_durations_ns("op").tolist() == [104, 105, 107, 108]
    assert profiler.recent_starts_ns("op").tolist() == calls.start_ns[ok].tolist()
    # The oldest call kept is the fifth (i = 4): 1,104 ns later comes the sixth.
    assert (calls.start_ns[1] - calls.start_ns[0]) == 1_104
