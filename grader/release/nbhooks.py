"""The kit's nbgrader preprocessors, named in the course's nbgrader_config.py.

``IsolatedVerdicts`` takes the place of nbgrader's Execute in ``nbgrader autograde``: no cell of a
student's notebook runs in a kernel. It takes the verdicts of the kit's isolated grading of the
student's submitted notebooks (``python -m grader``: their answer cells run only in the grader's
sandboxed workers; see ``isolated``), graded once per submission: ``make autograde`` grades the
class before nbgrader runs, and a submission without a grading of its current content is graded
here. It writes each test cell's output from that cell's verdict, which nbgrader then scores as
usual: a passed check prints a line, any other raises an error whose message is the hint.
``FeedbackWithoutHiddenTests`` drops the hidden test regions from the feedback, and reduces the
error output of those cells to its message (the hint).
"""
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor

from ..cells import verdict_text
from ..notebook import CELL_IDS, nbgrader_meta
from . import isolated


class IsolatedVerdicts(NbGraderPreprocessor):
    """Write every test cell's output from the isolated grading of the submission (graded here if need be)."""

    graded = {}

    def preprocess(self, nb, resources):
        key = (resources["nbgrader"]["student"], resources["nbgrader"]["assignment"])
        if key not in IsolatedVerdicts.graded:
            IsolatedVerdicts.graded[key] = self._verdicts(*key)
        verdicts = IsolatedVerdicts.graded[key]
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type == "code" and grade_id in CELL_IDS:
                passed, text = verdict_text(verdicts, CELL_IDS[grade_id].id)
                cell.outputs = [new_output("stream", name="stdout", text=text + "\n") if passed else
                                new_output("error", ename="CheckFailed", evalue=text, traceback=text.splitlines())]
        return nb, resources

    def _verdicts(self, student, assignment):
        """The verdicts of the submission's isolated grading: the saved one when it graded this very content with
        this seed, else a new one."""
        course = CourseDirectory(config=self.config)
        submitted = Path(course.format_path(course.submitted_directory, student, assignment))
        job = isolated.task(course.root, assignment, student, submitted)
        stamp = isolated.read_stamp(job.out)
        if stamp is not None and stamp["key"] == job.key:
            self.log.info("Using the kit's isolated grading of %s in %s (made for this content)", submitted, job.out)
        else:
            self.log.info("Grading %s with the kit's isolated grader into %s", submitted, job.out)
            stamp = isolated.grade(job)
        if stamp.get("status") != isolated.GRADED:
            self.log.warning("The kit's grader could not grade %s: %s (see %s)", submitted, stamp.get("note"),
                             job.out / "grader.log")
        return isolated.verdicts_of(job.out, stamp)


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
