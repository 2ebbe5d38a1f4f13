"""The part of an upload that may be stored and shared: only what the analysis reads.

Secrets, ConfigMaps and every other kind, annotations (`last-applied-configuration`
among them, which repeats the whole object), environment variables and every
pod-spec field but container names, ports and hostNetwork are dropped before
anything is stored or shown; a controller keeps its selector, which validation
checks against its template. Analysing the result gives the same namespaces,
workloads and policies as analysing the upload (apart from line numbers).

Where a field has the wrong type, a scalar is kept as written (so the same
problem is reported again) and a list or mapping is kept empty, so nothing
unread can slip through under an unexpected shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from webapp.core.input.cluster_policies import CLUSTER_API_VERSIONS, NODE_API_VERSION
from webapp.core.input.namespaces import NAMESPACE_API_VERSION
from webapp.core.input.policies import POLICY_API_VERSION
from webapp.core.input.raw import RawObject
from webapp.core.input.workloads import POD_COUNT_FIELDS, TEMPLATE_PATHS, WORKLOAD_API_VERSIONS

_POLICY_DROPPED_META = ("annotations", "managedFields")
_CONTAINER_PORT_FIELDS = ("containerPort", "name", "protocol")
_OWNER_FIELDS = ("kind", "name", "controller")


def _plain(value: Any) -> Any:
    """A deep copy as plain dicts and lists (no line bookkeeping)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _emptied(value: Any) -> Any:
    """A value of an unexpected shape: scalars as they are, containers without content."""
    if isinstance(value, dict):
        return {}
    if isinstance(value, list):
        return []
    return value


def _pick(mapping: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The given keys of a mapping, where present, copied plainly."""
    return {k: _plain(mapping[k]) for k in keys if k in mapping}


def _each(value: Any, keep: Any) -> Any:
    """`keep` applied to the mappings of a list; other items emptied."""
    if not isinstance(value, list):
        return _emptied(value)
    return [keep(item) if isinstance(item, dict) else _emptied(item) for item in value]


def _metadata(body: dict[str, Any], *, owners: bool) -> dict[str, Any]:
    meta = body.get("metadata")
    if not isinstance(meta, dict):
        return {"metadata": _emptied(meta)} if "metadata" in body else {}
    kept = _pick(meta, ("name", "namespace"))
    if "labels" in meta:
        labels = meta["labels"]
        kept["labels"] = _plain(labels) if isinstance(labels, dict) else _emptied(labels)
    if owners and "ownerReferences" in meta:
        kept["ownerReferences"] = _each(
            meta["ownerReferences"], lambda ref: _pick(ref, _OWNER_FIELDS)
        )
    return {"metadata": kept}


def _container(container: dict[str, Any]) -> dict[str, Any]:
    kept = _pick(container, ("name",))
    if "ports" in container:
        kept["ports"] = _each(container["ports"], lambda p: _pick(p, _CONTAINER_PORT_FIELDS))
    return kept


def _init_container(container: dict[str, Any]) -> dict[str, Any]:
    """An init container with restartPolicy Always keeps serving its ports: keep those only.

    Others keep only their name, so list positions (and line numbers) stay aligned.
    """
    if container.get("restartPolicy") != "Always":
        return _pick(container, ("name",))
    return {**_container(container), "restartPolicy": "Always"}


def _pod_spec(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return _emptied(spec)
    kept: dict[str, Any] = {}
    if "containers" in spec:
        kept["containers"] = _each(spec["containers"], _container)
    if "initContainers" in spec:
        kept["initContainers"] = _each(spec["initContainers"], _init_container)
    if "hostNetwork" in spec:
        kept["hostNetwork"] = _emptied(spec["hostNetwork"])
    return kept


def _template(template: Any) -> Any:
    if not isinstance(template, dict):
        return _emptied(template)
    kept = _metadata(template, owners=False)
    if isinstance(kept.get("metadata"), dict):
        kept["metadata"].pop("name", None)
        kept["metadata"].pop("namespace", None)
    if "spec" in template:
        kept["spec"] = _pod_spec(template["spec"])
    return kept


def _along(body: dict[str, Any], path: tuple[str, ...], count: str | None) -> dict[str, Any]:
    """The pod template at `path` (and the pod count beside it), with nothing else on the way."""
    if not path:
        return {"spec": _pod_spec(body["spec"])} if "spec" in body else {}
    key, rest = path[0], path[1:]
    if key not in body:
        return {}
    value = body[key]
    if not rest:
        return {key: _template(value)}
    if not isinstance(value, dict):
        return {key: _emptied(value)}
    inner = _along(value, rest, None)
    if count is not None and count in value:
        inner[count] = _emptied(value[count])
    if rest == ("template",):
        # The controller's selector is validated against the template labels.
        inner.update(_pick(value, ("selector", "manualSelector")))
    return {key: inner}


def _workload(body: dict[str, Any], kind: str) -> dict[str, Any]:
    kept = _pick(body, ("apiVersion", "kind"))
    kept.update(_metadata(body, owners=True))
    kept.update(_along(body, TEMPLATE_PATHS[kind], POD_COUNT_FIELDS.get(kind)))
    return kept


def _policy(body: dict[str, Any]) -> dict[str, Any]:
    kept = {k: _plain(v) for k, v in body.items() if k != "status"}
    if isinstance(kept.get("metadata"), dict):
        for key in _POLICY_DROPPED_META:
            kept["metadata"].pop(key, None)
    return kept


def _namespace(body: dict[str, Any]) -> dict[str, Any]:
    kept = _pick(body, ("apiVersion", "kind"))
    kept.update(_metadata(body, owners=False))
    if isinstance(kept.get("metadata"), dict):
        kept["metadata"].pop("namespace", None)
    return kept


def sanitize_object(obj: RawObject) -> dict[str, Any] | None:
    """One object reduced to the fields the analysis reads; None for kinds it does not use.

    Every kept mapping key and list item stands at the same path as in the
    upload, so the upload's line numbers still apply (see webapp.core.input.stored).
    """
    kind, version = obj.kind, obj.api_version
    if kind == "NetworkPolicy" and version == POLICY_API_VERSION:
        return _policy(obj.body)
    if kind == "Namespace" and version == NAMESPACE_API_VERSION:
        return _namespace(obj.body)
    # Cluster-wide policies are decoded strictly like NetworkPolicies; a Node is its labels.
    if kind in CLUSTER_API_VERSIONS and version == CLUSTER_API_VERSIONS[kind]:
        return _policy(obj.body)
    if kind == "Node" and version == NODE_API_VERSION:
        return _namespace(obj.body)
    if version in WORKLOAD_API_VERSIONS.get(kind, ()):
        return _workload(obj.body, kind)
    return None


def sanitize(objects: Sequence[RawObject]) -> list[dict[str, Any]]:
    """The objects the analysis uses, in upload order, reduced to the fields it reads."""
    return [kept for obj in objects if (kept := sanitize_object(obj)) is not None]
