"""The check table: every check's id, points, visibility and needs, read from table.json.

Titles and hints live in the message catalogues (grader/messages), keyed by the check's id. A
student handout's table.json holds only the public rows and, under ``hidden``, how many hidden
checks each stub has and their points.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from . import messages
from .messages.columns import width as columns

DATA = json.loads(Path(__file__).with_name("table.json").read_text(encoding="utf-8"))
STUBS = tuple(DATA["stubs"])
TOTAL = DATA["total"]


@dataclass(frozen=True)
class Check:
    """One graded check: ``id`` is ``stub/aspect``; ``needs`` is "", "data", "cuda" or "cuda+data".

    A check with ``exercise`` judges one of the book's own exercises (3.6.9: a numerically stable
    softmax and cross-entropy), which the chapter's printed code leaves to the reader: it is reported
    and diagnosed like any other check, and is worth no points, so the book's code earns full marks.
    """

    id: str
    points: int
    hidden: bool
    needs: str = ""
    exercise: str = ""

    @property
    def stub(self):
        return self.id.split("/", 1)[0]

    @property
    def title(self):
        return messages.text(f"check.{self.id}.title")

    @property
    def hint(self):
        return messages.text(f"check.{self.id}.hint")


CHECKS = tuple(Check(row["id"], row["points"], row["visibility"] == "hidden", row.get("needs", ""),
                     row.get("exercise", "")) for row in DATA["checks"])
BY_ID = {check.id: check for check in CHECKS}


def checks_for(stubs=None):
    """The checks of the given stubs (all when None), in table order."""
    return [check for check in CHECKS if stubs is None or check.stub in stubs]


def hidden_by_stub():
    """{stub: (count, points)} of the hidden checks, from the rows or, in a handout, from the summary."""
    if DATA.get("hidden") is not None:
        return {stub: tuple(counted) for stub, counted in DATA["hidden"].items()}
    found = {}
    for check in CHECKS:
        if check.hidden:
            count, points = found.get(check.stub, (0, 0))
            found[check.stub] = (count + 1, points + check.points)
    return found


def hidden_summary(language=None):
    """What a student handout says about the checks it does not contain: how many, their points, what they cover."""
    counted = hidden_by_stub()
    lines = [messages.text("report.hidden.intro", language, count=sum(c for c, _ in counted.values()),
                           points=sum(p for _, p in counted.values()))]
    for stub, (count, points) in counted.items():
        amount = messages.counted("report.hidden.amount", count, language, points=points)
        covers = messages.text(f"hidden.{stub}", language)
        lines.append(f"  {stub:<15} {amount}{' ' * max(20 - columns(amount), 0)} {covers}")
    return "\n".join(lines)


def rows(public_only=False):
    """The table as data: what table.json holds (a handout's: the public rows and a summary of the rest)."""
    kept = [check for check in CHECKS if not (public_only and check.hidden)]
    data = {"stubs": list(STUBS), "total": TOTAL,
            "checks": [{"id": c.id, "points": c.points, "visibility": "hidden" if c.hidden else "public",
                        **({"needs": c.needs} if c.needs else {}), **({"exercise": c.exercise} if c.exercise else {})}
                       for c in kept]}
    if public_only:
        data["hidden"] = {stub: list(counted) for stub, counted in hidden_by_stub().items()}
    return data


def validate():
    """The table's invariants: unique ids, known stubs, texts for every check, TOTAL points in all."""
    if len(BY_ID) != len(CHECKS):
        raise ValueError("duplicate check ids in the check table")
    if any(check.stub not in STUBS for check in CHECKS):
        raise ValueError("a check names an unknown stub")
    hidden = sum(points for _count, points in hidden_by_stub().values()) if DATA.get("hidden") else 0
    if sum(check.points for check in CHECKS) + hidden != TOTAL:
        raise ValueError(f"the check table must total {TOTAL} points")
    for check in CHECKS:  # a missing text raises KeyError here, at import
        messages.text(f"check.{check.id}.title", "en"), messages.text(f"check.{check.id}.hint", "en")


validate()
