"""Hidden checks of train_ch3 (d2l 3.6.6, 3.7): convergence measured by the grader, eval mode, zero_grad, GPUs."""
import re
from concurrent.futures import ThreadPoolExecutor

import torch

from grader import messages
from grader.checks.check_train_ch3 import passes
from grader.checks.training import generator, loop_findings, shared, small_run, starting_point, train
from grader.harness import CheckFailed, Client, check
from grader.results import Curve

EPOCHS, LR, BATCH = 10, 0.1, 256   # the book's settings (d2l 3.6.6)
ON_CPU = ("scratch", "concise")    # the two CPU trainings, run side by side
PARTS = ("softmax", "cross_entropy", "sgd")   # what a failed training from scratch is traced to


def disguised(grading, memo):
    """Fashion-MNIST under the grading's own secret permutation of the pixels and of the labels.

    A linear model learns it exactly as well as the original (the permutations only rename inputs and
    classes), but weights trained anywhere else, the original data included, are useless on it.
    """
    def make():
        rng = generator(grading, "pixels and labels")
        pixels, labels = torch.randperm(784, generator=rng), torch.randperm(10, generator=rng)
        train_x, train_y, test_x, test_y = grading.data

        def moved(images):
            return images.reshape(len(images), 784)[:, pixels].reshape(images.shape)
        return moved(train_x), labels[train_y], moved(test_x), labels[test_y]
    return shared(memo, "disguised data", make)


def convergence_run(stub, grading, memo, mode, device="cpu"):
    """The student's train_ch3 on the disguised real data with the book's settings, observed once per grading."""
    if device == "cpu" and ("converge", mode, device) not in memo:
        _side_by_side(stub, grading, memo)
    return shared(memo, ("converge", mode, device),
                  lambda: train(stub, grading, mode, disguised(grading, memo), EPOCHS, LR, BATCH, device,
                                **starting_point(grading, "convergence")))


def _side_by_side(stub, grading, memo):
    """Run the CPU trainings at once, each in a worker of its own, so they share the CPU cores."""
    start = starting_point(grading, "convergence")
    results = _trainings(stub, grading, disguised(grading, memo), [dict(mode=mode, **start) for mode in ON_CPU])
    memo.update({("converge", mode, "cpu"): result for mode, result in zip(ON_CPU, results)})


def _trainings(stub, grading, data, runs):
    """Each run (train()'s mode and extra arguments) in a worker of its own, two at a time."""
    clients = [Client(stub.stub, stub.server, stub.on_device, stub.call_timeout) for _ in runs]
    pool = ThreadPoolExecutor(2)
    try:
        return list(pool.map(lambda pair: train(pair[0], grading, data=data, epochs=EPOCHS, lr=LR, batch_size=BATCH,
                                                **pair[1]), zip(clients, runs)))
    finally:  # on a stop, killing the workers first ends the trainings the threads wait for
        for client in clients:
            client.close()
        pool.shutdown()


def traced(failure, stub, grading, memo):
    """The failed training from scratch, traced to the part whose replacement by the grader's own makes it
    converge; train_ch3 itself when even all of them together do not."""
    if re.search(messages.pattern("evidence.timeout"), str(failure)):
        return failure   # a hang is its own cause; tracing it would wait out four more time limits
    data = disguised(grading, memo)

    def accuracy(observed):
        return 0.0 if isinstance(observed, CheckFailed) else (measure(observed.get("snapshots") or [], data)[1]
                                                               or [0.0])[-1]
    start = starting_point(grading, "convergence")
    runs = [dict(mode="scratch", substitute=[part], **start) for part in PARTS]
    alone = [accuracy(result) for result in _trainings(stub, grading, data, runs)]
    notes = [messages.text("evidence.hidden.train_ch3.with-part", accuracy=f"{value:.3f}", part=part)
             for part, value in zip(PARTS, alone)]
    culprit = next((part for part, value in zip(PARTS, alone) if value > 0.7), "")
    if not culprit:
        together = accuracy(_trainings(stub, grading, data, [dict(mode="scratch", substitute=list(PARTS), **start)])[0])
        notes.append(messages.text("evidence.hidden.train_ch3.with-all", accuracy=f"{together:.3f}"))
        culprit = "train_ch3" if together <= 0.7 else ""
    observed = memo.get(("converge", "scratch", "cpu"))
    found = loop_findings(observed, data, start, BATCH) if culprit == "train_ch3" and isinstance(observed, dict) else []
    retrained = messages.text("evidence.hidden.train_ch3.retrained", notes="; ".join(notes))
    return CheckFailed("\n".join([str(failure), retrained, *found]), culprit)


def measure(snapshots, data):
    """The grader's own per-epoch train loss and test accuracy from the parameter snapshots."""
    X, y = data[0].reshape(len(data[0]), -1).float() / 255, data[1]
    Xt, yt = data[2].reshape(len(data[2]), -1).float() / 255, data[3]
    losses, accuracies = [], []
    for snapshot in snapshots:
        W, b = snapshot.get("W"), snapshot.get("b")
        if type(W) is not torch.Tensor or type(b) is not torch.Tensor or W.shape != (784, 10) or b.shape != (10,):
            raise CheckFailed(messages.text("evidence.hidden.train_ch3.shape-changed"))
        W, b = W.float(), b.float()
        losses.append(torch.nn.functional.cross_entropy(X @ W + b, y).item())
        accuracies.append(((Xt @ W + b).argmax(dim=1) == yt).double().mean().item())
    return losses, accuracies


def converged(stub, grading, memo, curves, mode, device="cpu"):
    """Fail unless the grader's own test accuracy after training exceeds 0.7; record the curve."""
    observed = convergence_run(stub, grading, memo, mode, device)
    losses, accuracies = measure(observed.get("snapshots") or [], disguised(grading, memo))
    seconds = observed.get("seconds") if type(observed.get("seconds")) is float else 0.0
    curves.append(Curve(f"{mode}{' (' + device + ')' if device != 'cpu' else ''}", tuple(losses), tuple(accuracies),
                        round(seconds, 3)))
    final = accuracies[-1] if accuracies else float("nan")
    if not final > 0.7:
        raise CheckFailed(messages.text(
            "evidence.hidden.train_ch3.not-converged", mode=messages.text(f"evidence.mode.{mode}"), lr=LR,
            batch=BATCH, epochs=EPOCHS,
            final=f"{final:.3f}", accuracies=", ".join(f"{a:.3f}" for a in accuracies),
            losses=", ".join(f"{v:.3f}" for v in losses)))
    return observed


@check("train_ch3/convergence-scratch")
def check_convergence_scratch(stub, grading, memo, curves):
    """Student softmax, cross_entropy, sgd and train_ch3 reach > 0.7 test accuracy (d2l 3.6.6); a failure is
    traced to the part that caused it."""
    try:
        converged(stub, grading, memo, curves, "scratch")
    except CheckFailed as failure:
        raise traced(failure, stub, grading, memo) from None


@check("train_ch3/convergence-concise")
def check_convergence_concise(stub, grading, memo, curves):
    """train_ch3 with nn.Linear and torch.optim.SGD reaches > 0.7 test accuracy (d2l 3.7)."""
    converged(stub, grading, memo, curves, "concise")


@check("train_ch3/eval-mode")
def check_eval_mode(stub, grading, memo):
    """test_iter is read with the module in eval mode and gradients off (d2l 3.6.5)."""
    tests = passes(small_run(stub, grading, memo)["log"], "test")
    if not tests:
        raise CheckFailed(messages.text("evidence.hidden.train_ch3.no-test"))
    for entry in tests:
        if entry["training"] != [False] or entry["grad_enabled"] != [False]:
            raise CheckFailed(messages.text("evidence.hidden.train_ch3.eval-mode", training=entry["training"],
                                            grad=entry["grad_enabled"]))


@check("train_ch3/zero-grad")
def check_zero_grad(stub, grading, memo):
    """Every optimizer step uses only the gradient of its own minibatch (d2l 3.7)."""
    steps = [entry for entry in small_run(stub, grading, memo)["log"] if entry.get("kind") == "step"]
    stale = sum(bool(entry.get("stale")) for entry in steps)
    if not steps or stale:
        raise CheckFailed(messages.text("evidence.hidden.train_ch3.zero-grad", steps=len(steps), stale=stale))


@check("train_ch3/gpu")
def check_gpu(stub, grading, memo, curves):
    """Training on cuda works and leaves the parameters there (d2l 3.6, on a GPU)."""
    observed = converged(stub, grading, memo, curves, "concise", device="cuda")
    if not str(observed.get("param_device", "")).startswith("cuda"):
        raise CheckFailed(messages.text("evidence.hidden.train_ch3.gpu-device", device=observed.get("param_device")))
