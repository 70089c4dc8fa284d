"""Gradescope's results.json: totals, one test per check that counts here, and never a NaN.

Students read these results: they hold no detail of the sandbox (the HTML and Markdown reports keep
those for the instructor), and a check that could not run here and counts for nothing is one line
of the output, never a failed test.
"""
import math

from .. import messages
from ..results import Status
from ..table import BY_ID
from .text import (
    cause_of,
    check_output,
    fmt,
    number,
    ordered,
    refused_lines,
    run_line,
    title_in,
    total_line,
    visible,
)


def to_gradescope(report):
    """Gradescope's results.json as a dict."""
    graded = [check for check in ordered(report) if not left_out(check)]
    tests = [_test(check, index, cause_of(report, check)) for index, check in enumerate(graded, start=1)]
    if report.error and not tests:
        tests.append({"name": f"grader/error {messages.text('report.error.name')}", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "output": visible(report.error), "visibility": "visible",
                      "tags": ["grader"], "number": "1"})
    output = [total_line(report), run_line(report)]
    output += [_not_run_line(check) for check in ordered(report) if left_out(check)]
    output += [messages.text("report.refused.line", line=line) for line in refused_lines(report)]
    if report.error:
        output.append(messages.text("report.error.line", error=visible(report.error)))
    return {"score": round(sum(test["score"] for test in tests), 2),
            "max_score": round(sum(test["max_score"] for test in tests), 2),
            "execution_time": math.ceil(max(number(report.seconds), 0.0)),
            "output": "\n".join(output), "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def left_out(check):
    """Whether ``check`` could not run here and counts for nothing (its maximum is 0): no test of its own."""
    return Status.of(check.status) == Status.NOT_RUN and number(check.max_points) == 0


def not_graded(message, top, seconds=0.0):
    """Gradescope's results for an upload that was not graded: ``message`` (what to do), 0 points out of ``top``,
    the assignment's full marks, so that the score never reads 0 / 0."""
    total = messages.text("report.total", score="0", top=fmt(number(top)), percent="0")
    return {"score": 0.0, "max_score": number(top), "execution_time": math.ceil(max(number(seconds), 0.0)),
            "output": f"{visible(message)}\n\n{total}", "visibility": "visible", "stdout_visibility": "hidden",
            "tests": []}


def _not_run_line(check):
    """One line of the output: ``check`` was not run here and counts for nothing."""
    return messages.each(lambda language: messages.text("report.not-run.nothing", language,
                                                        check=_named(check, language)))


def _named(check, language):
    """A check as the output names it in ``language``: its id and title, or for a hidden one what it is about,
    never its title."""
    if not check.hidden:
        title = " ".join(visible(title_in(check, language), 300).split())
        return messages.text("report.not-run.named", language, check=check.id, title=title)
    known = BY_ID.get(check.id)
    key = "report.not-run.gpu-check" if known is not None and "cuda" in known.needs else "cell.hidden"
    return messages.text(key, language, stub=check.stub)


def _title(check):
    """The check's title on one line."""
    return " ".join(visible(check.title, 300).split())


def _test(check, index, cause):
    """One Gradescope test entry for one check; a failed one says what caused it."""
    return {"name": f"{check.id} {_title(check)}", "score": number(check.points),
            "max_score": number(check.max_points), "status": "passed" if check.status == Status.PASSED else "failed",
            "output": check_output(check, cause), "visibility": "after_published" if check.hidden else "visible",
            "tags": [check.stub], "number": str(index)}
