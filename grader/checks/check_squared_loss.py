"""Public checks of squared_loss(y_hat, y) (d2l 3.2.5) against (y_hat - y)^2 / 2 in float64."""
import torch

from grader import messages
from grader.harness import CheckFailed, check, expect_close, expect_tensor, show


def reference(y_hat, y):
    return (y_hat.double() - y.double().reshape(y_hat.shape)) ** 2 / 2


@check("squared_loss/value")
def check_value(stub, rng):
    """One unreduced loss per example for (n, 1) predictions and (n, 1) labels (d2l 3.2.5)."""
    y_hat, y = torch.randn(6, 1, generator=rng) * 3, torch.randn(6, 1, generator=rng) * 3
    shown = messages.text("evidence.squared_loss.call", y_hat=show(y_hat), y=show(y))
    result = stub.call("squared_loss", y_hat.clone(), y.clone(), shown=shown).value
    expect_tensor(result, shown, shape=(6, 1))
    expect_close(result, reference(y_hat, y), shown)
    shown = messages.text("evidence.squared_loss.meta")
    expect_tensor(stub.call("squared_loss", y_hat, y, device="meta", shown=shown).value, shown, shape=(6, 1),
                  device="meta")


@check("squared_loss/gradient")
def check_gradient(stub, rng):
    """The gradient of sum(loss * V) with respect to y_hat is V * (y_hat - y) (d2l 3.2.5)."""
    y_hat = torch.randn(4, 1, generator=rng, dtype=torch.float64)
    y = torch.randn(4, 1, generator=rng, dtype=torch.float64)
    weights = torch.rand(4, 1, generator=rng, dtype=torch.float64) + 0.5
    shown = messages.text("evidence.squared_loss.gradient", y_hat=show(y_hat), y=show(y))
    called = stub.call("squared_loss", y_hat.clone(), y.clone(), grad_args=[0], backward=weights, shown=shown)
    grad = called.args[0]["grad"] if called.args and called.args[0] else None
    if grad is None:
        raise CheckFailed(messages.text("evidence.squared_loss.no-gradient", call=shown))
    expect_close(grad, weights * (y_hat - y), shown)
