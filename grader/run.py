"""One grading run: start the workers, run the checks under pytest, gather the verdicts."""
import os
import platform
import shutil
import time
from pathlib import Path

import pytest
import torch

from .harness import DEFAULT_TIMEOUT
from .plugin import Collector
from .pool import LIMITS, ForkServer
from .results import GradeReport
from .table import STUBS, checks_for

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class GraderError(RuntimeError):
    """The grader itself could not run (as opposed to a submission failing its checks)."""


class Grading:
    """What the checks of one run share: seed, device, the worker pool and the data."""

    def __init__(self, server, seed, device, call_timeout=DEFAULT_TIMEOUT):
        self.server, self.seed, self.device, self.call_timeout = server, seed, device, call_timeout
        self.cuda = device == "cuda"
        self._data, self.data_problem = None, ""
        self.curves, self.memo = [], {}

    @property
    def data(self):
        """Fashion-MNIST as uint8 tensors, loaded on first use; None when unavailable."""
        if self._data is None and not self.data_problem:
            from datasets import DatasetUnavailable, EnvironmentMismatch, fashion_mnist_uint8
            try:
                self._data = fashion_mnist_uint8()
            except (DatasetUnavailable, EnvironmentMismatch) as error:
                self.data_problem = str(error)
        return self._data

    def cannot_run(self, check):
        """Why ``check`` cannot run on this machine, or "" when it can."""
        if "cuda" in check.needs and not self.cuda:
            return "not run here: no CUDA GPU was used for this run (it earns its points where one is present)"
        if "data" in check.needs and self.data is None:
            return f"not run: dataset unavailable. {self.data_problem}"
        return ""


def resolve_device(device):
    """``auto`` is cuda when a GPU is usable, else cpu; asking for cuda without one is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise GraderError(f"unknown device {device!r}: use auto, cpu or cuda")
    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise GraderError("--device cuda was asked for, but torch sees no usable CUDA GPU here")
    return "cuda" if device == "cuda" or (device == "auto" and available) else "cpu"


def selected_stubs(only):
    """The stubs to grade: all, or those named in ``only``."""
    if not only:
        return list(STUBS)
    unknown = [name for name in only if name not in STUBS]
    if unknown:
        raise GraderError(f"unknown stub(s) {', '.join(unknown)}: choose from {', '.join(STUBS)}")
    return [name for name in STUBS if name in only]


def start_server(submission, threads=1, device="auto", hide=()):
    """Start the fork server of a submission early (its torch import overlaps the grader's own);
    ``hide`` lists more folders student code must not see, such as the report folder."""
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise GraderError(f"submission folder {submission} does not exist")
    return ForkServer.start(submission, threads, worker_limits(device), hide)


def worker_limits(device):
    """The memory limit applies to CPU grading only: CUDA reserves vast address ranges."""
    return {"memory_limit": 0} if device in ("auto", "cuda") and torch.cuda.is_available() else {}


def grade(submission, seed=0, device="auto", only=None, threads=1, server=None, started=None, hide=(),
          call_timeout=DEFAULT_TIMEOUT):
    """Grade the folder ``submission`` and return the GradeReport; ``server`` may be started already;
    ``call_timeout`` bounds each call of a student function (training has its own, longer bound)."""
    started = started or time.perf_counter()
    try:
        stubs, device = selected_stubs(only), resolve_device(device)
        server = server or start_server(submission, threads, device, hide)
    except BaseException:
        if server is not None:
            _shut_down(server)
        raise
    submission, scratch = server.submission, server.scratch
    try:
        collector = Collector(Grading(server, seed, device, call_timeout), stubs)
        status = _run_pytest(collector)
        if status == pytest.ExitCode.INTERRUPTED:
            raise KeyboardInterrupt("stopped")
        if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            raise GraderError(f"the checks could not be collected or run (pytest exit status {int(status)})")
        checks = collector.results(checks_for(stubs))
    finally:
        for client in collector.clients.values() if "collector" in locals() else ():
            client.close()
        _shut_down(server)
    return GradeReport(submission=str(submission), seed=seed, device=device, checks=checks,
                       seconds=round(time.perf_counter() - started, 2), curves=tuple(collector.run.curves),
                       environment=environment(device, threads, stubs, server.sandbox))


def _shut_down(server):
    """Kill the fork server and everything under it, and remove its scratch folder."""
    server.close()
    shutil.rmtree(server.scratch, ignore_errors=True)


def _run_pytest(collector):
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    args = [str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
            "-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:stepwise"]
    return pytest.main(args, plugins=[collector])


def environment(device, threads, stubs, sandbox):
    """What the report says about where and how the grading ran."""
    limits = dict(LIMITS, **worker_limits(device))
    memory = f"{limits['memory_limit'] >> 30} GiB address space" if limits["memory_limit"] else "no memory limit (CUDA)"
    return {"python": platform.python_version(), "torch": torch.__version__, "device": device,
            "student code": "separate worker processes, one per stub, clean environment, python -I",
            **sandbox.protections(),
            "worker limits": f"{memory}, {limits['cpu_seconds']} s CPU, {limits['output_limit'] >> 20} MiB output, "
                             "256 open files, no core files",
            "threads per worker": str(threads), "stubs graded": ", ".join(stubs)}
