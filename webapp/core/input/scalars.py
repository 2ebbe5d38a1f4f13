"""Scalars as Kubernetes' YAML decoder resolves them: go-yaml v2, not PyYAML's YAML 1.1.

sigs.k8s.io/yaml reads YAML with go-yaml v2, whose resolver is not PyYAML's
YAML 1.1 one: `1:20` is the string "1:20" (no sexagesimal ints), `0o17` is
octal, an integer beyond 64 bits becomes a float, and the YAML 1.1 words
(`yes`, `on`, `off`) are booleans. The event builder (`yaml_events`) hands
each plain scalar's text to these functions and builds the value they give;
`_describe` names a value in the loader's messages.
"""

from __future__ import annotations

import math
import re
from typing import Any

from webapp.core.text import shorten

_STANDARD_TAG = "tag:yaml.org,2002:"
_STR = _STANDARD_TAG + "str"
_MAP = _STANDARD_TAG + "map"
_SEQ = _STANDARD_TAG + "seq"
_MERGE_TAG = _STANDARD_TAG + "merge"


# sigs.k8s.io/yaml/goyaml.v2/resolve.go: its table of words, YAML 1.1 booleans
# included (so `on: x` has the key true). Quoted scalars are never resolved.
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "on", "On", "ON"), True),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "off", "Off", "OFF"), False),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_NUMBER_START = frozenset("0123456789+-.")
# Go's strconv.ParseInt(s, 0, 64) syntax (after go-yaml drops underscores):
# 0x hex, 0o and leading-0 octal, 0b binary, decimal. No sexagesimal `1:20`.
_GO_INT = re.compile(
    r"([-+]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[oO](?P<oct>[0-7]+)|0[bB](?P<bin>[01]+)"
    r"|0(?P<oct0>[0-7]*)|(?P<dec>[1-9][0-9]*))\Z"
)
_INT64_MIN = -(2**63)
_UINT64_MAX = 2**64 - 1
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")


def _number(text: str) -> Any:
    """go-yaml v2's reading of a plain scalar that starts like a number.

    Timestamps such as `2024-01-31` stay strings: go-yaml v2 hands them to
    an `interface{}` (which is how Kubernetes decodes) as the original text.
    """
    if text[0] == ".":
        return float(text) if _GO_DOT_FLOAT.match(text) else text
    plain = text.replace("_", "")
    match = _GO_INT.match(plain)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        for group, base in (("dec", 10), ("hex", 16), ("oct", 8), ("bin", 2), ("oct0", 8)):
            digits = match.group(group)
            if digits is not None:
                number = sign * int(digits or "0", base)
                # ParseInt then ParseUint, 64 bits: beyond them go-yaml tries a float.
                if _INT64_MIN <= number <= _UINT64_MAX:
                    return number
                break
    if _GO_FLOAT.match(plain):
        value = float(plain)
        # Go's ParseFloat fails on overflow, and go-yaml then keeps the string.
        return text if math.isinf(value) else value
    return text


def _plain(text: str) -> Any:
    if text in _WORDS:
        return _WORDS[text]
    if text[:1] in _NUMBER_START:
        return _number(text)
    return text


class _BadScalar(Exception):
    """A scalar whose explicit tag cannot be honoured."""


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else tag


def _tagged(tag: str, text: str) -> Any:
    """A scalar with an explicit tag: the standard scalar tags, as go-yaml decodes them."""
    if tag == _STR or tag == "!":
        return text
    kind = tag[len(_STANDARD_TAG) :] if tag.startswith(_STANDARD_TAG) else None
    if kind not in ("int", "float", "bool", "null"):
        raise _BadScalar(f"unsupported YAML tag {shorten(_short_tag(tag))}")
    value = _plain(text)
    if kind == "float" and type(value) is int:
        return float(value)
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (float,),
        "bool": (bool,),
        "null": (type(None),),
    }
    if type(value) not in expected[kind]:
        raise _BadScalar(f"cannot read {shorten(text)} as !!{kind}")
    return value


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {shorten(value)}"
    if isinstance(value, int | float):
        return f"the number {shorten(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shorten(value)


# Plain scalars that read as NaN or an infinity, which JSON cannot hold.
_NON_FINITE = frozenset(text for text, value in _WORDS.items() if type(value) is float)
