"""The report as Markdown: the total, the problems found, the checks, the book's exercises, the curves."""
import re

from .. import messages
from ..results import Status
from .text import (
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
    with_note,
    with_tag,
)


def to_markdown(report):
    """The whole report as Markdown text."""
    checks = ordered(report)
    lines = [f"# {messages.text('report.title')}: {_cell(report.submission)}", "", f"**{total_line(report)}**", "",
             run_line(report), ""]
    if report.error:
        lines += [f"## {messages.text('report.error')}", "", *_fence(report.error), ""]
    if report.refused:
        lines += [f"## {messages.text('report.refused')}", "",
                  *(f"- {_cell(line)}" for line in refused_lines(report)), ""]
    lines += _causes(report) + _table(checks) + _failures(checks)
    if report.printed:
        lines += [f"## {messages.text('report.printed')}", "", messages.text("report.printed.note"), ""]
        for name, text in printed_parts(report):
            lines += [f"### {_cell(name)}", "", *_fence(text), ""]
    if report.curves:
        picture = f"![{messages.text('report.curves.alt')}](curves.png)"
        lines += [f"## {messages.text('report.curves')}", "", picture, ""]
    lines += [f"*{messages.text('report.numbering')}*", ""]
    if report.environment:
        lines += [f"<details><summary>{messages.text('report.environment')}</summary>", "",
                  *(f"- {_cell(line)}" for line in environment_lines(report)), "", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def _causes(report):
    """One section per cause that cost points, largest first: its hint, its evidence, the checks it cost."""
    graded = [cause for cause in report.causes if cause.points > 0]
    if not graded:
        return []
    lines = [f"## {problems_line(report)}", ""]
    for number, cause in enumerate(graded, start=1):
        points = messages.text("report.cause.points", points=fmt(cause.points))
        lines += [f"### {number}. {_cell(with_note(heading(cause), points))}", "", *_paragraphs(cause.hint)]
        lines += [*_fence(cause.evidence), ""] if cause.evidence else []
        lines += [messages.text("report.cause.checks", checks=", ".join(f"`{check}`" for check in cause.checks)), ""]
    return lines


def _table(checks):
    """The checks, one row each."""
    if not checks:
        return []
    rows = [f"| {mark(check)} | `{check.id}` | {_cell(with_tag(check, 'report.exercise.long'))}"
            f" | {fmt(check.points)} / {fmt(check.max_points)} |" for check in checks]
    head = " | ".join(messages.text(f"report.column.{name}") for name in ("check", "title", "points"))
    return [f"## {messages.text('report.checks')}", "", f"| | {head} |", "|:-:|---|---|--:|", *rows, ""]


def _failures(checks):
    """Each failed check's hint and evidence (the problems above group them); the unsolved exercises apart."""
    failed = [check for check in checks if status_of(check) == Status.FAILED]
    lines = [f"## {messages.text('report.failed')}", ""] if failed else []
    for check in failed:
        title = _cell(with_tag(check, "report.exercise.graded-not"))
        lines += [f"### {mark(check)} `{check.id}`: {title}", "", *_paragraphs(check.hint)]
        lines += [*_fence(check.detail), ""] if check.detail else []
        if check.reference:
            lines += [messages.text("report.reference", stub=check.stub), "", *_fence(check.reference), ""]
    return lines


def _paragraphs(text):
    """Each line of ``text`` (a language under --lang both) as its own paragraph."""
    return [line for paragraph in str(text).splitlines() if paragraph.strip() for line in (paragraph, "")]


def _cell(text):
    """Text that fits in one Markdown table cell or heading."""
    return " ".join(visible(text, 300).split()).replace("|", "\\|")


def _fence(text):
    """A fenced code block around ``text``, its fence longer than any backtick run inside."""
    text = visible(text)
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{ticks}text", text, ticks]
