"""Hidden checks of squared_loss (d2l 3.2.5): (n,) labels against (n, 1) predictions."""
import torch

from grader import messages
from grader.checks.check_squared_loss import reference
from grader.harness import check, expect_close, expect_tensor, show


@check("squared_loss/broadcast")
def check_broadcast(stub, rng):
    """(n,) labels against (n, 1) predictions give (n, 1) losses, not an (n, n) matrix (d2l 3.2.5)."""
    y_hat, y = torch.randn(5, 1, generator=rng) * 3, torch.randn(5, generator=rng) * 3
    shown = messages.text("evidence.hidden.squared_loss.call", y_hat=show(y_hat), y=show(y))
    result = stub.call("squared_loss", y_hat.clone(), y.clone(), shown=shown).value
    expect_tensor(result, shown, shape=(5, 1))
    expect_close(result, reference(y_hat, y), shown)
