"""Running a ``%%wdbx_profile`` cell: compile once, time the body only, behave like the plain cell.

The magic hands the cell body to :class:`CellRunner`, which does what IPython's
``run_cell`` does for a plain cell, in the same order, but only once however
many runs ``-n`` asks for, and outside the timing (as ``%timeit`` does):

* transform the body (``%magic`` lines, ``!shell``), cache it under the
  *outer* cell's number (so tracebacks say ``Cell In[N]`` for cell N, also
  later, in functions defined there), parse it, apply the shell's AST
  transformers and compile it: an error here shows IPython's own message and
  nothing is recorded;
* run the compiled body ``n`` times in the user namespace, each run inside
  one ``profile_block``: the clock starts right before the code and stops
  right after it, before any traceback is rendered;
* on the last run, show the value of a trailing expression through the
  display hook, unless the body ends with ``;`` (IPython's display hook would
  look for the ``;`` in the magic's line, not in the body). That display is
  part of the last run, so a value that cannot be shown (its ``__repr__``
  raises) makes the run a failed call, as the kernel reports it;
* a failing run shows IPython's single traceback and marks the outer cell as
  failed (the kernel replies "error", "Run All" stops); a ``KeyboardInterrupt``
  ends the runs as *interrupted*: the interrupted run is not recorded, the
  completed ones are.

Top-level ``await``: IPython turns a ``%%magic`` cell into a plain call, which
cannot await, and a second event loop cannot run inside the kernel's. So
:func:`async_cell_transform` (an input transformer) rewrites a
``%%wdbx_profile`` cell whose body awaits into ``await <the magic's async
twin>(...)``: the whole cell is then a top-level await cell that IPython
(terminal or kernel) runs on its own loop, and :meth:`CellRunner.run_async`
awaits the body.

:class:`AutoProfiler` is ``%wdbx_autoprofile on``: one ``profile_block`` per
top-level cell, from ``pre_run_cell`` to ``post_run_cell``.
"""

from __future__ import annotations

import ast
import bdb
import contextlib
import inspect
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from .._units import EMPTY, format_bytes, format_duration_ms

__all__ = [
    "PROGRESS_AFTER_S",
    "AutoProfiler",
    "CellRunner",
    "CompiledCell",
    "Outcome",
    "printable",
    "summary_line",
]

#: Runs taking longer than this in all (seconds) get a progress bar under ``-n``.
PROGRESS_AFTER_S = 1.0

#: Seconds between two redraws of the progress bar (each redraw is a message to the front end).
PROGRESS_EVERY_S = 0.1

_AUTOPROFILE_NAME_WIDTH = 40
_TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)


def printable(name: str, width: int | None = None) -> str:
    """A name safe to print: control, bidi and zero-width characters escaped,
    shortened to ``width`` with an ellipsis when given.

    >>> printable("a\\nb\\u202e")
    'a\\\\nb\\\\u202e'
    """
    safe = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in name
    )
    if width is not None and len(safe) > width:
        safe = safe[: width - 1] + "…"
    return safe


def _in_kernel(shell: Any) -> bool:
    """Whether a Jupyter kernel (with a front end that may render widgets) runs this shell."""
    return getattr(shell, "kernel", None) is not None


def _outer_result(shell: Any) -> Any:
    """The ExecutionResult of the cell that runs the magic (None when called from code)."""
    return getattr(shell.displayhook, "exec_result", None)


def _fail_outer(outer: Any, error: BaseException, before_exec: bool = False) -> None:
    """Mark the outer cell as failed, as the plain cell would be (kernel reply "error")."""
    if outer is None or outer.error_in_exec is not None or outer.error_before_exec is not None:
        return
    if before_exec:
        outer.error_before_exec = error
    else:
        outer.error_in_exec = error


# -- compiling ---------------------------------------------------------------------


@dataclass
class CompiledCell:
    """The body of one cell, compiled once for every run.

    ``silent`` runs the whole body without showing anything (``None`` until
    needed); ``shown`` is the displaying run: ``("exec", code)`` and
    ``("show", code)`` steps, the latter an ``eval`` whose value goes to the
    display hook.
    """

    silent: CodeType | None
    shown: list[tuple[str, CodeType]] | None
    is_async: bool


def _is_coroutine_code(code: CodeType) -> bool:
    return bool(code.co_flags & inspect.CO_COROUTINE)


def _interactive_nodes(shell: Any, nodes: list[ast.stmt]) -> tuple[list[ast.stmt], int]:
    """``(nodes, k)``: the last ``k`` nodes show their value (``ast_node_interactivity``)."""
    mode = shell.ast_node_interactivity
    if not nodes:
        return nodes, 0
    if mode == "last_expr_or_assign":
        last = nodes[-1]
        target: Any = None
        if isinstance(last, ast.Assign) and len(last.targets) == 1:
            target = last.targets[0]
        elif isinstance(last, (ast.AugAssign, ast.AnnAssign)):
            target = last.target
        if isinstance(target, ast.Name):
            echo = ast.Expr(ast.Name(target.id, ast.Load()))
            ast.copy_location(echo, last)
            ast.fix_missing_locations(echo)
            nodes = [*nodes, echo]
        mode = "last_expr"
    if mode == "last_expr":
        return nodes, 1 if isinstance(nodes[-1], ast.Expr) else 0
    if mode == "last":
        return nodes, 1
    if mode == "all":
        return nodes, len(nodes)
    return nodes, 0


class CellRunner:
    """Compiles one cell body and runs it ``n`` times, each run a ``profile_block``.

    ``new_block()`` returns a fresh, not yet entered block of the profiler;
    ``transform`` is the shell's ``transform_cell`` (the magic passes a cached
    one, since its input transformer already transformed the body).
    """

    def __init__(
        self,
        shell: Any,
        name: str,
        n: int,
        new_block: Callable[[], Any],
        *,
        quiet: bool = False,
        transform: Callable[[str], str] | None = None,
    ) -> None:
        self.shell = shell
        self.name = name
        self.n = n
        self.new_block = new_block
        self.quiet = quiet
        self.transform = transform or shell.transform_cell
        self.outer = _outer_result(shell)
        self.outcome = Outcome(name=name, total=n)
        self._progress: Progress | None = None
        self._started = time.perf_counter()

    # -- compile -------------------------------------------------------------
    def compile(self, body: str) -> CompiledCell | None:
        """Transform, parse and compile ``body`` as IPython would; None when it cannot
        run (the error is shown as IPython shows it, and the outer cell fails)."""
        shell = self.shell
        try:
            source = self.transform(body)
        except Exception as err:
            shell.showtraceback()
            _fail_outer(self.outer, err, before_exec=True)
            return None
        outer = self.outer
        count = outer.execution_count if outer is not None else shell.execution_count
        compiler = shell.compile
        cell_name = compiler.cache(source, count, raw_code=body)
        try:
            tree = compiler.ast_parse(source, filename=cell_name)
        except shell.custom_exceptions as err:
            shell.CustomTB(*sys.exc_info())
            _fail_outer(outer, err, before_exec=True)
            return None
        except IndentationError as err:
            shell.showindentationerror()
            _fail_outer(outer, err, before_exec=True)
            return None
        except (OverflowError, SyntaxError, ValueError, TypeError, MemoryError) as err:
            shell.showsyntaxerror()
            _fail_outer(outer, err, before_exec=True)
            return None
        try:
            tree = shell.transform_ast(tree)
            return self._compile_nodes(tree.body, cell_name, body)
        except Exception as err:  # InputRejected, or code that parses but cannot compile
            shell.showtraceback()
            _fail_outer(outer, err, before_exec=True)
            return None

    def _may_show(self, body: str) -> bool:
        if self.outer is not None and getattr(self.outer.info, "silent", False):
            return False
        semicolon = self.shell.displayhook.semicolon_at_end_of_expression
        try:
            return not semicolon(body)
        except Exception:  # tokenize trouble: IPython's own display hook would show the value
            return True

    def _compile_nodes(self, nodes: list[ast.stmt], cell_name: str, body: str) -> CompiledCell:
        compiler = self.shell.compile
        flags = _TOP_LEVEL_AWAIT if self.shell.autoawait else 0
        shown_nodes, k = _interactive_nodes(self.shell, list(nodes))
        shown: list[tuple[str, CodeType]] | None = None
        silent: CodeType | None = None
        with compiler.extra_flags(flags):
            if k and self._may_show(body):
                shown = []
                plain = shown_nodes[: len(shown_nodes) - k]
                if plain:
                    module = ast.Module(plain, type_ignores=[])
                    shown.append(("exec", compiler(module, cell_name, "exec")))
                for node in shown_nodes[len(shown_nodes) - k :]:
                    if isinstance(node, ast.Expr):
                        expression = ast.Expression(node.value)
                        shown.append(("show", compiler(expression, cell_name, "eval")))
                    else:  # 'all'/'last' interactivity: a statement in single mode
                        interactive = ast.Interactive([node])
                        shown.append(("exec", compiler(interactive, cell_name, "single")))
            if shown is None or self.n > 1:
                silent = compiler(ast.Module(list(nodes), type_ignores=[]), cell_name, "exec")
        codes = [code for _, code in shown or ()] + ([silent] if silent is not None else [])
        return CompiledCell(silent, shown, any(_is_coroutine_code(c) for c in codes))

    # -- run -----------------------------------------------------------------
    def run(self, cell: CompiledCell) -> Outcome:
        """Run ``cell`` ``n`` times (stopping at the first failure) and return the outcome."""
        __tracebackhide__ = True
        if cell.is_async:
            # Only reached when the input transformer is missing (or the cell awaits
            # in a place it does not rewrite): there is no loop to await on here.
            from IPython.core.error import UsageError

            raise UsageError(
                "this cell awaits, which %%wdbx_profile supports only as the whole cell "
                "(%%wdbx_profile NAME, then the body) with the extension loaded"
            )
        g, ns = self.shell.user_global_ns, self.shell.user_ns
        n, new_block, silent, shown = self.n, self.new_block, cell.silent, cell.shown
        for run in range(1, n + 1):
            block = new_block()
            block.__enter__()
            try:
                if shown is None or run < n:
                    exec(silent, g, ns)  # type: ignore[arg-type]
                else:
                    for kind, code in shown:
                        if kind == "exec":
                            exec(code, g, ns)
                        else:
                            failure = self._show(eval(code, g, ns))
                            if failure is not None:
                                return self._display_failed(block, failure, run)
            except BaseException as exc:
                self._failed(block, exc, run)
                break
            self._succeeded(block, run)
        return self._finish()

    async def run_async(self, cell: CompiledCell) -> Outcome:
        """:meth:`run` for a body that awaits (run by IPython's loop, see the module docstring)."""
        __tracebackhide__ = True
        g, ns = self.shell.user_global_ns, self.shell.user_ns
        n, new_block, silent, shown = self.n, self.new_block, cell.silent, cell.shown
        for run in range(1, n + 1):
            block = new_block()
            block.__enter__()
            try:
                if shown is None or run < n:
                    if _is_coroutine_code(silent):  # type: ignore[arg-type]
                        await eval(silent, g, ns)  # type: ignore[arg-type]
                    else:
                        exec(silent, g, ns)  # type: ignore[arg-type]
                else:
                    for kind, code in shown:
                        value = eval(code, g, ns)
                        if _is_coroutine_code(code):
                            value = await value
                        if kind == "show" and (failure := self._show(value)) is not None:
                            return self._display_failed(block, failure, run)
            except BaseException as exc:
                self._failed(block, exc, run)
                break
            self._succeeded(block, run)
        return self._finish()

    # -- bookkeeping shared by both loops ---------------------------------------
    @staticmethod
    def _show(value: Any) -> BaseException | None:
        """Show ``value`` through the display hook; the exception its formatting raised
        (IPython shows it and carries on, the kernel replies "error"), else None."""
        before = getattr(sys, "last_value", None)
        sys.displayhook(value)
        after = getattr(sys, "last_value", None)
        return after if after is not before and isinstance(after, BaseException) else None

    def _succeeded(self, block: Any, run: int) -> None:
        """One run returned: end its block (recording it), then count it."""
        block.__exit__(None, None, None)
        outcome = self.outcome
        outcome.runs = run
        duration = block.duration_ms
        if duration is not None:
            outcome.durations_ms.append(duration)
            outcome.memory.append(block.memory_delta)
        if run < self.n and not self.quiet:
            self._draw_progress(run)
        elif self._progress is not None:
            self._progress.update(run, force=True)
            self._progress.close("success")

    def _display_failed(self, block: Any, error: BaseException, run: int) -> Outcome:
        """The last run's value could not be shown: record the run as failed, and stop."""
        block.__exit__(type(error), error, error.__traceback__)
        outcome = self.outcome
        outcome.runs = run
        outcome.error = error
        outcome.failed_duration_ms = block.duration_ms
        if self._progress is not None:
            self._progress.close("danger")
        return self._finish()

    def _failed(self, block: Any, exc: BaseException, run: int) -> None:
        """One run raised: record it (unless interrupted), then show IPython's traceback.

        Called inside the ``except`` clause of a loop that ran the code itself, so
        the traceback's first frame is that loop, which IPython skips as it skips
        its own ``run_code``.
        """
        __tracebackhide__ = True
        outcome = self.outcome
        outcome.runs = run - 1
        if isinstance(exc, KeyboardInterrupt):
            outcome.interrupted = True  # the block is dropped: nothing recorded for this run
        else:
            block.__exit__(type(exc), exc, exc.__traceback__)  # the clock stops here
            outcome.error = exc
            outcome.failed_duration_ms = block.duration_ms
        if self._progress is not None:
            self._progress.close("warning" if outcome.interrupted else "danger")
        _fail_outer(self.outer, exc)
        shell = self.shell
        # What IPython's run_code does with an exception of the user's code.
        if isinstance(exc, SystemExit):
            shell.showtraceback(exception_only=True)
            warnings.warn("To exit: use 'exit', 'quit', or Ctrl-D.", stacklevel=1)
        elif isinstance(exc, bdb.BdbQuit):
            pass
        elif shell.custom_exceptions and isinstance(exc, shell.custom_exceptions):
            shell.CustomTB(type(exc), exc, exc.__traceback__)
        else:
            # Start at the user's code, as a plain cell's traceback does (IPython drops
            # its own run_code frame; this loop's frame would show as a hidden one).
            tb = exc.__traceback__
            if tb is not None and tb.tb_frame.f_code in _LOOP_CODES:
                tb = tb.tb_next
            shell.showtraceback((type(exc), exc, tb), running_compiled_code=True)

    def _draw_progress(self, done: int) -> None:
        if self._progress is None:
            projected_s = (time.perf_counter() - self._started) / done * self.n
            if projected_s <= PROGRESS_AFTER_S:
                return
            self._progress = Progress(self.shell, self.name, self.n)
        self._progress.update(done)

    def _finish(self) -> Outcome:
        if self._progress is not None and self._progress.open:
            self._progress.close("danger" if self.outcome.error is not None else "success")
        return self.outcome


_LOOP_CODES = (CellRunner.run.__code__, CellRunner.run_async.__code__)


@dataclass
class Outcome:
    """What the runs of one ``%%wdbx_profile`` cell did (the summary line is made of it)."""

    name: str
    total: int
    #: Completed runs (successful ones, plus a failed one whose display failed).
    runs: int = 0
    durations_ms: list[float] = field(default_factory=list)
    memory: list[int | None] = field(default_factory=list)
    error: BaseException | None = None
    failed_duration_ms: float | None = None
    interrupted: bool = False


# -- the summary line ------------------------------------------------------------------


def summary_line(outcome: Outcome) -> str:
    """The line printed after a ``%%wdbx_profile`` cell, from its own runs only:
    pure Python, constant time per cell, no statistics engine (nor numpy) on the way.

    >>> summary_line(Outcome("load", 1, 1, [12.5], [2048]))
    'wdbx_profile load: 12.5 ms, memory +2.00 KiB'
    >>> summary_line(Outcome("sort", 3, 3, [1.0, 2.0, 3.0], [0, 0, None]))
    'wdbx_profile sort: 3 runs, mean 2.00 ms (min 1.00 ms, max 3.00 ms), memory 0 B in all'
    """
    durations = outcome.durations_ms
    label = f"wdbx_profile {printable(outcome.name)}"
    runs = ""
    if durations and (len(durations) > 1 or outcome.total > 1):
        count = len(durations)
        runs = (
            f"{count} run{'s' if count != 1 else ''}, "
            f"mean {format_duration_ms(sum(durations) / count)}"
        )
        if count > 1:
            runs += (
                f" (min {format_duration_ms(min(durations))}, "
                f"max {format_duration_ms(max(durations))})"
            )
        known = [m for m in outcome.memory if m is not None]
        runs += f", memory {format_bytes(sum(known), signed=True) if known else EMPTY} in all"
    if outcome.interrupted:
        done = f"interrupted after {outcome.runs} of {outcome.total} run"
        done += "s" if outcome.total != 1 else ""
        return f"{label}: {done}" + (f"; {runs}" if runs else " (nothing recorded)")
    if outcome.error is not None:
        failed = f"failed after {format_duration_ms(outcome.failed_duration_ms)}"
        failed += f" ({type(outcome.error).__name__})"
        if outcome.total > 1:
            failed += f" on run {outcome.runs + (1 if outcome.runs < outcome.total else 0)}"
            failed += f" of {outcome.total}"
        return f"{label}: {failed}" + (f"; before it {runs}" if runs else "")
    if len(durations) == 1 and outcome.total == 1:
        memory = format_bytes(outcome.memory[0], signed=True)
        return f"{label}: {format_duration_ms(durations[0])}, memory {memory}"
    return f"{label}: {runs}"


# -- progress ------------------------------------------------------------------------


class Progress:
    """A progress bar for ``-n``: "name [bar] 12/20" as widgets in a kernel, a text line elsewhere.

    The name is shown in full (control characters escaped).
    """

    def __init__(self, shell: Any, name: str, total: int) -> None:
        self.total = total
        self.name = printable(name)
        self.open = True
        self.done = 0
        self._drawn = (-1, 0.0)  # (count shown, when)
        self.bar: Any = None
        self.count: Any = None
        self.bar_box: Any = None
        if _in_kernel(shell):
            try:
                import ipywidgets
                from IPython.display import display

                self.bar = ipywidgets.IntProgress(value=0, min=0, max=total, bar_style="info")
                self.count = ipywidgets.Label(value=f"0/{total}")
                label = ipywidgets.Label(value=self.name)
                self.bar_box = ipywidgets.HBox([label, self.bar, self.count])
                display(self.bar_box)
            except ImportError:
                self.bar = None

    def update(self, done: int, force: bool = False) -> None:
        """Note ``done`` runs; redraw at most every :data:`PROGRESS_EVERY_S` seconds."""
        self.done = done
        now = time.perf_counter()
        if not force and now - self._drawn[1] < PROGRESS_EVERY_S:
            return
        self._drawn = (done, now)
        if self.bar is not None:
            self.bar.value = done
            self.count.value = f"{done}/{self.total}"
            return
        width = 30
        filled = width * done // max(self.total, 1)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r{self.name} [{bar}] {done}/{self.total}")
        sys.stderr.flush()

    def close(self, state: str) -> None:
        """End the bar: ``"success"``, ``"danger"`` (a run failed) or ``"warning"`` (interrupted).

        In a terminal this ends the progress line, so what follows (a traceback
        after Ctrl-C) starts on a line of its own.
        """
        if not self.open:
            return
        if self._drawn[0] != self.done:
            self.update(self.done, force=True)
        self.open = False
        if self.bar is not None:
            self.bar.bar_style = state
            return
        sys.stderr.write("\n")
        sys.stderr.flush()


# -- the async transform ---------------------------------------------------------------

_CELL_MAGIC = "%%wdbx_profile"
_LINE_MAGIC = "%wdbx_profile"


class AsyncCellTransform:
    """An input transformer (``shell.input_transformers_cleanup``) that turns a
    ``%%wdbx_profile`` cell (or a lone ``%wdbx_profile NAME STATEMENT`` line)
    whose code awaits into ``await <target>._wdbx_profile_async(line, body)``.

    ``statement_of(line)`` returns the line form's statement (raising
    ``UsageError`` when the line is wrong: the magic reports that itself);
    ``target`` is the expression that finds the magics object at run time.
    It keeps the last body it transformed, so the magic does not transform it
    a second time (:meth:`transform`).
    """

    def __init__(self, shell: Any, statement_of: Callable[[str], str], target: str) -> None:
        self.shell = shell
        self.statement_of = statement_of
        self.target = target
        self._last: tuple[str, str] | None = None

    def transform(self, code: str) -> str:
        """The shell's ``transform_cell(code)``, reusing the transformer's own result."""
        last = self._last
        if last is not None and last[0] == code:
            return last[1]
        return str(self.shell.transform_cell(code))

    def _needs_async(self, code: str) -> bool:
        """Whether IPython would run ``code`` as a top-level await cell."""
        try:
            transformed = self.shell.transform_cell(code)
        except Exception:
            return False  # the magic shows the error when it runs
        self._last = (code, transformed)
        if "await" not in transformed and "async" not in transformed:
            return False  # the common case, without compiling anything
        try:
            return bool(
                self.shell.should_run_async(
                    code, transformed_cell=transformed, preprocessing_exc_tuple=None
                )
            )
        except Exception:
            return False

    def __call__(self, lines: list[str]) -> list[str]:
        if not lines or not lines[0].startswith((_CELL_MAGIC, _LINE_MAGIC)):
            return lines
        cell_form = lines[0].startswith(_CELL_MAGIC)
        line = lines[0][len(_CELL_MAGIC if cell_form else _LINE_MAGIC) :]
        if line.strip().endswith("?") or not line or not line[0].isspace():
            return lines  # help (%%wdbx_profile?) or another magic's name
        body: str | None
        if cell_form:
            body = code = "".join(lines[1:])
        else:
            if any(rest.strip() for rest in lines[1:]):
                return lines  # a line magic among other code: awaiting is the cell's business
            body = None
            try:
                code = self.statement_of(line)
            except Exception:
                return lines  # reported when the magic runs
        if not code.strip() or not self._needs_async(code):
            return lines
        return [f"await {self.target}._wdbx_profile_async({line.strip()!r}, {body!r})\n"]


# -- autoprofile -------------------------------------------------------------------------


class AutoProfiler:
    """Records every top-level cell as its own operation (``%wdbx_autoprofile on``).

    Cells run by ``%%wdbx_profile``/``%wdbx_profile`` are left out: they are
    recorded under their own name already, and counting them twice would
    double their time in the totals. Cells nested in other cells (a magic
    running code) are part of the outer cell. The cost per cell is one
    ``profile_block``: two clock reads and two memory reads. A cell whose
    value cannot be displayed (the kernel replies "error") is a failed call.
    """

    def __init__(self, shell: Any, profiler: Callable[[], Any]) -> None:
        self.shell = shell
        self.profiler = profiler
        # One entry per running cell (None: not recorded), so nested cells pair up.
        self.stack: list[tuple[Any, Any]] = []

    def _cell_name(self, info: Any) -> str:
        count = self.shell.execution_count
        if getattr(info, "store_history", False):
            count -= 1  # IPython counts a stored cell before announcing it
        raw = getattr(info, "raw_cell", "") or ""
        first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
        return f"cell {count}: {printable(first, _AUTOPROFILE_NAME_WIDTH)}"

    def pre_run_cell(self, info: Any) -> None:
        block = None
        try:
            raw = (getattr(info, "raw_cell", "") or "").lstrip()
            if not self.stack and raw and not raw.startswith(("%%wdbx_profile", "%wdbx_profile ")):
                block = self.profiler().profile_block(self._cell_name(info))
                block.__enter__()
        except Exception:  # never break the user's cell for the sake of a statistic
            block = None
        self.stack.append((block, getattr(sys, "last_value", None)))

    def _display_error(self, result: Any, last_before: Any) -> BaseException | None:
        """The exception raised while showing the cell's value, if any."""
        last = getattr(sys, "last_value", None)
        if last is last_before or not isinstance(last, BaseException):
            return None
        flag = getattr(self.shell, "_last_traceback_during_displayhook", None)
        if flag is not None:  # ipykernel: exactly what makes its reply "error"
            return last if flag else None
        return last if result.result is not None else None

    def post_run_cell(self, result: Any) -> None:
        if not self.stack:
            return
        block, last_before = self.stack.pop()
        if block is None or result is None:
            return
        if result.error_before_exec is not None:
            return  # the cell never ran (syntax error): there is no call to record
        try:
            error = result.error_in_exec or self._display_error(result, last_before)
            if error is None:
                block.__exit__(None, None, None)
            elif not isinstance(error, KeyboardInterrupt):
                block.__exit__(type(error), error, error.__traceback__)
            # An interrupted cell is dropped: it is not a failure of the cell's code.
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
