"""IPython magics: argument parsing and display; :mod:`.cell` runs the cells.

``%load_ext wdbx_notebook`` registers :class:`WdbxMagics`:

* ``%%wdbx_profile NAME [-n N] [-q] [--no-memory] [--tracemalloc]`` and the line
  form ``%wdbx_profile NAME STATEMENT``;
* ``%wdbx_stats``, ``%wdbx_report``, ``%wdbx_autoprofile``, ``%wdbx_reset`` and
  ``%wdbx_compare``.

How a profiled cell runs (compiled once, only the body timed, the cell behaving
exactly as without the magic) is :mod:`wdbx_notebook.jupyter.cell`'s business;
this module parses the magic's line and prints the one-line summary
(:func:`~wdbx_notebook.jupyter.cell.summary_line`).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from ..profiler import PerformanceProfiler, UnknownOperationError, get_performance_profiler
from .cell import AsyncCellTransform, AutoProfiler, CellRunner, Outcome, summary_line

if TYPE_CHECKING:
    from .display import StatisticsTable

__all__ = ["WdbxMagics"]


def _unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


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
        self._autoprofiler: AutoProfiler | None = None
        self._parsed: dict[str, argparse.Namespace] = {}
        target = f"get_ipython().magics_manager.registry[{type(self).__name__!r}]"
        self._async_transform = AsyncCellTransform(
            shell, lambda line: self._parse_profile(line, None)[1], target
        )

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
        if transforms is not None and self._async_transform not in transforms:
            transforms.append(self._async_transform)

    def close(self) -> None:
        """Undo :meth:`install` and stop autoprofiling (called on unload)."""
        if self._autoprofiler is not None:
            self._autoprofiler.unregister()
            self._autoprofiler = None
        transforms = getattr(self._ip, "input_transformers_cleanup", None)
        if transforms is not None:
            while self._async_transform in transforms:
                transforms.remove(self._async_transform)

    # -- %%wdbx_profile ----------------------------------------------------------
    def _parse_line(self, line: str) -> argparse.Namespace:
        """``parse_argstring``, remembered per line: a cell run again parses nothing."""
        parsed = self._parsed.get(line)
        if parsed is None:
            parsed = parse_argstring(self.wdbx_profile, line)
            if len(self._parsed) >= 256:
                self._parsed.clear()
            self._parsed[line] = parsed
        return argparse.Namespace(**vars(parsed))

    def _parse_profile(self, line: str, cell: str | None) -> tuple[argparse.Namespace, str]:
        """The parsed options and the code to run (the cell, or the line form's statement)."""
        try:
            args = self._parse_line(line)
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

    def _runner(self, line: str, cell: str | None) -> tuple[CellRunner, str]:
        args, code = self._parse_profile(line, cell)
        track_memory: Any = None
        if args.no_memory:
            track_memory = False
        elif args.tracemalloc:
            track_memory = "tracemalloc"
        profiler, name = self.profiler, args.name
        try:
            first = [profiler.profile_block(name, track_memory=track_memory)]  # checks the name
        except (TypeError, ValueError) as err:
            raise UsageError(str(err)) from None

        def new_block() -> Any:
            if first:
                return first.pop()
            return profiler.profile_block(name, track_memory=track_memory)

        runner = CellRunner(
            self._ip,
            name,
            args.n,
            new_block,
            quiet=args.quiet,
            transform=self._async_transform.transform,
        )
        return runner, code

    def _report(self, runner: CellRunner, outcome: Outcome) -> None:
        if not runner.quiet and (outcome.durations_ms or outcome.error or outcome.interrupted):
            print(summary_line(outcome))

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
        """Run a cell (or one statement) and record each run as a call of an operation.

        The cell behaves exactly as without the magic: it runs in your
        namespace (its variables stay defined), its last expression is shown
        as ``Out[N]`` (not with a trailing ``;``), an exception shows the usual
        traceback naming this cell and stops "Run All", and top-level
        ``await`` works. After the cell, one line sums up its runs (none with
        ``-q``); ``%wdbx_stats`` shows every call recorded so far.

        What is timed: each run of the cell's code, from right before its first
        statement to right after its last one (an awaiting cell: the whole
        await); on the last run, also showing the last expression's value, so
        a value whose ``__repr__`` raises makes a failed call. What is not
        timed: parsing the magic's line, transforming and compiling the cell
        (done once for all runs, as ``%timeit`` does), reading memory, a
        failing run's traceback, the progress bar and the summary line. A
        failing run is recorded as a failed call and stops the runs; Ctrl-C
        stops them as interrupted: the interrupted run is not recorded, the
        completed ones are.

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
        runner, code = self._runner(line, cell)
        compiled = runner.compile(code)
        if compiled is not None:
            self._report(runner, runner.run(compiled))

    async def _wdbx_profile_async(self, line: str, cell: str | None) -> None:
        """The twin of :meth:`wdbx_profile` for cells that await (see :mod:`.cell`)."""
        __tracebackhide__ = True
        # Expand {var}/$var like IPython does for magic lines; a depth past the stack makes
        # var_expand read the user namespace only (not this frame's locals).
        line = self._ip.var_expand(line, sys.getrecursionlimit())
        runner, code = self._runner(line, cell)
        compiled = runner.compile(code)
        if compiled is not None:
            self._report(runner, await runner.run_async(compiled))

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
        from .display import StatisticsTable

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
        from .display import markdown_bundle

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
                self._autoprofiler = AutoProfiler(self._ip, lambda: self.profiler)
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

    @magic_arguments()
    @argument("engine", nargs="?", choices=["dask", "ray"], help="default: the one running")
    @argument("client", nargs="?", help="the Dask client's variable (default: the current one)")
    @line_magic
    def wdbx_collect(self, line: str) -> None:
        """Bring a Dask or Ray cluster's profiled calls into this notebook's profiler.

        Examples::

            %wdbx_collect
            %wdbx_collect dask
            %wdbx_collect dask my_client
            %wdbx_collect ray
        """
        from .collect import collect_magic

        args = parse_argstring(self.wdbx_collect, line)
        collect_magic(self.profiler, args.engine, args.client, self._ip.user_ns)

    @magic_arguments()
    @argument("name", metavar="NAME", help="the operation to explain")
    @argument("--slowest", type=int, default=10, metavar="N", help="slowest calls to list")
    @line_magic
    def wdbx_explain(self, line: str) -> Any:
        """Why an operation is slow and varies: waiting, GC, warm-up or a busy machine.

        Examples::

            %wdbx_explain load_data
            why = %wdbx_explain load_data --slowest 20
            why.to_dataframe()
        """
        from .explain import explain_magic

        args = parse_argstring(self.wdbx_explain, line)
        return explain_magic(self.profiler, _unquote(args.name), args.slowest)

    def _compare_baseline(self, path: str, names: list[str] | None) -> None:
        from ..compare import compare, comparison_markdown
        from ..persistence import load_session
        from .display import markdown_bundle

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
