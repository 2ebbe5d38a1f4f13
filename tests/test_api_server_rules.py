"""What the API server rejects is left out with an error at the exact field; messages name the fix.

Each case is a YAML document as a user writes it; the line marked `# <-` is
where the error must point. A valid Pod follows it in the same upload and
must still be analysed. Sources: k8s.io/kubernetes pkg/apis/core/validation
(ValidatePodSpec), pkg/apis/apps/validation, pkg/apis/batch/validation,
k8s.io/apimachinery pkg/api/validation/objectmeta.go (ValidateAnnotations,
validateOwnerReference), pkg/util/validation/ip.go (strict CIDR parsing).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

from webapp.core import SourceText, analyze, analyze_stored
from webapp.core.input.inventory import build_inventory
from webapp.core.input.raw import RawObject
from webapp.core.input.sources import load_sources
from webapp.core.input.validation import (
    TOTAL_ANNOTATION_SIZE_LIMIT,
    check_annotation_key,
    check_annotations_size,
    parse_cidr,
)
from webapp.core.model import Inventory, Problem, Severity

ROOT = Path(__file__).resolve().parent.parent

GOOD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: good, namespace: prod, labels: {app: good}}
spec:
  containers: [{name: main, image: example, ports: [{containerPort: 8080}]}]
"""


def inventory_of(text: str) -> Inventory:
    objects, problems = load_sources([SourceText("up.yaml", text.encode())])
    assert not problems, problems
    return build_inventory(objects)


def marked_line(text: str) -> int:
    (line,) = [i for i, row in enumerate(text.splitlines(), 1) if "# <-" in row]
    return line


def errors(inv: Inventory) -> list[Problem]:
    return [p for p in inv.problems if p.severity is Severity.ERROR]


# --- Rejected: the object is left out, the error names file, line, kind, name, path ---


@dataclass(frozen=True)
class Rejected:
    yaml: str
    path: str
    fragments: tuple[str, ...]
    not_said: tuple[str, ...] = ()
    """Messages that must not appear (what a misspelling used to be reported as)."""


def _pod(spec: str, meta: str = "") -> str:
    return f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: prod\n{meta}{spec}"


def _apps(kind: str, spec: str, version: str = "apps/v1") -> str:
    return f"apiVersion: {version}\nkind: {kind}\nmetadata: {{name: p, namespace: prod}}\n{spec}"


_TEMPLATE = """\
  template:
    metadata:
      labels: {app: web, tier: front}   # <-
    spec:
      containers: [{name: main, image: example}]
"""

_BIG = "x" * (TOTAL_ANNOTATION_SIZE_LIMIT - 3)

REJECTED = [
    # ValidatePodSpec: containers is required and must not be empty.
    pytest.param(
        Rejected(
            _pod("spec:   # <-\n  hostNetwork: false\n"),
            "spec.containers",
            ("containers is required", "at least one container"),
        ),
        id="pod-without-containers-is-rejected",
    ),
    pytest.param(
        Rejected(
            _pod("spec:\n  containers: []   # <-\n"), "spec.containers", ("containers is required",)
        ),
        id="pod-with-empty-containers-is-rejected",
    ),
    pytest.param(
        Rejected(
            "apiVersion: v1   # <-\nkind: Pod\nmetadata: {name: p, namespace: prod}\n",
            "spec.containers",
            ("containers is required",),
        ),
        id="pod-without-spec-is-rejected",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment",
                "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
                "    metadata: {labels: {app: web}}\n    spec:   # <-\n      hostNetwork: true\n",
            ),
            "spec.template.spec.containers",
            ("containers is required",),
        ),
        id="deployment-template-without-containers-is-rejected",
    ),
    pytest.param(
        Rejected(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: p, namespace: prod}\nspec:\n"
            "  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n"
            "        spec: {containers: []}   # <-\n",
            "spec.jobTemplate.spec.template.spec.containers",
            ("containers is required",),
        ),
        id="cronjob-template-without-containers-is-rejected",
    ),
    # Controllers select their own pods (pkg/apis/apps/validation, batch/validation).
    pytest.param(
        Rejected(
            _apps("Deployment", "spec:\n  selector: {matchLabels: {app: webb}}\n" + _TEMPLATE),
            "spec.template.metadata.labels",
            (
                "`selector` does not match template `labels`",
                "app=webb",
                "the template labels are 'app=web, tier=front'",
            ),
        ),
        id="deployment-selector-must-match-template",
    ),
    pytest.param(
        Rejected(
            _apps(
                "StatefulSet",
                "spec:\n  selector:\n    matchExpressions:\n"
                "    - {key: tier, operator: NotIn, values: [front]}\n" + _TEMPLATE,
            ),
            "spec.template.metadata.labels",
            ("does not match template", "tier notin (front)"),
        ),
        id="statefulset-selector-expression-must-match-template",
    ),
    pytest.param(
        Rejected(
            _apps(
                "DaemonSet", "spec:\n  selector: {matchLabels: {app: web, zone: a}}\n" + _TEMPLATE
            ),
            "spec.template.metadata.labels",
            ("does not match template", "zone=a"),
        ),
        id="daemonset-selector-must-match-template",
    ),
    pytest.param(
        Rejected(
            _apps("ReplicaSet", "spec:   # <-\n" + _TEMPLATE.replace("   # <-", "")),
            "spec.selector",
            ("spec.selector is required for apps/v1 ReplicaSet",),
        ),
        id="apps-v1-replicaset-selector-required",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment", "spec:\n  selector: {}   # <-\n" + _TEMPLATE.replace("   # <-", "")
            ),
            "spec.selector",
            ("empty selector is invalid for deployment",),
        ),
        id="deployment-empty-selector-rejected",
    ),
    pytest.param(
        Rejected(
            _apps(
                "ReplicationController",
                "spec:\n  selector: {app: other}\n" + _TEMPLATE,
                version="v1",
            ),
            "spec.template.metadata.labels",
            ("does not match template", "app=other"),
        ),
        id="replicationcontroller-selector-must-match-template",
    ),
    pytest.param(
        Rejected(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: p, namespace: prod}\nspec:   # <-\n"
            "  manualSelector: true\n" + _TEMPLATE.replace("   # <-", ""),
            "spec.selector",
            ("spec.selector is required when manualSelector is true",),
        ),
        id="job-manual-selector-requires-a-selector",
    ),
    pytest.param(
        Rejected(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: p, namespace: prod}\nspec:\n"
            "  manualSelector: true\n  selector: {matchLabels: {app: other}}\n" + _TEMPLATE,
            "spec.template.metadata.labels",
            ("does not match template", "app=other"),
        ),
        id="job-manual-selector-must-match-template",
    ),
    pytest.param(
        Rejected(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: p, namespace: prod}\nspec:\n"
            "  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n"
            "      selector: {matchLabels: {app: web}}   # <-\n"
            "      template:\n        metadata: {labels: {app: web}}\n"
            "        spec: {containers: [{name: main}]}\n",
            "spec.jobTemplate.spec.selector",
            ("`selector` will be auto-generated",),
        ),
        id="cronjob-job-selector-is-generated",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment",
                "spec:\n  selector: app=web   # <-\n" + _TEMPLATE.replace("   # <-", ""),
            ),
            "spec.selector",
            ("expected a mapping, got the string 'app=web'",),
            ("empty selector", "does not match"),
        ),
        id="deployment-selector-not-a-mapping-is-one-error",
    ),
    # ValidateAnnotations, on every kind that is read.
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n", "  annotations:\n    'bad key!': x   # <-\n"
            ),
            "metadata.annotations[bad key!]",
            ("invalid annotation key 'bad key!'", "name part must consist of"),
        ),
        id="annotation-key-invalid",
    ),
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n",
                "  annotations:\n    /empty-prefix: x   # <-\n",
            ),
            "metadata.annotations[/empty-prefix]",
            ("prefix part must be non-empty",),
        ),
        id="annotation-key-empty-prefix",
    ),
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n", "  annotations:\n    replicas: 3   # <-\n"
            ),
            "metadata.annotations[replicas]",
            ("annotation values are strings", 'quote it: "3"'),
        ),
        id="annotation-value-must-be-a-string",
    ),
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n", f"  annotations:   # <-\n    abcd: {_BIG}\n"
            ),
            "metadata.annotations",
            ("Too long: must have at most 262144 bytes", "take 262145 bytes"),
        ),
        id="annotations-over-256KiB",
    ),
    pytest.param(
        Rejected(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: prod\n"
            f"  annotations:   # <-\n    a: {_BIG}\n    b: 'yz'\n",
            "metadata.annotations",
            ("Too long", "take 262145 bytes"),
        ),
        id="namespace-annotations-over-256KiB",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata:\n  name: np\n  annotations:   # <-\n    abcd: {_BIG}\nspec: {{}}\n",
            "metadata.annotations",
            ("Too long",),
        ),
        id="networkpolicy-annotations-over-256KiB",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment",
                "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n"
                "    metadata:\n      labels: {app: web}\n      annotations: {'a b': c}   # <-\n"
                "    spec: {containers: [{name: main}]}\n",
            ),
            "spec.template.metadata.annotations[a b]",
            ("invalid annotation key 'a b'",),
        ),
        id="template-annotation-key-invalid",
    ),
    # Strict CIDR parsing (KEP-4858): an IPv4-mapped IPv6 address means different blocks
    # to different software.
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  ingress:\n  - from:\n    - ipBlock:\n"
            "        cidr: '::ffff:10.0.0.0/104'   # <-\n",
            "spec.ingress[0].from[0].ipBlock.cidr",
            ("must not have an IPv4-mapped IPv6 address", "write the IPv4 CIDR 10.0.0.0/8"),
        ),
        id="ipv4-mapped-ipv6-cidr-rejected",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  egress:\n  - to:\n    - ipBlock:\n        cidr: ::/0\n"
            "        except: ['::ffff:a00:0/120']   # <-\n",
            "spec.egress[0].to[0].ipBlock.except[0]",
            ("IPv4-mapped IPv6 address", "10.0.0.0/24"),
        ),
        id="ipv4-mapped-ipv6-except-rejected",
    ),
    # A kind under a Kubernetes group version that has no such kind: name the one that has.
    pytest.param(
        Rejected(
            "apiVersion: v1   # <-\nkind: NetworkPolicy\nmetadata: {name: np}\nspec: {}\n",
            "apiVersion",
            ("apiVersion v1 has no kind NetworkPolicy; use networking.k8s.io/v1",),
        ),
        id="v1-networkpolicy-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1beta1   # <-\nkind: NetworkPolicy\n"
            "metadata: {name: np}\nspec: {}\n",
            "apiVersion",
            ("has no kind NetworkPolicy; use networking.k8s.io/v1",),
        ),
        id="networking-v1beta1-networkpolicy-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            _apps("Deployment", "spec: {}\n", version="v1   # <-"),
            "apiVersion",
            ("apiVersion v1 has no kind Deployment; use apps/v1",),
        ),
        id="v1-deployment-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            _apps("Deployment", "spec: {}\n", version="batch/v1   # <-"),
            "apiVersion",
            ("apiVersion batch/v1 has no kind Deployment; use apps/v1",),
        ),
        id="batch-deployment-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            _apps("Pod", "spec: {}\n", version="apps/v1   # <-"),
            "apiVersion",
            ("apiVersion apps/v1 has no kind Pod; use v1",),
        ),
        id="apps-pod-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            _apps("CronJob", "spec: {}\n", version="batch/v1beta2   # <-"),
            "apiVersion",
            ("has no kind CronJob; use batch/v1",),
        ),
        id="unknown-batch-version-cronjob-names-apiversion-fix",
    ),
    pytest.param(
        Rejected(
            "apiVersion: apps/v1   # <-\nkind: Namespace\nmetadata: {name: prod}\n",
            "apiVersion",
            ("apiVersion apps/v1 has no kind Namespace; use v1",),
        ),
        id="apps-namespace-names-apiversion-fix",
    ),
    # Owner references name exactly what they lack.
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n",
                "  ownerReferences:\n  - {apiVersion: apps/v1, uid: u}   # <-\n",
            ),
            "metadata.ownerReferences[0]",
            ("kind, name are required in an owner reference",),
        ),
        id="owner-reference-names-both-missing-fields",
    ),
    pytest.param(
        Rejected(
            _pod(
                "spec: {containers: [{name: main}]}\n",
                "  ownerReferences:\n  - {apiVersion: apps/v1, kind: ReplicaSet}   # <-\n",
            ),
            "metadata.ownerReferences[0]",
            ("name is required in an owner reference",),
        ),
        id="owner-reference-names-the-missing-name",
    ),
    # Misspelled keys are unknown fields with the likely spelling, not missing fields.
    pytest.param(
        Rejected(
            _pod(
                "spec:\n  containers:\n  - name: main\n    ports:\n    - containerport: 80   # <-\n"
            ),
            "spec.containers[0].ports[0].containerport",
            ("unknown field 'containerport'; did you mean 'containerPort'?",),
            ("containerPort is required",),
        ),
        id="misspelled-containerport-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  podselector: {}   # <-\n",
            "spec.podselector",
            ("unknown field 'podselector'; did you mean 'podSelector'?",),
            ("spec.podSelector is missing",),
        ),
        id="misspelled-podselector-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  podSelector:\n    matchlabels: {app: db}   # <-\n",
            "spec.podSelector.matchlabels",
            ("unknown field 'matchlabels'; did you mean 'matchLabels'?",),
        ),
        id="misspelled-matchlabels-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  podSelector: {}\n  policytypes: [Ingress]   # <-\n",
            "spec.policytypes",
            ("unknown field 'policytypes'; did you mean 'policyTypes'?",),
        ),
        id="misspelled-policytypes-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  ingress:\n  - from:\n    - ipblock: {cidr: 10.0.0.0/8}   # <-\n",
            "spec.ingress[0].from[0].ipblock",
            ("unknown field 'ipblock'; did you mean 'ipBlock'?",),
            ("must specify a peer",),
        ),
        id="misspelled-ipblock-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
            "spec:\n  ingress:\n  - from:\n    - ipBlock: {Cidr: 10.0.0.0/8}   # <-\n",
            "spec.ingress[0].from[0].ipBlock.Cidr",
            ("did you mean 'cidr'?",),
            ("ipBlock.cidr is required",),
        ),
        id="misspelled-cidr-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            _pod("spec:\n  container: [{name: main}]   # <-\n"),
            "spec.container",
            ("unknown field 'container'; did you mean 'containers'?",),
            ("containers is required",),
        ),
        id="misspelled-containers-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment",
                "spec:\n  selector: {matchLabels: {app: web}}\n  Template: {}   # <-\n",
            ),
            "spec.Template",
            ("unknown field 'Template'; did you mean 'template'?",),
            ("spec.template is required",),
        ),
        id="misspelled-template-suggests-spelling",
    ),
    pytest.param(
        Rejected(
            _apps(
                "Deployment",
                "spec:\n  selectors: {matchLabels: {app: web}}   # <-\n"
                + _TEMPLATE.replace("   # <-", ""),
            ),
            "spec.selectors",
            ("unknown field 'selectors'; did you mean 'selector'?",),
            ("spec.selector is required",),
        ),
        id="misspelled-selector-suggests-spelling",
    ),
]


@pytest.mark.parametrize("case", REJECTED)
def test_rejected_object_is_left_out_with_an_error_at_the_field(case: Rejected) -> None:
    text = case.yaml if case.yaml.endswith("\n") else case.yaml + "\n"
    inv = inventory_of(text + "---\n" + GOOD_POD)
    # The rest of the upload is analysed.
    assert [w.name for w in inv.workloads] == ["good"]
    assert inv.policies == () and [n.name for n in inv.namespaces] == []
    at_path = [p for p in errors(inv) if p.path == case.path]
    assert at_path, f"no error at {case.path}: {errors(inv)}"
    problem = at_path[0]
    for fragment in case.fragments:
        assert fragment in problem.message
    assert problem.message.endswith(f" {problem.kind} left out")
    assert (problem.file, problem.document, problem.line) == ("up.yaml", 0, marked_line(text))
    assert problem.name in ("p", "np", "prod")
    said = " | ".join(p.message for p in inv.problems)
    for wrong in case.not_said:
        assert wrong not in said


def test_a_misspelling_is_its_only_error() -> None:
    inv = inventory_of(
        _pod("spec:\n  containers:\n  - name: main\n    ports:\n    - containerport: 80\n")
    )
    assert [p.path for p in inv.problems] == ["spec.containers[0].ports[0].containerport"]


# --- Accepted: what the API server takes must not be refused ---------------------------

ACCEPTED = [
    pytest.param(
        _pod(
            "spec: {containers: [{name: main}]}\n",
            "  annotations: {Example.COM/Some-Key: x, UPPER: z}\n",
        ),
        (),
        id="annotation-keys-are-checked-without-case",
    ),
    pytest.param(
        _pod("spec: {containers: [{name: main}]}\n", f"  annotations:\n    abc: {_BIG}\n"),
        (),
        id="annotations-of-exactly-256KiB-are-accepted",
    ),
    pytest.param(
        _apps(
            "Deployment", "spec:\n" + _TEMPLATE.replace("   # <-", ""), version="extensions/v1beta1"
        ),
        ("apiVersion extensions/v1beta1 is no longer served for Deployment; use apps/v1",),
        id="extensions-deployment-defaults-its-selector-with-a-warning",
    ),
    pytest.param(
        _apps("ReplicationController", "spec:\n" + _TEMPLATE.replace("   # <-", ""), version="v1"),
        (),
        id="replicationcontroller-selector-defaults-to-template-labels",
    ),
    pytest.param(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: p, namespace: prod}\nspec:\n"
        + _TEMPLATE.replace("   # <-", ""),
        (),
        id="job-selector-is-generated",
    ),
    pytest.param(
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: p, namespace: prod, uid: u1}\nspec:\n"
        "  selector: {matchLabels: {controller-uid: u1}}\n  template:\n"
        "    metadata: {labels: {controller-uid: u1, job-name: p}}\n"
        "    spec: {containers: [{name: main}]}\n",
        (),
        id="exported-job-with-its-generated-selector",
    ),
    pytest.param(
        _apps(
            "StatefulSet",
            "spec:\n  selector:\n    matchExpressions:\n"
            "    - {key: tier, operator: In, values: [front, back]}\n"
            "    - {key: legacy, operator: DoesNotExist}\n" + _TEMPLATE.replace("   # <-", ""),
        ),
        (),
        id="selector-expressions-matching-the-template",
    ),
    pytest.param(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - from:\n"
        "    - ipBlock: {cidr: '::ffff:0:0:0/96'}\n"
        "    - ipBlock: {cidr: '64:ff9b::/96'}\n",
        (),
        id="ipv6-blocks-that-are-not-ipv4-mapped",
    ),
]


@pytest.mark.parametrize(("text", "warnings"), ACCEPTED)
def test_what_the_api_server_accepts_is_analysed(text: str, warnings: tuple[str, ...]) -> None:
    inv = inventory_of(text)
    assert errors(inv) == []
    assert len(inv.workloads) + len(inv.policies) == 1
    said = [p.message for p in inv.problems]
    assert len(said) == len(warnings)
    for warning, message in zip(warnings, said, strict=True):
        assert warning in message


@dataclass(frozen=True, slots=True)
class _LoadedWithout(RawObject):
    """A RawObject as the loader leaves it when it drops last-applied-configuration
    (the loader records the dropped key and value bytes in this attribute)."""

    dropped_annotation_bytes: int = 0


@pytest.mark.parametrize(
    ("dropped", "rejected"),
    [pytest.param(0, False, id="nothing-dropped"), pytest.param(2, True, id="dropped-bytes-count")],
)
def test_annotation_size_counts_what_the_loader_dropped(dropped: int, rejected: bool) -> None:
    text = _pod("spec: {containers: [{name: main}]}\n", f"  annotations:\n    ab: {_BIG}\n")
    (obj,) = load_sources([SourceText("up.yaml", text.encode())])[0]
    given = {f.name: getattr(obj, f.name) for f in fields(RawObject)}
    loaded = _LoadedWithout(**{**given, "dropped_annotation_bytes": dropped})
    inv = build_inventory([loaded])
    assert [p.path for p in errors(inv)] == (["metadata.annotations"] if rejected else [])


# --- The checks themselves -----------------------------------------------------------

CHECKS = [
    pytest.param(check_annotation_key("Example.COM/Key_1"), [], id="annotation-key-any-case"),
    pytest.param(
        check_annotation_key("a/b/c"), ["a qualified name"], id="annotation-key-two-slashes"
    ),
    pytest.param(check_annotation_key("-a"), ["name part must consist"], id="annotation-key-dash"),
    pytest.param(check_annotation_key("x" * 64), ["no more than 63"], id="annotation-name-64"),
    pytest.param(check_annotations_size({"a": "b" * 262143}), [], id="size-at-the-limit"),
    pytest.param(check_annotations_size({"a": "b" * 262144}), ["Too long"], id="size-over"),
    pytest.param(check_annotations_size({"a": "é" * 131072}), ["Too long"], id="size-in-bytes"),
    pytest.param(check_annotations_size({"a": "b"}, 262143), ["Too long"], id="size-extra-bytes"),
    pytest.param(
        [parse_cidr("::ffff:10.0.0.0/104").error or ""], ["IPv4-mapped"], id="cidr-mapped-dotted"
    ),
    pytest.param(
        [parse_cidr("::FFFF:192.168.1.7/128").error or ""],
        ["192.168.1.7/32"],
        id="cidr-mapped-host",
    ),
    pytest.param(
        [parse_cidr("::ffff:0:0/80").error or ""],
        ["IPv4-mapped"],
        id="cidr-mapped-short-prefix-has-no-ipv4-form",
    ),
    pytest.param(
        [parse_cidr("::ffff:1.2.3.4/96").error or ""],
        ["write the IPv4 CIDR 0.0.0.0/0"],
        id="cidr-mapped-96-is-all-of-ipv4",
    ),
]


@pytest.mark.parametrize(("messages", "fragments"), CHECKS)
def test_annotation_and_cidr_checks(messages: list[str], fragments: list[str]) -> None:
    """One message per expected fragment, in order; none for a valid value."""
    assert len(messages) == len(fragments), messages
    for fragment, message in zip(fragments, messages, strict=True):
        assert fragment in message


# --- The stored input (share links re-analyse it) decides the same ---------------------

STORED = [
    pytest.param(
        _apps("Deployment", "spec:\n  selector: {matchLabels: {app: web}}\n" + _TEMPLATE),
        id="deployment-keeps-its-selector",
    ),
    pytest.param(
        _apps("Deployment", "spec:\n  selector: {matchLabels: {app: webb}}\n" + _TEMPLATE),
        id="selector-mismatch-stays-rejected",
    ),
    pytest.param(_pod("spec:\n  containers: []\n"), id="pod-without-containers-stays-rejected"),
    pytest.param(
        _pod("spec:\n  containers:\n  - name: main\n    ports: [{containerport: 80}]\n"),
        id="misspelled-containerport-stays-rejected",
    ),
    pytest.param(
        _pod("spec: {containers: [{name: main}]}\n", "  annotations: {'bad key!': x}\n"),
        id="invalid-annotation-key",
    ),
    pytest.param(
        _pod("spec: {containers: [{name: main}]}\n", f"  annotations:\n    abcd: {_BIG}\n"),
        id="annotations-over-256KiB",
    ),
]


@pytest.mark.parametrize("text", STORED)
def test_stored_input_gives_the_same_workloads(text: str) -> None:
    first = analyze([SourceText("up.yaml", (text + "---\n" + GOOD_POD).encode())])
    again = analyze_stored(json.loads(json.dumps(first.sanitized)))
    assert again.document["nodes"] == first.document["nodes"]


# --- The namespaces every cluster has --------------------------------------------------


def _policy_in(namespace: str) -> str:
    return (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: np, namespace: {namespace}}}\nspec: {{podSelector: {{}}}}\n"
    )


@pytest.mark.parametrize(
    ("namespace", "warned"),
    [
        pytest.param("default", False, id="default-is-not-warned-about"),
        pytest.param("kube-system", False, id="kube-system-is-not-warned-about"),
        pytest.param("kube-public", False, id="kube-public-is-not-warned-about"),
        pytest.param("kube-node-lease", False, id="kube-node-lease-is-not-warned-about"),
        pytest.param("prod", True, id="other-undefined-namespace-is-warned-about"),
    ],
)
def test_initial_namespaces_are_assumed_without_a_warning(namespace: str, warned: bool) -> None:
    doc = analyze([SourceText("np.yaml", _policy_in(namespace).encode())]).document
    warnings = [p for p in doc["problems"] if p["kind"] == "Namespace"]
    assert [p["name"] for p in warnings] == ([namespace] if warned else [])
    # The namespace still exists, with its name label, so selectors can match it.
    assert namespace in {n["namespace"] for n in doc["nodes"]}


# --- As a user sees it: the CLI -------------------------------------------------------

UPLOAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - ipBlock: {cidr: '::ffff:10.0.0.0/104'}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerport: 80
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: prod}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: prod}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{}]
"""


def test_cli_names_the_file_line_and_path_and_analyses_the_rest(tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(UPLOAD)
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "analyze", str(manifest), "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    doc: dict[str, Any] = json.loads(result.stdout)
    assert [p["id"] for p in doc["policies"]] == ["prod/api-in"]
    assert [n["name"] for n in doc["nodes"] if n["type"] == "workload"] == ["api"]
    stderr = result.stderr.decode().splitlines()
    assert (
        f"{manifest}:8: error: invalid CIDR '::ffff:10.0.0.0/104': must not have an "
        "IPv4-mapped IPv6 address; write the IPv4 CIDR 10.0.0.0/8; NetworkPolicy left out "
        "[NetworkPolicy/web-in] (spec.ingress[0].from[0].ipBlock.cidr)" in stderr
    )
    assert (
        f"{manifest}:22: error: unknown field 'containerport'; did you mean "
        "'containerPort'? Deployment left out [Deployment/web] "
        "(spec.template.spec.containers[0].ports[0].containerport)" in stderr
    )
    errors_ = [p for p in doc["problems"] if p["severity"] == "error"]
    assert [(p["line"], p["kind"], p["name"], p["path"]) for p in errors_] == [
        (8, "NetworkPolicy", "web-in", "spec.ingress[0].from[0].ipBlock.cidr"),
        (22, "Deployment", "web", "spec.template.spec.containers[0].ports[0].containerport"),
    ]
