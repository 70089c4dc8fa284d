"""Similar submissions: copies and renamed copies are flagged, independent work and untouched stubs are not."""
import ast
import csv
import json
import random
import shutil
from pathlib import Path

from grader.classroom import similarity
from grader.classroom.similarity import Pair, find, write_csv

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, BOOK, EXERCISES = ROOT / "solutions", ROOT / "tests" / "book", ROOT / "exercises"


class Renamer(ast.NodeTransformer):
    """Gives every name a module binds (functions, arguments, variables) another spelling."""

    def __init__(self):
        self.bound = {}

    def fresh(self, name):
        return self.bound.setdefault(name, f"renamed_{len(self.bound)}_{name[::-1]}")

    def visit_FunctionDef(self, node):
        node.name = self.fresh(node.name)
        return self.generic_visit(node)

    def visit_arg(self, node):
        node.arg = self.fresh(node.arg)
        return node

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Store) or node.id in self.bound:
            node.id = self.fresh(node.id)
        return node

    def visit_keyword(self, node):
        return self.generic_visit(node)   # a keyword argument's name belongs to the callee: kept


def disguised(text):
    """``text`` with its own names renamed, its layout rewritten, comments gone and a comment added."""
    tree = ast.parse(text)
    renamer = Renamer()
    for _ in range(2):   # a name used before the statement that binds it is renamed on the second pass
        tree = renamer.visit(tree)
    return "# my own work, honestly\n\n\n" + ast.unparse(tree).replace("\n", "\n\n") + "\n"


def copy_modules(source, target, transform=None):
    target.mkdir(parents=True)
    for path in sorted(source.glob("*.py")):
        if path.name != "__init__.py":
            text = path.read_text(encoding="utf-8")
            (target / path.name).write_text(transform(text) if transform else text, encoding="utf-8")
    return target


def test_identical_submissions_are_one_and_untouched_stubs_are_never_flagged(tmp_path):
    first = copy_modules(SOLUTIONS, tmp_path / "ann")
    second = copy_modules(SOLUTIONS, tmp_path / "bob")
    lazy = [copy_modules(EXERCISES, tmp_path / name) for name in ("carl", "dora")]
    pairs = find([("ann", first), ("bob", second), ("carl", lazy[0]), ("dora", lazy[1])])
    assert pairs == [Pair("ann", "bob", 1.0)]


def test_renamed_and_reformatted_copy_stays_above_ninety_percent(tmp_path):
    original = copy_modules(SOLUTIONS, tmp_path / "ann")
    copied = copy_modules(SOLUTIONS, tmp_path / "bob", disguised)
    assert (copied / "softmax.py").read_text() != (original / "softmax.py").read_text()
    assert "renamed_" in (copied / "softmax.py").read_text()
    [pair] = find([("ann", original), ("bob", copied)])
    print(f"renamed and reformatted: {pair.similarity:.3f}")
    assert pair.similarity >= 0.9


def test_the_books_code_and_the_solutions_are_told_apart(tmp_path):
    pairs = find([("solutions", SOLUTIONS), ("book", BOOK)], threshold=0.0)
    [pair] = pairs
    print(f"solutions/ against tests/book/: {pair.similarity:.3f}")
    assert 0.3 < pair.similarity < 0.7
    assert find([("solutions", SOLUTIONS), ("book", BOOK)]) == []


def test_a_notebook_and_the_same_code_as_modules_are_identical(tmp_path):
    modules = copy_modules(SOLUTIONS, tmp_path / "ann")
    for path in modules.glob("*.py"):
        if path.name != "softmax.py":
            path.unlink()
    cell = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "softmax", "solution": True}},
            "source": (SOLUTIONS / "softmax.py").read_text().splitlines(keepends=True), "outputs": []}
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "softmax_regression.ipynb").write_text(json.dumps({"cells": [cell], "nbformat": 4}))
    assert find([("ann", modules), ("bob", tmp_path / "bob")]) == [Pair("ann", "bob", 1.0)]


def test_one_changed_function_lowers_the_figure_and_broken_code_is_still_read(tmp_path):
    first = copy_modules(SOLUTIONS, tmp_path / "ann")
    second = copy_modules(SOLUTIONS, tmp_path / "bob")
    shutil.copy(BOOK / "softmax.py", second / "softmax.py")
    (second / "sgd.py").write_text((second / "sgd.py").read_text() + "\ndef broken(:\n    'unclosed\n")
    [pair] = find([("ann", first), ("bob", second)], threshold=0.0)
    assert 0.8 < pair.similarity < 1.0


def test_similar_csv_has_three_decimals_and_defuses_formulas(tmp_path):
    path = write_csv([Pair("=cmd()", "bob", 0.91666), Pair("ann", "carl", 1.0)], tmp_path / similarity.NAME)
    rows = list(csv.reader(path.open()))
    assert rows == [["student_a", "student_b", "similarity"], ["'=cmd()", "bob", "0.917"], ["ann", "carl", "1.000"]]


def mutated(text, rng):
    """A solution module with a student's own touches: some statements reordered or added."""
    lines = text.splitlines()
    for _ in range(rng.randrange(1, 4)):
        spot = rng.randrange(len(lines))
        indent = lines[spot][: len(lines[spot]) - len(lines[spot].lstrip())]
        lines.insert(spot, f"{indent}check_{rng.randrange(10**6)} = {rng.random()} * len([{rng.randrange(99)}])")
    return "\n".join(lines) + "\n"


def test_in_a_class_of_a_hundred_only_copies_of_the_same_code_are_paired(tmp_path):
    rng = random.Random(7)
    students = []
    for number in range(100):
        source = BOOK if number % 2 else SOLUTIONS
        students.append((f"s{number:03}", copy_modules(source, tmp_path / f"s{number:03}",
                                                         lambda text: mutated(text, rng))))
    pairs = find(students)
    parity = {name: int(name[1:]) % 2 for name, _ in students}
    assert len(pairs) > 2000 and all(parity[pair.student_a] == parity[pair.student_b] for pair in pairs)
