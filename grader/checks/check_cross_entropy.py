"""Checks of cross_entropy(y_hat, y) (d2l 3.6.4) against -log of the true class's probability in float64."""
import math

import torch

from grader.harness import CheckFailed, call_on_meta, check, describe, expect_close, expect_tensor, show

SMALLEST_ZERO_LOSS = -math.log(1e-4)


def probabilities(rng, n, q):
    """Predicted probabilities (rows of a softmax of random logits) and int64 labels."""
    return torch.softmax(torch.randn(n, q, generator=rng), dim=1), torch.randint(0, q, (n,), generator=rng)


def reference(y_hat, y):
    return -torch.log(y_hat.double().gather(1, y.reshape(-1, 1)).reshape(-1))


def per_example(value, shown, n):
    """The result as n losses: any shape holding one value per example is accepted here."""
    expect_tensor(value, shown)
    if value.numel() != n:
        raise CheckFailed(f"{shown} returned {describe(value)}; expected one loss per example, shape ({n},).")
    return value.reshape(-1)


def compare(value, y_hat, y, shown):
    """Close to -log y_hat[i, y_i], within what an epsilon of up to 1e-6 inside the log changes."""
    expected = reference(y_hat, y)
    atol = 2e-6 / float(expected.neg().exp().min())
    expect_close(per_example(value, shown, len(y)), expected, shown, rtol=1e-5, atol=atol)


@check("cross_entropy/value")
def check_value(stub, rng):
    """-log of each example's true-class probability (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 8, 5)
    shown = f"cross_entropy(y_hat, y) with y_hat = {show(y_hat)}, y = {show(y)}"
    compare(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, y_hat, y, shown)


@check("cross_entropy/zero-prob")
def check_zero_prob(stub, rng):
    """A true class of probability 0 gives a large finite loss, not inf (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 6, 4)
    zero = torch.zeros(6, dtype=torch.bool)
    zero[torch.randperm(6, generator=rng)[:3]] = True
    y_hat[zero, y[zero]] = 0
    y_hat /= y_hat.sum(dim=1, keepdim=True)
    rows = zero.nonzero().reshape(-1).tolist()
    shown = (f"cross_entropy(y_hat, y) where rows {rows} give the true class probability 0, "
             f"y_hat = {show(y_hat)}, y = {show(y)}")
    losses = per_example(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, shown, 6)
    got = losses.detach().double()
    if not torch.isfinite(got).all() or got[zero].min() < SMALLEST_ZERO_LOSS:
        raise CheckFailed(f"{shown} returned {describe(losses)}: {show(got, limit=6)}; expected finite losses, "
                          f"at least {SMALLEST_ZERO_LOSS:.3g} = -log(1e-4) in rows {rows}.")


@check("cross_entropy/indexing")
def check_indexing(stub, rng):
    """Exactly one loss per row, y_hat[i, y_i], also for a square batch (d2l 3.6.4)."""
    for n, q in ((5, 5), (3, 7)):
        y_hat, y = probabilities(rng, n, q)
        shown = f"cross_entropy(y_hat, y) with a {n}x{q} batch y_hat = {show(y_hat)}, y = {show(y)}"
        result = expect_tensor(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, shown)
        if tuple(result.shape) == (n, 1):
            raise CheckFailed(f"{shown} returned {describe(result)}: a column; d2l's cross_entropy returns shape "
                              f"({n},), one loss per row (flatten it, e.g. with .reshape(-1) after gather).")
        if tuple(result.shape) != (n,):
            raise CheckFailed(f"{shown} returned {describe(result)}; expected shape ({n},): one loss per row i, "
                              f"-log y_hat[i, y[i]].")
        compare(result, y_hat, y, shown)


@check("cross_entropy/device")
def check_device(stub, rng, grading):
    """The loss is computed on the device of y_hat (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 6, 4)
    shown = "cross_entropy(y_hat, y) with y_hat (6, 4) and y (6,) on the meta device"
    per_example(expect_tensor(call_on_meta(stub, "cross_entropy", y_hat, y, shown=shown), shown, device="meta"), shown, 6)
    if grading.cuda:
        shown = f"cross_entropy(y_hat, y) with y_hat and y on cuda, y_hat = {show(y_hat)}, y = {show(y)}"
        result = stub.call("cross_entropy", y_hat, y, device="cuda", shown=shown).value
        compare(result, y_hat, y, shown)
