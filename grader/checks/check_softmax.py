"""Public checks of softmax(X) (d2l 3.6.2) against torch.softmax in float64."""
import torch

from grader import messages
from grader.checks.from_scratch import expect_from_scratch
from grader.harness import CheckFailed, check, expect_close, expect_tensor, show


def reference(X):
    """torch.softmax over rows, in float64."""
    return torch.softmax(X.double(), dim=1)


@check("softmax/value")
def check_value(stub, rng):
    """Ordinary logits match torch.softmax (d2l 3.6.2)."""
    X = torch.randn(4, 6, generator=rng) * 2
    shown = messages.text("evidence.softmax.call", X=show(X))
    result = stub.call("softmax", X.clone(), shown=shown).value
    expect_tensor(result, shown, shape=(4, 6), dtype=torch.float32)
    expect_close(result, reference(X), shown)


@check("softmax/from-scratch")
def check_from_scratch(stub, rng, grading):
    """softmax builds the result itself, without torch's softmax or its relatives (d2l 3.6.2)."""
    X = torch.randn(3, 5, generator=rng)
    shown = messages.text("evidence.softmax.call", X=show(X))
    called = stub.call("softmax", X.clone(), shown=shown)
    expect_from_scratch(called, grading.source("softmax"), "softmax", shown)
    expect_close(called.value, reference(X), shown)   # built from scratch, and right: not zeros, say


@check("softmax/gradient")
def check_gradient(stub, rng):
    """Autograd through softmax matches torch.softmax's gradient (d2l 3.6.2)."""
    X = torch.randn(4, 5, generator=rng, dtype=torch.float64)
    weights = torch.randn(4, 5, generator=rng, dtype=torch.float64)
    shown = messages.text("evidence.softmax.gradient", X=show(X))
    called = stub.call("softmax", X.clone(), grad_args=[0], backward=weights, shown=shown)
    leaf = torch.tensor(X, requires_grad=True)
    (expected,) = torch.autograd.grad((torch.softmax(leaf, dim=1) * weights).sum(), leaf)
    grad = called.args[0]["grad"] if called.args and called.args[0] else None
    if grad is None:
        raise CheckFailed(messages.text("evidence.softmax.no-gradient", call=shown))
    expect_close(grad, expected, shown)
