"""The real nbgrader round trip: release → submitted → autograde → feedback → export, and make grade agrees."""
import csv
import hashlib
import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from corpus_softmax import BUGS

from grader.notebook import CELL_IDS, source_of
from grader.table import CHECKS

ROOT = Path(__file__).resolve().parent.parent
BUG = next(bug for bug in BUGS if bug.check_id == "softmax/keepdim")   # a hidden check, with public ones failing too
FAILS = (*BUG.fails, "train_ch3/convergence-scratch")   # training from scratch uses the student's softmax
NOISE = ("    for X, y in train_iter:\n", "    for X, y in tqdm.tqdm(train_iter):\n        y = torch.tensor(y)\n")
FORGE = """
import json as _json, os as _os
_path = _os.environ.get("D2L_KIT_VERDICTS")
if _path:   # a kernel that ran this cell could rewrite the verdicts the test cells report
    _data = _json.load(open(_path))
    for _verdict in _data["checks"].values():
        _verdict.update(status="passed", points=_verdict["max_points"])
    _json.dump(_data, open(_path, "w"))
try:
    open("MARKER", "w").write("a cell of this notebook ran")
except OSError:
    pass
"""
pytestmark = [pytest.mark.data, pytest.mark.nbgrader]


def runnable(check):
    return "cuda" not in check.needs or torch.cuda.is_available()


CELLS = [check for check in CHECKS if runnable(check)]   # the GPU check has a cell only where a GPU is (optional)
EXPECTED = {  # the points each submission must earn per check, from the table alone
    "reference": {check.id: check.points for check in CELLS},
    "untouched": {check.id: 0 for check in CELLS},
    "onebug": {check.id: check.points if check.id not in FAILS else 0 for check in CELLS},
    "forger": {check.id: 0 for check in CELLS},
}


def answered(release, source, change=lambda stub, text: text):
    """A release notebook with each answer cell filled from the source notebook, then ``change``d."""
    notebook, answers = json.loads(release.read_text()), {
        cell["metadata"]["nbgrader"]["grade_id"]: source_of(cell) for cell in json.loads(source.read_text())["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")}
    for cell in notebook["cells"]:
        stub = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if stub in answers:
            cell["source"] = change(stub, answers[stub])
    return json.dumps(notebook)


def one_bug(stub, text):
    """The softmax bug, plus a tqdm bar and a torch warning in train_epoch_ch3, which must cost nothing."""
    if stub == BUG.module:
        assert text.count(BUG.old) == 1
        return text.replace(BUG.old, BUG.new)
    if stub == "train_ch3":
        assert text.count(NOISE[0]) == 1
        return "import tqdm\n" + text.replace(*NOISE)
    return text


def submit(course, students=tuple(EXPECTED)):
    """Four students: the reference, the untouched release, one bug (with noise), and one whose notebook
    implements nothing but would forge its verdicts and leave a mark if any of its cells ran."""
    release, source = course / "release" / "ch3", course / "source" / "ch3"
    for student in students:
        folder = course / "submitted" / student / "ch3"
        folder.mkdir(parents=True)
        for path in release.glob("*.ipynb"):
            if student in ("reference", "onebug"):
                text = answered(path, source / path.name, one_bug if student == "onebug" else lambda stub, text: text)
            else:
                text = path.read_text()
            if student == "forger":
                notebook = json.loads(text)
                cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
                cell["source"] = source_of(cell) + FORGE.replace("MARKER", str(course / "a-cell-ran"))
                text = json.dumps(notebook)
            (folder / path.name).write_text(text)


def tree_digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def make_autograde(course, *options):
    """``make autograde`` of ``course``: the finished run."""
    return subprocess.run(["make", "-s", "autograde", f"COURSE={course}", *options], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200, env=dict(os.environ, MAKEFLAGS=""))


@pytest.fixture(scope="module")
def pristine(released, tmp_path_factory):
    """A copy of the released course before anything was submitted to it."""
    copy = tmp_path_factory.mktemp("pristine") / "course"
    shutil.copytree(released / "course", copy)
    return copy


@pytest.fixture(scope="module")
def autograded(released, pristine, fashion_mnist):
    """The course after ``make autograde JOBS=1`` of the four submissions; with the command's output."""
    course = released / "course"
    submit(course)
    return course, make_autograde(course, "JOBS=1")


def gradebook_points(course, student):
    """Each check's points in nbgrader's gradebook for one student."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "d2l-linear") as gradebook:
        submission = gradebook.find_submission("ch3", student)
        return {CELL_IDS[grade.name].id: grade.score for notebook in submission.notebooks for grade in notebook.grades}


def test_autograde_gives_full_marks_zero_and_partial_credit_and_runs_no_cell(autograded):
    course, run = autograded
    assert run.returncode == 0, run.stdout + run.stderr
    for student, expected in EXPECTED.items():
        assert gradebook_points(course, student) == expected, student
    rows = {line.split()[0]: line for line in run.stdout.splitlines() if line.split()[:1] in (
        [name] for name in EXPECTED)}
    assert all(rows[student].endswith(" ok") for student in EXPECTED), rows
    assert not (course / "a-cell-ran").exists()   # no cell of the forger's notebook ran, in a kernel or elsewhere
    verdicts = json.loads((course / "reports" / "ch3" / "forger" / "verdicts.json").read_text())
    assert verdicts["score"] == 0 and verdicts["seed"] != 0   # the official grading used a secret seed
    csv = (course / "grades.csv").read_text()
    assert str(course / "grades.csv") in run.stdout and all(student in csv for student in EXPECTED)


def test_feedback_shows_the_failed_checks_hints_and_never_a_hidden_test(autograded):
    course, _ = autograded
    page = (course / "feedback" / "onebug" / "ch3" / "softmax_regression.html").read_text()
    for check_id in BUG.fails:
        hint = next(check.hint for check in CHECKS if check.id == check_id)
        assert html.escape(hint, quote=False) in page or hint in page, check_id
    for path in (course / "feedback").rglob("*.html"):
        text = path.read_text()
        assert not [check.id for check in CHECKS if check.hidden and check.id in text], path
        assert "BEGIN HIDDEN TESTS" not in text, path


def test_warnings_and_a_progress_bar_in_student_code_cost_no_points_and_no_cell_is_executed(autograded):
    course, _ = autograded
    notebook = json.loads((course / "autograded" / "onebug" / "ch3" / "softmax_regression.ipynb").read_text())
    outputs = {cell["id"]: cell.get("outputs", []) for cell in notebook["cells"]}
    assert outputs["try-it"] == [] and all(cell.get("execution_count") is None for cell in notebook["cells"]
                                           if cell["cell_type"] == "code")
    train_cells = [cell_id for cell_id, check in CELL_IDS.items()
                   if check.stub == "train_ch3" and runnable(check) and check.id not in FAILS]
    assert all(gradebook_points(course, "onebug")[CELL_IDS[c].id] == CELL_IDS[c].points for c in train_cells)
    assert not [c for c in train_cells if any(out.get("name") == "stderr" for out in outputs[c])]


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_make_grade_on_the_notebooks_gives_the_points_of_nbgrader(autograded, student, tmp_path):
    course, _ = autograded
    seed = json.loads((course / "reports" / "ch3" / student / "verdicts.json").read_text())["seed"]
    run = subprocess.run([sys.executable, "-m", "grader", str(course / "submitted" / student / "ch3"),
                          "--out", str(tmp_path), "--color", "never", "--seed", str(seed)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    verdicts = json.loads((tmp_path / "verdicts.json").read_text())["checks"]
    celled = {check.id for check in CELLS}   # without a GPU, the GPU check has no cell: 0 of 0 in make grade
    assert {check_id: verdict["points"] for check_id, verdict in verdicts.items() if check_id in celled} == \
        gradebook_points(course, student)
    assert all(verdict["max_points"] == 0 for check_id, verdict in verdicts.items() if check_id not in celled)


def test_a_single_notebook_grades_its_own_stubs(autograded, tmp_path):
    course, _ = autograded
    notebook = course / "submitted" / "reference" / "ch3" / "linear_regression.ipynb"
    run = subprocess.run([sys.executable, "-m", "grader", str(notebook), "--out", str(tmp_path), "--color", "never"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp_path / "results.json").read_text())
    stubs = {"synthetic_data", "data_iter", "squared_loss", "sgd"}
    assert run.returncode == 0 and results["score"] == results["max_score"] == sum(
        check.points for check in CHECKS if check.stub in stubs)


def test_rerunning_the_release_touches_no_submission_and_no_grade(autograded):
    course, _ = autograded
    before = {name: tree_digest(course / name) for name in ("submitted", "autograded", "feedback")}
    run = subprocess.run([sys.executable, "-m", "grader.release", "--student", str(course.parent / "dist" / "student"),
                          "--course", str(course)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {name: tree_digest(course / name) for name in before} == before


def test_a_perfect_submission_earns_full_marks_in_grades_csv_whatever_the_machine(autograded):
    import csv
    course, _ = autograded
    rows = {row["student_id"]: row for row in csv.DictReader((course / "grades.csv").open())}
    perfect = rows["reference"]
    assert float(perfect["score"]) == float(perfect["max_score"]) == sum(check.points for check in CELLS)
    assert float(perfect["max_score"]) == (100 if torch.cuda.is_available() else 95)   # optional: no GPU, no cell


PARALLEL = ("reference", "onebug", "untouched")   # the students of a second course, graded two at a time
QUIET = ("WARNING", "Warning", "checksum", "Traceback", "[AutogradeApp", "[GenerateFeedbackApp")   # nbgrader's noise


def grades(course, students):
    """Each student's row of grades.csv and points per check in the gradebook."""
    with open(course / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    return {student: (rows[student], gradebook_points(course, student)) for student in students}


def written(course):
    """The modification time of every file that an autograde writes, by path."""
    files = [path for name in ("reports", "autograded", "feedback") for path in (course / name).rglob("*")]
    files += [course / "grades.csv", course / "gradebook.db"]
    return {str(path.relative_to(course)): path.stat().st_mtime_ns for path in files if path.is_file()}


def row_of(run, student):
    return next(line for line in run.stdout.splitlines() if line.split()[:1] == [student])


def with_squared_loss(course, student):
    """The student resubmits linear_regression.ipynb with squared_loss answered (from the source notebook)."""
    path = course / "submitted" / student / "ch3" / "linear_regression.ipynb"
    notebook, source = json.loads(path.read_text()), json.loads((course / "source" / "ch3" / path.name).read_text())
    answer = next(source_of(cell) for cell in source["cells"] if cell["metadata"].get("nbgrader", {}).get(
        "grade_id") == "squared_loss")
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "squared_loss":
            cell["source"] = answer
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def parallel(pristine, tmp_path_factory, fashion_mnist):
    """A second course with three of the students: ``make autograde JOBS=2``, then again with nothing changed, then
    after one student's resubmission, then a plain ``nbgrader autograde`` of a changed submission. Each step's
    run (or nbgrader's output), grades and file times, in that order."""
    from grader.release.nbgrader_cli import nbgrader
    course = tmp_path_factory.mktemp("parallel") / "course"
    shutil.copytree(pristine, course)
    submit(course, PARALLEL)
    steps = {}
    for step in ("first", "again", "resubmitted"):
        if step == "resubmitted":
            with_squared_loss(course, "untouched")
        steps[step] = make_autograde(course, "JOBS=2"), grades(course, PARALLEL), written(course)
    (course / "submitted" / "untouched" / "ch3" / "notes.txt").write_text("a late note\n")
    plain = nbgrader(course, "autograde", "ch3", "--force", "--student", "untouched")
    steps["plain"] = plain, grades(course, ["untouched"]) if plain.returncode == 0 else None, written(course)
    return course, steps


def test_autograde_two_at_a_time_gives_the_grades_of_one_at_a_time(autograded, parallel):
    course, run = autograded
    assert run.returncode == 0, run.stdout + run.stderr
    first, graded, _ = parallel[1]["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Isolated grading of 3 of 3 submissions (3 new), 2 at a time" in first.stdout
    assert "3 regraded, 0 unchanged" in first.stdout and "(2 at a time)" in first.stdout
    assert all(row_of(first, student).endswith(" regraded   ok") for student in PARALLEL), first.stdout
    assert graded == grades(course, PARALLEL)   # grades.csv rows and every cell's points in the gradebook
    assert {student: points for student, (_, points) in graded.items()} == {s: EXPECTED[s] for s in PARALLEL}


def test_autograde_grades_each_submission_once_and_shows_a_bar_not_nbgraders_output(parallel):
    course, steps = parallel
    first = steps["first"][0]
    assert "grading: 100%" in first.stderr and "3/3" in first.stderr and "nbgrader autograde: 100%" in first.stderr
    assert not [word for word in QUIET if word in first.stdout + first.stderr], first.stdout + first.stderr
    log = (course / "nbgrader.log").read_text()
    assert "checksum" in log and "SAWarning" in log   # nbgrader's noise is kept, in the log
    for student in PARALLEL:   # nbgrader used the gradings made two at a time instead of grading again
        assert f"isolated grading of {course / 'submitted' / student / 'ch3'}" in log
    assert "with the kit's isolated grader into" not in log


def test_a_rerun_with_nothing_changed_regrades_nothing_and_says_so(parallel):
    _, steps = parallel
    (_, graded, times), (again, regraded, retimes) = steps["first"], steps["again"]
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing changed since the last autograde: 0 regraded, 3 unchanged" in again.stdout
    assert "nbgrader autograde" not in again.stdout and "grading:" not in again.stderr
    assert all(row_of(again, student).endswith(" unchanged  ok") for student in PARALLEL), again.stdout
    assert retimes == times and regraded == graded   # not a file rewritten: reports, notebooks, feedback, grades


def test_a_resubmission_regrades_that_student_only(parallel):
    _, steps = parallel
    (_, graded, times), (run, regraded, retimes) = steps["again"], steps["resubmitted"]
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Isolated grading of 1 of 3 submissions (1 changed; 2 unchanged, kept)" in run.stdout
    assert "nbgrader autograde ch3: 1 student\n" in run.stdout and "1 regraded, 2 unchanged" in run.stdout
    assert row_of(run, "untouched").endswith(" regraded   ok")
    assert all(row_of(run, student).endswith(" unchanged  ok") for student in ("reference", "onebug"))
    for student in ("reference", "onebug"):
        assert regraded[student] == graded[student]
        assert {path: time for path, time in retimes.items() if f"/{student}/" in path} == {
            path: time for path, time in times.items() if f"/{student}/" in path}
    assert regraded["untouched"][1] == {check.id: check.points if check.stub == "squared_loss" else 0
                                        for check in CELLS}
    assert retimes["reports/ch3/untouched/verdicts.json"] != times["reports/ch3/untouched/verdicts.json"]


def test_nbgrader_on_its_own_grades_a_changed_submission_with_its_official_seed(parallel):
    from grader.seeds import official_seed
    course, steps = parallel
    plain, graded, _ = steps["plain"]
    assert plain.returncode == 0, plain.stdout
    assert f"Grading {course / 'submitted' / 'untouched' / 'ch3'} with the kit's isolated grader" in plain.stdout
    verdicts = json.loads((course / "reports" / "ch3" / "untouched" / "verdicts.json").read_text())
    assert verdicts["seed"] == official_seed("ch3/untouched", course / "submitted" / "untouched" / "ch3")
    assert graded["untouched"][1] == steps["resubmitted"][1]["untouched"][1]
