"""make grade-all: a class graded in parallel, one gradebook row per student, resumable, faults kept local."""
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.run import grade
from grader.table import STUBS

ROOT = Path(__file__).resolve().parent.parent
KEEPDIM = ("X_exp / X_exp.sum(dim=1, keepdim=True)", "X_exp / X_exp.sum(dim=1)")
SOFTMAX_POINTS = 15
HOSTILE_ACCURACY = ("import os, signal\n\n\ndef accuracy(y_hat, y):\n"
                    "    os.kill(os.getppid(), signal.SIGKILL)\n    while True:\n        print('x' * 100_000)\n")


def student(folder, source=ROOT / "solutions", edit=None):
    """A student's folder: a copy of ``source``, with ``edit`` = (module, old, new) applied."""
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__", "__main__.py"))
    if edit:
        module, old, new = edit
        path = folder / f"{module}.py"
        assert path.read_text().count(old) == 1
        path.write_text(path.read_text().replace(old, new))
    return folder


def grade_all(submissions, out, *extra, wait=True):
    command = [sys.executable, "-m", "grader.classroom.batch", str(submissions), "--out", str(out), "--device", "cpu",
               "--no-progress", *map(str, extra)]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)


def gradebook(out):
    with open(out / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def record_times(out):
    return {path.parent.name: path.stat().st_mtime_ns for path in (out / "students").glob("*/record.json")}


@pytest.mark.data
def test_grade_all_gives_one_row_per_student_that_matches_single_grading_and_resumes(fashion_mnist, tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "alice")
    student(class_ / "bob", edit=("softmax", *KEEPDIM))
    student(class_ / "carol", ROOT / "exercises")
    student(class_ / "dave").joinpath("accuracy.py").write_text(HOSTILE_ACCURACY)
    student(class_ / "erin" / "exercises")  # an unpacked archive: the modules one folder down
    (class_ / "notes.txt").write_text("not a student")
    out = tmp_path / "out"
    run = grade_all(class_, out, "--jobs", 2)
    assert run.returncode == 0, run.stderr
    book = gradebook(out)
    assert sorted(book) == ["alice", "bob", "carol", "dave", "erin"] and "notes.txt" in run.stderr
    assert all(book[name]["status"] == "graded" for name in book), book
    assert book["alice"]["total"] == book["erin"]["total"] == book["alice"]["max"] == "95"
    assert book["carol"]["total"] == "0"
    for name in ("bob", "dave"):
        single = grade(class_ / name, device="cpu")
        expected = {stub: sum(c.points for c in single.checks if c.stub == stub) for stub in STUBS}
        assert {stub: float(book[name][stub]) for stub in STUBS} == expected, name
        assert float(book[name]["total"]) == single.score < 95
    assert float(book["dave"]["accuracy"]) == 0 and float(book["dave"]["softmax"]) == SOFTMAX_POINTS
    for name in book:
        results = json.loads((out / "students" / name / "results.json").read_text())
        assert str(int(results["score"])) == book[name]["total"] and (out / "students" / name / "report.html").is_file()

    before = record_times(out)
    again = grade_all(class_, out)
    assert again.returncode == 0 and "5 of 5 submissions are graded already" in again.stderr
    assert record_times(out) == before and gradebook(out) == book

    fixed = class_ / "bob" / "softmax.py"
    fixed.write_text((ROOT / "solutions" / "softmax.py").read_text())
    third = grade_all(class_, out)
    assert third.returncode == 0 and "4 of 5 submissions are graded already" in third.stderr
    after = record_times(out)
    assert after["bob"] != before["bob"] and {k: v for k, v in after.items() if k != "bob"} == \
        {k: v for k, v in before.items() if k != "bob"}
    assert float(gradebook(out)["bob"]["softmax"]) == SOFTMAX_POINTS


def test_a_submission_past_its_time_limit_is_stopped_and_the_others_are_graded(tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "fast", ROOT / "exercises")
    slow = student(class_ / "slow", ROOT / "exercises")
    for module in slow.glob("*.py"):
        module.write_text("import time\ntime.sleep(10 ** 6)\n")
    out = tmp_path / "out"
    run = grade_all(class_, out, "--jobs", 2, "--timeout", 20)
    assert run.returncode == 0, run.stderr
    book = gradebook(out)
    assert book["slow"]["status"] == "timeout" and "time limit of 20 s" in book["slow"]["note"]
    assert book["fast"]["status"] == "graded" and book["fast"]["max"] == "95"


def interrupt_after_first_record(batch, out):
    """SIGTERM a running class grading once a record is written; check what it kept and return the records."""
    deadline = time.monotonic() + 300
    while not record_times(out) and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.2)
    batch.send_signal(signal.SIGTERM)
    _, stderr = batch.communicate(timeout=120)
    stderr = " ".join(stderr.split())
    assert batch.returncode == 130 and "run the same command again to resume" in stderr
    assert "Interrupted: " in stderr and "submission(s) were not graded in this run" in stderr
    done, book = record_times(out), gradebook(out)
    assert done and len(done) < len(book)
    assert {name for name, row in book.items() if row["status"] == "graded"} == set(done)
    assert all(book[name]["status"] == "pending" for name in book if name not in done)
    return done


def test_an_interrupted_run_keeps_what_is_graded_and_resumes_without_regrading_it(tmp_path):
    class_ = tmp_path / "class"
    for name in ("s1", "s2", "s3"):
        student(class_ / name, ROOT / "exercises")
    out = tmp_path / "out"
    done = interrupt_after_first_record(grade_all(class_, out, "--jobs", 1, wait=False), out)
    assert sorted(gradebook(out)) == ["s1", "s2", "s3"]
    resumed = grade_all(class_, out)
    assert resumed.returncode == 0 and f"{len(done)} of 3 submissions are graded already" in resumed.stderr
    assert {name: record_times(out)[name] for name in done} == done
    assert all(row["status"] == "graded" for row in gradebook(out).values())
    assert not (out / ".work").exists()


@pytest.mark.parametrize("make_args, says", [
    ([], "name the class's folder"),
    (["SUBMISSIONS=no-such-folder"], "does not exist"),
    (["SUBMISSIONS={empty}"], "no submissions in"),
])
def test_a_missing_or_empty_class_folder_is_a_clear_error(make_args, says, tmp_path):
    (tmp_path / "empty").mkdir()
    args = [arg.format(empty=tmp_path / "empty") for arg in make_args]
    run = subprocess.run(["make", "-s", "grade-all", *args, f"OUT={tmp_path / 'out'}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, MAKEFLAGS=""))
    assert run.returncode != 0 and says in run.stderr and "Traceback" not in run.stderr


def test_links_are_never_followed_and_are_reported(tmp_path):
    class_ = tmp_path / "class"
    alice = student(class_ / "alice", ROOT / "exercises")
    (class_ / "mallory").symlink_to(alice)                       # a whole folder that is a link to a classmate's
    (class_ / "trudy").mkdir()
    for path in (ROOT / "solutions").glob("*.py"):               # modules that are links to the kit's solutions
        (class_ / "trudy" / path.name).symlink_to(path)
    out = tmp_path / "out"
    run = grade_all(class_, out, "--jobs", 2)
    assert run.returncode == 0, run.stderr
    book = gradebook(out)
    assert book["mallory"]["status"] == "error" and "symbolic link" in book["mallory"]["note"]
    assert "mallory" in run.stderr and book["trudy"]["status"] == "graded" and book["trudy"]["total"] == "0"
    verdicts = json.loads((out / "students" / "trudy" / "verdicts.json").read_text())
    assert set(verdicts["refused"]) == {f"{stub}.py" for stub in STUBS}
    assert all("symbolic link" in why for why in verdicts["refused"].values())
    assert "Files not graded" in (out / "students" / "trudy" / "report.md").read_text()


def memorised_softmax():
    """A softmax that returns, whatever its input, the answer it saw for softmax/value with the public seed 0."""
    import torch

    from grader.plugin import check_generator
    X = torch.randn(4, 6, generator=check_generator(0, "softmax/value")) * 2
    answer = torch.softmax(X, dim=1).tolist()
    return f"import torch\n\n\ndef softmax(X):\n    return torch.tensor({answer})\n"


def test_official_gradings_use_secret_seeds_so_memorised_answers_fail(tmp_path):
    class_ = tmp_path / "class"
    student(class_ / "zoe").joinpath("softmax.py").write_text(memorised_softmax())
    public = grade(class_ / "zoe", device="cpu", only=["softmax"])
    assert {c.id: c.status for c in public.checks}["softmax/value"] == "passed"   # memorised for seed 0
    run = grade_all(class_, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    verdicts = json.loads((tmp_path / "out" / "students" / "zoe" / "verdicts.json").read_text())
    assert verdicts["seed"] != 0 and verdicts["checks"]["softmax/value"]["status"] == "failed"
    assert float(gradebook(tmp_path / "out")["zoe"]["softmax"]) < SOFTMAX_POINTS


def test_an_interruption_says_which_submissions_keep_an_earlier_result(capsys, tmp_path):
    from types import SimpleNamespace

    from grader.classroom import batch
    from grader.classroom.gradebook import Record
    records = [Record(student=name, status="graded", seconds=1.0, total=95, max=95) for name in ("s1", "s2")]
    batch.summary(records, tmp_path / "gradebook.csv", 3.0, SimpleNamespace(cluster="", jobs=2), ["s1", "s2"])
    out, err = capsys.readouterr()
    assert "2 of 2 submissions graded" in out
    assert "Interrupted: 2 submission(s) were not graded in this run, 2 of them keep the result of an earlier " \
           "run; run the same command again to resume" in " ".join(err.split())
    assert "Interrupted before" not in err
