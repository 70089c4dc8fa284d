"""make grade-all CLUSTER=...: Dask tasks give the local pool's gradebook, resume, and survive lost workers."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_batch import (
    HOSTILE_ACCURACY,
    KEEPDIM,
    grade_all,
    gradebook,
    interrupt_after_first_record,
    record_times,
    student,
)

from grader.classroom import cluster, remote
from grader.sandbox import procs

distributed = pytest.importorskip("distributed", reason="the cluster group is not installed (make test installs it)")

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.cluster


def rows(out):
    """The gradebook without the column that depends on the machine's speed."""
    book = gradebook(out)
    return {name: {key: value for key, value in row.items() if key != "seconds"} for name, row in book.items()}


def graders(under=""):
    """(PID, command line) of every grader process of the kit now running, on submissions under ``under``."""
    found = []
    for pid in procs.pids():
        try:
            line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if line[1:3] == [b"-m", b"grader"] and str(under).encode() in line[3]:
            found.append((pid, b" ".join(line).decode(errors="replace")))
    return found


def running(pid):
    """Whether ``pid`` still runs (an orphan that ended may stay a zombie until the machine's init reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_for_grader(pattern, under, timeout=240):
    """The PID of the grader whose command line matches ``pattern``, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid, line in graders(under):
            if re.search(pattern, line):
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no grader matching {pattern} started")


def hanging(folder):
    for module in folder.glob("*.py"):
        module.write_text("import time\ntime.sleep(10 ** 6)\n")
    return folder


@pytest.mark.data
def test_a_local_cluster_grades_correct_buggy_hostile_and_hanging_submissions_like_the_local_pool(
        fashion_mnist, tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "alice")
    student(class_ / "bob", edit=("softmax", *KEEPDIM))
    student(class_ / "dave").joinpath("accuracy.py").write_text(HOSTILE_ACCURACY)
    hanging(student(class_ / "hugo", ROOT / "exercises"))
    local = grade_all(class_, tmp_path / "pool", "--jobs", 2, "--timeout", 45)
    assert local.returncode == 0, local.stderr
    dask_run = grade_all(class_, tmp_path / "dask", "--jobs", 2, "--timeout", 45, "--cluster", "local")
    assert dask_run.returncode == 0, dask_run.stderr
    assert re.search(r"Dask scheduler tls://\S+, dashboard http://\S+/status", dask_run.stderr)
    assert "on the Dask cluster local" in dask_run.stdout
    book = rows(tmp_path / "dask")
    assert book == rows(tmp_path / "pool")
    assert book["alice"]["status"] == "graded" and book["alice"]["total"] == "95"
    assert book["bob"]["status"] == book["dave"]["status"] == "graded"
    assert float(book["bob"]["total"]) < 95 and float(book["dave"]["accuracy"]) == 0
    assert book["hugo"]["status"] == "timeout" and "time limit of 45 s" in book["hugo"]["note"]
    for name in book:
        assert (tmp_path / "dask" / "students" / name / "record.json").is_file()
    assert (tmp_path / "dask" / "students" / "alice" / "report.html").is_file()
    assert not (tmp_path / "dask" / ".work").exists() and not graders(tmp_path)


@pytest.mark.data
def test_a_killed_worker_regrades_its_submission_once_and_a_second_loss_is_an_error(fashion_mnist, tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "alice")
    student(class_ / "bob")
    out = tmp_path / "out"
    batch = grade_all(class_, out, "--jobs", 2, "--cluster", "local", wait=False)
    killed = []
    for who, attempt in (("alice", 1), ("bob", 1), ("bob", 2)):
        grader = wait_for_grader(rf"--out \S*/{who}/{attempt} ", class_)
        time.sleep(1)
        worker = procs.parent_of(grader)
        os.kill(worker, signal.SIGKILL)
        killed.append(grader)
    stdout, stderr = batch.communicate(timeout=600)
    assert batch.returncode == 0, stderr
    book = gradebook(out)
    assert book["alice"]["status"] == "graded" and book["alice"]["total"] == "95"
    assert book["bob"]["status"] == "error" and "worker grading it was lost 2 times" in book["bob"]["note"]
    assert "lost 2 times" in stdout
    deadline = time.monotonic() + 30       # the graders of the killed workers got SIGTERM and stop by themselves
    while any(map(running, killed)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(running, killed)) and not graders(tmp_path)


def test_an_interrupted_cluster_run_keeps_what_is_graded_resumes_on_either_runner_and_admits_no_stranger(tmp_path):
    class_ = tmp_path / "class"
    for name in ("s1", "s2", "s3"):
        student(class_ / name, ROOT / "exercises")
    out = tmp_path / "out"
    batch = grade_all(class_, out, "--jobs", 1, "--cluster", "local", wait=False)
    first = batch.stderr.readline()
    address = re.match(r"Dask scheduler (tls://\S+), dashboard http://\S+", first).group(1)
    with pytest.raises((OSError, TimeoutError)):       # credentials of its own: refused, no task handed over
        distributed.Client(address, security=distributed.Security.temporary(), timeout="3s")
    with pytest.raises((OSError, TimeoutError)):       # none at all
        distributed.Client(address.replace("tls://", "tcp://"), timeout="3s")
    done = interrupt_after_first_record(batch, out)
    assert sorted(gradebook(out)) == ["s1", "s2", "s3"] and not graders(tmp_path)
    resumed = grade_all(class_, out, "--cluster", "local", "--jobs", 1)
    assert resumed.returncode == 0 and f"{len(done)} of 3 submissions are graded already" in resumed.stderr
    assert {name: record_times(out)[name] for name in done} == done
    again = grade_all(class_, out)         # the local pool reads the cluster's records: nothing to do
    assert again.returncode == 0 and "3 of 3 submissions are graded already" in again.stderr
    assert all(row["status"] == "graded" and row["total"] == "0" for row in gradebook(out).values())
    assert not (out / ".work").exists()


def test_an_existing_scheduler_grades_by_its_address(tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "solo", ROOT / "exercises")
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--dashboard-address", ":0", "--scheduler-file",
                                  str(tmp_path / "scheduler.json")], cwd=ROOT, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "scheduler.json").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads((tmp_path / "scheduler.json").read_text())["address"]
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"],
                                  cwd=ROOT, stderr=subprocess.DEVNULL)
        run = grade_all(class_, tmp_path / "out", "--cluster", address)
        assert run.returncode == 0, run.stderr
        assert f"Dask scheduler {address}" in run.stderr
        assert gradebook(tmp_path / "out")["solo"]["status"] == "graded"
    finally:
        for process in (worker, scheduler):
            if process:
                process.terminate()
                process.wait(30)


def test_an_unreachable_scheduler_or_an_unknown_cluster_is_a_clear_error(tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "solo", ROOT / "exercises")
    for spec, says in (("tcp://127.0.0.1:9", "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
                       ("kubernetes", "unknown cluster 'kubernetes'")):
        run = grade_all(class_, tmp_path / "out", "--cluster", spec)
        assert run.returncode == 2 and says in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert gradebook(tmp_path / "out")["solo"]["status"] == "pending"


def test_a_worker_that_does_not_share_the_report_folder_says_so(tmp_path):
    result = remote.grade({"student": "x", "folder": str(tmp_path), "run": str(tmp_path / "elsewhere"), "seed": 0,
                           "device": "cpu", "timeout": 10})
    assert "must be on a file system that every worker shares" in result["problem"]


def test_the_slurm_job_script_comes_from_the_example_configuration():
    script = cluster.job_script(cluster.EXAMPLE)
    lines = script.splitlines()
    for directive in ("#SBATCH -p normal", "#SBATCH -A d2l-course", "#SBATCH --cpus-per-task=8", "#SBATCH -t 02:00:00"):
        assert directive in lines, directive
    assert any(re.fullmatch(r"#SBATCH --mem=1[56]G", line) for line in lines)
    start = lines.index(f"cd {ROOT}")
    assert lines[start + 1] == "make --quiet setup data"         # the environment and the data, in the job
    worker = lines[start + 2]
    assert worker.startswith(f"{sys.executable} -m distributed.cli.dask_worker tls://")
    assert "--nthreads 1" in worker and "--nworkers 8" in worker
    assert "--tls-cert OUT/.work/RUN/tls/" in worker and "--tls-key OUT/.work/RUN/tls/" in worker


@pytest.mark.parametrize("text, says", [
    (None, "no SLURM configuration at"),
    ("jobs: 2\nslurm: [1, 2]\n", "must hold `jobs:`"),
    ("jobz: 2\nslurm: {}\n", "must hold `jobs:`"),
    ("slurm: {queue: [\n", "is not readable YAML"),
])
def test_a_bad_slurm_configuration_is_a_clear_error(text, says, tmp_path):
    config = tmp_path / "cluster.yaml"
    if text is not None:
        config.write_text(text)
    run = subprocess.run(["make", "-s", "cluster-script", f"CLUSTER_CONFIG={config}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode != 0 and says in run.stderr and "Traceback" not in run.stderr, run.stderr


def test_dask_is_an_optional_group_that_the_default_environment_and_the_handout_do_not_install():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    default = " ".join(project["project"]["dependencies"] + project["dependency-groups"]["dev"])
    assert "dask" not in default and "distributed" not in default
    assert any(name.startswith("dask[distributed") for name in project["dependency-groups"]["cluster"])
    assert "--group cluster" not in (ROOT / "common.mk").read_text()
    assert "--group cluster" in (ROOT / "Makefile").read_text()


@pytest.mark.data
@pytest.mark.slow
def test_make_bench_cluster_quick_measures_each_figure_of_the_capacity_plan(fashion_mnist, tmp_path):
    out = tmp_path / "cluster.json"
    run = subprocess.run(["make", "-s", "bench-cluster", "QUICK=1", f"BENCH_OUT={out}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=900, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["cpu_source"] == "control group" or "lower bound" in figures["cpu_source"]
    assert figures["core_seconds"] > figures["import_torch"] > 0 and figures["grading_wall"] > 0
    assert 0 < figures["latency"] < 1 and 0 < figures["throughput"] < 1 and figures["start_up"] > 0
    assert figures["pool"] > 0 and figures["cluster"] > 0 and figures["report_kib"] > 10
    hours = figures["plan"]["10000"]
    assert hours["2"] > hours["16"] > hours["64"] and round(hours["2"] / hours["16"]) == 8
    assert "capacity plan" in run.stdout and "core-seconds" in run.stdout


def test_a_worker_without_the_data_stops_the_run_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "DATA_CHECK", "raise SystemExit('DatasetUnavailable: no Fashion-MNIST here')")
    remote.environment_problem.cache_clear()
    try:
        result = remote.grade({"student": "x", "folder": str(tmp_path), "run": str(tmp_path), "seed": 0,
                               "device": "cpu", "timeout": 10})
    finally:
        remote.environment_problem.cache_clear()
    assert "cannot load Fashion-MNIST (DatasetUnavailable: no Fashion-MNIST here)" in result["problem"]
    assert "`make data` where the workers run" in result["problem"] and not (tmp_path / "x").exists()


def test_make_grade_all_passes_the_cluster_on():
    run = subprocess.run(["make", "-n", "grade-all", "SUBMISSIONS=class", "CLUSTER=slurm", "CLUSTER_CONFIG=c.yaml"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode == 0 and "--cluster slurm --cluster-config c.yaml" in run.stdout
