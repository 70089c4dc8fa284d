"""The NVIDIA GPU and the sandbox: the device nodes it binds, /dev/nvidia-uvm made before it starts, and
why torch cannot use a GPU whose device files are there.

Nothing here initialises CUDA in a process that forks: the fork server never touches CUDA (a fork
after CUDA's initialisation cannot use it), and each worker initialises CUDA for itself.
"""
import shutil
import subprocess
from pathlib import Path

DEV = Path("/dev")
SYSTEM_FILES = ("/sys",)   # CUDA and NVML read the PCI topology and the driver's parameters there


def device_nodes(dev=None):
    """The NVIDIA device nodes of this machine (nvidia0, nvidiactl, nvidia-uvm, nvidia-caps, ...)."""
    try:
        return sorted((dev or DEV).glob("nvidia*"))
    except OSError:
        return []


def bind_arguments(dev=None):
    """bubblewrap's arguments that make the GPU usable inside: every device node bound as a device
    (--dev-bind: a plain bind would make it unusable, "Insufficient Permissions"), and /sys read-only."""
    nodes = device_nodes(dev)
    args = [arg for node in nodes for arg in ("--dev-bind", str(node), str(node))]
    return args + [arg for path in SYSTEM_FILES for arg in ("--ro-bind", path, path)] if nodes else args


def ensure_uvm(dev=None, run=subprocess.run):
    """Make /dev/nvidia-uvm before the sandbox starts, where the driver is loaded and it is missing; "" when it
    is there (or no GPU is), else why not. CUDA creates it on first use with nvidia-modprobe, a setuid
    program that cannot work under the sandbox's no_new_privs."""
    dev = dev or DEV
    if not (dev / "nvidiactl").exists() or (dev / "nvidia-uvm").exists():
        return ""
    tool = shutil.which("nvidia-modprobe")
    if tool is None:
        return f"{dev / 'nvidia-uvm'} is missing and nvidia-modprobe is not installed to create it"
    try:
        done = run([tool, "-u", "-c=0"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as error:
        return f"nvidia-modprobe -u could not run ({error})"
    if (dev / "nvidia-uvm").exists():
        return ""
    return f"nvidia-modprobe -u did not create {dev / 'nvidia-uvm'}: {(done.stderr or done.stdout).strip()[:200]}"


def why_unusable(dev=None):
    """Why torch cannot use the NVIDIA GPU whose device files are here; "" when it can, or when there are none."""
    if not device_nodes(dev):
        return ""
    import torch
    if torch.cuda.is_available():
        return ""
    if not torch.version.cuda:
        return f"NVIDIA device files are present, but this torch ({torch.__version__}) is built without CUDA"
    try:
        torch.cuda.init()   # says why, where is_available() only says no; this process never forks
    except Exception as error:   # any failure of the driver is the reason to report
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"NVIDIA device files are present, but torch cannot use a GPU: {reason[:300]}"
    return "NVIDIA device files are present, but torch sees no usable GPU"
