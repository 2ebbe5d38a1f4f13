"""Label selectors, matched as apimachinery matches them.

matchLabels {k: v} is the requirement `k In (v)`; every requirement of a
selector must hold (AND); an empty selector matches everything.
Reference: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
and k8s.io/apimachinery/pkg/labels/selector.go (Requirement.Matches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Operator(StrEnum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: Operator
    values: tuple[str, ...] = ()
    """Sorted and de-duplicated; empty for Exists and DoesNotExist."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        """NotIn and DoesNotExist match a missing key; In and Exists need it."""
        if self.operator is Operator.IN:
            return self.key in labels and labels[self.key] in self.values
        if self.operator is Operator.NOT_IN:
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator is Operator.EXISTS:
            return self.key in labels
        return self.key not in labels

    def __str__(self) -> str:
        if self.operator is Operator.IN and len(self.values) == 1:
            return f"{self.key}={self.values[0]}"
        if self.operator is Operator.EXISTS:
            return self.key
        if self.operator is Operator.DOES_NOT_EXIST:
            return f"!{self.key}"
        word = "in" if self.operator is Operator.IN else "notin"
        return f"{self.key} {word} ({','.join(self.values)})"


@dataclass(frozen=True, slots=True)
class Selector:
    """A LabelSelector: the AND of its requirements, sorted so equal selectors compare equal."""

    requirements: tuple[Requirement, ...] = ()

    @classmethod
    def of(
        cls,
        match_labels: Mapping[str, str] | None = None,
        expressions: tuple[Requirement, ...] = (),
    ) -> Selector:
        reqs = [Requirement(k, Operator.IN, (v,)) for k, v in (match_labels or {}).items()]
        reqs.extend(expressions)
        unique = sorted(set(reqs), key=lambda r: (r.key, r.operator, r.values))
        return cls(tuple(unique))

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def required_labels(self) -> dict[str, str]:
        """Labels of a representative object this selector matches (for inferred nodes).

        In takes its first value, Exists an empty value; NotIn and
        DoesNotExist are met by leaving the key out.
        """
        labels: dict[str, str] = {}
        for r in self.requirements:
            if r.operator is Operator.IN and r.key not in labels:
                labels[r.key] = r.values[0]
            elif r.operator is Operator.EXISTS and r.key not in labels:
                labels[r.key] = ""
        return labels

    def __str__(self) -> str:
        return ", ".join(str(r) for r in self.requirements) if self.requirements else "all"


class LabelIndex:
    """Objects indexed by label, so a selector is matched without scanning every object.

    A selector with an In or Exists requirement can only match objects that
    carry that key (and value); those candidates are then checked in full.
    Selectors with only NotIn/DoesNotExist (or none) fall back to a scan.
    """

    def __init__(self, objects: Mapping[str, Mapping[str, str]]) -> None:
        self.objects = objects
        self.by_pair: dict[tuple[str, str], list[str]] = {}
        self.by_key: dict[str, list[str]] = {}
        for name, labels in objects.items():
            for key, value in labels.items():
                self.by_pair.setdefault((key, value), []).append(name)
                self.by_key.setdefault(key, []).append(name)
        self.order = {name: i for i, name in enumerate(objects)}

    def _candidates(self, selector: Selector) -> list[str] | None:
        best: list[str] | None = None
        for r in selector.requirements:
            if r.operator is Operator.IN:
                found = [n for v in r.values for n in self.by_pair.get((r.key, v), ())]
            elif r.operator is Operator.EXISTS:
                found = self.by_key.get(r.key, [])
            else:
                continue
            if best is None or len(found) < len(best):
                best = found
        return best

    def select(self, selector: Selector) -> list[str]:
        """Names of the objects the selector matches, in the order they were given."""
        candidates = self._candidates(selector)
        if candidates is None:
            return [n for n, labels in self.objects.items() if selector.matches(labels)]
        hits = {n for n in candidates if selector.matches(self.objects[n])}
        return sorted(hits, key=self.order.__getitem__)
