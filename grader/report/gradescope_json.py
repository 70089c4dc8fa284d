"""Gradescope's results.json: totals, one test per check, and never a NaN."""
import math

from .. import messages
from ..results import Status
from .text import (
    cause_of,
    check_output,
    number,
    ordered,
    protection_lines,
    refused_lines,
    run_line,
    total_line,
    visible,
)


def to_gradescope(report):
    """Gradescope's results.json as a dict."""
    tests = [_test(check, index, cause_of(report, check)) for index, check in enumerate(ordered(report), start=1)]
    if report.error and not tests:
        tests.append({"name": f"grader/error {messages.text('report.error.name')}", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "output": visible(report.error), "visibility": "visible",
                      "tags": ["grader"], "number": "1"})
    output = [total_line(report), run_line(report), *protection_lines(report)]
    output += [messages.text("report.refused.line", line=line) for line in refused_lines(report)]
    if report.error:
        output.append(messages.text("report.error.line", error=visible(report.error)))
    return {"score": round(sum(test["score"] for test in tests), 2),
            "max_score": round(sum(test["max_score"] for test in tests), 2),
            "execution_time": math.ceil(max(number(report.seconds), 0.0)),
            "output": "\n".join(output), "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def _test(check, index, cause):
    """One Gradescope test entry for one check; a failed one says what caused it."""
    return {"name": f"{check.id} {' '.join(visible(check.title, 300).split())}", "score": number(check.points),
            "max_score": number(check.max_points), "status": "passed" if check.status == Status.PASSED else "failed",
            "output": check_output(check, cause), "visibility": "after_published" if check.hidden else "visible",
            "tags": [check.stub], "number": str(index)}
