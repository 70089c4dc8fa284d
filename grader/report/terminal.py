"""The terminal report: the total, then the problems found, largest first, then one line per check."""
import textwrap

from ..results import Status
from .text import (
    ANSI,
    WIDTH,
    cause_of,
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
)

NOT_IMPLEMENTED = "not-implemented"
FULL_EVIDENCE = 2        # the largest causes show their evidence whole; the others its first lines
EXCERPT = 4


def to_terminal(report, color=False):
    """What ``make grade`` prints: the total, each cause with its hint and evidence, then the checks."""
    paint = (lambda text, key: f"\x1b[{ANSI[key]}m{text}\x1b[0m") if color else (lambda text, key: text)
    lines = [paint(total_line(report), "bold"), paint(run_line(report), "dim")]
    if report.error:
        lines += ["", paint("Autograder failed:", Status.FAILED), *_excerpt(report.error, "  ", 40)]
    if report.refused:
        lines += ["", paint("Files not graded:", Status.FAILED)]
        lines += [_clip(f"  {line}", WIDTH) for line in refused_lines(report)]
    lines += _causes(report, paint) + ["", paint("Checks", "bold")] + _table(ordered(report), paint)
    lines += _exercises(report, paint) + _not_run(ordered(report), paint)
    if report.printed:
        files = ", ".join(name for name, _text in printed_parts(report))
        lines += ["", _clip(f"Your code printed something in {files}: see \"What your code printed\" in the report.",
                            WIDTH)]
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
        lines += ["", paint(f"{number}. {heading(cause)}", Status.FAILED)
                  + f"  ({len(cause.checks)} check{'s' * (len(cause.checks) > 1)}, {fmt(cause.points)} points)"]
        lines += textwrap.wrap(" ".join(cause.hint.split()), WIDTH, initial_indent="   ", subsequent_indent="   ")
        lines += _excerpt(cause.evidence, "   │ ", None if number <= FULL_EVIDENCE else EXCERPT)
        lines += textwrap.wrap("costs " + ", ".join(cause.checks), WIDTH, initial_indent="   ",
                               subsequent_indent="         ")
    if todo:
        listed = ", ".join(f"{cause.stub} ({fmt(cause.points)} points)" for cause in todo)
        lines += ["", paint("Not implemented yet", "bold"),
                  *textwrap.wrap(listed, WIDTH, initial_indent="  ", subsequent_indent="  ")]
    return lines


def _table(checks, paint):
    """One line per check: its mark, points, id and title, then a rule as wide as the widest line."""
    points = [f"{fmt(check.points)}/{fmt(check.max_points)}" for check in checks]
    points_width = max(map(len, points), default=0)
    id_width = min(max((len(check.id) for check in checks), default=0), 40)
    lines, width = [], 0
    for check, earned in zip(checks, points):
        head = f" {earned:>{points_width}}  {check.id:<{id_width}}  "
        title = _clip(check.title + (" (exercise)" if check.exercise else ""), max(WIDTH - 1 - len(head), 20))
        width = max(width, 1 + len(head) + len(title))
        lines.append(paint(mark(check), status_of(check)) + head + title)
    return lines + ["─" * min(max(width, 40), WIDTH)] if lines else []


def _exercises(report, paint):
    """The book's exercises that are not solved yet; one that failed only because of another cause (a crash
    in every call, say) is part of that cause's card, not listed here with its own, misleading hint."""
    lines = []
    exercises = [check for check in ordered(report) if check.exercise and status_of(check) == Status.FAILED
                 and getattr(cause_of(report, check), "pitfall", check.id) == check.id]
    if exercises:
        lines += ["", paint("Exercises of the book (3.6.9), reported and not graded", "bold")]
        for check in exercises:
            lines.append(f"{mark(check)} {check.id}: {check.title}")
            lines += textwrap.wrap(" ".join(check.hint.split()), WIDTH, initial_indent="    ",
                                   subsequent_indent="    ")
    return lines


def _not_run(checks, paint):
    """The checks that could not run on this machine, and why."""
    lines = []
    skipped = [check for check in checks if status_of(check) == Status.NOT_RUN]
    if skipped:
        lines += ["", paint("Not run on this machine", "dim")]
        lines += [_clip(f"{mark(check)} {check.id}: {visible(check.detail or 'not run here')}", WIDTH)
                  for check in skipped]
    return lines


def _clip(text, width):
    """One line of at most ``width`` characters, ending in … when cut."""
    text = " ".join(visible(text, 10 * WIDTH).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _excerpt(text, prefix, count=EXCERPT):
    """``text`` wrapped, whole (``count`` None) or its first ``count`` lines with a note when more follows."""
    rows = [piece for row in visible(text).splitlines() if row.strip()
            for piece in textwrap.wrap(" ".join(row.split()), WIDTH - len(prefix))]
    out = [prefix + row for row in (rows if count is None else rows[:count])]
    if count is not None and len(rows) > count:
        out.append(f"{prefix}… more in the report")
    return out
