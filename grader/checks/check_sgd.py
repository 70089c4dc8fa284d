"""Public checks of sgd(params, lr, batch_size) (d2l 3.2.6) on W and b passed as sgd's list of leaves with gradients."""
import torch

from grader.harness import CheckFailed, check, show

LR, BATCH_SIZE = 0.5, 8
NAMES = ("W", "b")


def run_sgd(stub, rng, device="cpu"):
    """Call sgd on W (3, 2) and b (2,) with random gradients; return the inputs, observations and text."""
    params = [torch.randn(3, 2, generator=rng), torch.randn(2, generator=rng)]
    grads = [torch.randn(3, 2, generator=rng), torch.randn(2, generator=rng)]
    shown = (f"sgd([W, b], lr={LR}, batch_size={BATCH_SIZE}) with W = {show(params[0])}, "
             f"W.grad = {show(grads[0])}, b = {show(params[1])}, b.grad = {show(grads[1])}")
    called = stub.call("sgd", [p.clone() for p in params], LR, BATCH_SIZE, grad_args=["0.0", "0.1"],
                       grads={"0.0": grads[0].clone(), "0.1": grads[1].clone()}, device=device, shown=shown)
    after = called.args[0] if called.args else None
    if type(after) is not list or len(after) != 2 or not all(after):
        raise CheckFailed(f"{shown}: afterwards the list params no longer holds the two tensors passed in; "
                          f"update each tensor in place and leave the list alone.")
    return params, grads, after, shown


@check("sgd/update")
def check_update(stub, rng):
    """Each parameter becomes param - lr * grad / batch_size (d2l 3.2.6)."""
    params, grads, after, shown = run_sgd(stub, rng)
    for name, param, grad, seen in zip(NAMES, params, grads, after):
        expected = param.double() - LR * grad.double() / BATCH_SIZE
        value = seen["value"]
        if value.shape == param.shape and torch.equal(value, param):
            raise CheckFailed(f"{shown}: afterwards the tensor {name} passed in still holds its old values "
                              f"{show(param)}; expected {name} - lr * {name}.grad / batch_size = {show(expected)}.")
        if value.shape != expected.shape or not torch.allclose(value.double(), expected, rtol=1e-4, atol=1e-6):
            raise CheckFailed(f"{shown}: afterwards {name} is {show(value)}; expected {name} - lr * {name}.grad "
                              f"/ batch_size = {show(expected)}.")
    _, _, on_meta, shown = run_sgd(stub, rng, device="meta")
    moved = [name for name, seen in zip(NAMES, on_meta) if seen["device"] != "meta"]
    if moved:
        raise CheckFailed(f"{shown.replace('sgd(', 'sgd on the meta device: sgd(', 1)}: afterwards {', '.join(moved)} "
                          "left the meta device; update the parameters where they are.")
