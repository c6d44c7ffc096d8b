"""The house's shape: the engine reads top-down, and forms need nothing of the engine."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path, package: str) -> set[str]:
    """The modules of `package` that a module imports, anywhere in it (inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == package:
            if node.module == package:
                found.update(f"{package}.{a.name}" for a in node.names)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == package)
    return found


def test_no_engine_module_imports_one_that_imports_it_back():
    modules = {f"engine.{p.stem}": p for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__"}
    graph = {name: _imports(path, "engine") & modules.keys() for name, path in modules.items()}
    cycles = []

    def visit(name, trail):
        for nxt in graph[name]:
            if nxt in trail:
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in done:
                visit(nxt, [*trail, nxt])
        done.add(name)

    done: set[str] = set()
    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    assert not cycles, cycles


def test_forms_need_nothing_of_the_engine():
    for path in (ROOT / "forms").glob("*.py"):
        assert not _imports(path, "engine"), path.name
