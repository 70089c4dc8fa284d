"""The instructor's course.toml: written once by ``make release``, every setting explained, and never again."""
from pathlib import Path

from ..course import instructor_file
from ..table import CHECKS, TOTAL

GPU_CHECK = next(check for check in CHECKS if "cuda" in check.needs)   # the check the gpu setting is about

TEMPLATE = '''# Settings of this course for the d2l linear networks kit. `make release` wrote this file once and
# never writes it again: it is yours. make grade, grade-all, release, autograde and gradescope read it.

# The GPU check ({check}, {points} points) trains on a CUDA GPU.
#   "optional"  counts where grading has a GPU; graded without one it is left out of the maximum ({without}).
#   "required"  always counts: graded without a GPU it earns nothing, out of {total}.
#   "left-out"  never runs and never counts, on any machine: full marks are {without}.
# nbgrader fixes each cell's points when the assignment is released, so there "optional" counts the
# check only if the machine that runs `make release` (and then autograde) has a GPU.
gpu = "optional"

# From this moment on, the feedback of a failed check also shows the reference solution of its
# function (from solutions/): in nbgrader's feedback, Gradescope's results and the class's reports.
# Never in the handout. A TOML date and time, with its offset, for example:
# reference_after = 2026-12-20T23:59:00+08:00

# Class grading (make grade-all): the deadline and the late policy, applied after grading; the gradebook
# keeps the raw and the adjusted totals. A submission late by at most a period is scaled by its
# factor; later than the last period it earns 0. late_cap caps what any late submission earns.
# due = 2026-12-20T23:59:00+08:00
# late = {{ "1d" = 0.9, "3d" = 0.7, "7d" = 0.5 }}
# late_cap = 60
# The assignment's column in the Canvas and Moodle exports (Canvas matches "Name (id)" to an assignment).
# assignment = "d2l ch3 linear networks"
# Each student's own report of class grading (students/NAME/student/): "titles" shows every hidden
# check's title, points and hint (never its input), as Gradescope does after publishing; "counts"
# shows only "a hidden check of softmax" and its points.
# hidden_checks = "titles"
'''


def template():
    """The text of a fresh course.toml."""
    return TEMPLATE.format(check=GPU_CHECK.id, points=GPU_CHECK.points, total=TOTAL, without=TOTAL - GPU_CHECK.points)


def write_template(path=None):
    """Write a fresh course.toml where there is none (D2L_KIT_COURSE, else the kit's); never touch an existing
    one. True when written."""
    path = Path(path or instructor_file())
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(template())
    return True
