"""docs/errors.md against the code: every error code set in apps/ and libs/servicekit/ is in the table of
its app (or of the kit), and every code a table lists is still set there, so the doc drifts neither way.

The collector reads the source with `ast`. A code is a string literal set in one of the ways the code
sets them today:

- a class attribute `default_code = "..."` (the one way STYLE.md asks for), or any other name ending in
  `code`/`codes` assigned UPPER_SNAKE literals: the gateway's `FAILURE_CODE`, the envelope's
  `codes = {404: "ROUTE_NOT_FOUND", ...}` and its fallback `code = codes.get(status, "HTTP_ERROR")`;
- a keyword argument `code="..."` (both branches of `code="A" if x else "B"`);
- a positional argument in the place of a function's parameter named `code` (catalog's
  `invalid(field, code, message)`).

In the doc, a code is the first cell of a table row (`` | `CODE` | ``) under a `### <app-id>` heading, or
`### servicekit` for the kit's own codes.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

from servicekit import errors

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
KIT = "servicekit"
SOURCES = sorted([*(ROOT / "apps").rglob("*.py"), *(ROOT / "libs" / KIT).rglob("*.py")])
CODE = re.compile(r"[A-Z][A-Z0-9_]*")
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|")
HEADING = re.compile(r"^###\s+`?([a-z][a-z0-9-]*)`?")


def owner_of(path: Path) -> str:
    """`orders` for apps/orders/…, `servicekit` for libs/servicekit/…."""
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "apps" else KIT


def _literals(node: ast.expr) -> set[str]:
    """The strings an argument is as written: a literal, either branch of `a if c else b`, each side of `a or b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body) | _literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*map(_literals, node.values))
    return set()  # a name, a call (`error.get("code")` relays a peer's code): nothing set here


def _upper_snake(node: ast.AST) -> set[str]:
    """Every UPPER_SNAKE literal anywhere in an assigned value (a dict's values, a call's fallback)."""
    strings = (n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))
    return {s for s in strings if CODE.fullmatch(s)}


def _name(node: ast.AST) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _code_positions(trees: dict[Path, ast.Module]) -> dict[str, int]:
    """Functions that take a code positionally, by name: where in a call's arguments the code stands."""
    positions: dict[str, int] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names = [a.arg for a in (*node.args.posonlyargs, *node.args.args) if a.arg not in ("self", "cls")]
                if "code" in names:
                    positions[node.name] = names.index("code")
    return positions


def _codes_in(tree: ast.Module, positions: dict[str, int]) -> Iterator[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code":
            yield from ((code, node.value.lineno) for code in _literals(node.value))
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_name(t).lower().endswith(("code", "codes")) for t in targets):
                yield from ((code, node.lineno) for code in _upper_snake(node.value))
        elif isinstance(node, ast.Call) and _name(node.func) in positions:
            at = positions[_name(node.func)]
            if at < len(node.args):
                yield from ((code, node.lineno) for code in _literals(node.args[at]))


def codes_in_source() -> dict[str, dict[str, str]]:
    """Every code set in the source: by owner, each code with one place that sets it (`path:line`)."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in SOURCES}
    positions = _code_positions(trees)
    found: dict[str, dict[str, str]] = {}
    for path, tree in trees.items():
        for code, line in _codes_in(tree, positions):
            found.setdefault(owner_of(path), {}).setdefault(code, f"{path.relative_to(ROOT)}:{line}")
    return found


def codes_in_doc() -> dict[str, set[str]]:
    """Every code docs/errors.md lists, by the `### <owner>` heading its table stands under."""
    documented: dict[str, set[str]] = {}
    owner: str | None = None
    for line in DOC.read_text().splitlines():
        if line.startswith("#"):
            heading = HEADING.match(line)
            owner = heading.group(1) if heading else None
        elif owner is not None and (row := ROW.match(line)):
            documented.setdefault(owner, set()).add(row.group(1))
    return documented


def test_the_doc_has_a_table_for_the_kit_and_only_for_real_apps() -> None:
    owners = {path.name for path in (ROOT / "apps").iterdir() if (path / "__init__.py").exists()} | {KIT}
    documented = codes_in_doc()
    assert KIT in documented
    assert set(documented) <= owners, f"tables under headings that name no app: {set(documented) - owners}"


def test_every_code_set_in_the_source_is_documented_under_its_app() -> None:
    documented = codes_in_doc()
    missing = [
        f"{code} ({owner}, set at {where})"
        for owner, codes in codes_in_source().items()
        for code, where in sorted(codes.items())
        if code not in documented.get(owner, set())
    ]
    assert not missing, "codes missing from docs/errors.md:\n" + "\n".join(missing)


def test_every_documented_code_is_still_set_by_its_app() -> None:
    found = codes_in_source()
    stale = [
        f"{code} (under ### {owner})"
        for owner, codes in codes_in_doc().items()
        for code in sorted(codes - set(found.get(owner, {})))
    ]
    assert not stale, "docs/errors.md lists codes nothing sets any more:\n" + "\n".join(stale)


def test_every_error_class_of_the_kit_says_when_it_is_raised() -> None:
    classes = [cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.JunctionError)]
    assert len(classes) > 10
    unsaid = [cls.__name__ for cls in classes if not (cls.__doc__ or "").strip()]
    assert not unsaid, f"error classes without a docstring: {unsaid}"
