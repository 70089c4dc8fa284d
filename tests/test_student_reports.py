"""The report a student may receive from class grading: the same points, no hidden input, no sandbox details, and
with hidden_checks = "counts" nothing that names what a hidden check checks."""
import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import messages
from grader.table import CHECKS

ROOT = Path(__file__).resolve().parent.parent
KEEPDIM = ("X_exp / X_exp.sum(dim=1, keepdim=True)", "X_exp / X_exp.sum(dim=1)")
HIDDEN = [check for check in CHECKS if check.hidden and check.stub == "softmax"]


@pytest.fixture(scope="module", params=["titles", "counts"])
def graded(request, tmp_path_factory):
    """A softmax without keepdim graded with --student-out under one hidden_checks setting."""
    where = tmp_path_factory.mktemp(request.param)
    shutil.copytree(ROOT / "solutions", where / "sub", ignore=shutil.ignore_patterns("__pycache__"))
    path = where / "sub" / "softmax.py"
    path.write_text(path.read_text().replace(*KEEPDIM))
    (where / "course.toml").write_text(f'hidden_checks = "{request.param}"\n')
    run = subprocess.run([sys.executable, "-m", "grader", str(where / "sub"), "--out", str(where / "full"),
                          "--student-out", str(where / "student"), "--only", "softmax", "--color", "never"],
                         cwd=ROOT, env={**os.environ, "D2L_KIT_COURSE": str(where / "course.toml")},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return request.param, where


def read(folder):
    return {name: (folder / name).read_text(encoding="utf-8") for name in ("report.md", "report.html")}


def test_the_students_report_has_the_same_total_but_no_hidden_input_and_no_sandbox(graded):
    _, where = graded
    full, student = read(where / "full"), read(where / "student")
    total = next(line for line in full["report.md"].splitlines() if "/ 15" in line)
    assert total in student["report.md"]
    assert "with a 5x5 batch X = [" in full["report.md"]   # the hidden check's evidence: its square input
    assert "5x5" not in student["report.md"] and "5x5" not in student["report.html"]
    assert "worker limits" in full["report.html"] and "worker limits" not in student["report.html"]


def test_counts_only_never_names_a_hidden_check(graded):
    setting, where = graded
    student = read(where / "student")
    for check in HIDDEN:
        named = check.id in student["report.md"] or messages.text(f"check.{check.id}.title") in student["report.md"]
        assert named == (setting == "titles"), (setting, check.id)
    if setting == "counts":
        assert "softmax/hidden-" in student["report.md"]
        assert html.escape(messages.text("report.hidden.withheld")) in student["report.html"]
