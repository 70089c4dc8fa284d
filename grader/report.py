"""Report writers: each output format is one function that reads a ``GradeReport``."""
import contextlib
import io
import json
import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from .results import FAILED, NOT_RUN, PASSED
from .table import CHECKS

SUITE = "d2l-linear-kit"
WIDTH = 100
TEXT_LIMIT = 4000
MARKS = {PASSED: "✓", FAILED: "✗", NOT_RUN: "–"}
_ANSI = {PASSED: "32", FAILED: "31", NOT_RUN: "33", "bold": "1", "dim": "2"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ORDER = {check.id: index for index, check in enumerate(CHECKS)}


def number(value):
    """A finite float rounded to cents: NaN, infinities and non-numbers become 0."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return round(value, 2) if math.isfinite(value) else 0.0


def fmt(value):
    """A number as short text (3, 2.5, 0.33); non-finite values render as nan or inf."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.2f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


def visible(text, limit=TEXT_LIMIT):
    """Student-controlled text made safe to show: control characters escaped, newlines unified, clipped."""
    text = str(text).encode("utf-8", "replace").decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)
    if len(text) > limit:
        text = f"{text[:limit]}\n… ({len(text) - limit} more characters)"
    return text


def mark(check):
    """The status mark of a check: ✓ passed, ✗ failed, – not run."""
    return MARKS.get(check.status, MARKS[FAILED])


def status_of(check):
    """The check's status, with anything unknown counted as failed."""
    return check.status if check.status in MARKS else FAILED


def ordered(report):
    """The report's checks in table order; checks the table does not know come last."""
    return sorted(report.checks, key=lambda check: _ORDER.get(check.id, len(_ORDER)))


def total_line(report):
    """``Total: S / M (P%)`` with non-finite points counted as 0."""
    score = round(sum(number(check.points) for check in report.checks), 2)
    top = round(sum(number(check.max_points) for check in report.checks), 2)
    percent = round(100 * score / top, 1) if top > 0 else 0.0
    return f"Total: {fmt(score)} / {fmt(top)} ({fmt(percent)}%)"


def run_line(report):
    """Seed, device and wall time of the grading run on one line."""
    return f"Seed {report.seed} · device {visible(report.device, 80)} · {fmt(number(report.seconds))} s"


def check_output(check):
    """What a student reads about one check: a short pass line, or the hint followed by the detail."""
    if check.status == PASSED:
        return f"passed on {visible(check.device, 80)} in {fmt(number(check.seconds))} s"
    if check.status == NOT_RUN:
        return f"not run: {visible(check.detail) or 'this check could not run here'}\n\nHint: {check.hint}"
    return check.hint + (f"\n\n{visible(check.detail)}" if check.detail else "")


def to_gradescope(report):
    """Gradescope's results.json as a dict: totals, one test per check, and never a NaN."""
    tests = [_gradescope_test(check, index) for index, check in enumerate(ordered(report), start=1)]
    if report.error and not tests:
        tests.append({"name": "grader/error autograder failed", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "output": visible(report.error), "visibility": "visible",
                      "tags": ["grader"], "number": "1"})
    output = [total_line(report), f"Seed {report.seed}, device {visible(report.device, 80)}.",
              *protection_lines(report)]
    if report.error:
        output.append(f"autograder failed: {visible(report.error)}")
    return {"score": round(sum(test["score"] for test in tests), 2),
            "max_score": round(sum(test["max_score"] for test in tests), 2),
            "execution_time": math.ceil(max(number(report.seconds), 0.0)),
            "output": "\n".join(output), "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def _gradescope_test(check, index):
    """One Gradescope test entry for one check."""
    return {"name": f"{check.id} {_cell(check.title)}", "score": number(check.points),
            "max_score": number(check.max_points), "status": "passed" if check.status == PASSED else "failed",
            "output": check_output(check), "visibility": "after_published" if check.hidden else "visible",
            "tags": [check.stub], "number": str(index)}


def to_markdown(report):
    """The report as Markdown: totals, a table of checks, what to fix, and the curves."""
    checks = ordered(report)
    lines = [f"# Grading report: {_cell(report.submission)}", "", f"**{total_line(report)}**", "",
             run_line(report), ""]
    if report.error:
        lines += ["## Autograder failed", "", *_fence(report.error), ""]
    if checks:
        lines += ["| | Check | Title | Points |", "|:-:|---|---|--:|"]
        lines += [f"| {mark(check)} | `{check.id}` | {_cell(check.title)} | "
                  f"{fmt(check.points)} / {fmt(check.max_points)} |" for check in checks]
        lines.append("")
    todo = [check for check in checks if check.status != PASSED]
    if todo:
        lines += ["## What to fix", ""]
        for check in todo:
            lines += [f"### {mark(check)} `{check.id}`: {_cell(check.title)}", ""]
            lines += (["Not run on this machine.", ""] if check.status == NOT_RUN else []) + [check.hint, ""]
            lines += [*_fence(check.detail), ""] if check.detail else []
    if report.curves:
        lines += ["## Training curves", "", "![curve](curves.png)", ""]
    if report.environment:
        lines += ["## Environment", "", *(f"- {_cell(line)}" for line in environment_lines(report)), ""]
    return "\n".join(lines).rstrip() + "\n"


PROTECTIONS = ("sandbox", "user", "control group", "process limit", "worker limits")


def environment_lines(report):
    """``name: value`` for every entry of the report's environment."""
    return [f"{name}: {value}" for name, value in report.environment.items()]


def protection_lines(report):
    """How student code was confined on this run, so a score can be weighed."""
    return [f"{name.capitalize()}: {report.environment[name]}" for name in PROTECTIONS if name in report.environment]


def _cell(text):
    """Text that fits in one Markdown table cell or heading."""
    return " ".join(visible(text, 300).split()).replace("|", "\\|")


def _fence(text):
    """A fenced code block around ``text``, its fence longer than any backtick run inside."""
    text = visible(text)
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{ticks}text", text, ticks]


def to_html(report, curves_png=None):
    """The report as one self-contained HTML page (see ``grader.report_html``)."""
    from .report_html import render
    return render(report, curves_png)


def to_junit(report):
    """JUnit XML: one testsuite, one testcase per check, failures and skips with their messages."""
    checks = ordered(report)
    counts = {status: sum(status_of(check) == status for check in checks) for status in MARKS}
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=SUITE, tests=str(len(checks) + bool(report.error)),
                          failures=str(counts[FAILED]), errors=str(int(bool(report.error))),
                          skipped=str(counts[NOT_RUN]), time=_seconds(report.seconds))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("seed", report.seed), ("device", report.device)):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname=_xml(check.stub), name=_xml(check.id),
                             time=_seconds(check.seconds))
        if check.status == NOT_RUN:
            ET.SubElement(case, "skipped", message=_xml(f"not run: {check.detail or check.hint}"))
        elif check.status != PASSED:
            ET.SubElement(case, "failure", message=_xml(check.hint)).text = _xml(check.detail)
    if report.error:
        case = ET.SubElement(suite, "testcase", classname="grader", name="grader/error", time="0.000")
        ET.SubElement(case, "error", message="autograder failed").text = _xml(report.error)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _xml(text):
    """Text that XML 1.0 can hold: control characters escaped, anything still illegal stripped."""
    return _XML_ILLEGAL.sub("", visible(text))


def _seconds(value):
    """Seconds as JUnit writes them, non-finite values as 0."""
    return f"{max(number(value), 0.0):.3f}"


def to_terminal(report, color=False):
    """A compact terminal summary (see ``grader.report_terminal``)."""
    from .report_terminal import render
    return render(report, color)


def curves_png(report):
    """Train loss and test accuracy per epoch of every curve as PNG bytes; None without curves."""
    if not report.curves:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, acc_axes = figure.subplots(1, 2)
    for curve in report.curves:
        label = str(curve.label).replace("$", r"\$")
        for axes, values in ((loss_axes, curve.train_loss), (acc_axes, curve.test_acc)):
            ys = [_plottable(value) for value in values]
            axes.plot(range(1, len(ys) + 1), ys, marker="o", label=label)
    for axes, title in ((loss_axes, "train loss"), (acc_axes, "test accuracy")):
        axes.set(title=title, xlabel="epoch", ylabel=title.split()[-1])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    figure.clear()
    return buffer.getvalue()


def _plottable(value):
    """A float for matplotlib; NaN (a gap in the line) for anything non-finite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def write_all(report, out_dir):
    """Write results.json, report.md, report.html, junit.xml and curves.png atomically; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = curves_png(report)
    files = {"curves.png": png} if png else {}
    if not png:
        (out / "curves.png").unlink(missing_ok=True)
    files["junit.xml"] = to_junit(report).encode("utf-8")
    files["report.md"] = to_markdown(report).encode("utf-8")
    files["report.html"] = to_html(report, png).encode("utf-8")
    gradescope = json.dumps(to_gradescope(report), indent=2, allow_nan=False, ensure_ascii=False)
    files["results.json"] = (gradescope + "\n").encode("utf-8")
    return [_write_atomic(out / name, data) for name, data in files.items()]


def _write_atomic(path, data):
    """Write ``data`` to a temporary file beside ``path``, then move it into place."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
