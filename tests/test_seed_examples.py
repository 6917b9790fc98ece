"""Every example of the seed guide, run with only its import changed to ``wdbx_notebook``.

The examples' bodies are as in the guide; where the guide leaves a placeholder
("Your implementation here", ``process_item``, ``OptimizedVectorStore``) a
small real stand-in is defined around it.
"""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _clean_shared(shared_profiler):
    yield


def _vectors(n: int = 2_000, dim: int = 32) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, dim))


def test_basic_profiling(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    index = _vectors()

    @profiler.profile("vector_search")
    def search_vectors(query, top_k=10):
        # Your implementation here
        results = np.argsort(index @ query)[::-1][:top_k]
        return results

    results = search_vectors(index[0], top_k=5)
    assert results[0] == 0
    assert profiler.get_statistics("vector_search")["call_count"] == 1


def test_profiling_code_blocks():
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    processed = []

    def process_item(item):
        processed.append(item * 2)

    def process_batch(items):
        # Some initial setup

        with profiler.profile_block("batch_processing"):
            # Only this block will be profiled
            for item in items:
                process_item(item)

        # Cleanup code here

    process_batch(range(100))
    assert len(processed) == 100
    assert profiler.get_statistics("batch_processing")["call_count"] == 1


def _run_vector_search(profiler, calls: int = 20) -> None:
    index = _vectors()

    @profiler.profile("vector_search")
    def search_vectors(query, top_k=10):
        return np.argsort(index @ query)[::-1][:top_k]

    for i in range(calls):
        search_vectors(index[i])


def test_analyzing_performance_data(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    _run_vector_search(profiler)

    stats = profiler.get_statistics("vector_search")

    print(f"Call count: {stats['call_count']}")
    print(f"Average duration: {stats['avg_duration_ms']:.2f} ms")
    print(f"95th percentile: {stats['p95_duration_ms']:.2f} ms")
    print(f"Success rate: {stats['success_rate']:.1f}%")
    print(f"Memory impact: {stats['avg_memory_delta'] / 1024:.2f} KB per call")
    print(f"Calls per second: {stats['calls_per_second']:.2f}")

    out = capsys.readouterr().out
    assert "Call count: 20" in out
    assert "Success rate: 100.0%" in out
    assert float(out.split("Calls per second: ")[1].split()[0]) > 0


def test_profiling_multiple_operations(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    _run_vector_search(profiler)
    with profiler.profile_block("batch_processing"):
        sum(range(10_000))

    # Get a list of all profiled operations
    operations = profiler.get_all_operations()

    print("Performance Comparison:")
    print("-" * 50)
    print(f"{'Operation':<30} {'Avg (ms)':<10} {'Max (ms)':<10} {'Calls/s':<8}")
    print("-" * 50)

    for op in operations:
        stats = profiler.get_statistics(op)
        print(
            f"{op:<30} {stats['avg_duration_ms']:<10.2f} {stats['max_duration_ms']:<10.2f} "
            f"{stats['calls_per_second']:<8.2f}"
        )

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Performance Comparison:"
    assert [line.split()[0] for line in lines[4:]] == ["vector_search", "batch_processing"]


def test_resetting_statistics():
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    _run_vector_search(profiler)
    with profiler.profile_block("other"):
        pass

    # Reset a specific operation
    profiler.reset_statistics("vector_search")
    assert profiler.get_all_operations() == ["other"]

    # Reset all operations
    profiler.reset_statistics()
    assert profiler.get_all_operations() == []


def test_generating_performance_reports(tmp_path, capsys, monkeypatch):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    _run_vector_search(profiler)
    monkeypatch.chdir(tmp_path)

    from wdbx_notebook import generate_performance_report

    # Generate a plain text report
    text_report = generate_performance_report()
    print(text_report)

    # Generate a markdown report (for documentation or GitHub)
    md_report = generate_performance_report(format_type="markdown")
    with open("performance_report.md", "w") as f:
        f.write(md_report)

    assert "WDBX PERFORMANCE REPORT" in capsys.readouterr().out
    written = (tmp_path / "performance_report.md").read_text()
    assert "| vector_search | 20 |" in written  # "_" inside a word renders as is


def test_integration_with_monitoring_systems(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    _run_vector_search(profiler, calls=15)

    from wdbx_notebook import system_diagnostics

    # Get all metrics including profiling data
    metrics = system_diagnostics.get_metrics_history()

    # Access profiler data for a specific operation
    vector_search_metrics = metrics["profiler_data"].get("vector_search", [])

    # Example: Calculate moving average of the last 10 calls
    if vector_search_metrics:
        recent_durations = [m["duration_ms"] for m in vector_search_metrics[-10:]]
        moving_avg = sum(recent_durations) / len(recent_durations)
        print(f"Recent average execution time: {moving_avg:.2f} ms")

    assert len(vector_search_metrics) == 15
    assert "Recent average execution time:" in capsys.readouterr().out


def test_identifying_memory_leaks(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    leaked = []

    @profiler.profile("leaky_cache_fill")
    def leaky_cache_fill():
        # 40 MiB, above glibc's largest mmap threshold (32 MiB): always fresh pages, so
        # resident memory grows whatever earlier tests freed into the heap.
        block = bytearray(40 * 2**20)
        block[::4096] = b"x" * len(block[::4096])  # touch the pages so they are resident
        leaked.append(block)

    for _ in range(2):
        leaky_cache_fill()

    for op in profiler.get_all_operations():
        stats = profiler.get_statistics(op)
        if stats["total_memory_impact"] > 10 * 1024 * 1024:  # 10 MB
            print(
                f"Warning: Operation '{op}' has accumulated "
                f"{stats['total_memory_impact'] / (1024 * 1024):.2f} MB"
            )

    assert "Warning: Operation 'leaky_cache_fill' has accumulated" in capsys.readouterr().out


def test_performance_comparison_between_components(capsys):
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()

    class OptimizedVectorStore:
        def __init__(self):
            self.vectors = {}

        def add(self, vector_id, vector):
            self.vectors[vector_id] = np.asarray(vector, dtype=np.float32)

    class OptimizedBlockManager:
        def __init__(self):
            self.blocks = []

        def create_block_batch(self, blocks):
            self.blocks.extend(dict(b) for b in blocks)

    vector_id, vector = "v1", np.ones(128)
    blocks = [{"id": i} for i in range(1_000)]

    # Profile vector store operations
    vector_store = OptimizedVectorStore()
    with profiler.profile_block("vector_store.add"):
        vector_store.add(vector_id, vector)

    # Profile block manager operations
    block_manager = OptimizedBlockManager()
    with profiler.profile_block("block_manager.create_block"):
        block_manager.create_block_batch(blocks)

    # Compare performance
    vs_stats = profiler.get_statistics("vector_store.add")
    bm_stats = profiler.get_statistics("block_manager.create_block")

    print(f"Vector Store Add: {vs_stats['avg_duration_ms']:.2f} ms")
    print(f"Block Manager Create: {bm_stats['avg_duration_ms']:.2f} ms")

    out = capsys.readouterr().out
    assert "Vector Store Add:" in out and "Block Manager Create:" in out
    assert len(block_manager.blocks) == 1_000


def test_the_example_report_layout_of_the_guide(clock):
    """The text report's columns line up exactly as in the guide's example report."""
    from wdbx_notebook import PerformanceProfiler, generate_performance_report

    profiler = PerformanceProfiler(clock=clock, track_memory=False)

    @profiler.profile("vector_store.search_similar")
    def search() -> None:
        clock.advance_ms(75.32)

    search()
    lines = generate_performance_report(profiler=profiler).splitlines()
    header = lines[lines.index("OPERATION DETAILS") + 2]
    row = lines[lines.index("OPERATION DETAILS") + 4]
    # The guide's columns, in its order and widths; figures (and their headers) are
    # right-aligned so that digits of the same place line up.
    assert header.startswith("Operation" + " " * 23)
    labels = ["Calls", "Avg (ms)", "P95 (ms)", "Max (ms)", "Mem (KiB)", "Success %"]
    ends = [32 + sum((10, 11, 11, 11, 11, 11)[: i + 1]) for i in range(6)]
    assert [header.index(label) + len(label) for label in labels] == ends
    assert row.split() == [
        "vector_store.search_similar",
        "1",
        "75.32",
        "75.32",
        "75.32",
        "—",  # memory was not measured (track_memory=False): no figure, not zero
        "100.0",
    ]
    assert row.index(" 1 ") + 2 == ends[0]
    assert row.index("75.32") + len("75.32") == ends[1]
