"""Checks of sgd(params, lr, batch_size) (d2l 3.2.6) on W and b passed as sgd's list of leaves with gradients."""
import torch

from grader.harness import CheckFailed, check, show

LR, BATCH_SIZE = 0.5, 8
NAMES = ("W", "b")


def _run(stub, rng, device="cpu"):
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
    params, grads, after, shown = _run(stub, rng)
    for name, param, grad, seen in zip(NAMES, params, grads, after):
        expected = param.double() - LR * grad.double() / BATCH_SIZE
        value = seen["value"]
        if value.shape != expected.shape or not torch.allclose(value.double(), expected, rtol=1e-4, atol=1e-6):
            raise CheckFailed(f"{shown}: afterwards {name} is {show(value)}; expected {name} - lr * {name}.grad "
                              f"/ batch_size = {show(expected)}.")
    _, _, on_meta, shown = _run(stub, rng, device="meta")
    moved = [name for name, seen in zip(NAMES, on_meta) if seen["device"] != "meta"]
    if moved:
        raise CheckFailed(f"{shown.replace('sgd(', 'sgd on the meta device: sgd(', 1)}: afterwards {', '.join(moved)} "
                          "left the meta device; update the parameters where they are.")


@check("sgd/zero-grad")
def check_zero_grad(stub, rng):
    """Every parameter's gradient is zero after the update (d2l 3.2.6)."""
    _, _, after, shown = _run(stub, rng)
    for name, seen in zip(NAMES, after):
        grad = seen["grad"]
        if grad is not None and (type(grad) is not torch.Tensor or grad.count_nonzero()):
            raise CheckFailed(f"{shown}: afterwards {name}.grad is {show(grad)}; expected zeros, or the "
                              f"gradients of the next minibatch pile up on top of it.")


@check("sgd/no-grad")
def check_no_grad(stub, rng):
    """Parameters stay leaves that require grad: the update is not recorded (d2l 3.2.6)."""
    _, _, after, shown = _run(stub, rng)
    for name, seen in zip(NAMES, after):
        if not seen["requires_grad"]:
            raise CheckFailed(f"{shown}: afterwards {name} no longer requires grad, so the next backward() "
                              f"cannot compute its gradient.")
        if seen["has_grad_fn"] or not seen["is_leaf"]:
            raise CheckFailed(f"{shown}: afterwards {name} has a grad_fn: autograd recorded the update, "
                              f"so {name} is no longer a leaf.")


@check("sgd/in-place")
def check_in_place(stub, rng):
    """The very tensors passed in hold the new values afterwards, not a rebound local name (d2l 3.2.6)."""
    params, _, after, shown = _run(stub, rng)
    for name, param, seen in zip(NAMES, params, after):
        if torch.equal(seen["value"], param):
            raise CheckFailed(f"{shown}: afterwards the tensor {name} passed in still holds its old values "
                              f"{show(param)}; the update must change it in place, not a new local tensor.")
