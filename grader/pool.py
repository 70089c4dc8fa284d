"""Starting, talking to and killing the processes that run student code (the grader's side)."""
import ctypes
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from .sandbox import Sandbox
from .table import STUBS

WORKER = Path(__file__).with_name("worker.py")
RUNTIME = ("worker.py", "wire.py", "probes.py")   # all that a sandboxed worker can see of the grader
PR_SET_CHILD_SUBREAPER = 36
LIMITS = {"output_limit": 64 << 20, "cpu_seconds": 600, "memory_limit": 8 << 30}
MODULE_LIMIT = 1 << 20   # the largest stub module that is copied for grading


class WorkerFailure(Exception):
    """A worker that timed out or ended without answering; ``kind`` is "timeout" or "died"."""

    def __init__(self, kind, message, output=""):
        super().__init__(message)
        self.kind, self.output = kind, output


def become_subreaper():
    """Orphaned descendants (a worker's detached grandchildren) are re-parented to this process."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def descendants(root=None):
    """PIDs of every live descendant of ``root`` (this process by default), read from /proc."""
    root, children = root or os.getpid(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(spare=()):
    """SIGKILL every descendant of this process outside the trees of ``spare``, and reap them all."""
    for _attempt in range(500):
        keep = set(spare).union(*(descendants(pid) for pid in spare))
        left = set(descendants()) - keep
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
        if not left:
            return
        time.sleep(0.005)


def clean_environment(home, threads):
    """The environment student code sees: no variables of the grader's, one CPU thread by default."""
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(home), "TMPDIR": str(home),
           "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "MPLBACKEND": "Agg"}
    for name in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class Worker:
    """One forked worker serving one stub's checks over its own socket."""

    def __init__(self, stub, channel, pid, log, server):
        self.stub, self.channel, self.pid, self.log, self.server = stub, channel, pid, log, server

    def request(self, message, timeout):
        """Send one request and wait at most ``timeout`` seconds for the answer."""
        from . import wire  # imports torch: kept out of the start-up path of the fork server
        deadline = time.monotonic() + timeout
        try:
            self.channel.settimeout(timeout)
            wire.send(self.channel, message)
            answer = wire.receive(self.channel, deadline=deadline, limit=wire.MAX_ANSWER)
            if time.monotonic() > deadline:
                raise socket.timeout("the answer took too long to decode")
            return answer
        except (TimeoutError, socket.timeout):
            self.kill()
            raise WorkerFailure("timeout", f"no answer within {timeout:g} s", self.output()) from None
        except (EOFError, OSError, ValueError) as error:  # wire.WireError is a ValueError
            self.kill()
            raise WorkerFailure("died", f"the worker ended without answering ({error})", self.output()) from None

    def output(self, limit=600):
        """The last characters the worker printed (student prints, crash messages); never a link's target."""
        try:
            descriptor = os.open(self.log, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return ""
        with os.fdopen(descriptor, "rb") as handle:
            size = os.fstat(descriptor)
            if not stat.S_ISREG(size.st_mode):
                return ""
            handle.seek(max(0, size.st_size - limit))
            return handle.read(limit).decode("utf-8", "replace")

    def kill(self):
        """Kill the worker's process group, then whatever it started that escaped the group."""
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.channel.close()
        if self in self.server.workers:
            self.server.workers.remove(self)
            self.server.sweep()


class ForkServer:
    """A process that imports torch once and forks one worker per stub of one submission."""

    live = set()

    def __init__(self, submission, scratch, threads=1, limits=None, hide=()):
        self.submission, self.scratch, self.threads = Path(submission).resolve(), Path(scratch), threads
        self.limits, self.hide = dict(LIMITS, **(limits or {})), [Path(p).resolve() for p in hide]
        self.workers, self.process, self.server_pid = [], None, None
        become_subreaper()
        self.sandbox = Sandbox.choose()
        self.home = self.sandbox.prepare(self.scratch)
        copy_modules(self.submission, self.scratch / "submission")
        self._launch()

    def _launch(self):
        """Start (or restart, after student code killed it) the fork server process."""
        if self.process is not None:
            self._stop()
        ours, theirs = socket.socketpair()
        runtime = self.scratch / "runtime"
        runtime.mkdir(exist_ok=True)
        for name in RUNTIME:
            (runtime / name).write_bytes((WORKER.parent / name).read_bytes())
        command = [sys.executable, "-I", "-B", str(runtime / "worker.py"), str(theirs.fileno())]
        with open(self.scratch / "fork-server.log", "ab") as log:
            self.process = subprocess.Popen(
                self.sandbox.wrap(command, self.scratch, self.hide), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=clean_environment(self.home, self.threads), cwd=self.home)
        theirs.close()
        self.control, self.server_pid = ours, None
        ForkServer.live.add(self.process.pid)

    @classmethod
    def start(cls, submission, threads=1, limits=None, hide=()):
        """A fork server for ``submission`` with a fresh scratch folder (removed by its owner)."""
        import tempfile
        return cls(submission, Path(tempfile.mkdtemp(prefix="d2l-grade-")), threads, limits, hide)

    def spawn(self, stub, timeout=120):
        """Fork a fresh worker for ``stub``, restarting the fork server once if it has died."""
        if self.process.poll() is not None:
            self._launch()
        try:
            return self._spawn(stub, timeout)
        except RuntimeError:
            self._launch()
            return self._spawn(stub, timeout)

    def _spawn(self, stub, timeout):
        ours, theirs = socket.socketpair()
        log = self.home / f"{stub}.log"
        request = {"submission": str(self.scratch / "submission"), "stub": stub, "log": str(log),
                   "threads": self.threads, **self.limits}
        try:
            self.control.settimeout(timeout)
            socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno()])
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = self.control.recv(256)
                if not chunk:
                    raise EOFError("the fork server exited")
                reply += chunk
        except (OSError, EOFError) as error:
            raise RuntimeError(f"could not start a worker: {error}; see {self.scratch / 'fork-server.log'}") from None
        finally:
            theirs.close()
        pid = json.loads(reply)["pid"]
        worker = Worker(stub, ours, host_pid(pid, self.process.pid) if self.sandbox.bwrap else pid, log, self)
        self.server_pid = self.server_pid or parent_of(worker.pid)
        self.workers.append(worker)
        return worker

    def sweep(self):
        """Kill every process of this submission that is neither the fork server's chain nor a live worker's."""
        keep = set(ForkServer.live) | {self.server_pid} | set(ancestors(self.server_pid, self.process.pid))
        for worker in self.workers:
            keep |= {worker.pid, *descendants(worker.pid)}
        members = self.sandbox.members()
        if members is None:
            members = set(descendants(self.process.pid)) | orphans()
        for pid in members - keep:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def _stop(self):
        self.control.close()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        ForkServer.live.discard(self.process.pid)

    def close(self):
        """Kill every worker, the fork server, and anything they left behind; give the sandbox back."""
        for worker in list(self.workers):
            worker.kill()
        self._stop()
        kill_descendants(spare=ForkServer.live)
        self.sandbox.release()


def copy_modules(submission, target):
    """Copy the submission's stub modules, and nothing else, to where the workers import them from."""
    target.mkdir(mode=0o755)
    for name in STUBS:
        try:
            descriptor = os.open(submission / f"{name}.py", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # a missing module fails its own checks
        with os.fdopen(descriptor, "rb") as source:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):
                (target / f"{name}.py").write_bytes(source.read(MODULE_LIMIT + 1)[:MODULE_LIMIT])
                (target / f"{name}.py").chmod(0o644)


def parent_of(pid):
    """The parent PID of ``pid``, or None when it is gone."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def ancestors(pid, top):
    """The PIDs from ``pid``'s parent up to ``top`` (the processes that started it)."""
    chain = []
    while pid and pid != top and len(chain) < 64:
        pid = parent_of(pid)
        chain.append(pid)
    return chain


def orphans():
    """Children of this process that are not fork servers: re-parented leftovers of student code."""
    return {pid for pid in descendants() if parent_of(pid) == os.getpid() and pid not in ForkServer.live}


def host_pid(pid, sandbox_pid):
    """The host PID of a process that the sandboxed fork server knows as ``pid``."""
    for candidate in descendants(sandbox_pid):
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue
        ids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if len(ids) > 1 and int(ids[-1]) == pid:
            return candidate
    raise RuntimeError(f"the sandboxed worker {pid} could not be found")
