"""Starting, talking to and killing the processes that run student code (the grader's side)."""
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
RUNTIME = ("worker.py", "wire.py", "probes.py")   # all that a sandboxed worker can see of the grader
ROOT = Path(__file__).resolve().parent.parent
PR_SET_CHILD_SUBREAPER = 36
LIMITS = {"output_limit": 64 << 20, "cpu_seconds": 600, "memory_limit": 8 << 30}


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
    """SIGKILL every descendant of this process outside the trees of ``spare``, and reap them."""
    keep = set(spare).union(*(descendants(pid) for pid in spare))
    for pid in set(descendants()) - keep:
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

    def __init__(self, stub, channel, pid, log):
        self.stub, self.channel, self.pid, self.log = stub, channel, pid, log

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
        """The last characters the worker printed (student prints, crash messages)."""
        try:
            with open(self.log, "rb") as handle:
                handle.seek(max(0, os.path.getsize(self.log) - limit))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """Kill the worker's whole process group."""
        for kill, target in ((os.killpg, self.pid), (os.kill, self.pid)):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.channel.close()


class ForkServer:
    """A process that imports torch once and forks one worker per stub of one submission."""

    live = set()

    def __init__(self, submission, scratch, threads=1, limits=None, hide=()):
        self.submission, self.scratch, self.threads = Path(submission).resolve(), Path(scratch), threads
        self.limits, self.hide = dict(LIMITS, **(limits or {})), [Path(p).resolve() for p in hide]
        self.sandbox = Sandbox.choose()
        self.workers, self.process = [], None
        become_subreaper()
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
                self.sandbox.wrap(command, self), pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                env=clean_environment(self.scratch, self.threads), cwd=self.scratch)
        theirs.close()
        self.control = ours
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
        log = self.scratch / f"{stub}.log"
        request = {"submission": str(self.submission), "stub": stub, "log": str(log), "threads": self.threads,
                   **self.limits}
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
        worker = Worker(stub, ours, self.sandbox.host_pid(json.loads(reply)["pid"], self.process.pid), log)
        self.workers.append(worker)
        return worker

    def _stop(self):
        self.control.close()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        ForkServer.live.discard(self.process.pid)

    def close(self):
        """Kill every worker, the fork server, and anything they left behind."""
        for worker in self.workers:
            worker.kill()
        self._stop()
        kill_descendants(spare=ForkServer.live)


class Sandbox:
    """How the fork server is confined: bubblewrap namespaces when available, else a plain process."""

    def __init__(self, bwrap, reason):
        self.bwrap, self.reason = bwrap, reason

    @property
    def kind(self):
        return "bubblewrap" if self.bwrap else "none"

    @classmethod
    def choose(cls):
        """bubblewrap if it is installed and can start a namespace here; D2L_KIT_SANDBOX=none turns it off."""
        import shutil
        if os.environ.get("D2L_KIT_SANDBOX") == "none":
            return cls(None, "turned off with D2L_KIT_SANDBOX=none")
        bwrap = shutil.which("bwrap")
        if not bwrap:
            return cls(None, "bubblewrap is not installed (apt-get install bubblewrap)")
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "true"],
                               capture_output=True, text=True, timeout=30)
        if probe.returncode:
            return cls(None, f"bubblewrap cannot start here: {probe.stderr.strip()[:200]}")
        return cls(bwrap, "PID, network, IPC and mount namespaces; the grader, solutions and reports hidden")

    def wrap(self, command, server):
        """The command line that runs ``command`` inside the sandbox."""
        if not self.bwrap:
            return command
        hidden = [ROOT, *server.hide]
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        for path in hidden:
            args += ["--tmpfs", str(path)]
        for device in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(device), str(device)]
        visible = [(sys.prefix, "--ro-bind"), (server.submission, "--ro-bind"), (server.scratch, "--bind"),
                   (server.scratch / "runtime", "--ro-bind")]
        for path, how in visible:
            args += [how, str(path), str(path)]
        return args + ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                       "--new-session", "--chdir", str(server.scratch), "--", *command]

    def host_pid(self, pid, sandbox_pid):
        """The host PID of a process that the sandboxed fork server knows as ``pid``."""
        if not self.bwrap:
            return pid
        for candidate in descendants(sandbox_pid):
            try:
                status = Path(f"/proc/{candidate}/status").read_text()
            except OSError:
                continue
            ids = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if len(ids) > 1 and int(ids[-1]) == pid:
                return candidate
        raise RuntimeError(f"the sandboxed worker {pid} could not be found")
