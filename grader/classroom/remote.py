"""What runs on a Dask worker: one submission graded by ``python -m grader`` in a child process.

Student code never runs in the worker itself: the task starts the grader (which confines student code
in its own sandbox), enforces the time limit, stops and kills the whole process tree, and returns what
happened as plain data. The grader dies with the worker: it gets SIGTERM when the worker's process is
killed, and the scheduler then hands the submission to another worker, once. A task never raises for
a student's fault: a timeout or a crash is a result.
"""
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .. import child
from ..sandbox import procs
from .jobs import STUDENT_REPORT

ATTEMPTS = 2        # a lost worker re-queues its submission once
STOP = "stop"       # the file in the run's folder that asks every task to stop
GRACE = 10.0        # seconds a stopped grader gets to remove its workers before it is killed
POLL = 0.2
DATA_CHECK = "from datasets.routes import locate_fashion_mnist; locate_fashion_mnist()"


def dask_setup(_worker):
    """Run by a local cluster's worker at start (a Dask preload): a Ctrl-C in the terminal that started the
    class run reaches its workers too, and only the run itself may decide what it means."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def claim(attempts):
    """A new folder for this attempt at a submission, or None when it was attempted ``ATTEMPTS`` times."""
    attempts.mkdir(parents=True, exist_ok=True)
    for number in range(1, ATTEMPTS + 1):
        try:
            (attempts / str(number)).mkdir()
            return attempts / str(number)
        except FileExistsError:
            continue
    return None


@functools.lru_cache(maxsize=1)
def environment_problem():
    """Why this worker cannot grade (the real Fashion-MNIST missing), or "" when it can; checked once."""
    run = subprocess.run([sys.executable, "-c", DATA_CHECK], cwd=child.KIT, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=300)
    if run.returncode == 0:
        return ""
    return (run.stderr.strip().splitlines() or ["unknown error"])[-1][:500]


def worker_name():
    """Where a task ran: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def grade(task):
    """Grade one submission under its time limit; a dict says how it ended (see ``watch``)."""
    started, run = time.monotonic(), Path(task["run"])
    base = {"worker": worker_name(), "seconds": 0.0}
    if not run.is_dir() or not Path(task["folder"]).is_dir():
        return {**base, "problem": f"the worker {base['worker']} does not see {run} or {task['folder']}: OUT and "
                                   "SUBMISSIONS must be on a file system that every worker shares"}
    if (run / STOP).exists():
        return {**base, "interrupted": True}
    problem = environment_problem()
    if problem:
        return {**base, "problem": f"the worker {base['worker']} cannot load Fashion-MNIST ({problem}); run "
                                   "`make data` where the workers run"}
    work = claim(run / task["student"])
    if work is None:
        return {**base, "lost": True}
    command = child.command(task["folder"], work, seed=task["seed"], device=task["device"], threads=1,
                            student_out=work / STUDENT_REPORT)
    with open(work / "grader.log", "wb") as log:
        process = subprocess.Popen(command, cwd=child.KIT, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=procs.stopped_with_parent())
    ending = watch(process, task["timeout"], run / STOP)
    return {**base, **ending, "work": str(work), "code": process.returncode,
            "seconds": time.monotonic() - started}


def watch(process, timeout, stop_file):
    """Wait for the grader; past ``timeout`` or when ``stop_file`` appears, stop it, then kill its tree."""
    started, stopped, ending = time.monotonic(), 0.0, {"timed_out": False, "interrupted": False}
    while process.poll() is None:
        now = time.monotonic()
        if stopped and now - stopped > GRACE:
            procs.kill_tree(process.pid)
        elif not stopped and (now - started > timeout or stop_file.exists()):
            ending["timed_out"] = now - started > timeout
            ending["interrupted"] = not ending["timed_out"]
            stopped = now
            procs.send([process.pid], signal.SIGTERM)
        time.sleep(POLL)
    return ending
