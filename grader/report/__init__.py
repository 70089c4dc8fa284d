"""The report writers: each output format is one module with one function that reads a ``GradeReport``.

``write_all`` writes every format of one grading, verdicts.json included, each file atomically.
"""
import json
from pathlib import Path

from ..files import write_atomic
from .curves import curves_png
from .gradescope_json import to_gradescope
from .html_page import to_html
from .junit import to_junit
from .markdown import to_markdown
from .terminal import to_terminal
from .verdicts import NAME as VERDICTS
from .verdicts import to_verdicts

__all__ = ["curves_png", "to_gradescope", "to_html", "to_junit", "to_markdown", "to_terminal", "to_verdicts",
           "write_all", "VERDICTS"]


def write_all(report, out_dir):
    """Write results.json, verdicts.json, report.md, report.html, junit.xml and curves.png; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"results.json": _json(to_gradescope(report), indent=2), VERDICTS: _json(to_verdicts(report), indent=1)}
    written = [write_atomic(out_dir / name, data) for name, data in files.items()]   # the results come first
    png = _plot(report)
    files = {"curves.png": png} if png else {}
    if not png:
        (out_dir / "curves.png").unlink(missing_ok=True)
    files.update({"junit.xml": to_junit(report), "report.md": to_markdown(report), "report.html": to_html(report, png)})
    return written + [write_atomic(out_dir / name, data) for name, data in files.items()]


def _plot(report):
    """The curves' PNG, or None when there are none or the plot could not be drawn (the results come first)."""
    try:
        return curves_png(report)
    except Exception:
        return None


def _json(data, indent):
    return json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False) + "\n"
