"""The corpus of buggy submissions: each bug patches one reference solution in one place."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Bug:
    """A one-place change to ``solutions/<module>.py`` that must fail exactly the checks in ``fails``."""

    check_id: str     # the check this bug is aimed at
    module: str       # the solution module patched, e.g. "softmax"
    old: str          # text of solutions/<module>.py that occurs exactly once
    new: str          # what it is replaced with
    fails: tuple      # every check id of this stub that must fail (check_id among them); all others pass
    says: str         # a phrase the detail of check_id must contain (the concrete evidence)
    cause: str = ""   # the one cause the grader must name for all of them (default: check_id, its own pitfall)

    @property
    def name(self):
        return self.check_id.replace("/", ":")
