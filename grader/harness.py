"""What check functions use: a client per stub that runs student code in its worker, and expectations.

Every expectation compares what came back from the worker with a reference the grader computed
itself, and fails with a message that names the input, what came back and what was expected.
"""
import math
from dataclasses import dataclass

import pytest
import torch

from . import messages
from .sandbox.pool import WorkerFailure
from .sandbox.runtime import wire
from .table import BY_ID

AFTER_A_TIMEOUT = 2.0  # once a stub has hung, its remaining checks get this long
IMPORT_TIMEOUT = 30.0
PRINTED_LIMIT = 2000   # characters of a stub's own printed output the report keeps


class CheckFailed(AssertionError):
    """A check's verdict is "failed"; the message is the detail the student reads, and ``culprit`` the stub
    the grader traced the failure to, when it did (a training that fails because of one function)."""

    def __init__(self, message, culprit=""):
        super().__init__(message)
        self.culprit = culprit


@dataclass
class Called:
    """What one call of a student function gave back: its value, each argument afterwards, and the library
    softmax or cross-entropy functions it called."""

    value: object
    args: list
    library: list


class Client:
    """Runs one stub's functions in a worker, starting a fresh worker after a crash or a timeout."""

    def __init__(self, stub, server, on_device, call_timeout):
        self.stub, self.server, self.worker, self.timed_out = stub, server, None, False
        self.on_device, self.call_timeout, self.started = on_device, call_timeout, []

    def call(self, function, *args, module=None, device="cpu", grad_args=(), grads=None, backward=None,
             materialize=False, seed=0, timeout=None, shown=None):
        """Call ``module.function(*args)`` in the worker; ``shown`` is how the call reads in messages."""
        request = {"op": "call", "module": module or self.stub, "function": function, "args": list(args),
                   "device": device, "grad_args": list(grad_args), "seed": seed, "materialize": materialize,
                   "grads": {str(k): v for k, v in (grads or {}).items()}, "backward": backward}
        answer = self.request(request, timeout or self.call_timeout, shown or f"{function}(...)", device)
        library = answer.get("library")
        return Called(answer.get("value"), answer.get("args") or [], library if type(library) is list else [])

    def request(self, request, timeout, shown, device="cpu"):
        """Send a request; a student failure of any kind becomes CheckFailed with a readable detail."""
        self.on_device(device)
        if self.worker is None:
            self._start_worker(shown)
        if self.timed_out and request.get("op") == "call":
            timeout = min(timeout, AFTER_A_TIMEOUT)
        try:
            answer = self.worker.request(request, timeout)
        except WorkerFailure as failure:
            self.worker = None
            self.timed_out = self.timed_out or failure.kind == "timeout"
            raise CheckFailed(_failure_text(shown, failure, timeout)) from None
        if type(answer) is not dict:
            raise CheckFailed(messages.text("evidence.not-a-result", call=shown))
        if "error" in answer:
            raise CheckFailed(error_text(shown, answer["error"], request.get("function", "")))
        return answer

    def _start_worker(self, shown):
        """A fresh worker with the stub imported (an import gets its own, generous time limit)."""
        try:
            self.worker = self.server.spawn(self.stub)
        except RuntimeError as error:
            raise CheckFailed(messages.text("evidence.no-worker", call=shown, stub=self.stub, error=error)) from None
        self.started.append(self.worker)
        try:
            self.worker.request({"op": "load", "module": self.stub}, IMPORT_TIMEOUT)
        except WorkerFailure as failure:
            self.worker = None
            importing = messages.text("evidence.importing", stub=self.stub)
            raise CheckFailed(_failure_text(importing, failure, IMPORT_TIMEOUT)) from None

    def printed(self, limit=PRINTED_LIMIT):
        """The last ``limit`` characters the student's code printed in this client's workers, oldest first."""
        return "".join(worker.output(limit) for worker in self.started)[-limit:]

    def close(self):
        """Kill this stub's worker (its checks are over)."""
        if self.worker is not None:
            self.worker.kill()
            self.worker = None


def error_text(shown, error, function=""):
    """One readable paragraph for an exception raised by student code."""
    error = error if type(error) is dict else {}
    kind, message, where = (str(error.get(key, "")) for key in ("type", "message", "where"))
    place = messages.text("evidence.at", where=where) if where else ""
    if kind == "NotImplementedError" and not message.strip():
        return messages.text("evidence.not-implemented", call=function or shown, where=place)
    if kind in ("SystemExit", "KeyboardInterrupt"):
        return messages.text("evidence.stopped", call=shown, kind=kind, where=place)
    return messages.text("evidence.raised", call=shown, kind=kind, where=place, message=message).rstrip(": ：")


def _failure_text(shown, failure, timeout):
    output = failure.output.strip()
    said = f"\n{messages.text('evidence.last-output')}\n{output[-400:]}" if output else ""
    if failure.kind == "timeout":
        return messages.text("evidence.timeout", call=shown, seconds=f"{timeout:g}") + said
    if failure.kind == "refused":
        return messages.text("evidence.refused", call=shown, why=failure)
    return messages.text("evidence.crash", call=shown) + said


def describe(value):
    """A short description of a returned value: type, shape, dtype, device, NaN/inf."""
    if isinstance(value, wire.Opaque):
        return f"a {value.description}"
    if type(value) is not torch.Tensor:
        return f"{type(value).__name__} {value!r}"[:200]
    text = messages.text("evidence.tensor", shape=tuple(value.shape), dtype=str(value.dtype).removeprefix("torch."))
    if value.device.type == "meta":
        return messages.text("evidence.on-meta", tensor=text)
    if value.is_floating_point() and value.numel():
        nan, inf = int(torch.isnan(value).sum()), int(torch.isinf(value).sum())
        text += "".join(messages.text("evidence.count", count=count, what=name)
                        for count, name in ((nan, "NaN"), (inf, "inf")) if count)
    return text


def show(tensor, digits=4, limit=6):
    """A compact rendering of a small tensor's values, for messages."""
    if type(tensor) is not torch.Tensor or tensor.device.type == "meta":
        return describe(tensor)
    flat = tensor.detach().double().reshape(-1) if tensor.is_floating_point() else tensor.reshape(-1)
    items = [f"{x:.{digits}g}" if isinstance(x, float) else str(x) for x in flat[:limit].tolist()]
    more = ", ..." if flat.numel() > limit else ""
    return messages.text("evidence.values", items=", ".join(items) + more, shape=tuple(tensor.shape))


def expect_tensor(value, shown, shape=None, dtype=None, device=None):
    """Fail unless ``value`` is a plain tensor with the given shape, dtype and device."""
    if type(value) is not torch.Tensor:
        raise CheckFailed(messages.text("evidence.not-a-tensor", call=shown, got=describe(value)))
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise CheckFailed(messages.text("evidence.wrong-shape", call=shown, got=describe(value), shape=tuple(shape)))
    if dtype is not None and value.dtype != dtype:
        raise CheckFailed(messages.text("evidence.wrong-dtype", call=shown, got=describe(value),
                                        dtype=str(dtype).removeprefix("torch.")))
    if device is not None and value.device.type != device:
        raise CheckFailed(messages.text("evidence.wrong-device", call=shown, device=value.device.type, expected=device))
    return value


def expect_close(value, expected, shown, rtol=1e-4, atol=1e-6):
    """Fail unless ``value`` is a finite tensor of ``expected``'s shape that matches it within tolerance."""
    expect_tensor(value, shown, shape=expected.shape)
    if value.device.type == "meta":
        raise CheckFailed(messages.text("evidence.no-values", call=shown, got=describe(value), expected=show(expected)))
    got = value.detach().double()
    if expected.is_floating_point() and not torch.isfinite(got).all() and torch.isfinite(expected).all():
        raise CheckFailed(messages.text("evidence.not-finite", call=shown, got=describe(value), values=show(value),
                                        expected=show(expected)))
    if not torch.allclose(got, expected.double(), rtol=rtol, atol=atol):
        worst = int((got - expected.double()).abs().reshape(-1).argmax())
        raise CheckFailed(messages.text(
            "evidence.not-close", call=shown, got=show(value), expected=show(expected), index=worst,
            value=f"{got.reshape(-1)[worst].item():.6g}", wanted=f"{expected.double().reshape(-1)[worst].item():.6g}",
            rtol=f"{rtol:g}", atol=f"{atol:g}"))
    return value


def expect_number(value, expected, shown, tol=1e-6):
    """Fail unless ``value`` is a Python int or float equal to ``expected`` within ``tol``."""
    if type(value) not in (int, float) or isinstance(value, bool):
        raise CheckFailed(messages.text("evidence.not-a-number", call=shown, got=describe(value),
                                        expected=f"{expected:g}"))
    try:
        far = not math.isfinite(value) or abs(value - expected) > tol
    except OverflowError:
        far = True
    if far:
        raise CheckFailed(messages.text("evidence.wrong-number", call=shown, got=repr(value), expected=repr(expected)))
    return value


def check(check_id):
    """Mark a test function as the check ``check_id`` of the table (one test per check)."""
    if check_id not in BY_ID:
        raise KeyError(f"{check_id} is not in the check table")
    return pytest.mark.check(check_id)


META_NOTES = (   # a phrase of torch's own error → the note that explains it (an id of the catalogues)
    ("Cannot copy out of meta", "evidence.meta.copy"),
    ("cannot be called on meta tensors", "evidence.meta.values"),
    ("numpy", "evidence.meta.numpy"),
    ("expected device", "evidence.meta.mixed"),
    ("same device", "evidence.meta.mixed"),
)


ACCEPTED_FAILURE = wire.Opaque("an accepted failure")


def call_on_meta(stub, function, *args, shown, accept=()):
    """Call ``function`` with every tensor on meta; explain failures typical of device mixing.

    A failure whose message contains one of ``accept`` counts as success and returns ACCEPTED_FAILURE.
    """
    try:
        return stub.call(function, *args, device="meta", shown=shown).value
    except CheckFailed as failure:
        text = str(failure)
        if any(phrase in text for phrase in accept):
            return ACCEPTED_FAILURE
        note = next((messages.text(key) for phrase, key in META_NOTES if phrase in text), "")
        raise CheckFailed(f"{text.rstrip('.。')}{'。' if text.endswith('。') else '.'} {note}".strip()) from None
