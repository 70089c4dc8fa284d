"""Grading results as small dataclasses; each output format is one function that reads them."""
from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """What became of one check."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"   # it could not run on this machine (no GPU, no data): it earns and costs nothing

    __str__ = str.__str__

    @classmethod
    def of(cls, value):
        """The status named ``value``; anything unknown counts as failed."""
        try:
            return cls(value)
        except ValueError:
            return cls.FAILED


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check: points earned out of ``max_points`` and what the student should read."""

    id: str
    title: str
    hidden: bool
    status: Status
    points: float
    max_points: float    # 0 for a check that could not run on this machine (no GPU)
    hint: str            # the table's hint, shown when the check did not pass
    detail: str = ""     # the input that exposed the pitfall, what came back, what was expected
    device: str = "cpu"  # where the student's code ran: cpu, meta, cuda, or cpu+meta
    seconds: float = 0.0
    culprit: str = ""    # for a training that failed: the stub the grader traced the failure to
    exercise: str = ""   # for a check of one of the book's exercises (worth no points): which one
    reference: str = ""  # for a failed check, once the course shows them: its stub's reference solution

    @property
    def stub(self):
        return self.id.split("/", 1)[0]


@dataclass(frozen=True)
class Cause:
    """What caused some failures: a pitfall (a check id of the table, or a kind such as not-implemented or
    timeout), the stub, every check it cost, the points lost, and the hint and evidence a student reads."""

    pitfall: str
    stub: str
    checks: tuple
    points: float
    title: str
    hint: str
    evidence: str
    where: str = ""      # the student's file and line the evidence points at, when it does
    source: str = ""     # the check whose detail is the evidence


@dataclass(frozen=True)
class Curve:
    """Per-epoch train loss and test accuracy of one training run, as measured by the grader."""

    label: str
    train_loss: tuple
    test_acc: tuple
    seconds: float = 0.0  # the time the student's train_ch3 took, measured in its worker


@dataclass(frozen=True)
class GradeReport:
    """Everything one grading run found; the report writers read only this."""

    submission: str
    seed: int
    device: str
    checks: tuple
    seconds: float
    curves: tuple = ()
    error: str = ""      # set when the grader itself failed: the report then explains why
    environment: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)   # files of the submission not graded ({name: why}): links...
    causes: tuple = ()   # the failures grouped by what caused them, largest first (see grader.diagnosis)
    printed: dict = field(default_factory=dict)   # {stub: the last of what its code printed in public checks}

    @property
    def score(self):
        return round(sum(check.points for check in self.checks), 2)

    @property
    def max_score(self):
        return round(sum(check.max_points for check in self.checks), 2)
