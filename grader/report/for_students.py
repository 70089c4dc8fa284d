"""The report a student may receive, from the instructor's full one: no hidden check's input or evidence, no
details of the sandbox, and, where the course says so, no hidden check's title or hint either.

The course's ``hidden_checks`` decides, as Gradescope's ``after_published`` does for its tests:
``"titles"`` shows each hidden check's title, status, points and hint; ``"counts"`` shows them as
"a hidden check of softmax" with their points only.
"""
import dataclasses
from pathlib import Path

from .. import messages
from ..files import write_atomic
from ..table import BY_ID, CHECKS

SHOWN_ENVIRONMENT = ("python", "torch", "device")


def _hidden(check_id):
    return BY_ID.get(check_id) is not None and BY_ID[check_id].hidden


def aliases():
    """A name for each hidden check that does not say what it checks: ``softmax/hidden-2``."""
    named, counts = {}, {}
    for check in CHECKS:
        if check.hidden:
            counts[check.stub] = counts.get(check.stub, 0) + 1
            named[check.id] = f"{check.stub}/hidden-{counts[check.stub]}"
    return named


def _check(check, alias):
    if not check.hidden:
        return check
    if alias is None:
        return dataclasses.replace(check, detail="")
    return dataclasses.replace(check, id=alias.get(check.id, check.id), detail="",
                               title=messages.text("cell.hidden", stub=check.stub),
                               hint=messages.text("report.hidden.withheld"))


def _cause(cause, alias):
    if not _hidden(cause.source) and not _hidden(cause.pitfall):
        return cause
    cause = dataclasses.replace(cause, evidence="", where="")
    if alias is None:
        return cause
    checks = tuple(alias.get(check_id, check_id) for check_id in cause.checks)
    if _hidden(cause.pitfall):
        return dataclasses.replace(cause, pitfall=alias[cause.pitfall], checks=checks, source="",
                                   title=messages.text("cell.hidden", stub=cause.stub),
                                   hint=messages.text("report.hidden.withheld"))
    return dataclasses.replace(cause, checks=checks, source="")


def student_view(report, hidden_checks="titles"):
    """The GradeReport a student may receive (the same points: only what is shown changes)."""
    alias = aliases() if hidden_checks == "counts" else None
    return dataclasses.replace(
        report, checks=tuple(_check(check, alias) for check in report.checks),
        causes=tuple(_cause(cause, alias) for cause in report.causes),
        environment={key: value for key, value in report.environment.items() if key in SHOWN_ENVIRONMENT})


def write_student(report, out_dir, hidden_checks="titles"):
    """Write the student's report.html and report.md into ``out_dir``; return their paths."""
    from . import curves_png, to_html, to_markdown
    view = student_view(report, hidden_checks)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        png = curves_png(view)
    except Exception:
        png = None
    return [write_atomic(out_dir / "report.md", to_markdown(view)),
            write_atomic(out_dir / "report.html", to_html(view, png))]
