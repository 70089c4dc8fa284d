"""The stub generator: round trip, exercises/ in sync, and never clobbering a student's edits."""
import ast
import importlib
import inspect
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from grader.release import stubgen

ROOT = Path(__file__).resolve().parent.parent
STUB_FUNCTIONS = {
    "synthetic_data": ["synthetic_data"], "data_iter": ["data_iter"], "squared_loss": ["squared_loss"],
    "sgd": ["sgd"], "softmax": ["softmax"], "cross_entropy": ["cross_entropy"], "accuracy": ["accuracy"],
    "train_ch3": ["evaluate_accuracy", "train_epoch_ch3", "train_ch3"],
}
SOURCE = '''import torch


def double(X):
    """Twice X."""
    ### BEGIN SOLUTION
    ### TODO: return 2 X.
    ###       (elementwise)
    ### Pitfall: do not modify X in place.
    return X * 2
    ### END SOLUTION
'''


def solution_only_lines(path):
    """Non-trivial code lines that occur inside the solution regions of a file and nowhere else in it."""
    inside, region, given = False, [], set()
    for line in path.read_text().splitlines():
        marker = line.strip()
        if marker in (stubgen.BEGIN, stubgen.END):
            inside = marker == stubgen.BEGIN
        elif inside and marker and not marker.startswith("###") and marker not in ("return", "pass"):
            region.append(marker)
        elif not inside:
            given.add(marker)
    return [line for line in region if line not in given]


TOKEN = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")   # an identifier or number, or one other character
SHORTEST = 12   # characters without whitespace: shorter code (net.eval(), X.shape[0]) only names a concept
MEANINGFUL = (ast.Call, ast.Subscript, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)
VALUED = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Yield)
HEADED = (ast.For, ast.If, ast.While, ast.With)
NOT_CODE_LINES = (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.Pass, ast.Break, ast.Continue)
BARE = (ast.Name, ast.Constant)


def tokens(text):
    """``text`` as its tokens between NUL separators, so that a search ignores spacing and matches whole tokens."""
    return "\0" + "\0".join(TOKEN.findall(text)) + "\0"


def solution_code(path):
    """The code of each solution region of a file, dedented, its task text left out."""
    blocks, block = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        marker = line.strip()
        if marker == stubgen.BEGIN:
            block = []
        elif marker == stubgen.END:
            blocks.append(textwrap.dedent("\n".join(block)))
            block = None
        elif block is not None and not marker.startswith("###"):
            block.append(line)
    return blocks


def code_only(source):
    """The code of a module without its comments and docstrings."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node) is not None:
            node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def statement_line(source, node):
    """A statement as written, without the body of a compound one (``for X, y in data_iter:``)."""
    code = ast.get_source_segment(source, node)
    return code.splitlines()[0] if isinstance(node, HEADED) else code


def expressions(source, node):
    """The code of the expressions of a node that carry its meaning: a right-hand side, a returned or yielded
    value, a call, an index or arithmetic, and a call once more without its keyword arguments."""
    if isinstance(node, VALUED) and node.value is not None and not isinstance(node.value, BARE):
        yield ast.get_source_segment(source, node.value)
    if isinstance(node, MEANINGFUL):
        yield ast.get_source_segment(source, node)
    if isinstance(node, ast.Call) and node.keywords and node.args:
        yield ast.unparse(ast.Call(node.func, node.args, []))


def bare(node):
    """Whether a statement is trivial: ``pass``, or only returns or evaluates a bare name or constant (``return
    history``, a docstring)."""
    return isinstance(node, NOT_CODE_LINES) or (
        isinstance(node, (ast.Return, ast.Expr)) and (node.value is None or isinstance(node.value, BARE)))


def code_of(source):
    """Every statement line and meaningful expression of ``source``, as written."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt) and not bare(node):
            found.add(statement_line(source, node))
        found |= set(expressions(source, node))
    return found


def solution_fragments(sources):
    """The code that solutions write, from their source texts, as ``tokens``: every statement line and every
    meaningful sub-expression, leaving out trivial ones (short, a bare name) and code the stubs give."""
    given = [tokens(code_only(stub)) for stub in stubgen.expected_exercises(ROOT / "solutions").values()]
    found = {tokens(code) for source in sources for code in code_of(source) if len("".join(code.split())) >= SHORTEST}
    return {code for code in found if not any(code in stub for stub in given)}


def test_stub_keeps_task_text_and_drops_the_code():
    stub = stubgen.make_stub(SOURCE)
    assert "return X * 2" not in stub and "BEGIN SOLUTION" not in stub
    assert "    # TODO: return 2 X.\n    #       (elementwise)\n    # Pitfall: do not modify X in place.\n" in stub
    assert stub.endswith("    raise NotImplementedError()\n")
    namespace = {}
    exec(compile(stub, "stub", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["double"](1)


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside an open region"),
])
def test_malformed_regions_are_reported_with_the_line(source, message):
    with pytest.raises(stubgen.StubError, match=message):
        stubgen.make_stub(source, filename="bad.py")


def test_exercises_are_exactly_what_the_generator_produces():
    assert stubgen.out_of_sync(ROOT / "solutions", ROOT / "exercises") == []


@pytest.mark.parametrize("name", sorted(STUB_FUNCTIONS))
def test_no_solution_line_reaches_the_stub(name):
    code = {line.strip() for line in (ROOT / "exercises" / f"{name}.py").read_text().splitlines()
            if not line.strip().startswith("#")}
    leaked = [line for line in solution_only_lines(ROOT / "solutions" / f"{name}.py") if line in code]
    assert not leaked


@pytest.mark.parametrize("module, function", [(m, f) for m, fs in STUB_FUNCTIONS.items() for f in fs])
def test_every_stub_raises_not_implemented(module, function):
    stub = getattr(importlib.import_module(f"exercises.{module}"), function)
    reference = getattr(importlib.import_module(f"solutions.{module}"), function)
    assert inspect.signature(stub) == inspect.signature(reference)
    assert inspect.getdoc(stub) == inspect.getdoc(reference)
    with pytest.raises(NotImplementedError):
        stub(*[None] * len(inspect.signature(stub).parameters))


@pytest.fixture
def kit(tmp_path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "solutions", tmp_path / "exercises"


def test_generate_creates_then_reports_unchanged(kit):
    solutions, exercises = kit
    first = stubgen.generate(solutions, exercises)
    assert {o.action for o in first} == {"created"}
    assert {o.action for o in stubgen.generate(solutions, exercises)} == {"unchanged"}
    assert stubgen.out_of_sync(solutions, exercises) == []


def test_an_edited_exercise_is_never_overwritten_without_force(kit):
    solutions, exercises = kit
    stubgen.generate(solutions, exercises)
    edited = exercises / "softmax.py"
    work = edited.read_text().replace("raise NotImplementedError()", "return X.exp() / X.exp().sum(1, keepdim=True)")
    edited.write_text(work)
    outcomes = {o.name: o.action for o in stubgen.generate(solutions, exercises)}
    assert outcomes["softmax.py"] == "kept" and edited.read_text() == work
    assert stubgen.out_of_sync(solutions, exercises) == ["softmax.py"]
    forced = {o.name: o for o in stubgen.generate(solutions, exercises, force=True)}
    assert forced["softmax.py"].action == "overwritten"
    assert forced["softmax.py"].backup.read_text() == work
    assert "raise NotImplementedError()" in edited.read_text()


def test_cli_check_fails_on_a_stale_exercise_and_names_it(kit, capsys):
    solutions, exercises = kit
    stubgen.generate(solutions, exercises)
    (exercises / "sgd.py").write_text("# my attempt\n")
    assert stubgen.main(["--solutions", str(solutions), "--exercises", str(exercises), "--check"]) == 1
    assert "sgd.py" in capsys.readouterr().out


def test_cli_reports_a_broken_solution_without_a_traceback(kit, capsys):
    solutions, exercises = kit
    (solutions / "softmax.py").write_text("### BEGIN SOLUTION\n")
    assert stubgen.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 2
    assert "softmax.py:1" in capsys.readouterr().err
    assert not exercises.exists() or not (exercises / "softmax.py").exists()
