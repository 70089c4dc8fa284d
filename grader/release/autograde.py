"""``make autograde``: grade every changed submission under submitted/, then nbgrader's autograde, feedback and export.

Three steps. (1) The kit's isolated grading (``isolated``) of every submission whose content changed
since its last grading, ``--jobs`` at a time, each under ``--timeout`` seconds, with a progress bar.
(2) ``nbgrader autograde --force`` and ``generate_feedback --force`` for those students only (and
for any that nbgrader has not finished), one nbgrader process at a time: the gradebook is SQLite.
The kit's preprocessor reuses the gradings of step 1, so no submission is graded twice. (3)
``nbgrader export`` writes grades.csv. A re-run grades only what changed; ``--force`` grades everyone.
nbgrader's output goes to the course's nbgrader.log, never to the screen unless a step fails.

Afterwards every test cell's score in the gradebook is compared with the verdict of the isolated
grading of the same submission (reports/ASSIGNMENT/STUDENT/verdicts.json): a mismatch means the
notebook's cells did not report those verdicts faithfully, and the isolated grader's points are the
ones to trust.
"""
import argparse
import collections
import contextlib
import glob
import json
import re
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..files import write_atomic
from ..notebook import CELL_IDS
from ..report.text import fmt
from ..results import Status
from . import isolated
from .nbgrader_cli import stream
from .notebooks import ASSIGNMENT

ROOT = Path(__file__).resolve().parents[2]
LOG = "nbgrader.log"
AUTOGRADED = "autograded.json"   # in a report folder: nbgrader autograded that grading and gave its feedback
TAIL = 40                        # lines of a failed nbgrader step shown on the screen
STEP_DONE = re.compile(r"\| INFO\] Setting destination file permissions")
ERROR_AT = re.compile(r"\| ERROR\] There was an error processing assignment: (?P<path>.+)$")
STEP_FAILED = re.compile(r"There was an error processing assignment '[^']*' for student '(?P<student>[^']*)'")
REGRADED, RESCORED, UNCHANGED = "regraded", "rescored", "unchanged"


class AutogradeError(Exception):
    """The course cannot be autograded now; the message says why and what to do."""


@dataclass(frozen=True)
class Course:
    """A released nbgrader course, its paths as nbgrader's own configuration lays them out."""

    root: Path
    dirs: object               # nbgrader's CourseDirectory, configured like `nbgrader autograde` in the course
    assignment: str = ASSIGNMENT

    def path(self, step, student):
        return Path(self.dirs.format_path(step, student, self.assignment))

    def submitted(self, student):
        return self.path(self.dirs.submitted_directory, student)

    def report(self, student):
        return isolated.report_dir(self.root, self.assignment, student)

    @property
    def log(self):
        return self.root / LOG

    def student_of(self, path):
        """The student whose submitted folder is ``path`` (the path itself when it is none)."""
        pattern = self.dirs.format_path(re.escape(self.dirs.submitted_directory), "(?P<student>[^/]+)",
                                        re.escape(self.assignment), escape=True)
        found = re.match(pattern + "$", str(path))
        return found["student"] if found else str(path)

    @property
    def excluded(self):
        """Students the course's own configuration leaves out (CourseDirectory.student_id_exclude)."""
        return {name for name in self.dirs.student_id_exclude.split(",") if name}


@dataclass(frozen=True)
class Graded:
    """One student's submission: nbgrader's score, the isolated grader's, and where they differ."""

    student: str
    score: float               # None when nbgrader has no grade for it
    max_score: float
    isolated: float
    isolated_max: float
    mismatches: tuple          # (check id, nbgrader's points, the isolated grader's points)
    not_run: tuple             # checks that could not run on this machine (a GPU check without a GPU)
    status: str = isolated.GRADED   # how the isolated grading ended
    run: str = UNCHANGED       # what this run did: REGRADED, RESCORED (nbgrader only) or UNCHANGED


@contextlib.contextmanager
def logged_warnings(log):
    """Python warnings raised meanwhile (nbgrader's, SQLAlchemy's) go to ``log``, not to the screen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            if caught:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.writelines(f"{warnings.formatwarning(w.message, w.category, w.filename, w.lineno)}"
                                      for w in caught)


def load(root, assignment=ASSIGNMENT):
    """The course in ``root`` with nbgrader's configuration of it, loaded as nbgrader loads it (so the kit's
    settings, the release's language among them, apply here too); AutogradeError when it cannot be graded."""
    root = Path(root).resolve()
    config_file = root / "nbgrader_config.py"
    if not config_file.is_file() or not (root / "gradebook.db").is_file():
        raise AutogradeError(f"{root} is not a released course: run `make release` first")
    with logged_warnings(root / LOG):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config.loader import PyFileConfigLoader
        try:
            config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
        except (Exception, SystemExit) as error:
            raise AutogradeError(f"{config_file} cannot be loaded: {error}") from None
        named = config.Autograde.get("autograde_preprocessors", [])
        if not any(getattr(p, "__qualname__", str(p)).rsplit(".", 1)[-1] == "IsolatedVerdicts" for p in named):
            raise AutogradeError(f"{config_file} does not give nbgrader the kit's preprocessors (an older kit wrote "
                                 "it, or it does not load kit_config.py), so nbgrader would run students' cells in "
                                 "a kernel: run `make release` (submissions and grades are kept)")
        if "root" not in config.CourseDirectory:
            config.CourseDirectory.root = str(root)
        return Course(root, CourseDirectory(config=config), assignment)


def students(course):
    """Students with a submission of the assignment under submitted/, less those the configuration leaves out."""
    found = glob.glob(course.dirs.format_path(course.dirs.submitted_directory, "*", course.assignment))
    return sorted({course.student_of(path) for path in found if Path(path).is_dir()} - course.excluded)


def isolated_verdicts(course, student):
    """The verdicts of the isolated grading of a submission ({} when there are none)."""
    from ..report import VERDICTS, verdicts
    try:
        return verdicts.read(course.report(student) / VERDICTS).checks
    except ValueError:
        return {}


def in_gradebook(course):
    """The students with a submission of the assignment in nbgrader's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    with logged_warnings(course.log), Gradebook(course.dirs.db_url, course.dirs.course_id) as gradebook:
        try:
            return {submission.student_id for submission in gradebook.find_assignment(course.assignment).submissions}
        except MissingEntry:
            return set()


def cross_check(course, names, stamps=None, runs=None):
    """Compare each test cell's score in the gradebook with the isolated grader's verdict."""
    from nbgrader.api import Gradebook, MissingEntry
    stamps, runs, graded = stamps or {}, runs or {}, []
    with logged_warnings(course.log), Gradebook(course.dirs.db_url, course.dirs.course_id) as gradebook:
        for student in names:
            verdicts = isolated_verdicts(course, student)
            status = (stamps.get(student) or {}).get("status", isolated.GRADED)
            total = (sum(float(v.get("points", 0)) for v in verdicts.values()),
                     sum(float(v.get("max_points", 0)) for v in verdicts.values()))
            try:
                submission = gradebook.find_submission(course.assignment, student)
            except MissingEntry:
                graded.append(Graded(student, None, None, *total, (), (), status, runs.get(student, UNCHANGED)))
                continue
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
            graded.append(Graded(student, submission.score, submission.max_score, *total, tuple(mismatches),
                                 tuple(not_run), status, runs.get(student, UNCHANGED)))
    return graded


def summary(course, graded, stamps=None, nbgrader_failed=None):
    """The lines ``make autograde`` ends with: one per student, what could not be graded, where the outputs are."""
    stamps, nbgrader_failed = stamps or {}, nbgrader_failed or {}
    lines = [f"{'student':<20} {'nbgrader':>12} {'isolated grader':>16}  {'this run':<9}  cross-check"]
    for row in graded:
        check = "ok" if not row.mismatches else "MISMATCH: " + "; ".join(
            f"{check_id} {fmt(got)} in nbgrader, {fmt(expected)} isolated"
            for check_id, got, expected in row.mismatches)
        score = "-" if row.score is None else f"{fmt(row.score)} / {fmt(row.max_score)}"
        score = "failed" if row.student in nbgrader_failed else score
        mine = row.status if row.status != isolated.GRADED else f"{fmt(row.isolated)} / {fmt(row.isolated_max)}"
        check = "no nbgrader grade" if row.score is None else check
        lines.append(f"{row.student:<20} {score:>12} {mine:>16}  {row.run:<9}  {check}")
    not_run = sorted({check for row in graded for check in row.not_run}, key=lambda check: check.id)
    if not_run:
        lost = sum(check.points for check in not_run)
        full = max(row.max_score for row in graded if row.score is not None)
        lines.append(f"Not runnable on this machine, so worth 0 for everyone here: {', '.join(c.id for c in not_run)} "
                     f"({lost} points; full marks here are {fmt(full - lost)} / {fmt(full)}).")
    if any(row.mismatches for row in graded):
        lines.append("A mismatch means the notebook's kernel did not report the isolated verdicts faithfully "
                     "(a crash, or code that tampered with them): trust the isolated grader's points.")
    if any(row.run == RESCORED for row in graded):
        lines.append(f"{RESCORED}: nbgrader graded it again from its kept isolated grading (the release changed, "
                     "or nbgrader had not finished it).")
    failed = [row for row in graded if row.status != isolated.GRADED]
    if failed:
        lines.append("Not graded by the isolated grader, so 0 in nbgrader (the student's result, not a grading of "
                     "the answers):")
        lines += [f"  {row.status}: {row.student}: {(stamps.get(row.student) or {}).get('note', '')}; see "
                  f"{course.report(row.student) / 'grader.log'}" for row in failed]
    for student, (step, why) in sorted(nbgrader_failed.items()):
        lines.append(f"nbgrader {step} failed for {student}{': ' + why[:200] if why else ''}; see {course.log}")
    lines += [f"Grades (CSV):        {course.root / 'grades.csv'}",
              f"Feedback (HTML):     {course.root / 'feedback'}/STUDENT/{course.assignment}/*.html",
              f"Grader reports:      {course.root / isolated.REPORTS / course.assignment}/STUDENT/report.html",
              f"nbgrader's output:   {course.log}"]
    return lines


def release_digest(course):
    """The digest of the assignment's source folder: a new release makes nbgrader grade everyone again."""
    return isolated.digest(course.path(course.dirs.source_directory, "."))


def autograded_mark(course, student):
    """What nbgrader last autograded and gave feedback on for ``student`` (None when unknown)."""
    with contextlib.suppress(OSError, ValueError):
        return json.loads((course.report(student) / AUTOGRADED).read_text(encoding="utf-8"))
    return None


def nbgrader_done(course, student, stamp, release, present):
    """Whether nbgrader's autograde and feedback of the student's current grading are in place."""
    return (stamp is not None and autograded_mark(course, student) == {"key": stamp["key"], "release": release}
            and student in present and course.path(course.dirs.autograded_directory, student).is_dir()
            and course.path(course.dirs.feedback_directory, student).is_dir())


def for_students(course, step, names, everyone):
    """The arguments of ``nbgrader STEP`` (autograde, generate_feedback) for ``names`` of ``everyone``."""
    left_out = sorted((set(everyone) - set(names)) | course.excluded)
    return [step, course.assignment, "--force",
            *([f"--CourseDirectory.student_id_exclude={','.join(left_out)}"] if left_out else [])]


class StepOutput:
    """What an nbgrader step's output tells as it comes: the students done, those it failed on with the last line
    of each one's traceback, and its last lines."""

    def __init__(self, student_of):
        self.student_of, self.done, self.failed, self.why = student_of, 0, {}, {}
        self.tail, self._at = collections.deque(maxlen=TAIL), None

    def read(self, line):
        self.tail.append(line)
        error = ERROR_AT.search(line)
        if error:
            self._at, self.done = self.student_of(error["path"].strip()), self.done + 1
            self.why[self._at] = ""
        elif line.startswith("["):
            self._at = self._at if "] Traceback" in line else None
            self.done += bool(STEP_DONE.search(line))
            failed = STEP_FAILED.search(line)
            if failed:
                self.failed[failed["student"]] = self.why.get(failed["student"], "")
        elif self._at is not None and line.strip():
            self.why[self._at] = line.strip()


def run_step(course, args, total, show):
    """``nbgrader ARGS``, its output appended to the log, a progress bar counting ``total`` students done; (exit
    status, the output read)."""
    from tqdm import tqdm
    output = StepOutput(course.student_of)
    with open(course.log, "a", encoding="utf-8") as log, \
            tqdm(total=total, desc=f"nbgrader {args[0]}", unit="student", file=sys.stderr, disable=not show,
                 dynamic_ncols=True) as bar:
        log.write(f"\n$ nbgrader {' '.join(args)}   # {time.strftime('%Y-%m-%d %H:%M:%S')}\n")

        def on_line(line):
            log.write(line)
            output.read(line)
            bar.update(min(output.done, total) - bar.n)
        code = stream(course.root, *args, on_line=on_line)
    return code, output


def step_failure(course, step, code, output):
    """What a failed nbgrader step shows: the end of its output, and where all of it is."""
    return (f"{output.rstrip()}\nerror: nbgrader {step} failed (exit status {code}); above are the last lines of its "
            f"output, all of it is in {course.log}")


def parse(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="python -m grader.release.autograde", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=ROOT / "course", help="the nbgrader course folder")
    parser.add_argument("--jobs", type=int, default=0, help="submissions graded at once (default: the CPU cores)")
    parser.add_argument("--timeout", type=float, default=600, help="wall-clock limit per submission, in seconds")
    parser.add_argument("--force", action="store_true", help="grade everyone again, changed or not")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser.parse_args(argv)


def reason(stamp, key, args):
    """Why a submission is graded again."""
    if args.force:
        return "forced"
    if stamp is None:
        return "new"
    return "changed" if stamp["key"] != key else "timed out at a lower limit"


def grade_changed(course, names, args):
    """Step 1: the isolated grading of every submission that changed since its last one; (the stamp of each
    student, the students graded now, the students left ungraded by a stop)."""
    from tqdm import tqdm
    jobs = [isolated.task(course.root, course.assignment, student, course.submitted(student)) for student in names]
    stamps = {job.student: isolated.read_stamp(job.out) for job in jobs}
    why = {job.student: reason(stamps[job.student], job.key, args) for job in jobs
           if args.force or not isolated.stands(stamps[job.student], job.key, args.timeout)}
    todo = [job for job in jobs if job.student in why]
    if not todo:
        return stamps, [], []
    reasons = ", ".join(f"{count} {reason}" for reason, count in collections.Counter(why.values()).items())
    kept = f"; {len(jobs) - len(todo)} unchanged, kept" if len(todo) < len(jobs) else ""
    print(f"Isolated grading of {len(todo)} of {len(names)} submissions ({reasons}{kept}), {args.jobs} at a time, "
          f"at most {args.timeout:g} s each", flush=True)
    counts = collections.Counter()
    with tqdm(total=len(todo), desc="grading", unit="submission", file=sys.stderr, disable=args.no_progress,
              dynamic_ncols=True) as bar:
        def done(job, stamp):
            stamps[job.student] = stamp
            counts[stamp["status"]] += 1
            bar.set_postfix_str(f"{counts[isolated.TIMEOUT]} timed out, {counts[isolated.ERROR]} grader errors",
                                refresh=False)
            bar.update()
        interrupted = isolated.grade_all(todo, args.jobs, args.timeout, done)
    return stamps, [job.student for job in todo if job.student not in interrupted], interrupted


def autograde(course, names, todo, stamps, release, show):
    """Steps 2 and 3: nbgrader's autograde and feedback for ``todo``, then export; (the students nbgrader failed
    on, each with its step and why; the message of a step that failed as a whole, or "")."""
    failed = {}
    for step in ("autograde", "generate_feedback"):
        names_now = [student for student in todo if student not in failed]
        if not names_now:
            break
        print(f"nbgrader {step} {course.assignment}: {len(names_now)} student{'s' * (len(names_now) != 1)}", flush=True)
        code, output = run_step(course, for_students(course, step, names_now, names), len(names_now), show)
        failed.update({student: (step, why) for student, why in output.failed.items() if student in names_now})
        if code and not output.failed:
            return failed, step_failure(course, step, code, "".join(output.tail))
    for student in todo:
        if student not in failed:
            write_atomic(course.report(student) / AUTOGRADED,
                         json.dumps({"key": stamps[student]["key"], "release": release}) + "\n")
    print(f"nbgrader export: {course.root / 'grades.csv'}", flush=True)
    code, output = run_step(course, ["export"], 0, show=False)
    return failed, step_failure(course, "export", code, "".join(output.tail)) if code else ""


def main(argv=None):
    """Command line of ``make autograde``."""
    from ..classroom.batch import cores
    args = parse(argv)
    args.jobs = args.jobs if args.jobs > 0 else cores()
    started = time.monotonic()
    try:
        course = load(args.course)
        names = students(course)
    except AutogradeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not names:
        print(f"error: nothing to grade: copy each student's notebooks into {course.submitted('STUDENT')}/ first",
              file=sys.stderr)
        return 2
    stamps, regraded, interrupted = grade_changed(course, names, args)
    if interrupted:
        print(f"Stopped before {len(interrupted)} submissions were graded; nbgrader did not run. The same command "
              "resumes (finished gradings are kept).", file=sys.stderr)
        return 130
    release, present = release_digest(course), in_gradebook(course)
    todo = [student for student in names if args.force or student in regraded
            or not nbgrader_done(course, student, stamps[student], release, present)]
    failed, error = {}, ""
    if todo and not regraded:
        print(f"Isolated grading: all {len(names)} submissions unchanged since their last grading, kept", flush=True)
    if todo:
        failed, error = autograde(course, names, todo, stamps, release, not args.no_progress)
    else:
        print(f"Nothing changed since the last autograde: 0 regraded, {len(names)} unchanged (FORCE=1 regrades "
              "everyone).", flush=True)
    if error:
        print(error, file=sys.stderr)
        return 1
    runs = {student: REGRADED if student in regraded else RESCORED for student in todo}
    graded = cross_check(course, names, stamps, runs)
    print("\n".join(summary(course, graded, stamps, failed)))
    count = collections.Counter(row.run for row in graded)
    parts = [f"{count[REGRADED]} regraded", f"{count[UNCHANGED]} unchanged"]
    parts += [f"{count[RESCORED]} rescored"] * bool(count[RESCORED])
    parts += [f"{len(failed)} failed in nbgrader"] * bool(failed)
    ungraded = sum(row.status != isolated.GRADED for row in graded)
    parts += [f"{ungraded} not graded by the isolated grader"] * bool(ungraded)
    at_once = f" ({args.jobs} at a time)" if regraded else ""
    print(f"{', '.join(parts)}; {time.monotonic() - started:.1f} s{at_once}.")
    return 1 if failed or any(row.mismatches for row in graded) else 0


if __name__ == "__main__":
    sys.exit(main())
