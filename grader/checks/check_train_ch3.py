"""Public checks of train_ch3 (d2l 3.6.5, 3.6.6): evaluate_accuracy, and the loop's structure on a small problem."""
import torch

from grader.harness import CheckFailed, check, expect_number

TRAINING_TIMEOUT = 120   # ten epochs on the real data take a few seconds on one CPU thread
SMALL = dict(train=640, test=192, batch=64, epochs=3, lr=0.1)


def train(client, grading, mode, data, epochs, lr, batch_size, device="cpu"):
    """One instrumented run of the student's train_ch3 in ``client``'s worker (scratch: d2l 3.6, concise: 3.7).

    A student failure comes back as the CheckFailed it raised, so that it can be kept and shown by each check.
    """
    request = {"op": "train", "mode": mode, "device": device, "seed": grading.seed, "epochs": epochs, "lr": lr,
               "batch_size": batch_size, "images": data[0], "labels": data[1], "test_images": data[2],
               "test_labels": data[3]}
    shown = f"train_ch3 ({mode} softmax regression{' on ' + device if device != 'cpu' else ''})"
    try:
        return client.request(request, TRAINING_TIMEOUT, shown, device)
    except CheckFailed as failure:
        return failure


def shared(memo, key, compute):
    """The observation ``key`` of this grading, computed once; a kept failure fails every check that reads it."""
    if key not in memo:
        memo[key] = compute()
    if isinstance(memo[key], CheckFailed):
        raise CheckFailed(str(memo[key]))
    return memo[key]


def small_data(seed):
    """A small labelled batch source the grader controls, for observing the loop's mechanics."""
    generator = torch.Generator().manual_seed(seed)
    count = SMALL["train"] + SMALL["test"]
    images = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (count,), generator=generator)
    cut = SMALL["train"]
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def small_run(stub, grading, memo):
    """The student's train_ch3 with nn.Linear and torch.optim.SGD on the small problem, observed once per grading."""
    return shared(memo, "small", lambda: train(stub, grading, "concise", small_data(grading.seed), SMALL["epochs"],
                                               SMALL["lr"], SMALL["batch"]))


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
