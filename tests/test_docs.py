"""The README stays true: set-up commands first, every command, option and finding documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from webapp.cli import cli
from webapp.core.findings import CHECKS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_setup_commands_come_first() -> None:
    head = "\n".join(README.splitlines()[:8])
    for command in ("pip install .", "netpol-viz serve", "pytest"):
        assert command in head


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    command = cli.commands[name]
    assert f"netpol-viz {name}" in README
    for param in command.params:
        if isinstance(param, click.Option):
            assert any(opt in README for opt in param.opts if opt.startswith("--")), (
                name,
                param.opts,
            )


def findings_table() -> list[tuple[str, str, str]]:
    """(rule, severity, summary) of each row of the README's Findings table, in order."""
    section = README.split("\n## Findings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (.+) \|$", section, re.MULTILINE)
    return [(rule, severity, summary) for rule, severity, summary in rows]


def test_findings_table_is_the_registry() -> None:
    """Every registered finding, and only those, with its severity and summary, in order."""
    assert findings_table() == [(c.id, str(c.severity), c.summary) for c in CHECKS]


def test_benchmark_figures_are_recorded() -> None:
    assert re.search(r"\| *5,?000 pods", README), "measured benchmark table missing"


def test_every_format_of_the_registry_is_in_the_readme() -> None:
    """The analyze synopsis, the formats list and the export route name the registry's formats."""
    from webapp import outputs

    analyze = "|".join(f.name for f in outputs.offered_by(outputs.ANALYZE))
    assert f"netpol-viz analyze PATH... [--format {analyze}] [--pairs] [--output FILE]" in README
    formats = README.split("\nFormats:", 1)[1].split("\n\n", 1)[0]
    for f in outputs.FORMATS:
        assert f"`{f.name}`" in formats, f.name
    paired = [f.name for f in outputs.FORMATS if f.pairs]
    assert f"`--pairs` ({' and '.join(paired)})" in formats
    exported = "|".join(f.name for f in outputs.offered_by(outputs.EXPORT))
    assert f"/export.<{exported}>" in README
