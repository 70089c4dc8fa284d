"""Process utilities of the grader's side: finding a process's relatives in /proc, and killing them.

The kit's one place that reads /proc/PID/stat and the one place that sends kill signals; Linux only.
"""
import ctypes
import os
import signal
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def send(pids, number=signal.SIGKILL):
    """Send signal ``number`` to each PID that still exists and may be signalled."""
    for pid in pids:
        try:
            os.kill(pid, number)
        except (ProcessLookupError, PermissionError):
            pass


def send_group(group, number=signal.SIGKILL):
    """Send signal ``number`` to a process group, if it still exists."""
    try:
        os.killpg(group, number)
    except (ProcessLookupError, PermissionError):
        pass


def become_subreaper():
    """Orphaned descendants (a worker's detached grandchildren) are re-parented to this process."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stopped_with_parent(number=signal.SIGTERM):
    """A ``preexec_fn`` after which the child gets signal ``number`` when the thread that started it ends
    (its process killed, say); the C function is looked up beforehand, since the child must not load
    anything between fork and exec in a process that runs threads."""
    prctl, parent = ctypes.CDLL(None, use_errno=True).prctl, os.getpid()

    def preexec():
        prctl(PR_SET_PDEATHSIG, int(number), 0, 0, 0)
        if os.getppid() != parent:     # the parent ended before the signal was asked for
            os._exit(1)
    return preexec


def parent_of(pid):
    """The parent PID of ``pid``, or None when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def pids():
    """Every PID in /proc."""
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def descendants(root=None):
    """PIDs of every live descendant of ``root`` (this process by default)."""
    root, children = root or os.getpid(), {}
    for pid in pids():
        children.setdefault(parent_of(pid), []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def ancestors(pid, top):
    """The PIDs from ``pid``'s parent up to ``top`` (the processes that started it)."""
    chain = []
    while pid and pid != top and len(chain) < 64:
        pid = parent_of(pid)
        chain.append(pid)
    return chain


def reap():
    """Collect the exit status of every child that has ended, without waiting for the others."""
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                return
        except ChildProcessError:
            return


def kill_descendants(spare=()):
    """SIGKILL every descendant of this process outside the trees of ``spare``, and reap them all."""
    for _attempt in range(500):
        keep = set(spare).union(*(descendants(pid) for pid in spare))
        left = set(descendants()) - keep
        send(left)
        reap()
        if not left:
            return
        time.sleep(0.005)


def kill_tree(root):
    """SIGKILL ``root`` and every process under it."""
    send([root, *descendants(root)])


def owned_by(uid):
    """PIDs of every process that runs as ``uid``."""
    found = []
    for pid in pids():
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                found.append(pid)
        except OSError:
            continue
    return found


def kill_user(uid, attempts=50):
    """SIGKILL every process of ``uid`` (a sandbox user runs nothing but student code) until none is left."""
    for _attempt in range(attempts):
        left = owned_by(uid)
        if not left:
            return
        send(left)
        time.sleep(0.01)


def threads_of(uid):
    """Thread IDs of every task that ``uid`` runs."""
    found = []
    for pid in owned_by(uid):
        try:
            found += os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
    return found


def host_pid(pid, sandbox_pid):
    """The host PID of a process that a process of a PID namespace under ``sandbox_pid`` knows as ``pid``."""
    for candidate in descendants(sandbox_pid):
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue
        ids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if len(ids) > 1 and int(ids[-1]) == pid:
            return candidate
    raise RuntimeError(f"the sandboxed worker {pid} could not be found")
