"""Start a confined process: ``python -I launch.py [--group F]... [--home DIR] [--uid N] [--nproc N] -- COMMAND``.

Runs as the grader's user, outside any sandbox: it moves itself into the control groups, gives
the home folder a size-limited tmpfs of its own in a private mount namespace (as root, where
bubblewrap is not used), drops to the unprivileged user, caps the number of processes, asks to
die with the grader, then becomes COMMAND. It imports nothing of the grader, so it starts in a
few milliseconds.
"""
import ctypes
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1
CLONE_NEWNS, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x20000, 2, 4, 0x4000, 1 << 18
HOME_SIZE = 128 << 20


def private_home(path, uid):
    """Mount a tmpfs of HOME_SIZE on ``path``, seen only by this process and its children; False if refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) or libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None):
        return False
    options = f"size={HOME_SIZE},mode=0700,uid={uid},gid={uid}".encode()
    return libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) == 0


def main(argv):
    """Apply each option in order (control groups and the mount need the grader's rights, so they come first)."""
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    settings = dict(zip(options[::2], options[1::2]))
    for flag, value in zip(options[::2], options[1::2]):
        if flag == "--group":
            with open(value, "w") as procs:
                procs.write(str(os.getpid()))
    uid = int(settings["--uid"]) if "--uid" in settings else None
    if "--home" in settings:
        if not private_home(settings["--home"], uid if uid is not None else os.getuid()):
            print(f"launch: no private home (error {ctypes.get_errno()}); each file is capped", file=sys.stderr)
        os.chdir(settings["--home"])   # the tmpfs, not the folder beneath it
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if "--nproc" in settings:
        count = int(settings["--nproc"])
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after the uid change, which clears it
    if os.getppid() == 1:
        os._exit(70)  # the grader is already gone
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
