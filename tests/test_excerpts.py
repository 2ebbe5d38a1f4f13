"""Rule excerpts: each rule's YAML (or JSON) as written, cut from its first to its last line.

The loader records where every sequence item ends, so the excerpt is one slice
of the file's lines per rule, not a guess from indentation over the rest of
the file (which was quadratic in file size).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from webapp.core import SourceText, analyze
from webapp.core.document import _excerpt
from webapp.core.input.inventory import build_inventory
from webapp.core.input.sources import load_sources

POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: default}
spec:
  podSelector: {}
"""


def _rules(text: str, name: str = "p.yaml") -> list[dict[str, Any]]:
    doc = analyze([SourceText(name, text.encode())]).document
    assert not [p for p in doc["problems"] if p["severity"] == "error"], doc["problems"]
    policy = doc["policies"][0]
    return [
        {"line": r["line"], "endLine": r["endLine"], "text": r["text"]}
        for r in policy["rules"]  # type: ignore[typeddict-item]
    ]


CASES = [
    pytest.param(
        POLICY_HEAD
        + "  ingress:\n  - from:\n    - podSelector: {}\n    ports:\n    - port: 80\n"
        + "  - ports:\n    - port: 443\n",
        [
            (7, 10, "  - from:\n    - podSelector: {}\n    ports:\n    - port: 80"),
            (11, 12, "  - ports:\n    - port: 443"),
        ],
        id="block-rules-middle-and-last",
    ),
    pytest.param(
        POLICY_HEAD + "  ingress:\n  - {from: [{podSelector: {}}], ports: [{port: 80}]}\n",
        [(7, 7, "  - {from: [{podSelector: {}}], ports: [{port: 80}]}")],
        id="flow-style-rule-on-one-line",
    ),
    pytest.param(
        POLICY_HEAD + "  ingress:\n  - {from: [{podSelector: {}}],\n"
        "     ports: [{port: 80}]}\n  egress: []\n",
        [(7, 8, "  - {from: [{podSelector: {}}],\n     ports: [{port: 80}]}")],
        id="flow-style-rule-over-two-lines",
    ),
    pytest.param(
        POLICY_HEAD + "  ingress:\n  - from:\n# a comment at column 0 inside the rule\n"
        "    - podSelector: {}\n  # a comment after the rule\n  - {}\n",
        [
            (7, 9, "  - from:\n# a comment at column 0 inside the rule\n    - podSelector: {}"),
            (11, 11, "  - {}"),
        ],
        # The indentation guess stopped at the dedented comment and lost the peer.
        id="comments-inside-kept-after-left-out",
    ),
    pytest.param(
        POLICY_HEAD + "  ingress:\n  - ports:\n    - port: 80\n\n\n# end of file\n\n",
        [(7, 8, "  - ports:\n    - port: 80")],
        id="last-rule-of-file-with-trailing-blank-lines",
    ),
    pytest.param(
        POLICY_HEAD
        + "  ingress:\n  - ports:\n    - port: 80\n---\n"
        + POLICY_HEAD.replace("name: p,", "name: q,").replace(
            "podSelector: {}", "podSelector: {matchLabels: {a: b}}"
        ),
        [(7, 8, "  - ports:\n    - port: 80")],
        id="last-rule-of-a-document-before-the-next",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_rule_excerpt_is_the_rule_as_written(text: str, expected: list[Any]) -> None:
    rules = _rules(text)
    assert [(r["line"], r["endLine"], r["text"]) for r in rules] == expected


def test_rule_excerpt_of_json_input_is_the_rule_object() -> None:
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "podSelector": {},
            "ingress": [{"ports": [{"port": 80}]}, {"from": [{"podSelector": {}}]}],
        },
    }
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": [policy]}, indent=4)
    lines = text.split("\n")
    rules = _rules(text + "\n", "p.json")
    first = (
        next(i for i, line in enumerate(lines) if '"ports": [' in line) - 1
    )  # the `{` of rule 0, 0-based
    assert [(r["line"], r["endLine"]) for r in rules] == [
        (first + 1, first + 7),
        (first + 8, first + 14),
    ]
    assert rules[0]["text"] == "\n".join(lines[first : first + 7])
    assert rules[0]["text"].strip().startswith("{") and rules[0]["text"].strip().endswith("},")
    assert '"podSelector": {}' in rules[1]["text"]


def _policies(count: int) -> str:
    return "".join(
        f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: p{i}, namespace: default}}\nspec:\n  podSelector: {{}}\n"
        f"  ingress:\n  - from:\n    - podSelector: {{matchLabels: {{app: a{i}}}}}\n"
        f"    ports:\n    - port: {1 + i % 60000}\n  - ports:\n    - port: 443\n"
        for i in range(count)
    )


class _CountingLines(list[str]):
    """A file's lines that count how many of them the excerpts copy or read."""

    copied = 0

    def __getitem__(self, index: Any) -> Any:
        got = super().__getitem__(index)
        _CountingLines.copied += len(got) if isinstance(index, slice) else 1
        return got

    def __iter__(self) -> Any:
        for line in super().__iter__():
            _CountingLines.copied += 1
            yield line


def _lines_touched(count: int) -> int:
    text = _policies(count)
    objects, _ = load_sources([SourceText("many.yaml", text.encode())])
    rules = [r.source for p in build_inventory(objects).policies for r in p.ingress]
    assert len(rules) == 2 * count
    lines = {"many.yaml": _CountingLines(text.split("\n"))}
    _CountingLines.copied = 0
    excerpts = [_excerpt(lines, source) for source in rules]
    assert excerpts[-1] == ["  - ports:", "    - port: 443"]
    return _CountingLines.copied


def test_rule_excerpts_take_work_linear_in_the_file() -> None:
    # 4x the policies in one file: 4x the lines touched when linear, ~16x when
    # each rule copied the rest of the file.
    small, large = _lines_touched(1_000), _lines_touched(4_000)
    assert large <= 5 * small, (small, large)
