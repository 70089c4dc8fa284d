"""Checks of softmax(X) (d2l 3.6.2) against torch.softmax in float64."""
import torch

from grader.harness import CheckFailed, check, expect_close, expect_tensor, show


def reference(X):
    """torch.softmax over rows, in float64."""
    return torch.softmax(X.double(), dim=1)


@check("softmax/value")
def check_value(stub, rng):
    """Ordinary logits match torch.softmax (d2l 3.6.2)."""
    X = torch.randn(4, 6, generator=rng) * 2
    shown = f"softmax(X) with X = {show(X)}"
    result = stub.call("softmax", X.clone(), shown=shown).value
    expect_tensor(result, shown, shape=(4, 6), dtype=torch.float32)
    expect_close(result, reference(X), shown)


@check("softmax/overflow")
def check_overflow(stub, rng):
    """Logits around +1000 stay finite and correct (d2l 3.6.2, subtracting the row max)."""
    X = 1000 + torch.randn(3, 5, generator=rng) * 3
    shown = f"softmax(X) with large logits X = {show(X)}"
    expect_close(stub.call("softmax", X.clone(), shown=shown).value, reference(X), shown)


@check("softmax/underflow")
def check_underflow(stub, rng):
    """Logits around -1000 stay finite and correct (d2l 3.6.2)."""
    X = -1000 + torch.randn(3, 5, generator=rng) * 3
    shown = f"softmax(X) with very negative logits X = {show(X)}"
    expect_close(stub.call("softmax", X.clone(), shown=shown).value, reference(X), shown)


@check("softmax/keepdim")
def check_keepdim(stub, rng):
    """Rows are normalised for a square and a wide batch (d2l 3.6.2)."""
    for rows, cols in ((5, 5), (3, 7)):
        X = torch.randn(rows, cols, generator=rng) * 2
        shown = f"softmax(X) with a {rows}x{cols} batch X = {show(X)}"
        result = stub.call("softmax", X.clone(), shown=shown).value
        expect_tensor(result, shown, shape=(rows, cols))
        sums = result.double().sum(dim=1)
        if not torch.allclose(sums, torch.ones(rows, dtype=torch.float64), atol=1e-4):
            raise CheckFailed(f"{shown}: the rows of the result sum to {show(sums)}; every row must sum to 1.")
        expect_close(result, reference(X), shown)


@check("softmax/gradient")
def check_gradient(stub, rng):
    """Autograd through softmax matches torch.softmax's gradient (d2l 3.6.2)."""
    X = torch.randn(4, 5, generator=rng, dtype=torch.float64)
    weights = torch.randn(4, 5, generator=rng, dtype=torch.float64)
    shown = f"the gradient of sum(softmax(X) * V) with respect to X, X = {show(X)}"
    called = stub.call("softmax", X.clone(), grad_args=[0], backward=weights, shown=shown)
    leaf = torch.tensor(X, requires_grad=True)
    (expected,) = torch.autograd.grad((torch.softmax(leaf, dim=1) * weights).sum(), leaf)
    grad = called.args[0]["grad"] if called.args and called.args[0] else None
    if grad is None:
        raise CheckFailed(f"{shown}: no gradient reached X; build the result from X with torch operations.")
    expect_close(grad, expected, shown)


@check("softmax/device")
def check_device(stub, rng, grading):
    """The result stays on the input's device: meta always, cuda when present (d2l 3.6.2)."""
    X = torch.randn(4, 4, generator=rng)
    shown = "softmax(X) with X on the meta device (shape (4, 4))"
    expect_tensor(stub.call("softmax", X, device="meta", shown=shown).value, shown, shape=(4, 4), device="meta")
    if grading.cuda:
        shown = f"softmax(X) with X on cuda, X = {show(X)}"
        result = expect_tensor(stub.call("softmax", X, device="cuda", shown=shown).value, shown)
        expect_close(result, reference(X), shown)
