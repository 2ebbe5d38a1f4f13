"""Namespace objects into `Namespace`: validated, and labelled with their name.

The API server sets the label kubernetes.io/metadata.name to the namespace's
name (whatever the upload says), so that a namespaceSelector can pick a
namespace by name; a policy's own namespace is selected that way too. Hands a
Namespace to `inventory`.
"""

from __future__ import annotations

from webapp.core.input.fields import _At, _Report
from webapp.core.input.metadata import _read_meta
from webapp.core.input.raw import RawObject
from webapp.core.input.validation import check_dns1123_label
from webapp.core.model import NAME_LABEL, Namespace, Source, labels_of
from webapp.core.text import shorten

NAMESPACE_API_VERSION = "v1"


def _read_namespace(raw: RawObject, report: _Report) -> Namespace | None:
    """A Namespace, labelled with its name as the API server labels it."""
    root = _At.root(raw)
    meta = _read_meta(raw.body, root, report, check_name=check_dns1123_label, namespaced=False)
    labels = dict(meta.labels)
    written = labels.get(NAME_LABEL)
    if written is not None and written != meta.name:
        meta_value = raw.body.get("metadata")
        labels_value = meta_value.get("labels") if isinstance(meta_value, dict) else None
        labels_at = root.field(raw.body, "metadata").field(meta_value, "labels")
        report.warning(
            labels_at.entry(labels_value, NAME_LABEL),
            f"label {NAME_LABEL} is set by the API server to the namespace name; "
            f"{shorten(written)} replaced by {shorten(meta.name)}",
        )
    labels[NAME_LABEL] = meta.name
    if report.failed:
        return None
    return Namespace(meta.name, labels_of(labels), Source(raw.file, raw.document, raw.line))
