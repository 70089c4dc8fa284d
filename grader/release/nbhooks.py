"""The kit's nbgrader preprocessors, named in the course's nbgrader_config.py.

``IsolatedVerdicts`` runs in the ``nbgrader autograde`` process before each notebook's kernel starts:
it grades the student's submitted notebooks once with ``python -m grader`` (student code in the
grader's own sandboxed worker processes) and tells the kernel where the verdicts are, so the test
cells only report them. ``FeedbackWithoutHiddenTests`` drops the hidden test regions from the
feedback, and reduces the error output of those cells to its message (the hint).
"""
import os
import shutil
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from .. import child
from ..cells import VERDICTS_ENV
from ..report import VERDICTS

REPORTS = "reports"


def report_dir(root, assignment, student):
    """Where the isolated grader's report of one submission goes in the course directory."""
    return Path(root) / REPORTS / assignment / student


class IsolatedVerdicts(NbGraderPreprocessor):
    """Grade the submission with the isolated grader (once per student) and point the kernel at the verdicts."""

    graded = {}

    def preprocess(self, nb, resources):
        key = (resources["nbgrader"]["student"], resources["nbgrader"]["assignment"])
        if key not in IsolatedVerdicts.graded:
            IsolatedVerdicts.graded[key] = self._grade(*key)
        os.environ[VERDICTS_ENV] = str(IsolatedVerdicts.graded[key])
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
            status = child.run(submitted, out, log, env=env)
        if status:
            self.log.warning("The kit's grader could not grade %s (see %s)", submitted, out / "grader.log")
        return out / VERDICTS


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
    """nbgrader's autograde preprocessors, with the isolated grading in front of the kernel's execution."""
    from nbgrader.converters import Autograde
    return [IsolatedVerdicts, *Autograde.class_traits()["autograde_preprocessors"].default()]


def feedback_preprocessors():
    """nbgrader's feedback preprocessors, with the hidden tests taken out first."""
    from nbgrader.converters import GenerateFeedback
    return [FeedbackWithoutHiddenTests, *GenerateFeedback.class_traits()["preprocessors"].default()]
