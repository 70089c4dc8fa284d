"""The kit's nbgrader preprocessors, named in the course's nbgrader_config.py.

``IsolatedVerdicts`` takes the place of nbgrader's Execute in ``nbgrader autograde``: no cell of a
student's notebook runs in a kernel. It grades the student's submitted notebooks once with
``python -m grader`` (their answer cells run only in the grader's sandboxed workers) and writes
each test cell's output from that cell's verdict, which nbgrader then scores as usual: a passed
check prints a line, any other raises an error whose message is the hint. ``FeedbackWithoutHiddenTests``
drops the hidden test regions from the feedback, and reduces the error output of those cells to
its message (the hint).
"""
import json
import os
import shutil
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor

from .. import child
from ..cells import VERDICTS_ENV, verdict_text
from ..notebook import CELL_IDS, nbgrader_meta
from ..report import VERDICTS
from ..seeds import official_seed

REPORTS = "reports"


def report_dir(root, assignment, student):
    """Where the isolated grader's report of one submission goes in the course directory."""
    return Path(root) / REPORTS / assignment / student


class IsolatedVerdicts(NbGraderPreprocessor):
    """Grade the submission in the sandbox (once per student) and write every test cell's output from it."""

    graded = {}

    def preprocess(self, nb, resources):
        key = (resources["nbgrader"]["student"], resources["nbgrader"]["assignment"])
        if key not in IsolatedVerdicts.graded:
            IsolatedVerdicts.graded[key] = self._grade(*key)
        verdicts = _read(IsolatedVerdicts.graded[key])
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and grade_id in CELL_IDS:
                passed, text = verdict_text(verdicts, CELL_IDS[grade_id].id)
                cell.outputs = [new_output("stream", name="stdout", text=text + "\n") if passed else
                                new_output("error", ename="CheckFailed", evalue=text, traceback=text.splitlines())]
        return nb, resources

    def _grade(self, student, assignment):
        course = CourseDirectory(config=self.config)
        submitted = Path(course.format_path(course.submitted_directory, student, assignment))
        out = report_dir(course.root, assignment, student)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        env = {name: value for name, value in os.environ.items() if name != VERDICTS_ENV}
        self.log.info("Grading %s with the kit's isolated grader into %s", submitted, out)
        with open(out / "grader.log", "w", encoding="utf-8") as log:
            status = child.run(submitted, out, log, env=env, seed=official_seed(f"{assignment}/{student}", submitted))
        if status:
            self.log.warning("The kit's grader could not grade %s (see %s)", submitted, out / "grader.log")
        return out / VERDICTS


def _read(path):
    """The verdicts in ``path`` as a dict; one that says why when there are none."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return {"error": f"the kit's grader left no verdicts ({error})"}


class FeedbackWithoutHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests for feedback: the errors of cells that held hidden tests keep only their message."""

    def preprocess_cell(self, cell, resources, cell_index):
        before = cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.source != before:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def autograde_preprocessors():
    """nbgrader's autograde preprocessors, with the isolated grading in place of the kernel's execution."""
    from nbgrader.converters import Autograde
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [IsolatedVerdicts if preprocessor is Execute else preprocessor for preprocessor in default]


def feedback_preprocessors():
    """nbgrader's feedback preprocessors, with the hidden tests taken out first."""
    from nbgrader.converters import GenerateFeedback
    return [FeedbackWithoutHiddenTests, *GenerateFeedback.class_traits()["preprocessors"].default()]
