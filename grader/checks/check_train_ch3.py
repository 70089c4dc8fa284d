"""Checks of train_ch3 (d2l 3.6.6, 3.7): the loop's structure, and convergence measured by the grader."""
from concurrent.futures import ThreadPoolExecutor

import torch

from grader.harness import CheckFailed, Client, check, expect_number
from grader.results import Curve

EPOCHS, LR, BATCH = 10, 0.1, 256           # the book's settings (d2l 3.6.7)
TRAINING_TIMEOUT = 120                     # ten epochs take a few seconds on one CPU thread
SMALL = dict(train=640, test=192, batch=64, epochs=3)


def run_training(stub, grading, mode, device="cpu", small=False):
    """The instrumented run of the student's train_ch3, done once per run and shared by the checks."""
    key = (mode, device, small)
    if key not in grading.memo and key in CONVERGENCE_ON_CPU:
        _train_side_by_side(stub, grading, CONVERGENCE_ON_CPU)
    if key not in grading.memo:
        grading.memo[key] = _train(stub, grading, key)
    result = grading.memo[key]
    if isinstance(result, CheckFailed):
        raise CheckFailed(str(result))
    return result


CONVERGENCE_ON_CPU = (("scratch", "cpu", False), ("concise", "cpu", False))


def _train(client, grading, key):
    """One training request; a student failure is kept as the CheckFailed it raised."""
    mode, device, small = key
    data = _small_data(grading.seed) if small else grading.data
    request = {"op": "train", "mode": mode, "device": device, "seed": grading.seed,
               "epochs": SMALL["epochs"] if small else EPOCHS, "lr": LR,
               "batch_size": SMALL["batch"] if small else BATCH, "images": data[0], "labels": data[1],
               "test_images": data[2], "test_labels": data[3]}
    shown = f"train_ch3 ({mode} softmax regression{' on ' + device if device != 'cpu' else ''})"
    try:
        return client.request(request, TRAINING_TIMEOUT, shown, device)
    except CheckFailed as failure:
        return failure


def _train_side_by_side(stub, grading, keys):
    """Run independent trainings at once, each in a worker of its own, so they share the CPU cores."""
    clients = [Client(stub.stub, stub.server, stub.on_device) for _ in keys]
    pool = ThreadPoolExecutor(len(keys))
    try:
        results = list(pool.map(lambda pair: _train(pair[0], grading, pair[1]), zip(clients, keys)))
    finally:  # on a stop, killing the workers first ends the trainings the threads wait for
        for client in clients:
            client.close()
        pool.shutdown()
    grading.memo.update(zip(keys, results))


def _small_data(seed):
    """A small labelled batch source the grader controls, for checking the loop's mechanics."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (SMALL["train"] + SMALL["test"], 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (SMALL["train"] + SMALL["test"],), generator=generator)
    cut = SMALL["train"]
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def measure(snapshots, data):
    """The grader's own per-epoch train loss and test accuracy from the parameter snapshots."""
    X, y = data[0].reshape(len(data[0]), -1).float() / 255, data[1]
    Xt, yt = data[2].reshape(len(data[2]), -1).float() / 255, data[3]
    losses, accuracies = [], []
    for snapshot in snapshots:
        W, b = snapshot.get("W"), snapshot.get("b")
        if type(W) is not torch.Tensor or type(b) is not torch.Tensor or W.shape != (784, 10) or b.shape != (10,):
            raise CheckFailed("the model's parameters changed shape or type during training")
        W, b = W.float(), b.float()
        losses.append(torch.nn.functional.cross_entropy(X @ W + b, y).item())
        accuracies.append(((Xt @ W + b).argmax(dim=1) == yt).double().mean().item())
    return losses, accuracies


def converged(stub, grading, mode, device="cpu"):
    """Fail unless the grader's own test accuracy after training exceeds 0.7; record the curve."""
    observed = run_training(stub, grading, mode, device)
    snapshots = observed.get("snapshots") or []
    losses, accuracies = measure(snapshots, grading.data)
    label = f"{mode}{' (' + device + ')' if device != 'cpu' else ''}"
    grading.curves.append(Curve(label, tuple(losses), tuple(accuracies)))
    final = accuracies[-1] if accuracies else float("nan")
    shown = ", ".join(f"{a:.3f}" for a in accuracies)
    if not final > 0.7:
        raise CheckFailed(f"after train_ch3 ({mode}, lr {LR}, batch {BATCH}, {EPOCHS} epochs) the grader measured "
                          f"test accuracy {final:.3f} on the real Fashion-MNIST test set (needs > 0.7). "
                          f"Per epoch: [{shown}]; train loss per epoch: [{', '.join(f'{v:.3f}' for v in losses)}].")
    return observed


def passes(log, kind):
    """The log entries of one kind of pass ("train" or "test")."""
    return [entry for entry in log if entry.get("kind") == kind]


@check("train_ch3/convergence-scratch")
def check_convergence_scratch(stub, grading):
    """Student softmax, cross_entropy, sgd and train_ch3 reach > 0.7 test accuracy (d2l 3.6.7)."""
    converged(stub, grading, "scratch")


@check("train_ch3/convergence-concise")
def check_convergence_concise(stub, grading):
    """train_ch3 with nn.Linear and torch.optim.SGD reaches > 0.7 test accuracy (d2l 3.7)."""
    converged(stub, grading, "concise")


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
def check_epochs(stub, grading):
    """Exactly num_epochs full passes over train_iter (d2l 3.6.6)."""
    log = run_training(stub, grading, "concise", small=True)["log"]
    full = SMALL["train"] // SMALL["batch"]
    counts = [entry["batches"] for entry in passes(log, "train")]
    if counts != [full] * SMALL["epochs"]:
        raise CheckFailed(f"train_ch3(..., num_epochs={SMALL['epochs']}) with a train_iter of {full} minibatches "
                          f"made {len(counts)} passes over it, taking {counts} minibatches; "
                          f"expected {SMALL['epochs']} passes of {full}.")


@check("train_ch3/test-each-epoch")
def check_test_each_epoch(stub, grading):
    """A full pass over test_iter after every training epoch (d2l 3.6.6)."""
    log = run_training(stub, grading, "concise", small=True)["log"]
    order = [entry["kind"] for entry in log if entry.get("kind") in ("train", "test")
             and (entry["kind"] == "train" or entry["batches"] == SMALL["test"] // SMALL["batch"])]
    epochs_tested = sum(1 for i, kind in enumerate(order) if kind == "train" and "test" in order[i + 1:i + 2])
    if epochs_tested != SMALL["epochs"] or not order or order[-1] != "test":
        raise CheckFailed(f"with num_epochs={SMALL['epochs']}, the passes over train_iter and full passes over "
                          f"test_iter came in the order {order}; expected a full test pass after every epoch "
                          f"({['train', 'test'] * SMALL['epochs']}).")


@check("train_ch3/eval-mode")
def check_eval_mode(stub, grading):
    """test_iter is read with the module in eval mode and gradients off (d2l 3.6.5)."""
    log = run_training(stub, grading, "concise", small=True)["log"]
    tests = passes(log, "test")
    if not tests:
        raise CheckFailed("train_ch3 never iterated over test_iter, so its evaluation could not be observed.")
    for entry in tests:
        if entry["training"] != [False] or entry["grad_enabled"] != [False]:
            raise CheckFailed(f"while evaluating on test_iter, the model ran with training flag {entry['training']} "
                              f"and torch.is_grad_enabled() {entry['grad_enabled']}; expected [False] and [False] "
                              "(net.eval() and torch.no_grad()).")


@check("train_ch3/zero-grad")
def check_zero_grad(stub, grading):
    """Every optimizer step uses only the gradient of its own minibatch (d2l 3.7)."""
    log = run_training(stub, grading, "concise", small=True)["log"]
    steps = [entry for entry in log if entry.get("kind") == "step"]
    stale = sum(bool(entry.get("stale")) for entry in steps)
    if not steps or stale:
        raise CheckFailed(f"with a torch.optim.SGD updater, train_ch3 made {len(steps)} optimizer steps, and {stale} "
                          "of them used gradients that were never zeroed since the previous step "
                          "(they still held earlier minibatches' gradients).")


@check("train_ch3/gpu")
def check_gpu(stub, grading):
    """Training on cuda works and leaves the parameters there (d2l 3.6, on a GPU)."""
    observed = converged(stub, grading, "concise", device="cuda")
    if not str(observed.get("param_device", "")).startswith("cuda"):
        raise CheckFailed(f"after training on cuda the parameters were on {observed.get('param_device')}.")
