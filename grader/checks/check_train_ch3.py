"""Public checks of train_ch3 (d2l 3.6.5, 3.6.6): evaluate_accuracy, and the loop's structure on a small problem."""
import torch

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
    shown = (f"evaluate_accuracy(net, data_iter) with batches of {', '.join(map(str, sizes))} examples "
             f"({correct} of {sum(sizes)} predicted correctly)")
    value = stub.request({"op": "evaluate", "W": W, "b": b, "X": X, "y": y}, 10, shown).get("value")
    expect_number(value, expected, shown, tol=1e-6)


@check("train_ch3/epochs")
def check_epochs(stub, grading, memo):
    """Exactly num_epochs full passes over train_iter (d2l 3.6.6)."""
    log = small_run(stub, grading, memo)["log"]
    full = SMALL["train"] // SMALL["batch"]
    counts = [entry["batches"] for entry in passes(log, "train")]
    if counts != [full] * SMALL["epochs"]:
        raise CheckFailed(f"train_ch3(..., num_epochs={SMALL['epochs']}) with a train_iter of {full} minibatches "
                          f"made {len(counts)} passes over it, taking {counts} minibatches; "
                          f"expected {SMALL['epochs']} passes of {full}.")


@check("train_ch3/test-each-epoch")
def check_test_each_epoch(stub, grading, memo):
    """A full pass over test_iter after every training epoch (d2l 3.6.6)."""
    log = small_run(stub, grading, memo)["log"]
    order = [entry["kind"] for entry in log if entry.get("kind") in ("train", "test")
             and (entry["kind"] == "train" or entry["batches"] == SMALL["test"] // SMALL["batch"])]
    epochs_tested = sum(1 for i, kind in enumerate(order) if kind == "train" and "test" in order[i + 1:i + 2])
    if epochs_tested != SMALL["epochs"] or not order or order[-1] != "test":
        raise CheckFailed(f"with num_epochs={SMALL['epochs']}, the passes over train_iter and full passes over "
                          f"test_iter came in the order {order}; expected a full test pass after every epoch "
                          f"({['train', 'test'] * SMALL['epochs']}).")
