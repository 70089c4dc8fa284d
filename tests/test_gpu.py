"""The CUDA path, as far as a machine without a GPU can test it: the sandbox's device arguments, the fork
server that never touches CUDA, DEVICE=auto that says why it used the CPU, and make gpu-check's bugs."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench import gpu_check
from grader.run import grade
from grader.sandbox import bwrap, gpu

ROOT = Path(__file__).resolve().parent.parent
NO_DRIVER = "NVIDIA device files are present, but torch cannot use a GPU: Found no NVIDIA driver on your system."


def fake_dev(tmp_path, *names):
    """A folder standing for /dev with the NVIDIA nodes ``names`` (a name ending in / is a folder)."""
    dev = tmp_path / "dev"
    dev.mkdir(parents=True)
    for name in names:
        (dev / name.rstrip("/")).mkdir() if name.endswith("/") else (dev / name).touch()
    return dev


def test_every_nvidia_node_is_bound_as_a_device_with_sys_and_nothing_without_a_gpu(tmp_path):
    dev = fake_dev(tmp_path, "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-caps/", "null")
    args = gpu.bind_arguments(dev)
    bound = [args[i + 1] for i, arg in enumerate(args) if arg == "--dev-bind"]
    assert bound == [str(dev / name) for name in ("nvidia-caps", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0",
                                                  "nvidiactl")]
    assert args[-3:] == ["--ro-bind", "/sys", "/sys"] and "--bind" not in args
    assert gpu.bind_arguments(fake_dev(tmp_path / "none")) == []


def test_the_device_nodes_come_after_the_sandbox_s_own_dev_which_would_hide_them(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu, "DEV", fake_dev(tmp_path, "nvidia0", "nvidiactl"))
    args = bwrap.arguments("bwrap", tmp_path / "scratch", switch_user=False)
    assert args.index("--dev") < args.index("--dev-bind") and args[args.index("--dev") + 1] == "/dev"
    assert str(gpu.DEV / "nvidia0") in args


def test_nvidia_uvm_is_made_before_the_sandbox_starts_or_the_report_says_why(tmp_path, monkeypatch):
    dev, calls = fake_dev(tmp_path, "nvidia0", "nvidiactl"), []

    def modprobe(command, **_):
        calls.append(command)
        (dev / "nvidia-uvm").touch()
        return subprocess.CompletedProcess(command, 0, "", "")
    monkeypatch.setattr(gpu.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert gpu.ensure_uvm(dev, run=modprobe) == "" and calls == [["/usr/bin/nvidia-modprobe", "-u", "-c=0"]]
    assert gpu.ensure_uvm(dev, run=modprobe) == "" and len(calls) == 1   # there already: nothing is run
    (dev / "nvidia-uvm").unlink()
    refused = gpu.ensure_uvm(dev, run=lambda command, **_: subprocess.CompletedProcess(command, 1, "", "denied"))
    assert "did not create" in refused and "denied" in refused
    monkeypatch.setattr(gpu.shutil, "which", lambda name: None)
    assert "nvidia-modprobe is not installed" in gpu.ensure_uvm(dev)
    assert gpu.ensure_uvm(fake_dev(tmp_path / "cpu-only")) == ""


def test_why_torch_cannot_use_the_gpu_of_device_files_is_the_driver_s_own_reason(tmp_path, monkeypatch):
    dev = fake_dev(tmp_path, "nvidia0", "nvidiactl")

    def no_driver():
        raise RuntimeError("Found no NVIDIA driver on your system.\nmore lines")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "init", no_driver)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    assert gpu.why_unusable(dev) == NO_DRIVER
    monkeypatch.setattr(torch.version, "cuda", None)
    assert "built without CUDA" in gpu.why_unusable(dev)
    assert gpu.why_unusable(fake_dev(tmp_path / "cpu-only")) == ""


def test_device_auto_grades_on_the_cpu_and_the_gpu_check_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu, "why_unusable", lambda: NO_DRIVER)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    report = grade(ROOT / "solutions", device="auto", only=["train_ch3/gpu"])
    [check] = report.checks
    assert report.device == "cpu" and check.status == "not run" and NO_DRIVER in check.detail, check.detail
    assert report.environment["gpu"] == NO_DRIVER


def test_the_fork_server_never_touches_cuda_before_it_forks():
    touched = ("is_available", "init", "_lazy_init", "device_count", "current_device", "set_device",
               "synchronize", "get_device_name")
    program = "\n".join([
        "import sys, torch",
        f"sys.path.insert(0, {str(ROOT / 'grader' / 'sandbox')!r})",
        "def forbidden(name):",
        "    def touched(*args, **kwargs):",
        "        raise SystemExit(f'the fork server touched CUDA: torch.cuda.{name}')",
        "    return touched",
        *(f"torch.cuda.{name} = forbidden({name!r})" for name in touched),
        "from runtime import worker",
        "worker._warm_up()",
        "from runtime import probes, training, library",
        "print('initialised' if torch.cuda.is_initialized() else 'untouched')",
    ])
    run = subprocess.run([sys.executable, "-I", "-c", program], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "untouched", run.stdout + run.stderr


def test_gpu_check_on_a_machine_without_a_gpu_says_so_and_exits_0(monkeypatch, capsys):
    run = subprocess.run([sys.executable, "-m", "bench.gpu_check"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0 and run.stdout.startswith("no GPU here"), run.stdout + run.stderr
    monkeypatch.setattr(gpu_check, "device_nodes", lambda: [Path("/dev/nvidia0")])
    monkeypatch.setattr(gpu_check, "torch_usable", lambda: (False, NO_DRIVER))
    assert gpu_check.main([]) == 0 and capsys.readouterr().out == f"no GPU here: {NO_DRIVER}\n"


BUG_NAMES = [f"{bug.check}-{bug.module}" for bug in gpu_check.DEVICE_BUGS]


@pytest.mark.parametrize("bug", gpu_check.DEVICE_BUGS, ids=BUG_NAMES)
def test_each_device_bug_of_the_gpu_check_fails_exactly_its_check_where_meta_exposes_it(bug, tmp_path):
    report = grade(gpu_check.with_bug(bug, tmp_path / "submission"), device="cpu")
    failed = [check.id for check in report.checks if check.status == "failed"]
    assert failed == ([bug.check] if bug.on_meta else []), [(c.id, c.detail[:300]) for c in report.checks
                                                             if c.status == "failed"]
    if bug.on_meta:   # on cuda the same line fails the same check; without a GPU only the meta device shows it
        assert report.causes[0].pitfall == bug.check
