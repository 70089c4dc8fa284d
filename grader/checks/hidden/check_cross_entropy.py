"""Hidden checks of cross_entropy(y_hat, y) (d2l 3.6.4): a zero probability, square batches, and devices."""
import math

import torch

from grader import messages
from grader.checks.check_cross_entropy import compare, per_example, probabilities
from grader.harness import CheckFailed, call_on_meta, check, describe, expect_tensor, show

SMALLEST_ZERO_LOSS = -math.log(1e-4)


@check("cross_entropy/zero-prob")
def check_zero_prob(stub, rng):
    """A true class of probability 0 gives a large finite loss, not inf (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 6, 4)
    zero = torch.zeros(6, dtype=torch.bool)
    zero[torch.randperm(6, generator=rng)[:3]] = True
    y_hat[zero, y[zero]] = 0
    y_hat /= y_hat.sum(dim=1, keepdim=True)
    rows = zero.nonzero().reshape(-1).tolist()
    shown = messages.text("evidence.hidden.cross_entropy.zero", rows=rows, y_hat=show(y_hat), y=show(y))
    losses = per_example(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, shown, 6)
    got = losses.detach().double()
    if not torch.isfinite(got).all() or got[zero].min() < SMALLEST_ZERO_LOSS:
        raise CheckFailed(messages.text("evidence.hidden.cross_entropy.not-finite", call=shown, got=describe(losses),
                                        values=show(got, limit=6), least=f"{SMALLEST_ZERO_LOSS:.3g}", rows=rows))


@check("cross_entropy/indexing")
def check_indexing(stub, rng):
    """Exactly one loss per row, y_hat[i, y_i], also for a square batch (d2l 3.6.4)."""
    for n, q in ((5, 5), (3, 7)):
        y_hat, y = probabilities(rng, n, q)
        shown = messages.text("evidence.hidden.cross_entropy.batch", n=n, q=q, y_hat=show(y_hat), y=show(y))
        result = expect_tensor(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, shown)
        if tuple(result.shape) == (n, 1):
            raise CheckFailed(messages.text("evidence.hidden.cross_entropy.column", call=shown, got=describe(result),
                                            n=n))
        if tuple(result.shape) != (n,):
            raise CheckFailed(messages.text("evidence.hidden.cross_entropy.shape", call=shown, got=describe(result),
                                            n=n))
        compare(result, y_hat, y, shown)


@check("cross_entropy/device")
def check_device(stub, rng, grading):
    """Correct losses on the CPU, computed on the device of y_hat: meta always, cuda when present (d2l 3.6.4)."""
    y_hat, y = probabilities(rng, 6, 4)
    shown = messages.text("evidence.cross_entropy.call", y_hat=show(y_hat), y=show(y))
    compare(stub.call("cross_entropy", y_hat.clone(), y.clone(), shown=shown).value, y_hat, y, shown)
    shown = messages.text("evidence.hidden.cross_entropy.meta")
    on_meta = call_on_meta(stub, "cross_entropy", y_hat, y, shown=shown)
    per_example(expect_tensor(on_meta, shown, device="meta"), shown, 6)
    if grading.cuda:
        shown = messages.text("evidence.hidden.cross_entropy.cuda", y_hat=show(y_hat), y=show(y))
        result = stub.call("cross_entropy", y_hat, y, device="cuda", shown=shown).value
        compare(result, y_hat, y, shown)
