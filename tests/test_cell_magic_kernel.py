"""``%%wdbx_profile`` is transparent in a real kernel (nbclient): the same cells run
plain and wrapped give the same outputs, history, tracebacks and reply statuses,
apart from the one summary line. Run alone with ``pytest -m notebook``."""

from __future__ import annotations

import ast
import re
from typing import Any

import nbformat
import pytest

pytestmark = pytest.mark.notebook

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUMMARY_LINE = re.compile(r"^wdbx_profile \S+: .*\n", re.M)

BAD_REPR = "class Bad:\n    def __repr__(self):\n        raise ValueError('no repr')"

#: The cells of the issue's three cases and their neighbours. Cell 0 loads the
#: extension in both runs, so execution counts (and tracebacks) line up.
CELLS = [  # index i runs as In[i + 1]
    "%load_ext wdbx_notebook",
    "def explode():\n    raise ValueError('boom')",  # In[2]
    "10 + 20;",  # In[3]: the ';' hides the value
    "_",  # In[4]: still the output before In[3] (none yet: '')
    "'_3' in globals(), sorted(Out)",  # In[5]
    "before = 1\nexplode()\nafter = 2",  # In[6]: the traceback names In[6] and In[2]
    "explode()",  # In[7]: a later traceback of a function defined in a wrapped cell
    BAD_REPR,  # In[8]
    "Bad()",  # In[9]: the value cannot be shown: status "error"
    "x = 41\nx + 1",  # In[10]
    "print('a')\nfrom IPython.display import display\ndisplay('b')\nprint('c')\n'd'",  # In[11]
    "import asyncio\nawait asyncio.sleep(0)\n'awaited'",  # In[12]
    "_, __, _10, sorted(Out)",  # In[13]
    "1 / 0;",  # In[14]
    "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
    "import matplotlib.pyplot as plt",  # In[15]
    "plt.scatter([1, 2], [3, 4]);",  # In[16]: the figure, and not the PathCollection
]


def _wrapped(index: int, source: str) -> str:
    return source if index == 0 else f"%%wdbx_profile cell_{index}\n{source}"


def _run(sources: list[str], allow_errors: bool = True) -> tuple[Any, list[str]]:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    statuses: list[str] = []

    def on_cell_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        statuses.append(execute_reply["content"]["status"])

    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=60,
        allow_errors=allow_errors,
        on_cell_executed=on_cell_executed,
    ).execute()
    return nb, statuses


def _outputs(cell: Any, drop_summary: bool = True) -> list[Any]:
    """A cell's outputs, comparable: ANSI codes gone, the summary line dropped."""
    shown = []
    for output in cell.outputs:
        if output.output_type == "stream":
            text = SUMMARY_LINE.sub("", output.text) if drop_summary else output.text
            if text:
                shown.append(("stream", output.name, text))
        elif output.output_type == "error":
            traceback = ANSI.sub("", "\n".join(output.traceback))
            shown.append(("error", output.ename, output.evalue, traceback))
        elif "image/png" in output.data:  # a figure: compared by kind, not by pixel
            shown.append((output.output_type, sorted(output.data)))
        else:
            shown.append((output.output_type, output.get("execution_count"), dict(output.data)))
    return shown


def _stdout(cell: Any) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.fixture(scope="module")
def plain_and_wrapped() -> tuple[tuple[Any, list[str]], tuple[Any, list[str]]]:
    wrapped = [_wrapped(i, s) for i, s in enumerate(CELLS)]
    wrapped.append(
        "from wdbx_notebook import get_performance_profiler as shared\n"
        "print({n: shared().get_statistics(n)['errors_by_type'] for n in "
        "shared().get_all_operations()})"
    )
    return _run(CELLS), _run(wrapped)


def test_wrapped_cells_give_the_plain_cells_outputs_and_statuses(
    plain_and_wrapped: tuple[tuple[Any, list[str]], tuple[Any, list[str]]],
) -> None:
    (plain, plain_statuses), (wrapped, wrapped_statuses) = plain_and_wrapped
    assert wrapped_statuses[: len(CELLS)] == plain_statuses
    for index in range(len(CELLS)):
        assert wrapped.cells[index].execution_count == plain.cells[index].execution_count
        assert _outputs(wrapped.cells[index]) == _outputs(plain.cells[index]), CELLS[index]
    # The statuses themselves, so that a change in both runs cannot hide.
    assert [i for i, s in enumerate(plain_statuses) if s == "error"] == [5, 6, 8, 13]


def test_a_trailing_semicolon_hides_the_value_and_leaves_history_alone(
    plain_and_wrapped: tuple[tuple[Any, list[str]], tuple[Any, list[str]]],
) -> None:
    _, (wrapped, _) = plain_and_wrapped
    assert _outputs(wrapped.cells[2]) == []
    assert _outputs(wrapped.cells[3]) == [("execute_result", 4, {"text/plain": "''"})]
    assert _outputs(wrapped.cells[4]) == [("execute_result", 5, {"text/plain": "(False, [4])"})]
    errors = [o for o in _outputs(wrapped.cells[13]) if o[0] == "error"]
    assert [e[1] for e in errors] == ["ZeroDivisionError"]
    assert _outputs(wrapped.cells[15]) == [("display_data", ["image/png", "text/plain"])]


def test_tracebacks_name_the_cell_they_ran_in(
    plain_and_wrapped: tuple[tuple[Any, list[str]], tuple[Any, list[str]]],
) -> None:
    _, (wrapped, _) = plain_and_wrapped
    (error,) = [o for o in _outputs(wrapped.cells[5]) if o[0] == "error"]
    traceback = error[3]
    assert re.findall(r"Cell In\[(\d+)\]", traceback) == ["6", "2"]
    assert "----> 2 explode()" in traceback
    assert "run_cell_magic" not in traceback and "wdbx_notebook" not in traceback
    (later,) = [o for o in _outputs(wrapped.cells[6]) if o[0] == "error"]
    assert re.findall(r"Cell In\[(\d+)\]", later[3]) == ["7", "2"]


def test_a_value_that_cannot_be_shown_is_a_failed_call(
    plain_and_wrapped: tuple[tuple[Any, list[str]], tuple[Any, list[str]]],
) -> None:
    _, (wrapped, statuses) = plain_and_wrapped
    assert statuses[8] == "error"
    assert re.search(
        r"^wdbx_profile cell_8: failed after .* \(ValueError\)$", _stdout(wrapped.cells[8]), re.M
    )
    recorded = ast.literal_eval(_stdout(wrapped.cells[-1]).strip())
    assert recorded["cell_8"] == {"ValueError": 1}
    assert recorded["cell_5"] == {"ValueError": 1}
    assert recorded["cell_13"] == {"ZeroDivisionError": 1}
    assert recorded["cell_9"] == {} and recorded["cell_11"] == {}
    # Each wrapped cell printed exactly one summary line, after its other output.
    for index in range(1, len(CELLS)):
        lines = SUMMARY_LINE.findall(_stdout(wrapped.cells[index]))
        assert len(lines) == 1 and lines[0].startswith(f"wdbx_profile cell_{index}: ")
        assert _stdout(wrapped.cells[index]).endswith(lines[0])


def test_autoprofile_records_a_value_that_cannot_be_shown_as_a_failure() -> None:
    nb, statuses = _run(
        [
            "%load_ext wdbx_notebook\n%wdbx_autoprofile on",
            BAD_REPR,
            "Bad()",
            "12 + 30",
            "%wdbx_autoprofile off\n"
            "from wdbx_notebook import get_performance_profiler as shared\n"
            "print({n: shared().get_statistics(n)['errors_by_type'] for n in "
            "shared().get_all_operations()})",
        ]
    )
    assert statuses == ["ok", "ok", "error", "ok", "ok"]
    recorded = ast.literal_eval(_stdout(nb.cells[-1]).strip().splitlines()[-1])
    assert recorded["cell 3: Bad()"] == {"ValueError": 1}
    assert recorded["cell 4: 12 + 30"] == {}


def test_repeated_runs_quiet_and_a_failing_run_in_a_kernel() -> None:
    nb, statuses = _run(
        [
            "%load_ext wdbx_notebook\ncounter = 0",
            "%%wdbx_profile bump -n 5 -q\ncounter += 1\ncounter",
            "%%wdbx_profile third -n 5\ncounter += 1\nif counter == 8:\n    raise KeyError('k')",
            "counter",
        ]
    )
    assert statuses == ["ok", "ok", "error", "ok"]
    # -q: only the value, shown once, from the last run.
    assert _outputs(nb.cells[1], drop_summary=False) == [("execute_result", 2, {"text/plain": "5"})]
    errors = [o for o in _outputs(nb.cells[2]) if o[0] == "error"]
    assert [e[1] for e in errors] == ["KeyError"]
    assert re.findall(r"Cell In\[(\d+)\]", errors[0][3]) == ["3"]
    assert "on run 3 of 5" in _stdout(nb.cells[2])
    assert _outputs(nb.cells[3]) == [("execute_result", 4, {"text/plain": "8"})]


def test_run_all_stops_at_a_failing_wrapped_cell() -> None:
    from nbclient.exceptions import CellExecutionError

    with pytest.raises(CellExecutionError) as raised:
        _run(
            [
                "%load_ext wdbx_notebook",
                "%%wdbx_profile parse -n 3\nint('x')",
                "print('never reached')",
            ],
            allow_errors=False,
        )
    assert raised.value.ename == "ValueError"
    assert "never reached" not in str(raised.value)


def test_an_alert_shows_one_banner_and_no_warning_in_a_notebook() -> None:
    nb, statuses = _run(
        [
            "%load_ext wdbx_notebook",
            "from wdbx_notebook import get_performance_profiler\n"
            "profiler = get_performance_profiler()\n"
            "rule = profiler.add_alert('alerted', metric='call_count', above=0)",
            "with profiler.profile_block('alerted'):\n"
            "    pass\n"
            "profiler.get_statistics('alerted');",
            "profiler.remove_alert(rule)",
        ]
    )
    assert statuses == ["ok"] * 4
    outputs = nb.cells[2].outputs
    assert len(outputs) == 1, outputs  # the banner, and no warning beside it
    assert "wdbx-alert-banner" in outputs[0].data["text/html"]
    assert "'alerted' call_count is 1" in outputs[0].data["text/plain"]
