"""Hidden checks of sgd (d2l 3.2.6): zeroed gradients, no autograd record, an update in place."""
import torch

from grader import messages
from grader.checks.check_sgd import NAMES, run_sgd
from grader.harness import CheckFailed, check, show


def expect_an_update(params, after, shown):
    """Fail unless sgd changed every parameter: checks of how it updates need an update to judge."""
    for name, param, seen in zip(NAMES, params, after):
        if torch.equal(seen["value"], param):
            raise CheckFailed(messages.text("evidence.hidden.sgd.not-updated", call=shown, name=name, old=show(param)))


@check("sgd/zero-grad")
def check_zero_grad(stub, rng):
    """Every parameter is updated and its gradient is zero afterwards (d2l 3.2.6)."""
    params, _, after, shown = run_sgd(stub, rng)
    expect_an_update(params, after, shown)
    for name, seen in zip(NAMES, after):
        grad = seen["grad"]
        if grad is not None and (type(grad) is not torch.Tensor or grad.count_nonzero()):
            raise CheckFailed(messages.text("evidence.hidden.sgd.grad-not-zero", call=shown, name=name,
                                            grad=show(grad)))


@check("sgd/no-grad")
def check_no_grad(stub, rng):
    """Parameters are updated and stay leaves that require grad: the update is not recorded (d2l 3.2.6)."""
    params, _, after, shown = run_sgd(stub, rng)
    expect_an_update(params, after, shown)
    for name, seen in zip(NAMES, after):
        if not seen["requires_grad"]:
            raise CheckFailed(messages.text("evidence.hidden.sgd.no-requires-grad", call=shown, name=name))
        if seen["has_grad_fn"] or not seen["is_leaf"]:
            raise CheckFailed(messages.text("evidence.hidden.sgd.grad-fn", call=shown, name=name))


@check("sgd/in-place")
def check_in_place(stub, rng):
    """The very tensors passed in hold the new values afterwards, not a rebound local name (d2l 3.2.6)."""
    params, _, after, shown = run_sgd(stub, rng)
    for name, param, seen in zip(NAMES, params, after):
        if torch.equal(seen["value"], param):
            raise CheckFailed(messages.text("evidence.hidden.sgd.not-in-place", call=shown, name=name, old=show(param)))
