"""Public functions in rtm_core carry numpy-style docstrings that match their signatures.

Rule (issue 10): every public function or method (no leading underscore, in a public class or
at module level) with two or more parameters (``self``/``cls`` not counted) has a
``Parameters`` section and a ``Returns`` section (``Yields`` for generators; ``Returns`` may be
left out only when the function is annotated ``-> None``). Wherever a ``Parameters`` section
exists, its ``name : type`` lines name exactly the signature's parameters.
"""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rtm_core"

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
# A parameter line: one or more names (``x``, ``x1, x2``, ``*args``, ``**kwargs``) at the
# section's own indentation, optionally followed by `` : type``.
PARAM_LINE = re.compile(r"^(\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*)\s*(?::.*)?$")


def public_functions(tree: ast.Module) -> Iterator[tuple[str, FunctionNode]]:
    """Yield ``(qualified name, node)`` for public module-level functions and public methods.

    Parameters
    ----------
    tree : ast.Module
        A parsed module.

    Yields
    ------
    tuple of (str, FunctionDef or AsyncFunctionDef)
        ``name`` or ``Class.name`` (nested public classes give ``Outer.Inner.name``).
    """

    def visit(body: list[ast.stmt], prefix: str) -> Iterator[tuple[str, FunctionNode]]:
        for node in body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                yield from visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, FunctionNode) and not node.name.startswith("_"):
                yield f"{prefix}{node.name}", node

    yield from visit(tree.body, "")


def signature_names(node: FunctionNode) -> list[str]:
    """Parameter names of a function, ``self`` and ``cls`` left out, ``*``/``**`` stripped."""
    a = node.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return [n for n in names if n not in ("self", "cls")]


def section(doc: str, title: str) -> list[str] | None:
    """Lines of a numpy-style section (header and underline excluded), or None if absent.

    Parameters
    ----------
    doc : str
        A cleaned docstring (as from :func:`ast.get_docstring`).
    title : str
        Section header, e.g. ``"Parameters"``.

    Returns
    -------
    list of str or None
        The lines up to the next section header or the end of the docstring.
    """
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i].strip() == title and set(lines[i + 1].strip()) == {"-"}:
            body = []
            for j in range(i + 2, len(lines)):
                nxt = lines[j + 1].strip() if j + 1 < len(lines) else ""
                if lines[j].strip() and nxt and set(nxt) == {"-"}:
                    break
                body.append(lines[j])
            return body
    return None


def documented_names(lines: list[str]) -> list[str]:
    """Parameter names in the lines of a ``Parameters`` section.

    Parameters
    ----------
    lines : list of str
        The section's lines as returned by :func:`section`.

    Returns
    -------
    list of str
        Names from lines at the section's base indentation, ``*``/``**`` stripped; a line
        ``x1, x2 : float`` gives both names. Indented lines are descriptions.
    """
    entries = [ln for ln in lines if ln.strip()]
    if not entries:
        return []
    base = min(len(ln) - len(ln.lstrip()) for ln in entries)
    names = []
    for ln in entries:
        if len(ln) - len(ln.lstrip()) != base:
            continue
        match = PARAM_LINE.match(ln.strip())
        if match is None:
            names.append(ln.strip())  # not a parameter line: reported as unknown
            continue
        names.extend(n.strip().lstrip("*") for n in match.group(1).split(","))
    return names


def problems(source: str, label: str) -> list[str]:
    """Docstring problems in one module's source.

    Parameters
    ----------
    source : str
        Python source text.
    label : str
        How to name the file in messages (a path relative to the repository).

    Returns
    -------
    list of str
        One ``file:line name: what is wrong`` entry per problem, in source order.
    """
    found = []
    for name, node in public_functions(ast.parse(source)):
        params = signature_names(node)
        doc = ast.get_docstring(node) or ""
        where = f"{label}:{node.lineno} {name}"
        documented = section(doc, "Parameters")
        if len(params) >= 2:
            returns_none = node.returns is not None and ast.unparse(node.returns) == "None"
            has_result = section(doc, "Returns") is not None or section(doc, "Yields") is not None
            missing = []
            if documented is None:
                missing.append("Parameters")
            if not (has_result or returns_none):
                missing.append("Returns/Yields")
            if missing:
                found.append(f"{where}: no {' or '.join(missing)} section")
        if documented is not None:
            names = documented_names(documented)
            undocumented = [p for p in params if p not in names]
            unknown = [n for n in names if n not in params]
            if undocumented:
                found.append(f"{where}: parameters not documented: {', '.join(undocumented)}")
            if unknown:
                found.append(f"{where}: documented but not in signature: {', '.join(unknown)}")
    return found


def test_public_functions_have_numpy_docstrings_matching_their_signatures():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, (
        f"{len(found)} docstring problem(s); add numpy-style Parameters/Returns sections "
        "whose `name : type` lines match the signature:\n" + "\n".join(found)
    )


GOOD = '''
def area(width: float, height: float) -> float:
    """Area of a rectangle.

    Parameters
    ----------
    width, height : float
        Sides in metres.

    Returns
    -------
    float
    """


def draw(*shapes, colour: str = "red", **style) -> None:
    """Draw shapes.

    Parameters
    ----------
    *shapes : Shape
    colour : str
    **style
        Passed on.
    """


def counts(points, windows):
    """Count points per window.

    Parameters
    ----------
    points : ndarray
    windows : list of Period

    Yields
    ------
    int
    """


class Grid:
    def cell(self, row: int, col: int) -> int:
        """Index of a cell.

        Parameters
        ----------
        row : int
        col : int

        Returns
        -------
        int
        """

    def _private(self, a, b):
        pass


def _helper(a, b):
    pass


def one(x):
    """One parameter needs no sections."""
'''

BAD = '''
def missing_all(a, b):
    """Nothing documented."""


def missing_returns(a, b) -> int:
    """Parameters only.

    Parameters
    ----------
    a : int
    b : int
    """


class Grid:
    def renamed(self, row, col):
        """Stale names.

        Parameters
        ----------
        row : int
        column : int
            Renamed since.

        Returns
        -------
        int
        """


def partial(x):
    """A section that leaves a parameter out.

    Parameters
    ----------
    """
'''


def test_checker_accepts_well_documented_functions():
    assert problems(GOOD, "good.py") == []


def test_checker_names_each_offender_and_what_is_wrong():
    assert problems(BAD, "bad.py") == [
        "bad.py:2 missing_all: no Parameters or Returns/Yields section",
        "bad.py:6 missing_returns: no Returns/Yields section",
        "bad.py:17 Grid.renamed: parameters not documented: col",
        "bad.py:17 Grid.renamed: documented but not in signature: column",
        "bad.py:32 partial: parameters not documented: x",
    ]
