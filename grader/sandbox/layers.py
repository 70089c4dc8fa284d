"""How the processes that run student code are confined, strongest layers first.

bubblewrap namespaces (a file system holding only what grading needs, see ``bwrap``), an
unprivileged user of their own when the grader runs as root, a control group that caps processes
and memory and finds every process to kill, a home of bounded size, and a process-count limit.
Each layer is used where this machine allows it, and ``protections()`` tells the report which were.
"""
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import bwrap as bubblewrap
from . import gpu
from .cgroups import GROUP_MEMORY, PROCESS_LIMIT, ControlGroup
from .procs import kill_user, threads_of

LAUNCH = Path(__file__).with_name("launch.py")
SANDBOX_UIDS = range(64200, 64328)   # one per concurrent grading, so one cannot starve another


class Sandbox:
    """The confinement of one grading: its bubblewrap, its user and its control group."""

    _bwrap_works = {}

    def __init__(self, bwrap=None, uid=None, group=None, notes=(), lock=None, off=False):
        self.bwrap, self.uid, self.group, self.notes, self._lock = bwrap, uid, group, list(notes), lock
        self.off = off   # D2L_KIT_SANDBOX=none: no layer but the workers' resource limits

    @property
    def kind(self):
        return "bubblewrap" if self.bwrap else "none"

    @classmethod
    def choose(cls):
        """Every layer this machine allows. D2L_KIT_SANDBOX=no-namespaces goes without bubblewrap,
        D2L_KIT_SANDBOX=none without any layer but the resource limits."""
        if os.environ.get("D2L_KIT_SANDBOX") == "none":
            return cls(notes=["sandbox turned off with D2L_KIT_SANDBOX=none"], off=True)
        notes, (uid, lock) = [], _claim_uid()
        group = ControlGroup.create(notes)
        bwrap = shutil.which("bwrap")
        if os.environ.get("D2L_KIT_SANDBOX") == "no-namespaces":
            notes.append("bubblewrap turned off with D2L_KIT_SANDBOX=no-namespaces")
            bwrap = None
        elif not bwrap:
            notes.append("bubblewrap is not installed (apt-get install bubblewrap)")
        elif not cls._bwrap_runs(bwrap, notes):
            bwrap = None
        uvm = gpu.ensure_uvm() if bwrap else ""
        if uvm:
            notes.append(f"GPU: {uvm}")
        if uid is not None and not bwrap and not _python_usable_by(uid):
            notes.append(f"no separate user: uid {uid} cannot run {sys.executable} outside a sandbox")
            lock.close()
            uid, lock = None, None
        return cls(bwrap, uid, group, notes, lock)

    @classmethod
    def _bwrap_runs(cls, bwrap, notes):
        """Whether bubblewrap can make its namespaces here; probed once per process."""
        if bwrap not in cls._bwrap_works:
            probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "true"],
                                   capture_output=True, text=True, timeout=30)
            cls._bwrap_works[bwrap] = "" if probe.returncode == 0 else probe.stderr.strip()[:200]
        if cls._bwrap_works[bwrap]:
            notes.append(f"bubblewrap cannot start here: {cls._bwrap_works[bwrap]}")
        return not cls._bwrap_works[bwrap]

    def wrap(self, command, scratch):
        """The command line that starts ``command`` inside every layer of this sandbox.

        Without bubblewrap, launch.py drops to the sandbox user. With it, bubblewrap runs with the
        grader's rights (so it can bind folders the sandbox user could not reach by path) and the
        fork server drops to the sandbox user itself, as the first thing it does.
        """
        groups = self.group.procs_files() if self.group else ()
        nproc = None if self.group else _process_limit(self.uid)
        if not self.bwrap:
            home = scratch / "home" if self._private_home() else None
            return _launcher(groups, self.uid, nproc, home) + command
        drop = ["--uid", str(self.uid)] if self.uid is not None else []
        drop += ["--nproc", str(nproc)] if nproc else []
        return _launcher(groups) + bubblewrap.arguments(self.bwrap, scratch, self.uid is not None) + \
            ["--", *command, *drop]

    def _private_home(self):
        """Whether the launcher gives the home a tmpfs of its own: root can, outside bubblewrap."""
        return not self.bwrap and not self.off and os.geteuid() == 0

    def places(self, scratch):
        """The runtime package's folder, the submission copy and the home, as sandboxed processes see them."""
        if self.bwrap:
            return bubblewrap.places()
        return {name: scratch / name for name in ("lib", "submission", "home")}

    def prepare(self, scratch):
        """The host-side folders of a grading: only the grader lists the scratch folder; the sandbox user
        owns its home and reads the submission copy; the grader alone keeps the workers' logs."""
        scratch.chmod(0o711)
        for name, mode in (("home", 0o700), ("submission", 0o750), ("logs", 0o700), ("lib", 0o755)):
            (scratch / name).mkdir(mode=mode)
        if self.uid is not None:
            os.chown(scratch / "home", self.uid, self.uid)
            os.chown(scratch / "submission", 0, self.uid)
        return self.places(scratch)

    def readable(self, path):
        """Let the sandbox user (and only it, where it has a user of its own) read the file ``path``."""
        if self.uid is not None:
            os.chown(path, 0, self.uid)
        path.chmod(0o640 if self.uid is not None else 0o644)

    def members(self):
        """PIDs of every process in this sandbox's control group, or None without one."""
        return self.group.pids() if self.group else None

    def release(self):
        """Kill what is left in the control group, remove it and give the user back."""
        if self.group:
            self.group.remove()
        if self.uid is not None:
            kill_user(self.uid)
        if self._lock:
            self._lock.close()

    def protections(self):
        """What the report says about the confinement of student code on this run."""
        limit = f"{PROCESS_LIMIT} processes and threads"
        size = f"{bubblewrap.HOME_SIZE >> 20} MiB"
        home = (f"a {size} tmpfs of its own" if self.bwrap else f"a {size} tmpfs of its own, where the kernel allows "
                "it (else each file is capped)" if self._private_home() else "a folder of the host (each file capped)")
        return {"sandbox": f"{self.kind}: " + ("PID, network, IPC and mount namespaces; of the host's files only "
                                              "the system, the Python environment and the submission's modules "
                                              "visible, read-only" if self.bwrap else
                                              "no namespaces: the host's files as the sandbox user's rights allow"),
                "home": home,
                "user": f"uid {self.uid} (unprivileged, its own)" if self.uid is not None
                else f"the grader's own (uid {os.getuid()})",
                "control group": (f"{self.group.kind}: {limit}, {GROUP_MEMORY >> 30} GiB memory in all"
                                  if self.group else "none"),
                "process limit": limit if self.group or self.uid is not None else "per-user process limit",
                "sandbox notes": "; ".join(self.notes) or "none"}


def _launcher(groups=(), uid=None, nproc=None, home=None):
    """The launch.py prefix that applies the layers outside bubblewrap (empty when none applies)."""
    options = [arg for path in groups for arg in ("--group", path)]
    options += ["--home", str(home)] if home is not None else []
    options += ["--uid", str(uid)] if uid is not None else []
    options += ["--nproc", str(nproc)] if nproc else []
    return [sys.executable, "-I", "-B", str(LAUNCH), *options, "--"] if options else []


def _claim_uid():
    """A sandbox uid no other grading on this machine holds (root only), and the lock that holds it."""
    if os.geteuid() != 0:
        return None, None
    locks = next((Path(d) / "d2l-kit-uids" for d in ("/run", "/tmp") if os.access(d, os.W_OK)), None)
    if locks is None:
        return None, None
    locks.mkdir(mode=0o700, exist_ok=True)
    if locks.is_symlink() or locks.stat().st_uid != 0:
        return None, None
    for uid in SANDBOX_UIDS:
        handle = open(locks / str(uid), "a")  # noqa: SIM115 - held open: the lock lasts as long as the grading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        kill_user(uid)  # leftovers of a grading that was itself killed
        return uid, handle
    return None, None


def _process_limit(uid):
    """RLIMIT_NPROC counts every process of a user: its own uid gets the cap, a shared one some headroom."""
    if uid is not None:
        return PROCESS_LIMIT
    if os.geteuid() == 0:
        return None  # root is exempt from the limit
    return len(threads_of(os.getuid())) + PROCESS_LIMIT


def _python_usable_by(uid):
    """Whether ``uid`` can start this Python and read its packages, without bubblewrap."""
    import importlib.util
    torch = importlib.util.find_spec("torch").origin
    test = f"import os, sys; sys.exit(0 if os.access({torch!r}, os.R_OK) else 1)"
    return subprocess.run(_launcher(uid=uid) + [sys.executable, "-I", "-c", test],
                          capture_output=True, timeout=30).returncode == 0
