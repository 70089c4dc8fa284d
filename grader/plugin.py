"""The pytest plugin the checks run under: their fixtures, and the collector of verdicts.

Data flows one way: the grading run hands the plugin its settings and the checks to run; the
plugin serves fixtures, records one outcome per check and the training curves; the run reads
them back once pytest is done.
"""
import hashlib

import pytest
import torch

from .harness import CheckFailed, Client
from .results import CheckResult, Status
from .table import BY_ID, STUBS


class Collector:
    """Serves fixtures to the checks and records one verdict per check id."""

    def __init__(self, grading, ids, progress=None):
        self.settings, self.wanted, self.progress = grading, set(ids), progress
        self.clients, self.outcomes, self.devices, self.current = {}, {}, {}, None
        self.shared, self.measured = {}, []   # attributes named apart from the fixtures that serve them
        self.printed, self.order = {}, []     # what the student's code printed, per stub (public workers only)

    @pytest.fixture
    def grading(self):
        """The grading run: seed, device, CUDA availability and the data."""
        return self.settings

    @pytest.fixture
    def stub(self, request):
        """The client of the current check's stub: public and hidden checks each get workers of their own."""
        return self.client(_group(BY_ID[_check_id(request.node)]))

    @pytest.fixture
    def rng(self, request):
        """A torch.Generator seeded from the run's seed and the check id, independent of check order."""
        return check_generator(self.settings.seed, _check_id(request.node))

    @pytest.fixture
    def memo(self):
        """Observations that several checks of this run share (the instrumented trainings), made once."""
        return self.shared

    @pytest.fixture
    def curves(self):
        """Where the checks of this run put the training curves they measured."""
        return self.measured

    def client(self, group):
        if group not in self.clients:
            self.clients[group] = Client(group[0], self.settings.server, self._record_device,
                                         self.settings.call_timeout)
        return self.clients[group]

    def _record_device(self, device):
        if self.current:
            self.devices.setdefault(self.current, set()).add(device)

    def pytest_collection_modifyitems(self, config, items):
        seen = set()
        for item in items:
            check_id = _check_id(item)
            if check_id in seen:
                raise pytest.UsageError(f"two checks claim the id {check_id}")
            seen.add(check_id)
        order = {check_id: index for index, check_id in enumerate(BY_ID)}
        items[:] = sorted((item for item in items if _check_id(item) in self.wanted),
                          key=lambda item: (*_group_order(BY_ID[_check_id(item)]), order[_check_id(item)]))
        self.order = [_check_id(item) for item in items]

    def pytest_runtest_setup(self, item):
        self.current = _check_id(item)
        if self.progress:
            self.progress(self.order.index(self.current) + 1, len(self.order), self.current)
        reason = self.settings.cannot_run(BY_ID[self.current])
        if reason:
            pytest.skip(reason)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        check_id = _check_id(item)
        if call.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
            self.outcomes[check_id] = (Status.NOT_RUN, str(call.excinfo.value.msg), call.duration, "")
        elif call.when in ("setup", "call") and call.excinfo is not None:
            error = call.excinfo.value
            self.outcomes[check_id] = (Status.FAILED, _detail(error), call.duration, getattr(error, "culprit", ""))
        elif call.when == "call":
            self.outcomes[check_id] = (Status.PASSED, "", call.duration, "")

    def pytest_runtest_teardown(self, item, nextitem):
        group = _group(BY_ID[_check_id(item)])
        if (nextitem is None or _group(BY_ID[_check_id(nextitem)]) != group) and group in self.clients:
            self._close(group)
        self.current = None

    def close(self):
        """Kill every worker still running (after an interruption, say)."""
        for group in list(self.clients):
            self._close(group)

    def _close(self, group):
        """Kill a group's worker, keeping what the student's code printed there when the group is public
        (a hidden check's worker may print hidden inputs)."""
        client = self.clients.pop(group)
        client.close()
        printed = "" if group[1] else client.printed()
        if printed.strip():
            self.printed[group[0]] = printed

    def results(self, checks):
        """One CheckResult per check asked for; a check without a verdict failed."""
        return tuple(self._result(check) for check in checks)

    def _result(self, check):
        status, detail, seconds, culprit = self.outcomes.get(
            check.id, (Status.FAILED, "no verdict was recorded for this check (grader error)", 0.0, ""))
        unrunnable_here = status == Status.NOT_RUN and not self.settings.counts(check)
        return CheckResult(
            id=check.id, title=check.title, hidden=check.hidden, status=status,
            points=check.points if status == Status.PASSED else 0, max_points=0 if unrunnable_here else check.points,
            hint=check.hint, detail=detail, device="+".join(sorted(self.devices.get(check.id, {"cpu"}))),
            seconds=round(seconds, 3), culprit=culprit, exercise=check.exercise)


def check_generator(seed, check_id):
    """The generator of a check's random inputs: drawn from the grading's seed and the check's id alone."""
    digest = hashlib.sha256(f"{seed}:{check_id}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "big") >> 1)


def _group(check):
    """The worker a check runs in: the stub's public checks share one, its hidden checks another."""
    return check.stub, check.hidden


def _group_order(check):
    """Every public check runs before any hidden one, so no public check's output can show a hidden input."""
    return check.hidden, STUBS.index(check.stub)


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
