"""The comparison widget in a real JupyterLab, driven by headless Chromium.

Starts JupyterLab on 127.0.0.1 (random port and token, isolated config, data,
runtime, settings and IPython folders, the venv's kernel), opens
``compare_operations.ipynb``, runs all cells, then changes the metric and the
chart type and checks that the chart image and the table follow. Saves a
screenshot to ``build/browser_comparison.png``.

Run alone: ``.venv/bin/python -m pytest -m browser tests/test_browser.py -v``.
Without /usr/bin/chromium the test is skipped, unless ``WDBX_REQUIRE_BROWSER=1``
(set by CI) turns that into a failure. Playwright drives Debian's chromium; it
never downloads a browser.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "compare_operations.ipynb"
SCREENSHOT = ROOT / "build" / "browser_comparison.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BACKGROUND = "background numpy_sum n=10,000"
STDERR = "application/vnd.jupyter.stderr"
KERNEL_DISPLAY_NAME = "Python 3 (wdbx venv)"
SERVER_START_S = 90
STEP_MS = 60_000  # any single step in the page; the whole test stays near a minute


def _need_browser(reason: str) -> None:
    if os.environ.get("WDBX_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (WDBX_REQUIRE_BROWSER=1 makes this a failure)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Lab:
    base_url: str
    token: str
    root: Path
    log: Path

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}?token={self.token}"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _isolated_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    folders = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
    }
    for key, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[key] = str(folder)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    # in a venv jupyter_core prefers the venv's share/jupyter over the user folder;
    # our kernel spec lives in the (isolated) user folder, so it must come first
    env["JUPYTER_PREFER_ENV_PATH"] = "0"
    env.pop("JUPYTER_PATH", None)  # only our data folder and the venv's share/jupyter
    env["MPLBACKEND"] = "Agg"
    env["MPLCONFIGDIR"] = str(home / "mpl")
    return env


def _install_kernel(env: dict[str, str]) -> None:
    """Install this venv's ipykernel into the isolated data folder, under the name the
    notebook asks for, so the kernel that runs is provably ours (its argv is our python)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ipykernel",
            "install",
            "--user",
            "--name",
            "python3",
            "--display-name",
            KERNEL_DISPLAY_NAME,
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    spec_file = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "python3" / "kernel.json"
    spec = json.loads(spec_file.read_text())
    assert spec["argv"][0] == sys.executable, spec


def _quiet_lab_settings(env: dict[str, str]) -> None:
    """No news pop-up, no update check: they would cover the notebook and reach the network."""
    folder = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "apputils-extension"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # every cell stays in the page (JupyterLab 4 leaves cells out of view unrendered),
    # so the test can find every table and banner it checks
    notebook = Path(env["JUPYTERLAB_SETTINGS_DIR"]) / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True, exist_ok=True)
    (notebook / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))


def _wait_for_server(proc: subprocess.Popen[bytes], lab: Lab) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{lab.log_tail()}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=5) as response:
                if response.status == 200:
                    json.load(response)
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status in {SERVER_START_S}s:\n{lab.log_tail()}"
    )


def _stop_server(proc: subprocess.Popen[bytes], lab: Lab) -> None:
    if proc.poll() is None:
        # the shutdown API stops the kernels too; a signal is the fallback
        request = urllib.request.Request(lab.url("api/shutdown"), method="POST", data=b"")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            urllib.request.urlopen(request, timeout=10).close()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        _need_browser(f"{CHROMIUM} is missing: install Debian's chromium package (make browser)")
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    env = _isolated_env(home)
    _install_kernel(env)
    _quiet_lab_settings(env)
    port, token = _free_port(), secrets.token_hex(24)
    log = home / "jupyterlab.log"
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            env=env,
            cwd=root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_server(proc, lab)
        yield lab
    finally:
        _stop_server(proc, lab)


# -- page helpers ----------------------------------------------------------------------

_CHART_BYTES_JS = """async img => {
    await img.decode();
    const data = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    return {src: img.src, width: img.naturalWidth, bytes: Array.from(data)};
}"""

_TABLE_JS = """table => ({
    metric: table.dataset.sortMetric,
    rows: Array.from(table.querySelectorAll('tbody tr')).map(tr => ({
        name: tr.dataset.operation,
        calls: parseInt(tr.children[2].textContent.replace(/,/g, '')),
        values: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-metric]'))
            .map(td => [td.dataset.metric, parseFloat(td.textContent.replace(/,/g, ''))])),
    })),
})"""


def _chart(page: Any) -> dict[str, Any]:
    info = page.locator("img.wdbx-chart").evaluate(_CHART_BYTES_JS)
    data = bytes(info.pop("bytes"))
    assert data.startswith(b"\x89PNG"), "the chart is not a PNG image"
    info["sha"] = hashlib.sha256(data).hexdigest()
    return info


def _table(page: Any) -> dict[str, Any]:
    return page.locator(".wdbx-table table.wdbx-compare-table").evaluate(_TABLE_JS)


def _wait_new_chart(page: Any, old: dict[str, Any]) -> None:
    """Wait until the chart image shows new bytes (ipywidgets swaps in a new blob URL)."""
    page.wait_for_function(
        f"() => document.querySelector('img.wdbx-chart').src !== {json.dumps(old['src'])}"
    )


def _wait_kernel_idle(page: Any) -> None:
    """Wait until the status bar names our kernel and says Idle; accept a kernel dialog."""
    deadline = time.monotonic() + STEP_MS / 1000
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "Select Kernel" in dialog.first.inner_text():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        status = page.locator("#jp-main-statusbar")
        text = status.inner_text() if status.count() else ""
        if KERNEL_DISPLAY_NAME in text and "Idle" in text:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the kernel never became idle; status bar: {text!r}")


def _sorted_by(rows: list[dict[str, Any]], metric: str, descending: bool) -> bool:
    values = [row["values"][metric] for row in rows]
    return values == sorted(values, reverse=descending)


def test_comparison_widget_in_jupyterlab(lab: Lab) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need_browser("playwright for Python is not installed")
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(STEP_MS)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(lab.url("lab/tree/compare_operations.ipynb"))
            page.locator(".jp-NotebookPanel").first.wait_for(state="visible")
            _wait_kernel_idle(page)

            # Run > Run All Cells, as a user would
            # (exact labels: "Restart Kernel and Run All Cells…" would open a dialog)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

            app = page.locator(".wdbx-comparison")
            app.wait_for(state="visible", timeout=120_000)
            image = page.locator("img.wdbx-chart")
            image.wait_for(state="visible")
            page.wait_for_function(
                "() => { const i = document.querySelector('img.wdbx-chart');"
                " return i && i.src && i.complete && i.naturalWidth > 0; }"
            )
            # the last cell exports the report: wait for its output so the kernel is done
            page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']",
                has_text="report written to",
            ).first.wait_for()
            _wait_kernel_idle(page)
            errors = page.locator(f".jp-OutputArea-output[data-mime-type='{STDERR}']")
            error_text = [errors.nth(i).inner_text() for i in range(errors.count())]
            assert not [t for t in error_text if "Traceback" in t or "Error" in t], error_text

            # Live: the background job's 40 calls arrive in the table while no cell runs,
            # and the app's output stays one output (updated in place, never appended)
            page.wait_for_function(
                """() => Array.from(document.querySelectorAll('table.wdbx-compare-table tbody tr'))
                    .some(tr => tr.dataset.operation === BACKGROUND
                          && tr.children[2].textContent.trim() === '40')""".replace(
                    "BACKGROUND", json.dumps(BACKGROUND)
                )
            )
            # (two outputs: the app, and its static twin for exports, hidden where the app runs)
            outputs = page.locator(".jp-OutputArea:has(.wdbx-comparison) > .jp-OutputArea-child")
            assert outputs.count() == 2
            assert outputs.nth(0).locator(".wdbx-comparison").count() == 1
            twin = outputs.nth(1).locator(".wdbx-static")
            assert twin.count() == 1 and not twin.is_visible()
            live = page.locator("button.wdbx-live")
            assert "mod-active" in (live.get_attribute("class") or "")
            live.click()  # Live off: from here on only our clicks redraw
            page.wait_for_function(
                "() => !document.querySelector('button.wdbx-live').classList.contains('mod-active')"
            )
            page.wait_for_timeout(2_000)  # a refresh already under way lands before we read
            first_chart = _chart(page)
            assert first_chart["width"] > 100
            first_table = _table(page)
            assert first_table["metric"] == "mean"
            names = [row["name"] for row in first_table["rows"]]
            assert len(names) == 14 and "prepare_data" in names and BACKGROUND in names
            assert _sorted_by(first_table["rows"], "mean", descending=True)

            # metric: total time re-sorts the table (small inputs ran far more often)
            page.locator(".wdbx-metric select").select_option(label="Total time")
            page.wait_for_function(
                "() => document.querySelector('table.wdbx-compare-table')"
                "?.dataset.sortMetric === 'total'"
            )
            total_table = _table(page)
            assert _sorted_by(total_table["rows"], "total", descending=True)
            total_names = [row["name"] for row in total_table["rows"]]
            assert total_names != names, "the table did not re-sort"
            _wait_new_chart(page, first_chart)
            total_chart = _chart(page)
            assert total_chart["sha"] != first_chart["sha"], "the bars ignored the metric"

            # chart type: a box plot of the durations, then on a log scale
            page.locator(".wdbx-chart-kind select").select_option(label="Distribution: box plot")
            _wait_new_chart(page, total_chart)
            box_chart = _chart(page)
            assert box_chart["sha"] not in (first_chart["sha"], total_chart["sha"])
            page.locator(".wdbx-log-scale input[type=checkbox]").check()
            _wait_new_chart(page, box_chart)
            log_chart = _chart(page)
            assert log_chart["sha"] != box_chart["sha"], "the log scale did not redraw the chart"
            assert _table(page)["rows"] == total_table["rows"], "the chart type re-sorted the table"

            status = page.locator(".wdbx-status").inner_text()
            assert "Could not draw" not in status, status

            # Export report from the button, to the file named in the text box
            page.locator(".wdbx-export-path input").fill("from_the_button.md")
            page.locator("button.wdbx-export").click()
            exported = lab.root / "from_the_button.md"
            page.locator(".wdbx-status", has_text=str(exported)).wait_for()
            assert exported.read_text(encoding="utf-8").startswith("# WDBX Performance Report")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            app.scroll_into_view_if_needed()
            image.evaluate("img => img.decode()")
            app.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
    assert not page_errors, page_errors
    report = lab.root / "compare_operations_report.md"
    assert report.exists() and "| prepare_data |" in report.read_text(encoding="utf-8")


# -- themes, narrow windows and contrast -------------------------------------------------

THEME_NOTEBOOK = "theme_check.ipynb"
THEME_CELLS = [
    "%load_ext wdbx_notebook",
    """import time
from wdbx_notebook import comparison_widget, get_performance_profiler

profiler = get_performance_profiler()
profiler.reset_statistics()
for i in range(40):
    with profiler.profile_block("fast_lookup"):
        pass
for i in range(12):
    with profiler.profile_block("slow_join"):
        time.sleep(0.004)
for i in range(6):
    try:
        with profiler.profile_block("flaky_fetch"):
            time.sleep(0.001)
            if i % 2:
                raise ValueError("no answer")
    except ValueError:
        pass
print("profiled")""",
    "%wdbx_stats",
    """profiler.add_alert("slow_*", metric="avg_duration_ms", above=0.5)
with profiler.profile_block("slow_join"):
    time.sleep(0.004)""",
    "app = comparison_widget(profiler=profiler)\napp",
]

# Every text of the statistics table, the widget's table and the alert banners: its
# colour and its effective background (layers composited up the ancestors until an
# opaque one; a gradient counts with each of its colours, the page's default is white).
_CONTRAST_JS = """(selectors) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => {
    const a = top.a + bottom.a * (1 - top.a);
    if (a === 0) return {r: 0, g: 0, b: 0, a: 0};
    const mix = (x, y) => (x * top.a + y * bottom.a * (1 - top.a)) / a;
    return {r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a};
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (x, y) => {
    const a = lum(x), b = lum(y);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  // the background layers from the element up: [[colour, ...gradient colours], ...]
  const layers = (el) => {
    const out = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      const colours = [];
      const bg = parse(s.backgroundColor);
      const image = s.backgroundImage;
      const stops = image && image !== 'none'
        ? (image.match(/rgba?\\([^)]+\\)/g) || []).map(parse) : [];
      out.push({bg: bg || {r: 0, g: 0, b: 0, a: 0}, stops});
      if (bg && bg.a === 1) break;
    }
    return out;
  };
  const backgrounds = (el) => {
    // every combination of gradient stops is a background some text may sit on
    let results = [{r: 255, g: 255, b: 255, a: 1}];
    for (const layer of layers(el).reverse()) {
      results = results.map((under) => over(layer.bg, under));
      if (layer.stops.length) {
        results = results.flatMap((under) => [under, ...layer.stops.map((s) => over(s, under))]);
      }
    }
    return results;
  };
  const found = [];
  for (const selector of selectors) {
    for (const root of document.querySelectorAll(selector)) {
      if (root.closest('[hidden]') || !root.getClientRects().length) continue;
      for (const el of [root, ...root.querySelectorAll('*')]) {
        const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
        if (!own || !el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        const worst = backgrounds(el).map((bg) => {
          const fg = over(parse(style.color), bg);
          return {ratio: ratio(fg, bg), bg, fg};
        }).sort((x, y) => x.ratio - y.ratio)[0];
        found.push({selector, tag: el.tagName, text: el.textContent.trim().slice(0, 40),
                    ratio: worst.ratio, color: style.color,
                    bg: [worst.bg.r, worst.bg.g, worst.bg.b].map(Math.round).join(',')});
      }
    }
  }
  return found;
}"""

_CONTRAST_SELECTORS = [
    ".wdbx-stats",
    ".wdbx-compare-table",
    ".wdbx-compare-caption",
    ".wdbx-alert-banner",
]


def _write_theme_notebook(root: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in THEME_CELLS]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
    }
    nbformat.write(nb, root / THEME_NOTEBOOK)


def _set_theme(page: Any, theme: str) -> None:
    """Settings > Theme > ``theme``, as a user would; waits until the page uses it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{theme}$")).click()
    light = "true" if theme == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.wait_for_timeout(500)  # the theme's stylesheet settles


def _contrast_failures(page: Any) -> tuple[list[dict[str, Any]], set[str]]:
    found = page.evaluate(_CONTRAST_JS, _CONTRAST_SELECTORS)
    seen = {item["selector"] for item in found}
    return [item for item in found if item["ratio"] < 4.5], seen


def test_themes_narrow_windows_and_contrast(lab: Lab) -> None:
    """Light and dark themes, 1400 and 700 px: every text of the statistics table, the
    widget's table and the alert banner has a contrast of at least 4.5 (WCAG AA), the
    widget fits its output area, and its static twin stays hidden."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need_browser("playwright for Python is not installed")
    _write_theme_notebook(lab.root)
    shots = []
    page_errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1400})
            page.set_default_timeout(STEP_MS)
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            # reset: only this notebook (the workspace would reopen the other test's tab)
            page.goto(lab.url(f"lab/tree/{THEME_NOTEBOOK}") + "&reset")
            page.locator(".jp-NotebookPanel").first.wait_for(state="visible")
            _wait_kernel_idle(page)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            try:
                page.locator(".wdbx-comparison table.wdbx-compare-table").wait_for(timeout=120_000)
            except Exception:
                page.screenshot(path=str(ROOT / "build" / "browser_theme_failure.png"))
                raise
            page.locator(".wdbx-alert-banner").first.wait_for()
            page.locator(".wdbx-stats table").first.wait_for()
            page.wait_for_function(
                "() => { const i = document.querySelector('img.wdbx-chart');"
                " return i && i.complete && i.naturalWidth > 0; }"
            )
            _wait_kernel_idle(page)
            # the static twin is for exports: where the app renders, it is hidden
            statics = page.locator(".wdbx-static")
            assert statics.count() == 1 and not statics.first.is_visible()

            for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
                _set_theme(page, theme)
                for width in (1400, 700):
                    page.set_viewport_size({"width": width, "height": 1400})
                    page.wait_for_timeout(500)
                    failures, seen = _contrast_failures(page)
                    assert seen == set(_CONTRAST_SELECTORS), (theme, width, seen)
                    described = [
                        f"{f['selector']} {f['tag']} {f['text']!r}: {f['ratio']:.2f} "
                        f"({f['color']} on rgb({f['bg']}))"
                        for f in failures[:12]
                    ]
                    assert not failures, (theme, width, *described)
                    fit = page.evaluate(
                        """() => {
                          const app = document.querySelector('.wdbx-comparison');
                          const area = app.closest('.jp-OutputArea-output');
                          const scroll = app.querySelector('.wdbx-compare-scroll');
                          const table = scroll.querySelector('table');
                          const button = app.querySelector('button.wdbx-export');
                          const caption = app.querySelector('.wdbx-compare-caption');
                          const a = area.getBoundingClientRect();
                          const s = scroll.getBoundingClientRect();
                          return {
                            areaRight: a.right, appRight: app.getBoundingClientRect().right,
                            scrollRight: s.right, scrollWidth: scroll.scrollWidth,
                            tableWidth: table.getBoundingClientRect().width,
                            overflow: getComputedStyle(scroll).overflowX,
                            label: button.innerText.trim(),
                            buttonFits: button.scrollWidth <= button.clientWidth + 1,
                            captionRight: caption.getBoundingClientRect().right,
                            captionText: caption.innerText,
                            chain: (() => {
                              const out = [];
                              for (let e = scroll; e && e !== area; e = e.parentElement) {
                                const r = e.getBoundingClientRect();
                                out.push(`${e.className} ${r.left | 0}-${r.right | 0}`);
                              }
                              return out;
                            })(),
                          };
                        }"""
                    )
                    # the app stays inside its output area; a table wider than that
                    # scrolls in its own box, where every column can be reached
                    assert fit["appRight"] <= fit["areaRight"] + 1, (theme, width, fit)
                    assert fit["scrollRight"] <= fit["areaRight"] + 1, (theme, width, fit)
                    assert fit["overflow"] == "auto"
                    assert fit["scrollWidth"] >= fit["tableWidth"] - 1
                    assert fit["label"] == "Export report" and fit["buttonFits"], fit
                    # the sentence above the table wraps inside the output area, whole
                    assert fit["captionRight"] <= fit["areaRight"] + 1, (theme, width, fit)
                    assert "(worst at the top)" in fit["captionText"], fit
                    shot = ROOT / "build" / f"browser_{tag}_{width}.png"
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    page.locator(".jp-NotebookPanel").first.screenshot(path=str(shot))
                    shots.append(shot)
                    # the app itself, scrolled into view: controls, chart and table
                    widget_shot = shot.with_name(f"browser_{tag}_{width}_widget.png")
                    app = page.locator(".wdbx-comparison")
                    app.scroll_into_view_if_needed()
                    app.screenshot(path=str(widget_shot))
                    shots.append(widget_shot)
            _set_theme(page, "JupyterLab Light")
        finally:
            browser.close()
    for shot in shots:
        assert shot.stat().st_size > 10_000
    assert not page_errors, page_errors
