"""Public checks of cross_entropy(y_hat, y) (d2l 3.6.4) against -log of the true class's probability in float64."""
import torch

from grader import messages
from grader.checks.from_scratch import expect_from_scratch
from grader.harness import CheckFailed, check, describe, expect_close, expect_tensor, show


def probabilities(rng, n, q):
    """Predicted probabilities (rows of a softmax of random logits) and int64 labels."""
    return torch.softmax(torch.randn(n, q, generator=rng), dim=1), torch.randint(0, q, (n,), generator=rng)


def reference(y_hat, y):
    return -torch.log(y_hat.double().gather(1, y.reshape(-1, 1)).reshape(-1))


def per_example(value, shown, n):
    """The result as n losses: any shape holding one value per example is accepted here."""
    expect_tensor(value, shown)
    if value.numel() != n:
        raise CheckFailed(messages.text("evidence.cross_entropy.per-example", call=shown, got=describe(value), n=n))
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
    shown = messages.text("evidence.cross_entropy.call", y_hat=show(y_hat), y=show(y))
    compare(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, y_hat, y, shown)


@check("cross_entropy/from-scratch")
def check_from_scratch(stub, rng, grading):
    """cross_entropy builds the loss itself, without torch's cross-entropy or its relatives (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 5, 4)
    shown = messages.text("evidence.cross_entropy.call", y_hat=show(y_hat), y=show(y))
    called = stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown)
    expect_from_scratch(called, grading.source("cross_entropy"), "cross_entropy", shown)
    compare(called.value, y_hat, y, shown)   # built from scratch, and right: not zeros, say
