"""The report as Markdown: the total, the problems found, the checks, the book's exercises, the curves."""
import re

from ..results import Status
from .text import (
    PRINTED_NOTE,
    environment_lines,
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


def to_markdown(report):
    """The whole report as Markdown text."""
    checks = ordered(report)
    lines = [f"# Grading report: {_cell(report.submission)}", "", f"**{total_line(report)}**", "",
             run_line(report), ""]
    if report.error:
        lines += ["## Autograder failed", "", *_fence(report.error), ""]
    if report.refused:
        lines += ["## Files not graded", "", *(f"- {_cell(line)}" for line in refused_lines(report)), ""]
    lines += _causes(report) + _table(checks) + _failures(checks)
    if report.printed:
        lines += ["## What your code printed", "", PRINTED_NOTE, ""]
        for name, text in printed_parts(report):
            lines += [f"### {_cell(name)}", "", *_fence(text), ""]
    if report.curves:
        lines += ["## Training curves", "", "![curve](curves.png)", ""]
    if report.environment:
        lines += ["<details><summary>Grading environment (for the instructor)</summary>", "",
                  *(f"- {_cell(line)}" for line in environment_lines(report)), "", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def _causes(report):
    """One section per cause that cost points, largest first: its hint, its evidence, the checks it cost."""
    graded = [cause for cause in report.causes if cause.points > 0]
    if not graded:
        return []
    lines = [f"## {problems_line(report)}", ""]
    for number, cause in enumerate(graded, start=1):
        lines += [f"### {number}. {_cell(heading(cause))} ({fmt(cause.points)} points)", "", cause.hint, ""]
        lines += [*_fence(cause.evidence), ""] if cause.evidence else []
        lines += ["Checks it cost: " + ", ".join(f"`{check}`" for check in cause.checks), ""]
    return lines


def _table(checks):
    """The checks, one row each."""
    if not checks:
        return []
    rows = [f"| {mark(check)} | `{check.id}` | {_cell(check.title)}{' (exercise of the book)' * bool(check.exercise)}"
            f" | {fmt(check.points)} / {fmt(check.max_points)} |" for check in checks]
    return ["## Checks", "", "| | Check | Title | Points |", "|:-:|---|---|--:|", *rows, ""]


def _failures(checks):
    """Each failed check's hint and evidence (the problems above group them); the unsolved exercises apart."""
    failed = [check for check in checks if status_of(check) == Status.FAILED]
    lines = ["## Failed checks", ""] if failed else []
    for check in failed:
        note = f" (exercise {check.exercise}, not graded)" if check.exercise else ""
        lines += [f"### {mark(check)} `{check.id}`: {_cell(check.title)}{note}", "", check.hint, ""]
        lines += [*_fence(check.detail), ""] if check.detail else []
    return lines


def _cell(text):
    """Text that fits in one Markdown table cell or heading."""
    return " ".join(visible(text, 300).split()).replace("|", "\\|")


def _fence(text):
    """A fenced code block around ``text``, its fence longer than any backtick run inside."""
    text = visible(text)
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{ticks}text", text, ticks]
