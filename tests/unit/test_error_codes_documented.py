"""docs/errors.md against the code: every error code set in apps/ and libs/servicekit/ is in the table of
its app (or of the kit), and every code a table lists is still set there, so the doc drifts neither way.

The collector reads the source with `ast`. A code is set one way (STYLE.md): a class attribute
`default_code = "..."` on a subclass of a kit error, which also says in its docstring when it is raised.
Two relays put a fixed code on an error whose class their status picks, and name it in a module constant
ending in `_CODE`: the gateway's `FAILURE_CODE`, the envelope's `HTTP_ERROR_CODE`. A `code=` argument
may only pass such a name or a peer's code along (`code=error.get("code")`), never a literal.

In the doc, a code is the first cell of a table row (`` | `CODE` | ``) under a `### <app-id>` heading, or
`### servicekit` for the kit's own codes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

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


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _assigned(node: ast.stmt) -> tuple[str, str | None] | None:
    """`(name, literal)` for `name = "..."` or `name: str = "..."`; None for any other statement."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, _literal(node.value)
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, _literal(node.value)
    return None


def error_classes(tree: ast.Module) -> Iterator[tuple[ast.ClassDef, str]]:
    """Every class that sets `default_code`, with the code it sets."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                assigned = _assigned(statement)
                if assigned is not None and assigned[0] == "default_code":
                    code = assigned[1]
                    assert code is not None and CODE.fullmatch(code), f"{node.name}.default_code is not a literal CODE"
                    yield node, code


def codes_set_in(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Each code a module sets, with its line: its classes' `default_code`, its relays' `*_CODE` constants."""
    yield from ((code, cls.lineno) for cls, code in error_classes(tree))
    for statement in tree.body:
        assigned = _assigned(statement)
        if assigned is not None and assigned[0].endswith("_CODE") and assigned[1] is not None:
            assert CODE.fullmatch(assigned[1]), f"{assigned[0]} is not a CODE"
            yield assigned[1], statement.lineno


def _literals(node: ast.expr) -> set[str]:
    """The strings an argument is as written: a literal, either branch of `a if c else b`, each side of `a or b`."""
    if (literal := _literal(node)) is not None:
        return {literal}
    if isinstance(node, ast.IfExp):
        return _literals(node.body) | _literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*map(_literals, node.values))
    return set()  # a name, a call (`error.get("code")` relays a peer's code)


def literal_code_arguments(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """Each string literal passed as `code=`: a code set the old way, at the raise site."""
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "code":
            yield from ((code, node.value.lineno) for code in sorted(_literals(node.value)))


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in SOURCES}


def codes_in_source() -> dict[str, dict[str, str]]:
    """Every code set in the source: by owner, each code with one place that sets it (`path:line`)."""
    found: dict[str, dict[str, str]] = {}
    for path, tree in _trees().items():
        for code, line in codes_set_in(tree):
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


def test_the_collector_reads_classes_and_relay_constants_and_spots_literal_codes() -> None:
    tree = ast.parse(
        "class SkuTaken(Conflict):\n"
        '    """Raised when a SKU is taken."""\n'
        '    default_code = "SKU_TAKEN"\n'
        'FAILURE_CODE = "SERVICE_UNAVAILABLE"\n'
        'KEY = "NOT_A_CODE"\n'
        "def f(err):\n"
        '    local_code = "NOT_SET_HERE"\n'
        '    raise Conflict("x", code="OLD_WAY" if err else error.get("code"))\n'
        "    raise error_for_status(409, 'x', code=FAILURE_CODE)\n"
    )
    assert sorted(codes_set_in(tree)) == [("SERVICE_UNAVAILABLE", 4), ("SKU_TAKEN", 1)]
    assert list(literal_code_arguments(tree)) == [("OLD_WAY", 8)]  # a peer's code or a relay's constant is fine


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


def test_codes_are_set_one_way_never_as_a_literal_code_argument() -> None:
    literal = [
        f"{path.relative_to(ROOT)}:{line} code={code!r}"
        for path, tree in _trees().items()
        for code, line in literal_code_arguments(tree)
    ]
    assert not literal, "give each code its own subclass with `default_code` instead:\n" + "\n".join(literal)


def test_every_error_class_says_when_it_is_raised() -> None:
    classes = [(path, cls) for path, tree in _trees().items() for cls, _ in error_classes(tree)]
    assert len(classes) > 50
    unsaid = [f"{path.relative_to(ROOT)}: {cls.name}" for path, cls in classes if not ast.get_docstring(cls)]
    assert not unsaid, "error classes without a docstring:\n" + "\n".join(unsaid)
