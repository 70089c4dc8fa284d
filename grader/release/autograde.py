"""``make autograde``: nbgrader autograde, generate_feedback and export for everything under submitted/.

Afterwards every test cell's score in the gradebook is compared with the verdict of the kit's
isolated grading of the same submission (reports/ASSIGNMENT/STUDENT/verdicts.json). The test cells
report those verdicts from inside the student's kernel, where code in an answer cell could tamper
with them; a mismatch is named in the summary, and the isolated grader's points are the ones to trust.
"""
import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..notebook import CELL_IDS
from ..report import VERDICTS, verdicts
from ..report.text import fmt
from ..results import Status
from .nbgrader_cli import nbgrader
from .notebooks import ASSIGNMENT, COURSE_ID

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Graded:
    """One student's submission: nbgrader's score, the isolated grader's, and where they differ."""

    student: str
    score: float
    max_score: float
    isolated: float
    isolated_max: float
    mismatches: tuple   # (check id, nbgrader's points, the isolated grader's points)
    not_run: tuple      # checks that could not run on this machine (a GPU check without a GPU)


def students(course, assignment=ASSIGNMENT):
    """Students with a submission of ``assignment`` under submitted/."""
    return sorted(path.parent.name for path in (Path(course) / "submitted").glob(f"*/{assignment}") if path.is_dir())


def isolated_verdicts(course, assignment, student):
    """The verdicts of the isolated grading of a submission ({} when it never ran)."""
    try:
        return verdicts.read(Path(course) / "reports" / assignment / student / VERDICTS).checks
    except ValueError:
        return {}


def cross_check(course, assignment, names):
    """Compare each test cell's score in the gradebook with the isolated grader's verdict."""
    from nbgrader.api import Gradebook, MissingEntry
    graded = []
    with Gradebook(f"sqlite:///{Path(course).resolve() / 'gradebook.db'}", COURSE_ID) as gradebook:
        for student in names:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                continue
            verdicts = isolated_verdicts(course, assignment, student)
            cells = [grade for notebook in submission.notebooks for grade in notebook.grades
                     if grade.name in CELL_IDS]
            mismatches, not_run = [], []
            for grade in cells:
                check = CELL_IDS[grade.name]
                verdict = verdicts.get(check.id, {})
                expected = float(verdict.get("points", 0.0))
                if verdict.get("status") == Status.NOT_RUN:
                    not_run.append(check)
                if abs(float(grade.score or 0.0) - expected) > 1e-6:
                    mismatches.append((check.id, float(grade.score or 0.0), expected))
            graded.append(Graded(student, submission.score, submission.max_score,
                                 sum(float(v.get("points", 0)) for v in verdicts.values()),
                                 sum(float(v.get("max_points", 0)) for v in verdicts.values()),
                                 tuple(mismatches), tuple(not_run)))
    return graded


def summary(course, assignment, graded):
    """The lines ``make autograde`` ends with: one per student, then where the outputs are."""
    course = Path(course)
    lines = [f"{'student':<20} {'nbgrader':>12} {'isolated grader':>16}  cross-check"]
    for row in graded:
        check = "ok" if not row.mismatches else "MISMATCH: " + "; ".join(
            f"{check_id} {fmt(got)} in nbgrader, {fmt(expected)} isolated"
            for check_id, got, expected in row.mismatches)
        lines.append(f"{row.student:<20} {fmt(row.score) + ' / ' + fmt(row.max_score):>12} "
                     f"{fmt(row.isolated) + ' / ' + fmt(row.isolated_max):>16}  {check}")
    not_run = sorted({check for row in graded for check in row.not_run}, key=lambda check: check.id)
    if not_run:
        lost = sum(check.points for check in not_run)
        lines.append(f"Not runnable on this machine, so worth 0 for everyone here: {', '.join(c.id for c in not_run)} "
                     f"({lost} points; full marks here are {100 - lost} / 100).")
    if any(row.mismatches for row in graded):
        lines.append("A mismatch means the notebook's kernel did not report the isolated verdicts faithfully "
                     "(a crash, or code that tampered with them): trust the isolated grader's points.")
    lines += [f"Grades (CSV):        {course / 'grades.csv'}",
              f"Feedback (HTML):     {course / 'feedback'}/STUDENT/{assignment}/*.html",
              f"Grader reports:      {course / 'reports' / assignment}/STUDENT/report.html"]
    return lines


def problem(course):
    """Why ``course`` cannot be autograded now, or "" when it can."""
    config = course / "nbgrader_config.py"
    if not config.is_file() or not (course / "gradebook.db").is_file():
        return f"{course} is not a released course: run `make release` first"
    if "from grader.release import nbhooks" not in config.read_text(encoding="utf-8"):
        return (f"{config} was written by an older version of the kit: run `make release` to regenerate it "
                "(submissions and grades are kept)")
    if not students(course):
        return f"nothing to grade: copy each student's notebooks into {course}/submitted/STUDENT/{ASSIGNMENT}/ first"
    return ""


def run_nbgrader(course, force):
    """nbgrader's autograde, generate_feedback and export, their output logged; the failed step's output or ""."""
    force, log = (["--force"] if force else []), course / "nbgrader.log"
    for step in (["autograde", ASSIGNMENT, *force], ["generate_feedback", ASSIGNMENT, *force], ["export"]):
        print(f"nbgrader {' '.join(step)}  (output in {log})", flush=True)
        run = nbgrader(course, *step)
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"$ nbgrader {' '.join(step)}\n{run.stdout}\n")
        if run.returncode:
            return f"{run.stdout}\nerror: nbgrader {step[0]} failed (its output is above)"
    return ""


def main(argv=None):
    """Command line of ``make autograde``."""
    parser = argparse.ArgumentParser(prog="python -m grader.release.autograde", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=ROOT / "course", help="the nbgrader course folder")
    parser.add_argument("--force", action="store_true", help="grade again what was graded before")
    args = parser.parse_args(argv)
    started, course = time.perf_counter(), args.course
    if problem(course):
        print(f"error: {problem(course)}", file=sys.stderr)
        return 2
    failed = run_nbgrader(course, args.force)
    if failed:
        print(failed, file=sys.stderr)
        return 1
    graded = cross_check(course, ASSIGNMENT, students(course))
    print("\n".join(summary(course, ASSIGNMENT, graded)))
    print(f"Graded {len(graded)} submission(s) in {time.perf_counter() - started:.1f} s.")
    return 1 if any(row.mismatches for row in graded) else 0


if __name__ == "__main__":
    sys.exit(main())
