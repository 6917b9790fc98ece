"""IPython magics: argument parsing and display only; the profiler does the work.

``%load_ext wdbx_notebook`` registers :class:`WdbxMagics`:

* ``%%wdbx_profile NAME [-n N] [-q] [--no-memory] [--tracemalloc]`` and the line
  form ``%wdbx_profile NAME STATEMENT``;
* ``%wdbx_stats``, ``%wdbx_report``, ``%wdbx_autoprofile``, ``%wdbx_reset`` and
  ``%wdbx_compare``.

How a profiled cell runs: the cell goes through ``shell.run_cell`` (so its
variables land in the user namespace, its last expression is displayed and a
failure shows IPython's own traceback) inside the shared profiler's
``profile_block``. When the cell failed, the outer cell's result is marked as
failed too, so a notebook's "Run All" stops there exactly as without the magic.

Top-level ``await``: IPython turns ``%%magic`` cells into a plain call, which
cannot await, and a second event loop cannot run inside the kernel's. So an
input transformer rewrites a ``%%wdbx_profile`` cell whose body awaits into
``await <this magic's async twin>(...)``: the whole cell is then a top-level
await cell that IPython (terminal or kernel) runs on its own loop, and the
timing covers the whole await.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..profiler import PerformanceProfiler, UnknownOperationError, get_performance_profiler
from ..report.text import printable
from .display import StatisticsTable, markdown_bundle

__all__ = ["WdbxMagics"]

#: Runs taking longer than this in all (seconds) get a progress bar under ``-n``.
PROGRESS_AFTER_S = 1.0

_CELL_MAGIC = "%%wdbx_profile"
_LINE_MAGIC = "%wdbx_profile"
_AUTOPROFILE_NAME_WIDTH = 40


def format_duration_ms(value: float | None) -> str:
    """``"812 us"``, ``"12.3 ms"``, ``"2.41 s"``: three significant digits, readable units."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.3g} us"
    if value < 1000:
        return f"{value:.3g} ms"
    return f"{value / 1000:.3g} s"


def format_bytes(value: float | None, signed: bool = True) -> str:
    """``"+1.20 MiB"``, ``"-4.0 KiB"``, ``"+512 B"``; ``"n/a"`` when not measured."""
    if value is None:
        return "n/a"
    sign = ("+" if value >= 0 else "-") if signed else ("-" if value < 0 else "")
    size = abs(value)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{sign}{size / scale:.2f} {unit}"
    return f"{sign}{size:.0f} B"


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def _in_kernel(shell: Any) -> bool:
    """Whether a Jupyter kernel (with a front end that may render widgets) runs this shell."""
    return getattr(shell, "kernel", None) is not None


class _Progress:
    """A progress bar for ``-n``: an ipywidgets bar in a kernel, a text line elsewhere."""

    def __init__(self, shell: Any, name: str, total: int) -> None:
        self.total = total
        self.name = name
        self.widget: Any = None
        if _in_kernel(shell):
            try:
                import ipywidgets

                self.widget = ipywidgets.IntProgress(
                    value=0, min=0, max=total, description=printable(name, 20), bar_style="info"
                )
                display(self.widget)
            except ImportError:
                self.widget = None

    def update(self, done: int) -> None:
        if self.widget is not None:
            self.widget.value = done
            if done >= self.total:
                self.widget.bar_style = "success"
            return
        width = 30
        filled = width * done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r{printable(self.name, 30)} [{bar}] {done}/{self.total}")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def fail(self, done: int) -> None:
        if self.widget is not None:
            self.widget.bar_style = "danger"
        else:
            sys.stderr.write(f"\n{printable(self.name)}: stopped at run {done} of {self.total}\n")
            sys.stderr.flush()


class _AutoProfiler:
    """Records every top-level cell as its own operation (``%wdbx_autoprofile on``).

    Cells run by ``%%wdbx_profile``/``%wdbx_profile`` are left out: they are
    recorded under their own name already, and counting them twice would
    double their time in the totals. Cells nested in other cells (a magic
    running code) are part of the outer cell. The cost per cell is one
    ``profile_block``: two clock reads and two memory reads.
    """

    def __init__(self, shell: Any, profiler: Callable[[], PerformanceProfiler]) -> None:
        self.shell = shell
        self.profiler = profiler
        # One entry per running cell (None: not recorded), so nested cells pair up.
        self.stack: list[Any] = []

    def _cell_name(self, info: Any) -> str:
        count = self.shell.execution_count
        if getattr(info, "store_history", False):
            count -= 1  # IPython counts a stored cell before announcing it
        raw = getattr(info, "raw_cell", "") or ""
        first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
        if len(first) > _AUTOPROFILE_NAME_WIDTH:
            first = first[: _AUTOPROFILE_NAME_WIDTH - 1] + "…"
        return f"cell {count}: {first}"

    def pre_run_cell(self, info: Any) -> None:
        block = None
        try:
            raw = (getattr(info, "raw_cell", "") or "").lstrip()
            if not self.stack and raw and not raw.startswith(("%%wdbx_profile", "%wdbx_profile ")):
                block = self.profiler().profile_block(self._cell_name(info))
                block.__enter__()
        except Exception:  # never break the user's cell for the sake of a statistic
            block = None
        self.stack.append(block)

    def post_run_cell(self, result: Any) -> None:
        if not self.stack:
            return
        block = self.stack.pop()
        if block is None or result is None:
            return
        if result.error_before_exec is not None:
            return  # the cell never ran (syntax error): there is no call to record
        error = result.error_in_exec
        try:
            if error is None:
                block.__exit__(None, None, None)
            else:
                block.__exit__(type(error), error, error.__traceback__)
        except Exception:
            pass

    def register(self) -> None:
        self.shell.events.register("pre_run_cell", self.pre_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def unregister(self) -> None:
        for event, callback in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            with contextlib.suppress(ValueError):  # already unregistered
                self.shell.events.unregister(event, callback)


class _Runs:
    """The runs of one ``%%wdbx_profile`` call: their figures, progress and summary.

    Shared by the plain and the awaiting form of the magic, which differ only
    in how they run the cell.
    """

    def __init__(self, magics: WdbxMagics, args: argparse.Namespace) -> None:
        self.magics = magics
        self.args = args
        self.outer = getattr(magics._ip.displayhook, "exec_result", None)
        self.durations: list[float] = []
        self.memory: list[int | None] = []
        self.progress: _Progress | None = None
        self.error: BaseException | None = None

    def after(self, run: int, block: Any, result: Any) -> bool:
        """Stop timing run number ``run`` and note its figures; True when the runs must stop."""
        args = self.args
        self.error = self.magics._finish_run(block, result, self.outer)
        if (
            block.duration_ms is not None
            and result is not None
            and result.error_before_exec is None
        ):
            self.durations.append(block.duration_ms)
            self.memory.append(block.memory_delta)
        if (
            self.progress is None
            and not args.quiet
            and self.magics._needs_progress(run, args.n, sum(self.durations))
        ):
            self.progress = _Progress(self.magics._ip, args.name, args.n)
        if self.error is not None:
            if self.progress is not None:
                self.progress.fail(run)
            return True
        if self.progress is not None:
            self.progress.update(run)
        return False

    def finish(self) -> None:
        """Print the one-line summary (unless ``-q``)."""
        if not self.args.quiet and (self.durations or self.error is not None):
            print(self.magics._summary(self.args, self.durations, self.memory, self.error))


@magics_class
class WdbxMagics(Magics):
    """The wdbx_notebook magics, bound to one profiler (the shared one by default).

    Example (an IPython shell of your own; tests/test_magics.py runs this)::

        from IPython.testing.globalipapp import start_ipython
        ip = start_ipython()
        ip.register_magics(WdbxMagics(ip))
    """

    def __init__(self, shell: Any = None, profiler: PerformanceProfiler | None = None) -> None:
        super().__init__(shell)
        self._profiler = profiler
        self._autoprofiler: _AutoProfiler | None = None
        self._transformer_installed = False

    @property
    def _ip(self) -> Any:
        """The shell, typed loosely: Magics declares it optional, but registered magics have one."""
        return self.shell

    @property
    def profiler(self) -> PerformanceProfiler:
        """The profiler the magics record into and read from."""
        return self._profiler if self._profiler is not None else get_performance_profiler()

    # -- setup -------------------------------------------------------------------
    def install(self) -> None:
        """Add the input transformer that lets ``%%wdbx_profile`` cells await."""
        transforms = getattr(self._ip, "input_transformers_cleanup", None)
        if transforms is not None and self._async_cell_transform not in transforms:
            transforms.append(self._async_cell_transform)
            self._transformer_installed = True

    def close(self) -> None:
        """Undo :meth:`install` and stop autoprofiling (called on unload)."""
        if self._autoprofiler is not None:
            self._autoprofiler.unregister()
            self._autoprofiler = None
        transforms = getattr(self._ip, "input_transformers_cleanup", None)
        if transforms is not None:
            while self._async_cell_transform in transforms:
                transforms.remove(self._async_cell_transform)
        self._transformer_installed = False

    def _needs_async(self, body: str) -> bool:
        try:
            transformed = self._ip.transform_cell(body)
            return bool(
                self._ip.should_run_async(
                    body, transformed_cell=transformed, preprocessing_exc_tuple=None
                )
            )
        except Exception:
            # A cell IPython cannot transform runs the ordinary way, which reports the error.
            return False

    def _async_cell_transform(self, lines: list[str]) -> list[str]:
        if not lines or not lines[0].startswith((_CELL_MAGIC, _LINE_MAGIC)):
            return lines
        cell_form = lines[0].startswith(_CELL_MAGIC)
        line = lines[0][len(_CELL_MAGIC if cell_form else _LINE_MAGIC) :]
        if line.strip().endswith("?") or not line or not line[0].isspace():
            return lines  # help (%%wdbx_profile?) or another magic's name
        body: str | None
        if cell_form:
            body = "".join(lines[1:])
            code = body
        else:
            if any(rest.strip() for rest in lines[1:]):
                return lines  # a line magic among other code: awaiting is the cell's business
            body = None
            try:
                code = self._parse_profile(line, None)[1]
            except UsageError:
                return lines  # reported when the magic runs
        if not code.strip() or not self._needs_async(code):
            return lines
        target = f"get_ipython().magics_manager.registry[{type(self).__name__!r}]"
        return [f"await {target}._wdbx_profile_async({line.strip()!r}, {body!r})\n"]

    # -- %%wdbx_profile ----------------------------------------------------------
    def _parse_profile(self, line: str, cell: str | None) -> tuple[argparse.Namespace, str]:
        """The parsed options and the code to run (the cell, or the line form's statement)."""
        try:
            args = parse_argstring(self.wdbx_profile, line)
        except UsageError as err:
            if "required" not in str(err):
                raise
            # argparse would also call the line form's statement "required": say what is missing.
            raise UsageError(
                "the operation name is missing: %%wdbx_profile NAME [-n N] [-q] [--no-memory] "
                "[--tracemalloc] (then the cell), or %wdbx_profile NAME STATEMENT"
            ) from None
        if cell is not None:
            if args.statement:
                # Options written after the name: parse them again in front of it.
                args = parse_argstring(self.wdbx_profile, " ".join([*args.statement, args.name]))
                if args.statement:
                    raise UsageError(
                        "%%wdbx_profile takes one operation name and options, then the cell; "
                        f"unexpected: {' '.join(args.statement)!r}"
                    )
            code = cell
        else:
            if not args.statement:
                raise UsageError(
                    "%wdbx_profile NAME STATEMENT needs a statement after the name, "
                    "e.g. %wdbx_profile sort sorted(data); use %%wdbx_profile NAME for a whole cell"
                )
            code = self._statement_text(line, args.name, args.statement)
        args.name = _unquote(args.name)
        if not args.name.strip():
            raise UsageError("the operation name must not be empty, e.g. %%wdbx_profile load_data")
        if args.n < 1:
            raise UsageError(f"-n must be at least 1 (the number of runs), got {args.n}")
        if args.no_memory and args.tracemalloc:
            raise UsageError("choose one of --no-memory and --tracemalloc, not both")
        return args, code

    @staticmethod
    def _statement_text(line: str, name_token: str, statement: list[str]) -> str:
        """The statement as written (argument splitting would lose its spacing)."""
        for match in re.finditer(r"(?:^|\s)" + re.escape(name_token) + r"(?=\s|$)", line):
            rest = line[match.end() :].strip()
            if rest.startswith(statement[0]):
                return rest
        return " ".join(statement)

    def _begin(self, args: argparse.Namespace) -> Any:
        track_memory: Any = None
        if args.no_memory:
            track_memory = False
        elif args.tracemalloc:
            track_memory = "tracemalloc"
        profiler = self.profiler
        try:
            profiler.profile_block(
                args.name, track_memory=track_memory
            )  # a bad name fails before any run
        except (TypeError, ValueError) as err:
            raise UsageError(str(err)) from None
        return lambda: profiler.profile_block(args.name, track_memory=track_memory)

    def _finish_run(self, block: Any, result: Any, outer: Any) -> BaseException | None:
        """Stop timing one run; return its error (None when it succeeded)."""
        if self._ip.displayhook is not None:
            # The nested run cleared it; later output of the outer cell belongs to the outer result.
            self._ip.displayhook.exec_result = outer
        if result is None:
            return None
        if result.error_before_exec is not None:
            error = result.error_before_exec  # never ran: nothing to record
        else:
            error = result.error_in_exec
            if error is None:
                block.__exit__(None, None, None)
            else:
                block.__exit__(type(error), error, error.__traceback__)
        if error is not None and outer is not None and outer.error_in_exec is None:
            # Marks the whole cell as failed (kernel reply status "error"), as without the magic.
            outer.error_in_exec = error
        return error

    def _summary(
        self, args: argparse.Namespace, durations: list[float], memory: list[int | None], error: Any
    ) -> str:
        name = args.name
        try:
            stats = self.profiler.get_statistics(name)
        except KeyError:
            stats = None
        label = f"wdbx_profile {printable(name)!s}"
        if error is not None:
            last = format_duration_ms(durations[-1] if durations else None)
            this = f"failed after {last} ({type(error).__name__})"
            if len(durations) > 1:
                this += f" on run {len(durations)} of {args.n}"
        elif len(durations) == 1:
            this = f"{format_duration_ms(durations[0])}, memory {format_bytes(memory[0])}"
        else:
            known = [m for m in memory if m is not None]
            total_memory = format_bytes(sum(known)) if known else "n/a"
            mean = format_duration_ms(sum(durations) / len(durations))
            this = (
                f"{len(durations)} runs, mean {mean} (min {format_duration_ms(min(durations))}), "
                f"memory {total_memory} in all"
            )
        if stats is None or not stats["call_count"]:
            return f"{label}: {this}"
        overall = f"{stats['call_count']} call{'s' if stats['call_count'] != 1 else ''}"
        if stats["error_count"]:
            overall += f" ({stats['error_count']} failed)"
        if stats["success_count"]:
            overall += (
                f", mean {format_duration_ms(stats['avg_duration_ms'])}, "
                f"p95 {format_duration_ms(stats['p95_duration_ms'])}"
            )
        return f"{label}: {this} | {overall}"

    def _needs_progress(self, done: int, total: int, elapsed_ms: float) -> bool:
        if done >= total:
            return False
        projected_s = elapsed_ms / done * total / 1000
        return projected_s > PROGRESS_AFTER_S

    @magic_arguments()
    @argument(
        "-n",
        type=int,
        default=1,
        metavar="N",
        help="run the cell N times, recording each run (default 1)",
    )
    @argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing (no summary line, no progress bar)",
    )
    @argument("--no-memory", action="store_true", help="time only; do not measure memory")
    @argument(
        "--tracemalloc",
        action="store_true",
        help="measure the Python heap exactly with tracemalloc (slower) instead of resident memory",
    )
    @argument("name", help="the operation to record the runs under")
    @argument(
        "statement",
        nargs=argparse.REMAINDER,
        help="line form only: the statement to run and record",
    )
    @line_cell_magic
    def wdbx_profile(self, line: str, cell: str | None = None) -> None:
        """Run a cell (or one statement) and record it as a call of an operation.

        The cell runs in your namespace as usual: its variables stay defined,
        its last expression is displayed, an exception shows the usual
        traceback (and is recorded as a failed call). Top-level ``await``
        works, and the time covers the whole await. After the cell, one line
        sums up this run and the operation so far.

        Examples::

            %%wdbx_profile load_data
            df = pd.read_csv("data.csv")

            %%wdbx_profile sort_1e6 -n 5
            np.sort(np.random.rand(1_000_000))

            %%wdbx_profile fetch --no-memory
            page = await client.get(url)

            %wdbx_profile sort sorted(values)

        Then ``%wdbx_stats`` shows the statistics table and ``%wdbx_report``
        the report.
        """
        __tracebackhide__ = True  # keep this frame out of user tracebacks
        args, code = self._parse_profile(line, cell)
        new_block = self._begin(args)
        runs = _Runs(self, args)
        for run in range(1, args.n + 1):
            block = new_block()
            block.__enter__()
            try:
                # Only the last run shows its result (and fires the cell events).
                result = self._ip.run_cell(code, store_history=False, silent=run < args.n)
            except BaseException as exc:  # run_cell catches nearly all; stop timing anyway
                block.__exit__(type(exc), exc, exc.__traceback__)
                raise
            if runs.after(run, block, result):
                break
        runs.finish()

    async def _wdbx_profile_async(self, line: str, cell: str | None) -> None:
        """The twin of :meth:`wdbx_profile` for cells that await (see the module docstring)."""
        __tracebackhide__ = True
        # Expand {var}/$var like IPython does for magic lines; a depth past the stack makes
        # var_expand read the user namespace only (not this frame's locals).
        line = self._ip.var_expand(line, sys.getrecursionlimit())
        args, code = self._parse_profile(line, cell)
        new_block = self._begin(args)
        shell = self._ip
        runs = _Runs(self, args)
        for run in range(1, args.n + 1):
            silent = run < args.n
            block = new_block()
            block.__enter__()
            result = None
            try:
                try:
                    transformed = shell.transform_cell(code)
                    preprocessing = None
                except Exception:
                    transformed, preprocessing = code, sys.exc_info()
                result = await shell.run_cell_async(
                    code,
                    store_history=False,
                    silent=silent,
                    transformed_cell=transformed,
                    preprocessing_exc_tuple=preprocessing,
                )
            except BaseException as exc:
                block.__exit__(type(exc), exc, exc.__traceback__)
                raise
            finally:
                # What run_cell does after run_cell_async (cell events must pair up).
                shell.events.trigger("post_execute")
                if not silent:
                    shell.events.trigger("post_run_cell", result)
            if runs.after(run, block, result):
                break
        runs.finish()

    # -- reading -----------------------------------------------------------------
    def _check_names(self, names: list[str]) -> list[str]:
        names = [_unquote(n) for n in names]
        for name in names:
            try:
                self.profiler.get_statistics(name)
            except UnknownOperationError as err:
                raise UsageError(str(err)) from None
            except (TypeError, ValueError) as err:
                raise UsageError(str(err)) from None
        return names

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="operations to show (default: all)")
    @line_magic
    def wdbx_stats(self, line: str) -> StatisticsTable:
        """Show the statistics table: one row per operation.

        Slow operations carry a bar and a *slow* mark, failing ones are tinted
        red, and stability warnings follow the table. The returned object
        displays as HTML with a text twin; ``.dataframe`` holds the numbers.

        Examples::

            %wdbx_stats
            %wdbx_stats load_data sort_1e6
            table = %wdbx_stats
            table.dataframe.to_csv("stats.csv")
            table.styled()  # the same as a pandas Styler
        """
        args = parse_argstring(self.wdbx_stats, line)
        names = self._check_names(args.names) if args.names else None
        return StatisticsTable(self.profiler, names)

    @magic_arguments()
    @argument(
        "-f",
        "--format",
        dest="format_type",
        choices=("text", "markdown", "html"),
        default="html",
        help="how to show the report (default: html, with a text twin)",
    )
    @argument(
        "-o",
        "--output",
        metavar="PATH",
        help="also write the report to PATH (in the chosen format)",
    )
    @line_magic
    def wdbx_report(self, line: str) -> None:
        """Show the performance report, and write it to a file with ``-o``.

        Examples::

            %wdbx_report
            %wdbx_report -f markdown -o performance_report.md
            %wdbx_report -f text
        """
        args = parse_argstring(self.wdbx_report, line)
        from ..report import PerformanceReport

        report = PerformanceReport(self.profiler, args.format_type)
        if args.format_type == "markdown":
            bundle = markdown_bundle(report.to_markdown())
        elif args.format_type == "html":
            bundle = {"text/plain": report.to_text(), "text/html": report.to_html()}
        else:
            bundle = {"text/plain": report.to_text()}
        display(bundle, raw=True)
        if args.output:
            path = _unquote(args.output)
            try:
                written = report.save(path, args.format_type)
            except OSError as err:
                raise UsageError(
                    f"could not write the report to {path!r}: {err.strerror or err}"
                ) from None
            print(f"Report written to {written}")

    @magic_arguments()
    @argument("state", nargs="?", choices=("on", "off"), help="on: record every cell; off: stop")
    @line_magic
    def wdbx_autoprofile(self, line: str) -> None:
        """Record every cell as its own operation, named from its number and first line.

        Then ``%wdbx_stats`` answers "which cells are slow?" without decorating
        anything. Off by default; costs two clock and two memory reads per cell.
        Cells run under ``%%wdbx_profile`` are not recorded again (they already
        are, under their own name). Without an argument, says whether it is on.

        Examples::

            %wdbx_autoprofile on
            %wdbx_stats
            %wdbx_autoprofile off
        """
        args = parse_argstring(self.wdbx_autoprofile, line)
        if args.state is None:
            print(f"wdbx autoprofile is {'on' if self._autoprofiler is not None else 'off'}")
        elif args.state == "on":
            if self._autoprofiler is None:
                self._autoprofiler = _AutoProfiler(self._ip, lambda: self.profiler)
                self._autoprofiler.register()
            print("wdbx autoprofile is on: each cell is recorded as 'cell N: <first line>'")
        else:
            if self._autoprofiler is not None:
                self._autoprofiler.unregister()
                self._autoprofiler = None
            print("wdbx autoprofile is off")

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="operations to reset (default: all)")
    @line_magic
    def wdbx_reset(self, line: str) -> None:
        """Forget the recorded calls of some operations, or of all.

        Examples::

            %wdbx_reset
            %wdbx_reset load_data
        """
        args = parse_argstring(self.wdbx_reset, line)
        if args.names:
            names = self._check_names(args.names)
            for name in names:
                self.profiler.reset_statistics(name)
            print(
                f"Reset {len(names)} operation{'s' if len(names) != 1 else ''}: {', '.join(names)}"
            )
        else:
            count = len(self.profiler.get_all_operations())
            self.profiler.reset_statistics()
            print(f"Reset all operations ({count} had calls)")

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="operations to compare (default: all)")
    @argument(
        "--baseline",
        metavar="PATH",
        help="compare against a session saved with profiler.save(PATH)",
    )
    @line_magic
    def wdbx_compare(self, line: str) -> None:
        """Compare operations side by side, or this session against a saved baseline.

        Without ``--baseline`` it shows the comparison widget (in a notebook;
        the comparison table elsewhere). With ``--baseline PATH`` it shows the
        change of every operation since the session saved at PATH.

        Examples::

            %wdbx_compare sort_python sort_numpy
            %wdbx_compare --baseline baseline.json
        """
        args = parse_argstring(self.wdbx_compare, line)
        if args.baseline is not None:
            # Names may exist in the baseline only, so the comparison checks them, not us.
            wanted = [_unquote(n) for n in args.names] or None
            self._compare_baseline(_unquote(args.baseline), wanted)
            return
        from .widgets import show_comparison

        # No names: None, so the widget's Refresh and Live pick up operations added later.
        names = self._check_names(args.names) if args.names else None
        show_comparison(names, self.profiler)

    def _compare_baseline(self, path: str, names: list[str] | None) -> None:
        from ..compare import compare, comparison_markdown
        from ..persistence import load_session

        try:
            baseline = load_session(path)
        except FileNotFoundError:
            raise UsageError(
                f"no saved session at {path!r}; save one with profiler.save({path!r})"
            ) from None
        except (OSError, ValueError, TypeError, KeyError) as err:
            raise UsageError(f"could not load the baseline {path!r}: {err}") from None
        try:
            frame = compare(baseline, self.profiler, operations=names)
        except (KeyError, ValueError, TypeError) as err:
            reason = err.args[0] if isinstance(err, KeyError) and err.args else err
            raise UsageError(f"could not compare with the baseline {path!r}: {reason}") from None
        display(markdown_bundle(comparison_markdown(frame)), raw=True)
