"""No module of an app imports, directly or through others of the same app, a module that imports it back:
every import counts, also the ones inside functions that only postpone a cycle. (Django's apps.py, the
migrations and management commands are leaves and are left out.)"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("exams", "quizbank", "runner")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, app: str, modules: set[str]) -> set[str]:
    """The app's modules that `path` imports anywhere in its body."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `from exams.views import staff` -> exams.views.staff
                target = target.rpartition(".")[0]
            if target and target != name and target.split(".")[0] == app and target != app:
                found.add(target)
    return found


def _graph(app: str) -> dict[str, set[str]]:
    paths = [path for path in (ROOT / app).rglob("*.py")
             if "migrations" not in path.parts and "management" not in path.parts and path.name != "apps.py"]
    modules = {_module_name(path) for path in paths}
    return {_module_name(path): _imports(path, app, modules) for path in paths}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


@pytest.mark.parametrize("app", APPS)
def test_no_module_of_the_app_imports_itself_back_through_others(app):
    assert _cycles(_graph(app)) == []


def test_the_cycle_finder_sees_a_cycle_made_by_an_import_inside_a_function(tmp_path):
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
