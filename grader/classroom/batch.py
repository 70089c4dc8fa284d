"""``python -m grader.classroom.batch SUBMISSIONS --out DIR``: grade a class in parallel, one folder per student.

Every submission is graded by its own ``python -m grader`` process (its own sandbox and process
tree) under a wall-clock limit. Each student's report folder gets a small record once grading
ends; the gradebook CSV is rebuilt from those records, so an interrupted run resumes where it
stopped and nothing already graded is graded again unless asked (``--force``).
"""
import argparse
import contextlib
import dataclasses
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from .. import child, course
from ..files import write_atomic
from ..sandbox import procs
from . import cluster, gradebook, intake, outputs, roster
from .gradebook import EMPTY, ERROR, FINAL, GRADED, MISSING, SKIPPED_PARTS, TIMEOUT, Record
from .jobs import STUDENT_REPORT, Job, Stop, is_done, outcome, publish, seed_of, settings_of

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("*.py", "*.ipynb")
GRACE = 10.0     # seconds a stopped grader gets to remove its workers before it is killed
POLL = 0.1


class BatchError(Exception):
    """The batch cannot start; the message says why and what to do."""


def parse(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(prog="python -m grader.classroom.batch", description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder with one subfolder per student")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "class",
                        help="where the gradebook and one report folder per student go")
    parser.add_argument("--jobs", type=int, default=0, help="submissions graded at once (default: the CPU cores)")
    parser.add_argument("--timeout", type=float, default=600, help="wall-clock limit per submission, in seconds")
    parser.add_argument("--force", action="store_true", help="regrade students that were graded already")
    parser.add_argument("--seed", type=int, default=None,
                        help="one seed for everyone (default: each submission's own secret seed, see grader.seeds)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--cluster", default="",
                        help="grade on a Dask cluster: local, slurm or a scheduler address tcp://host:8786")
    parser.add_argument("--cluster-config", type=Path, default=None,
                        help="the SLURM configuration (default: cluster.yaml in the kit's folder)")
    parser.add_argument("--roster", type=Path, default=None,
                        help="a CSV of the class (student_id, name, email, lms_id, ...): who each submission is")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def cores():
    """The CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def discover(submissions, out):
    """Every submission (intake.Submission, its folder the one to grade), sorted by student, and the entries
    that could not be used; a clear error when there is nothing to grade."""
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.exists():
        raise BatchError(f"the submissions folder {submissions} does not exist")
    if not submissions.is_dir():
        raise BatchError(f"{submissions} is not a folder: give the folder that holds one subfolder per student")
    if out == submissions or submissions in out.parents:
        raise BatchError(f"the report folder {out} must not be inside the submissions folder {submissions}")
    found, unusable = intake.collect(submissions, out / ".intake")
    if not found and not any(item.student for item in unusable):
        files = ", ".join(sorted(entry.name for entry in submissions.iterdir())[:5]) or "nothing"
        raise BatchError(f"no submissions in {submissions} (it holds {files}): expected one folder or archive per "
                         "student with that student's modules (synthetic_data.py, ...) or notebooks, or an LMS "
                         "download")
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "intake.csv", intake.to_csv(found, unusable))
    return [dataclasses.replace(item, folder=submission_root(item.folder)) for item in found], unusable


def _folder(path):
    """A folder itself, not a symbolic link to one (links are never followed: they could point anywhere)."""
    return path.is_dir() and not path.is_symlink()


def submission_root(folder):
    """The student's folder, or its only subfolder when the modules sit one level down (an unpacked archive)."""
    if any(any(folder.glob(pattern)) for pattern in SOURCES):
        return folder
    inner = [entry for entry in folder.iterdir() if _folder(entry) and not entry.name.startswith(".")
             and entry.name not in SKIPPED_PARTS]
    if len(inner) == 1 and any(any(inner[0].glob(pattern)) for pattern in SOURCES):
        return inner[0]
    return folder


def start(job, args):
    """Start the grader on one submission, in a session of its own (Ctrl-C reaches only the batch)."""
    shutil.rmtree(job.work, ignore_errors=True)
    job.work.mkdir(parents=True)
    job.fingerprint = gradebook.fingerprint(job.folder)
    with open(job.work / "grader.log", "wb") as log:
        job.process = child.start(job.folder, job.work, log, seed=seed_of(job, args), device=args.device, threads=1,
                                  student_out=job.work / STUDENT_REPORT)
    job.started = time.monotonic()


def stop(job):
    """Ask a grader to stop: it kills its workers, removes its scratch folder and exits."""
    if not job.stopped:
        job.stopped = time.monotonic()
        procs.send([job.process.pid], signal.SIGTERM)


def kill(job):
    """Kill a grader that did not stop in time, and every process under it."""
    procs.kill_tree(job.process.pid)


def run(jobs, args, progress):
    """Grade every job, ``args.jobs`` at a time; return the students whose grading was interrupted."""
    pending, running, stopper, interrupted = list(jobs), [], Stop(), []
    settings = settings_of(args)
    while pending or running:
        while pending and len(running) < args.jobs and not stopper.count:
            job = pending.pop(0)
            start(job, args)
            running.append(job)
        now = time.monotonic()
        for job in list(running):
            if job.process.poll() is not None:
                running.remove(job)
                if job.process.returncode != 0 and job.stopped and not job.timed_out:
                    interrupted.append(job.student)
                    continue
                record = outcome(job, settings, job.process.returncode, time.monotonic() - job.started)
                publish(job, record)
                progress(record)
            elif stopper.count > 1 or (job.stopped and now - job.stopped > GRACE):
                kill(job)
            elif stopper.count or now - job.started > args.timeout:
                job.timed_out = job.timed_out or not stopper.count
                stop(job)
        if stopper.count and not running:
            interrupted += [job.student for job in pending]
            break
        time.sleep(POLL)
    return interrupted


def rebuild(found, unusable, out, settings, students=None):
    """The gradebook and its LMS layouts from every student's record on disk (students without one show as
    pending); (its path, the rows, submissions the roster does not know, students the LMS layouts leave out)."""
    records = {item.student: gradebook.load(out / "students" / item.student)
               or Record(student=item.student, status="pending", seconds=0.0, note="not graded yet") for item in found}
    rows, unmatched, left_out = outputs.write(out, found, unusable, records, settings, students)
    return out / outputs.FILES["gradebook"], rows, unmatched, left_out


def main(argv=None):
    """Grade every student's folder, write the gradebook; 0 when every submission was graded."""
    args = parse(argv)
    args.jobs = args.jobs if args.jobs > 0 else cores()
    out = args.out = args.out.resolve()
    try:
        course_settings = course.load()
        students = roster.read(args.roster) if args.roster else None
        found, unusable = discover(args.submissions, out)
    except (BatchError, course.CourseSettingsError, roster.RosterError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for item in unusable:
        print(f"Not graded: {item.name}: {item.why}", file=sys.stderr)
    settings = settings_of(args)
    jobs = [Job(item.student, item.folder, out / "students" / item.student, out / ".work" / item.student)
            for item in found]
    todo = [job for job in jobs if args.force or not is_done(gradebook.load(job.out), job.folder, settings)]
    kept = len(jobs) - len(todo)
    todo = [job for job in todo if not _empty(job, settings)]
    if kept:
        print(f"{kept} of {len(jobs)} submissions are graded already and kept "
              "(FORCE=1 or --force regrades them)", file=sys.stderr)
    started, failure = time.monotonic(), ""
    try:
        interrupted = _with_progress(todo, args) if todo else []
    except cluster.ClusterError as error:
        interrupted, failure = [], str(error)
    for leftover in (out / ".work", out / ".old"):
        with contextlib.suppress(OSError):
            leftover.rmdir()
    path, rows, unmatched, left_out = rebuild(found, unusable, out, course_settings, students)
    summary([row.record for row in rows], path, time.monotonic() - started, args, interrupted)
    _identities(rows, unmatched, left_out, out)
    print("\n".join(outputs.write_class(out, found, rows)))
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 2
    return 130 if interrupted else 0


def _empty(job, settings):
    """Record a submission without any exercise file as empty, with what it holds; True when it was."""
    if intake.gradable(job.folder):
        return False
    job.work.mkdir(parents=True, exist_ok=True)
    note = ("no exercise file to grade (modules such as softmax.py, or notebooks); it holds "
            f"{intake.what_is_there(job.folder)}")
    publish(job, Record(student=job.student, status=EMPTY, seconds=0.0, note=note,
                        fingerprint=gradebook.fingerprint(job.folder), settings=settings))
    return True


def _identities(rows, unmatched, left_out, out):
    """What the roster and the late policy found, and where the LMS layouts are."""
    if unmatched:
        print(f"Not in the roster: {', '.join(unmatched)}", file=sys.stderr)
    missing = [row.record.student for row in rows if row.record.status == MISSING]
    if missing:
        print(f"No submission from {len(missing)} student(s) of the roster: {', '.join(missing)}")
    late = [row.record.student for row in rows if row.lateness is not None and row.lateness.late]
    if late:
        print(f"Late: {', '.join(late)} (the gradebook keeps the raw and the adjusted totals)")
    print(f"LMS imports: {out / outputs.FILES['canvas']}, {out / outputs.FILES['moodle']}"
          + (f" (without {len(left_out)} student(s) no roster identifies)" if left_out else ""))


def _with_progress(todo, args):
    """Run the jobs under a tqdm progress bar that counts timeouts and errors as they come."""
    from tqdm import tqdm
    counts = {TIMEOUT: 0, ERROR: 0}
    with tqdm(total=len(todo), desc="grading", unit="submission", file=sys.stderr, disable=args.no_progress,
              dynamic_ncols=True) as bar:
        def progress(record):
            counts[record.status] = counts.get(record.status, 0) + 1
            bar.set_postfix_str(f"{counts[TIMEOUT]} timed out, {counts[ERROR]} grader errors", refresh=False)
            bar.update()
        if not args.cluster:
            return run(todo, args, progress)
        return cluster.run(todo, args, progress)


def summary(records, path, seconds, args, interrupted):
    """One paragraph: how many were graded, what went wrong, where the gradebook is."""
    count = {status: sum(record.status == status for record in records) for status in (*FINAL, MISSING, "pending")}
    where = f"on the Dask cluster {args.cluster}" if args.cluster else f"{args.jobs} at a time"
    print(f"{count[GRADED]} of {len(records) - count[MISSING]} submissions graded, {count[TIMEOUT]} timed out, "
          f"{count[ERROR]} could not be graded, {count[EMPTY]} held nothing to grade ({where}, {seconds:.0f} s "
          "this run)")
    for record in records:
        if record.status in (TIMEOUT, ERROR, EMPTY):
            print(f"  {record.status}: {record.student}: {' '.join(record.note.split())[:150]}")
    print(f"Gradebook: {path}")
    if interrupted:
        kept = sum(record.student in interrupted and record.status in FINAL for record in records)
        earlier = f", {kept} of them keep the result of an earlier run" if kept else ""
        print(f"Interrupted: {len(interrupted)} submission(s) were not graded in this run{earlier}; run the same "
              "command again to resume (finished gradings are kept)", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
