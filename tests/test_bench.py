"""make bench in its quick mode: every measurement runs, the table and results.json say what was measured."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEASURED = ("startup", "book", "convergence", "grade_reference", "grade_stubs", "class_1_jobs")


@pytest.mark.data
@pytest.mark.slow
def test_make_bench_quick_measures_everything_and_judges_every_target(fashion_mnist, tmp_path):
    out = tmp_path / "results.json"
    run = subprocess.run(["make", "-s", "bench", "QUICK=1", f"BENCH_OUT={out}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=1500, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    summary = results["summary"]
    assert set(MEASURED) <= set(summary) and results["mode"] == "quick"
    for name, runs in results["runs"].items():
        assert len(runs) == summary[name]["reps"] >= 1
        for key, stats in summary[name].items():
            if key != "reps":
                assert stats["min"] <= stats["median"] <= stats["max"], (name, key)
        assert all(run["seconds"] > 0 and run["peak_pss_mib"] > 0 and run["max_rss_mib"] > 0 for run in runs), name
    for name in ("book", "convergence"):
        assert 0.6 < summary[name]["accuracy"]["median"] < 1, name  # one epoch already learns
    assert summary["class_1_jobs"]["per_minute"]["median"] > 0
    assert len(results["targets"]) >= 4 and all(isinstance(target["met"], bool) for target in results["targets"])
    for label in ("book pipeline", "grader convergence check", "make grade: reference solutions",
                  "make grade: untouched stubs", "grade-all", "Targets:", "Memory:"):
        assert label in run.stdout, label
    assert run.stdout.count("] ") >= len(results["targets"])
