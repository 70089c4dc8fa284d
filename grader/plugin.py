"""The pytest plugin the checks run under: their fixtures, and the collector of verdicts."""
import hashlib

import pytest
import torch

from .harness import CheckFailed, Client
from .results import FAILED, NOT_RUN, PASSED, CheckResult
from .table import BY_ID


class Collector:
    """Serves fixtures to the checks and records one verdict per check id."""

    def __init__(self, run, stubs):
        self.run, self.stubs = run, set(stubs)
        self.clients, self.outcomes, self.devices, self.current = {}, {}, {}, None

    @pytest.fixture
    def grading(self):
        """The grading run: seed, device, CUDA availability and the data."""
        return self.run

    @pytest.fixture
    def stub(self, request):
        """The client of the stub the current check belongs to."""
        return self.client(BY_ID[_check_id(request.node)].stub)

    @pytest.fixture
    def rng(self, request):
        """A torch.Generator seeded from the run's seed and the check id, independent of check order."""
        digest = hashlib.sha256(f"{self.run.seed}:{_check_id(request.node)}".encode()).digest()
        return torch.Generator().manual_seed(int.from_bytes(digest[:8], "big") >> 1)

    def client(self, stub):
        if stub not in self.clients:
            self.clients[stub] = Client(stub, self.run.server, self._record_device, self.run.call_timeout)
        return self.clients[stub]

    def _record_device(self, device):
        if self.current:
            self.devices.setdefault(self.current, set()).add(device)

    def pytest_collection_modifyitems(self, config, items):
        seen, kept = set(), []
        for item in items:
            check_id = _check_id(item)
            if check_id in seen:
                raise pytest.UsageError(f"two checks claim the id {check_id}")
            seen.add(check_id)
            if BY_ID[check_id].stub in self.stubs:
                kept.append(item)
        items[:] = kept

    def pytest_runtest_setup(self, item):
        self.current = _check_id(item)
        reason = self.run.cannot_run(BY_ID[self.current])
        if reason:
            pytest.skip(reason)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        check_id = _check_id(item)
        if call.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
            self.outcomes[check_id] = (NOT_RUN, str(call.excinfo.value.msg), call.duration)
        elif call.when in ("setup", "call") and call.excinfo is not None:
            self.outcomes[check_id] = (FAILED, _detail(call.excinfo.value), call.duration)
        elif call.when == "call":
            self.outcomes[check_id] = (PASSED, "", call.duration)

    def pytest_runtest_teardown(self, item, nextitem):
        stub = BY_ID[_check_id(item)].stub
        if nextitem is None or BY_ID[_check_id(nextitem)].stub != stub:
            if stub in self.clients:
                self.clients.pop(stub).close()
        self.current = None

    def results(self, checks):
        """One CheckResult per check of the table that was asked for; a missing verdict fails."""
        return tuple(self._result(check) for check in checks)

    def _result(self, check):
        status, detail, seconds = self.outcomes.get(
            check.id, (FAILED, "no verdict was recorded for this check (grader error)", 0.0))
        unrunnable_here = status == NOT_RUN and "cuda" in check.needs and not self.run.cuda
        return CheckResult(
            id=check.id, title=check.title, hidden=check.hidden, status=status,
            points=check.points if status == PASSED else 0, max_points=0 if unrunnable_here else check.points,
            hint=check.hint, detail=detail, device="+".join(sorted(self.devices.get(check.id, {"cpu"}))),
            seconds=round(seconds, 3))


def _check_id(item):
    marker = item.get_closest_marker("check")
    if marker is None or not marker.args or marker.args[0] not in BY_ID:
        raise pytest.UsageError(f"{item.nodeid} has no check id from the table")
    return marker.args[0]


def _detail(error):
    if isinstance(error, CheckFailed):
        return str(error)
    if isinstance(error, AssertionError):
        return str(error) or "an expectation of this check was not met"
    return f"the check itself failed ({type(error).__name__}: {error}); this is a grader error, please report it"

