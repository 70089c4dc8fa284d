"""Diagnosis: each evidence rule names its pitfall, failed trainings are traced, the book's own code is correct."""
import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from grader import messages
from grader.diagnosis import diagnose, rules
from grader.report import to_terminal
from grader.results import CheckResult, GradeReport, Status
from grader.run import grade
from grader.table import BY_ID

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {   # rule name -> (a check that fails, evidence it shows, the pitfall the rule must name)
    "not implemented": ("softmax/value", "evidence.not-implemented", "not-implemented"),
    "syntax error": ("accuracy/count", "importing accuracy.py raised SyntaxError at accuracy.py:3: '(' was never "
                                       "closed", "syntax-error"),
    "module missing": ("sgd/update", "sgd(...) raised ModuleNotFoundError: sgd.py is missing from the submission",
                       "missing-module"),
    "module refused": ("sgd/update", "sgd(...) raised ModuleNotFoundError: sgd.py is a symbolic link, which the "
                                     "grader does not follow", "refused"),
    "error at import": ("sgd/update", "evidence.importing", "import-error"),
    "time limit": ("data_iter/coverage", "evidence.timeout", "timeout"),
    "process ended": ("accuracy/count", "evidence.crash", "crash"),
    "answer refused": ("accuracy/count", "evidence.refused", "bad-answer"),
    "hard-coded GPU": ("train_ch3/epochs", "train_ch3 raised RuntimeError: Found no NVIDIA driver on your system",
                       "hard-coded-device"),
    "row sums without keepdim": ("softmax/value", "softmax(X) raised RuntimeError: The size of tensor a (6) must "
                                                  "match the size of tensor b (4) at non-singleton dimension 1",
                                 "softmax/keepdim"),
    "parameter rebound": ("sgd/update", "sgd(...) raised AttributeError: 'NoneType' object has no attribute "
                                        "'zero_'", "sgd/in-place"),
    "update recorded by autograd": ("sgd/update", "sgd(...) raised RuntimeError: a leaf Variable that requires grad "
                                                  "is being used in an in-place operation.", "sgd/no-grad"),
    "a column per label": ("cross_entropy/value", "cross_entropy(y_hat, y) returned a tensor of shape (8, 8)",
                           "cross_entropy/indexing"),
    "labels used as rows": ("cross_entropy/value", "cross_entropy(...) raised IndexError: index 5 is out of bounds "
                                                   "for dimension 1 with size 5", "cross_entropy/indexing"),
    "parameters never changed": ("sgd/update", "evidence.sgd.old-values", "sgd/in-place"),
    "values left the device": ("accuracy/count", "accuracy(...) on meta raised NotImplementedError: Cannot copy out "
                                                 "of meta tensor", "accuracy/device"),
    "no parameter update": ("train_ch3/epochs", "evidence.train_ch3.no-steps", "train_ch3/no-update"),
    "wrong batch size": ("train_ch3/convergence-scratch", "evidence.train_ch3.batch-size", "train_ch3/batch-size"),
    "averaged loss": ("train_ch3/convergence-scratch", "evidence.train_ch3.averaged", "train_ch3/reduction"),
}


def evidence(detail, language):
    """A sample's evidence in ``language``: a message of the grader's own rendered there, or torch's words as they
    are (they are the same in every language)."""
    if not detail.startswith("evidence."):
        return detail
    values = {name: "softmax(X)" if name == "call" else "7" for name in re.findall(r"\{(\w+)\}",
                                                                                  messages.text(detail, "en"))}
    return messages.text(detail, language, **values)


def failed(check_id, detail, culprit=""):
    check = BY_ID[check_id]
    return CheckResult(id=check_id, title=check.title, hidden=check.hidden, status=Status.FAILED, points=0,
                       max_points=check.points, hint=check.hint, detail=detail, culprit=culprit)


def test_every_rule_has_a_sample():
    assert {rule.name for rule in rules.RULES} == set(SAMPLES)


@pytest.mark.parametrize("language", messages.LANGUAGES)
@pytest.mark.parametrize("rule", rules.RULES, ids=lambda rule: rule.name)
def test_each_rule_names_its_pitfall_and_nothing_else_would(rule, language, monkeypatch):
    check_id, sample, pitfall = SAMPLES[rule.name]
    detail = evidence(sample, language)
    assert rules.pitfall_of(failed(check_id, detail)) == pitfall
    monkeypatch.setattr(rules, "RULES", tuple(other for other in rules.RULES if other is not rule))
    assert rules.pitfall_of(failed(check_id, detail)) != pitfall   # without the rule the cause is another


def test_one_bug_in_several_checks_is_one_cause_whose_points_are_the_points_lost():
    checks = [failed("softmax/value", SAMPLES["row sums without keepdim"][1]),
              failed("softmax/keepdim", "softmax(X) with a 5x5 batch: the rows sum to [0.8, 1.2]"),
              failed("softmax/gradient", SAMPLES["row sums without keepdim"][1]),
              failed("train_ch3/convergence-scratch", "test accuracy 0.1", culprit="softmax"),
              failed("sgd/update", "afterwards W is [1]; expected [2]")]
    causes = diagnose(checks)
    assert [cause.pitfall for cause in causes] == ["softmax/keepdim", "sgd/update"]
    assert causes[0].checks == ("softmax/value", "softmax/keepdim", "softmax/gradient",
                                "train_ch3/convergence-scratch")
    assert sum(cause.points for cause in causes) == sum(check.max_points for check in checks)


def test_an_exercise_that_failed_only_through_another_cause_is_not_listed_with_its_own_hint():
    crash = SAMPLES["row sums without keepdim"][1]
    overflow = dataclasses.replace(failed("softmax/overflow", crash), exercise=BY_ID["softmax/overflow"].exercise)
    checks = [failed("softmax/value", crash), overflow]
    text = to_terminal(GradeReport("s", 0, "cpu", tuple(checks), 1.0, causes=diagnose(checks)))
    assert "softmax/keepdim" in text and "Exercises of the book" not in text, text
    alone = dataclasses.replace(overflow, detail="softmax(X) with large logits returned nan")
    text = to_terminal(GradeReport("s", 0, "cpu", (alone,), 1.0, causes=diagnose([alone])))
    assert "Exercises of the book" in text and f"softmax/overflow: {alone.title}" in text, text


def submission(tmp_path, module, old, new):
    """The reference solutions with ``old`` replaced by ``new`` in one module."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / f"{module}.py"
    assert path.read_text().count(old) == 1
    path.write_text(path.read_text().replace(old, new))
    return folder


TRACED = [   # a part of training from scratch broken so that training fails while the part's own checks may pass
    ("softmax", "torch.exp(X - X.max(dim=1, keepdim=True).values)", "torch.exp(X.max(dim=1, keepdim=True).values - X)"),
    ("cross_entropy", "return -torch.log(", "return torch.log("),
    ("sgd", "param -= lr * param.grad / batch_size", "param += lr * param.grad / batch_size"),
]


@pytest.mark.data
@pytest.mark.parametrize("module, old, new", TRACED, ids=[part for part, *_ in TRACED])
def test_a_failed_training_from_scratch_is_traced_to_the_part_that_broke_it(module, old, new, tmp_path,
                                                                            fashion_mnist):
    report = grade(submission(tmp_path, module, old, new), device="cpu", only=["train_ch3/convergence-scratch"])
    [check] = report.checks
    assert check.status == "failed" and check.culprit == module, check.detail
    assert f"with the grader's {module} in place of yours" in check.detail
    assert report.causes[0].stub == module   # the training's failure is a card of the part that caused it


def book_submission(tmp_path):
    """The chapter's functions as the book prints them, pasted into the handout's stubs."""
    folder = tmp_path / "book"
    shutil.copytree(ROOT / "exercises", folder, ignore=shutil.ignore_patterns("__pycache__"))
    for path in (ROOT / "tests" / "book").glob("*.py"):
        if path.name != "train_ch3.py":
            shutil.copy(path, folder / path.name)
    stub = (ROOT / "exercises" / "train_ch3.py").read_text()
    (folder / "train_ch3.py").write_text(stub + "\n\n" + (ROOT / "tests" / "book" / "train_ch3.py").read_text())
    return folder


@pytest.mark.data
def test_the_books_own_code_earns_full_marks_and_only_its_exercises_are_reported(tmp_path, fashion_mnist):
    report = grade(book_submission(tmp_path), device="cpu")
    assert report.score == report.max_score == 95, [(c.id, c.detail[:200]) for c in report.checks if c.points
                                                    < c.max_points]
    unsolved = {check.id for check in report.checks if check.status == "failed"}
    assert unsolved == {"softmax/overflow", "softmax/underflow", "cross_entropy/zero-prob"}   # 3.6.9, ex. 1 and 2
    assert all(BY_ID[check_id].exercise and BY_ID[check_id].points == 0 for check_id in unsolved)
    assert all(cause.points == 0 for cause in report.causes)


def test_every_kind_a_rule_names_has_a_title_and_a_hint_and_handouts_name_no_hidden_check():
    from grader import messages
    hidden = {check_id for check_id, check in BY_ID.items() if check.hidden}
    kinds = {rule.pitfall for rule in rules.RULES if rule.pitfall.format(stub="softmax") not in BY_ID}
    kinds |= {rule.fallback for rule in rules.RULES if rule.fallback} | {"train_ch3/culprit"}
    for kind in kinds:
        assert messages.text(f"cause.{kind}.title", stub="softmax", culprit="sgd", where="", why="x")
        assert messages.text(f"cause.{kind}.hint", stub="softmax", culprit="sgd", where="", why="x")
    public = rules.public_rules(hidden)
    assert not {rule["pitfall"] for rule in public} & hidden
    assert all(rule.fallback for rule in rules.RULES if rule.pitfall in hidden)   # each has a kind to fall back on


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_a_square_loss_matrix_is_read_as_labels_used_as_columns_in_every_language(language, monkeypatch):
    import torch

    from grader.harness import describe
    monkeypatch.setattr(messages, "_chosen", language)
    detail = messages.text("evidence.wrong-shape", call="cross_entropy(y_hat, y)", got=describe(torch.zeros(8, 8)),
                           shape=(8,))
    assert rules.pitfall_of(failed("cross_entropy/value", detail)) == "cross_entropy/indexing", detail
