"""verdicts.json: the one machine-readable result that everything downstream reads.

Class grading, the gradebook, the Gradescope runner, the notebook's check cells and the bench read
this file, never the other formats. A hidden check's detail (the input that exposed a bug) stays out:
its hint says what to fix, and the full report holds the rest for the instructor.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..results import Status
from ..table import BY_ID
from .text import number, ordered, totals, visible

NAME = "verdicts.json"
FORMAT = 1


def to_verdicts(report):
    """The verdicts of a report as a dict (JSON-ready: no NaN, no lone surrogate)."""
    checks = {}
    for check in ordered(report):
        status = Status.of(check.status)
        shown = not check.hidden or status == Status.NOT_RUN
        checks[check.id] = {"stub": check.stub, "status": status.value, "points": number(check.points),
                            "max_points": number(check.max_points), "hidden": bool(check.hidden),
                            "title": check.title, "hint": check.hint, "detail": visible(check.detail) if shown else ""}
        if check.reference:
            checks[check.id]["reference"] = check.reference
    score, top, _ = totals(report)
    causes = [_cause(cause) for cause in report.causes]
    curves = [{"label": visible(curve.label, 80), "train_loss": [number(v) for v in curve.train_loss],
               "test_acc": [number(v) for v in curve.test_acc], "seconds": number(curve.seconds)}
              for curve in report.curves]
    return {"format": FORMAT, "submission": visible(report.submission, 500), "seed": report.seed,
            "device": visible(report.device, 80), "seconds": number(report.seconds), "error": visible(report.error),
            "score": score, "max_score": top, "checks": checks, "causes": causes, "curves": curves,
            "refused": {visible(name, 200): visible(why, 300) for name, why in report.refused.items()}}


def _cause(cause):
    """A cause as data; the evidence of a hidden check stays out, as its detail does."""
    hidden = BY_ID.get(cause.source) is not None and BY_ID[cause.source].hidden
    return {"pitfall": cause.pitfall, "stub": cause.stub, "checks": list(cause.checks), "points": number(cause.points),
            "title": cause.title, "hint": cause.hint, "where": visible(cause.where, 200),
            "evidence": "" if hidden else visible(cause.evidence)}


@dataclass(frozen=True)
class Verdicts:
    """A verdicts.json read back: the grader's error (empty when grading completed), totals, checks, curves."""

    error: str
    score: float
    max_score: float
    checks: dict = field(default_factory=dict)
    curves: list = field(default_factory=list)

    def points_by_stub(self, stubs):
        """Points earned per stub, for every stub of ``stubs``."""
        earned = {stub: 0.0 for stub in stubs}
        for verdict in self.checks.values():
            if verdict["stub"] in earned:
                earned[verdict["stub"]] = round(earned[verdict["stub"]] + verdict["points"], 2)
        return earned


def read(path):
    """The verdicts in ``path``; ValueError when the file is missing, not JSON or not of this format."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"no readable {NAME} at {path} ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("checks"), dict):
        raise ValueError(f"{path} is not a {NAME} of format {FORMAT}")
    checks = {str(key): {"stub": str(value.get("stub", "")), "status": Status.of(value.get("status")).value,
                         "points": number(value.get("points")), "max_points": number(value.get("max_points")),
                         "hidden": bool(value.get("hidden"))}
              for key, value in data["checks"].items() if isinstance(value, dict)}
    return Verdicts(str(data.get("error") or ""), number(data.get("score")), number(data.get("max_score")), checks,
                    [curve for curve in data.get("curves") or [] if isinstance(curve, dict)])
