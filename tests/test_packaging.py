"""Every library the program imports is declared; the engine's modules import no cycles."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "chinwag"


def imported_top_level_names(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def declared(requirements: list[str]) -> set[str]:
    out = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        out.add(name.strip().lower().replace("_", "-"))
    return out


def test_every_imported_library_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    extras = project.get("optional-dependencies", {})  # e.g. web: what `chinwag serve` imports
    dependencies = declared(project["dependencies"] + [r for name, group in extras.items() if name != "test"
                                                        for r in group])
    distributions = packages_distributions()
    undeclared = {}
    for name in sorted(imported_top_level_names(SOURCE)):
        if name in sys.stdlib_module_names or name == "chinwag" or name == "__future__":
            continue
        owners = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not owners & dependencies:
            undeclared[name] = sorted(owners)
    assert undeclared == {}, f"imported but not declared in pyproject.toml: {undeclared}"


def chinwag_imports(path: Path) -> set[str]:
    """The chinwag modules a file imports when it is imported: module level, TYPE_CHECKING
    blocks included (a cycle there is still a cycle for readers and type checkers). Imports
    inside functions are left out: they run later, once both modules exist."""
    modules = {module_name(p) for p in SOURCE.rglob("*.py")}
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.ImportFrom) and child.level == 0 and (child.module or "").startswith("chinwag"):
                out.add(child.module)
                out.update(f"{child.module}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                out.update(alias.name for alias in child.names if alias.name.startswith("chinwag"))
            visit(child)

    visit(ast.parse(path.read_text("utf-8")))
    return out & modules


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_module_imports_one_that_imports_it_back_at_import_time():
    graph = {module_name(p): chinwag_imports(p) - {module_name(p)} for p in SOURCE.rglob("*.py")}
    cycles = []
    for start in sorted(graph):
        seen, todo = set(), [(start, [start])]
        while todo:
            module, path = todo.pop()
            for nxt in sorted(graph.get(module, ())):
                if nxt == start:
                    cycles.append(" -> ".join([*path, start]))
                elif nxt not in seen:
                    seen.add(nxt)
                    todo.append((nxt, [*path, nxt]))
    assert cycles == []
