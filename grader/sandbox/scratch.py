"""A grading's scratch folder: made fresh, locked while its grading lives, removed whatever it holds.

A grader that was itself killed leaves its folder behind; the next grading on the machine removes
every such folder, recognised by a lock that nobody holds any more.
"""
import fcntl
import subprocess
import tempfile
import time
from pathlib import Path

PREFIX = "d2l-grade-"
LOCK = ".lock"
UNLOCKED_GRACE = 600   # seconds a folder without its lock file may be a grading that is just starting


class Scratch:
    """One grading's scratch folder, locked until ``remove``."""

    def __init__(self):
        remove_abandoned()
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX))
        self._lock = open(self.path / LOCK, "w")  # noqa: SIM115 - held open: the lock lasts as long as the grading
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def remove(self):
        """Remove the folder and everything in it (deep trees included), then let the lock go."""
        remove_tree(self.path)
        self._lock.close()


def remove_tree(path):
    """Remove ``path`` and all below it without recursion in Python (``rm`` copes with any depth)."""
    subprocess.run(["rm", "-rf", "--", str(path)], stdin=subprocess.DEVNULL, capture_output=True, check=False)


def remove_abandoned(parent=None):
    """Remove the scratch folders of gradings whose grader is gone (nobody holds their lock)."""
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        if _abandoned(folder):
            remove_tree(folder)


def _abandoned(folder):
    try:
        with open(folder / LOCK) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return False   # a live grading holds it
            return True
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE
        except OSError:
            return False
    except OSError:
        return False
