"""The nbgrader source notebooks of the assignment, built from solutions/ and the check table.

Each stub becomes an autograded answer cell (its solution regions kept, the task text moved in
front of them as comments, so ``nbgrader generate_assignment`` leaves it to the student); each check
becomes one locked autograder test cell worth the table's points, a hidden check inside
``### BEGIN HIDDEN TESTS``. The test cells only report verdicts of the isolated grader (grader/cells.py).
"""
import ast
import json
import os
from pathlib import Path

from .. import messages
from ..notebook import GIVEN, NOTEBOOKS, cell_id
from ..table import checks_for
from .stubgen import BEGIN, DEFINITION, END, TASK_TEXT, task_key, task_text

ASSIGNMENT = "ch3"
COURSE_ID = "d2l-linear"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
NEWLINE = "\n"
SETUP = '''{comment}
import os
import sys
from pathlib import Path

import torch

KIT = os.environ.get("D2L_KIT_ROOT") or next(
    (str(p) for p in (Path.cwd(), *Path.cwd().parents) if (p / "grader" / "cells.py").is_file()), "")
if KIT:
    sys.path.insert(0, KIT)
    from grader.cells import Checks
else:
    class Checks:
        MISSING = {missing!r}

        def __init__(self, name):
            print(self.MISSING)

        def verdict(self, check_id):
            raise RuntimeError(self.MISSING)

checks = Checks("{{name}}")
'''
TRY = {
    "linear_regression": '''true_w, true_b = torch.tensor([2, -3.4]), 4.2
features, labels = synthetic_data(true_w, true_b, 1000)
w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr, num_epochs, batch_size = 0.03, 3, 10
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        squared_loss(linreg(X, w, b), y).sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        print(f"epoch {epoch + 1}: mean loss {float(squared_loss(linreg(features, w, b), labels).mean()):.6f}")
print("error in w:", (true_w - w.detach().reshape(true_w.shape)).tolist(), "error in b:", true_b - b.item())
''',
    "softmax_regression": '''from datasets import load_data_fashion_mnist_fast

batch_size, lr, num_epochs = 256, 0.1, 10
train_iter, test_iter = load_data_fashion_mnist_fast(batch_size)
W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
b = torch.zeros(10, requires_grad=True)


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


history = train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, torch.optim.SGD([W, b], lr=lr))
for epoch, (train_loss, train_acc, test_acc) in enumerate(history, start=1):
    print(f"epoch {epoch}: train loss {train_loss:.4f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}")
''',
}


class CourseError(ValueError):
    """A solution module that cannot become an answer cell."""


def answer_source(path, stub, language="en"):
    """The answer cell of a solution module: no module docstring, no relative imports, task text up front (in
    ``language``)."""
    text = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    drop = set()
    if ast.get_docstring(tree) is not None:
        drop.update(range(tree.body[0].lineno, tree.body[0].end_lineno + 1))
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            names = {alias.asname or alias.name: node.module for alias in node.names}
            if any(GIVEN.get(stub, {}).get(name) != module for name, module in names.items()):
                raise CourseError(f"{path}:{node.lineno}: a relative import the notebook does not provide "
                                  f"(add it to grader.notebook.GIVEN)")
            drop.update(range(node.lineno, node.end_lineno + 1))
    lines = [line for number, line in enumerate(text.splitlines(), start=1) if number not in drop]
    return "\n".join(_task_text_first(lines, path, language)).strip("\n") + "\n"


def _task_text_first(lines, path, language):
    """Move the ``### `` task lines of each solution region in front of it, as ``# `` comments."""
    out, region, function = [], None, ""
    for line in lines:
        marker = line.strip()
        if marker == BEGIN:
            region = (line, [])
        elif marker == END and region is not None:
            text = task_text(_task(region[1]), task_key(path, function), language)
            out += [region[0].replace(BEGIN, "# " + task).rstrip() for task in text]
            out += [region[0], *(code for code in region[1] if TASK_TEXT.match(code) is None), line]
            region = None
        elif region is not None:
            region[1].append(line)
        else:
            out.append(line)
            function = (DEFINITION.match(line) or [None, function])[1]
    return out


def _task(lines):
    return [TASK_TEXT.match(line).group(2) for line in lines if TASK_TEXT.match(line) is not None]


def _intro(path, checks, language):
    """The Markdown cell in front of an answer cell: section title, functions to write, checks."""
    text = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(text)
    todo = [node for node in tree.body
            if isinstance(node, ast.FunctionDef) and BEGIN in ast.get_source_segment(text, node)]
    public = [check for check in checks if not check.hidden]
    hidden = [check for check in checks if check.hidden]
    module = Path(path).stem

    def written(code):
        lines = [f"## {_doc(f'notebook.doc.{module}', ast.get_docstring(tree).rstrip('.'), code)}", "",
                 messages.text("notebook.implement", code), ""]
        lines += [f"- `{node.name}({ast.unparse(node.args)})`: "
                  f"{_doc(f'notebook.doc.{module}.{node.name}', ast.get_docstring(node), code)}" for node in todo]
        counts = {"public": _count(public, "notebook.public", code), "hidden": _count(hidden, "notebook.hidden", code)}
        return "\n".join(lines + ["", messages.text("notebook.verdicts.hidden" if hidden else "notebook.verdicts",
                                                    code, **counts)])
    return messages.each(written, language, "\n\n")


def _count(checks, key, language):
    """``3 public checks (7 points)`` in ``language``."""
    points = messages.counted("notebook.points", sum(check.points for check in checks), language)
    return messages.counted(key, len(checks), language, points=points)


def _doc(key, english, language):
    """A docstring of solutions/ as the notebook shows it: the English itself, or its translation under ``key``."""
    return english if messages.NAMES.get(language, language) == "en" else messages.catalogue("zh_CN").get(key, english)


def _comment(key, language, **values):
    """A text of the notebook as Python comment lines."""
    return "\n".join(f"# {line}".rstrip() for line in messages.text(key, language, **values).splitlines())


def _meta(grade_id, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(kind, source, cell_id, metadata=None):
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def test_source(check, language="en"):
    """A test cell: it reports the verdict of one check; a hidden one's call sits in a hidden region."""
    call = f'checks.verdict("{check.id}")'

    def comment(code):
        points = messages.counted("notebook.points", check.points, code)
        if check.hidden:
            return _comment("notebook.test.hidden", code, stub=check.stub, points=points)
        title = messages.text(f"check.{check.id}.title", code)
        return _comment("notebook.test.public", code, check=check.id, points=points, title=title)
    if not check.hidden:
        return f"{messages.each(comment, language, NEWLINE)}\n{call}\n"
    return f"{messages.each(comment, language, NEWLINE)}\n{HIDDEN_BEGIN}\n{call}\n{HIDDEN_END}\n"


def source_notebook(spec, solutions_dir, language="en", gpu_cell=True):
    """The nbgrader source notebook of one NOTEBOOKS entry, as a dict, its texts in ``language``; without
    ``gpu_cell``, the GPU check has no cell (it is left out of the notebook's points)."""
    def heading(code):
        title = messages.text(f"notebook.{spec.name}.title", code)
        return messages.text("notebook.heading", code, title=title, section=spec.section)
    words = messages.each(lambda code: messages.text("notebook.intro", code), language, "\n\n")
    intro = f"# {messages.each(heading, language)}\n\n{words}"
    missing = messages.each(lambda code: messages.text("notebook.setup.missing", code), language, "\n")
    setup = SETUP.format(comment=_comment("notebook.setup", language), missing=missing).format(name=spec.name)
    cells = [_cell("markdown", intro, "intro"), _cell("code", setup, "setup", _meta("setup", locked=True))]
    for stub in spec.stubs:
        path = Path(solutions_dir) / f"{stub}.py"
        checks = [check for check in checks_for([stub]) if gpu_cell or "cuda" not in check.needs]
        cells.append(_cell("markdown", _intro(path, checks, language), f"about-{stub}".replace("_", "-")))
        cells.append(_cell("code", answer_source(path, stub, language), stub, _meta(stub, solution=True)))
        cells += [_cell("code", test_source(check, language), cell_id(check),
                        _meta(cell_id(check), grade=True, locked=True, points=check.points)) for check in checks]
    try_it = f"{_comment(f'notebook.try.{spec.name}', language)}\n{TRY[spec.name]}"
    cells.append(_cell("code", try_it, "try-it"))
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def source_notebooks(solutions_dir, language="en", gpu_cell=True):
    """Map each notebook file name to its text, in ``language`` (``gpu_cell``: see source_notebook)."""
    return {f"{spec.name}.ipynb": json.dumps(source_notebook(spec, solutions_dir, language, gpu_cell), indent=1,
                                             ensure_ascii=False) + "\n" for spec in NOTEBOOKS}


def config_text(course, kit, language="en"):
    """The kit's part of the course's nbgrader configuration (kit_config.py): the kit's preprocessors, the SQLite
    gradebook, the cell timeout, and the language of the verdicts and feedback (the release's, unless
    D2L_KIT_LANG says otherwise)."""
    kit, course = Path(kit).resolve(), Path(course).resolve()
    return CONFIG.format(kit=os.path.relpath(kit, course) if kit in course.parents else str(kit), course_id=COURSE_ID,
                         language=messages.NAMES[language])


KIT_CONFIG = "kit_config.py"
NBGRADER_CONFIG = "nbgrader_config.py"
CONFIG = '''"""The d2l kit's nbgrader settings of this course. `make release` regenerates this file: put your own
settings in nbgrader_config.py, which loads this file first."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KIT = os.path.normpath(os.path.join(HERE, "{kit}"))
sys.path.insert(0, KIT)
os.environ["D2L_KIT_ROOT"] = KIT
os.environ.setdefault("D2L_KIT_LANG", "{language}")   # the language of the release

from grader.release import nbhooks  # noqa: E402

c = get_config()  # noqa: F821
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# Seconds per cell: the last cell of softmax_regression trains for ten epochs.
c.Execute.timeout = 600
# The kit's isolated grader grades each submission before its kernel starts (the test cells report
# its verdicts); feedback keeps each failed check's hint and drops the hidden tests.
c.Autograde.autograde_preprocessors = nbhooks.autograde_preprocessors()
c.GenerateFeedback.preprocessors = nbhooks.feedback_preprocessors()
'''

INSTRUCTOR_CONFIG = '''"""nbgrader settings of this course. `make release` wrote this file once and never writes it
again: it is yours.

The kit's settings (its preprocessors, the gradebook, the cell timeout) are in kit_config.py, which
`make release` regenerates. They are loaded first, so a setting below overrides them; the kit's
preprocessors are what keep students' cells out of a kernel, so leave those two settings alone.
"""
import os

if not os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "kit_config.py")):
    raise SystemExit("kit_config.py is missing next to nbgrader_config.py: run `make release` in the kit")
load_subconfig("kit_config.py")  # noqa: F821
c = get_config()  # noqa: F821

# Your settings go here, for example:
# c.Exchange.root = "/srv/nbgrader/exchange"
# c.Exchange.timezone = "Asia/Shanghai"
'''
