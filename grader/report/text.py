"""What every report format shares: safe text from student-controlled strings, numbers, totals and order."""
import math
import re

from .. import messages
from ..results import Status
from ..table import BY_ID, CHECKS

WIDTH = 100
TEXT_LIMIT = 4000
MARKS = {Status.PASSED: "✓", Status.FAILED: "✗", Status.NOT_RUN: "–"}
ANSI = {Status.PASSED: "32", Status.FAILED: "31", Status.NOT_RUN: "33", "bold": "1", "dim": "2"}
PROTECTIONS = ("sandbox", "user", "control group", "process limit", "worker limits")
# Control characters, and the invisible ones that reorder or break lines: bidi controls, line and
# paragraph separators, zero-width and byte-order marks.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
                      "\ufeff\ufffe\uffff]")
_ORDER = {check.id: index for index, check in enumerate(CHECKS)}


def number(value):
    """A finite float rounded to cents: NaN, infinities and non-numbers become 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return round(value, 2) if math.isfinite(value) else 0.0


def fmt(value):
    """A number as short text (3, 2.5, 0.33); non-finite values render as nan or inf."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.2f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


def visible(text, limit=TEXT_LIMIT):
    """Student-controlled text made safe to show: control characters escaped, newlines unified, clipped."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)
    if len(text) > limit:
        text = f"{text[:limit]}\n… ({len(text) - limit} more characters)"
    return text


def status_of(check):
    """The check's status, with anything unknown counted as failed."""
    return Status.of(check.status)


def mark(check):
    """The status mark of a check: ✓ passed, ✗ failed, – not run."""
    return MARKS[status_of(check)]


def ordered(report):
    """The report's checks in table order; checks the table does not know come last."""
    return sorted(report.checks, key=lambda check: _ORDER.get(check.id, len(_ORDER)))


def totals(report):
    """(score, maximum, percent) with non-finite points counted as 0."""
    score = round(sum(number(check.points) for check in report.checks), 2)
    top = round(sum(number(check.max_points) for check in report.checks), 2)
    return score, top, round(100 * score / top, 1) if top > 0 else 0.0


def total_line(report):
    """``Total: S / M (P%)``."""
    score, top, percent = totals(report)
    return messages.text("report.total", score=fmt(score), top=fmt(top), percent=fmt(percent))


def run_line(report):
    """Seed, device and wall time of the grading run on one line."""
    return messages.text("report.run", seed=report.seed, device=visible(report.device, 80),
                         seconds=fmt(number(report.seconds)))


def cause_of(report, check):
    """The cause a failed check belongs to, or None."""
    return next((cause for cause in report.causes if check.id in cause.checks), None)


def check_output(check, cause=None):
    """What a student reads about one check: a short pass line, or its cause's hint (the check's own without
    one) followed by the detail."""
    status = status_of(check)
    if status == Status.PASSED:
        return messages.text("report.passed-on", device=visible(check.device, 80), seconds=fmt(number(check.seconds)))
    if status == Status.NOT_RUN:
        return messages.text("report.not-run", why=visible(check.detail) or messages.text("report.not-run.default"))
    hint = messages.text("report.cause.lead", heading=heading(cause), hint=cause.hint) \
        if cause is not None and cause.pitfall != check.id else check.hint
    return hint + (f"\n\n{visible(check.detail)}" if check.detail else "") + \
        (f"\n\n{reference_text(check)}" if check.reference else "")


def reference_text(check):
    """The reference solution a failed check carries once the course shows them, under its label."""
    return f"{messages.text('report.reference', stub=check.stub)}\n{check.reference}"


def heading(cause):
    """A cause as a heading: the pitfall's check id and title, or what happened to the stub."""
    return f"{cause.pitfall}: {cause.title}" if cause.pitfall in BY_ID else cause.title


def problems_line(report):
    """``N problems found (P points)``, counting the causes that cost points; "" when there are none."""
    graded = [cause for cause in report.causes if cause.points > 0]
    lost = fmt(sum(cause.points for cause in graded))
    return messages.counted("report.problems", len(graded), points=lost) if graded else ""


def refused_lines(report):
    """One line per file of the submission that was not graded, and why (a link is never followed)."""
    return [f"{visible(name, 200)} {visible(why, 300)}" for name, why in sorted(report.refused.items())]


def environment_lines(report):
    """``name: value`` for every entry of the report's environment."""
    return [f"{name}: {value}" for name, value in report.environment.items()]


def protection_lines(report):
    """How student code was confined on this run, so a score can be weighed."""
    return [f"{name.capitalize()}: {report.environment[name]}" for name in PROTECTIONS if name in report.environment]


def exercises_heading(checks):
    """The heading over the book's exercises among ``checks``, with their sections (3.6.9: the same number in the
    English v0.17 and the Chinese 2.0 editions)."""
    return messages.text("report.exercises", section=", ".join(sorted({section_of(check) for check in checks})))


def with_note(text, note):
    """``text`` followed by a note in parentheses: a space before an ASCII one, none before a full-width （."""
    return f"{text}{'' if note.startswith('（') else ' '}{note}" if note else text


def title_in(check, language):
    """The check's title in ``language`` (as graded, for a check the catalogue does not know)."""
    key = f"check.{check.id}.title"
    return messages.text(key, language) if key in messages.catalogue() else check.title


def with_tag(check, key):
    """The check's title, and the note ``key`` (which may name the exercise) when it judges one of the book's
    exercises; under --lang both, each language's title with its own note."""
    if not check.exercise:
        return check.title
    return messages.each(lambda language: with_note(title_in(check, language), messages.text(
        key, language, exercise=exercise_name(check, language))))


def exercise_note(check):
    """That ``check`` judges one of the book's exercises, which one, and that it is not graded."""
    return messages.each(lambda language: messages.text("exercise.note", language,
                                                        exercise=exercise_name(check, language)))


def section_of(check):
    """The section of the book whose exercise ``check`` judges (its exercise is ``section/number``)."""
    return check.exercise.partition("/")[0]


def exercise_name(check, language=None):
    """The book's exercise that ``check`` judges, as the reader's edition names it: 3.6.9, exercise 1."""
    section, _, number = check.exercise.partition("/")
    return messages.text("report.exercise.name", language, section=section, number=number)


def printed_parts(report):
    """(file name, text) for each stub whose code printed something, in the order of the stubs."""
    return [(f"{stub}.py", visible(report.printed[stub].rstrip())) for stub in sorted(report.printed, key=_stub_order)]


def _stub_order(stub):
    return min((index for check_id, index in _ORDER.items() if check_id.startswith(stub + "/")), default=len(_ORDER))
