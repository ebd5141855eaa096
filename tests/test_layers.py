"""The package's shape, read from its imports: layers only point down, and no modules
import each other.

Every import counts — at module level, inside a function, and under ``TYPE_CHECKING`` —
because each is a dependency a reader must follow. The order is the one
docs/architecture.md draws; changing it is a design decision, made here and there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "needtoknow"

# Lowest first. A part may import parts of lower layers only (and itself).
LAYERS: list[set[str]] = [
    {"moments"},
    {"errors"},
    {"types", "guards"},
    {"categories", "storage", "crypto"},
    {"policy", "ledger"},
    {"records"},
    {"children"},
    {"lifecycle"},
    {"vault"},
    {"rights", "imports", "staff"},
    {"config", "demo"},
    {"health", "detect", "backups"},
    {"analytics", "incidents"},
    {"web"},
    {"api", "client"},
    {"cli", "__init__"},
]
LAYER = {part: i for i, parts in enumerate(LAYERS) for part in parts}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, runtime_only: bool = False) -> Iterator[str]:
    """needtoknow modules ``path`` imports (``from needtoknow import x`` names x)."""
    tree = ast.parse(path.read_text("utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "needtoknow":
                yield from (f"needtoknow.{alias.name}" for alias in node.names)
            elif node.module.startswith("needtoknow."):
                base = node.module
                for alias in node.names:  # `from needtoknow.vault import access` is a module
                    candidate = PACKAGE.parent / (base + "." + alias.name).replace(".", "/")
                    exists = candidate.with_suffix(".py").exists() or candidate.is_dir()
                    yield f"{base}.{alias.name}" if exists else base
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("needtoknow."))


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_has_a_layer() -> None:
    parts = {_part(_module(p)) for p in _sources()}
    assert parts == set(LAYER), "give each new part a layer in LAYERS and architecture.md"


def test_layers_only_point_down() -> None:
    upward = sorted(
        f"{_module(path)} imports {target}"
        for path in _sources()
        for target in _imports(path)
        if _part(target) != _part(_module(path))
        and LAYER[_part(target)] >= LAYER[_part(_module(path))]
    )
    assert upward == []


def test_no_modules_import_each_other() -> None:
    """No cycle among runtime imports (a ``TYPE_CHECKING`` import of the class a function
    is handed is allowed: it adds no dependency when the code runs)."""
    graph = {_module(p): set(_imports(p, runtime_only=True)) for p in _sources()}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str], done: set[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done and target in graph:
                visit(target, [*path, target], done)
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module], done)
    # a package's __init__ re-exporting its own modules is not a cycle worth reporting
    real = [c for c in cycles if not any(_is_init_export(a, b) for a, b in pairwise(c))]
    assert real == []


def _is_init_export(importer: str, imported: str) -> bool:
    return imported.startswith(importer + ".") or importer.startswith(imported + ".")


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: a policy module importing the vault is reported."""
    module = tmp_path / "bad.py"
    module.write_text("def f() -> None:\n    from needtoknow.vault import Vault\n")
    targets = list(_imports(module))
    assert targets == ["needtoknow.vault"]
    assert LAYER[_part(targets[0])] >= LAYER["policy"]
