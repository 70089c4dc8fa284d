"""Notebook submissions: the two chapter notebooks, their nbgrader cell ids, and answer-cell extraction.

An answer cell (nbgrader "autograded answer") holds one stub module; its ``grade_id`` is the stub's
name. A test cell holds one check: ``check-STUB-ASPECT`` for a public check, ``hidden-STUB-N`` for the
N-th hidden check of a stub (in table order), so a released notebook never names a hidden check.
"""
import json
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
    return "".join(source) if isinstance(source, list) else str(source)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata, or {}."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def read(path):
    """A notebook file as a dict; a clear NotebookError when it is not one."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotebookError(f"{path} is not a readable notebook ({error})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError(f"{path} is not a Jupyter notebook (no list of cells)")
    return notebook


def answers(notebook):
    """Map each stub to the source of its answer cell; the first cell with an id wins, as in nbgrader."""
    found = {}
    for cell in notebook["cells"]:
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
    """The notebook files a submission path names: one .ipynb, or every .ipynb of a folder."""
    path = Path(path)
    if path.is_file() and path.suffix == ".ipynb":
        return [path]
    if path.is_dir() and not any(path.glob("*.py")):
        return sorted(path.glob("*.ipynb"))
    return []


def extract(paths, target):
    """Write one module per answer cell found in ``paths`` into ``target``; return the stubs written."""
    written = {}
    for path in paths:
        for stub, source in answers(read(path)).items():
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
    """For a notebook submission, yield (folder of extracted modules, stubs to grade); else None."""
    paths = notebooks_in(path)
    if not paths:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="d2l-notebook-"))
    try:
        single = Path(path).is_file()
        graded = extract(paths, folder)
        if not graded:
            names = ", ".join(stub for stub in STUBS)
            raise NotebookError(f"no answer cell of this assignment ({names}) was found in {path}")
        if single:
            extract(siblings(Path(path)), folder)
        stubs = [stub for stub in STUBS if stub in graded] if single else list(STUBS)
        yield folder, stubs
    finally:
        shutil.rmtree(folder, ignore_errors=True)
