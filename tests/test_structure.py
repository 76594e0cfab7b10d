"""The shape of the code, kept by tests: product modules import each other
without cycles (function-level imports count too: they are cycles that only
wait for the first call), apps never import the project package `helpdesk/`,
and importing the settings writes nothing."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = ("tickets", "escalation", "knowledge_base", "analytics", "demo")
PRODUCT = (*APPS, "core", "helpdesk")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PRODUCT:
        for path in (REPO / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The product module an imported name lives in (a.b.c -> a.b if a.b.c is a name)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # imports for type checkers only
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            owner = _owner(name, modules)
            if owner and owner != module:
                targets.add(owner)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_product_modules_import_without_cycles():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_apps_never_import_the_project_package():
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.split(".")[0] in APPS
        for target in targets
        if target.split(".")[0] == "helpdesk"
    )
    assert offenders == []


def test_tickets_imports_none_of_the_apps_built_on_it():
    offenders = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.split(".")[0] in ("tickets", "core")
        for target in targets
        if target.split(".")[0] in ("escalation", "knowledge_base", "analytics", "demo")
    )
    assert offenders == []


def test_importing_the_settings_writes_nothing(tmp_path):
    var = tmp_path / "var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY")
    }
    env.update(HELPDESK_VAR_DIR=str(var), HELPDESK_DEMO="1", PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-c", "import helpdesk.settings as s; assert s.SECRET_KEY"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
    )
    assert not var.exists()
    assert list(tmp_path.iterdir()) == []  # no broker control folder in the cwd either
