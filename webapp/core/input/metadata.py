"""ObjectMeta, as every kind's reader needs it: name, namespace, labels, owner, annotations.

ValidateObjectMeta (k8s.io/apimachinery/pkg/api/validation/objectmeta.go)
for the fields the analysis uses, and for annotations, whose total size the
API server limits; strictly decoded for NetworkPolicies. A namespaced object
without metadata.namespace is in `default`, as `kubectl apply` puts it there
(the upload names no other context). Hands a `_Meta` to the kind's reader
(`policies`, `namespaces`, `workloads`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from webapp.core.input.fields import (
    _At,
    _boolean,
    _check_fields,
    _errors,
    _integer,
    _list,
    _mapping,
    _misspelled,
    _read_label_map,
    _Report,
    _string,
)
from webapp.core.input.raw import RawObject
from webapp.core.input.validation import (
    annotations_size,
    check_annotation_key,
    check_annotations_size,
    check_dns1123_label,
)

_OBJECT_META_FIELDS = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)
_OWNER_REFERENCE_FIELDS = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")


@dataclass(frozen=True, slots=True)
class _Meta:
    name: str
    namespace: str
    labels: dict[str, str]
    owner: tuple[str, str] | None


def _read_owner(value: object, at: _At, report: _Report, strict: bool) -> tuple[str, str] | None:
    """The controlling owner (kind, name): the reference with controller true, else the first."""
    refs = _list(value, at, report)
    owners: list[tuple[str, str, bool]] = []
    for i, item in enumerate(refs):
        item_at = at.item(refs, i)
        ref = _mapping(item, item_at, report) or {}
        if strict:
            misspelled = _check_fields(ref, _OWNER_REFERENCE_FIELDS, item_at, report)
        else:
            misspelled = {f for f in ("kind", "name") if _misspelled(ref, f, item_at, report)}
        kind = _string(ref.get("kind"), item_at.field(ref, "kind"), report, "kind")
        name = _string(ref.get("name"), item_at.field(ref, "name"), report, "name")
        controller = _boolean(
            ref.get("controller"), item_at.field(ref, "controller"), report, "controller"
        )
        # The analysis groups pods by owner kind and name; the API server also
        # requires apiVersion and uid, which exports always carry (the stored
        # input drops them).
        if not kind or not name:
            missing = [f for f, got in (("kind", kind), ("name", name)) if not got]
            if reported := [f for f in missing if f not in misspelled]:
                verb = "is" if len(reported) == 1 else "are"
                report.error(
                    item_at, f"{', '.join(reported)} {verb} required in an owner reference"
                )
            continue
        owners.append((kind, name, bool(controller)))
    for kind, name, controller in owners:
        if controller:
            return kind, name
    return (owners[0][0], owners[0][1]) if owners else None


def _check_meta_fields(meta: Mapping[str, Any], at: _At, report: _Report) -> None:
    """The ObjectMeta fields the analysis does not use still have to decode."""
    _check_fields(meta, _OBJECT_META_FIELDS, at, report)
    for key in ("generateName", "selfLink", "uid", "resourceVersion"):
        _string(meta.get(key), at.field(meta, key), report, key)
    for key in ("generation", "deletionGracePeriodSeconds"):
        _integer(meta.get(key), at.field(meta, key), report, key)
    finalizers_at = at.field(meta, "finalizers")
    finalizers = _list(meta.get("finalizers"), finalizers_at, report)
    for i, item in enumerate(finalizers):
        _string(item, finalizers_at.item(finalizers, i), report, "finalizers")
    _list(meta.get("managedFields"), at.field(meta, "managedFields"), report)


def _read_annotations(value: object, at: _At, report: _Report, extra_bytes: int = 0) -> None:
    """ValidateAnnotations: string values, qualified-name keys (any case), 256 KiB in all.

    `extra_bytes` are annotations the loader did not keep but the API server counts.
    """
    mapping = _mapping(value, at, report)
    if not mapping and not extra_bytes:
        return
    annotations: dict[str, str] = {}
    for raw_key, raw_value in (mapping or {}).items():
        key = str(raw_key)
        entry_at = at.entry(mapping, key)
        if messages := check_annotation_key(key):
            report.error(entry_at, _errors("annotation key", key, messages))
        text = _string(raw_value, entry_at, report, "annotation values")
        annotations[key] = text or ""
    if messages := check_annotations_size(annotations, extra_bytes):
        total = annotations_size(annotations, extra_bytes)
        report.error(at, f"{'; '.join(messages)} (these annotations take {total} bytes)")


def _dropped_bytes(raw: RawObject) -> int:
    """Bytes of annotations the loader read but did not keep (last-applied-configuration)."""
    dropped = getattr(raw, "dropped_annotation_bytes", 0)
    return dropped if isinstance(dropped, int) else 0


def _read_meta(
    body: Mapping[str, Any],
    root: _At,
    report: _Report,
    *,
    check_name: Callable[[str], list[str]],
    namespaced: bool = True,
    strict: bool = False,
) -> _Meta:
    """ValidateObjectMeta for the fields the analysis uses (name, namespace, labels,
    owner) and for annotations, which the API server limits."""
    meta_at = root.field(body, "metadata")
    meta = _mapping(body.get("metadata"), meta_at, report) or {}
    if strict:
        _check_meta_fields(meta, meta_at, report)
    _read_annotations(
        meta.get("annotations"),
        meta_at.field(meta, "annotations"),
        report,
        _dropped_bytes(report.raw),
    )
    name_at = meta_at.field(meta, "name")
    name = _string(meta.get("name"), name_at, report, "name")
    if meta.get("name") is None or name == "":
        report.error(name_at, "metadata.name is required")
    elif name and (messages := check_name(name)):
        report.error(name_at, _errors("name", name, messages))
    namespace = "default"
    ns_at = meta_at.field(meta, "namespace")
    # Cluster-scoped objects (Namespaces) ignore metadata.namespace, as the API server does.
    ns_value = _string(meta.get("namespace"), ns_at, report, "namespace") if namespaced else None
    if ns_value:
        if messages := check_dns1123_label(ns_value):
            report.error(ns_at, _errors("namespace", ns_value, messages))
        namespace = ns_value
    labels = _read_label_map(meta.get("labels"), meta_at.field(meta, "labels"), report)
    owner = _read_owner(
        meta.get("ownerReferences"), meta_at.field(meta, "ownerReferences"), report, strict
    )
    return _Meta(name or "", namespace if namespaced else "", labels, owner)
