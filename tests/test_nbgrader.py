"""The real nbgrader round trip: release → submitted → autograde → feedback → export, and make grade agrees."""
import hashlib
import html
import json
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


EXPECTED = {  # the points each submission must earn per check, from the table alone
    "reference": {check.id: check.points if runnable(check) else 0 for check in CHECKS},
    "untouched": {check.id: 0 for check in CHECKS},
    "onebug": {check.id: check.points if runnable(check) and check.id not in FAILS else 0 for check in CHECKS},
    "forger": {check.id: 0 for check in CHECKS},
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


def submit(course):
    """Four students: the reference, the untouched release, one bug (with noise), and one whose notebook
    implements nothing but would forge its verdicts and leave a mark if any of its cells ran."""
    release, source = course / "release" / "ch3", course / "source" / "ch3"
    for student in ("reference", "untouched", "onebug", "forger"):
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


@pytest.fixture(scope="module")
def autograded(released, fashion_mnist):
    """The course after ``make autograde`` of the four submissions; with the command's output."""
    course = released / "course"
    submit(course)
    run = subprocess.run([sys.executable, "-m", "grader.release.autograde", "--course", str(course)], cwd=ROOT,
                         capture_output=True, text=True, timeout=1200)
    return course, run


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
    assert {check_id: verdict["points"] for check_id, verdict in verdicts.items()} == gradebook_points(course, student)


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
