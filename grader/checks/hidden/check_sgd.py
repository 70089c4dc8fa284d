"""Hidden checks of sgd (d2l 3.2.6): zeroed gradients, no autograd record, an update in place."""
import torch

from grader.checks.check_sgd import NAMES, run_sgd
from grader.harness import CheckFailed, check, show


def expect_an_update(params, after, shown):
    """Fail unless sgd changed every parameter: checks of how it updates need an update to judge."""
    for name, param, seen in zip(NAMES, params, after):
        if torch.equal(seen["value"], param):
            raise CheckFailed(f"{shown}: afterwards {name} still holds its old values {show(param)}; sgd must "
                              f"update every parameter (param - lr * param.grad / batch_size).")


@check("sgd/zero-grad")
def check_zero_grad(stub, rng):
    """Every parameter is updated and its gradient is zero afterwards (d2l 3.2.6)."""
    params, _, after, shown = run_sgd(stub, rng)
    expect_an_update(params, after, shown)
    for name, seen in zip(NAMES, after):
        grad = seen["grad"]
        if grad is not None and (type(grad) is not torch.Tensor or grad.count_nonzero()):
            raise CheckFailed(f"{shown}: afterwards {name}.grad is {show(grad)}; expected zeros, or the "
                              f"gradients of the next minibatch pile up on top of it.")


@check("sgd/no-grad")
def check_no_grad(stub, rng):
    """Parameters are updated and stay leaves that require grad: the update is not recorded (d2l 3.2.6)."""
    params, _, after, shown = run_sgd(stub, rng)
    expect_an_update(params, after, shown)
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
    params, _, after, shown = run_sgd(stub, rng)
    for name, param, seen in zip(NAMES, params, after):
        if torch.equal(seen["value"], param):
            raise CheckFailed(f"{shown}: afterwards the tensor {name} passed in still holds its old values "
                              f"{show(param)}; the update must change it in place, not a new local tensor.")
