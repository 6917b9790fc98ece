"""compare_operations.ipynb runs clean in a real kernel and leaves the comparison app in its
saved widget state.

Run alone: ``.venv/bin/python -m pytest -m notebook tests/test_compare_notebook.py``.
"""

from __future__ import annotations

import base64
import html
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "compare_operations.ipynb"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    folder = tmp_path_factory.mktemp("compare_notebook")
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    nb = nbformat.read(folder / NOTEBOOK.name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    return nb, folder


def test_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert "widgets" not in nb.metadata


def test_runs_without_errors(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            if output.output_type == "stream":
                assert output.name == "stdout", output.text


def test_plots_are_images(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    images = [
        output
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 3  # comparison, distribution, timeline
    for output in images:
        assert base64.b64decode(output.data["image/png"]).startswith(b"\x89PNG")


def _models(nb: Any) -> dict[str, dict[str, Any]]:
    return nb.metadata["widgets"][WIDGET_STATE]["state"]


def _child(models: dict[str, dict[str, Any]], ref: str) -> dict[str, Any]:
    return models[ref.removeprefix("IPY_MODEL_")]


def test_widget_model_in_saved_state(executed: tuple[Any, Path]) -> None:
    nb, folder = executed
    models = _models(nb)
    (app_id,) = [
        model_id
        for model_id, model in models.items()
        if "wdbx-comparison" in model["state"].get("_dom_classes", [])
    ]
    app = models[app_id]
    assert app["model_name"] == "VBoxModel"
    # the cell that shows the app displays this very model
    views = [
        output.data[WIDGET_VIEW]["model_id"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if WIDGET_VIEW in output.get("data", {})
    ]
    assert views == [app_id]

    by_class = {
        cls: model
        for model in models.values()
        for cls in model["state"].get("_dom_classes", [])
        if cls.startswith("wdbx-")
    }
    select = by_class["wdbx-operations"]
    assert select["model_name"] == "SelectMultipleModel"
    labels = select["state"]["_options_labels"]
    # 4 implementations x 3 sizes + data; the background job's operation joins when Live
    # refreshed before the kernel stopped
    assert set(labels) - {"background numpy_sum n=10,000"} == {
        f"{impl} n={size:,}"
        for impl in ("python_loop", "builtin_sum", "numpy_sum", "pandas_sum")
        for size in (1_000, 10_000, 100_000)
    } | {"prepare_data"}
    assert list(select["state"]["index"]) == list(range(len(labels)))  # all selected
    assert by_class["wdbx-live"]["state"]["value"] is True
    metric = by_class["wdbx-metric"]["state"]
    assert metric["_options_labels"][metric["index"]] == "Mean"
    chart = by_class["wdbx-chart-kind"]["state"]
    assert chart["_options_labels"][chart["index"]] == "Bar chart of the metric"

    image = by_class["wdbx-chart"]
    assert image["model_name"] == "ImageModel" and image["state"]["format"] == "png"
    (buffer,) = image["buffers"]
    assert buffer["path"] == ["value"]
    assert base64.b64decode(buffer["data"]).startswith(b"\x89PNG")

    table = by_class["wdbx-table"]["state"]["value"]
    rows = [html.unescape(n) for n in re.findall(r'<tr data-operation="([^"]*)"', table)]
    assert sorted(rows) == sorted(labels)
    means = [float(m) for m in re.findall(r'data-metric="mean">([0-9.]+)<', table)]
    assert means == sorted(means, reverse=True)  # sorted by the default metric, mean

    status = by_class["wdbx-status"]["state"]["value"]
    report = folder / "compare_operations_report.md"
    assert html.escape(str(report)) in status
    body = report.read_text(encoding="utf-8")
    assert body.startswith("# WDBX Performance Report")
    assert "| python_loop n=100,000 |" in body  # names read as written (no needless escapes)


def test_html_export_shows_the_comparison_without_widgets(executed: tuple[Any, Path]) -> None:
    """An nbconvert export (no widget front end) shows the app's static twin: the
    table and the chart, with the same operations as the app's saved state."""
    from nbconvert import HTMLExporter

    nb, _ = executed
    (cell,) = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code"
        and any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", []))
    ]
    view, static = cell.outputs
    assert WIDGET_VIEW in view.data
    assert set(static.data) == {"text/plain", "text/html"}
    assert static.data["text/plain"].startswith("OPERATION COMPARISON")
    app_id = view.data[WIDGET_VIEW]["model_id"]
    assert f"wdbx-static-{app_id}" in static.data["text/html"]
    # the app, where it renders, hides the twin: the rule is in the app's own title
    models = _models(nb)
    titles = [
        m["state"]["value"]
        for m in models.values()
        if m["model_name"] == "HTMLModel" and "Operation comparison" in m["state"].get("value", "")
    ]
    assert any(f".wdbx-static-{app_id}{{display:none}}" in t for t in titles)

    page, _ = HTMLExporter().from_notebook_node(nb)
    twin = page[page.index(f'class="wdbx-static wdbx-static-{app_id}"') :]
    twin = twin[: twin.index("</table>")]
    chart = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', twin)
    assert chart is not None and base64.b64decode(chart.group(1)).startswith(b"\x89PNG")
    rows = [html.unescape(n) for n in re.findall(r'<tr data-operation="([^"]*)"', twin)]
    (labels,) = [
        m["state"]["_options_labels"]
        for m in models.values()
        if "wdbx-operations" in m["state"].get("_dom_classes", [])
    ]
    assert set(rows) <= set(labels) and len(rows) >= len(labels) - 1  # Live may add one later
    assert "prepare_data" in rows and "python_loop n=100,000" in rows
