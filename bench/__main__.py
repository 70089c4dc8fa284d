"""``make bench``: the book's pipeline against the grader, grading times, class throughput and memory.

Every measurement is a fresh process (its whole tree's memory is sampled), repeated; repetitions of
the different measurements are interleaved so that a burst of load elsewhere hits them alike.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from grader import child

from .measure import MEMORY_NOTE, measure, python_command, scratch_folder
from .report import targets, to_table

ROOT = Path(__file__).resolve().parent.parent
FULL = {"reps": 3, "epochs": 10, "warm_up": True}
QUICK = {"reps": 1, "epochs": 1, "warm_up": False}


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 1 repetition, 1 epoch, no warm-up (checks the bench, measures little)")
    parser.add_argument("--reps", type=int, default=0, help="repetitions of each measurement")
    parser.add_argument("--class-size", type=int, default=0,
                        help="correct submissions graded by grade-all (default: twice the cores, at least 4)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    return parser.parse_args(argv)


def cores():
    from grader.classroom.batch import cores as count
    return count()


def plan(config, work):
    """Every measurement as (name, command maker, parser of its output); the maker takes the repetition."""
    epochs, jobs = config["epochs"], cores()

    def grade(folder):
        return lambda rep: child.command(folder, work / "report", seed=rep)

    items = [
        ("startup", lambda rep: python_command("-c", "import torch"), None),
        ("book", lambda rep: python_command("-m", "bench.book", "--epochs", epochs, "--seed", rep), _json),
        ("convergence", lambda rep: python_command("-m", "bench.convergence", "--seed", rep), _json),
        ("grade_reference", grade(ROOT / "solutions"), None),
        ("grade_unsandboxed", lambda rep: ["env", "D2L_KIT_SANDBOX=none", *grade(ROOT / "solutions")(rep)], None),
        ("grade_stubs", grade(ROOT / "exercises"), None),
    ]
    for count in sorted({1, jobs}):
        items.append((f"class_{count}_jobs", _class_command(work, count), None))
    return items


def _class_command(work, jobs):
    return lambda rep: python_command("-m", "grader.classroom.batch", work / "class", "--out", work / f"class-{jobs}",
                                      "--jobs", jobs, "--force", "--no-progress")


def _json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def make_class(work, size):
    """A class of ``size`` copies of the reference solutions."""
    for index in range(size):
        shutil.copytree(ROOT / "solutions", work / "class" / f"student{index:03d}",
                        ignore=shutil.ignore_patterns("__pycache__"))


def run_all(config, work, class_size, log):
    """Measure every item ``reps`` times, interleaved; return {name: [run dict, ...]}."""
    make_class(work, class_size)
    items, runs = plan(config, work), {}
    if config["warm_up"]:
        log("warming up (one untimed grading of each folder)")
        for name, command, _ in items:
            if name.startswith("grade_"):
                measure(command(0), ROOT)
    for rep in range(config["reps"]):
        for name, command, parse_output in items:
            log(f"repetition {rep + 1}/{config['reps']}: {name}")
            run = measure(command(rep), ROOT)
            entry = {"seconds": run.seconds, "peak_pss_mib": run.peak_pss_mib, "max_rss_mib": run.max_rss_mib}
            if parse_output:
                entry.update(parse_output(run.stdout))
            if name.startswith("class_"):
                entry["per_minute"] = round(class_size / run.seconds * 60, 2)
            runs.setdefault(name, []).append(entry)
    return runs


def summarize(runs):
    """Median, minimum and maximum of every measured quantity of every item."""
    summary = {}
    for name, entries in runs.items():
        keys = [key for key in entries[0] if isinstance(entries[0][key], (int, float))]
        summary[name] = {key: {"median": statistics.median(entry[key] for entry in entries),
                               "min": min(entry[key] for entry in entries),
                               "max": max(entry[key] for entry in entries)} for key in keys}
        summary[name]["reps"] = len(entries)
    return summary


def machine():
    """Where the numbers were taken."""
    import torch
    return {"cores": cores(), "cpu": platform.processor() or platform.machine(), "python": platform.python_version(),
            "torch": torch.__version__, "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def main(argv=None):
    """Run the bench, print the table, write the JSON; 0 when every measurement ran."""
    args = parse(argv)
    config = dict(QUICK if args.quick else FULL)
    config["reps"] = args.reps or config["reps"]
    class_size = args.class_size or (cores() if args.quick else max(4, 2 * cores()))
    work = scratch_folder("d2l-bench-")

    def log(text):
        print(f"bench: {text}", file=sys.stderr, flush=True)

    try:
        results = {"mode": "quick" if args.quick else "full", "config": config, "class_size": class_size,
                   "machine": machine(), "memory": MEMORY_NOTE}
        results["runs"] = run_all(config, work, class_size, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["summary"] = summarize(results["runs"])
    results["targets"] = targets(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(to_table(results))
    print(f"\nResults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
