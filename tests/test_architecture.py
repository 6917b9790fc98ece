"""Imports point down: the layering of ARCHITECTURE.md, checked on the code itself.

Every import is read from the source (function-level ones included), resolved
to a module of the package, and held against the layers: the core never
imports a reader or the front end, only ``jupyter/`` imports IPython or
ipywidgets, and the import graph has no circle longer than two files.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "wdbx_notebook"

BASE = {"_clock", "_memory", "_units", "_warnings", "_gc", "_environment", "_calls", "_hooks"}
CORE = {"stats", "stability", "_operation", "_wrappers", "snapshot", "profiler"}
SHORTCUTS = {"_views"}
FRONT_END_LIBRARIES = ("IPython", "ipywidgets", "ipykernel")

#: Imports allowed to run up the layers: none (the core's shortcuts reach the
#: views through a hook the package's __init__ installs, see _hooks.py).
ALLOWED_UP: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "__init__"


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom, known: set[str]) -> list[str]:
    """Package modules an ``from ... import ...`` statement loads."""
    if node.level == 0:
        base = node.module or ""
        if not base.startswith("wdbx_notebook"):
            return []
        base = base.removeprefix("wdbx_notebook").lstrip(".")
    else:
        parts = [] if importer == "__init__" else importer.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    targets = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}" if base else alias.name
        if candidate in known:
            targets.append(candidate)
        elif base in known or (base == "" and "__init__" in known):
            targets.append(base or "__init__")
    return targets


def _graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(package imports, third-party top-level imports)`` of every module."""
    modules = _modules()
    known = set(modules)
    edges: dict[str, set[str]] = {name: set() for name in modules}
    external: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Imports only a type checker runs are not edges of the running program.
        typing_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level == 0 and not (node.module or "").startswith("wdbx_notebook"):
                    external[name].add((node.module or "").split(".")[0])
                edges[name].update(t for t in _resolve(name, is_package, node, known) if t != name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    external[name].add(alias.name.split(".")[0])
    return edges, external


def _layer(module: str) -> int:
    top = module.split(".")[0]
    if module in BASE:
        return 0
    if module in CORE:
        return 1
    if top == "jupyter":
        return 4
    if module in SHORTCUTS:
        return 3
    if module == "__init__":
        return 5
    return 2  # readers


def test_the_core_never_imports_a_reader_or_the_front_end() -> None:
    edges, _ = _graph()
    up = sorted(
        (importer, target)
        for importer, targets in edges.items()
        for target in targets
        if _layer(target) > _layer(importer) and _layer(importer) < 5
    )
    assert set(up) <= ALLOWED_UP, f"imports that run up the layers: {sorted(set(up) - ALLOWED_UP)}"


def test_only_the_front_end_imports_ipython_or_ipywidgets() -> None:
    edges, external = _graph()
    offenders = {
        module: sorted(libs & set(FRONT_END_LIBRARIES))
        for module, libs in external.items()
        if libs & set(FRONT_END_LIBRARIES) and not module.startswith("jupyter")
    }
    assert offenders == {}
    into_front_end = sorted(
        (importer, target)
        for importer, targets in edges.items()
        for target in targets
        if target.startswith("jupyter")
        and not importer.startswith("jupyter")
        and importer != "__init__"
    )
    assert into_front_end == []


def test_no_import_circle_longer_than_two_files() -> None:
    edges, _ = _graph()
    # Tarjan's strongly connected components.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    assert [c for c in circles if len(c) > 2] == []


def test_the_walker_sees_function_level_imports() -> None:
    # The checks above would be worthless if they missed imports inside functions.
    edges, _ = _graph()
    assert "frames" in edges["_views"]  # _views imports each reader inside its shortcut
    assert "report" in edges["_views"]


def test_the_core_reaches_the_views_through_the_installed_hook() -> None:
    from wdbx_notebook import PerformanceProfiler, _hooks, _views

    assert _hooks.views() is _views
    profiler = PerformanceProfiler(track_memory=False)
    with profiler.profile_block("op"):
        pass
    assert "op" in profiler.report().to_text() and "op" in profiler.snapshot().report().to_text()
