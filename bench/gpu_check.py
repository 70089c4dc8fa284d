"""``make gpu-check``: the CUDA path on a real NVIDIA GPU, one line per item; exit 1 when any item fails.

CUDA inside the full sandbox and without it, the reference solutions graded on cuda with every
point, device bugs that each fail exactly their device check, no process left holding the GPU, the
grading time and the peak GPU memory. On a machine without a usable GPU it says so and exits 0.
Every grading is a child process (``grader.child``); this process never initialises CUDA itself.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader import child
from grader.report.verdicts import read
from grader.sandbox.gpu import device_nodes

ROOT = Path(__file__).resolve().parent.parent
DEVICE_CHECKS = ("softmax/device", "cross_entropy/device", "accuracy/device")


@dataclass(frozen=True)
class DeviceBug:
    """A device bug: ``old`` replaced by ``new`` in solutions/``module``.py fails exactly ``check``;
    ``on_meta`` when the meta device exposes it too (so a machine without a GPU tests it)."""

    name: str
    module: str
    old: str
    new: str
    check: str
    on_meta: bool


DEVICE_BUGS = (
    DeviceBug("a hard-coded .cpu() in train_ch3", "train_ch3", "        y_hat = net(X)\n",
              "        y_hat = net(X.cpu())\n", "train_ch3/gpu", on_meta=False),
    DeviceBug('torch.device("cpu") in train_ch3', "train_ch3", "    history = []\n",
              "    history = []\n    if isinstance(net, torch.nn.Module):\n        net.to(torch.device(\"cpu\"))\n",
              "train_ch3/gpu", on_meta=False),
    DeviceBug("a one-hot built on the CPU in cross_entropy", "cross_entropy",
              "    picked = y_hat[torch.arange(len(y_hat), device=y_hat.device), y]\n",
              "    picked = (y_hat * torch.eye(y_hat.shape[1])[y.cpu()]).sum(dim=1)\n", "cross_entropy/device",
              on_meta=True),
    DeviceBug(".numpy() in accuracy", "accuracy", "    return float(cmp.type(y.dtype).sum())\n",
              "    return float((y_hat.type(y.dtype).reshape(-1).numpy() == y.reshape(-1).numpy()).sum())\n",
              "accuracy/device", on_meta=True),
)


@dataclass(frozen=True)
class Item:
    """One line of the check: what was checked, whether it held, and what was seen."""

    name: str
    ok: bool
    seen: str


def with_bug(bug, folder):
    """A copy of solutions/ in ``folder`` with ``bug`` in its module."""
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / f"{bug.module}.py"
    text = path.read_text(encoding="utf-8")
    if text.count(bug.old) != 1:
        raise ValueError(f"the device bug {bug.name!r} does not match solutions/{bug.module}.py exactly once")
    path.write_text(text.replace(bug.old, bug.new), encoding="utf-8")
    return folder


def graded(submission, out, device, only="", sandbox=None, timeout=600):
    """Grade ``submission`` in a child grader; its verdicts and the report's Markdown text (which names the
    sandbox the grading ran in)."""
    env = {key: value for key, value in os.environ.items() if key != "D2L_KIT_SANDBOX"}
    env.update({"D2L_KIT_SANDBOX": sandbox} if sandbox else {})
    status = child.run(submission, out, timeout=timeout, env=env, device=device, only=only)
    if status != 0:
        raise RuntimeError(f"the grader exited with {status}: {read(out / 'verdicts.json').error[:300]}")
    return read(out / "verdicts.json"), (out / "report.md").read_text(encoding="utf-8")


def failed(verdicts):
    return sorted(check_id for check_id, verdict in verdicts.checks.items() if verdict["status"] == "failed")


def cuda_in(sandbox, label, scratch):
    """The device checks pass on cuda under ``sandbox`` (None: every layer this machine allows)."""
    verdicts, markdown = graded(ROOT / "solutions", scratch / f"cuda-{label}", "cuda", ",".join(DEVICE_CHECKS),
                                sandbox)
    kind = next((line.split(":", 2)[1].strip() for line in markdown.splitlines() if line.startswith("- sandbox:")),
                "?")
    ok = verdicts.device == "cuda" and not failed(verdicts) and verdicts.score == verdicts.max_score > 0
    ok = ok and (sandbox is not None or kind == "bubblewrap")
    return Item(f"CUDA usable {label}", ok, f"sandbox {kind}, device {verdicts.device}, "
                                            f"{verdicts.score:g}/{verdicts.max_score:g}, failed: {failed(verdicts)}")


def reference_on_cuda(scratch, baseline):
    """The reference solutions on cuda earn every point, train_ch3/gpu included; time and peak GPU memory."""
    sampler = GpuMemory()
    sampler.start()
    started = time.perf_counter()
    verdicts, _ = graded(ROOT / "solutions", scratch / "reference", "cuda")
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    gpu = verdicts.checks.get("train_ch3/gpu", {})
    ok = verdicts.score == verdicts.max_score == 100 and gpu.get("status") == "passed"
    memory = f"peak GPU memory {peak} MiB above idle" if peak is not None else "peak GPU memory unknown (no nvidia-smi)"
    return Item("reference solutions on cuda", ok, f"{verdicts.score:g}/{verdicts.max_score:g}, train_ch3/gpu "
                f"{gpu.get('status', 'missing')}, {seconds:.1f} s ({seconds / baseline:.1f}x a bare import torch), "
                f"{memory}, failed: {failed(verdicts)}")


def device_bug(bug, scratch):
    """A device bug fails exactly its device check, under a cause about devices."""
    folder = with_bug(bug, scratch / f"bug-{DEVICE_BUGS.index(bug)}")
    out = scratch / f"bug-{DEVICE_BUGS.index(bug)}-report"
    verdicts, _ = graded(folder, out, "cuda")
    causes = json.loads((out / "verdicts.json").read_text(encoding="utf-8")).get("causes") or [{}]
    first = causes[0].get("pitfall", "none")
    ok = failed(verdicts) == [bug.check] and first in (bug.check, "hard-coded-device")
    return Item(f"{bug.name} fails exactly {bug.check}", ok, f"failed: {failed(verdicts)}, first cause: {first}")


def holders():
    """PIDs of the processes that have an NVIDIA device open."""
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd).startswith("/dev/nvidia") for fd in (proc / "fd").iterdir()):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


class GpuMemory(threading.Thread):
    """Samples the GPU memory in use with nvidia-smi while a grading runs; the peak above the first sample."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.done = [], threading.Event()

    def run(self):
        while not self.done.is_set():
            used = smi_memory()
            if used is not None:
                self.samples.append(used)
            self.done.wait(0.2)

    def stop(self):
        self.done.set()
        self.join()
        return max(self.samples) - self.samples[0] if self.samples else None


def smi_memory():
    """MiB of GPU memory in use on all GPUs, or None without nvidia-smi."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return None
    try:
        out = subprocess.run([tool, "--query-gpu=memory.used", "--format=csv,noheader,nounits"], capture_output=True,
                             text=True, timeout=10).stdout
        return sum(int(value) for value in out.split())
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def torch_usable():
    """(True, "") when torch, in a process of its own, can use a GPU; else (False, why not)."""
    probe = ("import torch\nfrom grader.sandbox.gpu import why_unusable\n"
             "print('yes' if torch.cuda.is_available() else why_unusable() or 'torch sees no GPU')")
    said = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    answer = (said.stdout.strip().splitlines() or [said.stderr.strip()[-300:]])[-1]
    return answer == "yes", answer


def import_torch_seconds():
    """Wall seconds of a bare ``python -c "import torch"``, the unit the grading time is stated in."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True, timeout=300)
    return time.perf_counter() - started


def main(argv=None):
    argparse.ArgumentParser(prog="python -m bench.gpu_check", description=__doc__.splitlines()[0]).parse_args(argv)
    if not device_nodes():
        print("no GPU here: this machine has no NVIDIA device files; nothing to check")
        return 0
    usable, why = torch_usable()
    if not usable:
        print(f"no GPU here: {why}")
        return 0
    before, baseline = holders(), import_torch_seconds()
    with tempfile.TemporaryDirectory(prefix="d2l-gpu-check-") as folder:
        scratch = Path(folder)
        items = [cuda_in(None, "inside the full sandbox", scratch), cuda_in("none", "without the sandbox", scratch),
                 reference_on_cuda(scratch, baseline), *(device_bug(bug, scratch) for bug in DEVICE_BUGS)]
    time.sleep(1.0)
    left = sorted(holders() - before)
    items.append(Item("no process left holding the GPU", not left, f"still holding it: {left}" if left else "none"))
    for item in items:
        print(f"{'ok  ' if item.ok else 'FAIL'}  {item.name}: {item.seen}")
    print(f"gpu-check: {sum(item.ok for item in items)} of {len(items)} items hold")
    return 0 if all(item.ok for item in items) else 1


if __name__ == "__main__":
    sys.exit(main())
