"""What the loader leaves out while reading, so that it is never built.

Exports (`kubectl get -o yaml`) are mostly fields the analysis never reads:
status, managedFields, the last-applied-configuration annotation (a copy of
the whole object), containers' env and probes. The YAML event builder
(`yaml_events`) skips them as their events arrive and the JSON scanner
(`json_input`) prunes them before building, so memory follows the useful
content. What is dropped from annotations is counted, because the API server
counts it in their total size (RawObject.dropped_annotation_bytes).
"""

from __future__ import annotations

from typing import Any

from webapp.core.input.raw import PosDict

# Fields the analysis never reads and exports are full of: they are skipped as
# their events arrive, so they are never built. A rule maps a key to _DROP, to
# the rule of its value, or (in a list's rule) "*" to the rule of each item.
_DROP: Any = object()
_DROP_STRING: Any = object()  # drop it if it is a string (else validation must see it)
_OBJECT: Any = object()  # an object's top level: its rule depends on its kind
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_CONTAINER_DROPS = (
    "env",
    "envFrom",
    "volumeMounts",
    "resources",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
)
_CONTAINER: dict[str, Any] = dict.fromkeys(_CONTAINER_DROPS, _DROP)
_POD_SPEC: dict[str, Any] = {
    "volumes": _DROP,
    **{key: {"*": _CONTAINER} for key in ("containers", "initContainers", "ephemeralContainers")},
}
_TEMPLATE: dict[str, Any] = {"spec": _POD_SPEC}
_EXPORTED: dict[str, Any] = {
    "status": _DROP,
    "metadata": {"managedFields": _DROP, "annotations": {LAST_APPLIED: _DROP_STRING}},
}
# NetworkPolicies keep everything (they are decoded strictly); an object whose
# kind comes after these fields keeps them too. Items of a List are objects.
_OBJECT_RULES: dict[str, dict[str, Any] | None] = {
    "NetworkPolicy": None,
    "Pod": {**_EXPORTED, "spec": _POD_SPEC},
    **{
        kind: {**_EXPORTED, "spec": {"template": _TEMPLATE}}
        for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")
    },
    "ReplicationController": {**_EXPORTED, "spec": {"template": _TEMPLATE}},
    "CronJob": {**_EXPORTED, "spec": {"jobTemplate": {"spec": {"template": _TEMPLATE}}}},
}
_OTHER_KIND: dict[str, Any] = {**_EXPORTED, "items": {"*": _OBJECT}}
_KIND_NOT_YET_READ: dict[str, Any] = {"items": {"*": _OBJECT}}


def _rule_of(obj: PosDict) -> dict[str, Any] | None:
    kind = obj.get("kind")
    if type(kind) is not str:
        return _KIND_NOT_YET_READ
    return _OBJECT_RULES.get(kind, _OTHER_KIND)


def _prune(value: dict[str, Any], rule: dict[str, Any]) -> int:
    """Remove what `rule` drops (see _OBJECT_RULES) from decoded JSON, in place.

    Returns the UTF-8 bytes of the dropped annotations (RawObject.dropped_annotation_bytes).
    """
    size = 0
    for key, sub in rule.items():
        if key not in value:
            continue
        child = value[key]
        if sub is _DROP:
            del value[key]
        elif sub is _DROP_STRING:
            if type(child) is str:
                size += len(key.encode()) + len(child.encode())
                del value[key]
        elif isinstance(child, dict) and isinstance(sub, dict):
            size += _prune(child, sub)
        elif isinstance(child, list) and isinstance(sub, dict) and isinstance(sub.get("*"), dict):
            for item in child:
                if isinstance(item, dict):
                    size += _prune(item, sub["*"])
    return size
