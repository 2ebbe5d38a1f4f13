"""Reading one object's fields (used by every kind's reader): where, what type, what problem.

`_At` is a field's place (its line, and its Kubernetes field path built only
when a problem needs it); `_Report` collects one object's Problems, and any
error leaves the object out. The typed readers (`_mapping`, `_list`,
`_string`, `_integer`, `_boolean`) decode strictly, as `kubectl apply` asks
the API server to: a wrong type is an error with a readable message (and the
YAML trap behind it), never a silent coercion; `_check_fields` refuses
unknown fields and suggests the field a key misspells. Last, the readers of
the value types that several kinds share: labels and label selectors
(ValidateLabels, ValidateLabelSelector), ports and protocols
(ValidateNetworkPolicyPort, defaulting protocol to TCP) and CIDRs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from webapp.core.input.raw import PosDict, PosList, RawObject
from webapp.core.input.validation import (
    check_label_value,
    check_port_name,
    check_port_number,
    check_qualified_name,
    parse_cidr,
)
from webapp.core.model import IPNetwork, PortSpec, Problem, Protocol, Severity
from webapp.core.selectors import Operator, Requirement, Selector
from webapp.core.text import escape, shorten

_PROTOCOLS = {str(p): p for p in Protocol}
_OPERATORS = {str(o): o for o in Operator}
_PORT_FIELDS = ("protocol", "port", "endPort")
_SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
_REQUIREMENT_FIELDS = ("key", "operator", "values")


# --- Where a field is, and the problems of one object -----------------------


class _At:
    """A field's place: its line now, its Kubernetes path when a problem needs it.

    The path (prefixed by the object's path in its List) is built only on
    demand, since almost every field read reports nothing.
    """

    __slots__ = ("key", "line", "parent", "style")

    def __init__(self, parent: _At | None, key: str, line: int, style: str = ".") -> None:
        self.parent = parent
        self.key = key
        self.line = line
        self.style = style

    @classmethod
    def root(cls, raw: RawObject) -> _At:
        return cls(None, raw.path, raw.line)

    @property
    def path(self) -> str:
        parts: list[str] = []
        at: _At | None = self
        while at is not None and at.parent is not None:
            # Keys come from the upload: no hidden characters in paths.
            key = at.key if at.key.isprintable() else escape(at.key)
            parts.append(f".{key}" if at.style == "." else f"[{key}]")
            at = at.parent
        path = "".join(reversed(parts))
        prefix = at.key if at is not None else ""
        return prefix + path if prefix else path.removeprefix(".")

    def field(self, parent: object, key: str) -> _At:
        line = parent.key_lines.get(key, self.line) if isinstance(parent, PosDict) else self.line
        return _At(self, key, line)

    def entry(self, parent: object, key: str) -> _At:
        """A map entry such as a label: `metadata.labels[app]`."""
        line = parent.key_lines.get(key, self.line) if isinstance(parent, PosDict) else self.line
        return _At(self, key, line, "[")

    def item(self, parent: object, index: int) -> _At:
        line = parent.line_of(index) if isinstance(parent, PosList) else self.line
        return _At(self, str(index), line, "[")


class _Report:
    """The problems of one object; any error leaves the object out."""

    def __init__(self, raw: RawObject, kind: str, name: str | None) -> None:
        self.raw = raw
        self.kind = kind
        self.name = name
        self.problems: list[Problem] = []
        self.failed = False

    def add(self, severity: Severity, at: _At, message: str) -> None:
        self.problems.append(
            Problem(
                severity,
                message,
                file=self.raw.file,
                document=self.raw.document,
                line=at.line,
                kind=self.kind or None,
                name=self.name,
                path=at.path or None,
            )
        )

    def error(self, at: _At, message: str) -> None:
        self.failed = True
        # After a question ("did you mean ...?") the outcome reads as a new sentence.
        joint = " " if message.endswith("?") else "; "
        self.add(Severity.ERROR, at, f"{message}{joint}{self.kind or 'object'} left out")

    def warning(self, at: _At, message: str) -> None:
        self.add(Severity.WARNING, at, message)

    def info(self, at: _At, message: str) -> None:
        self.add(Severity.INFO, at, message)


# --- Typed reading: strict decoding with readable messages ------------------


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {shorten(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _quote_hint(value: object) -> str:
    """Why a scalar written without quotes is not a string, for the YAML traps."""
    if isinstance(value, bool):
        return "an unquoted yes/no/on/off/true/false is a boolean in YAML; quote the value"
    if isinstance(value, float):
        return f"YAML reads it as the number {value!r}; quote the value as written"
    return f'YAML reads it as a number; quote it: "{value}"'


def _not_a_string(what: str, value: object) -> str:
    """`what` is a field name ("protocol") or a plural ("label values")."""
    rule = f"{what} are strings" if what.endswith("s") else f"{what} must be a string"
    if isinstance(value, bool | int | float):
        return f"{rule}: {_quote_hint(value)}"
    return f"{rule}, got {_describe(value)}"


def _mapping(value: object, at: _At, report: _Report) -> dict[str, Any] | None:
    """A mapping, or None when absent or null (as Go decodes null into a struct or map)."""
    if value is None or isinstance(value, dict):
        return value
    report.error(at, f"expected a mapping, got {_describe(value)}")
    return None


def _list(value: object, at: _At, report: _Report) -> list[Any]:
    """A list; absent or null reads as empty, as Go decodes null into a slice."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    report.error(at, f"expected a list, got {_describe(value)}")
    return []


def _string(value: object, at: _At, report: _Report, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    report.error(at, _not_a_string(what, value))
    return None


def _integer(value: object, at: _At, report: _Report, what: str) -> int | None:
    """An integer; a float with no fraction counts, as YAML-to-JSON conversion makes it one."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        report.error(at, f"{what} must be a number, not the string {shorten(value)}; unquote it")
    else:
        report.error(at, f"{what} must be an integer, got {_describe(value)}")
    return None


def _boolean(value: object, at: _At, report: _Report, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    report.error(at, f"{what} must be true or false, got {_describe(value)}")
    return None


def _suggestion(key: str, allowed: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The field of `allowed` that `key` most likely misspells (case ignored), if any."""
    by_lower = {name.lower(): name for name in allowed}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[close[0]] if close else None


def _did_you_mean(key: str, field: str) -> str:
    return f"unknown field {shorten(key)}; did you mean {shorten(field)}?"


def _check_fields(
    mapping: Mapping[str, Any],
    allowed: Sequence[str],
    at: _At,
    report: _Report,
    hints: Mapping[str, str] | None = None,
) -> set[str]:
    """Strict decoding: every key must be a field of the schema, spelled exactly.

    Returns the absent fields that unknown keys look like misspellings of, so
    that callers do not also report those fields as missing.
    """
    meant: set[str] = set()
    for raw_key in mapping:
        key = str(raw_key)
        if key in allowed:
            continue
        key_at = at.field(mapping, key)
        if hints and key in hints:
            report.error(key_at, f"unknown field {shorten(key)}; {hints[key]}")
        elif (near := _suggestion(key, allowed)) is not None:
            report.error(key_at, _did_you_mean(key, near))
            if near not in mapping:
                meant.add(near)
        else:
            report.error(key_at, f"unknown field {shorten(key)}")
    return meant


def _misspelled(
    mapping: Mapping[str, Any],
    field: str,
    at: _At,
    report: _Report,
    siblings: frozenset[str] = frozenset(),
) -> bool:
    """When the required `field` is absent, report a key that misspells it as an unknown field.

    For Pods and workloads, which are read only in part (not decoded
    strictly): the object is rejected either way, so only the message
    depends on it. Only a close match counts (a case slip, a letter missing
    or swapped); `siblings` are real fields that merely look alike.
    """
    if field in mapping:
        return False
    for raw_key in mapping:
        key = str(raw_key)
        if key not in siblings and _suggestion(key, [field], cutoff=0.85) == field:
            report.error(at.field(mapping, key), _did_you_mean(key, field))
            return True
    return False


def _errors(what: str, value: str, messages: list[str]) -> str:
    return f"invalid {what} {shorten(value)}: {'; '.join(messages)}"


# --- Labels and selectors ----------------------------------------------------


def _read_label_map(value: object, at: _At, report: _Report) -> dict[str, str]:
    """ValidateLabels: qualified-name keys, label values; both must be strings."""
    mapping = _mapping(value, at, report)
    if not mapping:
        return {}
    labels: dict[str, str] = {}
    for raw_key, raw_value in mapping.items():
        key = str(raw_key)
        entry_at = at.entry(mapping, key)
        if messages := check_qualified_name(key):
            report.error(entry_at, _errors("label key", key, messages))
        if raw_value is None:
            # Go decodes null into a map's string value as "".
            report.warning(entry_at, f'label {shorten(key)} has no value; read as ""')
            raw_value = ""
        if not isinstance(raw_value, str):
            report.error(entry_at, _not_a_string("label values", raw_value))
            continue
        if messages := check_label_value(raw_value):
            report.error(entry_at, _errors("label value", raw_value, messages))
        labels[key] = raw_value
    return labels


def _read_requirement(value: object, at: _At, report: _Report) -> Requirement | None:
    """ValidateLabelSelectorRequirement: operator, key, and values as the operator needs them."""
    mapping = _mapping(value, at, report) or {}
    misspelled = _check_fields(mapping, _REQUIREMENT_FIELDS, at, report)
    key_at = at.field(mapping, "key")
    key = _string(mapping.get("key"), key_at, report, "key") or ""
    if "key" not in misspelled and (messages := check_qualified_name(key)):
        report.error(key_at, _errors("label key", key, messages))
    values_at = at.field(mapping, "values")
    values: list[str] = []
    for i, item in enumerate(items := _list(mapping.get("values"), values_at, report)):
        item_at = values_at.item(items, i)
        if not isinstance(item, str):
            report.error(item_at, _not_a_string("values", item))
        elif messages := check_label_value(item):
            report.error(item_at, _errors("label value", item, messages))
        else:
            values.append(item)
    op_at = at.field(mapping, "operator")
    op_text = _string(mapping.get("operator"), op_at, report, "operator") or ""
    operator = _OPERATORS.get(op_text)
    if operator is None and "operator" in misspelled:
        return None
    if operator is None:
        near = _suggestion(op_text, list(_OPERATORS))
        hint = f" (did you mean '{near}'?)" if near else ""
        report.error(
            op_at,
            f"invalid operator {shorten(op_text)}: not a valid selector operator"
            f" (In, NotIn, Exists, DoesNotExist){hint}",
        )
        return None
    if operator in (Operator.IN, Operator.NOT_IN):
        if not items and "values" not in misspelled:
            report.error(values_at, f"values must be specified when `operator` is '{operator}'")
        return Requirement(key, operator, tuple(sorted(set(values))))
    if items:
        report.error(values_at, f"values may not be specified when `operator` is '{operator}'")
    return Requirement(key, operator)


def _read_selector(value: object, at: _At, report: _Report) -> Selector:
    """ValidateLabelSelector: matchLabels (each `k In (v)`) AND matchExpressions."""
    mapping = _mapping(value, at, report) or {}
    _check_fields(mapping, _SELECTOR_FIELDS, at, report)
    match_labels = _read_label_map(
        mapping.get("matchLabels"), at.field(mapping, "matchLabels"), report
    )
    exprs_at = at.field(mapping, "matchExpressions")
    exprs = _list(mapping.get("matchExpressions"), exprs_at, report)
    requirements = [
        _read_requirement(item, exprs_at.item(exprs, i), report) for i, item in enumerate(exprs)
    ]
    return Selector.of(match_labels, tuple(r for r in requirements if r is not None))


# --- Ports and CIDRs ---------------------------------------------------------


def _read_protocol(value: object, at: _At, report: _Report) -> Protocol:
    """TCP, UDP or SCTP, spelled exactly; absent means TCP (SetDefaults_NetworkPolicyPort)."""
    text = _string(value, at, report, "protocol")
    if text is None:
        return Protocol.TCP
    if (protocol := _PROTOCOLS.get(text)) is not None:
        return protocol
    hint = f" (did you mean '{text.upper()}'?)" if text.upper() in _PROTOCOLS else ""
    report.error(at, f"unsupported protocol {shorten(text)}: use TCP, UDP or SCTP{hint}")
    return Protocol.TCP


def _read_port(value: object, at: _At, report: _Report) -> PortSpec:
    """ValidateNetworkPolicyPort, with protocol defaulted to TCP (`{}` is every TCP port)."""
    mapping = _mapping(value, at, report) or {}
    misspelled = _check_fields(mapping, _PORT_FIELDS, at, report)
    protocol = _read_protocol(mapping.get("protocol"), at.field(mapping, "protocol"), report)
    raw_port = mapping.get("port")
    port = _read_port_value(raw_port, at.field(mapping, "port"), report)
    end_at = at.field(mapping, "endPort")
    end_port = _integer(mapping.get("endPort"), end_at, report, "endPort")
    if end_port is not None:
        if raw_port is None and "port" not in misspelled:
            report.error(end_at, "endPort requires a numeric port; port is not specified")
        elif isinstance(raw_port, str):
            report.error(
                end_at, f"endPort requires a numeric port, not the port name {shorten(raw_port)}"
            )
        elif isinstance(port, int) and end_port < port:
            report.error(end_at, f"endPort {end_port} must be greater than or equal to port {port}")
        if messages := check_port_number(end_port):
            report.error(end_at, f"invalid endPort {end_port}: {'; '.join(messages)}")
    return PortSpec(protocol, port, end_port)


def _read_port_value(value: object, at: _At, report: _Report) -> int | str | None:
    """An IntOrString: a number is a port number, a string a port name (IANA_SVC_NAME)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not (messages := check_port_name(value)):
            return value
        if value.isascii() and value.isdigit():
            report.error(
                at,
                f"{shorten(value)} is a string, so it is read as a port name, and port names "
                f"need a letter; write {value} without quotes for a port number",
            )
        elif value.count(":") == 1 and all(p.isascii() and p.isdigit() for p in value.split(":")):
            first, last = value.split(":")
            report.error(
                at,
                f"invalid port name {shorten(value)}: a port range is written "
                f"port: {first} with endPort: {last}",
            )
        else:
            report.error(at, _errors("port name", value, messages))
        return None
    number = _integer(value, at, report, "port")
    if number is not None and (messages := check_port_number(number)):
        report.error(at, f"invalid port {number}: {'; '.join(messages)}")
        return None
    return number


def _read_cidr(text: str, at: _At, report: _Report) -> IPNetwork | None:
    parsed = parse_cidr(text)
    if parsed.error:
        report.error(at, f"invalid CIDR {shorten(text)}: {parsed.error}")
    for warning in parsed.warnings:
        report.warning(at, f"CIDR {shorten(text)}: {warning}")
    return parsed.network
