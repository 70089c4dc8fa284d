"""What a worker does on request: call one student function, or run an instrumented training.

Runs inside the worker process, next to student code. It only observes and reports plain data;
every verdict is made by the grader from these observations.
"""
import importlib
import itertools
import json
import random
import sys
import time
import traceback
import types
from pathlib import Path

import torch
from torch import nn

try:  # the instructor's grader hands train_ch3 a known-good accuracy; a student handout has none
    from .given import accuracy_module
except ImportError:
    accuracy_module = None

MAX_ITEMS = 2_000


class Stub:
    """One stub module of the submission, imported on first use as ``submission.<name>``."""

    def __init__(self, directory, name):
        self.directory, self.name = str(Path(directory).resolve()), name
        self.modules = {}

    def function(self, module, name):
        """The student's function ``name`` from ``module``; raises what the import raised."""
        if module not in self.modules:
            self.modules[module] = self._import(module)
        function = getattr(self.modules[module], name, None)
        if not callable(function):
            raise AttributeError(f"{module}.py defines no function {name}()")
        return function

    def _import(self, module):
        if "submission" not in sys.modules:
            package = types.ModuleType("submission")
            package.__path__ = [self.directory]
            sys.modules["submission"] = package
            if self.name == "train_ch3" and accuracy_module is not None:
                sys.modules["submission.accuracy"] = accuracy_module("submission.accuracy")
        if not (Path(self.directory) / f"{module}.py").is_file():
            why = _refused(self.directory).get(f"{module}.py", "is missing from the submission")
            raise ModuleNotFoundError(f"{module}.py {why}")
        return importlib.import_module(f"submission.{module}")


def _refused(directory):
    """Why the grader did not copy a module of the submission (a link, too large), by file name."""
    try:
        return json.loads((Path(directory) / ".refused.json").read_text())
    except (OSError, ValueError):
        return {}


def handle(stub, request):
    """Serve one request; student failures come back as an ``error`` description."""
    try:
        operation = {"call": call, "train": train, "load": load, "evaluate": evaluate}[request["op"]]
        return operation(stub, request)
    except BaseException as error:  # SystemExit and KeyboardInterrupt from student code included
        return {"error": describe_error(error, stub.directory)}


def load(stub, request):
    """Import the stub's module ahead of the checks; an import error is reported by the calls."""
    try:
        stub.function(request["module"], request["module"])
    except Exception:
        pass
    return {"loaded": True}


def describe_error(error, directory):
    """Type, message and the student's line where an exception came from."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(directory)]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    try:
        message = str(error)[:800]
    except BaseException:
        message = "(the exception's message could not be read)"
    return {"type": type(error).__name__, "message": message, "where": where}


def _seed(seed):
    random.seed(seed)
    torch.manual_seed(seed)


def _on(value, device):
    return value.to(device) if type(value) is torch.Tensor else value


def call(stub, request):
    """Call one student function with the given arguments and report the result and the arguments after.

    A position in ``grad_args`` or a key of ``grads`` is an argument index ``i`` or, for a list
    argument such as sgd's params, ``"i.j"`` (item j of argument i).
    """
    function = stub.function(request["module"], request["function"])
    device = request.get("device", "cpu")
    args = [_on(value, device) if type(value) is not list else [_on(v, device) for v in value]
            for value in request["args"]]
    for position in request.get("grad_args", []):
        _at(args, position).requires_grad_(True)
    for position, grad in request.get("grads", {}).items():
        _at(args, position).grad = grad.to(device)
    storage = _map(args, lambda a: a.data_ptr() if device != "meta" else None)
    originals = [list(arg) if type(arg) is list else arg for arg in args]
    _seed(request.get("seed", 0))
    result = function(*args)
    if request.get("materialize"):
        result = list(itertools.islice(iter(result), MAX_ITEMS))
    if request.get("backward") is not None:
        result.backward(request["backward"].to(device))
    observed = [[_observe(a, p) for a, p in zip(arg, ptr)] if type(arg) is list else _observe(arg, ptr)
                for arg, ptr in zip(originals, storage)]
    return {"value": _plain(result), "args": observed}


def _at(args, position):
    """The tensor at ``position``: ``i``, ``"i"`` or ``"i.j"``."""
    index, _, item = str(position).partition(".")
    return args[int(index)][int(item)] if item else args[int(index)]


def _map(args, function):
    """Apply ``function`` to every tensor argument, one level into lists."""
    def one(value):
        return function(value) if type(value) is torch.Tensor else None
    return [[one(v) for v in arg] if type(arg) is list else one(arg) for arg in args]


def _plain(value):
    if type(value) is torch.Tensor:
        return value.detach().clone()
    if type(value) in (list, tuple):
        return [_plain(item) for item in value]
    return value


def _observe(arg, storage):
    if type(arg) is not torch.Tensor:
        return None
    grad = arg.grad
    return {"value": arg.detach().clone(), "grad": grad.detach().clone() if type(grad) is torch.Tensor else None,
            "requires_grad": arg.requires_grad, "is_leaf": arg.is_leaf, "has_grad_fn": arg.grad_fn is not None,
            "same_storage": storage is None or arg.data_ptr() == storage, "device": str(arg.device)}


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
            yield self.X[index], self.y[index]


class Watch:
    """Snapshots the parameters after each training epoch and reports the model's mode."""

    def __init__(self, params, net):
        self.params, self.net, self.snapshots, self.passes, self.current = params, net, [], 0, None

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
    _seed(request["seed"])
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
    return {"value": value if type(value) in (int, float) else _plain(value)}


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
    softmax = stub.function("softmax", "softmax")
    cross_entropy = stub.function("cross_entropy", "cross_entropy")
    sgd = stub.function("sgd", "sgd")
    W = W0.to(device).clone().requires_grad_(True)
    b = b0.to(device).clone().requires_grad_(True)

    def net(X):
        watch.forward()
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size):
        log.append({"kind": "update", "batch_size": batch_size})
        return sgd([W, b], lr, batch_size)

    return net, cross_entropy, updater, lambda: (W, b)
