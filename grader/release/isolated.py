"""The kit's isolated grading of nbgrader submissions, and the stamp that lets it run once per submission.

Each submission is graded by its own ``python -m grader`` process (its sandbox, its workers) with its
official seed, into the course's reports/ASSIGNMENT/STUDENT/. The grading is written into a folder of
its own, which replaces the old report only once the grading has ended; its last file is
``grading.json``, the stamp: what was graded (the digest of every file's path and bytes in the
submitted folder, the seed, the course settings that change verdicts) and how the grading ended
(graded, timeout or error). ``make autograde`` grades many submissions at once this way, before
nbgrader runs; the kit's nbgrader preprocessor then reuses every grading whose stamp matches the
submission, and grades itself only a submission that has none.
"""
import hashlib
import json
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .. import child, course
from ..cells import VERDICTS_ENV
from ..files import write_atomic
from ..report import VERDICTS, verdicts
from ..sandbox import procs
from ..seeds import official_seed

REPORTS = "reports"
STAMP = "grading.json"
GRADED, TIMEOUT, ERROR = "graded", "timeout", "error"
GRACE = 10.0     # seconds a stopped grader gets to remove its workers before it is killed
POLL = 0.1
SKIPPED = {"__pycache__"}


def report_dir(root, assignment, student):
    """Where the isolated grader's report of one submission goes in the course directory."""
    return Path(root) / REPORTS / assignment / student


def digest(folder):
    """The SHA-256 of the relative path and the bytes of every regular file under ``folder`` (never via a link)."""
    total, folder = hashlib.sha256(), Path(folder)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if SKIPPED.intersection(relative.parts) or path.is_symlink() or not path.is_file():
            continue
        one = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                one.update(block)
        total.update(relative.as_posix().encode("utf-8", "surrogateescape") + b"\0" + one.digest())
    return total.hexdigest()


def course_key():
    """The course settings that change a grading's verdicts: the GPU check's rule, and whether failed checks
    show the reference solution (true from the course's ``reference_after`` on)."""
    try:
        settings = course.load()
    except (course.CourseSettingsError, OSError) as error:
        return {"error": str(error)}
    return {"gpu": settings.gpu, "reference": settings.shows_reference()}


def key(assignment, student, submitted):
    """What a grading of the folder ``submitted`` depends on: its content, its official seed, the course's settings."""
    return {"digest": digest(submitted), "seed": official_seed(f"{assignment}/{student}", submitted),
            "course": course_key()}


def read_stamp(out):
    """The stamp of the grading in the report folder ``out``, or None."""
    try:
        stamp = json.loads((Path(out) / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and isinstance(stamp.get("key"), dict) else None


def stands(stamp, wanted, timeout):
    """Whether a saved grading still stands: the same key, and no timeout under a lower limit than ``timeout``."""
    if stamp is None or stamp.get("key") != wanted:
        return False
    if stamp.get("status") != TIMEOUT:
        return True
    limit = stamp.get("timeout")
    return limit is None or (timeout is not None and timeout <= limit)


def verdicts_of(out, stamp=None):
    """The verdicts of the grading in ``out`` as a dict; one whose error says why when there are none."""
    try:
        found = json.loads((Path(out) / VERDICTS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        why = (stamp or {}).get("note") or f"no readable {VERDICTS} ({error})"
        return {"error": f"the kit's grader left no verdicts: {why}"}
    return found if isinstance(found, dict) else {"error": f"the kit's grader left no verdicts in {out}"}


@dataclass
class Task:
    """One submission's isolated grading: the folder graded, its report folder, and the grader's process."""

    student: str
    submitted: Path
    out: Path
    key: dict
    process: object = None
    started: float = 0.0
    stopped: float = 0.0        # when SIGTERM was sent; 0 while the grader runs freely
    timed_out: bool = False

    @property
    def work(self):
        """Where the grader writes until it ends."""
        return self.out.with_name(f".{self.out.name}.grading")


def task(root, assignment, student, submitted):
    """The task of grading ``submitted``, the folder of ``student``'s ``assignment``."""
    submitted = Path(submitted)
    return Task(student, submitted, report_dir(root, assignment, student), key(assignment, student, submitted))


def start(job):
    """Start the grader on one submission, in a session of its own (a Ctrl-C reaches only its caller)."""
    shutil.rmtree(job.work, ignore_errors=True)
    job.work.mkdir(parents=True)
    env = {name: value for name, value in os.environ.items() if name != VERDICTS_ENV}
    with open(job.work / "grader.log", "wb") as log:
        job.process = child.start(job.submitted, job.work, log, env=env, seed=job.key["seed"])
    job.started = time.monotonic()


def finish(job, code, timeout):
    """Stamp a grading that ended with exit status ``code`` and put its report in place of the old one."""
    stamp = {"key": job.key, "status": GRADED, "note": "", "seconds": round(time.monotonic() - job.started, 1),
             "timeout": timeout, "finished": time.time()}
    stamp.update(_ending(job, code, timeout))
    if stamp["status"] == TIMEOUT:   # a stopped grading's verdicts are incomplete: they never count
        (job.work / VERDICTS).unlink(missing_ok=True)
    write_atomic(job.work / STAMP, json.dumps(stamp, indent=1) + "\n")
    old = job.out.with_name(f".{job.out.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    job.out.parent.mkdir(parents=True, exist_ok=True)
    if job.out.exists():
        os.replace(job.out, old)
    os.replace(job.work, job.out)
    shutil.rmtree(old, ignore_errors=True)
    return stamp


def _ending(job, code, timeout):
    """How a grading ended: its status, a note on what went wrong, and the score when it was graded."""
    if job.timed_out:
        return {"status": TIMEOUT, "note": f"stopped at the time limit of {timeout:g} s"}
    try:
        found = verdicts.read(job.work / VERDICTS)
    except ValueError:
        return {"status": ERROR, "note": f"the grader exited with status {code} without verdicts; see "
                                         f"{job.out / 'grader.log'}"}
    if code == 0 and not found.error:
        return {"score": found.score, "max_score": found.max_score}
    return {"status": ERROR, "note": " ".join(found.error.split())[:300] or f"the grader exited with status {code}"}


def grade(job):
    """Grade one submission and wait for it, with no time limit; its stamp."""
    start(job)
    try:
        code = job.process.wait()
    except BaseException:
        child.stop(job.process)
        shutil.rmtree(job.work, ignore_errors=True)
        raise
    return finish(job, code, None)


def grade_all(jobs, at_once, timeout, done=lambda job, stamp: None):
    """Grade every job, ``at_once`` at a time, each under ``timeout`` seconds; ``done`` is told of each stamp.
    Ctrl-C, SIGTERM and SIGHUP stop the run (a second one at once): finished gradings are kept, the others
    leave the old report in place. Returns the students whose grading was stopped or never started."""
    from ..classroom.jobs import Stop
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {number: signal.getsignal(number) for number in signals}
    pending, running, stopper, interrupted = list(jobs), [], Stop(), []
    try:
        while pending or running:
            while pending and len(running) < at_once and not stopper.count:
                running.append(pending.pop(0))
                start(running[-1])
            now = time.monotonic()
            for job in list(running):
                if job.process.poll() is not None:
                    running.remove(job)
                    if job.process.returncode != 0 and job.stopped and not job.timed_out:
                        shutil.rmtree(job.work, ignore_errors=True)
                        interrupted.append(job.student)
                    else:
                        done(job, finish(job, job.process.returncode, timeout))
                elif stopper.count > 1 or (job.stopped and now - job.stopped > GRACE):
                    procs.kill_tree(job.process.pid)
                elif not job.stopped and (stopper.count or now - job.started > timeout):
                    job.timed_out, job.stopped = not stopper.count, now
                    procs.send([job.process.pid], signal.SIGTERM)
            if stopper.count and not running:
                interrupted += [job.student for job in pending]
                break
            time.sleep(POLL)
    finally:
        for job in running:
            procs.kill_tree(job.process.pid)
            shutil.rmtree(job.work, ignore_errors=True)
        for number, handler in previous.items():
            signal.signal(number, handler)
    return interrupted
