"""One measured command: its wall time, its output, and the peak memory of its whole process tree."""
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.procs import descendants, send_group

SAMPLE_SECONDS = 0.1
MiB = 1 << 20
MEMORY_NOTE = ("peak PSS: the highest total proportional set size of the command's whole process tree (itself, "
               "its workers and their children; a page shared by k processes counts 1/k for each), sampled every "
               f"{SAMPLE_SECONDS:g} s. max RSS: the largest resident set size that any one process of the tree "
               "reached, as reported by wait4 for the command and the descendants it waited for.")


class MeasureError(RuntimeError):
    """A measured command failed; the message holds the end of its output."""


@dataclass(frozen=True)
class Run:
    """What one run of a command took: wall seconds, peak tree PSS and largest RSS, and what it printed."""

    seconds: float
    peak_pss_mib: float
    max_rss_mib: float
    stdout: str


def tree_pss(root):
    """The summed PSS of ``root`` and all its descendants, in bytes (0 for processes that are gone)."""
    total = 0
    for pid in (root, *descendants(root)):
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


class Sampler(threading.Thread):
    """Samples the process tree's PSS until stopped, keeping the peak."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peak, self.done = root, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            self.peak = max(self.peak, tree_pss(self.root))
            self.done.wait(SAMPLE_SECONDS)


def measure(command, cwd, timeout=900, env=None):
    """Run ``command`` to its end and measure it; a non-zero exit raises MeasureError with its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   start_new_session=True)
        sampler, timer = Sampler(process.pid), threading.Timer(timeout, send_group, (process.pid,))
        sampler.start()
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        timer.cancel()
        sampler.done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        stdout, stderr = (_read(handle) for handle in (out, err))
    if process.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise MeasureError(f"`{shown}` exited with status {process.returncode}:\n{(stdout + stderr)[-2000:]}")
    return Run(round(seconds, 3), round(sampler.peak / MiB, 1), round(usage.ru_maxrss * 1024 / MiB, 1), stdout)


def _read(handle):
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")


def python_command(*args):
    """This environment's Python running ``args`` (unbuffered, so output is complete on a kill)."""
    import sys
    return [sys.executable, "-u", *map(str, args)]


def scratch_folder(prefix):
    """A fresh temporary folder, removed by the caller."""
    return Path(tempfile.mkdtemp(prefix=prefix))
