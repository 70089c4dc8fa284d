"""Public checks of sgd(params, lr, batch_size) (d2l 3.2.6) on W and b passed as sgd's list of leaves with gradients."""
import torch

from grader import messages
from grader.harness import CheckFailed, check, show

LR, BATCH_SIZE = 0.5, 8
NAMES = ("W", "b")


def run_sgd(stub, rng, device="cpu"):
    """Call sgd on W (3, 2) and b (2,) with random gradients; return the inputs, observations and text."""
    params = [torch.randn(3, 2, generator=rng), torch.randn(2, generator=rng)]
    grads = [torch.randn(3, 2, generator=rng), torch.randn(2, generator=rng)]
    shown = messages.text("evidence.sgd.call", lr=LR, batch_size=BATCH_SIZE, W=show(params[0]), W_grad=show(grads[0]),
                          b=show(params[1]), b_grad=show(grads[1]))
    if device == "meta":
        shown = messages.text("evidence.sgd.on-meta", call=shown)
    called = stub.call("sgd", [p.clone() for p in params], LR, BATCH_SIZE, grad_args=["0.0", "0.1"],
                       grads={"0.0": grads[0].clone(), "0.1": grads[1].clone()}, device=device, shown=shown)
    after = called.args[0] if called.args else None
    if type(after) is not list or len(after) != 2 or not all(after):
        raise CheckFailed(messages.text("evidence.sgd.list-changed", call=shown))
    return params, grads, after, shown


@check("sgd/update")
def check_update(stub, rng):
    """Each parameter becomes param - lr * grad / batch_size (d2l 3.2.6)."""
    params, grads, after, shown = run_sgd(stub, rng)
    for name, param, grad, seen in zip(NAMES, params, grads, after):
        expected = param.double() - LR * grad.double() / BATCH_SIZE
        value = seen["value"]
        if value.shape == param.shape and torch.equal(value, param):
            raise CheckFailed(messages.text("evidence.sgd.old-values", call=shown, name=name, old=show(param),
                                            expected=show(expected)))
        if value.shape != expected.shape or not torch.allclose(value.double(), expected, rtol=1e-4, atol=1e-6):
            raise CheckFailed(messages.text("evidence.sgd.wrong-values", call=shown, name=name, got=show(value),
                                            expected=show(expected)))
    _, _, on_meta, shown = run_sgd(stub, rng, device="meta")
    moved = [name for name, seen in zip(NAMES, on_meta) if seen["device"] != "meta"]
    if moved:
        raise CheckFailed(messages.text("evidence.sgd.left-meta", call=shown, names=", ".join(moved)))
