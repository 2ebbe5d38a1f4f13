"""bench/run.py: prints every figure of issue 8's speed section with its target and verdict.

A smoke test at tiny sizes: it runs the real script as a user would and checks
the shape and the content of what it reports, never the times themselves
(verdicts at these sizes mean nothing; the full-size run is in the README).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "run.py"

FIGURES = [
    "5,000/1,000 reference", "5,000/1,000 hard",
    "20,000/4,000 reference", "20,000/4,000 hard",
    "5,500/14,000 reference", "5,500/14,000 hard",
    "2,000 bare pods", "2,000 bare pods memory",
    "20,000 pods admit-all", "20,000 pods admit-all document",
    "5,000 pods as JSON reference", "5,000 pods as JSON hard",
    "cost per pod flat reference", "cost per pod flat hard",
]


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--scale", "0.002", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(out.read_text(encoding="utf-8"))


def test_every_figure_is_printed_with_target_and_verdict(quick: tuple[str, dict[str, Any]]) -> None:
    stdout, results = quick
    assert [f["name"] for f in results["figures"]] == FIGURES
    lines = stdout.splitlines()
    for figure in results["figures"]:
        (line,) = [line for line in lines if line.startswith(figure["name"] + "  ")]
        assert figure["target"] in line
        assert ("PASS" if figure["passed"] else "FAIL") in line


def test_each_end_to_end_run_reports_its_own_peak_memory(
    quick: tuple[str, dict[str, Any]],
) -> None:
    _, results = quick
    measured = results["measurements"]
    assert {m["scenario"] for m in measured} == {
        "sizes", "bare-pods", "admit-all", "json-vs-yaml", "curve"}
    for m in measured:
        assert m["peak_mib"] > 5, m  # an interpreter at least
        assert m["floor_seconds"] > 0 and m["analyze_seconds"] > 0, m


def test_documents_are_read_back(quick: tuple[str, dict[str, Any]]) -> None:
    _, results = quick
    by_file = {m["file"]: m for m in results["measurements"]}
    bare = by_file["bare-pods/bare-pods.yaml"]
    # No policy: every pod and the outside world reach each other, in a handful of flows.
    assert bare["pairs"] == bare["nodes"] * (bare["nodes"] - 1)
    assert bare["flows"] <= 3
    admit = by_file["admit-all/admit-all.yaml"]
    assert admit["document_mib"] > 0 and admit["groups"] >= 2


def test_json_is_measured_against_the_parse_of_its_yaml_form(
    quick: tuple[str, dict[str, Any]],
) -> None:
    _, results = quick
    as_json = [m for m in results["measurements"] if m["format"] == "json-list"]
    assert {m["generator"] for m in as_json} == {"reference", "hard"}
    for m in as_json:
        assert m["floor_file"] == m["file"].removesuffix(".json") + ".yaml"


def test_curve_lists_cost_per_pod_for_both_generators(
    quick: tuple[str, dict[str, Any]],
) -> None:
    stdout, results = quick
    assert "cost per pod" in stdout
    assert {p["generator"] for p in results["curve"]} == {"reference", "hard"}


def test_a_failing_analysis_exits_1_with_its_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--scale", "0.002", "--only", "bare-pods",
         "--command", "false"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "exited 1" in result.stderr


@pytest.mark.parametrize(
    ("analyze", "floor", "limit", "passed"),
    [
        pytest.param(1.5, 1.0, 1.5, True, id="at-the-limit-passes"),
        pytest.param(1.6, 1.0, 1.5, False, id="above-the-limit-fails"),
        pytest.param(0.9, 1.0, 1.0, True, id="faster-than-the-floor-passes"),
    ],
)
def test_ratio_verdict(analyze: float, floor: float, limit: float, passed: bool) -> None:
    run = load_run()
    m = run.Measurement(
        file="f.yaml", scenario="sizes", generator="hard", pods=1, policies=0, format="yaml",
        input_mib=1.0, floor_file="f.yaml", floor_seconds=floor, analyze_seconds=analyze,
        peak_mib=1.0, document_mib=1.0, nodes=1, groups=1, flows=0, pairs=0,
    )
    assert run.ratio_figure("x", m, limit).passed is passed


def test_peak_memory_is_the_childs_own_not_the_benchs() -> None:
    # Linux counts the forking process's memory in a child's ru_maxrss; a bench that
    # has read a large document back must still report a small child as small.
    run = load_run()
    ballast = bytearray(400 * 2**20)
    ballast[:: 4096] = b"x" * len(ballast[:: 4096])  # touch every page: resident
    child = run.run_child([sys.executable, "-c", "pass"])
    del ballast
    assert child.status == 0
    assert 1 < child.peak_mib < 100, child


def test_children_run_this_checkout_with_its_bytecode_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With PYTHONDONTWRITEBYTECODE every measured run would compile the package again.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    run = load_run()
    program = ("import sys, webapp; "
               "print(sys.flags.dont_write_bytecode, sys.pycache_prefix, webapp.__file__)")
    child = run.run_child([sys.executable, "-c", program], run.child_env())
    assert child.status == 0, child.stderr
    flag, prefix, package = child.stdout.split()
    assert (flag, prefix) == ("0", str(run.PYCACHE))
    assert Path(package).parent.parent == SCRIPT.parent.parent  # this checkout's package


def test_cost_per_pod_takes_off_the_start_measured_beside_each_size() -> None:
    # Under a load that changes during the run, one start for every size would skew
    # the small sizes most: here each size's work is exactly its parse.
    run = load_run()
    points = [
        run.Measurement(
            file=f"curve/{pods}.yaml", scenario="curve", generator="hard", pods=pods,
            policies=pods // 5, format="yaml", input_mib=1.0, floor_file="f.yaml",
            floor_seconds=floor, analyze_seconds=start + floor, peak_mib=1.0,
            document_mib=1.0, nodes=1, groups=1, flows=0, pairs=0, start_seconds=start,
        )
        for pods, floor, start in ((1000, 0.5, 0.9), (20000, 10.0, 0.2))
    ]
    result = run.Run(scale=1.0, seed=1, command=[], load_before=(0.0, 0.0, 0.0),
                     startup_seconds=0.2, measurements=points)
    (figure,) = run.per_pod_curve(result)
    assert figure.passed and figure.value == "1.00x", figure
    assert [round(p["ratio"], 2) for p in result.curve] == [1.0, 1.0]
