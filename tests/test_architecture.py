"""The dependency direction of the package, checked with `ast` (see /work/shared/DESIGN.md).

    layer 0   errors                                  imports nothing from zarrio
    layer 1   stores  codecs  metadata  indexing      each imports only itself and errors
    layer 2   engine  creation                        join layer 1
    layer 3   array  group  array_selection           AsyncArray, AsyncGroup (may import each other)
    layer 4   portal  stored  node_info               the loop thread; what is stored, node facts
    layer 5   aio                                     the async surface (a package)
    layer 6   sync                                    the blocking facade (a package)
    layer 7   integrations                            dask, xarray
    layer 8   zarrio/__init__.py

A layered module never imports a higher layer. `engine` is imported only from layer 3 up.
Private helpers (`zarrio._name`) are utilities beneath the layers that use them: they never
import engine or anything above it. Library modules never import the tool modules (`testing`,
`server`, `demo`, `cli`). Every module belongs to a layer, is a private helper or is a tool; the
components import each other without a cycle; every module stays under MAX_MODULE_LINES lines.
Imports anywhere in a file count, including those inside functions and `if TYPE_CHECKING:` blocks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "zarrio"
MAX_MODULE_LINES = 400

LAYERS: dict[str, int] = {
    "errors": 0,
    "stores": 1,
    "codecs": 1,
    "metadata": 1,
    "indexing": 1,
    "engine": 2,
    "creation": 2,
    "creation_v2": 2,
    "array": 3,
    "group": 3,
    "array_selection": 3,
    "portal": 4,
    "stored": 4,
    "node_info": 4,
    "aio": 5,
    "sync": 6,
    "integrations": 7,
    "zarrio": 8,
}
FOUNDATIONS = {name for name, layer in LAYERS.items() if layer == 1}
PEERS_ALLOWED = {
    frozenset({"array", "group"}),
    frozenset({"array", "array_selection"}),
    frozenset({"node_info", "stored"}),
    frozenset({"creation", "creation_v2"}),
}
ENGINE_MIN_IMPORTER_LAYER = 3
TOOL_MODULES = {"testing", "server", "demo", "cli"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name, e.g. "zarrio.stores.local"
    imported: str  # dotted module name inside the package, e.g. "zarrio.errors"
    line: int

    def describe(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}"


def module_name(package_dir: Path, file: Path) -> str:
    parts = [package_dir.name, *file.relative_to(package_dir).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(package_dir: Path, dotted: str) -> bool:
    relative = Path(*dotted.split(".")[1:]) if "." in dotted else Path()
    base = package_dir / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def resolve_from(package_dir: Path, importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = importer.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def imports_of(package_dir: Path, file: Path) -> list[Import]:
    """Every import of a module of the package made anywhere in `file`."""
    package = package_dir.name
    importer = module_name(package_dir, file)
    is_package = file.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), filename=str(file))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve_from(package_dir, importer, is_package, node)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.append(candidate if is_module(package_dir, candidate) else base)
        else:
            continue
        for target in targets:
            if target == package or target.startswith(package + "."):
                found.append(Import(importer, target, node.lineno))
    return found


def component(dotted: str) -> str:
    """'zarrio.stores.local' -> 'stores'; 'zarrio' -> 'zarrio'."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def violations(package_dir: Path) -> list[str]:
    problems: list[str] = []
    for file in sorted(package_dir.rglob("*.py")):
        for imp in imports_of(package_dir, file):
            problems.extend(f"{imp.describe()}: {why}" for why in rule_breaks(imp))
    return problems


def rule_breaks(imp: Import) -> list[str]:
    source, target = component(imp.importer), component(imp.imported)
    if source == target:
        return []
    broken: list[str] = []
    source_layer, target_layer = LAYERS.get(source), LAYERS.get(target)
    if source == "errors":
        broken.append("errors is the bottom layer and imports nothing from zarrio")
    if source in FOUNDATIONS and target != "errors":
        broken.append(f"{source} may import only itself and zarrio.errors")
    if source_layer is not None and target_layer is not None:
        higher = target_layer > source_layer
        same_layer_not_peers = (
            target_layer == source_layer and source != target and frozenset({source, target}) not in PEERS_ALLOWED
        )
        if higher or (same_layer_not_peers and source not in FOUNDATIONS):
            broken.append(f"layer {source_layer} ({source}) must not import layer {target_layer} ({target})")
    if target == "engine" and source != "engine" and (source_layer or -1) < ENGINE_MIN_IMPORTER_LAYER:
        broken.append("engine is imported only by array/group and above")
    if source.startswith("_") and target_layer is not None and target_layer >= LAYERS["engine"]:
        broken.append(f"private helper {source} must not import {target} (engine or above)")
    if target in TOOL_MODULES and source not in TOOL_MODULES:
        broken.append(f"library modules must not import the tool module {target}")
    return broken


# ---------------------------------------------------------------- the real package


def test_package_dependency_direction() -> None:
    problems = violations(PACKAGE_DIR)
    assert not problems, "dependency direction broken:\n" + "\n".join(problems)


def component_graph(package_dir: Path) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for file in sorted(package_dir.rglob("*.py")):
        for imp in imports_of(package_dir, file):
            source, target = component(imp.importer), component(imp.imported)
            graph.setdefault(source, set())
            if source != target:
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of components that reach each other."""

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            for nxt in graph.get(stack.pop(), set()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    return sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if a in reach(b)})  # type: ignore[misc]


def test_no_import_cycle_between_components() -> None:
    found = cycles(component_graph(PACKAGE_DIR))
    assert not found, f"components that import each other: {found}"


def test_every_module_is_in_a_layer_a_private_helper_or_a_tool() -> None:
    unplaced = sorted(
        name
        for name in component_graph(PACKAGE_DIR)
        if name not in LAYERS and name not in TOOL_MODULES and not name.startswith("_")
    )
    assert not unplaced, f"components in no layer: {unplaced} (add them to LAYERS, with the docstring's table)"


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    files = {"array.py": "from . import group\n", "group.py": "def f():\n    from . import array\n"}
    assert cycles(component_graph(make_package(tmp_path, files))) == [("array", "group")]


def test_scanner_sees_the_package() -> None:
    """Guards the check above against vacuously passing (wrong folder, imports not found)."""
    files = list(PACKAGE_DIR.rglob("*.py"))
    assert (PACKAGE_DIR / "errors.py").is_file()
    assert len(files) >= 5
    found = [imp for file in files for imp in imports_of(PACKAGE_DIR, file)]
    assert any(imp.imported == "zarrio.errors" for imp in found)


@pytest.mark.parametrize(
    "file", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda f: str(f.relative_to(PACKAGE_DIR.parent))
)
def test_module_stays_small(file: Path) -> None:
    lines = len(file.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{file.name} has {lines} lines; split it (limit {MAX_MODULE_LINES})"


# ---------------------------------------------------------------- the checker itself, on synthetic packages


def make_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "zarrio"
    for relative, text in {"__init__.py": "", "errors.py": "", **files}.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for directory in [p for p in package.rglob("*") if p.is_dir()]:
        (directory / "__init__.py").touch()
    return package


@pytest.mark.parametrize(
    ("files", "expected_fragment"),
    [
        ({"stores/local.py": "from ..codecs import base\n", "codecs/base.py": ""}, "stores may import only"),
        ({"codecs/zstd.py": "import zarrio.metadata\n", "metadata/__init__.py": ""}, "codecs may import only"),
        ({"metadata/a.py": "from zarrio import engine\n", "engine.py": ""}, "engine is imported only"),
        ({"indexing.py": "from . import array\n", "array.py": ""}, "layer 1 (indexing) must not import layer 3"),
        ({"engine.py": "from .group import AsyncGroup\n", "group.py": ""}, "layer 2 (engine) must not import"),
        ({"array.py": "from .sync import Array\n", "sync.py": ""}, "layer 3 (array) must not import layer 6"),
        ({"errors.py": "from . import stores\n", "stores/base.py": ""}, "errors is the bottom layer"),
        ({"creation.py": "from .engine import ChunkEngine\n", "engine.py": ""}, "engine is imported only"),
        ({"_runtime.py": "from .portal import run\n", "portal.py": ""}, "private helper _runtime"),
        ({"engine.py": "from .testing import CountingStore\n", "testing.py": ""}, "tool module testing"),
        ({"stores/local.py": "def f():\n    from zarrio import open\n"}, "stores may import only"),
        (
            {
                "codecs/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..stores import base\n",
                "stores/base.py": "",
            },
            "codecs may import only",
        ),
    ],
)
def test_checker_reports_a_wrong_import(tmp_path: Path, files: dict[str, str], expected_fragment: str) -> None:
    problems = violations(make_package(tmp_path, files))
    assert any(expected_fragment in problem for problem in problems), problems


def test_checker_accepts_imports_that_follow_the_layers(tmp_path: Path) -> None:
    files = {
        "stores/base.py": "from ..errors import StoreError\n",
        "stores/local.py": "from .base import Store\nfrom . import base\nfrom zarrio.stores import base as b\n",
        "codecs/zstd.py": "from zarrio.errors import CodecError\nfrom .base import Codec\n",
        "codecs/base.py": "",
        "engine.py": "from .stores.base import Store\nfrom .codecs import zstd\nfrom ._runtime import pool\n",
        "_runtime.py": "from .errors import ZarrioError\n",
        "array.py": "from .engine import ChunkEngine\nfrom . import group\n",
        "group.py": "from .array import AsyncArray\n",
        "aio.py": "from .array import AsyncArray\nfrom .group import AsyncGroup\n",
        "sync.py": "from .aio import open\nfrom .portal import run\n",
        "portal.py": "from .errors import FacadeError\n",
        "testing.py": "from .stores.base import Store\nimport zarrio\n",
        "__init__.py": "from . import aio, sync, stores\nfrom .sync import Array\n",
    }
    assert violations(make_package(tmp_path, files)) == []
