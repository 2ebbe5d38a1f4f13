"""Uploads the size of a real cluster, for tests that outputs work from groups.

2,000 bare pods and no policy are 4 million node pairs but one group of pods
(and one of external addresses) and three flows: an output that expands the
pairs takes seconds and hundreds of MiB, one that reads groups a few MiB.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from webapp.core import Analysis, SourceText, analyze

PODS = 2_000
PEAK_BYTES = 48 * 2**20
"""Generous: the pairwise flows of 2,000 pods need well over 500 MiB."""
SECONDS = 20.0
"""Generous for a busy 2-core machine: expanding the pairs takes longer still."""


def bare_pod(name: str, namespace: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": {"containers": [{"name": "main", "image": "example"}]},
    }


def bare_pods(count: int = PODS, namespace: str = "default") -> list[dict[str, Any]]:
    return [bare_pod(f"pod-{k}", namespace) for k in range(count)]


def as_list(*objects: dict[str, Any]) -> bytes:
    """One `kind: List` JSON document (as `kubectl get -o json` prints it): quick to read."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}).encode()


def analyse_list(*objects: dict[str, Any]) -> Analysis:
    return analyze([SourceText("cluster.json", as_list(*objects))])


@dataclass
class Cost:
    seconds: float = 0.0
    peak: int = 0

    def check(self) -> None:
        assert self.seconds < SECONDS, f"{self.seconds:.1f} s"
        assert self.peak < PEAK_BYTES, f"peak {self.peak / 2**20:.1f} MiB"


@contextmanager
def measured() -> Iterator[Cost]:
    """Time and tracemalloc peak of the block (checked by `Cost.check` afterwards)."""
    cost = Cost()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - start
        cost.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def read_pairwise_flows(analysis: Analysis) -> bool:
    """Whether something built `Evaluation.flows` (a cached property, made on first use)."""
    return "flows" in vars(analysis.evaluation)
