"""How the processes that run student code are confined, strongest layers first.

bubblewrap namespaces (only the Python environment, the whitelisted submission copy and a scratch
folder visible), an unprivileged user of their own when the grader runs as root, a control group
that caps processes and memory and finds every process to kill, and a process-count limit. Each
layer is used where this machine allows it, and ``protections()`` tells the report which were.
"""
import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .cgroups import GROUP_MEMORY, PROCESS_LIMIT, ControlGroup
from .procs import kill_user, threads_of

ROOT = Path(__file__).resolve().parents[2]   # the kit: grader, solutions and hidden checks
LAUNCH = Path(__file__).with_name("launch.py")
SANDBOX_UIDS = range(64200, 64328)   # one per concurrent grading, so one cannot starve another
TMPFS_SIZE = 64 << 20                # each empty folder that masks a host folder


class Sandbox:
    """The confinement of one grading: its bubblewrap, its user and its control group."""

    _bwrap_works = {}

    def __init__(self, bwrap=None, uid=None, group=None, notes=(), lock=None):
        self.bwrap, self.uid, self.group, self.notes, self._lock = bwrap, uid, group, list(notes), lock

    @property
    def kind(self):
        return "bubblewrap" if self.bwrap else "none"

    @classmethod
    def choose(cls):
        """Every layer this machine allows. D2L_KIT_SANDBOX=no-namespaces goes without bubblewrap,
        D2L_KIT_SANDBOX=none without any layer but the resource limits."""
        if os.environ.get("D2L_KIT_SANDBOX") == "none":
            return cls(notes=["sandbox turned off with D2L_KIT_SANDBOX=none"])
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

    def wrap(self, command, scratch, hide=()):
        """The command line that starts ``command`` inside every layer of this sandbox.

        Without bubblewrap, launch.py drops to the sandbox user. With it, bubblewrap runs with the
        grader's rights (so it can bind folders the sandbox user could not reach by path) and the
        fork server drops to the sandbox user itself, as the first thing it does.
        """
        groups = self.group.procs_files() if self.group else ()
        nproc = None if self.group else _process_limit(self.uid)
        if not self.bwrap:
            return _launcher(groups, self.uid, nproc) + command
        drop = ["--uid", str(self.uid)] if self.uid is not None else []
        drop += ["--nproc", str(nproc)] if nproc else []
        return _launcher(groups) + self._bwrap_args(scratch, hide) + ["--", *command, *drop]

    def _bwrap_args(self, scratch, hide):
        """Namespaces; the host read-only, with the kit, /tmp and folders other users cannot enter
        masked by empty ones; the Python environment and the scratch folders bound back."""
        python = _outermost({Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent})
        hidden = {Path("/tmp"), ROOT, *(Path(p) for p in hide if Path(p).exists())}
        masks = hidden | {_closed_ancestor(p) for p in python} - {None}
        args, made = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"], set()

        def parents(path):  # folders bubblewrap would otherwise create inside a mask as private (0700)
            inside = [p for p in reversed(path.parents) if any(m in p.parents or m == p for m in masks)]
            made.update(fresh := [p for p in inside if p not in made and p not in masks])
            return [arg for p in fresh for arg in ("--perms", "0755", "--dir", str(p))]

        for path in sorted(masks, key=lambda p: len(p.parts)):
            args += parents(path) + ["--size", str(TMPFS_SIZE), "--tmpfs", str(path)]
        binds = [(path, "--ro-bind") for path in python] + [(scratch / "home", "--bind")]
        binds += [(scratch / name, "--ro-bind") for name in ("lib", "submission")]
        for path, how in binds:
            args += parents(path) + [how, str(path), str(path)]
        for device in sorted(Path("/dev").glob("nvidia*")):
            args += ["--dev-bind", str(device), str(device)]
        if self.uid is not None:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return args + ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                       "--new-session", "--chdir", str(scratch / "home")]

    def prepare(self, scratch):
        """Give the sandbox's user its home folder, the only place it may write."""
        scratch.chmod(0o755)
        home = scratch / "home"
        home.mkdir(mode=0o700, exist_ok=True)
        if self.uid is not None:
            os.chown(home, self.uid, self.uid)
        return home

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
        return {"sandbox": f"{self.kind}: " + ("PID, network, IPC and mount namespaces; only the Python "
                                              "environment and the submission's modules visible, read-only"
                                              if self.bwrap else "no namespaces"),
                "user": f"uid {self.uid} (unprivileged, its own)" if self.uid is not None
                else f"the grader's own (uid {os.getuid()})",
                "control group": (f"{self.group.kind}: {limit}, {GROUP_MEMORY >> 30} GiB memory in all"
                                  if self.group else "none"),
                "process limit": limit if self.group or self.uid is not None else "per-user process limit",
                "sandbox notes": "; ".join(self.notes) or "none"}


def _launcher(groups=(), uid=None, nproc=None):
    """The launch.py prefix that applies the layers outside bubblewrap (empty when none applies)."""
    options = [arg for path in groups for arg in ("--group", path)]
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


def _closed_ancestor(path):
    """The outermost folder above ``path`` that other users cannot enter (to be masked and re-bound)."""
    for parent in reversed(path.parents):
        if parent != Path("/") and not parent.stat().st_mode & 0o001:
            return parent
    return None


def _outermost(paths):
    """The paths that are not inside another of them, parents first."""
    return sorted((p for p in paths if not any(o in p.parents for o in paths)), key=lambda p: len(p.parts))


def _python_usable_by(uid):
    """Whether ``uid`` can start this Python and read its packages, without bubblewrap."""
    import importlib.util
    torch = importlib.util.find_spec("torch").origin
    test = f"import os, sys; sys.exit(0 if os.access({torch!r}, os.R_OK) else 1)"
    return subprocess.run(_launcher(uid=uid) + [sys.executable, "-I", "-c", test],
                          capture_output=True, timeout=30).returncode == 0
