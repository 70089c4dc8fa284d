"""make bench-cluster: what a class costs on a Dask cluster, measured here, and the wall time it implies.

Three figures, each the median of its repetitions: the core-seconds of grading one correct submission
(the CPU time of the grader's whole process tree, workers and sandbox included, read from a control
group of its own); the scheduler's overhead per task on a local Dask cluster (empty tasks through the
same submit-and-wait path as a class run); and a small class graded by the local pool and by the
local cluster, whose difference per submission is what the cluster costs in a real run. The capacity
plan then gives the wall time of 1 000, 10 000 and 100 000 submissions on N cores.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from grader import child
from grader.classroom import cluster, remote

from .measure import python_command, scratch_folder

ROOT = Path(__file__).resolve().parent.parent
CGROUPS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/cpu,cpuacct"), Path("/sys/fs/cgroup"))
CLASS_SIZES = (1_000, 10_000, 100_000)
CORES = (2, 16, 64, 256, 1024)


def cpu_group():
    """A fresh control group that counts CPU time, and how to read it; None where none can be made."""
    for base in CGROUPS:
        usage = "cpuacct.usage" if (base / "cpuacct.usage").exists() else "cpu.stat"
        if not (base / usage).exists():
            continue
        group = base / f"d2l-bench-{os.getpid()}"
        try:
            group.mkdir()
        except OSError:
            continue
        return group, usage
    return None


def cpu_seconds(group, usage):
    """The CPU seconds the group's processes used so far."""
    text = (group / usage).read_text()
    if usage == "cpuacct.usage":
        return int(text) / 1e9
    return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


def core_seconds_of_grading(work, reps):
    """Wall seconds and core-seconds of grading the reference solutions, each a list over ``reps`` runs."""
    found, walls, cpus = cpu_group(), [], []
    for rep in range(reps):
        command = child.command(ROOT / "solutions", work / f"grade-{rep}", device="cpu", seed=0, threads=1)
        enter = (lambda: (found[0] / "cgroup.procs").write_text(str(os.getpid()))) if found else None
        before = cpu_seconds(*found) if found else _children_cpu()
        started = time.monotonic()
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       preexec_fn=enter)
        walls.append(time.monotonic() - started)
        cpus.append((cpu_seconds(*found) if found else _children_cpu()) - before)
    if found:
        found[0].rmdir()
    return walls, cpus, "control group" if found else "wait4 of the grader (a lower bound: it misses sandboxed workers)"


def _children_cpu():
    usage = os.times()
    return usage.children_user + usage.children_system


def scheduler_overhead(tasks, workers):
    """Seconds to start a local cluster whose workers are ready to grade, and seconds per empty task: one at a
    time (latency) and ``tasks`` at once on ``workers`` workers (throughput)."""
    distributed, started = cluster.dask(), time.monotonic()
    with cluster.connect(cluster.LOCAL, workers) as client:
        client.run(remote.environment_problem)
        start_up = time.monotonic() - started
        latencies = []
        for index in range(min(tasks, 50)):
            started = time.monotonic()
            client.submit(len, [index], pure=False).result()
            latencies.append(time.monotonic() - started)
        started = time.monotonic()
        distributed.wait([client.submit(len, [index], pure=False) for index in range(tasks)])
        throughput = (time.monotonic() - started) / tasks
    return start_up, statistics.median(latencies), throughput


def class_run(work, size, jobs, runner):
    """Wall seconds of grading a class of ``size`` correct submissions with the local pool or the local cluster."""
    if not (work / "class").exists():
        for index in range(size):
            shutil.copytree(ROOT / "solutions", work / "class" / f"student{index:03d}",
                            ignore=shutil.ignore_patterns("__pycache__"))
    extra = ["--cluster", "local"] if runner == "cluster" else []
    command = python_command("-m", "grader.classroom.batch", work / "class", "--out", work / f"out-{runner}",
                             "--jobs", jobs, "--force", "--no-progress", "--device", "cpu", *extra)
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    written = sum(path.stat().st_size for path in (work / f"out-{runner}").rglob("*") if path.is_file())
    return seconds, written / size


def plan(core_seconds, overhead):
    """{class size: {cores: wall hours}} for gradings that keep every core busy, each costing its core-seconds
    and the cluster's measured overhead per submission."""
    return {size: {cores: round(size * (core_seconds + overhead) / cores / 3600, 2) for cores in CORES}
            for size in CLASS_SIZES}


def report(figures):
    """The figures and the capacity plan as text."""
    lines = [f"one correct submission: {figures['grading_wall']:.1f} s wall, {figures['core_seconds']:.1f} "
             f"core-seconds ({figures['cpu_source']}); a bare `import torch` took {figures['import_torch']:.2f} s",
             f"local Dask cluster: {figures['start_up']:.1f} s to start {figures['jobs']} workers ready to grade; "
             f"an empty task {figures['latency'] * 1000:.1f} ms round trip, "
             f"{figures['throughput'] * 1000:.2f} ms each with {figures['jobs']} workers busy",
             f"a class of {figures['class_size']} correct submissions, {figures['jobs']} at a time: "
             f"local pool {figures['pool']:.1f} s, local Dask cluster {figures['cluster']:.1f} s; "
             f"{figures['per_task']:+.2f} core-seconds per submission once the cluster's start is taken off; "
             f"{figures['report_kib']:.0f} KiB of reports written per submission",
             "capacity plan (hours of wall time with every core grading):",
             "  submissions " + "".join(f"{cores:>9} cores" for cores in CORES)]
    for size, row in figures["plan"].items():
        lines.append(f"  {size:>11,} " + "".join(f"{row[cores]:>15.2f}" for cores in CORES))
    return "\n".join(lines)


def import_torch_seconds(reps):
    """The median wall time of a bare ``python -c "import torch"``."""
    times = []
    for _ in range(reps):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repetition and a class of 2")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "cluster.json")
    args = parser.parse_args(argv)
    reps, size, jobs = (1, 2, 2) if args.quick else (3, 8, 2)
    work = scratch_folder("d2l-bench-cluster-")
    try:
        walls, cpus, source = core_seconds_of_grading(work, reps)
        start_up, latency, throughput = scheduler_overhead(50 if args.quick else 500, jobs)
        pools = [class_run(work, size, jobs, "pool") for _ in range(reps)]
        clusters = [class_run(work, size, jobs, "cluster") for _ in range(reps)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures = {"grading_wall": statistics.median(walls), "core_seconds": statistics.median(cpus), "cpu_source": source,
               "import_torch": import_torch_seconds(reps), "start_up": start_up, "latency": latency,
               "throughput": throughput, "jobs": jobs, "class_size": size,
               "pool": statistics.median(seconds for seconds, _ in pools),
               "cluster": statistics.median(seconds for seconds, _ in clusters),
               "report_kib": statistics.median(written for _, written in clusters) / 1024, "reps": reps,
               "cores": os.cpu_count(),
               "load_average_at_start": os.getloadavg()[0]}
    figures["per_task"] = (figures["cluster"] - figures["pool"] - start_up) * jobs / size
    figures["plan"] = plan(figures["core_seconds"], max(figures["per_task"], figures["throughput"]))
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
