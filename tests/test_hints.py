"""Hints that teach without giving the line: no text a student reads holds code that a solution writes."""
import ast
from pathlib import Path

import pytest
from test_stubgen import solution_code, solution_fragments, tokens

from grader import messages
from grader.release import stubgen

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted(ROOT.joinpath("solutions").glob("*.py"))
BOOK = sorted(ROOT.joinpath("tests", "book").glob("*.py"))   # the book's own code earns full marks too
FRAGMENTS = solution_fragments([code for path in SOLUTIONS for code in solution_code(path)]
                               + [path.read_text(encoding="utf-8") for path in BOOK])


def leaked(text):
    """The solution fragments ``text`` holds, as code."""
    found = tokens(text)
    return sorted(fragment.strip("\0").replace("\0", " ") for fragment in FRAGMENTS if fragment in found)


def stub_texts(language):
    """{where: text} of every comment line and docstring of the stubs generated in ``language``."""
    texts = {}
    for name, stub in stubgen.expected_exercises(ROOT / "solutions", language).items():
        for number, line in enumerate(stub.splitlines(), start=1):
            if line.strip().startswith("#"):
                texts[f"{name}:{number}"] = line
        for node in ast.walk(ast.parse(stub)):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node):
                texts[f"{name}:{node.body[0].lineno}"] = ast.get_docstring(node)
    return texts


def test_the_fragments_hold_the_solutions_lines_and_their_parts_but_no_trivial_code():
    for code in ("y_hat[range(len(y_hat)), y]", "X.max(dim=1, keepdim=True)", "l.sum().backward()",
                 "torch.normal(0, 1, (num_examples, len(w)))", "param -= lr * param.grad / batch_size",
                 "X_exp / X_exp.sum(dim=1, keepdim=True)", "-torch.log(y_hat[range(len(y_hat)), y])"):
        assert leaked(f"Hint: {code}."), code
    for text in ("wrap it in torch.no_grad()", "call net.eval()", "pass X.shape[0]", "keepdim=True", "y_hat[:, y]",
                 "squared_loss(y_hat, y)", "return history", "y = Xw + b", "(y_hat - y)^2 / 2"):
        assert not leaked(text), text


def leaks(texts):
    """``where: code`` for each solution fragment that one of ``texts`` ({where: text}) holds."""
    return [f"{where}: {code}" for where, text in texts.items() for code in leaked(text)]


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_no_message_a_student_reads_holds_a_solution_line(language):
    found = leaks(messages.catalogue(language))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_no_task_text_or_docstring_of_the_stubs_holds_a_solution_line(language):
    found = leaks(stub_texts(language))
    assert not found, "\n".join(found)
