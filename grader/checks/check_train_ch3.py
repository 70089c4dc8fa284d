"""Public checks of train_ch3 (d2l 3.6.5, 3.6.6): evaluate_accuracy, and the loop's structure on a small problem."""
import torch

from grader import messages
from grader.checks.training import SMALL, small_run
from grader.harness import CheckFailed, check, expect_number


def passes(log, kind):
    """The log entries of one kind of pass ("train" or "test")."""
    return [entry for entry in log if entry.get("kind") == kind]


@check("train_ch3/evaluate-accuracy")
def check_evaluate_accuracy(stub, rng):
    """evaluate_accuracy(net, data_iter) is correct predictions / examples over uneven batches (d2l 3.6.5)."""
    W, b = torch.randn(6, 4, generator=rng), torch.randn(4, generator=rng)
    sizes = (16, 16, 5)
    X = [torch.randn(n, 6, generator=rng) for n in sizes]
    y = [torch.randint(0, 4, (n,), generator=rng) for n in sizes]
    correct = sum(int(((Xi @ W + b).argmax(dim=1) == yi).sum()) for Xi, yi in zip(X, y))
    expected = correct / sum(sizes)
    shown = messages.text("evidence.train_ch3.evaluate", sizes=", ".join(map(str, sizes)), correct=correct,
                          total=sum(sizes))
    value = stub.request({"op": "evaluate", "W": W, "b": b, "X": X, "y": y}, 10, shown).get("value")
    expect_number(value, expected, shown, tol=1e-6)


@check("train_ch3/epochs")
def check_epochs(stub, grading, memo):
    """Exactly num_epochs full passes over train_iter (d2l 3.6.6)."""
    log = small_run(stub, grading, memo)["log"]
    full = SMALL["train"] // SMALL["batch"]
    counts = [entry["batches"] for entry in passes(log, "train")]
    if counts != [full] * SMALL["epochs"]:
        raise CheckFailed(messages.text("evidence.train_ch3.epochs", epochs=SMALL["epochs"], full=full,
                                        passes=len(counts), counts=counts))


@check("train_ch3/test-each-epoch")
def check_test_each_epoch(stub, grading, memo):
    """A full pass over test_iter after every training epoch (d2l 3.6.6)."""
    log = small_run(stub, grading, memo)["log"]
    order = [entry["kind"] for entry in log if entry.get("kind") in ("train", "test")
             and (entry["kind"] == "train" or entry["batches"] == SMALL["test"] // SMALL["batch"])]
    epochs_tested = sum(1 for i, kind in enumerate(order) if kind == "train" and "test" in order[i + 1:i + 2])
    if epochs_tested != SMALL["epochs"] or not order or order[-1] != "test":
        raise CheckFailed(messages.text("evidence.train_ch3.test-order", epochs=SMALL["epochs"], order=order,
                                        expected=["train", "test"] * SMALL["epochs"]))
