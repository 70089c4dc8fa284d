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
    png = curves_png(report)
    files = {"curves.png": png} if png else {}
    if not png:
        (out_dir / "curves.png").unlink(missing_ok=True)
    files["junit.xml"] = to_junit(report)
    files["report.md"] = to_markdown(report)
    files["report.html"] = to_html(report, png)
    files["results.json"] = _json(to_gradescope(report), indent=2)
    files[VERDICTS] = _json(to_verdicts(report), indent=1)
    return [write_atomic(out_dir / name, data) for name, data in files.items()]


def _json(data, indent):
    return json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False) + "\n"
