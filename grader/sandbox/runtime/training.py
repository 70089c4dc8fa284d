"""The instrumented trainings of the student's train_ch3 (d2l 3.6, 3.7) and the call of evaluate_accuracy.

Runs in the worker, next to student code: minibatches the grader controls, watched parameters,
an optimizer that logs its steps. It only observes and reports plain data; the grader judges.
"""
import time

import torch
from torch import nn

from .values import plain, seed

try:  # the grader's own parts, for tracing a failed training; a student handout has none
    from . import stand_ins
except ImportError:
    stand_ins = None


class Batches:
    """Minibatches the grader controls; logs every pass, and snapshots parameters between training passes."""

    def __init__(self, X, y, batch_size, log, kind, watch, shuffle_seed=None):
        self.X, self.y, self.batch_size, self.log, self.kind = X, y, batch_size, log, kind
        self.generator = torch.Generator().manual_seed(shuffle_seed) if shuffle_seed is not None else None
        self.watch = watch

    def __len__(self):
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        if self.kind == "train":
            self.watch.before_pass()
        entry = {"kind": self.kind, "batches": 0, "training": [], "grad_enabled": []}
        self.log.append(entry)
        self.watch.current = entry
        order = (torch.randperm(len(self.X), generator=self.generator).to(self.X.device)
                 if self.generator is not None else None)
        for start in range(0, len(self.X), self.batch_size):
            index = order[start:start + self.batch_size] if order is not None else slice(start, start + self.batch_size)
            entry["batches"] += 1
            X, y = self.X[index], self.y[index]
            self.watch.batch = len(X)   # what a custom updater's batch_size should be until the next one
            yield X, y


class Watch:
    """Snapshots the parameters after each training epoch and reports the model's mode."""

    def __init__(self, params, net):
        self.params, self.net, self.snapshots, self.passes, self.current = params, net, [], 0, None
        self.batch = None   # the size of the minibatch train_iter served last

    def forward(self, *_):
        """Called at every forward pass of the model: note its mode and whether grad is on."""
        if self.current is not None:
            for key, value in (("training", self.mode()), ("grad_enabled", torch.is_grad_enabled())):
                if value not in self.current[key]:
                    self.current[key].append(value)

    def before_pass(self):
        if self.passes:
            self.snapshot()
        self.passes += 1

    def snapshot(self):
        W, b = self.params()
        self.snapshots.append({"W": W.detach().to("cpu", copy=True), "b": b.detach().to("cpu", copy=True)})

    def mode(self):
        return self.net.training if isinstance(self.net, nn.Module) else None


class LoggedSGD(torch.optim.SGD):
    """torch.optim.SGD that logs each step, whether the gradients it used were zeroed since the last, and
    (``record``) the gradients themselves, from which the grader verifies that the training really happened."""

    def __init__(self, params, lr, log, record=False):
        super().__init__(params, lr=lr)
        self.log, self.incoming, self.record = log, {}, record
        for param in self.param_groups[0]["params"]:
            param.register_hook(self._arrival(id(param)))

    def _arrival(self, key):
        """A gradient hook that adds each gradient arriving for the parameter ``key`` to what it received."""
        def arrived(grad):
            self.incoming[key] = self.incoming.get(key, 0) + grad.detach().clone()
        return arrived

    def step(self, closure=None):
        stale = any(p.grad is not None and not torch.allclose(p.grad, self.incoming.get(id(p), torch.zeros_like(p)),
                                                             rtol=1e-4, atol=1e-7)
                    for p in self.param_groups[0]["params"])
        entry = {"kind": "step", "stale": stale}
        if self.record:
            entry["grads"] = [p.grad.detach().to("cpu", copy=True) if p.grad is not None else None
                              for p in self.param_groups[0]["params"]]
        self.log.append(entry)
        self.incoming = {}
        return super().step(closure)


def train(stub, request):
    """Run the student's train_ch3 on the grader's data, scratch (d2l 3.6) or concise (d2l 3.7)."""
    device, log = request.get("device", "cpu"), []
    train_ch3 = stub.function("train_ch3", "train_ch3")
    X = request["images"].to(device).to(torch.float32).div(255).unsqueeze(1)
    Xt = request["test_images"].to(device).to(torch.float32).div(255).unsqueeze(1)
    y, yt = request["labels"].to(device), request["test_labels"].to(device)
    seed(request["seed"])
    watch = Watch(None, None)
    net, loss, updater, params = _model(stub, request, device, log, watch)
    watch.params, watch.net = params, net
    train_iter = Batches(X, y, request["batch_size"], log, "train", watch, request.get("shuffle_seed", request["seed"]))
    test_iter = Batches(Xt, yt, request["batch_size"], log, "test", watch)
    started = time.perf_counter()
    returned = train_ch3(net, train_iter, test_iter, loss, request["epochs"], updater)
    seconds = time.perf_counter() - started
    watch.snapshot()
    return {"snapshots": watch.snapshots, "log": log, "seconds": seconds,
            "returned": type(returned).__name__, "param_device": str(params()[0].device)}


def evaluate(stub, request):
    """Call the student's evaluate_accuracy on a linear model and batches the grader chose (d2l 3.6.5)."""
    evaluate_accuracy = stub.function("train_ch3", "evaluate_accuracy")
    net = nn.Linear(request["W"].shape[0], request["W"].shape[1])
    with torch.no_grad():
        net.weight.copy_(request["W"].T)
        net.bias.copy_(request["b"])
    batches = [(X, y) for X, y in zip(request["X"], request["y"])]
    value = evaluate_accuracy(net, batches)
    return {"value": value if type(value) in (int, float) else plain(value)}


def _model(stub, request, device, log, watch):
    """The network, loss, updater and parameter accessor that the grader hands to train_ch3."""
    lr = request["lr"]
    W0 = request["W0"] if "W0" in request else torch.normal(0, 0.01, size=(784, 10))
    b0 = request["b0"] if "b0" in request else torch.zeros(10)
    if request["mode"] == "concise":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).to(device)
        with torch.no_grad():
            net[1].weight.copy_(W0.T)
            net[1].bias.copy_(b0)
        net.register_forward_pre_hook(watch.forward)
        updater = LoggedSGD(net.parameters(), lr, log, record=bool(request.get("record_steps")))
        return net, nn.CrossEntropyLoss(reduction="none"), updater, lambda: (net[1].weight.T, net[1].bias)
    substitute = request.get("substitute") or []   # parts the grader replaces with its own, to trace a failure
    softmax, cross_entropy, sgd = (getattr(stand_ins, name) if name in substitute else stub.function(name, name)
                                   for name in ("softmax", "cross_entropy", "sgd"))
    W = W0.to(device).clone().requires_grad_(True)
    b = b0.to(device).clone().requires_grad_(True)

    def net(X):
        watch.forward()
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size):
        entry = {"kind": "update", "batch_size": batch_size if type(batch_size) in (int, float) else None,
                 "batch": watch.batch}
        if W.grad is not None and sum(e.get("kind") == "update" for e in log) < 3:
            entry["grad_norm"] = float(W.grad.detach().norm())   # against the summed loss's: the reduction used
        log.append(entry)
        return sgd([W, b], lr, batch_size)

    return net, cross_entropy, updater, lambda: (W, b)
