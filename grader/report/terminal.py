"""The compact terminal summary: one line per check, the total, then what failed and why."""
import textwrap

from ..results import Status
from .text import ANSI, WIDTH, fmt, mark, ordered, refused_lines, run_line, status_of, total_line, visible

NOT_IMPLEMENTED = "Not implemented yet"


def to_terminal(report, color=False):
    """A compact terminal summary: one line per check, the total, then what failed and why."""
    paint = (lambda text, key: f"\x1b[{ANSI[key]}m{text}\x1b[0m") if color else (lambda text, key: text)
    checks = ordered(report)
    lines = _table(checks, paint) + [paint(total_line(report), "bold"), paint(run_line(report), "dim")]
    if report.error:
        lines += ["", paint("Autograder failed:", Status.FAILED), *_excerpt(report.error, "  ")]
    if report.refused:
        lines += ["", paint("Files not graded:", Status.FAILED)]
        lines += [_clip(f"  {line}", WIDTH) for line in refused_lines(report)]
    return "\n".join(lines + _problems(checks, paint)) + "\n"


def _table(checks, paint):
    """One line per check: its mark, points, id and title, then a rule as wide as the widest line."""
    points = [f"{fmt(check.points)}/{fmt(check.max_points)}" for check in checks]
    points_width = max(map(len, points), default=0)
    id_width = min(max((len(check.id) for check in checks), default=0), 40)
    lines, width = [], 0
    for check, earned in zip(checks, points):
        head = f" {earned:>{points_width}}  {check.id:<{id_width}}  "
        title = _clip(check.title, max(WIDTH - 1 - len(head), 20))
        width = max(width, 1 + len(head) + len(title))
        lines.append(paint(mark(check), status_of(check)) + head + title)
    return lines + ["─" * min(max(width, 40), WIDTH)]


def _problems(checks, paint):
    """The stubs not implemented yet, each failed check's hint and evidence, and the checks not run."""
    failed = [check for check in checks if status_of(check) not in (Status.PASSED, Status.NOT_RUN)]
    todo = [check for check in failed if check.detail.startswith(NOT_IMPLEMENTED)]
    lines = []
    if todo:
        counts = {stub: sum(check.stub == stub for check in todo) for stub in dict.fromkeys(c.stub for c in todo)}
        listed = ", ".join(f"{stub} ({count} check{'s' * (count > 1)})" for stub, count in counts.items())
        lines += ["", paint("Not implemented yet", "bold"),
                  *textwrap.wrap(listed, WIDTH, initial_indent="  ", subsequent_indent="  ")]
    failed = [check for check in failed if check not in todo]
    lines += ["", paint("Failed checks", "bold")] if failed else []
    for check in failed:
        lines.append(f"{paint(mark(check), Status.FAILED)} {check.id}")
        lines += textwrap.wrap(" ".join(check.hint.split()), WIDTH, initial_indent="    ", subsequent_indent="    ")
        lines += _excerpt(check.detail, "    │ ")
    skipped = [check for check in checks if status_of(check) == Status.NOT_RUN]
    lines += ["", paint("Not run", "bold")] if skipped else []
    return lines + [_clip(f"{mark(check)} {check.id}: {visible(check.detail or 'not run here')}", WIDTH)
                    for check in skipped]


def _clip(text, width):
    """One line of at most ``width`` characters, ending in … when cut."""
    text = " ".join(visible(text, 10 * WIDTH).split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _excerpt(text, prefix, count=4):
    """The start of ``text`` wrapped into at most ``count`` lines, with a note when more follows."""
    rows = [piece for row in visible(text).splitlines() if row.strip()
            for piece in textwrap.wrap(" ".join(row.split()), WIDTH - len(prefix))]
    out = [prefix + row for row in rows[:count]]
    if len(rows) > count:
        out.append(f"{prefix}… more in the report")
    return out
