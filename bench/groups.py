"""Time and memory of the grouped evaluation (webapp.core.groups) as clusters grow.

    python bench/groups.py                 # every case below
    python bench/groups.py --cases bare,generated --sizes 1000,5000,20000

Cases:
- bare: N bare Pods with varied labels and no policies (the pairwise
  document of 2,000 of them had 4 million flows): one group, a handful of flows;
- admit-all: N pods in 50 namespaces, each namespace isolated for Ingress by
  a policy that admits every pod of the cluster: one group per namespace;
- generated: bench/generate.py clusters with pods/5 policies, loaded from YAML.

Each measurement runs in a child process of its own: the inventory is built
first (not timed), then `evaluate()` is timed (with the cyclic garbage
collector off, as the CLI runs it), then run again under
tracemalloc for the peak Python memory it allocates. The child's peak RSS
(loading included) is shown too. Pairwise flows (`Evaluation.flows`) are never
expanded, so the figures are those of the grouped result alone.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # measure this checkout's webapp
sys.path.insert(0, str(HERE))

from webapp.core.model import (  # noqa: E402
    NAME_LABEL,
    ContainerPort,
    Direction,
    Inventory,
    Namespace,
    PodPeer,
    Policy,
    Rule,
    Source,
    Workload,
)
from webapp.core.selectors import Selector  # noqa: E402

CASES = ("bare", "admit-all", "generated")
DEFAULT_SIZES = {"bare": [2000, 20000], "admit-all": [20000], "generated": [1000, 5000, 20000]}


def _namespace(name: str) -> Namespace:
    return Namespace(name, ((NAME_LABEL, name),))


def bare_pods(n: int) -> Inventory:
    pods = tuple(
        Workload(
            "Pod",
            "default",
            f"pod-{i}",
            (("app", f"app-{i % 50}"), ("shard", str(i % 7))),
            (ContainerPort("http", 8000 + i % 5),),
        )
        for i in range(n)
    )
    return Inventory((_namespace("default"),), pods, ())


def admit_all(n: int, namespaces: int = 50) -> Inventory:
    names = [f"ns-{k}" for k in range(namespaces)]
    pods = tuple(
        Workload(
            "Pod",
            names[i % namespaces],
            f"pod-{i}",
            (("app", f"app-{i % 20}"),),
            (ContainerPort("http", 8080),),
        )
        for i in range(n)
    )
    every_pod = PodPeer(Selector(), Selector())
    policies = tuple(
        Policy(
            ns,
            "admit-every-pod",
            Selector(),
            frozenset({Direction.INGRESS}),
            (Rule(Direction.INGRESS, 0, (every_pod,), (), Source("bench.yaml", k, 1)),),
            (),
            Source("bench.yaml", k, 1),
        )
        for k, ns in enumerate(names)
    )
    return Inventory(tuple(_namespace(ns) for ns in names), pods, policies)


def generated(n: int) -> Inventory:
    from generate import generate

    from webapp.core.input.inventory import build_inventory
    from webapp.core.input.raw import SourceText
    from webapp.core.input.sources import load_sources

    text = generate(n, n // 5, seed=1)
    objects, _ = load_sources([SourceText("cluster.yaml", text.encode())])
    return build_inventory(objects)


BUILDERS = {"bare": bare_pods, "admit-all": admit_all, "generated": generated}


def measure_here(case: str, pods: int) -> dict[str, object]:
    from webapp.core.evaluate import evaluate

    inventory = BUILDERS[case](pods)
    gc.collect()
    gc.disable()  # as the CLI does for its one analysis
    start = time.perf_counter()
    evaluation, evaluator = evaluate(inventory)
    seconds = time.perf_counter() - start
    gc.enable()
    grouped = evaluation.grouped
    del evaluation, evaluator
    tracemalloc.start()
    evaluate(inventory)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "case": case,
        "pods": pods,
        "nodes": len(grouped.scene.endpoints),
        "policies": len(inventory.policies),
        "groups": len(grouped.groups),
        "flows": len(grouped.flows),
        "pairs": sum(f.pairs for f in grouped.flows),
        "seconds": seconds,
        "peak_mib": peak / 2**20,
        # ru_maxrss is KiB on Linux.
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(case: str, pods: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, str(pods)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def table(rows: list[dict[str, object]]) -> str:
    header = [
        "case",
        "pods",
        "nodes",
        "policies",
        "groups",
        "flows",
        "pairs",
        "evaluate s",
        "µs/pod",
        "peak MiB",
        "RSS MiB",
    ]
    lines = [header]
    for r in rows:
        seconds = float(str(r["seconds"]))
        lines.append(
            [
                str(r["case"]),
                str(r["pods"]),
                str(r["nodes"]),
                str(r["policies"]),
                str(r["groups"]),
                str(r["flows"]),
                str(r["pairs"]),
                f"{seconds:.2f}",
                f"{seconds / int(str(r['pods'])) * 1e6:.0f}",
                f"{float(str(r['peak_mib'])):.1f}",
                f"{float(str(r['rss_mib'])):.0f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES)
    )
    parser.add_argument("--sizes", help="comma-separated pod counts (default: per case)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PODS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_here(args.child[0], int(args.child[1]))))
        return 0
    rows = []
    for case in args.cases.split(","):
        if case not in BUILDERS:
            parser.error(f"unknown case {case!r}")
        sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else DEFAULT_SIZES[case]
        for pods in sizes:
            rows.append(measure(case, pods))
            print(f"measured {case} {pods}", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
