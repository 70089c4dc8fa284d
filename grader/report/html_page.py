"""The grading report as one self-contained HTML page: inline CSS, the curves embedded as a data URI."""
import base64
from html import escape

from ..results import Status
from .text import (
    PRINTED_NOTE,
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
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1000px; margin: 2em auto;
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
    facts = [("submission", report.submission), ("seed", report.seed), ("device", report.device),
             ("execution time", f"{fmt(number(report.seconds))} s")]
    parts = [f"<h1>Grading report <small>{_e(report.submission)}</small></h1>",
             f'<p class="total">{_e(total_line(report))}</p>', f"<p>{_e(run_line(report))}</p>",
             f'<table class="meta">{_rows(facts)}</table>']
    if report.error:
        parts.append(f'<div class="error"><h2>Autograder failed</h2><pre>{_e(report.error)}</pre></div>')
    if report.refused:
        items = "".join(f"<li>{_e(line)}</li>" for line in refused_lines(report))
        parts.append(f'<div class="error"><h2>Files not graded</h2><ul>{items}</ul></div>')
    return parts


def _check_table(checks):
    """One row per check with a coloured status; a failed check's id links to its explanation."""
    rows = []
    for check in checks:
        label = "not run" if status_of(check) == Status.NOT_RUN else status_of(check)
        name = f"<code>{_e(check.id)}</code>"
        if status_of(check) == Status.FAILED:
            name = f'<a href="#fix-{_e(check.id)}">{name}</a>'
        title = _e(check.title) + (" <small>(exercise of the book)</small>" if check.exercise else "")
        rows.append(f'<tr><td class="status {_css_class(check)}">{mark(check)} {_e(label)}</td><td>{name}</td>'
                    f'<td>{title}</td><td class="points">{fmt(check.points)} / {fmt(check.max_points)}'
                    "</td></tr>")
    head = "<tr><th>Status</th><th>Check</th><th>Title</th><th>Points</th></tr>"
    return ["<h2>Checks</h2>", f'<table class="checks">{head}{"".join(rows)}</table>'] if rows else []


def _causes(report):
    """One card per cause that cost points, largest first: its hint, its evidence and the checks it cost."""
    graded = [cause for cause in report.causes if cause.points > 0]
    parts = [f"<h2>{_e(problems_line(report))}</h2>"] if graded else []
    for number_, cause in enumerate(graded, start=1):
        evidence = f"<pre>{_e(cause.evidence)}</pre>" if cause.evidence else ""
        checks = ", ".join(f"<code>{_e(check)}</code>" for check in cause.checks)
        parts.append(f'<section class="cause"><h3>{number_}. {_e(heading(cause))} <small>({fmt(cause.points)} '
                     f'points)</small></h3><p class="hint">{_e(cause.hint)}</p>{evidence}'
                     f'<p class="checks">Checks it cost: {checks}</p></section>')
    return parts


def _fixes(checks):
    """Per failed check: its id, title, hint and the input that exposed the problem (folded away: the
    problems above group them)."""
    failed = [check for check in checks if status_of(check) == Status.FAILED]
    parts = []
    for check in failed:
        note = f"<p>An exercise of the book ({_e(check.exercise)}): reported, not graded.</p>" if check.exercise else ""
        detail = f"<pre>{_e(check.detail)}</pre>" if check.detail else ""
        parts.append(f'<section class="fix {_css_class(check)}" id="fix-{_e(check.id)}">'
                     f"<h3>{mark(check)} <code>{_e(check.id)}</code> {_e(check.title)}</h3>{note}"
                     f'<p class="hint">Hint: {_e(check.hint)}</p>{detail}</section>')
    return [f"<details><summary>Each failed check ({len(failed)})</summary>", *parts, "</details>"] if parts else []


def _printed(report):
    """What the student's code printed, folded away and marked as theirs."""
    parts = [f"<h3>{_e(name)}</h3><pre>{_e(text)}</pre>" for name, text in printed_parts(report)]
    return ['<details class="printed"><summary>What your code printed</summary>', f"<p>{_e(PRINTED_NOTE)}</p>",
            *parts, "</details>"] if parts else []


def to_html(report, curves_png=None):
    """The whole page as a string; the PNG, when given, is embedded as base64."""
    checks = ordered(report)
    parts = _summary(report) + _causes(report) + _check_table(checks) + _fixes(checks) + _printed(report)
    if curves_png:
        data = base64.b64encode(curves_png).decode("ascii")
        parts += ["<h2>Training curves</h2>",
                  f'<img alt="train loss and test accuracy per epoch" src="data:image/png;base64,{data}">']
    if report.environment:
        environment = sorted(report.environment.items(), key=str)
        parts += ["<details><summary>Grading environment (for the instructor)</summary>",
                  f'<table class="env">{_rows(environment)}</table></details>']
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>Grading report: {_e(report.submission)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(parts) + "\n</body>\n</html>\n")
