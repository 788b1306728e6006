"""The package's layers, read from its imports: no circles, nothing imports upwards, small modules.

The layer order is declared once, here (docs/architecture.md explains it). A package may import
from its own layer's peers only when they are listed together as one layer AND never both ways;
within a package, modules may import each other but never in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "sluice"

# top to bottom; a package may import only from packages in lower layers (or itself)
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("airflow",),
    ("sync", "verify", "capture"),
    ("copy",),
    ("datasets", "state"),
    ("dialects",),
    ("core",),
)
MAX_LINES = 500


def _package(module: str) -> str:
    """'sluice.copy.plan' -> 'copy'; the root package 'sluice' itself -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """sluice modules `module` imports, anywhere in the file (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = module.split(".")[: -node.level] if path.name != "__init__.py" else None
                pkg = pkg or module.split(".")[: len(module.split(".")) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:  # `from sluice.x import f`: the module sluice.x
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith("sluice"):
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {m: _imports(m, p, set(mods)) for m, p in mods.items()}


def _rank(package: str) -> int:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    raise AssertionError(f"package sluice.{package} is in no layer: add it to LAYERS")


def test_every_package_has_a_layer_and_a_docstring():
    for path in sorted(SRC.glob("*/__init__.py")):
        _rank(path.parent.name)
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"{path}: say what it owns and what it may import"
    loose = [p.name for p in SRC.glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules outside any package: {loose}"


def test_imports_flow_downwards_only():
    wrong = []
    for module, imported in _graph().items():
        if not _package(module):
            continue
        here = _rank(_package(module))
        for other in imported:
            pkg = _package(other)
            if not pkg or pkg == _package(module):
                continue
            if _rank(pkg) <= here:
                wrong.append(f"{module} imports {other} (layer {_rank(pkg)} from layer {here})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circles():
    graph = _graph()
    # packages' __init__ re-export their submodules: an edge into a package is an edge into it
    seen: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + "."):  # a package importing its own submodules
                continue
            if seen.get(nxt) == 1:
                circles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for module in sorted(graph):
        if module not in seen:
            visit(module)
    assert not circles, "import circles:\n" + "\n".join(circles)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_small(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)}: {lines} lines (at most {MAX_LINES})"
