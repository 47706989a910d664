"""The layering of DESIGN.md: hub and site_agent never import each other; federation imports neither.

Every ``import`` and ``from ... import`` in each package's source is read with ``ast`` (including
imports inside functions and under ``TYPE_CHECKING``), so a lazy import breaks the rule too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "hub": {"site_agent"},
    "site_agent": {"hub"},
    "federation": {"hub", "site_agent"},
    "models": {"hub", "site_agent", "federation"},
    "protocols": {"hub", "site_agent", "federation", "models"},
}


def imported_roots(source: str) -> set[tuple[str, int]]:
    """Top-level package of every absolute import in ``source``, with its line number."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in {
                "import_module", "__import__"} and node.args and isinstance(node.args[0], ast.Constant):
            found.add((str(node.args[0].value).split(".")[0], node.lineno))
    return found


def violations(package: str) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for root, line in imported_roots(path.read_text(encoding="utf-8")):
            if root in FORBIDDEN[package]:
                out.append(f"{path.relative_to(ROOT)}:{line} imports {root}")
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_the_design_allows(package: str) -> None:
    assert violations(package) == []


def test_the_check_sees_plain_lazy_and_dynamic_imports() -> None:
    source = ("import hub.cli\nfrom site_agent import federate\n"
              "def f():\n    from hub.services import registry\n    importlib.import_module('site_agent.x')\n"
              "from . import sibling\n")
    assert {root for root, _ in imported_roots(source)} == {"hub", "site_agent"}
