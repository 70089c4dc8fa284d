"""The kit in Chinese and English: the catalogues agree, the language is chosen as documented, and every
report format speaks it, --lang both showing the Chinese, then the English."""
import html.parser
import io
import json
import os
import re
import shutil
import string
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from grader import cells, messages, train
from grader.classroom import gradescope
from grader.diagnosis import diagnose
from grader.messages.columns import clip, width, wrap
from grader.progress import ProgressLine
from grader.release import handout, stubgen
from grader.report import curves_png, to_gradescope, to_html, to_junit, to_markdown, to_terminal
from grader.results import CheckResult, Curve, GradeReport, Status
from grader.run import Grading, grade
from grader.table import BY_ID, CHECKS, STUBS, hidden_summary

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")   # Chinese, or its full-width punctuation


def placeholders(template):
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", [code for code in messages.LANGUAGES if code != messages.DEFAULT])
def test_every_catalogue_has_every_id_with_the_same_placeholders_and_is_translated(language):
    english = messages.catalogue("en")
    other = {key: text for key, text in messages.catalogue(language).items()
             if not key.startswith(messages.FROM_SOLUTIONS)}
    assert sorted(other) == sorted(english)
    for key, template in english.items():
        assert placeholders(other[key]) == placeholders(template), key
        if language == "zh_CN":
            assert CJK.search(other[key]), f"{key} is not translated: {other[key]!r}"


@pytest.mark.parametrize("environ, requested, expected", [
    ({}, None, "en"),
    ({"LANG": "zh_CN.UTF-8"}, None, "zh_CN"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}, None, "en"),           # LC_ALL before LANG
    ({"LC_ALL": "en_US.UTF-8", "LANGUAGE": "fr:zh_TW:en"}, None, "zh_CN"),  # LANGUAGE first, its first we speak
    ({"LC_MESSAGES": "zh_SG.UTF-8", "LANG": "en_GB.UTF-8"}, None, "zh_CN"),
    ({"LANG": "de_DE.UTF-8"}, None, "en"),
    ({"LANG": "zh_CN.UTF-8", "D2L_KIT_LANG": "en"}, None, "en"),          # the kit's variable before the locale
    ({"D2L_KIT_LANG": "both"}, None, "both"),
    ({"D2L_KIT_LANG": "en"}, "zh", "zh_CN"),                              # --lang before everything
])
def test_the_language_comes_from_lang_then_d2l_kit_lang_then_the_locale_then_english(environ, requested, expected):
    assert messages.choose(requested, environ) == expected


def test_a_language_the_kit_does_not_speak_is_a_clear_error_before_grading(tmp_path):
    env = {**os.environ, "D2L_KIT_LANG": "fr"}
    run = subprocess.run([sys.executable, "-m", "grader", "--out", str(tmp_path / "out")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.strip() == "error: D2L_KIT_LANG fr: the kit speaks zh, en or both"
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()
    run = subprocess.run([sys.executable, "-m", "grader", "--lang", "fr", "--out", str(tmp_path / "out")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "--lang: invalid choice: 'fr'" in run.stderr and "zh" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_both_shows_the_chinese_then_the_english_a_paragraph_each_for_a_hint():
    key = "check.softmax/keepdim"
    title, hint = (messages.text(f"{key}.{part}", "both") for part in ("title", "hint"))
    assert title == f"{messages.text(key + '.title', 'zh_CN')} / {messages.text(key + '.title', 'en')}"
    assert hint.splitlines() == [messages.text(f"{key}.hint", "zh_CN"), messages.text(f"{key}.hint", "en")]


def test_both_says_a_text_that_is_the_same_in_both_languages_once(monkeypatch):
    for language in messages.LANGUAGES:
        monkeypatch.setitem(messages.catalogue(language), "check.demo/same.title", "lr * grad / batch_size")
    assert messages.text("check.demo/same.title", "both") == "lr * grad / batch_size"


def test_chinese_takes_two_columns_when_lines_are_wrapped_and_clipped():
    hint = messages.text("check.softmax/underflow.hint", "zh_CN")
    lines = wrap(hint, 40, "   ")
    assert len(lines) > 2 and all(width(line) <= 40 for line in lines)
    assert "".join(lines).replace(" ", "") == hint.replace(" ", "")   # nothing lost
    assert not any(line.strip()[0] in "，。；：）" for line in lines)   # no line starts with closing punctuation
    assert width(clip("评分报告" * 10, 9)) <= 9 and clip("评分报告", 9) == "评分报告"
    code = "对5x5的批量X = [2.968, 0.7222, 2.757, 2.063, -0.6829, -1.236, ...]（形状(5, 5)）调用softmax(X)：结果"
    assert "softmax(X)：结果" in wrap(code, 95)[-1]   # punctuation takes the word before it along, never half of it
    for text in (hint, messages.text("check.softmax/underflow.hint", "en")):
        for columns in range(24, 64):
            assert all(width(line) <= columns for line in wrap(text, columns, "   ")), (text, columns)


# --- a pseudo-language: every text of the catalogue marked, so anything unmarked was never translated ---

PSEUDO = re.compile(r"⟦[^⟦⟧]*(?:⟧|…)")   # a text clipped to fit a line ends in …


def pseudo(template):
    """The English text marked ⟦…⟧ with its letters changed, its placeholders kept."""
    parts = re.split(r"(\{\w+\})", template)
    return "⟦" + "".join(part if re.fullmatch(r"\{\w+\}", part) else part.swapcase() for part in parts) + "⟧"


@pytest.fixture
def pseudo_language(monkeypatch):
    catalogue = {key: pseudo(text) for key, text in messages.catalogue("en").items()}
    real = messages.catalogue
    monkeypatch.setattr(messages, "catalogue", lambda language="en": catalogue if language == "xx" else real(language))
    monkeypatch.setattr(messages, "LANGUAGES", (*messages.LANGUAGES, "xx"))
    monkeypatch.setattr(messages, "HTML_LANG", {**messages.HTML_LANG, "xx": "xx"})
    messages.use("xx")
    yield
    messages.use(None)


def every_kind_of_report():
    """A report with passed, failed, not-run and exercise checks, causes, printed text, a refused file,
    curves and an environment; its data (ids, values) holds no English words."""
    results, statuses = [], [Status.PASSED, Status.FAILED, Status.NOT_RUN]
    for index, check in enumerate(CHECKS):
        status = statuses[index % 3]
        results.append(CheckResult(
            id=check.id, title=check.title, hidden=check.hidden, status=status,
            points=check.points if status == Status.PASSED else 0, max_points=0 if status == Status.NOT_RUN else
            check.points, hint=check.hint, detail="X = [[1000., 0.]] → [nan, nan]" if status != Status.PASSED else "",
            exercise=check.exercise))
    return GradeReport(submission="/s/42", seed=7, device="cpu", checks=tuple(results), seconds=3.5,
                       curves=(Curve("scratch", (0.9, 0.5), (0.6, 0.8)),), error="Traceback: 1/0",
                       environment={"python": "3.11"}, refused={"x.py": "→ y.py"},
                       causes=diagnose(results), printed={"softmax": "42"})


class Text(html.parser.HTMLParser):
    """The text of a page as a reader sees it: text nodes, alt and title attributes; no style or tags."""

    def __init__(self):
        super().__init__()
        self.parts, self.in_style = [], False

    def handle_starttag(self, tag, attrs):
        self.in_style = tag == "style"
        self.parts += [value for name, value in attrs if name in ("alt", "title") and value]

    def handle_data(self, data):
        if not self.in_style:
            self.parts.append(data)


def english_left(text):
    """The words of three letters or more outside the marked texts, less the report's data and code."""
    data = {check.id for check in CHECKS} | set(STUBS) | {"curves.png", "x.py", "y.py", "softmax.py", "nan", "cpu",
                                                          "python", "Traceback", "text", "grader/error"}
    while PSEUDO.search(text):   # innermost first: a marked label may hold a marked text
        text = PSEUDO.sub(" ", text)
    for item in sorted(data, key=len, reverse=True):
        text = text.replace(item, " ")
    return sorted(set(re.findall(r"[A-Za-z]{3,}", text)))


def test_a_pseudo_language_leaves_no_english_in_any_report_format(pseudo_language):
    report = every_kind_of_report()
    page = Text()
    page.feed(to_html(report, b"a picture"))
    gradescope = to_gradescope(report)
    junit = ET.fromstring(to_junit(report).split("\n", 1)[1])
    tests = [part for test in gradescope["tests"] for part in (test["name"], test["output"])]
    texts = {"terminal": to_terminal(report), "markdown": re.sub(r"<[^>]+>", " ", to_markdown(report)),
             "html": " ".join(page.parts),
             "junit": " ".join([*junit.itertext(), *(element.get("message", "") for element in junit.iter())]),
             "results.json": "\n".join([gradescope["output"], *tests]), "hidden checks": hidden_summary()}
    for name, text in texts.items():
        assert PSEUDO.search(text), name
        assert english_left(text) == [], (name, english_left(text))


def test_the_progress_line_and_why_a_check_did_not_run_are_translated(pseudo_language):
    line = ProgressLine()
    line.stream = io.StringIO()
    line(3, 9, "softmax/overflow")
    drawn = line.stream.getvalue()
    line.stream = None
    assert "softmax/overflow" in drawn and english_left(drawn.replace("\x1b[K", "")) == [], drawn
    grading = Grading(server=None, seed=0, device="cpu", call_timeout=1.0, gpu_note="Found no NVIDIA driver")
    why = grading.cannot_run(BY_ID["train_ch3/gpu"])
    assert PSEUDO.search(why) and "Found no NVIDIA driver" in why and english_left(why.replace("Found no NVIDIA driver",
                                                                                               "")) == [], why


def test_an_error_report_in_a_pseudo_language_leaves_no_english(pseudo_language):
    report = GradeReport(submission="/s/42", seed=7, device="cpu", checks=(), seconds=0.0, error="Traceback: 1/0")
    for text in (to_terminal(report), to_markdown(report), to_junit(report).split("\n", 1)[1],
                 "\n".join([to_gradescope(report)["output"], *(t["name"] for t in to_gradescope(report)["tests"])])):
        assert PSEUDO.search(text) and english_left(re.sub(r"<[^>]+>", " ", text)) == [], text


# --- a real grading, in Chinese and in both languages ---

KEEPDIM = ("X_exp / X_exp.sum(dim=1, keepdim=True)", "X_exp / X_exp.sum(dim=1)")


def graded(tmp_path, *options, environ=None):
    """Grade solutions/ with softmax's keepdim forgotten; (terminal output, report folder)."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = (folder / "softmax.py").read_text(encoding="utf-8")
    (folder / "softmax.py").write_text(source.replace(*KEEPDIM), encoding="utf-8")
    out = tmp_path / "out"
    env = {key: value for key, value in os.environ.items() if key != messages.VARIABLE} | (environ or {})
    run = subprocess.run([sys.executable, "-m", "grader", str(folder), "--out", str(out), "--only", "softmax",
                          "--seed", "3", *options], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout, out


def squeezed(text):
    return re.sub(r"\s+", "", text)


def test_d2l_kit_lang_zh_grades_in_chinese_in_every_report(tmp_path):
    terminal, out = graded(tmp_path, environ={"D2L_KIT_LANG": "zh", "LANG": "en_US.UTF-8"})
    title, hint = (messages.text(f"check.softmax/keepdim.{part}", "zh_CN") for part in ("title", "hint"))
    total = messages.text("report.total", "zh_CN", score="", top="", percent="").split("：")[0]
    assert terminal.startswith(total) and f"1. softmax/keepdim: {title}" in terminal
    assert squeezed(hint) in squeezed(terminal)
    assert messages.counted("report.problems", 1, "zh_CN", points="").split("（")[0] in terminal
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and title in page and hint in page
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert f"# {messages.text('report.title', 'zh_CN')}" in markdown and hint in markdown
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    keepdim = next(test for test in results["tests"] if test["name"].startswith("softmax/keepdim "))
    assert keepdim["name"] == f"softmax/keepdim {title}" and hint in keepdim["output"]
    assert "Total" not in terminal + markdown + results["output"]


def test_lang_both_shows_each_text_in_chinese_then_english(tmp_path):
    terminal, out = graded(tmp_path, "--lang", "both")
    hints = [messages.text("check.softmax/keepdim.hint", code) for code in ("zh_CN", "en")]
    flat = squeezed(terminal)
    assert flat.index(squeezed(hints[0])) < flat.index(squeezed(hints[1]))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f'<p class="hint" lang="zh-CN">{hints[0]}</p><p class="hint" lang="en">{hints[1]}</p>' in page
    first = json.loads((out / "results.json").read_text(encoding="utf-8"))["output"].splitlines()[0]
    labels = [messages.text("report.total", code, score="S", top="T", percent="P").split("S")[0]
              for code in ("zh_CN", "en")]
    assert first.startswith(labels[0]) and f" / {labels[1]}" in first, first


def test_both_says_a_list_or_a_path_once_after_its_two_labels():
    assert messages.text("report.cause.checks", "both", checks="softmax/value, softmax/keepdim") == \
        f"{messages.text('report.cause.checks', 'zh_CN', checks='').rstrip('：')} / " \
        f"{messages.text('report.cause.checks', 'en', checks='softmax/value, softmax/keepdim')}"
    assert messages.text("report.files", "both", path="/r/report.html").count("/r/report.html") == 1



# --- a release in Chinese: stubs, handout, nbgrader notebooks, Gradescope ---

def solution_regions():
    """{catalogue id: the English task text} of every solution region."""
    found = {}
    for path in sorted((ROOT / "solutions").glob("*.py")):
        function, region = "", None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() == stubgen.BEGIN:
                region = []
            elif line.strip() == stubgen.END:
                found[stubgen.task_key(path, function)] = region
                region = None
            elif region is not None and stubgen.TASK_TEXT.match(line):
                region.append(stubgen.TASK_TEXT.match(line).group(2))
            elif region is None and stubgen.DEFINITION.match(line):
                function = stubgen.DEFINITION.match(line).group(1)
    return found


def test_every_solution_region_has_its_chinese_task_text_with_the_same_todos_and_pitfalls():
    regions, chinese = solution_regions(), messages.catalogue("zh_CN")
    assert sorted(regions) == sorted(key for key in chinese if key.startswith("stub."))
    for key, english in regions.items():
        lines = chinese[key].splitlines()
        assert sum(line.startswith("TODO") for line in lines) == sum(line.startswith("TODO") for line in english)
        assert sum(line.startswith("易错点") for line in lines) == sum(line.startswith("Pitfall") for line in english)


def test_every_docstring_a_notebook_shows_has_its_chinese():
    expected = set()
    for path in sorted((ROOT / "solutions").glob("*.py")):
        if stubgen.BEGIN in path.read_text(encoding="utf-8"):
            expected.add(f"notebook.doc.{path.stem}")
    expected |= {key.replace("stub.", "notebook.doc.", 1) for key in solution_regions()}
    assert sorted(expected) == sorted(key for key in messages.catalogue("zh_CN") if key.startswith("notebook.doc."))


def test_a_handout_released_in_chinese_has_chinese_stubs_readme_and_default_language(tmp_path, monkeypatch):
    files = handout.build(ROOT, "zh")
    softmax = files["exercises/softmax.py"].decode()
    assert "# TODO：对每个元素求幂" in softmax and "# 易错点：" in softmax and "# Pitfall" not in softmax
    assert json.loads(files["grader/messages/release.json"]) == {"language": "zh_CN"}
    readme = files["README.zh-CN.md"].decode()
    assert "(README.md)" in readme and messages.text("hidden.softmax", "zh_CN") in readme and "$" not in readme
    assert "(README.zh-CN.md)" in files["README.md"].decode()
    for code in messages.LANGUAGES:   # the hidden checks' words stay behind; what the rules name is there
        shipped = json.loads(files[f"grader/messages/{code}.json"])
        assert not [key for key in shipped if key.startswith(messages.HIDDEN_EVIDENCE)]
        named = [key.lstrip("^") for rule in json.loads(files["grader/diagnosis/rules.json"])
                 for key in rule.get("messages", ())]
        assert named and all(key in shipped for key in named)
    english = handout.build(ROOT)
    assert "# TODO: exponentiate" in english["exercises/softmax.py"].decode()
    assert json.loads(english["grader/messages/release.json"]) == {"language": "en"}
    release = tmp_path / "release.json"
    release.write_bytes(files["grader/messages/release.json"])
    monkeypatch.setattr(messages, "RELEASE", release)   # the handout's grader: the release's language ...
    assert messages.choose(None, {"LANG": "en_US.UTF-8"}) == "zh_CN"
    assert messages.choose(None, {"D2L_KIT_LANG": "en"}) == "en"   # ... unless the student chooses
    assert messages.choose("both", {}) == "both"


def test_untouched_stubs_are_regenerated_in_another_language_and_edited_ones_are_kept(tmp_path):
    stubgen.generate(ROOT / "solutions", tmp_path)
    edited = tmp_path / "sgd.py"
    edited.write_text(edited.read_text() + "# my notes\n")
    outcomes = {outcome.name: outcome.action for outcome in stubgen.generate(ROOT / "solutions", tmp_path,
                                                                             language="zh")}
    assert outcomes["softmax.py"] == "translated" and outcomes["sgd.py"] == "kept"
    assert "易错点" in (tmp_path / "softmax.py").read_text()
    assert (tmp_path / "sgd.py").read_text().endswith("# my notes\n")
    assert stubgen.out_of_sync(ROOT / "solutions", tmp_path, "zh") == ["sgd.py"]


def test_the_nbgrader_release_in_chinese_builds_with_chinese_notebooks_and_verdicts(tmp_path, monkeypatch):
    run = subprocess.run([sys.executable, "-m", "grader.release", "--student", str(tmp_path / "student"),
                          "--course", str(tmp_path / "course"), "--lang", "zh"], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    notebook = json.loads((tmp_path / "course" / "release" / "ch3" / "softmax_regression.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    assert sources[0].startswith(f"# {messages.text('notebook.softmax_regression.title', 'zh_CN')}")
    answer = next(source for source in sources if "def softmax(X)" in source)
    assert "# TODO：对每个元素求幂" in answer and "YOUR CODE HERE" in answer and "X.max(dim=1" not in answer
    title = messages.text("check.softmax/value.title", "zh_CN")
    assert any(source.startswith(f"# 检查softmax/value（4分）：{title}。") for source in sources), sources
    assert 'os.environ.setdefault("D2L_KIT_LANG", "zh_CN")' in (tmp_path / "course" / "kit_config.py").read_text()
    assert "# TODO：对每个元素求幂" in (tmp_path / "student" / "exercises" / "softmax.py").read_text()
    verdicts = {"checks": {"softmax/value": {"status": "failed", "hint": title, "detail": "x"}}}
    monkeypatch.setattr(messages, "_chosen", "zh_CN")
    assert cells.verdict_text(verdicts, "softmax/value") == (False, f"✗ softmax/value：未通过\n提示：{title}\nx")


def test_the_gradescope_bundle_carries_the_release_s_language(tmp_path, fashion_mnist):
    target = gradescope.build(tmp_path, "zh")
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("kit/grader/messages/release.json")) == {"language": "zh_CN"}
        assert "kit/grader/messages/zh_CN.json" in archive.namelist()


def test_the_errors_a_student_meets_in_make_grade_speak_their_language(tmp_path):
    env = {**os.environ, "D2L_KIT_LANG": "zh"}
    missing = tmp_path / "nowhere"
    run = subprocess.run([sys.executable, "-m", "grader", str(missing), "--out", str(tmp_path / "out")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and messages.text("error.no-submission", "zh_CN", path=missing) in run.stderr
    run = subprocess.run([sys.executable, "-m", "grader", "--only", "softmaks", "--out", str(tmp_path / "out")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "未知的练习或检查softmaks" in run.stderr, run.stderr
    notebook = tmp_path / "broken.ipynb"
    notebook.write_text("{not json")
    run = subprocess.run([sys.executable, "-m", "grader", str(notebook), "--out", str(tmp_path / "out")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and f"{notebook}不是可读的notebook" in run.stderr, run.stderr


def test_make_train_speaks_the_student_s_language(monkeypatch, capsys):
    monkeypatch.setattr(messages, "_chosen", "zh_CN")

    def still_a_stub(*args):
        raise NotImplementedError()
    monkeypatch.setattr(train, "train_scratch", still_a_stub)
    assert train.main(["--package", "exercises"]) == 1
    assert capsys.readouterr().err == messages.text("train.stub", "zh_CN", package="exercises") + "\n"
    rows = train.history_table([(0.81234, 0.7, 0.75), (0.5, 0.82, 0.8)])
    assert rows[0].split() == ["迭代周期", "训练损失", "训练精度", "测试精度"]
    assert len({width(row) for row in rows}) == 1 and rows[1].split() == ["1", "0.8123", "0.700", "0.750"]


def test_the_evidence_of_a_grading_is_in_the_student_s_language_but_its_values(pseudo_language, tmp_path):
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = (folder / "softmax.py").read_text(encoding="utf-8")
    (folder / "softmax.py").write_text(source.replace(*KEEPDIM), encoding="utf-8")
    report = grade(folder, only=["softmax", "sgd"], seed=3, device="cpu")
    failed = [check for check in report.checks if check.status == Status.FAILED]
    assert failed and report.causes and all(PSEUDO.search(check.detail) for check in failed)
    for text in [check.detail for check in failed] + [cause.evidence for cause in report.causes]:
        assert english_left(text.replace("softmax(X)", "")) == [], text


def test_the_gradescope_bundle_follows_the_last_release_s_language(tmp_path):
    student = tmp_path / "student"
    assert gradescope.released_language(student) == "en"
    (student / "grader" / "messages").mkdir(parents=True)
    (student / "grader" / "messages" / "release.json").write_text(messages.release_file("zh"))
    assert gradescope.released_language(student) == "zh_CN"


def test_the_curves_need_no_chinese_font_in_any_language(monkeypatch, recwarn):
    monkeypatch.setattr(messages, "_chosen", "zh_CN")
    report = GradeReport(submission="s", seed=0, device="cpu", checks=(), seconds=1.0,
                         curves=(Curve("scratch", (0.9, 0.5), (0.6, 0.8)),))
    assert curves_png(report).startswith(b"\x89PNG")
    assert not [warning for warning in recwarn if "Glyph" in str(warning.message)]
