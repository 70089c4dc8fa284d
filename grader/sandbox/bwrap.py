"""The bubblewrap command line of a grading: the sandbox's file system holds only what grading needs.

Read-only: the system's programs and libraries (/usr and its links), a few files of /etc, the
Python environment, the runtime package and the copy of the student's modules. Writable: a home
and a /tmp of bounded size, gone with the sandbox. Then /dev, a fresh /proc, and the NVIDIA
devices with /sys where there are some. Nothing else of the host is there: no other submission,
report, record or course folder, and no copy of the kit.
"""
import sys
from pathlib import Path

from . import gpu

INSIDE = Path("/grading")            # where the sandbox sees its own folders
SYSTEM = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "passwd", "group", "nsswitch.conf", "localtime", "fonts",
       "alternatives")
HOME_SIZE = 128 << 20                # everything student code may write, in all its files together
TMP_SIZE = 64 << 20


def places():
    """The runtime package's folder, the submission copy and the home, as the sandbox sees them."""
    return {"lib": INSIDE / "lib", "submission": INSIDE / "submission", "home": INSIDE / "home"}


def python_paths():
    """The folders this Python and its packages live in, none inside another."""
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent}
    paths = {path.resolve() for path in paths} | paths
    return sorted((p for p in paths if not any(o in p.parents for o in paths)), key=lambda p: len(p.parts))


def arguments(bwrap, scratch, switch_user):
    """bubblewrap's arguments up to ``--`` for a grading whose host-side folders are in ``scratch``."""
    # /tmp first: the Python environment or the scratch folder may live below it and are bound on top
    args, made = [bwrap, "--perms", "1777", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"], {Path("/"), Path("/tmp")}

    def parents(path):   # bubblewrap would create missing parents private (0700): the sandbox user must pass
        fresh = [p for p in reversed(path.parents) if p not in made]
        made.update(fresh + [path])
        return [arg for p in fresh for arg in ("--perms", "0755", "--dir", str(p))]

    for name in SYSTEM:
        host = Path("/", name)
        if host.is_symlink():
            args += ["--symlink", str(host.readlink()), str(host)]
        elif host.is_dir():
            args += parents(host) + ["--ro-bind", str(host), str(host)]
    binds = [Path("/etc", name) for name in ETC if Path("/etc", name).exists()] + python_paths()
    for path in binds:
        args += parents(path) + ["--ro-bind", str(path), str(path)]
    inside = places()
    for name in ("lib", "submission"):
        args += parents(inside[name]) + ["--ro-bind", str(scratch / name), str(inside[name])]
    args += parents(inside["home"]) + ["--perms", "0777", "--size", str(HOME_SIZE), "--tmpfs", str(inside["home"])]
    args += ["--dev", "/dev", "--proc", "/proc"]
    args += gpu.bind_arguments()   # after --dev /dev, which would hide them
    if switch_user:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args + ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                   "--new-session", "--chdir", str(inside["home"])]
