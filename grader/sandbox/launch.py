"""Start a confined process: ``python -I launch.py [--group F]... [--open PATH]... [--uid N] [--nproc N] -- COMMAND``.

Runs as the grader's user, outside any sandbox: it moves itself into the control groups, opens the
folders the sandbox will show (``@open:I`` in COMMAND becomes the I-th descriptor, so bubblewrap can
bind folders that the unprivileged user could not reach by path), drops to the unprivileged user,
caps the number of processes, asks to die with the grader, then becomes COMMAND. It imports nothing
of the grader, so it starts in a few milliseconds.
"""
import ctypes
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv):
    """Apply each option in order (control groups need the grader's rights, so they come first)."""
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    settings = dict(zip(options[::2], options[1::2]))
    opened = []
    for flag, value in zip(options[::2], options[1::2]):
        if flag == "--group":
            with open(value, "w") as procs:
                procs.write(str(os.getpid()))
        elif flag == "--open":
            opened.append(str(os.open(value, os.O_PATH | os.O_DIRECTORY)))
            os.set_inheritable(int(opened[-1]), True)
    command = [opened[int(arg[6:])] if arg.startswith("@open:") else arg for arg in command]
    if "--uid" in settings:
        uid = int(settings["--uid"])
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
