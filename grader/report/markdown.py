"""The report as Markdown: totals, a table of checks, what to fix, the curves and the environment."""
import re

from ..results import Status
from .text import environment_lines, fmt, mark, ordered, refused_lines, run_line, status_of, total_line, visible


def to_markdown(report):
    """The whole report as Markdown text."""
    checks = ordered(report)
    lines = [f"# Grading report: {_cell(report.submission)}", "", f"**{total_line(report)}**", "",
             run_line(report), ""]
    if report.error:
        lines += ["## Autograder failed", "", *_fence(report.error), ""]
    if report.refused:
        lines += ["## Files not graded", "", *(f"- {_cell(line)}" for line in refused_lines(report)), ""]
    if checks:
        lines += ["| | Check | Title | Points |", "|:-:|---|---|--:|"]
        lines += [f"| {mark(check)} | `{check.id}` | {_cell(check.title)} | "
                  f"{fmt(check.points)} / {fmt(check.max_points)} |" for check in checks]
        lines.append("")
    todo = [check for check in checks if status_of(check) != Status.PASSED]
    if todo:
        lines += ["## What to fix", ""]
        for check in todo:
            lines += [f"### {mark(check)} `{check.id}`: {_cell(check.title)}", ""]
            lines += (["Not run on this machine.", ""] if status_of(check) == Status.NOT_RUN else []) + [check.hint, ""]
            lines += [*_fence(check.detail), ""] if check.detail else []
    if report.curves:
        lines += ["## Training curves", "", "![curve](curves.png)", ""]
    if report.environment:
        lines += ["## Environment", "", *(f"- {_cell(line)}" for line in environment_lines(report)), ""]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text):
    """Text that fits in one Markdown table cell or heading."""
    return " ".join(visible(text, 300).split()).replace("|", "\\|")


def _fence(text):
    """A fenced code block around ``text``, its fence longer than any backtick run inside."""
    text = visible(text)
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{ticks}text", text, ticks]
