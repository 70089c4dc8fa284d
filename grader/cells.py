"""What a notebook's check cells run: they report verdicts of the isolated grader, never judge code themselves.

The verdicts come from ``verdicts.json`` of a grading run of the notebook's answer cells. Under
``nbgrader autograde`` the kit's preprocessor grades the submitted notebooks before the kernel
starts and names that file in ``D2L_KIT_VERDICTS``; elsewhere (a student running the notebook) the
first check cell grades the saved notebook once with ``python -m grader``. Nothing here writes to
stderr: nbgrader scores any stderr output of a test cell as a failure.
"""
import importlib.util
import json
import os
import subprocess
import tempfile
from pathlib import Path

from . import child, messages
from .results import Status

VERDICTS_ENV = "D2L_KIT_VERDICTS"
GRADING_TIMEOUT = 900
NEEDED = ("torch", "pytest")   # what the grader imports in the notebook's Python


class CheckFailed(AssertionError):
    """A check that did not pass; IPython shows only its message, never a traceback into the kit."""

    def _render_traceback_(self):
        return str(self).splitlines()


class Checks:
    """The verdicts of one notebook's checks, loaded once."""

    def __init__(self, notebook):
        self.notebook, self.verdicts = notebook, None

    def verdict(self, check_id):
        """Print a passed check; raise CheckFailed with the hint for any other."""
        passed, text = verdict_text(self._load(), check_id)
        if not passed:
            raise CheckFailed(text)
        print(text)

    def _load(self):
        if self.verdicts is None:
            missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
            self.verdicts = ({"error": messages.text("cell.missing-packages", packages=" ".join(missing))}
                             if missing else self._read())
        return self.verdicts

    def _read(self):
        """The verdicts named by D2L_KIT_VERDICTS, or those of a grading of the saved notebook."""
        given = os.environ.get(VERDICTS_ENV, "")
        path = Path(given) if given else self._grade()
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return {"error": f"no verdicts could be read from {path} ({error})"}

    def _grade(self):
        """Grade the saved notebook in this folder with the kit's grader (in its own processes)."""
        notebook = Path.cwd() / f"{self.notebook}.ipynb"
        out = Path(tempfile.mkdtemp(prefix="d2l-cells-"))
        try:
            child.run(notebook, out, timeout=GRADING_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired):
            pass
        return out / "verdicts.json"


def verdict_text(verdicts, check_id):
    """(passed, what the check's cell shows) for ``check_id`` in the verdicts (a verdicts.json as a dict)."""
    found = verdicts.get("checks", {}).get(check_id)
    if not isinstance(found, dict):
        why = verdicts.get("error") or messages.text("cell.no-verdict.why")
        return False, messages.text("cell.no-verdict", check=check_id, why=why)
    name = messages.text("cell.hidden", stub=check_id.split("/")[0]) if found.get("hidden") else check_id
    if found.get("status") == Status.PASSED:
        return True, messages.text("cell.passed", name=name, points=f"{float(found.get('points', 0)):g}")
    if found.get("status") == Status.NOT_RUN:
        return False, f"{messages.text('cell.not-run', name=name)}\n{found.get('detail', '')}"
    lines = [messages.text("cell.failed", name=name), messages.text("report.hint", hint=found.get("hint", ""))]
    lines += [found["detail"]] if found.get("detail") else []
    if found.get("reference"):
        lines += ["", messages.text("report.reference", stub=found.get("stub", "")), str(found["reference"])]
    return False, "\n".join(lines)
