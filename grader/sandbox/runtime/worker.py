"""The worker side: a fork server that imports torch once, and per-stub workers that run student code.

Started as ``python -I -B -c BOOT LIBDIR CONTROL_FD [--uid N] [--nproc N]`` (see ``BOOT``), where
LIBDIR holds this package as ``runtime``. The fork server itself never imports student code; each
forked worker imports one stub.
"""
import ctypes
import json
import os
import resource
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
# What the grader runs: put LIBDIR on the path and hand the rest of the arguments to main().
BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from runtime.worker import main; main(sys.argv[2:])"


def serve_forks(control):
    """Fork one worker per request received on the control socket, until it closes."""
    _warm_up()
    from . import probes  # noqa: F401 - imported once here, so every forked worker has it
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, 65536, 2)
        except OSError:
            return
        if not message or len(fds) != 2:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            _run_worker(json.loads(message), socket.socket(fileno=fds[0]), fds[1])
        for descriptor in fds:
            os.close(descriptor)
        control.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _warm_up():
    """Import torch and pay its first-use costs once, so every forked worker starts warm."""
    import torch
    leaf = torch.ones(3, requires_grad=True)
    (leaf * 2).sum().backward()
    (torch.empty(2, 3, device="meta") + 1).sum(dim=1, keepdim=True)
    torch.nn.functional.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 1]))


def _run_worker(request, channel, log):
    """The forked worker: confine itself, then serve requests until the grader hangs up."""
    status = 0
    try:
        _confine(request, log)
        from . import probes, wire
        stub = probes.Stub(request["submission"], request["stub"])
        while True:
            try:
                message = wire.receive(channel)
            except EOFError:
                break
            wire.send(channel, probes.handle(stub, message))
    except BaseException:  # the worker must never return into the fork server's loop
        status = 70
    finally:
        os._exit(status)


def _confine(request, log):
    """Own process group, die with the fork server, no stdin, output to a capped log, limits."""
    os.setpgid(0, 0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)   # a file the grader opened: the worker can write to it, never reach it by name
    os.dup2(log, 2)
    os.close(log)
    for stream in (sys.stdout, sys.stderr):   # each line reaches the log at once, even if the worker is killed
        stream.reconfigure(encoding="utf-8", errors="backslashreplace", line_buffering=True)
    for kind, value in _limits(request).items():
        resource.setrlimit(kind, (value, value))
    sys.dont_write_bytecode = True
    import torch
    torch.set_num_threads(int(request.get("threads", 1)))


def _limits(request):
    """Resource limits of a worker: no core files, capped output, open files, CPU time and memory."""
    limits = {resource.RLIMIT_CORE: 0, resource.RLIMIT_FSIZE: int(request["output_limit"]),
              resource.RLIMIT_NOFILE: 256, resource.RLIMIT_CPU: int(request["cpu_seconds"])}
    if request.get("memory_limit"):  # none on CUDA, whose driver reserves vast address ranges
        limits[resource.RLIMIT_AS] = int(request["memory_limit"])
    return limits


def main(argv):
    """Entry point of the fork server: ``CONTROL_FD [--uid N] [--nproc N]``."""
    options = dict(zip(argv[1::2], argv[2::2]))
    if "--uid" in options:  # inside bubblewrap, which kept only the rights to do this
        uid = int(options["--uid"])
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if "--nproc" in options:
        resource.setrlimit(resource.RLIMIT_NPROC, (int(options["--nproc"]),) * 2)
    control = socket.socket(fileno=int(argv[0]))
    serve_forks(control)
