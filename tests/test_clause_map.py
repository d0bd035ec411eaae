"""The README's clause map stays true: every clause of the notice is kept by modules that
exist and proved by tests that name it."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The clauses of the privacy notice that the design record (shared/DESIGN.md, "What the
# privacy notice promises") maps to features; it lives beside the repository, not in it.
CLAUSES = ["S1", "S2", "S3", "S6", "S7", "S8", "S9", "S11", "S13", "S15", "S16", "S17", "S18", "S19"]

SECTION = "## Privacy notice clause map"
ROW = re.compile(r"^\|\s*(S\d+)\s*\|([^|]*)\|([^|]*)\|\s*$")
# "S11", and ranges such as "S16–S19" or "S16-19".
CLAUSE_REFERENCE = re.compile(r"\bS(\d+)(?:\s*[–-]\s*S?(\d+))?\b")


def clause_map(readme: str) -> dict[str, tuple[list[str], list[str]]]:
    """{clause: (modules, test files)} from the map's table in the README."""
    assert SECTION in readme, f"README.md has no '{SECTION}' section"
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[list[str], list[str]]] = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            clause, modules, tests = match.groups()
            assert clause not in rows, f"{clause} has two rows in the clause map"
            rows[clause] = (_paths(modules), _paths(tests))
    return rows


def _paths(cell: str) -> list[str]:
    return [p.strip().strip("`") for p in cell.split(",") if p.strip()]


def named_clauses(text: str) -> set[str]:
    named = set()
    for match in CLAUSE_REFERENCE.finditer(text):
        first = int(match.group(1))
        last = int(match.group(2) or first)
        named.update(f"S{n}" for n in range(first, last + 1))
    return named


@cache
def clauses_named_by_tests(path: str) -> frozenset[str]:
    """The clauses named in the docstrings of a test file's test functions."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            named |= named_clauses(ast.get_docstring(node) or "")
    return frozenset(named)


@cache
def readme_map() -> dict[str, tuple[list[str], list[str]]]:
    return clause_map((ROOT / "README.md").read_text(encoding="utf-8"))


def test_every_clause_of_the_notice_has_a_row():
    rows = readme_map()
    assert [c for c in CLAUSES if c not in rows] == [], "clauses missing from the README's map"
    assert [c for c in rows if c not in CLAUSES] == [], "rows for clauses the design does not list"


def test_the_clause_list_is_the_design_records():
    """Where the design record sits beside the repository (as in the team's checkouts),
    CLAUSES above is its table's list of clause ids."""
    design = ROOT.parent / "shared" / "DESIGN.md"
    if not design.is_file():
        pytest.skip("shared/DESIGN.md is not beside this checkout")
    table = design.read_text(encoding="utf-8").split("## What the privacy notice promises", 1)[1]
    ids = re.findall(r"^\|\s*(S\d+)\s*\|", table.split("\n## ", 1)[0], flags=re.MULTILINE)
    assert ids == CLAUSES


def test_every_listed_path_exists_in_the_repository():
    missing = [
        (clause, path)
        for clause, (modules, tests) in readme_map().items()
        for path in [*modules, *tests]
        if ".." in Path(path).parts or not (ROOT / path).is_file()
    ]
    assert missing == []


def test_every_clause_is_kept_by_a_module_and_proved_by_a_test_file():
    empty = [clause for clause, (modules, tests) in readme_map().items() if not modules or not tests]
    assert empty == []
    not_tests = [
        path
        for _modules, tests in readme_map().values()
        for path in tests
        if not (path.startswith("tests/") and Path(path).name.startswith("test_"))
    ]
    assert not_tests == []


def test_each_listed_test_file_has_a_test_naming_the_clause():
    """A test file is listed for a clause only when one of its tests says, in its
    docstring, that it proves that clause (`\"\"\"S11: ...\"\"\"`)."""
    unproved = [
        (clause, path)
        for clause, (_modules, tests) in readme_map().items()
        for path in tests
        if (ROOT / path).is_file() and clause not in clauses_named_by_tests(path)
    ]
    assert unproved == []


def test_the_parser_reads_rows_and_ranges():
    table = f"""{SECTION}

| clause | kept by | proved by |
|---|---|---|
| S11 | a.py, `b.py` | tests/t.py |
"""
    assert clause_map(table) == {"S11": (["a.py", "b.py"], ["tests/t.py"])}
    assert named_clauses("S16–S19: a request; S1 and S3.") == {"S1", "S3", "S16", "S17", "S18", "S19"}
    assert "S1" not in named_clauses("S11: erasure") and "S1" not in named_clauses("S13")
