"""Exact counts under real threads and real event loops."""

from __future__ import annotations

import asyncio
import threading

from wdbx_notebook import PerformanceProfiler


def test_eight_threads_times_twenty_thousand_calls_are_all_counted():
    profiler = PerformanceProfiler(track_memory=False)

    @profiler.profile("shared_op")
    def shared_op(x: int) -> int:
        return x + 1

    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for i in range(20_000):
            shared_op(i)

    threads = [threading.Thread(target=worker, name=f"worker-{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = profiler.get_statistics("shared_op")
    assert stats["call_count"] == 160_000
    assert stats["success_count"] == 160_000
    names = {record["thread"] for record in profiler.get_call_history("shared_op")["shared_op"]}
    assert names <= {f"worker-{n}" for n in range(8)}


def test_threads_reading_while_others_record_lose_nothing():
    profiler = PerformanceProfiler()
    done = threading.Event()

    @profiler.profile("op")
    def op() -> None:
        pass

    def reader() -> None:
        while not done.is_set():
            profiler.get_statistics("op") if profiler.get_all_operations() else None
            profiler.get_call_history()

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=lambda: [op() for _ in range(15_000)]) for _ in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()
    assert profiler.get_statistics("op")["call_count"] == 60_000


def test_two_hundred_coroutines_each_time_their_own_await():
    profiler = PerformanceProfiler(track_memory=False)

    @profiler.profile("fetch")
    async def fetch(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    delays = [0.01 + (i % 10) * 0.01 for i in range(200)]  # 10 ms .. 100 ms

    async def main() -> list[float]:
        return await asyncio.gather(*(fetch(d) for d in delays))

    assert asyncio.run(main()) == delays
    stats = profiler.get_statistics("fetch")
    assert stats["call_count"] == 200
    # All ran concurrently: each duration is its own sleep, not the sum of the others'.
    durations = sorted(r["duration_ms"] for r in profiler.get_call_history("fetch")["fetch"])
    assert durations[0] >= 10.0
    assert durations[-1] < sum(delays) * 1000 / 10
    assert stats["max_duration_ms"] >= 100.0
    assert stats["min_duration_ms"] < stats["max_duration_ms"] / 3


def test_blocks_in_threads_and_tasks_together():
    profiler = PerformanceProfiler(track_memory=False)

    async def task() -> None:
        async with profiler.profile_block("mixed"):
            await asyncio.sleep(0)

    def thread_body() -> None:
        for _ in range(1_000):
            with profiler.profile_block("mixed"):
                pass

        async def tasks() -> None:
            await asyncio.gather(*(task() for _ in range(100)))

        asyncio.run(tasks())

    threads = [threading.Thread(target=thread_body) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert profiler.get_statistics("mixed")["call_count"] == 4 * 1_100


def test_thread_names_stay_right_when_thread_ids_are_reused():
    profiler = PerformanceProfiler(track_memory=False)

    @profiler.profile("op")
    def op() -> None:
        pass

    def body() -> None:
        op()
        profiler.get_statistics("op")  # flush while this thread still runs

    for name in ("first", "second", "third"):
        thread = threading.Thread(target=body, name=name)
        thread.start()
        thread.join()  # the next thread usually gets this one's id
    records = profiler.get_call_history("op")["op"]
    assert [r["thread"] for r in records] == ["first", "second", "third"]
