"""Hidden checks of softmax(X) (d2l 3.6.2): extreme logits, a square batch, and devices."""
import torch

from grader import messages
from grader.checks.check_softmax import reference
from grader.harness import CheckFailed, check, expect_close, expect_tensor, show


@check("softmax/overflow")
def check_overflow(stub, rng):
    """Logits around +1000 stay finite and correct (d2l 3.6.2, subtracting the row max)."""
    X = 1000 + torch.randn(3, 5, generator=rng) * 3
    shown = messages.text("evidence.hidden.softmax.large", X=show(X))
    expect_close(stub.call("softmax", X.clone(), shown=shown).value, reference(X), shown)


@check("softmax/underflow")
def check_underflow(stub, rng):
    """Logits around -1000 stay finite and correct (d2l 3.6.2)."""
    X = -1000 + torch.randn(3, 5, generator=rng) * 3
    shown = messages.text("evidence.hidden.softmax.negative", X=show(X))
    expect_close(stub.call("softmax", X.clone(), shown=shown).value, reference(X), shown)


@check("softmax/keepdim")
def check_keepdim(stub, rng):
    """Rows are normalised for a square and a wide batch (d2l 3.6.2)."""
    for rows, cols in ((5, 5), (3, 7)):
        X = torch.randn(rows, cols, generator=rng) * 2
        shown = messages.text("evidence.hidden.softmax.batch", rows=rows, cols=cols, X=show(X))
        result = stub.call("softmax", X.clone(), shown=shown).value
        expect_tensor(result, shown, shape=(rows, cols))
        sums = result.double().sum(dim=1)
        if not torch.allclose(sums, torch.ones(rows, dtype=torch.float64), atol=1e-4):
            raise CheckFailed(messages.text("evidence.hidden.softmax.row-sums", call=shown, sums=show(sums)))
        expect_close(result, reference(X), shown)


@check("softmax/device")
def check_device(stub, rng, grading):
    """Correct values on the CPU, and the result stays on the input's device: meta always, cuda when present
    (d2l 3.6.2)."""
    X = torch.randn(3, 5, generator=rng)
    shown = messages.text("evidence.softmax.call", X=show(X))
    expect_close(stub.call("softmax", X.clone(), shown=shown).value, reference(X), shown)
    shown = messages.text("evidence.hidden.softmax.meta")
    expect_tensor(stub.call("softmax", X, device="meta", shown=shown).value, shown, shape=(3, 5), device="meta")
    if grading.cuda:
        shown = messages.text("evidence.hidden.softmax.cuda", X=show(X))
        result = expect_tensor(stub.call("softmax", X, device="cuda", shown=shown).value, shown)
        expect_close(result, reference(X), shown)
