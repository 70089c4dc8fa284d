"""Notebook submissions: the two chapter notebooks, their nbgrader cell ids, and answer-cell extraction.

An answer cell (nbgrader "autograded answer") holds one stub module; its ``grade_id`` is the stub's
name. A test cell holds one check: ``check-STUB-ASPECT`` for a public check, ``hidden-STUB-N`` for the
N-th hidden check of a stub (in table order), so a released notebook never names a hidden check.
"""
import json
import os
import shutil
import stat
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import messages
from .table import CHECKS, STUBS


@dataclass(frozen=True)
class Notebook:
    """One notebook of the assignment: its file name (without .ipynb), title, d2l section and stubs."""

    name: str
    title: str
    section: str
    stubs: tuple


NOTEBOOKS = (
    Notebook("linear_regression", "Linear regression from scratch", "3.2",
             ("synthetic_data", "data_iter", "squared_loss", "sgd")),
    Notebook("softmax_regression", "Softmax regression from scratch", "3.6",
             ("softmax", "cross_entropy", "accuracy", "train_ch3")),
)
# Names an answer cell uses from an earlier answer cell; its extracted module imports them.
GIVEN = {"train_ch3": {"accuracy": "accuracy"}}


NOTEBOOK_LIMIT = 16 << 20   # the largest notebook read; the chapter's notebooks are well under 1 MiB


class NotebookError(ValueError):
    """A file that is not a readable notebook."""


def cell_id(check):
    """The nbgrader grade_id of the test cell of ``check``."""
    if not check.hidden:
        return "check-" + check.id.replace("/", "-")
    hidden = [other for other in CHECKS if other.hidden and other.stub == check.stub]
    return f"hidden-{check.stub}-{hidden.index(check) + 1}"


CELL_IDS = {cell_id(check): check for check in CHECKS}


def source_of(cell):
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata, or {}."""
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def read(path):
    """A notebook file as a dict, read without following a link and within NOTEBOOK_LIMIT; else NotebookError."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if Path(path).is_symlink():
            raise NotebookError(messages.text("error.notebook.link", path=path)) from None
        raise NotebookError(messages.text("error.notebook.unreadable", path=path, error=error)) from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotebookError(messages.text("error.notebook.not-file", path=path))
        data = handle.read(NOTEBOOK_LIMIT + 1)
    if len(data) > NOTEBOOK_LIMIT:
        raise NotebookError(messages.text("error.notebook.too-large", path=path, limit=NOTEBOOK_LIMIT >> 20))
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        reason = messages.text("error.notebook.too-deep") if isinstance(error, RecursionError) else error
        raise NotebookError(messages.text("error.notebook.not-json", path=path, reason=reason)) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(messages.text("error.notebook.no-cells", path=path))
    return notebook


def answers(notebook):
    """Map each stub to the source of its answer cell; the first cell with an id wins, as in nbgrader."""
    found = {}
    for cell in (cell for cell in notebook["cells"] if isinstance(cell, dict)):
        meta = nbgrader_meta(cell)
        stub = meta.get("grade_id")
        if cell.get("cell_type") == "code" and meta.get("solution") and stub in STUBS and stub not in found:
            found[stub] = source_of(cell)
    return found


def module_text(stub, source):
    """The module a stub's answer cell becomes: given imports first; magics and shell lines commented out."""
    lines = [f"from .{module} import {name}\n" for name, module in GIVEN.get(stub, {}).items()]
    for line in source.splitlines(keepends=True):
        lines.append("# " + line if line.lstrip().startswith(("%", "!")) else line)
    return "".join(lines).rstrip("\n") + "\n"


def notebooks_in(path):
    """The notebook files a submission path names: one .ipynb, or every .ipynb of a folder (links included:
    reading one refuses it)."""
    path = Path(path)
    if path.suffix == ".ipynb" and (path.is_file() or path.is_symlink()):
        return [path]
    if path.is_dir() and not any(path.glob("*.py")):
        return sorted(path.glob("*.ipynb"))
    return []


def extract(paths, target, refused):
    """Write one module per answer cell found in ``paths`` into ``target``; return the stubs written.
    A notebook that cannot be read is left out and named in ``refused`` ({file name: why})."""
    written = {}
    for path in paths:
        try:
            notebook = read(path)
        except NotebookError as error:
            refused[Path(path).name] = str(error)
            continue
        for stub, source in answers(notebook).items():
            module = Path(target) / f"{stub}.py"
            if not module.exists():
                module.write_text(module_text(stub, source), encoding="utf-8")
                written[stub] = path
    return written


def siblings(path):
    """The other chapter notebooks next to ``path``: they provide the modules its stubs use (sgd)."""
    names = {f"{notebook.name}.ipynb" for notebook in NOTEBOOKS}
    return [other for other in sorted(Path(path).parent.glob("*.ipynb")) if other.name in names and other != path]


@contextmanager
def as_modules(path):
    """For a notebook submission, yield (folder of extracted modules, stubs to grade, refused notebooks); else None."""
    paths = notebooks_in(path)
    if not paths:
        yield None
        return
    folder, refused = Path(tempfile.mkdtemp(prefix="d2l-notebook-")), {}
    try:
        single = Path(path).suffix == ".ipynb"
        graded = extract(paths, folder, refused)
        if not graded:
            names = ", ".join(stub for stub in STUBS)
            problems = "".join(f"; {why}" for why in refused.values())
            raise NotebookError(messages.text("error.notebook.no-answers", names=names, path=path, problems=problems))
        if single:
            extract(siblings(Path(path)), folder, {})
        stubs = [stub for stub in STUBS if stub in graded] if single else list(STUBS)
        yield folder, stubs, refused
    finally:
        shutil.rmtree(folder, ignore_errors=True)
