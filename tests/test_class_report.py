"""The class report: numbers from the students' records, the worst checks first, nothing a student wrote unescaped."""
import base64
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.classroom import class_report, gradebook
from grader.classroom.gradebook import Record
from grader.classroom.similarity import Pair

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def stub_verdicts(tmp_path_factory):
    """A real verdicts.json: the untouched softmax stub, graded."""
    out = tmp_path_factory.mktemp("graded")
    subprocess.run([sys.executable, "-m", "grader", "exercises", "--out", str(out), "--only", "softmax"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    return json.loads((out / "verdicts.json").read_text(encoding="utf-8"))


def passing(verdicts, failed=()):
    """The verdicts with every check passed but those in ``failed``, and no causes left but theirs."""
    result = copy.deepcopy(verdicts)
    for check, verdict in result["checks"].items():
        lost = check in failed
        verdict.update(status="failed" if lost else "passed", points=0.0 if lost else verdict["max_points"])
    result["causes"] = [dict(cause, checks=list(failed), title="keepdim forgotten", pitfall="keepdim")
                        for cause in verdicts["causes"][:1]] if failed else []
    result["score"] = sum(verdict["points"] for verdict in result["checks"].values())
    return result


def student(out, name, status, seconds, verdicts=None, note=""):
    folder = out / "students" / name.replace("/", "_")
    folder.mkdir(parents=True)
    total = verdicts["score"] if verdicts else 0.0
    gradebook.save(Record(name, status, seconds, {"softmax": total}, total, 15.0 if verdicts else 0.0, note), folder)
    if verdicts:
        (folder / "verdicts.json").write_text(json.dumps(verdicts), encoding="utf-8")


@pytest.fixture(scope="module")
def out(tmp_path_factory, stub_verdicts):
    out = tmp_path_factory.mktemp("class")
    student(out, "ann", "graded", 20.0, passing(stub_verdicts))
    student(out, "bob", "graded", 12.0, stub_verdicts)
    student(out, SCRIPT, "graded", 11.0, stub_verdicts)
    student(out, "carl", "graded", 30.5, passing(stub_verdicts, failed=("softmax/keepdim",)))
    student(out, "dora", "timeout", 600.0, note="ran past 600 s")
    student(out, "eve", "error", 3.0, note="<b>crashed</b>")
    student(out, "fred", "missing", 0.0, note="no submission")
    return out


PAIRS = (Pair(SCRIPT, "bob", 1.0), Pair("ann", "carl", 0.85))


def test_the_numbers_come_from_the_records(out, stub_verdicts):
    assert stub_verdicts["score"] == 0 and stub_verdicts["causes"]
    summary = class_report.summarise(out, PAIRS)
    assert summary.counts == {"graded": 4, "timeout": 1, "error": 1, "missing": 1}
    assert summary.students == 7 and summary.graded == 4
    assert (summary.mean, summary.median, summary.minimum, summary.maximum, summary.max_score) == (6.75, 6.0, 0, 15, 15)
    assert sum(count for _, _, count in summary.histogram) == 4
    assert summary.histogram[0][2] == 2 and summary.histogram[8][2] == 1 and summary.histogram[-1][2] == 1
    assert summary.failed[0].check == "softmax/keepdim" and summary.failed[0].students == 3
    assert summary.failed[0].title == stub_verdicts["checks"]["softmax/keepdim"]["title"]
    assert [item.students for item in summary.failed] == [3, 2, 2, 2, 2]
    assert summary.causes[0].students == 2 and summary.causes[0].points == 30
    assert summary.causes[1] == class_report.CommonCause("keepdim forgotten", 1, 15.0)
    assert summary.max_seconds == 600 and summary.median_seconds == 16.0   # of 3, 11, 12, 20, 30.5 and 600 s
    assert summary.slowest == (("dora", 600.0), ("carl", 30.5), ("ann", 20.0))
    assert [problem.student for problem in summary.problems] == ["dora", "eve", "fred"]
    assert summary.pairs == PAIRS


def test_the_page_is_offline_escaped_and_embeds_a_png(out):
    page = class_report.write(out, PAIRS).read_text(encoding="utf-8")
    assert SCRIPT not in page and "<b>crashed</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;crashed&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    [data] = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(data, validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    private = page[page.index('class="private"'):]
    assert "For the instructor only" in private and "0.850" in private and "1.000" in private
    assert "softmax/keepdim" in page and "6.75" in page


def test_the_page_speaks_chinese(out):
    page = class_report.to_html(class_report.summarise(out, PAIRS), "zh_CN")
    assert 'lang="zh-CN"' in page and "平均分" in page and "中位数" in page and "直方图" in page
    assert "仅供教师查看" in page


def test_terminal_lines_are_few_and_name_the_worst(out):
    lines = class_report.terminal_lines(class_report.summarise(out, PAIRS), "en")
    assert len(lines) <= 12
    assert lines[0] == "4 of 7 graded: mean 6.75, median 6 (out of 15)"
    assert "softmax/keepdim (3)" in lines[1] and lines[1].count("(") == 3
    assert "keepdim forgotten (1)" in lines[2]
    assert lines[3].startswith("  3 not graded") and lines[4].startswith("  2 similar pairs")


def test_an_empty_class_still_makes_a_page(tmp_path):
    summary = class_report.summarise(tmp_path)
    assert summary.students == 0 and summary.graded == 0 and summary.failed == ()
    assert "None." in class_report.to_html(summary, "en")
    assert class_report.terminal_lines(summary, "en") == ["0 of 0 graded: mean 0, median 0 (out of 100)"]
