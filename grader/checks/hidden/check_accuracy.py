"""Hidden checks of accuracy(y_hat, y) (d2l 3.6.5): class indices as predictions, and devices."""
import torch

from grader import messages
from grader.checks.check_accuracy import predictions
from grader.harness import ACCEPTED_FAILURE, CheckFailed, call_on_meta, check, describe, expect_number, show

# What float() of a meta tensor raises: the one failure a correct accuracy() has on the meta device.
META_NUMBER = "cannot be called on meta tensors"


@check("accuracy/class-indices")
def check_class_indices(stub, rng):
    """Predictions given as class indices (n,) are compared directly, without argmax (d2l 3.6.5)."""
    _, predicted, y, correct = predictions(rng, 9, 5)
    shown = messages.text("evidence.hidden.accuracy.indices", y_hat=show(predicted), y=show(y), correct=f"{correct:g}")
    expect_number(stub.call("accuracy", predicted.clone(), y.clone(), shown=shown).value, correct, shown)


def on_meta(stub, shown, *args):
    """Call accuracy on meta tensors: a number, a meta tensor, or failing only at float() is accepted."""
    value = call_on_meta(stub, "accuracy", *args, shown=shown, accept=(META_NUMBER,))
    if value is ACCEPTED_FAILURE or (type(value) in (int, float) and abs(value) < 1e18):
        return
    if type(value) is torch.Tensor and value.device.type != "meta":
        raise CheckFailed(messages.text("evidence.hidden.accuracy.tensor-on", call=shown, got=describe(value),
                                        device=value.device.type))
    if type(value) is not torch.Tensor:
        raise CheckFailed(messages.text("evidence.hidden.accuracy.not-float", call=shown, got=describe(value)))


@check("accuracy/device")
def check_device(stub, rng, grading):
    """The right count on the CPU; predictions are compared on the inputs' device, only the count is converted
    (d2l 3.6.5)."""
    scores, predicted, y, correct = predictions(rng, 8, 4)
    shown = messages.text("evidence.accuracy.scores", y_hat=show(scores), y=show(y), correct=f"{correct:g}", n=8)
    expect_number(stub.call("accuracy", scores.clone(), y.clone(), shown=shown).value, correct, shown)
    on_meta(stub, messages.text("evidence.hidden.accuracy.meta"), scores, y)
    if grading.cuda:
        for y_hat, kind in ((scores, "cuda-scores"), (predicted, "cuda-indices")):
            shown = messages.text(f"evidence.hidden.accuracy.{kind}", y_hat=show(y_hat), y=show(y))
            expect_number(stub.call("accuracy", y_hat, y, device="cuda", shown=shown).value, correct, shown)
