"""Running ``python -m grader`` in a child process: the one place that builds its command and starts it.

Class grading, the Gradescope runner, the nbgrader hook, a notebook's check cells and the bench each
grade a submission this way, so each grading has its own process, sandbox and workers.
"""
import signal
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
STOP_GRACE = 15.0   # seconds a stopped grader gets to kill its workers and remove its scratch folder


def command(submission, out, python=sys.executable, **options):
    """The command line grading ``submission`` into ``out``; ``options`` are the grader's long options."""
    line = [str(python), "-m", "grader", str(submission), "--out", str(out)]
    for name, value in {"color": "never", **options}.items():
        if value is not None and value != "":
            line += [f"--{name.replace('_', '-')}", str(value)]
    return line


def start(submission, out, log=subprocess.DEVNULL, env=None, **options):
    """Start the grader on ``submission`` in a session of its own (a Ctrl-C of the caller does not reach it)."""
    return subprocess.Popen(command(submission, out, **options), cwd=KIT, env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process, grace=STOP_GRACE):
    """Ask a grader to stop (it kills its workers first); kill it if it has not ended after ``grace`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(submission, out, log=subprocess.DEVNULL, timeout=None, env=None, **options):
    """Grade ``submission`` into ``out`` and return the grader's exit status; past ``timeout`` seconds the
    grader is stopped and subprocess.TimeoutExpired is raised."""
    process = start(submission, out, log, env, **options)
    try:
        return process.wait(timeout)
    except BaseException:
        stop(process)
        raise
