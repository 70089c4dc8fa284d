"""One grading run: the one place that starts a fork server, decides the device and the limits, and runs the checks.

Importing this module is cheap (no torch, no pytest): ``python -m grader`` starts the fork server
with ``start`` before its own heavy imports, so that both import torch at the same time.
"""
import dataclasses
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

from . import course, messages
from .diagnosis import diagnose
from .reference import reference
from .results import GradeReport, Status
from .sandbox import gpu
from .sandbox.pool import ForkServer
from .table import BY_ID, STUBS, checks_for

CHECKS_DIR = Path(__file__).resolve().parent / "checks"


class GraderError(RuntimeError):
    """The grader itself could not run (as opposed to a submission failing its checks)."""


@dataclass(frozen=True)
class Options:
    """What a grading was asked for: ``only`` names stubs or check ids (empty: everything)."""

    seed: int = 0
    device: str = "auto"
    only: tuple = ()
    threads: int = 1
    call_timeout: float = 10.0   # seconds each call of a student function may take; training has its own

    def __post_init__(self):
        object.__setattr__(self, "only", tuple(self.only or ()))


def selection(only):
    """(stubs, check ids) to grade: everything, or the stubs and checks ``only`` names, in table order."""
    unknown = [name for name in only if name not in STUBS and name not in BY_ID]
    if unknown:
        raise GraderError(messages.text("error.unknown-only", names=", ".join(unknown), stubs=", ".join(STUBS)))
    ids = [check.id for check in checks_for() if not only or check.stub in only or check.id in only]
    return [stub for stub in STUBS if any(BY_ID[i].stub == stub for i in ids)], ids


def start(submission, options):
    """Start the fork server of ``submission`` (the only way one is started); every exercise module is copied,
    since the checks of one stub may use others (training from scratch uses softmax, cross_entropy and sgd)."""
    submission = Path(submission).resolve()
    if not submission.is_dir():
        raise GraderError(messages.text("error.no-submission", path=submission))
    selection(options.only)
    return ForkServer.start(submission, STUBS, options.threads)


class Grading:
    """What the checks of one run share: the fork server, seed, device, call timeout, and the data."""

    def __init__(self, server, seed, device, call_timeout, gpu_note="", settings=None):
        self.server, self.seed, self.device, self.call_timeout = server, seed, device, call_timeout
        self.course = settings or course.CourseSettings()   # the course's settings (course.toml or course.json)
        self.gpu_note = gpu_note   # why a GPU whose device files are here was not used ("" otherwise)
        self.cuda = device == "cuda"
        self.secret = int.from_bytes(os.urandom(16), "big")   # never leaves the grader; fresh for every grading
        self._data, self.data_problem = None, ""

    @property
    def data(self):
        """Fashion-MNIST as uint8 tensors, loaded on first use; None when unavailable."""
        if self._data is None and not self.data_problem:
            from datasets import DatasetUnavailable, EnvironmentMismatch, fashion_mnist_uint8
            from datasets.explain import explained
            try:
                self._data = fashion_mnist_uint8()
            except (DatasetUnavailable, EnvironmentMismatch) as error:
                self.data_problem = explained(error)
        return self._data

    def counts(self, check):
        """Whether ``check`` is part of the maximum of this run: a GPU check only where the course counts it."""
        return "cuda" not in check.needs or self.course.gpu_counts(self.cuda)

    def source(self, stub):
        """The text of the submission's module ``stub`` as graded ("" when there is none)."""
        try:
            return (self.server.scratch / "submission" / f"{stub}.py").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def cannot_run(self, check):
        """Why ``check`` cannot run on this machine, or "" when it can."""
        if "cuda" in check.needs and not self.course.gpu_runs():
            return messages.text("not-run.left-out")
        if "cuda" in check.needs and not self.cuda and self.course.gpu == "required":
            return messages.text("not-run.cuda.required", note=self.gpu_note or messages.text("not-run.no-gpu"))
        if "cuda" in check.needs and not self.cuda:
            key = "not-run.cuda.why" if self.gpu_note else "not-run.cuda"
            return messages.text(key, note=self.gpu_note) if self.gpu_note else messages.text(key)
        if "data" in check.needs and self.data is None:
            return messages.text("not-run.data", problem=self.data_problem)
        return ""


def course_settings():
    """The course's settings; a file that cannot be used stops the grading with its message."""
    try:
        return course.load()
    except course.CourseSettingsError as error:
        raise GraderError(str(error)) from None


def resolve_device(device):
    """``auto`` is cuda when torch can use a GPU, else cpu; asking for cuda without one is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise GraderError(messages.text("error.unknown-device", device=repr(device)))
    import torch
    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise GraderError(messages.text("error.no-cuda"))
    return "cuda" if device == "cuda" or (device == "auto" and available) else "cpu"


def worker_limits(device):
    """The limits that depend on the device: no address-space limit on CUDA, which reserves vast ranges."""
    return {"memory_limit": 0} if device == "cuda" else {}


def grade(submission, options=None, server=None, started=None, progress=None, **settings):
    """Grade the folder ``submission`` and return the GradeReport; ``server`` may be started already.

    ``options`` is an Options; without it, ``settings`` are its fields (``grade(folder, device="cpu")``).
    ``progress(position, total, check_id)``, when given, is called as each check starts.
    """
    started, options = started or time.perf_counter(), options or Options(**settings)
    try:
        stubs, ids = selection(options.only)
        device = resolve_device(options.device)
        settings = course_settings()
        gpu_note = gpu.why_unusable() if options.device == "auto" and device == "cpu" else ""
        server = server or start(submission, options)
    except BaseException:
        if server is not None:
            shut_down(server)
        raise
    try:
        server.set_limits(**worker_limits(device))
        grading = Grading(server, options.seed, device, options.call_timeout, gpu_note, settings)
        checks, curves, printed = _run_checks(grading, ids, progress)
        checks = with_references(checks) if settings.shows_reference() else checks
    finally:
        shut_down(server)
    return GradeReport(submission=str(server.submission), seed=options.seed, device=device, checks=checks,
                       seconds=round(time.perf_counter() - started, 2), curves=curves,
                       environment=environment(options, device, stubs, server, gpu_note), refused=dict(server.refused),
                       causes=diagnose(checks), printed=printed)


def with_references(checks):
    """The checks, each failed one carrying its stub's reference solution (where solutions/ is at hand)."""
    return tuple(dataclasses.replace(check, reference=reference(check.stub)) if check.status == Status.FAILED
                 else check for check in checks)


def _run_checks(grading, ids, progress=None):
    """Run the checks ``ids`` under pytest with the kit's plugin: their results, the training curves and what
    the student's code printed in its public workers."""
    import pytest

    from .plugin import Collector
    collector = Collector(grading, ids, progress)
    try:
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        status = pytest.main([str(CHECKS_DIR), "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR),
                              "-p", "no:terminal", "-p", "no:cacheprovider", "-p", "no:stepwise"],
                             plugins=[collector])
    finally:
        collector.close()
    if status == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt("stopped")
    if status not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise GraderError(messages.text("error.checks-failed", status=int(status)))
    return collector.results([BY_ID[i] for i in ids]), tuple(collector.measured), dict(collector.printed)


def shut_down(server):
    """Kill the fork server and everything under it, and remove its scratch folder."""
    server.close()


def environment(options, device, stubs, server, gpu_note=""):
    """What the report says about where and how the grading ran, the limits read back from the pool."""
    import torch
    limits = server.limits
    memory = f"{limits['memory_limit'] >> 30} GiB address space" if limits["memory_limit"] else "no memory limit (CUDA)"
    return {"python": platform.python_version(), "torch": torch.__version__, "device": device,
            "student code": "separate worker processes (one per stub for its public checks, another for its hidden "
                            "ones), clean environment, python -I",
            **server.sandbox.protections(),
            "worker limits": f"{memory}, {limits['cpu_seconds']} s CPU, {limits['output_limit'] >> 20} MiB output, "
                             "256 open files, no core files",
            "threads per worker": str(options.threads), "stubs graded": ", ".join(stubs),
            **({"gpu": gpu_note} if gpu_note else {})}
