"""One student's grading in a class run, whoever runs it: the local process pool or a Dask cluster.

The record of a grading, whether a saved record still stands on a re-run, and how a finished report
folder replaces the old one are the same for every way of running the gradings, so a cluster run and
a local run of the same class give the same gradebook and resume by the same rules.
"""
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..report import VERDICTS, verdicts
from ..seeds import official_seed
from ..table import STUBS
from . import gradebook
from .gradebook import ERROR, GRADED, TIMEOUT, Record

STUDENT_REPORT = "student"   # the folder, in a student's report folder, of the report they may receive


@dataclass
class Job:
    """One student's grading: the folder passed to the grader, its report folder and its process."""

    student: str
    folder: Path
    out: Path                   # the student's report folder, replaced only once a grading has ended
    work: Path                  # where the grader writes until then
    process: subprocess.Popen = None
    fingerprint: str = ""
    started: float = 0.0
    stopped: float = 0.0        # when SIGTERM was sent; 0 while it runs freely
    timed_out: bool = False


def settings_of(args):
    """What a record must have been graded with to be kept on a re-run."""
    return {"seed": "official" if args.seed is None else args.seed, "device": args.device, "timeout": args.timeout}


def is_done(record, folder, settings):
    """Whether a saved record still stands: same content, same settings, and a timeout not since raised."""
    if record is None or record.status not in gradebook.FINAL or record.fingerprint != gradebook.fingerprint(folder):
        return False
    old = record.settings or {}
    if any(old.get(key) != settings[key] for key in ("seed", "device")):
        return False
    return record.status != TIMEOUT or settings["timeout"] <= old.get("timeout", 0)


def seed_of(job, args):
    """The seed of a student's grading: their own secret one, or the one given for everyone."""
    return official_seed(job.student, job.folder) if args.seed is None else args.seed


def outcome(job, settings, code, seconds):
    """The record of a grading that ended with exit status ``code``: its scores, or why it has none."""
    base = dict(student=job.student, seconds=round(seconds, 2), fingerprint=job.fingerprint, settings=settings)
    if job.timed_out:
        return Record(status=TIMEOUT, note=f"stopped at the time limit of {settings['timeout']:g} s", **base)
    try:
        found = verdicts.read(job.work / VERDICTS)
    except ValueError:
        return Record(status=ERROR, note=f"the grader exited with status {code} without verdicts; see "
                                         f"{job.out / 'grader.log'}", **base)
    if code == 0 and not found.error:
        return Record(status=GRADED, scores=found.points_by_stub(STUBS), total=found.score, max=found.max_score,
                      checks={check_id: verdict["points"] for check_id, verdict in found.checks.items()}, **base)
    return Record(status=ERROR, note=found.error[:300] or f"the grader exited with status {code}", **base)


def publish(job, record):
    """Save the record, then put the finished report folder in place of the old one (removed only afterwards)."""
    gradebook.save(record, job.work)
    old = job.out.parent.parent / ".old" / job.student
    shutil.rmtree(old, ignore_errors=True)
    for folder in (old.parent, job.out.parent):
        folder.mkdir(parents=True, exist_ok=True)
    if job.out.exists():
        os.replace(job.out, old)
    os.replace(job.work, job.out)
    shutil.rmtree(old, ignore_errors=True)


class Stop:
    """Turns Ctrl-C, SIGTERM and SIGHUP into a request to stop; a second one means at once."""

    def __init__(self):
        self.count = 0
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, self._handle)

    def _handle(self, _number, _frame):
        self.count += 1
