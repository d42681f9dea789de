"""The package graph of rtm_core: no cycle, and every import goes down the pipeline's layers.

Counted from the source (``ast``): module-level *and* function-level imports, so a lazy import
cannot hide a cycle; imports under ``if TYPE_CHECKING:`` are left out (they never run).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "rtm_core"

#: bottom to top: a unit may import only the units before it (README's architecture sketch)
LAYERS = (
    "errors",
    "periods",
    "config",
    "cluster",
    "io",
    "study",
    "models",
    "factors",
    "record",
    "results",
    "runs",
    "synth",
    "backtest",
    "cli",
)


def _unit(module: str) -> str | None:
    """The package or top-level module of ``rtm_core`` a dotted name belongs to."""
    parts = module.split(".")
    if parts[0] != "rtm_core" or len(parts) == 1:
        return None
    return parts[1]


def _imports(tree: ast.AST) -> list[str]:
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(inner) for inner in ast.walk(node)}
    names = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "rtm_core":
                names += [f"rtm_core.{alias.name}" for alias in node.names]
            else:
                names.append(node.module)
    return names


def package_graph() -> dict[str, set[str]]:
    """Unit -> the other units of rtm_core it imports (``__version__`` and the root aside)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts == ("__init__",):
            continue
        source = parts[0]
        for name in _imports(ast.parse(path.read_text())):
            target = _unit(name)
            if target and target != source and target != "__version__":
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {t for targets in graph.values() for t in targets}):
        if node not in index:
            visit(node)
    return found


def test_the_package_graph_has_no_cycle():
    assert cycles(package_graph()) == []


def test_every_import_goes_down_the_layers():
    graph = package_graph()
    assert set(graph) | {t for targets in graph.values() for t in targets} <= set(LAYERS)
    upward = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        for target in targets
        if LAYERS.index(target) > LAYERS.index(source)
    ]
    assert upward == []


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "package", [p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()]
)
def test_each_package_says_what_it_owns(package):
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 12, f"rtm_core/{package}/__init__.py needs a docstring"


def test_the_library_never_imports_streamlit():
    for path in ROOT.rglob("*.py"):
        names = _imports(ast.parse(path.read_text()))
        assert not [n for n in names if n.split(".")[0] == "streamlit"], path


def test_environment_variables_are_read_in_one_place():
    app = ROOT.parent / "rtm_app"
    readers = []
    for path in [*ROOT.rglob("*.py"), *app.rglob("*.py"), ROOT.parent / "app.py"]:
        text = path.read_text()
        if "os.environ" in text or "getenv(" in text:
            readers.append(path.relative_to(ROOT.parent).as_posix())
    assert readers == ["rtm_core/config/environment.py"]


#: calls that enter GDAL: geopandas' and pyogrio's readers and writers, rasterio's datasets
GDAL_ENTRIES = {
    "read_file",
    "to_file",
    "read_dataframe",
    "write_dataframe",
    "read_info",
    "list_layers",
    "read_arrow",
    "write_arrow",
    "open_arrow",
    "MemoryFile",
    "open",
}


def _gdal_calls(tree: ast.AST) -> list[int]:
    """Lines calling into GDAL: ``<frame>.to_file(...)`` or ``gpd/pyogrio/rasterio.<entry>``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            module = base.id if isinstance(base, ast.Name) else None
            if node.func.attr == "to_file" or (
                module in {"gpd", "geopandas", "pyogrio", "rasterio"}
                and node.func.attr in GDAL_ENTRIES
            ):
                lines.append(node.lineno)
    return lines


def test_gdal_is_entered_only_under_its_lock_in_one_module():
    """Two threads in GDAL can freeze the server (rtm_core/io/gdal.py): the package and the app
    reach GDAL only through that module's functions, which hold ``GDAL_LOCK``."""
    app = ROOT.parent / "rtm_app"
    sources = [*ROOT.rglob("*.py"), *app.rglob("*.py"), *(ROOT.parent / "views").glob("*.py")]
    found = {
        path.relative_to(ROOT.parent).as_posix(): lines
        for path in [*sources, ROOT.parent / "app.py"]
        if (lines := _gdal_calls(ast.parse(path.read_text())))
    }
    assert len(found.pop("rtm_core/io/gdal.py", [])) >= 4  # the finder sees the real calls
    assert found == {}
