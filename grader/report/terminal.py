"""The terminal report: the total, then the problems found, largest first, then one line per check."""
from .. import messages
from ..messages.columns import clip, width, wrap
from ..results import Status
from .text import (
    ANSI,
    WIDTH,
    cause_of,
    exercises_heading,
    fmt,
    heading,
    mark,
    ordered,
    printed_parts,
    problems_line,
    refused_lines,
    run_line,
    status_of,
    total_line,
    visible,
    with_note,
    with_tag,
)

NOT_IMPLEMENTED = "not-implemented"
FULL_EVIDENCE = 2        # the largest causes show their evidence whole; the others its first lines
EXCERPT = 4


def to_terminal(report, color=False):
    """What ``make grade`` prints: the total, each cause with its hint and evidence, then the checks."""
    paint = (lambda text, key: f"\x1b[{ANSI[key]}m{text}\x1b[0m") if color else (lambda text, key: text)
    lines = [paint(total_line(report), "bold"), paint(run_line(report), "dim")]
    if report.error:
        lines += ["", paint(messages.text("report.error"), Status.FAILED), *_excerpt(report.error, "  ", 40)]
    if report.refused:
        lines += ["", paint(messages.text("report.refused"), Status.FAILED)]
        lines += [_clip(f"  {line}", WIDTH) for line in refused_lines(report)]
    lines += _causes(report, paint) + ["", paint(messages.text("report.checks"), "bold")]
    lines += _table(ordered(report), paint) + _exercises(report, paint) + _not_run(ordered(report), paint)
    if report.printed:
        files = ", ".join(name for name, _text in printed_parts(report))
        lines += ["", *_paragraphs(messages.text("report.printed.pointer", files=files), "")]
    return "\n".join(lines) + "\n"


def _causes(report, paint):
    """The problems found: a compact line for stubs not implemented yet, a card for every other cause."""
    graded = [cause for cause in report.causes if cause.points > 0]
    if not graded:
        return []
    todo = [cause for cause in graded if cause.pitfall == NOT_IMPLEMENTED]
    cards = [cause for cause in graded if cause.pitfall != NOT_IMPLEMENTED]
    lines = ["", paint(problems_line(report), "bold")]
    for number, cause in enumerate(cards, start=1):
        cost = messages.counted("report.cause.cost", len(cause.checks), points=fmt(cause.points))
        lines += ["", with_note(paint(f"{number}. {heading(cause)}", Status.FAILED), cost)]
        lines += _paragraphs(cause.hint, "   ")
        lines += _excerpt(cause.evidence, "   │ ", None if number <= FULL_EVIDENCE else EXCERPT)
        lines += _paragraphs(messages.text("report.cause.costs", checks=", ".join(cause.checks)), "   ")
    if todo:
        listed = ", ".join(messages.text("report.todo.item", stub=cause.stub, points=fmt(cause.points))
                           for cause in todo)
        lines += ["", paint(messages.text("report.todo"), "bold"), *wrap(listed, WIDTH, "  ")]
    return lines


def _table(checks, paint):
    """One line per check: its mark, points, id and title, then a rule as wide as the widest line."""
    points = [f"{fmt(check.points)}/{fmt(check.max_points)}" for check in checks]
    points_width = max(map(len, points), default=0)
    id_width = min(max((len(check.id) for check in checks), default=0), 40)
    lines, widest = [], 0
    for check, earned in zip(checks, points):
        head = f" {earned:>{points_width}}  {check.id:<{id_width}}  "
        title = _clip(with_tag(check, "report.exercise.tag"), max(WIDTH - 1 - width(head), 20))
        widest = max(widest, 1 + width(head) + width(title))
        lines.append(paint(mark(check), status_of(check)) + head + title)
    return lines + ["─" * min(max(widest, 40), WIDTH)] if lines else []


def _exercises(report, paint):
    """The book's exercises that are not solved yet; one that failed only because of another cause (a crash
    in every call, say) is part of that cause's card, not listed here with its own, misleading hint."""
    lines = []
    exercises = [check for check in ordered(report) if check.exercise and status_of(check) == Status.FAILED
                 and getattr(cause_of(report, check), "pitfall", check.id) == check.id]
    if exercises:
        lines += ["", paint(exercises_heading(exercises), "bold"),
                  *(paint(line, "dim") for line in _paragraphs(messages.text("report.numbering"), ""))]
        for check in exercises:
            lines.append(_clip(f"{mark(check)} {check.id}: {check.title}", WIDTH))
            lines += _paragraphs(check.hint, "    ")
    return lines


def _not_run(checks, paint):
    """The checks that could not run on this machine, and why."""
    lines = []
    skipped = [check for check in checks if status_of(check) == Status.NOT_RUN]
    if skipped:
        lines += ["", paint(messages.text("report.not-run.heading"), "dim")]
        default = messages.text("report.not-run.default")
        lines += [_clip(f"{mark(check)} {check.id}: {visible(check.detail or default)}", WIDTH) for check in skipped]
    return lines


def _paragraphs(text, indent):
    """``text`` wrapped to the report's width, each of its lines (a language under --lang both) its own paragraph."""
    return [line for paragraph in str(text).splitlines() if paragraph.strip()
            for line in wrap(paragraph, WIDTH, indent)]


def _clip(text, columns):
    """One line of at most ``columns`` terminal columns, ending in … when cut."""
    return clip(" ".join(visible(text, 10 * WIDTH).split()), columns)


def _excerpt(text, prefix, count=EXCERPT):
    """``text`` wrapped, whole (``count`` None) or its first ``count`` lines with a note when more follows."""
    rows = [piece for row in visible(text).splitlines() if row.strip()
            for piece in wrap(row, WIDTH - width(prefix))]
    out = [prefix + row for row in (rows if count is None else rows[:count])]
    if count is not None and len(rows) > count:
        out.append(prefix + messages.text("report.more"))
    return out
