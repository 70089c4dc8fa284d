"""What the train_ch3 checks share: the instrumented run, the small problem, and the proof that training happened.

Everything a worker reports about a training comes from the student's own process, so it could be
forged. The loop checks therefore earn points only when the grader can verify the training: on the
small problem, every optimizer step's gradient must be a gradient of the served minibatch at the
parameters of that moment (or such a gradient added to the previous step's, when zero_grad is
forgotten, or scaled, when the loss is summed), and the final parameters must be what those steps
make of the starting ones, which the grader chose.
"""
import hashlib

import torch

from grader import messages
from grader.harness import CheckFailed

TRAINING_TIMEOUT = 120   # ten epochs on the real data take a few seconds on one CPU thread
SMALL = dict(train=640, test=192, batch=64, epochs=3, lr=0.1)
RESIDUAL = 1e-3          # how far a logged gradient may be from the one the grader computes, relatively


def generator(grading, purpose):
    """A torch.Generator drawn from the grading's secret (fresh for every grading) and ``purpose``."""
    digest = hashlib.sha256(f"{grading.secret}:{purpose}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "big") >> 1)


def train(client, grading, mode, data, epochs, lr, batch_size, device="cpu", **extra):
    """One instrumented run of the student's train_ch3 in ``client``'s worker (scratch: d2l 3.6, concise: 3.7).

    A student failure comes back as the CheckFailed it raised, so that it can be kept and shown by each check.
    """
    request = {"op": "train", "mode": mode, "device": device, "seed": grading.seed, "epochs": epochs, "lr": lr,
               "batch_size": batch_size, "images": data[0], "labels": data[1], "test_images": data[2],
               "test_labels": data[3], **extra}
    shown = messages.text(f"evidence.train_ch3.{mode}")
    shown = messages.text("evidence.train_ch3.on", call=shown, device=device) if device != "cpu" else shown
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


def small_problem(grading):
    """A small, learnable problem of the grading's own: ten random prototype images and noisy copies of them."""
    rng, count = generator(grading, "small data"), SMALL["train"] + SMALL["test"]
    prototypes = torch.randint(0, 256, (10, 28, 28), generator=rng)
    labels = torch.randint(0, 10, (count,), generator=rng)
    noise = torch.randint(-96, 97, (count, 28, 28), generator=rng)
    images = (prototypes[labels] + noise).clamp(0, 255).to(torch.uint8)
    cut = SMALL["train"]
    start = {"W0": torch.randn(784, 10, generator=rng) * 0.01, "b0": torch.randn(10, generator=rng) * 0.01,
             "shuffle_seed": int(torch.randint(0, 2**62, (1,), generator=rng))}
    return (images[:cut], labels[:cut], images[cut:], labels[cut:]), start


def small_run(stub, grading, memo):
    """The student's train_ch3 with nn.Linear and torch.optim.SGD on the small problem, observed once and
    verified: a training that cannot be verified fails every check that reads it."""
    def run():
        data, start = small_problem(grading)
        observed = train(stub, grading, "concise", data, SMALL["epochs"], SMALL["lr"], SMALL["batch"],
                         record_steps=True, **start)
        problem = "" if isinstance(observed, CheckFailed) else unverified(observed, data, start)
        return CheckFailed(problem) if problem else observed
    return shared(memo, "small", run)


def unverified(observed, data, start):
    """Why the observed training cannot be the student's train_ch3 training on the served minibatches, or ""."""
    steps = [entry for entry in observed.get("log") or [] if isinstance(entry, dict) and entry.get("kind") == "step"]
    snapshots = observed.get("snapshots") or []
    if not steps or not snapshots:
        return messages.text("evidence.train_ch3.no-steps")
    X, y = data[0].reshape(len(data[0]), -1).double() / 255, data[1]
    batches = _served(len(X), start["shuffle_seed"], len(steps))
    theta = torch.cat([start["W0"].double().T.reshape(-1), start["b0"].double()])
    previous = None
    for number, (step, index) in enumerate(zip(steps, batches), start=1):
        used = _flat(step.get("grads"))
        if used is None or not _explained(used, _gradient(theta, X[index], y[index]), previous):
            return messages.text("evidence.train_ch3.bad-gradient", number=number)
        theta, previous = theta - SMALL["lr"] * used, used
    final = _flat([snapshots[-1].get("W"), snapshots[-1].get("b")], transpose=True)
    if final is None or not torch.allclose(final, theta, rtol=1e-3, atol=1e-4):
        return messages.text("evidence.train_ch3.bad-final")
    return ""


def _served(count, seed, needed):
    """The example indices of the first ``needed`` minibatches train_iter serves, pass after pass."""
    rng, batches = torch.Generator().manual_seed(seed), []
    while len(batches) < needed:
        order = torch.randperm(count, generator=rng)
        batches += [order[i:i + SMALL["batch"]] for i in range(0, count, SMALL["batch"])]
    return batches[:needed]


def _gradient(theta, X, y):
    """The gradient of the mean cross-entropy of nn.Linear(784, 10) at ``theta`` (weight, then bias)."""
    weight, bias = theta[:7840].reshape(10, 784), theta[7840:]
    error = torch.softmax(X @ weight.T + bias, dim=1) - torch.nn.functional.one_hot(y, 10).double()
    return torch.cat([(error.T @ X / len(X)).reshape(-1), error.mean(dim=0)])


def _explained(used, true, previous):
    """Whether ``used`` = c * true (+ d * previous, for gradients not zeroed), with c > 0, up to rounding."""
    basis = torch.stack([true] + ([previous] if previous is not None else []), dim=1)
    coefficients = torch.linalg.lstsq(basis, used.reshape(-1, 1)).solution.reshape(-1)
    residual = (used - basis @ coefficients).norm()
    return bool(coefficients[0] > 0 and residual <= RESIDUAL * used.norm() + 1e-9)


def _flat(parts, transpose=False):
    """Weight and bias as one float64 vector (the weight as nn.Linear holds it); None when malformed."""
    if type(parts) is not list or len(parts) != 2 or any(type(p) is not torch.Tensor for p in parts):
        return None
    weight, bias = parts[0].T if transpose else parts[0], parts[1]
    if tuple(weight.shape) != (10, 784) or tuple(bias.shape) != (10,):
        return None
    return torch.cat([weight.double().reshape(-1), bias.double()])


def starting_point(grading, purpose):
    """Starting weights, bias and a shuffling seed of the grading's own, for a training the grader replays."""
    rng = generator(grading, purpose)
    return {"W0": torch.randn(784, 10, generator=rng) * 0.01, "b0": torch.zeros(10),
            "shuffle_seed": int(torch.randint(0, 2**62, (1,), generator=rng))}


def loop_findings(observed, data, start, batch_size):
    """What the log of a training from scratch shows about train_ch3's own loop, as sentences."""
    log = [entry for entry in observed.get("log") or [] if isinstance(entry, dict)]
    updates = [entry for entry in log if entry.get("kind") == "update"]
    if not updates:
        return [messages.text("evidence.train_ch3.never-updated")]
    found = []
    wrong = next((entry for entry in updates if entry.get("batch_size") != entry.get("batch")), None)
    if wrong is not None:
        found.append(messages.text("evidence.train_ch3.batch-size", batch_size=repr(wrong.get("batch_size")),
                                   batch=wrong.get("batch")))
    norm = next((entry["grad_norm"] for entry in updates if type(entry.get("grad_norm")) is float), None)
    summed = _summed_gradient_norm(data, start, batch_size)
    if norm is not None and summed > 0 and norm < 2 * summed / batch_size:
        found.append(messages.text("evidence.train_ch3.averaged", ratio=f"{norm / summed:.4f}"))
    return found


def _summed_gradient_norm(data, start, batch_size):
    """The norm of the weights' gradient of the summed cross-entropy on the first minibatch, at the start."""
    order = torch.randperm(len(data[0]), generator=torch.Generator().manual_seed(start["shuffle_seed"]))
    index = order[:batch_size]
    X, y = data[0][index].reshape(len(index), -1).double() / 255, data[1][index]
    error = torch.softmax(X @ start["W0"].double() + start["b0"].double(), dim=1)
    error -= torch.nn.functional.one_hot(y, 10).double()
    return float((X.T @ error).norm())
