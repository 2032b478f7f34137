"""The package's shape: stages import only lower stages, no import cycle, no private name crosses a module,
and Airflow's plugin loader never imports the package's modules as top-level ones."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "cstrack"
# lower layers first; a module may import its own layer and the ones before it
LAYERS = [
    {"config", "errors", "specs", "warehouse", "privacy", "constants", "sources"},
    {"ingest"},
    {"transform"},
    {"quality"},
    {"publish"},
    {"serve"},
    {"demo"},
    {"orchestration"},
    {"cli"},
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    stage = module.split(".")[1] if "." in module else ""
    return next(i for i, names in enumerate(LAYERS) if stage in names) if stage else 0


def imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported from it, line) for every cstrack import of a file, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cstrack":
            found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "cstrack"]
    return found


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolved(module: str, names: list[str]) -> list[str]:
    """The modules an import statement depends on: `from cstrack.ingest import social` is cstrack.ingest.social."""
    targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
    return targets or [module]


def test_every_stage_imports_only_lower_stages():
    wrong = [
        f"{name}:{line} imports {target}"
        for name, path in MODULES.items()
        for module, names, line in imports(path)
        for target in resolved(module, names)
        if layer(target) > layer(name)
    ]
    assert not wrong, "a lower stage imports a higher one:\n" + "\n".join(wrong)


def test_no_private_name_is_imported_from_another_module():
    wrong = [
        f"{name}:{line} imports {module}.{n}"
        for name, path in [*MODULES.items(), *((p.stem, p) for p in (PACKAGE.parents[1] / "dags").glob("*.py"))]
        for module, names, line in imports(path)
        for n in names
        if n.startswith("_") and module != name
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph = {
        name: {t for module, names, _ in imports(path) for t in resolved(module, names) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }
    # a package's __init__ is imported with its modules: an edge into a package is an edge into its __init__ only
    seen: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(nxt) :] + [node, nxt]))
            if nxt not in seen:
                visit(nxt, stack + [node])
        seen[node] = 2

    for name in graph:
        if name not in seen:
            visit(name, [])


def test_airflow_plugin_loader_skips_the_package(monkeypatch):
    """Airflow imports every .py under its plugins folder as a top-level module (`config`, `errors`, ...);
    plugins/.airflowignore keeps the package out of it."""
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    before = set(sys.modules)
    plugins, errors = _load_plugins_from_plugin_directory(str(PACKAGE.parent))
    added = set(sys.modules) - before
    for name in added:
        sys.modules.pop(name, None)
    assert not errors
    assert not {"config", "errors", "cli", "warehouse", "marts", "gates"} & added, sorted(added)
