"""Time `netpol-viz analyze` on synthetic clusters and print a small table.

    python bench/run.py --pods 5000 --policies 1000
    python bench/run.py --sizes 5000:1000,20000:4000

For each size it generates a cluster (bench/generate.py) into a temporary
file, then measures

- libyaml alone: `list(yaml.load_all(text, Loader=yaml.CSafeLoader))`, the
  floor any Python analysis of the file has to stand on;
- end to end: `netpol-viz analyze FILE --format json --output OUT` as a
  subprocess, wall time and the child's peak resident memory;

and reads nodes and flows back from the JSON it wrote. The issue's targets
on the 2-core reference machine are shown beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

# generate.py is a script beside this one, not part of the installed package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

# (pods, policies) -> seconds, end to end; also "within 2x of libyaml" at 5k.
TARGETS: dict[tuple[int, int], float] = {(5000, 1000): 3.0, (20000, 4000): 10.0}


@dataclass(frozen=True)
class Measurement:
    pods: int
    policies: int
    megabytes: float
    nodes: int
    flows: int
    yaml_seconds: float
    analyze_seconds: float
    peak_mib: float


def analyze_command() -> list[str]:
    """This Python's console script, else the one on PATH, else the entry point itself."""
    beside = Path(sys.executable).with_name("netpol-viz")
    script = str(beside) if beside.is_file() else shutil.which("netpol-viz")
    if script:
        return [script]
    return [sys.executable, "-m", "webapp"]


def run_child(argv: list[str]) -> tuple[int, float, float, str]:
    """Run argv; return exit status, wall seconds, peak RSS in MiB, stderr.

    os.wait4 gives the rusage of this one child, so sizes measured one after
    another do not inherit the largest peak so far, as
    getrusage(RUSAGE_CHILDREN) would.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    # ru_maxrss is KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return proc.returncode, seconds, usage.ru_maxrss * scale / 2**20, stderr


def measure(
    pods: int, policies: int, seed: int, workdir: Path, command: list[str]
) -> Measurement:
    text = generate(pods, policies, seed)
    manifest = workdir / f"cluster-{pods}-{policies}.yaml"
    manifest.write_text(text, encoding="utf-8")

    start = time.perf_counter()
    list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    yaml_seconds = time.perf_counter() - start

    output = workdir / f"analysis-{pods}-{policies}.json"
    argv = [*command, "analyze", str(manifest), "--format", "json",
            "--output", str(output)]
    status, seconds, peak, stderr = run_child(argv)
    if status != 0:
        raise RuntimeError(f"netpol-viz exited {status}:\n{stderr[-2000:]}")
    document = json.loads(output.read_text(encoding="utf-8"))
    return Measurement(
        pods=pods,
        policies=policies,
        megabytes=len(text.encode()) / 2**20,
        nodes=len(document["nodes"]),
        flows=len(document["flows"]),
        yaml_seconds=yaml_seconds,
        analyze_seconds=seconds,
        peak_mib=peak,
    )


def format_table(rows: list[Measurement]) -> str:
    header = ["pods", "policies", "MiB in", "nodes", "flows", "libyaml s", "analyze s",
              "x libyaml", "peak MiB", "target"]
    lines = [header]
    for m in rows:
        target = TARGETS.get((m.pods, m.policies))
        verdict = "-" if target is None else (
            f"<= {target:g} s " + ("ok" if m.analyze_seconds <= target else "MISSED"))
        lines.append([
            str(m.pods), str(m.policies), f"{m.megabytes:.1f}", str(m.nodes), str(m.flows),
            f"{m.yaml_seconds:.2f}", f"{m.analyze_seconds:.2f}",
            f"{m.analyze_seconds / m.yaml_seconds:.1f}", f"{m.peak_mib:.0f}", verdict,
        ])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        pods, _, policies = item.strip().partition(":")
        if not policies:
            raise argparse.ArgumentTypeError(f"expected PODS:POLICIES, got {item!r}")
        sizes.append((int(pods), int(policies)))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=5000)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--sizes", type=parse_sizes,
                        help="several PODS:POLICIES pairs, comma-separated (overrides --pods)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", help="keep generated files and outputs in DIR")
    parser.add_argument("--command", metavar="PROGRAM",
                        help="the netpol-viz to measure (default: this Python's)")
    args = parser.parse_args(argv)
    sizes = args.sizes or [(args.pods, args.policies)]
    command = [args.command] if args.command else analyze_command()

    with tempfile.TemporaryDirectory(prefix="netpol-bench-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for pods, policies in sizes:
            try:
                rows.append(measure(pods, policies, args.seed, workdir, command))
            except RuntimeError as err:
                print(err, file=sys.stderr)
                return 1
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
