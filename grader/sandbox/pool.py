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
import threading
import time
from pathlib import Path

from . import procs
from .layers import Sandbox
from .runtime.worker import BOOT
from .scratch import Scratch

RUNTIME = Path(__file__).resolve().with_name("runtime")   # all that a sandboxed worker sees of the kit
DEFAULT_LIMITS = {"output_limit": 64 << 20, "cpu_seconds": 600, "memory_limit": 8 << 30}
MODULE_LIMIT = 1 << 20   # the largest stub module that is copied for grading


class WorkerFailure(Exception):
    """A worker that timed out, ended without answering, or sent what the grader refuses to read;
    ``kind`` is "timeout", "died" or "refused"."""

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
        except wire.WireError as error:
            self.kill()
            raise WorkerFailure("refused", str(error), self.output()) from None
        except (EOFError, OSError, ValueError) as error:
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

    def __init__(self, submission, scratch, stubs, threads=1):
        self.submission, self._scratch, self.scratch, self.threads = Path(submission).resolve(), scratch, \
            scratch.path, threads
        self.limits, self.workers, self.process, self.server_pid = dict(DEFAULT_LIMITS), [], None, None
        self._spawning = threading.Lock()   # trainings run side by side start their workers from two threads
        procs.become_subreaper()
        self.sandbox = Sandbox.choose()
        self.places = self.sandbox.prepare(self.scratch)
        self.refused = copy_modules(self.submission, self.scratch / "submission", stubs, self.sandbox.readable)
        copy_runtime(self.scratch / "lib" / "runtime")
        self._launch()

    @classmethod
    def start(cls, submission, stubs, threads=1):
        """A fork server for the modules ``stubs`` of ``submission``, in a fresh scratch folder (its owner
        removes it)."""
        return cls(submission, Scratch(), stubs, threads)

    def set_limits(self, **limits):
        """Change the resource limits of the workers forked from now on (the report reads them back)."""
        self.limits.update(limits)

    def _launch(self):
        """Start (or restart, after student code killed it) the fork server process."""
        if self.process is not None:
            self._stop()
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-I", "-B", "-c", BOOT, str(self.places["lib"]), str(theirs.fileno())]
        with open(self.scratch / "logs" / "fork-server.log", "ab") as log:
            self.process = subprocess.Popen(
                self.sandbox.wrap(command, self.scratch), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=clean_environment(self.places["home"], self.threads), cwd=self.scratch)
        theirs.close()
        self.control, self.server_pid = ours, None
        ForkServer.live.add(self.process.pid)

    def spawn(self, stub, timeout=120):
        """Fork a fresh worker for ``stub``, restarting the fork server once if it has died."""
        with self._spawning:
            if self.process.poll() is not None:
                self._launch()
            try:
                return self._spawn(stub, timeout)
            except RuntimeError:
                self._launch()
                return self._spawn(stub, timeout)

    def _spawn(self, stub, timeout):
        """Fork a worker: it gets a socket to answer on and a log only the grader can open by name."""
        ours, theirs = socket.socketpair()
        log = self.scratch / "logs" / f"{stub}-{len(self.workers)}-{time.monotonic_ns()}.log"
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        request = {"submission": str(self.places["submission"]), "stub": stub, "threads": self.threads,
                   **self.limits}
        try:
            self.control.settimeout(timeout)
            socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno(), log_fd])
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = self.control.recv(256)
                if not chunk:
                    raise EOFError("the fork server exited")
                reply += chunk
        except (OSError, EOFError) as error:
            raise RuntimeError(f"could not start a worker: {error}; the fork server said: {self._said()}") from None
        finally:
            theirs.close()
            os.close(log_fd)
        pid = json.loads(reply)["pid"]
        worker = Worker(stub, ours, procs.host_pid(pid, self.process.pid) if self.sandbox.bwrap else pid, log, self)
        self.server_pid = self.server_pid or procs.parent_of(worker.pid)
        self.workers.append(worker)
        return worker

    def _said(self, limit=400):
        """The end of what the fork server printed (its crash, or the sandbox refusing to start)."""
        try:
            return (self.scratch / "logs" / "fork-server.log").read_text(errors="replace")[-limit:].strip() or "nothing"
        except OSError:
            return "nothing"

    def sweep(self):
        """Kill every process of this submission that is neither the fork server's chain nor a live worker's
        (not while a worker is being started: it would be neither yet)."""
        with self._spawning:
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
        """Kill every worker, the fork server, and anything they left behind; give the sandbox back;
        remove the scratch folder."""
        for worker in list(self.workers):
            worker.kill()
        self._stop()
        procs.kill_descendants(spare=ForkServer.live)
        self.sandbox.release()
        self._scratch.remove()


def copy_modules(submission, target, stubs, readable):
    """Copy the submission's modules ``stubs`` into ``target`` (made ``readable`` for the sandbox), and
    nothing else; return {file name: why it was refused} for each module that is there but was not copied."""
    refused = {}
    for name in (f"{stub}.py" for stub in stubs):
        try:
            descriptor = os.open(submission / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            continue  # a missing module fails its own checks
        except OSError as error:
            refused[name] = _refusal(submission / name, error)
            continue
        with os.fdopen(descriptor, "rb") as source:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                refused[name] = "is not a regular file"
                continue
            data = source.read(MODULE_LIMIT + 1)
        if len(data) > MODULE_LIMIT:
            refused[name] = f"is larger than {MODULE_LIMIT >> 20} MiB"
            continue
        (target / name).write_bytes(data)
        readable(target / name)
    write_refusals(target, refused)
    return refused


def _refusal(path, error):
    """Why a module could not be opened: a symbolic link, which the grader never follows, or the error."""
    return "is a symbolic link, which the grader does not follow" if path.is_symlink() else f"cannot be read ({error})"


def write_refusals(target, refused):
    """Tell the workers which modules were refused, so that importing one says why it is not there."""
    (target / ".refused.json").write_text(json.dumps(refused))
    (target / ".refused.json").chmod(0o644)


def copy_runtime(target):
    """Copy the runtime package, the only code of the kit that runs inside the sandbox, to ``target``."""
    target.mkdir(mode=0o755)
    for path in sorted(RUNTIME.glob("*.py")):
        (target / path.name).write_bytes(path.read_bytes())
        (target / path.name).chmod(0o644)


def orphans():
    """Children of this process that are not fork servers: re-parented leftovers of student code."""
    return {pid for pid in procs.descendants()
            if procs.parent_of(pid) == os.getpid() and pid not in ForkServer.live}
