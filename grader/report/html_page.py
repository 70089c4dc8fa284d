"""The grading report as one self-contained HTML page: inline CSS, the curves embedded as a data URI."""
import base64
from html import escape

from .. import messages
from ..results import Status
from .text import (
    exercise_note,
    fmt,
    heading,
    mark,
    number,
    ordered,
    printed_parts,
    problems_line,
    refused_lines,
    run_line,
    status_of,
    total_line,
    visible,
)

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC",
       sans-serif; max-width: 1000px; margin: 2em auto;
       padding: 0 1em; color: #1d2125; }
h1 small { color: #6a737d; font-weight: normal; font-size: 0.6em; }
.total { font-size: 1.3em; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #e1e4e8; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
td.points { text-align: right; white-space: nowrap; }
.status { font-weight: 600; white-space: nowrap; border-radius: 3px; }
.passed { color: #116329; background: #dafbe1; }
.failed { color: #a40e26; background: #ffebe9; }
.not-run { color: #6a5300; background: #fff8c5; }
section.fix { border-left: 4px solid #cf222e; padding: 0.2em 1em; margin: 1em 0; background: #fafbfc; }
section.fix.not-run { border-color: #bf8700; }
.hint { font-weight: 500; }
pre { background: #f6f8fa; padding: 0.7em; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
.error { border: 2px solid #cf222e; padding: 0.5em 1em; background: #ffebe9; }
img { max-width: 100%; }
section.cause { border-left: 4px solid #cf222e; padding: 0.2em 1em; margin: 1em 0; background: #fff8f7; }
section.cause .checks { color: #57606a; font-size: 0.9em; }
details { margin: 1em 0; }
summary { cursor: pointer; font-weight: 600; }
"""


SLOT = "\ue000"   # where the checks' list goes into a translated label


def _e(text):
    """Student-controlled text, control characters made visible, HTML-escaped."""
    return escape(visible(text), quote=True)


def _css_class(check):
    """The CSS class of a check's status."""
    return status_of(check).replace(" ", "-")


def _rows(pairs):
    """Key/value pairs as the rows of a two-column table."""
    return "".join(f"<tr><th>{_e(key)}</th><td>{_e(value)}</td></tr>" for key, value in pairs)


def _summary(report):
    """The header: title, total, the run line, the run's facts and any grader failure."""
    facts = [(messages.text(f"report.fact.{name}"), value) for name, value in (
        ("submission", report.submission), ("seed", report.seed), ("device", report.device),
        ("seconds", messages.text("report.seconds", seconds=fmt(number(report.seconds)))))]
    parts = [f"<h1>{_e(messages.text('report.title'))} <small>{_e(report.submission)}</small></h1>",
             f'<p class="total">{_e(total_line(report))}</p>', f"<p>{_e(run_line(report))}</p>",
             f'<table class="meta">{_rows(facts)}</table>']
    if report.error:
        parts.append(f'<div class="error"><h2>{_e(messages.text("report.error"))}</h2><pre>{_e(report.error)}</pre>'
                     "</div>")
    if report.refused:
        items = "".join(f"<li>{_e(line)}</li>" for line in refused_lines(report))
        parts.append(f'<div class="error"><h2>{_e(messages.text("report.refused"))}</h2><ul>{items}</ul></div>')
    return parts


def _check_table(checks):
    """One row per check with a coloured status; a failed check's id links to its explanation."""
    rows = []
    for check in checks:
        label = messages.text(f"report.status.{status_of(check).replace(' ', '-')}")
        name = f"<code>{_e(check.id)}</code>"
        if status_of(check) == Status.FAILED:
            name = f'<a href="#fix-{_e(check.id)}">{name}</a>'
        tag = messages.text("report.exercise.long")
        title = _e(check.title) + (f"{'' if tag.startswith('（') else ' '}<small>{_e(tag)}</small>"
                                   if check.exercise else "")
        rows.append(f'<tr><td class="status {_css_class(check)}">{mark(check)} {_e(label)}</td><td>{name}</td>'
                    f'<td>{title}</td><td class="points">{fmt(check.points)} / {fmt(check.max_points)}'
                    "</td></tr>")
    head = "".join(f"<th>{_e(messages.text(f'report.column.{name}'))}</th>"
                   for name in ("status", "check", "title", "points"))
    return [f"<h2>{_e(messages.text('report.checks'))}</h2>",
            f'<table class="checks"><tr>{head}</tr>{"".join(rows)}</table>'] if rows else []


def _causes(report):
    """One card per cause that cost points, largest first: its hint, its evidence and the checks it cost."""
    graded = [cause for cause in report.causes if cause.points > 0]
    parts = [f"<h2>{_e(problems_line(report))}</h2>"] if graded else []
    for number_, cause in enumerate(graded, start=1):
        evidence = f"<pre>{_e(cause.evidence)}</pre>" if cause.evidence else ""
        checks = ", ".join(f"<code>{_e(check)}</code>" for check in cause.checks)
        points = _e(messages.text("report.cause.points", points=fmt(cause.points)))
        cost = _e(messages.text("report.cause.checks", checks=SLOT)).replace(SLOT, checks)
        parts.append(f'<section class="cause"><h3>{number_}. {_e(heading(cause))} <small>{points}</small></h3>'
                     f'{_hint(cause.hint)}{evidence}<p class="checks">{cost}</p></section>')
    return parts


def _fixes(checks):
    """Per failed check: its id, title, hint and the input that exposed the problem (folded away: the
    problems above group them)."""
    failed = [check for check in checks if status_of(check) == Status.FAILED]
    parts = []
    for check in failed:
        note = f"<p>{_e(exercise_note(check))}</p>" if check.exercise else ""
        detail = f"<pre>{_e(check.detail)}</pre>" if check.detail else ""
        if check.reference:
            label = _e(messages.text("report.reference", stub=check.stub))
            detail += f'<p class="reference">{label}</p><pre>{_e(check.reference)}</pre>'
        parts.append(f'<section class="fix {_css_class(check)}" id="fix-{_e(check.id)}">'
                     f"<h3>{mark(check)} <code>{_e(check.id)}</code> {_e(check.title)}</h3>{note}"
                     f'{_hint(check.hint, labelled=True)}{detail}</section>')
    summary = _e(messages.text("report.fixes", count=len(failed)))
    return [f"<details><summary>{summary}</summary>", *parts, "</details>"] if parts else []


def _hint(text, labelled=False):
    """A hint as paragraphs: under --lang both, its Chinese and its English, each marked with its language."""
    paragraphs = [line for line in str(text).splitlines() if line.strip()]
    both = messages.current() == messages.BOTH
    languages = ("zh_CN", "en") if both and len(paragraphs) == 2 else ("zh_CN" if both else None,) * len(paragraphs)
    parts = []
    for line, language in zip(paragraphs, languages):
        shown = messages.text("report.hint", language, hint=line) if labelled else line
        lang = f' lang="{messages.HTML_LANG[language]}"' if both else ""
        parts.append(f'<p class="hint"{lang}>{_e(shown)}</p>')
    return "".join(parts)


def _printed(report):
    """What the student's code printed, folded away and marked as theirs."""
    parts = [f"<h3>{_e(name)}</h3><pre>{_e(text)}</pre>" for name, text in printed_parts(report)]
    return [f'<details class="printed"><summary>{_e(messages.text("report.printed"))}</summary>',
            f"<p>{_e(messages.text('report.printed.note'))}</p>",
            *parts, "</details>"] if parts else []


def to_html(report, curves_png=None):
    """The whole page as a string; the PNG, when given, is embedded as base64."""
    checks = ordered(report)
    parts = _summary(report) + _causes(report) + _check_table(checks) + _fixes(checks) + _printed(report)
    if curves_png:
        data = base64.b64encode(curves_png).decode("ascii")
        parts += [f"<h2>{_e(messages.text('report.curves'))}</h2>",
                  f'<img alt="{_e(messages.text("report.curves.alt"))}" src="data:image/png;base64,{data}">']
    parts.append(f'<p class="numbering">{_e(messages.text("report.numbering"))}</p>')
    if report.environment:
        environment = sorted(report.environment.items(), key=str)
        parts += [f"<details><summary>{_e(messages.text('report.environment'))}</summary>",
                  f'<table class="env">{_rows(environment)}</table></details>']
    return (f"<!DOCTYPE html>\n<html lang=\"{messages.html_lang()}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(messages.text('report.title'))}: {_e(report.submission)}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
