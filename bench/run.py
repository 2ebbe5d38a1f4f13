"""Measure issue 8's speed section: every figure as a ratio to a floor measured beside it.

    python bench/run.py                      # every case, full size (writes 300 MiB of files)
    python bench/run.py --quick              # the same cases at a twentieth of the size
    python bench/run.py --quick --scale 0.01 --json results.json
    python bench/run.py --only bare-pods --only admit-all

The clusters come from bench/scenarios.py. These machines are noisy, so no
figure is a bare time: for each file, in one run and interleaved with its
analysis, a child process times PyYAML's CSafeLoader alone parsing the YAML
form of that file (`list(yaml.load_all(text, Loader=CSafeLoader))`), the
floor any Python analysis of it stands on; then
`python -m webapp analyze FILE --format json --output OUT` (this checkout) runs as a child,
timed end to end (interpreter start included) with its own peak resident
memory (os.wait4, from a small launcher). Each figure prints with its target and PASS or FAIL.

At --quick or any --scale below 1 the targets are printed for the shape only:
small files are dominated by the interpreter's start, so FAIL there means
nothing. The full-size run is the one that counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The scenario writer and generators are scripts beside this one, not part of the package.
sys.path.insert(0, str(HERE))
import scenarios  # noqa: E402

QUICK_SCALE = 0.05
MIB = 2**20

FLOOR_PROGRAM = """\
import sys, time, yaml
text = open(sys.argv[1], encoding="utf-8").read()
start = time.perf_counter()
list(yaml.load_all(text, Loader=yaml.CSafeLoader))
print(time.perf_counter() - start)
"""


@dataclass(frozen=True)
class Child:
    """One finished child process."""

    status: int
    seconds: float
    peak_mib: float
    stdout: str
    stderr: str


# Each measured program starts from this small launcher, not from the bench itself:
# Linux counts in a child's ru_maxrss the memory of the process that forked it
# (the copied address space, until exec), so a child of a bench that has read a
# large document back would report at least that. The launcher is a fresh
# interpreter of about 10 MiB, the floor of every peak figure.
LAUNCHER = """\
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    json.dump({"status": os.waitstatus_to_exitcode(status), "seconds": seconds,
               "maxrss": usage.ru_maxrss}, fh)
"""


def run_child(argv: list[str], env: dict[str, str] | None = None) -> Child:
    """Run argv; its wall seconds and its own peak RSS (os.wait4 in the launcher)."""
    with tempfile.TemporaryDirectory() as tmp:
        report, out, err = (Path(tmp) / name for name in ("report", "out", "err"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            launcher = subprocess.run([sys.executable, "-c", LAUNCHER, str(report), *argv],
                                      stdout=stdout, stderr=stderr, env=env, check=False)
        stderr_text = err.read_text(encoding="utf-8", errors="replace")
        if launcher.returncode != 0 or not report.is_file():
            return Child(launcher.returncode or 1, 0.0, 0.0, "", stderr_text)
        figures = json.loads(report.read_text(encoding="utf-8"))
        # ru_maxrss is KiB on Linux (bytes on macOS).
        scale = 1 if sys.platform == "darwin" else 1024
        return Child(figures["status"], figures["seconds"], figures["maxrss"] * scale / MIB,
                     out.read_text(encoding="utf-8", errors="replace"), stderr_text)


@dataclass
class Measurement:
    """One file analysed end to end, with the floor measured just before it."""

    file: str
    scenario: str
    generator: str
    pods: int
    policies: int
    format: str
    input_mib: float
    floor_file: str
    floor_seconds: float
    analyze_seconds: float
    peak_mib: float
    document_mib: float
    nodes: int
    groups: int
    flows: int
    pairs: int
    start_seconds: float = 0.0
    """The interpreter's start and imports, measured just before the analysis."""

    @property
    def ratio(self) -> float:
        return self.analyze_seconds / self.floor_seconds


@dataclass(frozen=True)
class Figure:
    """One line of the report: a measured value against its target."""

    name: str
    value: str
    target: str
    passed: bool
    detail: str = ""


@dataclass
class Run:
    scale: float
    seed: int
    command: list[str]
    load_before: tuple[float, float, float]
    startup_seconds: float = 0.0
    measurements: list[Measurement] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    curve: list[dict[str, Any]] = field(default_factory=list)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def analyze_command() -> list[str]:
    """This checkout's package, run by this Python (the bench measures the code beside it)."""
    return [sys.executable, "-m", "webapp"]


PYCACHE = Path(tempfile.gettempdir()) / "netpol-bench-pycache"


def child_env() -> dict[str, str]:
    """This checkout first on the path, its bytecode cached as an installed package's is.

    pip compiles a package's bytecode when it installs it, and a checkout writes
    __pycache__ on its first run; with PYTHONDONTWRITEBYTECODE (set on some
    machines, these included) every run would compile the package's source
    again, about 0.05 s that no user pays. The cache goes to a folder of its
    own (PYTHONPYCACHEPREFIX), never into the checkout; Python checks each
    entry against its source's size and time.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent),
                                                      env.get("PYTHONPATH", "")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def measure_floor(path: Path) -> float:
    child = run_child([sys.executable, "-c", FLOOR_PROGRAM, str(path)])
    if child.status != 0:
        raise RuntimeError(f"parsing {path} with CSafeLoader failed:\n{child.stderr[-2000:]}")
    return float(child.stdout.strip())


def analyze(command: list[str], path: Path, output: Path) -> Child:
    argv = [*command, "analyze", str(path), "--format", "json", "--output", str(output)]
    child = run_child(argv, child_env())
    if child.status != 0:
        raise RuntimeError(f"netpol-viz analyze {path} exited {child.status}:\n"
                           f"{child.stderr[-2000:]}")
    return child


def floor_file_of(entry: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """The YAML whose parse is this file's floor: itself, or the YAML form of a JSON file."""
    if entry["format"] != "json-list":
        return str(entry["file"])
    twin = str(entry["file"]).removesuffix(".json") + ".yaml"
    if not any(e["file"] == twin for e in entries):
        raise RuntimeError(f"{entry['file']} has no YAML form to compare with")
    return twin


def measure(entry: dict[str, Any], entries: list[dict[str, Any]], workdir: Path,
            command: list[str]) -> Measurement:
    floor_file = floor_file_of(entry, entries)
    floor = measure_floor(workdir / floor_file)
    start = measure_startup(command, workdir)
    output = workdir / "out" / (str(entry["file"]).replace("/", "--") + ".out.json")
    output.parent.mkdir(exist_ok=True)
    child = analyze(command, workdir / entry["file"], output)
    text = output.read_bytes()
    document = json.loads(text)
    summary = document["summary"]
    return Measurement(
        file=entry["file"], scenario=entry["scenario"], generator=entry["generator"],
        pods=entry["pods"], policies=entry["policies"], format=entry["format"],
        input_mib=entry["bytes"] / MIB, floor_file=floor_file, floor_seconds=floor,
        analyze_seconds=child.seconds, peak_mib=child.peak_mib,
        document_mib=len(text) / MIB, nodes=len(document["nodes"]),
        groups=len(document.get("groups", ())), flows=len(document["flows"]),
        pairs=summary["pairs"], start_seconds=start,
    )


# --- the targets -----------------------------------------------------------------


def ratio_figure(name: str, m: Measurement, limit: float, floor_name: str = "parse") -> Figure:
    return Figure(
        name, f"{m.ratio:.2f}x ({m.analyze_seconds:.2f} s / {m.floor_seconds:.2f} s)",
        f"<= {limit:g}x {floor_name}", m.ratio <= limit,
        f"{m.peak_mib:.0f} MiB peak, {m.nodes:,} nodes, {m.groups:,} groups, "
        f"{m.flows:,} flows, {m.pairs:,} pairs",
    )


def size_figures(by_file: dict[str, Measurement], scale: float) -> Iterator[Figure]:
    limits = {(5000, 1000): 1.5, (20000, 4000): 2.0, (5500, 14000): 2.0}
    for pods, policies in scenarios.SIZES:
        sp = scenarios.scaled(pods, scale, scenarios.MIN_PODS)
        sq = scenarios.scaled(policies, scale)
        for generator in ("reference", "hard"):
            m = by_file.get(f"sizes/{generator}-{sp:05d}x{sq:05d}.yaml")
            if m:
                yield ratio_figure(f"{pods:,}/{policies:,} {generator}", m,
                                   limits[(pods, policies)])


def bare_figures(by_file: dict[str, Measurement], scale: float) -> Iterator[Figure]:
    m = by_file.get("bare-pods/bare-pods.yaml")
    if m:
        yield ratio_figure("2,000 bare pods", m, 1.5)
        yield Figure("2,000 bare pods memory", f"{m.peak_mib:.0f} MiB", "< 200 MiB",
                     m.peak_mib < 200)


def admit_all_figures(by_file: dict[str, Measurement], scale: float) -> Iterator[Figure]:
    m = by_file.get("admit-all/admit-all.yaml")
    if m:
        yield ratio_figure("20,000 pods admit-all", m, 2.0)
        yield Figure("20,000 pods admit-all document", f"{m.document_mib:.2f} MiB", "< 5 MiB",
                     m.document_mib < 5, f"{m.peak_mib:.0f} MiB peak")


def json_figures(by_file: dict[str, Measurement], scale: float) -> Iterator[Figure]:
    for m in by_file.values():
        if m.format == "json-list":
            yield ratio_figure(f"5,000 pods as JSON {m.generator}", m, 1.0,
                               "parse of its YAML form")


def per_pod_curve(run: Run) -> Iterator[Figure]:
    """Cost per pod from the smallest to the largest size, for each generator.

    The verdict compares the cost of each size to its own parse (interpreter
    start taken off): the parse is linear in the file, so a flat ratio is a flat
    cost per pod, and unlike milliseconds it does not move with the machine's load.
    The start taken off is the one measured beside that size, under the same load.
    """
    for generator in ("reference", "hard"):
        points = sorted((m for m in run.measurements
                         if m.scenario == "curve" and m.generator == generator),
                        key=lambda m: m.pods)
        if len(points) < 2:
            continue
        ratios = []
        for m in points:
            work = max(m.analyze_seconds - (m.start_seconds or run.startup_seconds), 0.0)
            ratios.append(work / m.floor_seconds)
            run.curve.append({"generator": generator, "pods": m.pods, "policies": m.policies,
                              "analyze_seconds": m.analyze_seconds,
                              "floor_seconds": m.floor_seconds,
                              "start_seconds": m.start_seconds,
                              "ms_per_pod": work / m.pods * 1000,
                              "floor_ms_per_pod": m.floor_seconds / m.pods * 1000,
                              "ratio": ratios[-1], "peak_mib": m.peak_mib})
        spread = max(ratios) / min(ratios) if min(ratios) > 0 else float("inf")
        yield Figure(f"cost per pod flat {generator}", f"{spread:.2f}x",
                     "max/min of (cost/parse) <= 1.5x", spread <= 1.5,
                     f"{points[0].pods:,} to {points[-1].pods:,} pods, "
                     f"{min(ratios):.2f}-{max(ratios):.2f}x parse")


FIGURES: tuple[Callable[[dict[str, Measurement], float], Iterator[Figure]], ...] = (
    size_figures, bare_figures, admit_all_figures, json_figures,
)


# --- the run ---------------------------------------------------------------------


def key_of(entry: dict[str, Any]) -> tuple[str, int, int, str]:
    return (entry["generator"], entry["pods"], entry["policies"], entry["format"])


def measure_startup(command: list[str], workdir: Path, runs: int = 3) -> float:
    """End to end on a one-namespace file: the interpreter and import cost every size pays."""
    tiny = workdir / "startup.yaml"
    tiny.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n", encoding="utf-8")
    return min(analyze(command, tiny, workdir / "startup.out.json").seconds for _ in range(runs))


def execute(args: argparse.Namespace, workdir: Path, log: Callable[[str], None]) -> Run:
    scale = args.scale if args.scale is not None else (QUICK_SCALE if args.quick else 1.0)
    command = [args.command] if args.command else analyze_command()
    run = Run(scale=scale, seed=args.seed, command=command, load_before=os.getloadavg())
    manifest = workdir / "scenarios.json"
    if args.reuse and manifest.is_file():
        log(f"measuring the files already in {workdir} (their scale, not --scale)")
        entries = [e for e in json.loads(manifest.read_text(encoding="utf-8"))
                   if not args.only or e["scenario"] in args.only]
    else:
        log(f"writing scenarios at scale {scale:g} into {workdir} ...")
        entries = scenarios.write(workdir, args.only, scale, args.seed)
    run.startup_seconds = measure_startup(command, workdir)
    log(f"interpreter start and imports: {run.startup_seconds:.2f} s")
    # The same cluster in two scenarios (curve and sizes) is measured once.
    done: dict[tuple[str, int, int, str], Measurement] = {}
    for entry in entries:
        if entry["format"] == "yaml-list":
            continue  # a JSON file's floor, measured with it
        key = key_of(entry)
        if key in done:
            previous = done[key]
            run.measurements.append(Measurement(**{**asdict(previous), "file": entry["file"],
                                                   "scenario": entry["scenario"]}))
            continue
        m = measure(entry, entries, workdir, command)
        done[key] = m
        run.measurements.append(m)
        log(f"{m.file}: {m.input_mib:.1f} MiB, floor {m.floor_seconds:.2f} s, start "
            f"{m.start_seconds:.2f} s, analyze "
            f"{m.analyze_seconds:.2f} s ({m.ratio:.2f}x), {m.peak_mib:.0f} MiB peak, "
            f"load {os.getloadavg()[0]:.1f}")
    by_file = {m.file: m for m in run.measurements}
    for figures in FIGURES:
        run.figures.extend(figures(by_file, scale))
    run.figures.extend(per_pod_curve(run))
    run.load_after = os.getloadavg()
    return run


def format_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [header, *rows]
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def report(run: Run) -> str:
    parts = [
        f"scale {run.scale:g}, seed {run.seed}, load average {run.load_before[0]:.1f} before, "
        f"{run.load_after[0]:.1f} after, on {os.cpu_count()} CPUs; "
        f"interpreter start {run.startup_seconds:.2f} s",
        "",
        format_table(
            ["file", "MiB", "floor s", "analyze s", "x floor", "peak MiB", "doc MiB",
             "nodes", "groups", "flows", "pairs"],
            [[m.file, f"{m.input_mib:.1f}", f"{m.floor_seconds:.2f}", f"{m.analyze_seconds:.2f}",
              f"{m.ratio:.2f}", f"{m.peak_mib:.0f}", f"{m.document_mib:.2f}", f"{m.nodes:,}",
              f"{m.groups:,}", f"{m.flows:,}", f"{m.pairs:,}"] for m in run.measurements],
        ),
    ]
    if run.curve:
        parts += ["", "cost per pod (interpreter start taken off):", format_table(
            ["generator", "pods", "policies", "analyze s", "start s", "ms/pod", "floor ms/pod",
             "(analyze-start)/floor",
             "peak MiB"],
            [[p["generator"], f"{p['pods']:,}", f"{p['policies']:,}",
              f"{p['analyze_seconds']:.2f}", f"{p['start_seconds']:.2f}", f"{p['ms_per_pod']:.3f}",
              f"{p['floor_ms_per_pod']:.3f}", f"{p['ratio']:.2f}", f"{p['peak_mib']:.0f}"]
             for p in run.curve],
        )]
    parts += ["", format_table(
        ["figure", "measured", "target", "verdict", "detail"],
        [[f.name, f.value, f.target, "PASS" if f.passed else "FAIL", f.detail]
         for f in run.figures],
    )]
    if run.scale < 1:
        parts.append(f"\n(scale {run.scale:g}: small files are dominated by the interpreter's "
                     "start; the verdicts count at full size only)")
    return "\n".join(parts)


def run_web(quick: bool) -> int:
    """bench/web.py (the web figures), when it is there."""
    script = HERE / "web.py"
    if not script.is_file():
        print("bench/web.py is not in this checkout; no web figures", file=sys.stderr)
        return 0
    return subprocess.call([sys.executable, str(script), *(["--quick"] if quick else [])],
                           env=child_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"small sizes (scale {QUICK_SCALE:g}) for a quick look")
    parser.add_argument("--scale", type=float, default=None,
                        help="multiply every pod and policy count (default 1, or the "
                        "--quick scale)")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                        choices=[s.name for s in scenarios.SCENARIOS],
                        help="measure one scenario (repeatable; default all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="write the files and outputs into DIR and keep them")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: measure the files a previous run left there")
    parser.add_argument("--json", metavar="FILE", type=Path, help="save the results as JSON")
    parser.add_argument("--command", metavar="PROGRAM",
                        help="the netpol-viz to measure (default: this checkout's, run by "
                        "this Python)")
    parser.add_argument("--web", action="store_true",
                        help="also run bench/web.py (the web figures) when it is there")
    args = parser.parse_args(argv)
    if args.scale is not None and args.scale <= 0:
        parser.error("--scale must be positive")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="netpol-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            run = execute(args, workdir, log)
        except RuntimeError as err:
            print(err, file=sys.stderr)
            return 1
    print(report(run))
    if args.json:
        result = {"scale": run.scale, "seed": run.seed, "command": run.command,
                  "load_before": run.load_before, "load_after": run.load_after,
                  "startup_seconds": run.startup_seconds,
                  "measurements": [{**asdict(m), "ratio": m.ratio} for m in run.measurements],
                  "curve": run.curve, "figures": [asdict(f) for f in run.figures]}
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.web:
        return run_web(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
