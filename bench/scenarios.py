"""Write to files every cluster that issue 8's speed section asks to measure.

    python bench/scenarios.py --output-dir /tmp/scenarios               # every case, full size
    python bench/scenarios.py --output-dir /tmp/tiny --scale 0.01       # the same, tiny
    python bench/scenarios.py --output-dir /tmp/s --only bare-pods --only json-vs-yaml
    python bench/scenarios.py --list

Each scenario writes into its own folder under --output-dir, and
`scenarios.json` there lists every file with its scenario, generator, pods,
policies and format, for whoever measures them. --scale multiplies every
pod and policy count (never below a small floor), so tests can write the
same shapes in a fraction of a second.

Generators: "reference" is bench/generate.py, "hard" is bench/generate_hard.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# The generators are scripts beside this one, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as reference_generator
import generate_hard

Doc = dict[str, Any]
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MIN_PODS = 20

SIZES = ((5000, 1000), (20000, 4000), (5500, 14000))
CURVE_PODS = (1000, 2000, 5000, 10000, 15000, 20000)
CURVE_POLICIES_PER_POD = 0.2  # the reference sizes' one policy per five pods


@dataclass(frozen=True)
class Output:
    """One file a scenario writes, and what is in it."""

    path: str  # relative to --output-dir
    generator: str
    pods: int
    policies: int
    format: str  # "yaml" (one object per document), "yaml-list" or "json-list"
    text: str


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    write: Callable[[float, int], Iterator[Output]]


def scaled(count: int, scale: float, floor: int = 0) -> int:
    return max(floor, round(count * scale))


def generate(generator: str, pods: int, policies: int, seed: int) -> list[Doc]:
    """A generator's objects, in the order its file lists them."""
    if generator == "hard":
        return generate_hard.documents(pods, policies, seed)
    # generate.py gives text only; its output is plain YAML that any loader reads alike.
    return list(yaml.load_all(reference_generator.generate(pods, policies, seed), Loader=Loader))


def cluster_file(generator: str, pods: int, policies: int, seed: int, folder: str) -> Output:
    """The generator's own text, exactly as its command line writes it."""
    module = generate_hard if generator == "hard" else reference_generator
    return Output(f"{folder}/{generator}-{pods:05d}x{policies:05d}.yaml", generator,
                  pods, policies, "yaml", module.generate(pods, policies, seed))


def as_list(docs: list[Doc]) -> Doc:
    """The objects as `kubectl get -o json|yaml` wraps them."""
    return {"apiVersion": "v1", "items": docs, "kind": "List",
            "metadata": {"resourceVersion": ""}}


def to_json_list(docs: list[Doc]) -> str:
    """As `kubectl get -o json` prints: keys sorted (Go maps), 4-space indent, final newline."""
    return json.dumps(as_list(docs), indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml_list(docs: list[Doc]) -> str:
    """As `kubectl get -o yaml` prints: keys sorted, lists not indented under their key."""
    return yaml.dump(as_list(docs), Dumper=generate_hard.NoAliasDumper, sort_keys=True)


# --- the cases ----------------------------------------------------------------


def sizes(scale: float, seed: int) -> Iterator[Output]:
    for pods, policies in SIZES:
        for generator in ("reference", "hard"):
            yield cluster_file(generator, scaled(pods, scale, MIN_PODS),
                               scaled(policies, scale), seed, "sizes")


def bare_pods(scale: float, seed: int) -> Iterator[Output]:
    """2,000 Pods without owner, spread over namespaces, and no NetworkPolicy at all."""
    pods = scaled(2000, scale, MIN_PODS)
    gen = generate_hard.HardGenerator(pods, 0, seed)
    namespaces = max(1, pods // 100)
    docs = [gen.namespace_doc(f"bare-{i}", {"team": f"team-{i % 4}", "env": "dev"})
            for i in range(namespaces)]
    for i in range(pods):
        role = ("frontend", "api", "worker", "cache")[i % 4]
        team = f"team-{i % namespaces % 4}"
        app = generate_hard.App(
            "Pod", f"{role}-{i}", {"app": f"{role}-{i % 50}", "tier": role},
            (gen.container(role, team),), 1,
        )
        docs += gen.app_docs(f"bare-{i % namespaces}", app)
    yield Output("bare-pods/bare-pods.yaml", "bare-pods", pods, 0, "yaml",
                 generate_hard.to_yaml(docs))


def admit_all(scale: float, seed: int) -> Iterator[Output]:
    """20,000 Pods of Deployments in 50 namespaces, each isolated, every pod admitted."""
    pods = scaled(20000, scale, MIN_PODS)
    namespaces = min(50, pods)
    gen = generate_hard.HardGenerator(pods, namespaces, seed)
    docs: list[Doc] = []
    workloads: list[Doc] = []
    policies: list[Doc] = []
    for i in range(namespaces):
        name = f"shared-{i}"
        docs.append(gen.namespace_doc(name, {"team": f"team-{i % 10}", "env": "prod"}))
        share = pods // namespaces + (1 if i < pods % namespaces else 0)
        for k, start in enumerate(range(0, share, 4)):
            app = generate_hard.App(
                "Deployment", f"svc-{k}", {"app": f"svc-{k}", "tier": "api"},
                (gen.container("api", f"team-{i % 10}"),), min(4, share - start),
            )
            workloads += gen.app_docs(name, app)
        policies.append(gen.policy_doc(name, "admit-every-pod", {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {}}]}],
        }))
    yield Output("admit-all/admit-all.yaml", "admit-all", pods, namespaces, "yaml",
                 generate_hard.to_yaml(docs + workloads + policies))


def json_vs_yaml(scale: float, seed: int) -> Iterator[Output]:
    """The 5,000-pod clusters as `kubectl get -o json` and `-o yaml` print them (a kind: List)."""
    pods, policies = scaled(5000, scale, MIN_PODS), scaled(1000, scale)
    for generator in ("reference", "hard"):
        docs = generate(generator, pods, policies, seed)
        stem = f"json-vs-yaml/{generator}-{pods:05d}x{policies:05d}"
        yield Output(f"{stem}.json", generator, pods, policies, "json-list", to_json_list(docs))
        yield Output(f"{stem}.yaml", generator, pods, policies, "yaml-list", to_yaml_list(docs))


def curve(scale: float, seed: int) -> Iterator[Output]:
    """Cost per pod: 1,000 to 20,000 pods at one policy per five pods, both generators."""
    for pods in CURVE_PODS:
        size = scaled(pods, scale, MIN_PODS)
        for generator in ("reference", "hard"):
            yield cluster_file(generator, size, round(size * CURVE_POLICIES_PER_POD), seed,
                               "curve")


SCENARIOS = (
    Scenario("sizes", "5,000/1,000, 20,000/4,000 and 5,500/14,000 pods/policies, "
             "reference and hard generators", sizes),
    Scenario("bare-pods", "2,000 bare Pods that no policy isolates", bare_pods),
    Scenario("admit-all", "20,000 pods in 50 namespaces, each isolated by a policy "
             "that admits every pod", admit_all),
    Scenario("json-vs-yaml", "the 5,000-pod clusters as kind: List JSON (4-space indent) "
             "and YAML", json_vs_yaml),
    Scenario("curve", "1,000 to 20,000 pods, policies a fifth of pods, both generators",
             curve),
)


def write(output_dir: Path, names: list[str], scale: float, seed: int) -> list[dict[str, Any]]:
    """Write the named scenarios; return the manifest written beside them."""
    chosen = [s for s in SCENARIOS if s.name in names] if names else list(SCENARIOS)
    manifest: list[dict[str, Any]] = []
    for scenario in chosen:
        for out in scenario.write(scale, seed):
            if any(entry["file"] == out.path for entry in manifest):
                continue  # at a small --scale, neighbouring sizes meet at the floor
            path = output_dir / out.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(out.text, encoding="utf-8")
            manifest.append({"scenario": scenario.name, "file": out.path,
                             "generator": out.generator, "pods": out.pods,
                             "policies": out.policies, "format": out.format,
                             "bytes": len(out.text.encode())})
    (output_dir / "scenarios.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                               encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-o", "--output-dir", type=Path, help="folder to write into")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        choices=[s.name for s in SCENARIOS], help="a scenario (repeatable)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every pod and policy count (default 1)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:14} {scenario.description}")
        return 0
    if args.output_dir is None:
        parser.error("--output-dir is required")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    for entry in write(args.output_dir, args.only, args.scale, args.seed):
        print(f"{entry['file']}  {entry['pods']} pods, {entry['policies']} policies, "
              f"{entry['bytes'] / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
