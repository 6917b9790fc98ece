"""What the cell magic and the package's entry points cost, beside their floor and peer, in one run.

Every comparison is measured side by side in this one run, in interleaved
rounds, and reported as a ratio (the machine is shared, so absolute figures
drift; ratios measured together do not):

* ``-n 200`` on a 1 ms body: the mean ``%%wdbx_profile`` records against
  ``%timeit -n 200 -r 1`` of the same body (a busy loop of 1 ms); the fastest
  of several interleaved rounds of each.
* the empty body's recorded mean (``pass``, ``-n 200``), beside ``%timeit``'s
  per-loop time of ``pass``.
* an empty cell: what ``%%wdbx_profile`` adds over a plain cell, against what
  ``%%time`` adds (median of interleaved cells in one IPython shell).
* ``import wdbx_notebook`` in a fresh interpreter against ``import
  pyinstrument`` (``pip install -e '.[bench]'``), each over ``python -c pass``.
* the first profiled cell after ``%load_ext`` in a fresh interpreter (no
  numpy on the recording path or in the first summary), beside a plain cell.
* the summary line after a cell whose operation already holds 10,000 calls,
  against one whose operation holds one (constant time: a ratio near 1).

Run: ``make bench`` (or ``python benchmarks/magic.py --quick``). Exit status 1
when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import time
from typing import Any

BUSY_1MS = "__s = _pc()\nwhile _pc() - __s < 0.001:\n    pass"


def _shell() -> Any:
    from IPython.testing.globalipapp import start_ipython

    ip = start_ipython()
    ip.run_line_magic("load_ext", "wdbx_notebook")
    ip.run_cell("from time import perf_counter as _pc", store_history=False)
    return ip


@contextlib.contextmanager
def _quiet() -> Any:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _recorded_mean_ms(ip: Any, name: str, body: str, n: int) -> float:
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    with _quiet():
        ip.run_cell(f"%%wdbx_profile {name} -n {n} -q\n{body}", store_history=True)
    mean = float(profiler.get_statistics(name)["avg_duration_ms"])
    profiler.reset_statistics(name)
    return mean


def _timeit_mean_ms(ip: Any, body: str, n: int) -> float:
    with _quiet():
        result = ip.run_cell_magic("timeit", f"-n {n} -r 1 -o -q", body)
    return float(result.average) * 1000


def bench_repeat(ip: Any, rounds: int) -> list[tuple[str, float, float]]:
    wdbx_1ms, timeit_1ms, wdbx_empty, timeit_empty = [], [], [], []
    for _ in range(rounds):
        wdbx_1ms.append(_recorded_mean_ms(ip, "busy_1ms", BUSY_1MS, 200))
        timeit_1ms.append(_timeit_mean_ms(ip, BUSY_1MS, 200))
        wdbx_empty.append(_recorded_mean_ms(ip, "empty", "pass", 200))
        timeit_empty.append(_timeit_mean_ms(ip, "pass", 200))
    return [
        ("-n 200, 1 ms body: mean (ms)", min(wdbx_1ms), min(timeit_1ms)),
        ("-n 200, empty body: mean (µs)", min(wdbx_empty) * 1000, min(timeit_empty) * 1000),
    ]


def _cell_time_us(ip: Any, cell: str) -> float:
    with _quiet():
        start = time.perf_counter_ns()
        ip.run_cell(cell, store_history=True)
        end = time.perf_counter_ns()
    return (end - start) / 1000


def bench_empty_cell(ip: Any, rounds: int) -> tuple[float, float, float]:
    """Median time of a plain, a %%time and a %%wdbx_profile empty cell (µs)."""
    cells = {"plain": "pass", "time": "%%time\npass", "wdbx": "%%wdbx_profile empty_cell\npass"}
    times: dict[str, list[float]] = {key: [] for key in cells}
    for _ in range(20):  # warm up: first uses import and cache things
        for cell in cells.values():
            _cell_time_us(ip, cell)
    for _ in range(rounds):
        for key, cell in cells.items():
            times[key].append(_cell_time_us(ip, cell))
    return tuple(statistics.median(times[k]) for k in ("plain", "time", "wdbx"))  # type: ignore[return-value]


def bench_summary(ip: Any, rounds: int) -> tuple[float, float]:
    """Median cell time (µs) with 1 and with 10,000 calls already recorded."""
    from wdbx_notebook import get_performance_profiler

    profiler = get_performance_profiler()
    with profiler.profile_block("few"):
        pass
    for _ in range(10_000):
        with profiler.profile_block("many"):
            pass
    profiler.get_statistics("few"), profiler.get_statistics("many")
    few: list[float] = []
    many: list[float] = []
    for _ in range(rounds):
        few.append(_cell_time_us(ip, "%%wdbx_profile few\npass"))
        many.append(_cell_time_us(ip, "%%wdbx_profile many\npass"))
    return statistics.median(few), statistics.median(many)


def _fresh_ms(code: str) -> float:
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], check=True)
    return (time.perf_counter_ns() - start) / 1e6


def bench_import(rounds: int) -> dict[str, float]:
    codes = {
        "pass": "pass",
        "wdbx": "import wdbx_notebook",
        "wdbx_decorator": "from wdbx_notebook import get_performance_profiler",
        "pyinstrument": "import pyinstrument",
    }
    times: dict[str, list[float]] = {key: [] for key in codes}
    for _ in range(rounds):
        for key, code in codes.items():
            times[key].append(_fresh_ms(code))
    base = min(times["pass"])
    return {key: min(values) - base for key, values in times.items()}


FIRST_CELL = """
import sys, time
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
config = Config()
config.HistoryManager.hist_file = ":memory:"
ip = InteractiveShell.instance(config=config)
ip.run_line_magic("load_ext", "wdbx_notebook")
ip.run_cell("x = 0", store_history=True)
start = time.perf_counter_ns()
ip.run_cell("x = 1", store_history=True)
plain = time.perf_counter_ns() - start
start = time.perf_counter_ns()
ip.run_cell("%%wdbx_profile first\\nx = 2", store_history=True)
first = time.perf_counter_ns() - start
print(first / 1e6, plain / 1e6, "numpy" in sys.modules)
"""


def bench_first_cell(rounds: int) -> tuple[float, float, bool]:
    firsts, plains, numpy = [], [], False
    for _ in range(rounds):
        out = subprocess.run(
            [sys.executable, "-c", FIRST_CELL], capture_output=True, text=True, check=True
        ).stdout.split()
        firsts.append(float(out[-3]))
        plains.append(float(out[-2]))
        numpy = numpy or out[-1] == "True"
    return min(firsts), min(plains), numpy


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    options = parser.parse_args()
    rounds = 5 if options.quick else 11
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        print("pyinstrument is missing: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    ip = _shell()
    print(f"# cell magic and entry points ({'quick' if options.quick else 'full'} run)\n")
    print(_row(["what", "wdbx", "floor / peer", "ratio", "target", "met"]))
    print(_row(["---"] * 6))
    results: list[bool] = []

    def report(what: str, ours: str, peer: str, ratio: str, target: str, met: bool) -> None:
        results.append(met)
        print(_row([what, ours, peer, ratio, target, "met" if met else "MISSED"]), flush=True)

    (what_1ms, wdbx_1ms, timeit_1ms), (what_0, wdbx_0, timeit_0) = bench_repeat(ip, rounds)
    ratio = wdbx_1ms / timeit_1ms
    report(
        f"{what_1ms} vs %timeit -n 200 -r 1",
        f"{wdbx_1ms:.4f}",
        f"{timeit_1ms:.4f}",
        f"{ratio:.4f}",
        "within 2%",
        abs(ratio - 1) <= 0.02,
    )
    report(
        f"{what_0} vs %timeit per loop",
        f"{wdbx_0:.2f}",
        f"{timeit_0:.3f}",
        f"{wdbx_0 / timeit_0:.1f}" if timeit_0 else "-",
        "< 5 µs",
        wdbx_0 < 5,
    )
    plain, timed, wdbx = bench_empty_cell(ip, 60 if options.quick else 300)
    over_time, over_wdbx = timed - plain, wdbx - plain
    report(
        "empty cell: overhead over a plain cell (µs), %%wdbx_profile vs %%time",
        f"{over_wdbx:.0f}",
        f"{over_time:.0f}",
        f"{over_wdbx / over_time:.2f}",
        "≤ 1.2",
        over_wdbx <= 1.2 * over_time,
    )
    few, many = bench_summary(ip, 60 if options.quick else 200)
    report(
        "cell + summary with 10,000 calls recorded vs 1 call (µs)",
        f"{many:.0f}",
        f"{few:.0f}",
        f"{many / few:.2f}",
        "constant (≤ 1.2)",
        many <= 1.2 * few,
    )
    imports = bench_import(5 if options.quick else 15)
    report(
        "import wdbx_notebook vs import pyinstrument (ms, fresh process)",
        f"{imports['wdbx']:.1f}",
        f"{imports['pyinstrument']:.1f}",
        f"{imports['wdbx'] / imports['pyinstrument']:.2f}",
        "≤ 1",
        imports["wdbx"] <= imports["pyinstrument"],
    )
    print(
        _row(
            [
                "(shown) from wdbx_notebook import get_performance_profiler (ms)",
                f"{imports['wdbx_decorator']:.1f}",
                f"{imports['pyinstrument']:.1f}",
                f"{imports['wdbx_decorator'] / imports['pyinstrument']:.2f}",
                "-",
                "-",
            ]
        )
    )
    first, plain_cell, numpy = bench_first_cell(2 if options.quick else 5)
    report(
        "first profiled cell after %load_ext vs a plain cell (ms, fresh process)",
        f"{first:.2f}" + (" (numpy loaded!)" if numpy else ""),
        f"{plain_cell:.2f}",
        f"{first / plain_cell:.1f}",
        "< 10 ms, no numpy",
        first < 10 and not numpy,
    )
    ok = all(results)
    print("\nall targets met" if ok else "\nsome targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
