"""What a worker does on request: call one student function, or run an instrumented training.

Runs inside the worker process, next to student code. It only observes and reports plain data;
every verdict is made by the grader from these observations.
"""
import importlib
import itertools
import json
import sys
import traceback
import types
from pathlib import Path

import torch

from . import library, training
from .values import plain, seed

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
        library.install()   # before the student's module: its imports of torch's functions are recorded too
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
        operation = {"call": call, "train": training.train, "load": load, "evaluate": training.evaluate}[request["op"]]
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
    seed(request.get("seed", 0))
    with library.recording() as used:
        result = function(*args)
        if request.get("materialize"):
            result = list(itertools.islice(iter(result), MAX_ITEMS))
    if request.get("backward") is not None:
        result.backward(request["backward"].to(device))
    observed = [[_observe(a, p) for a, p in zip(arg, ptr)] if type(arg) is list else _observe(arg, ptr)
                for arg, ptr in zip(originals, storage)]
    return {"value": plain(result), "args": observed, "library": sorted(used)}


def _at(args, position):
    """The tensor at ``position``: ``i``, ``"i"`` or ``"i.j"``."""
    index, _, item = str(position).partition(".")
    return args[int(index)][int(item)] if item else args[int(index)]


def _map(args, function):
    """Apply ``function`` to every tensor argument, one level into lists."""
    def one(value):
        return function(value) if type(value) is torch.Tensor else None
    return [[one(v) for v in arg] if type(arg) is list else one(arg) for arg in args]


def _observe(arg, storage):
    if type(arg) is not torch.Tensor:
        return None
    grad = arg.grad
    return {"value": arg.detach().clone(), "grad": grad.detach().clone() if type(grad) is torch.Tensor else None,
            "requires_grad": arg.requires_grad, "is_leaf": arg.is_leaf, "has_grad_fn": arg.grad_fn is not None,
            "same_storage": storage is None or arg.data_ptr() == storage, "device": str(arg.device)}
