"""The dependency arrows point one way: the core imports no web, graph or drawing code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "webapp" / "core"
FORBIDDEN = {"flask", "pyvis", "networkx", "sqlalchemy", "click", "werkzeug", "jinja2"}
FORBIDDEN_OWN = {
    "webapp.web", "webapp.graph", "webapp.render", "webapp.cli", "webapp.outputs"
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE))
)
def test_core_imports_nothing_from_outside(path: Path) -> None:
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in FORBIDDEN, f"{path.name} imports {name}"
        assert not any(name.startswith(m) for m in FORBIDDEN_OWN), f"{path.name} imports {name}"


def test_importing_webapp_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, webapp, webapp.core;"
        "heavy = {'flask', 'pyvis', 'networkx', 'sqlalchemy', 'yaml'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


INPUT = CORE / "input"


@pytest.mark.parametrize("name", ["loader", "normalize", "raw", "validation", "sanitize", "stored"])
def test_the_input_stage_lives_in_its_package_without_shims(name: str) -> None:
    assert not (CORE / f"{name}.py").exists()
    assert (INPUT / f"{name}.py").exists() or name in ("loader", "normalize")


@pytest.mark.parametrize("path", sorted(INPUT.glob("*.py")), ids=lambda p: p.name)
def test_each_input_module_says_what_it_is_for(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring.splitlines()) > 2, f"{path.name} needs a docstring"
