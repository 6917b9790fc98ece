"""Calls made in other processes come home exactly: pools, joblib, Dask, Ray.

Every task returns the durations its worker's profiler recorded for its own
calls (``_wdbx_tasks.work``); what the home profiler absorbed must match that
ground truth: the count exactly, the sum, minimum and maximum to the
nanosecond, the mean to 1e-9, p95 within the sketch's bound past 10,000 calls.
Every cluster is started here, on 127.0.0.1, and shut down in ``finally``.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _wdbx_tasks as tasks
import numpy as np
import pytest

from wdbx_notebook import PerformanceProfiler, get_performance_profiler, statistics_dataframe
from wdbx_notebook.distributed import Collected, collected
from wdbx_notebook.stats import EXACT_SAMPLE_LIMIT, SKETCH_RELATIVE_ERROR

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture
def name() -> str:
    """A fresh operation name: the shared profiler outlives each test."""
    return f"dist_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def home() -> PerformanceProfiler:
    return get_performance_profiler()


def flat(results: Any) -> list[int]:
    return [d for durations in results for d in durations]


def assert_exact(profiler: PerformanceProfiler, name: str, truth: list[int]) -> None:
    """The absorbed statistics of ``name`` equal the ground truth ``truth`` (ns)."""
    raw = profiler.operation_stats(name)
    assert raw.call_count == len(truth)
    assert raw.success_count == len(truth)
    assert raw.duration_sum_ns == sum(truth)
    assert raw.duration_min_ns == min(truth)
    assert raw.duration_max_ns == max(truth)
    stats = profiler.get_statistics(name)
    values = np.array(truth, dtype=np.float64)
    assert stats["avg_duration_ms"] == pytest.approx(values.mean() / 1e6, rel=1e-9)
    p95 = float(np.percentile(values, 95))
    if len(truth) > EXACT_SAMPLE_LIMIT:
        assert not stats["percentiles_exact"]
        assert abs(stats["p95_duration_ms"] * 1e6 - p95) <= p95 * SKETCH_RELATIVE_ERROR
    else:
        assert stats["p95_duration_ms"] * 1e6 == pytest.approx(p95, rel=1e-12)


# -- collected(): process pools and joblib --------------------------------------------
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_pool_brings_every_call_home(home: PerformanceProfiler, name: str, method: str) -> None:
    before = {s["source"] for s in home.sources()}
    with multiprocessing.get_context(method).Pool(2) as pool:
        results = pool.starmap(collected(tasks.work), [(250, name)] * 8)
    assert_exact(home, name, flat(results))
    new = [s for s in home.sources() if s["source"] not in before]
    assert 1 <= len(new) <= 2 and all(s["pid"] != os.getpid() for s in new)
    assert sum(s["calls"] for s in new) == 2000


def test_pool_past_the_exact_limit_keeps_p95_within_the_sketch_bound(
    home: PerformanceProfiler, name: str
) -> None:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(collected(tasks.work), [(1500, name)] * 8)
    truth = flat(results)
    assert len(truth) == 12_000 > EXACT_SAMPLE_LIMIT
    assert_exact(home, name, truth)


def test_process_pool_executor(home: PerformanceProfiler, name: str) -> None:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(collected(tasks.work), [300] * 6, [name] * 6))
    assert_exact(home, name, flat(results))


def test_joblib_loky(home: PerformanceProfiler, name: str) -> None:
    import joblib

    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(collected(tasks.work))(300, name) for _ in range(6)
    )
    assert_exact(home, name, flat(results))


def test_joblib_threading_counts_each_call_once(home: PerformanceProfiler, name: str) -> None:
    import joblib

    sources = len(home.sources())
    results = joblib.Parallel(n_jobs=2, backend="threading")(
        joblib.delayed(collected(tasks.work))(200, name) for _ in range(6)
    )
    assert all(isinstance(r, list) for r in results)  # plain results, nothing attached
    assert home.get_statistics(name)["call_count"] == 1200
    assert len(home.sources()) == sources  # nothing was absorbed: the calls were here already


def test_module_level_decorator_pickles_by_name(home: PerformanceProfiler, name: str) -> None:
    assert isinstance(tasks.work_decorated, Collected)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(tasks.work_decorated, [(100, name)] * 4)
    assert_exact(home, name, flat(results))


def test_a_failing_task_still_sends_its_calls(home: PerformanceProfiler, name: str) -> None:
    with (
        multiprocessing.get_context("spawn").Pool(1) as pool,
        pytest.raises(ValueError, match="failed after 40 calls"),
    ):
        pool.apply(collected(tasks.fail_after), (40, name))
    assert home.get_statistics(name)["call_count"] == 40


def test_in_process_it_is_the_function_itself(name: str) -> None:
    wrapped = collected(tasks.work)
    assert wrapped.__wrapped__ is tasks.work and wrapped.__name__ == "work"
    copy = pickle.loads(pickle.dumps(wrapped))  # pickled and unpickled at home
    assert isinstance(copy(3, name), list)
    with ThreadPoolExecutor(2) as pool:
        assert [len(r) for r in pool.map(wrapped, [2, 3], [name, name])] == [2, 3]
    assert collected(wrapped).__wrapped__ is tasks.work  # no double wrapping


def test_collected_refuses_what_it_cannot_run() -> None:
    with pytest.raises(TypeError, match="takes a function"):
        collected(42)  # type: ignore[arg-type]

    async def coroutine() -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        collected(coroutine)


def test_the_package_imports_without_the_engines() -> None:
    code = (
        "import sys\n"
        "for m in ('dask', 'distributed', 'ray', 'joblib'):\n"
        "    sys.modules[m] = None\n"
        "import wdbx_notebook.distributed, wdbx_notebook.distributed.dask as d,"
        " wdbx_notebook.distributed.ray as r\n"
        "for f, extra in ((lambda: d.collect(None), 'dask'), (r.collect, 'ray')):\n"
        "    try:\n"
        "        f()\n"
        "    except ImportError as e:\n"
        '        assert f"wdbx_notebook[{extra}]" in str(e), e\n'
        "    else:\n"
        "        raise AssertionError('no ImportError')\n"
        "print('ok')\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_a_wrapper_shipped_by_value_records_in_a_fresh_process(name: str) -> None:
    """What a Dask or loky worker does with a notebook's function: unpickle it first thing."""
    import subprocess

    import cloudpickle

    @get_performance_profiler().profile(name, track_memory=False)
    def shout(text: str) -> str:  # a local function: cloudpickle ships it by value
        return text.upper()

    code = (
        "import pickle, sys\n"
        "f = pickle.loads(sys.stdin.buffer.read())\n"
        "print(f('hi'))\n"
        "from wdbx_notebook import get_performance_profiler\n"
        f"print(get_performance_profiler().get_statistics({name!r})['call_count'])\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], input=cloudpickle.dumps(shout), capture_output=True
    )
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode().split() == ["HI", "1"]


# -- Dask ------------------------------------------------------------------------------
def _local_cluster() -> Any:
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    )


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    from dask.distributed import Client

    from wdbx_notebook.distributed import dask as wdbx_dask

    cluster = _local_cluster()
    try:
        client = Client(cluster)
        try:
            wdbx_dask.install(client)
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def test_dask_collect_is_exact_and_idempotent(
    dask_client: Any, home: PerformanceProfiler, name: str
) -> None:
    from wdbx_notebook.distributed import dask as wdbx_dask

    futures = dask_client.map(tasks.work, [400] * 10, [name] * 10, pure=False)
    truth = flat(dask_client.gather(futures))
    added = wdbx_dask.collect(dask_client)
    assert added >= 4000
    assert_exact(home, name, truth)
    assert wdbx_dask.collect(dask_client) == 0  # a second collect adds nothing
    assert_exact(home, name, truth)
    by_source = statistics_dataframe(home, by="source")
    rows = by_source.xs(name, level="operation")
    assert int(rows["call_count"].sum()) == 4000
    workers = {s["worker"] for s in home.sources() if s["source"] in set(rows.index)}
    assert workers <= set(dask_client.scheduler_info()["workers"])


def test_dask_draining_while_tasks_run_stays_exact(
    dask_client: Any, home: PerformanceProfiler, name: str
) -> None:
    from dask.distributed import wait

    from wdbx_notebook.distributed import dask as wdbx_dask

    futures = dask_client.map(tasks.work, [60] * 8, [name] * 8, [0.002] * 8, pure=False)
    collects = 0
    while not all(f.done() for f in futures):
        wdbx_dask.collect(dask_client)
        collects += 1
    wait(futures)
    wdbx_dask.collect(dask_client)
    assert collects >= 1
    assert_exact(home, name, flat(dask_client.gather(futures)))


def test_dask_retired_worker_keeps_its_calls(home: PerformanceProfiler, name: str) -> None:
    from dask.distributed import Client

    from wdbx_notebook.distributed import dask as wdbx_dask

    cluster = _local_cluster()
    try:
        with Client(cluster) as client:
            wdbx_dask.install(client)
            workers = sorted(client.scheduler_info()["workers"])
            first = client.map(tasks.work, [300] * 3, [name] * 3, workers=[workers[0]], pure=False)
            truth = flat(client.gather(first))
            # Retired before anything was collected: its calls leave with it.
            client.retire_workers([workers[0]], close_workers=True)
            rest = client.map(tasks.work, [300] * 3, [name] * 3, pure=False)
            truth += flat(client.gather(rest))
            deadline = time.monotonic() + 30
            while workers[0] in client.scheduler_info()["workers"] and time.monotonic() < deadline:
                time.sleep(0.05)
            wdbx_dask.collect(client)
            assert_exact(home, name, truth)
            retired = [s for s in home.sources() if s["worker"] == workers[0]]
            assert sum(s["calls"] for s in retired) >= 900
    finally:
        cluster.close()


@pytest.fixture
def ipython() -> Iterator[Any]:
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()  # the test session's one shell, started when first asked for
    shell.run_line_magic("load_ext", "wdbx_notebook")
    try:
        yield shell
    finally:
        shell.run_line_magic("unload_ext", "wdbx_notebook")


def test_collect_magic_on_dask(
    dask_client: Any, ipython: Any, home: PerformanceProfiler, name: str, capsys: Any
) -> None:
    futures = dask_client.map(tasks.work, [100] * 4, [name] * 4, pure=False)
    truth = flat(dask_client.gather(futures))
    ipython.user_ns["my_client"] = dask_client
    ipython.run_line_magic("wdbx_collect", "dask my_client")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith("wdbx_collect dask: ") and "400 new calls" in line
    assert_exact(home, name, truth)
    ipython.run_line_magic("wdbx_collect", "")  # the current client, found by itself
    assert "wdbx_collect dask: 0 new calls" in capsys.readouterr().out
    assert_exact(home, name, truth)


def test_collect_magic_says_what_is_missing(ipython: Any) -> None:
    from IPython.core.error import UsageError

    from wdbx_notebook.jupyter.collect import find_engine

    with pytest.raises(UsageError, match="no variable 'nope'"):
        find_engine("dask", "nope", {})
    with pytest.raises(UsageError, match="unknown engine"):
        find_engine("spark", None, {})
    with pytest.raises(UsageError, match="Ray is not running"):
        find_engine("ray", None, {})


@pytest.mark.notebook
def test_cluster_notebook_in_a_real_kernel(tmp_path: Path) -> None:
    """notebooks/cluster.ipynb runs; then a notebook-defined function is exact on Dask."""
    import importlib.util
    import json

    import nbformat

    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "notebooks" / "run_demo.py")
    assert spec is not None and spec.loader is not None
    run_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_demo)
    source = ROOT / "notebooks" / "cluster.ipynb"
    nb = nbformat.read(source, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    check = nbformat.v4.new_code_cell(
        "import json\n"
        "import numpy as np\n"
        "\n"
        "@profiler.profile('truth_check', track_memory=False)\n"
        "def checked(x):\n"
        "    return x + 1\n"
        "\n"
        "def truth(n):\n"
        "    for i in range(n):\n"
        "        checked(i)\n"
        "    calls = get_performance_profiler().snapshot(['truth_check']).calls('truth_check')\n"
        "    return [int(d) for d in calls.duration_ns[len(calls) - n:]]\n"
        "\n"
        "durations = [d for part in client.gather(client.map(truth, [3000] * 4, pure=False))\n"
        "             for d in part]\n"
        "first = %wdbx_collect dask\n"
        "again = wdbx_dask.collect(client)\n"
        "raw = profiler.operation_stats('truth_check')\n"
        "stats = profiler.get_statistics('truth_check')\n"
        "print(json.dumps({'n': len(durations), 'count': raw.call_count,\n"
        "    'sum_ok': raw.duration_sum_ns == sum(durations),\n"
        "    'min_ok': raw.duration_min_ns == min(durations),\n"
        "    'max_ok': raw.duration_max_ns == max(durations),\n"
        "    'mean': stats['avg_duration_ms'], 'truth_mean': float(np.mean(durations)) / 1e6,\n"
        "    'p95': stats['p95_duration_ms'],\n"
        "    'truth_p95': float(np.percentile(np.array(durations, float), 95)) / 1e6,\n"
        "    'again': again, 'workers': len(profiler.sources())}))"
    )
    nb.cells.insert(len(nb.cells) - 1, check)  # before the cluster is shut down
    work = tmp_path / "cluster.ipynb"
    nbformat.write(nb, work)
    executed = run_demo.execute_notebook(work, tmp_path, timeout_s=180)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert "wdbx_collect dask: 4,000 new calls" in text  # 2,000 score + 2,000 tokenize
    result = json.loads(text.strip().splitlines()[-1])
    assert result["n"] == result["count"] == 12_000
    assert result["sum_ok"] and result["min_ok"] and result["max_ok"]
    assert result["mean"] == pytest.approx(result["truth_mean"], rel=1e-9)
    assert abs(result["p95"] - result["truth_p95"]) <= result["truth_p95"] * SKETCH_RELATIVE_ERROR
    assert result["again"] == 0 and result["workers"] == 2


# -- Ray -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    import ray

    from wdbx_notebook.distributed import ray as wdbx_ray

    wdbx_ray.install(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(TESTS), str(ROOT)])}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_tasks_come_home_exactly(
    ray_cluster: Any, home: PerformanceProfiler, name: str
) -> None:
    from wdbx_notebook.distributed import ray as wdbx_ray

    remote_work = wdbx_ray.remote(tasks.work)
    truth = flat(ray_cluster.get([remote_work.remote(300, name) for _ in range(8)]))
    assert_exact(home, name, truth)  # the results brought the calls
    wdbx_ray.collect()
    assert_exact(home, name, truth)  # and collecting adds none twice


class Counter:
    def run(self, n: int, name: str) -> list[int]:
        return tasks.work(n, name)

    def stop(self) -> None:
        import ray

        from wdbx_notebook.distributed import ray as wdbx_ray

        wdbx_ray.send_home()
        ray.actor.exit_actor()


def test_ray_actor_methods_come_home(
    ray_cluster: Any, home: PerformanceProfiler, name: str
) -> None:
    from wdbx_notebook.distributed import ray as wdbx_ray

    actor = wdbx_ray.remote(Counter).remote()
    truth = flat(ray_cluster.get([actor.run.remote(200, name) for _ in range(3)]))
    assert_exact(home, name, truth)
    ray_cluster.kill(actor)


def test_ray_plain_actor_that_ends_normally_sends_its_calls(
    ray_cluster: Any, home: PerformanceProfiler, name: str
) -> None:
    from wdbx_notebook.distributed import ray as wdbx_ray

    actor = ray_cluster.remote(Counter).remote()  # plain ray.remote: results carry nothing
    truth = flat(ray_cluster.get([actor.run.remote(250, name) for _ in range(2)]))
    assert name not in home.snapshot()
    with pytest.raises(ray_cluster.exceptions.RayActorError):
        ray_cluster.get(actor.stop.remote())
    assert wdbx_ray.collect() == 500
    assert_exact(home, name, truth)
    assert wdbx_ray.collect() == 0


def test_a_drain_carries_bounded_recent_calls_and_exact_aggregates(
    profiler: PerformanceProfiler, timed_op: Any
) -> None:
    from wdbx_notebook.distributed import bounded

    timed_op("a", list(range(1_000, 21_000, 1_000)))  # 20 calls, 1..20 us
    timed_op("b", [5_000] * 30)
    drain = profiler.drain()
    thin = bounded(drain, recent_calls=10)
    assert len(thin.calls("a")) == 5 and len(thin.calls("b")) == 5
    assert thin.calls("a").duration_ns.tolist() == list(range(16_000, 21_000, 1_000))
    assert bounded(drain, recent_calls=100) is drain  # nothing to thin
    home = PerformanceProfiler(track_memory=False)
    assert home.absorb(pickle.loads(pickle.dumps(thin))) == 50
    assert home.get_statistics("a")["call_count"] == 20
    assert home.operation_stats("a").duration_sum_ns == sum(range(1_000, 21_000, 1_000))
    assert home.get_statistics("a")["p95_duration_ms"] == pytest.approx(
        np.percentile(np.arange(1_000, 21_000, 1_000), 95) / 1e6, rel=1e-12
    )
    assert home.absorb(pickle.loads(pickle.dumps(thin))) == 0  # the same drain once
