"""Starting, talking to and killing the processes that run student code (the grader's side).

One fork server per grading imports torch once, inside the sandbox; it forks one worker per stub
(and per group of checks). The grader talks to each worker over a socket of its own.
"""
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import procs
from .layers import Sandbox
from .runtime.worker import BOOT

RUNTIME = Path(__file__).resolve().with_name("runtime")   # all that a sandboxed worker sees of the kit
DEFAULT_LIMITS = {"output_limit": 64 << 20, "cpu_seconds": 600, "memory_limit": 8 << 30}
MODULE_LIMIT = 1 << 20   # the largest stub module that is copied for grading


class WorkerFailure(Exception):
    """A worker that timed out or ended without answering; ``kind`` is "timeout" or "died"."""

    def __init__(self, kind, message, output=""):
        super().__init__(message)
        self.kind, self.output = kind, output


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
        from .runtime import wire  # imports torch: kept out of the start-up path of the fork server
        deadline = time.monotonic() + timeout
        try:
            self.channel.settimeout(timeout)
            wire.send(self.channel, message)
            answer = wire.receive(self.channel, deadline=deadline, limit=wire.MAX_ANSWER)
            if time.monotonic() > deadline:
                raise TimeoutError("the answer took too long to decode")
            return answer
        except TimeoutError:
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
        procs.send_group(self.pid)
        procs.send([self.pid])
        self.channel.close()
        if self in self.server.workers:
            self.server.workers.remove(self)
            self.server.sweep()


class ForkServer:
    """A process that imports torch once and forks one worker per stub of one submission."""

    live = set()

    def __init__(self, submission, scratch, stubs, threads=1, hide=()):
        self.submission, self.scratch, self.threads = Path(submission).resolve(), Path(scratch), threads
        self.limits, self.hide = dict(DEFAULT_LIMITS), [Path(p).resolve() for p in hide]
        self.workers, self.process, self.server_pid = [], None, None
        procs.become_subreaper()
        self.sandbox = Sandbox.choose()
        self.home = self.sandbox.prepare(self.scratch)
        copy_modules(self.submission, self.scratch / "submission", stubs)
        copy_runtime(self.scratch / "lib" / "runtime")
        self._launch()

    @classmethod
    def start(cls, submission, stubs, threads=1, hide=()):
        """A fork server for the modules ``stubs`` of ``submission``, in a fresh scratch folder (its owner
        removes it); ``hide`` lists more folders student code must not see, such as the report folder."""
        return cls(submission, Path(tempfile.mkdtemp(prefix="d2l-grade-")), stubs, threads, hide)

    def set_limits(self, **limits):
        """Change the resource limits of the workers forked from now on (the report reads them back)."""
        self.limits.update(limits)

    def _launch(self):
        """Start (or restart, after student code killed it) the fork server process."""
        if self.process is not None:
            self._stop()
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-I", "-B", "-c", BOOT, str(self.scratch / "lib"), str(theirs.fileno())]
        with open(self.scratch / "fork-server.log", "ab") as log:
            self.process = subprocess.Popen(
                self.sandbox.wrap(command, self.scratch, self.hide), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=clean_environment(self.home, self.threads), cwd=self.home)
        theirs.close()
        self.control, self.server_pid = ours, None
        ForkServer.live.add(self.process.pid)

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
        worker = Worker(stub, ours, procs.host_pid(pid, self.process.pid) if self.sandbox.bwrap else pid, log, self)
        self.server_pid = self.server_pid or procs.parent_of(worker.pid)
        self.workers.append(worker)
        return worker

    def sweep(self):
        """Kill every process of this submission that is neither the fork server's chain nor a live worker's."""
        keep = set(ForkServer.live) | {self.server_pid} | set(procs.ancestors(self.server_pid, self.process.pid))
        for worker in self.workers:
            keep |= {worker.pid, *procs.descendants(worker.pid)}
        members = self.sandbox.members()
        if members is None:
            members = set(procs.descendants(self.process.pid)) | orphans()
        procs.send(members - keep)

    def _stop(self):
        self.control.close()
        procs.send_group(self.process.pid)
        self.process.wait()
        ForkServer.live.discard(self.process.pid)

    def close(self):
        """Kill every worker, the fork server, and anything they left behind; give the sandbox back."""
        for worker in list(self.workers):
            worker.kill()
        self._stop()
        procs.kill_descendants(spare=ForkServer.live)
        self.sandbox.release()


def copy_modules(submission, target, stubs):
    """Copy the submission's modules ``stubs`` (regular files, never links), and nothing else, to ``target``."""
    target.mkdir(mode=0o755)
    for name in stubs:
        try:
            descriptor = os.open(submission / f"{name}.py", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # a missing module fails its own checks
        with os.fdopen(descriptor, "rb") as source:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):
                (target / f"{name}.py").write_bytes(source.read(MODULE_LIMIT + 1)[:MODULE_LIMIT])
                (target / f"{name}.py").chmod(0o644)


def copy_runtime(target):
    """Copy the runtime package, the only code of the kit that runs inside the sandbox, to ``target``."""
    target.mkdir(parents=True, mode=0o755)
    target.parent.chmod(0o755)
    for path in sorted(RUNTIME.glob("*.py")):
        (target / path.name).write_bytes(path.read_bytes())
        (target / path.name).chmod(0o644)


def orphans():
    """Children of this process that are not fork servers: re-parented leftovers of student code."""
    return {pid for pid in procs.descendants()
            if procs.parent_of(pid) == os.getpid() and pid not in ForkServer.live}
