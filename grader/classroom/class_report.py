"""The class at a glance for the instructor: OUT/class.html and a few terminal lines, read from the students' records.

Everything comes from each student's ``record.json`` and ``verdicts.json`` under ``OUT/students/``:
how many were graded and how the totals spread, which checks and causes cost the most, how long
grading took, who could not be graded, and (for the instructor only) which submissions look alike.
"""
import base64
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .. import messages
from ..files import write_atomic
from ..table import BY_ID, CHECKS, TOTAL
from . import gradebook

CSS = """
body { font: 15px/1.5 system-ui, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #1d2125; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #e1e4e8; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border-bottom: 1px solid #e1e4e8; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.stats td { font-size: 1.2em; font-weight: 600; }
.private { border: 2px solid #bf8700; background: #fff8c5; padding: 0.3em 1em 0.8em; margin-top: 2em; }
.private p { font-weight: 600; color: #6a5300; }
img { max-width: 100%; }
code { background: #f6f8fa; padding: 0 0.3em; }
"""

PAGE = "class.html"
TOP = 5          # rows of the failed-checks and causes tables
BINS = 10        # bars of the histogram
PROBLEMS = (gradebook.ERROR, gradebook.TIMEOUT, gradebook.EMPTY, gradebook.MISSING)
ORDER = {check.id: index for index, check in enumerate(CHECKS)}


@dataclass(frozen=True)
class FailedCheck:
    """A check and how many graded students failed it."""

    check: str
    students: int
    title: str
    hint: str


@dataclass(frozen=True)
class CommonCause:
    """A diagnosed cause, how many students it struck and the points it cost them all together."""

    title: str
    students: int
    points: float


@dataclass(frozen=True)
class Problem:
    """A student who was not graded, and why."""

    student: str
    status: str
    note: str


@dataclass(frozen=True)
class ClassSummary:
    """The class's results: statuses, totals, what failed, timing, problems and similar pairs."""

    counts: dict
    graded: int
    mean: float
    median: float
    minimum: float
    maximum: float
    max_score: float
    histogram: tuple      # ((low, high, students), ...)
    failed: tuple         # FailedCheck, most failed first
    causes: tuple         # CommonCause, most students first
    median_seconds: float
    max_seconds: float
    slowest: tuple        # ((student, seconds), ...)
    problems: tuple       # Problem
    pairs: tuple          # similarity.Pair

    @property
    def students(self):
        return sum(self.counts.values())


def summarise(out_dir, pairs=(), records=None):
    """The summary of the class graded into ``out_dir``, with the similar ``pairs`` found in it; ``records``, the
    gradebook's rows (missing students and unusable entries included), else every student folder's record."""
    found = _students(Path(out_dir)) if records is None else [
        (record, _verdicts(Path(out_dir) / "students" / record.student)) for record in records]
    graded = [(record, verdicts) for record, verdicts in found if record.status == gradebook.GRADED]
    totals = [float(record.total) for record, _ in graded]
    top = max([float(record.max) for record, _ in graded] or [TOTAL])
    seconds = sorted(((float(record.seconds), record.student) for record, _ in found if record.seconds > 0),
                     reverse=True)
    return ClassSummary(
        counts=dict(Counter(record.status for record, _ in found)), graded=len(graded),
        mean=statistics.fmean(totals) if totals else 0.0, median=statistics.median(totals) if totals else 0.0,
        minimum=min(totals, default=0.0), maximum=max(totals, default=0.0), max_score=top,
        histogram=histogram(totals, top), failed=_failed(graded), causes=_causes(graded),
        median_seconds=statistics.median([s for s, _ in seconds]) if seconds else 0.0,
        max_seconds=seconds[0][0] if seconds else 0.0, slowest=tuple((who, s) for s, who in seconds[:3]),
        problems=tuple(Problem(record.student, record.status, record.note)
                       for record, _ in found if record.status in PROBLEMS),
        pairs=tuple(pairs))


def _students(out_dir):
    """[(record, verdicts dict)] of every student folder with a readable record, by student."""
    found = []
    for folder in sorted((out_dir / "students").glob("*/")):
        record = gradebook.load(folder)
        if record is not None:
            found.append((record, _verdicts(folder)))
    return sorted(found, key=lambda pair: pair[0].student)


def _verdicts(folder):
    """The raw verdicts.json of ``folder`` as a dict; {} when missing or unreadable."""
    try:
        data = json.loads((folder / "verdicts.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def histogram(totals, top, bins=BINS):
    """((low, high, count), ...): ``bins`` equal ranges from 0 to ``top``, the last one closed."""
    width = (top or 1) / bins
    counts = [0] * bins
    for total in totals:
        counts[min(max(int(total // width), 0), bins - 1)] += 1
    return tuple((round(i * width, 2), round((i + 1) * width, 2), count) for i, count in enumerate(counts))


def _failed(graded):
    """The TOP checks failed by the most graded students, in table order among equals."""
    counted, texts = Counter(), {}
    for _, verdicts in graded:
        for check, verdict in _checks(verdicts).items():
            if verdict.get("status") == "failed":
                counted[check] += 1
                texts.setdefault(check, (str(verdict.get("title") or _title(check)), str(verdict.get("hint") or "")))
    ranked = sorted(counted, key=lambda check: (-counted[check], ORDER.get(check, len(ORDER)), check))
    return tuple(FailedCheck(check, counted[check], *texts[check]) for check in ranked[:TOP])


def _checks(verdicts):
    """The checks of a verdicts dict, only the well-formed entries."""
    checks = verdicts.get("checks")
    return {str(k): v for k, v in checks.items() if isinstance(v, dict)} if isinstance(checks, dict) else {}


def _title(check):
    """The catalogue title of a check of the table, else its id."""
    return BY_ID[check].title if check in BY_ID else check


def _causes(graded):
    """The TOP causes that struck the most students, with the points they cost in all."""
    students, points, titles = Counter(), Counter(), {}
    for _, verdicts in graded:
        causes = [cause for cause in verdicts.get("causes") or [] if isinstance(cause, dict)]
        for key in {(str(cause.get("pitfall")), str(cause.get("stub"))) for cause in causes}:
            students[key] += 1
        for cause in causes:
            key = (str(cause.get("pitfall")), str(cause.get("stub")))
            points[key] += _number(cause.get("points"))
            titles.setdefault(key, str(cause.get("title") or key[0]))
    ranked = sorted(students, key=lambda key: (-students[key], -points[key], key))
    return tuple(CommonCause(titles[key], students[key], round(points[key], 2)) for key in ranked[:TOP])


def _number(value):
    """A float from a JSON value; 0 for anything else."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def fmt(value):
    """A number as the pages show it: at most two decimals, no trailing zeros."""
    return f"{round(float(value), 2):g}"


def terminal_lines(summary, language=None):
    """At most twelve lines for the terminal after a class is graded."""
    say = lambda key, **values: messages.text(key, language, **values)  # noqa: E731
    lines = [say("class.terminal.graded", graded=summary.graded, students=summary.students,
                 mean=fmt(summary.mean), median=fmt(summary.median), max=fmt(summary.max_score))]
    if summary.failed:
        items = "; ".join(f"{item.check} ({item.students})" for item in summary.failed[:3])
        lines.append("  " + say("class.terminal.failed", items=items))
    if summary.causes:
        items = "; ".join(f"{item.title} ({item.students})" for item in summary.causes[:3])
        lines.append("  " + say("class.terminal.causes", items=items))
    if summary.problems:
        lines.append("  " + say("class.terminal.problems", count=len(summary.problems)))
    if summary.pairs:
        lines.append("  " + say("class.terminal.similar", count=len(summary.pairs)))
    return lines


def write(out_dir, pairs=(), language=None, summary=None):
    """Write OUT/class.html for the class in ``out_dir`` (from ``summary`` when it is made already); its path."""
    return write_atomic(Path(out_dir) / PAGE, to_html(summary or summarise(out_dir, pairs), language))


def histogram_png(summary):
    """The histogram of the totals as PNG bytes, drawn without a display; numbers only, no words."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(8, 3), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    lows = [low for low, _, _ in summary.histogram]
    width = summary.histogram[0][1] - summary.histogram[0][0]
    axes.bar(lows, [count for _, _, count in summary.histogram], width=width * 0.92, align="edge", color="#4c72b0")
    axes.set_xlim(0, summary.max_score or 1)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    figure.clear()
    return buffer.getvalue()


def png_uri(summary):
    """The histogram as a data: URI for an <img>."""
    return "data:image/png;base64," + base64.b64encode(histogram_png(summary)).decode("ascii")


def safe(text):
    """Student-provided or catalogue text ready for HTML: escaped, quotes included."""
    return escape(str(text), quote=True)


def to_html(summary, language=None):
    """The class report as one self-contained page: inline CSS, the histogram a data: URI, all text escaped."""
    say = lambda key, **values: safe(messages.text(key, language, **values))  # noqa: E731
    parts = [f"<!DOCTYPE html><html lang=\"{messages.html_lang(language)}\"><head><meta charset=\"utf-8\">",
             f"<title>{say('class.title')}</title><style>{CSS}</style></head><body>",
             f"<h1>{say('class.title')}</h1>",
             f"<p>{say('class.graded', graded=summary.graded, students=summary.students)}</p>",
             _table([say("class.status"), say("class.students")], sorted(summary.counts.items()), numeric=(1,))]
    parts += _scores(summary, say) + _failures(summary, say) + _timing(summary, say)
    parts += _problems(summary, say) + _pairs(summary, say) + ["</body></html>"]
    return "\n".join(parts) + "\n"


def _table(headers, rows, numeric=(), css=""):
    """An HTML table: the headers already escaped, every cell escaped here."""
    head = "".join(f"<th>{header}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td class=\"n\">{safe(value)}</td>" if i in numeric else f"<td>{safe(value)}</td>"
                                    for i, value in enumerate(row)) + "</tr>" for row in rows)
    return f"<table{css}><tr>{head}</tr>{body}</table>"


def _scores(summary, say):
    """The totals' statistics and their histogram."""
    if not summary.graded:
        return [f"<h2>{say('class.scores')}</h2><p>{say('class.none')}</p>"]
    headers = [say(key) for key in ("class.mean", "class.median", "class.min", "class.max", "class.out-of")]
    row = [fmt(v) for v in (summary.mean, summary.median, summary.minimum, summary.maximum, summary.max_score)]
    return [f"<h2>{say('class.scores')}</h2>", _table(headers, [row], range(5), ' class="stats"'),
            f"<h3>{say('class.histogram')}</h3>",
            f"<img alt=\"{say('class.histogram')}\" src=\"{png_uri(summary)}\">"]


def _failures(summary, say):
    """The most failed checks and the most common causes."""
    checks = [(item.check, item.title, item.students, item.hint) for item in summary.failed]
    causes = [(item.title, item.students, fmt(item.points)) for item in summary.causes]
    return [f"<h2>{say('class.failed')}</h2>",
            _table([say("class.check"), "", say("class.students"), say("class.hint")], checks, (2,))
            if checks else f"<p>{say('class.none')}</p>",
            f"<h2>{say('class.causes')}</h2>",
            _table([say("class.cause"), say("class.students"), say("class.points-lost")], causes, (1, 2))
            if causes else f"<p>{say('class.none')}</p>"]


def _timing(summary, say):
    """Median and longest grading time, and the slowest students."""
    line = say("class.timing.line", median=fmt(summary.median_seconds), max=fmt(summary.max_seconds))
    rows = [(who, fmt(seconds)) for who, seconds in summary.slowest]
    return [f"<h2>{say('class.timing')}</h2><p>{line}</p>",
            _table([say("class.slowest"), say("class.seconds")], rows, (1,)) if rows else ""]


def _problems(summary, say):
    """The students who could not be graded."""
    rows = [(item.student, item.status, item.note) for item in summary.problems]
    return [f"<h2>{say('class.problems')}</h2>",
            _table([say("class.student"), say("class.status"), say("class.note")], rows)
            if rows else f"<p>{say('class.none')}</p>"]


def _pairs(summary, say):
    """The similar pairs, in a box that says it is for the instructor only."""
    rows = [(pair.student_a, pair.student_b, f"{pair.similarity:.3f}") for pair in summary.pairs]
    table = _table([say("class.student"), say("class.student"), say("class.similarity")], rows, (2,))
    return [f"<section class=\"private\"><h2>{say('class.similar')}</h2><p>{say('class.similar.private')}</p>",
            table if rows else f"<p>{say('class.none')}</p>", "</section>"]
