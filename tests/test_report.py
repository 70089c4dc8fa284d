"""The report writers: Gradescope JSON, Markdown, HTML, JUnit, terminal text and the curves plot."""
import base64
import html
import json
import math
import os
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from grader.diagnosis import diagnose
from grader.report import curves_png, to_gradescope, to_html, to_junit, to_markdown, to_terminal, write_all
from grader.results import CheckResult, Curve, GradeReport, Status
from grader.table import BY_ID

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL = "softmax(tensor([[1000., 0.]])) returned\n<script>alert('x')</script>\x00\x1b[31mred\x07\nexpected finite"
ANSI = re.compile(r"\x1b\[")

GRADESCOPE_SCHEMA = {
    "type": "object",
    "required": ["score", "max_score", "execution_time", "output", "visibility", "stdout_visibility", "tests"],
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "integer", "minimum": 0},
        "output": {"type": "string"},
        "visibility": {"$ref": "#/$defs/visibility"},
        "stdout_visibility": {"$ref": "#/$defs/visibility"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "score", "max_score", "status", "output", "visibility"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9_]+/[a-z0-9_-]+ "},
                "score": {"type": "number"},
                "max_score": {"type": "number", "minimum": 0},
                "status": {"enum": ["passed", "failed"]},
                "output": {"type": "string"},
                "visibility": {"$ref": "#/$defs/visibility"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "number": {"type": "string"},
            },
        }},
    },
    "$defs": {"visibility": {"enum": ["visible", "hidden", "after_due_date", "after_published"]}},
}


def result(check_id, status, points, detail="", **changes):
    """A CheckResult for a check of the table; ``changes`` override its title, visibility or maximum."""
    check = BY_ID[check_id]
    fields = dict(id=check_id, title=check.title, hidden=check.hidden, status=status, points=points,
                  max_points=check.points, hint=check.hint, detail=detail, seconds=0.25)
    return CheckResult(**{**fields, **changes})


@pytest.fixture
def report():
    """A report with a pass, a failure exposing hostile text, a hidden pass, a NaN score and a skipped GPU check."""
    checks = (
        result("train_ch3/gpu", Status.NOT_RUN, 0, "needs a CUDA GPU; this machine has none", max_points=0),
        result("softmax/value", Status.PASSED, 4),
        result("softmax/keepdim", Status.FAILED, 0, EVIL),
        result("sgd/zero-grad", Status.PASSED, 2, title="gradients are zeroed after the update " + "and more " * 20),
        result("cross_entropy/value", Status.FAILED, math.nan, "loss was nan for y_hat=[[0.5, 0.5]], y=[0]"),
    )
    curves = (Curve("scratch", (1.2, 0.8, 0.6), (0.61, 0.72, 0.78)),
              Curve("concise", (1.0, 0.7, math.inf), (0.65, 0.75, 0.8)))
    return GradeReport("exercises", 7, "cpu", checks, 12.3, curves,
                       environment={"python": "3.11.7", "torch": "2.13.0"}, causes=diagnose(checks))


@pytest.fixture
def broken():
    """The grader itself failed before any check ran."""
    error = "could not import exercises/softmax.py: SyntaxError <here>"
    return GradeReport("exercises", 7, "cpu", (), 0.4, error=error)


def failed(report):
    return [check for check in report.checks if check.status == Status.FAILED]


def test_results_json_validates_and_adds_up(report):
    data = to_gradescope(report)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    json.dumps(data, allow_nan=False)
    assert data["score"] == pytest.approx(sum(test["score"] for test in data["tests"])) == 6
    assert data["max_score"] == 12
    assert data["execution_time"] == 13
    assert "7" in data["output"] and "cpu" in data["output"]
    assert data["visibility"] == "visible" and data["stdout_visibility"] == "hidden"


def test_results_json_describes_each_check(report):
    tests = to_gradescope(report)["tests"]
    names = [test["name"].split(" ", 1)[0] for test in tests]
    assert names == ["sgd/zero-grad", "softmax/value", "softmax/keepdim", "cross_entropy/value"]   # not the GPU check
    assert [test["number"] for test in tests] == ["1", "2", "3", "4"]
    by_id = dict(zip(names, tests))
    assert by_id["softmax/value"]["visibility"] == "visible" and by_id["softmax/value"]["tags"] == ["softmax"]
    assert by_id["softmax/keepdim"]["visibility"] == "after_published"
    overflow = by_id["softmax/keepdim"]["output"]
    assert overflow.startswith(BY_ID["softmax/keepdim"].hint) and "<script>" in overflow and "\x00" not in overflow
    assert by_id["cross_entropy/value"]["score"] == 0 and by_id["cross_entropy/value"]["status"] == "failed"
    assert "Not run here, so it counts for nothing: the GPU check of train_ch3" in to_gradescope(report)["output"]
    assert by_id["softmax/value"]["output"].startswith("passed on cpu in ")


def test_grader_error_is_one_visible_failing_test(broken):
    data = to_gradescope(broken)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == data["max_score"] == 0
    [test] = data["tests"]
    assert test["name"] == "grader/error autograder failed" and test["status"] == "failed"
    assert test["visibility"] == "visible" and "SyntaxError" in test["output"]
    assert "autograder failed: could not import" in data["output"]


def test_grader_error_shows_in_every_format(broken):
    assert "SyntaxError &lt;here&gt;" in to_html(broken, None)
    assert "SyntaxError <here>" in to_markdown(broken) and "SyntaxError" in to_terminal(broken)
    suite = ET.fromstring(to_junit(broken)).find("testsuite")
    assert suite.get("errors") == "1" and "SyntaxError <here>" in suite.find("testcase/error").text


def test_html_is_self_contained_and_escaped(report):
    png = curves_png(report)
    page = to_html(report, png)
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match and base64.b64decode(match.group(1)) == png and png.startswith(PNG_SIGNATURE)
    for check in failed(report):
        assert html.escape(check.hint) in page
    assert "<script" not in page and "&lt;script&gt;" in page and "\x00" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page
    for text in ("Seed 7", "3.11.7", "torch", "12.3 s", "Total: 6 / 12 (50%)"):
        assert text in page


def test_junit_parses_with_counts_and_messages(report):
    root = ET.fromstring(to_junit(report))
    suite = root.find("testsuite")
    assert suite.get("name") == "d2l-linear-kit"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "2", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["softmax/keepdim"].get("classname") == "softmax"
    failure = cases["softmax/keepdim"].find("failure")
    assert failure.get("message") == BY_ID["softmax/keepdim"].hint
    assert "<script>alert('x')</script>" in failure.text
    assert cases["train_ch3/gpu"].find("skipped") is not None
    assert cases["softmax/value"].find("failure") is None


def test_markdown_has_total_marks_fixes_and_curves(report):
    text = to_markdown(report)
    assert "Total: 6 / 12 (50%)" in text and "✓" in text and "✗" in text and "–" in text
    problems = text.split("## 2 problems found (6 points)", 1)[1].split("## Checks", 1)[0]
    assert "softmax/keepdim" in problems and BY_ID["softmax/keepdim"].hint in problems and "```" in problems
    assert "softmax/value" not in problems and "train_ch3/gpu" not in problems   # passed, or not run here
    assert "![train loss and test accuracy per epoch](curves.png)" in text


def test_terminal_is_plain_narrow_and_complete(report):
    text = to_terminal(report, color=False)
    assert "Total: 6 / 12 (50%)" in text and "✓" in text and "✗" in text and "–" in text
    assert not ANSI.search(text) and "\x00" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    problems = text.split("2 problems found (6 points)", 1)[1].split("Checks", 1)[0]
    assert "softmax/keepdim" in problems and "cross_entropy/value" in problems
    assert "…" in text
    assert ANSI.search(to_terminal(report, color=True))


def test_curves_png_is_a_png_or_none(report, broken):
    assert curves_png(report).startswith(PNG_SIGNATURE)
    assert curves_png(broken) is None


def test_write_all_writes_exactly_the_reports(report, broken, tmp_path):
    out = tmp_path / "reports" / "latest"
    paths = write_all(report, out)
    expected = {"results.json", "verdicts.json", "report.md", "report.html", "junit.xml", "curves.png"}
    assert {path.name for path in paths} == expected == set(os.listdir(out))
    data = json.loads((out / "results.json").read_text("utf-8"), parse_constant=pytest.fail)
    assert data["score"] == 6
    assert (out / "curves.png").read_bytes().startswith(PNG_SIGNATURE)
    paths = write_all(broken, out)
    assert set(os.listdir(out)) == expected - {"curves.png"} == {path.name for path in paths}
