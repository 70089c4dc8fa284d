"""The check table: every check's id, points, visibility, title and hint. Everything else reads it."""
from dataclasses import dataclass

STUBS = ("synthetic_data", "data_iter", "squared_loss", "sgd", "softmax", "cross_entropy", "accuracy", "train_ch3")


@dataclass(frozen=True)
class Check:
    """One graded check: ``id`` is ``stub/aspect``; hidden checks are not in the student handout."""

    id: str
    points: int
    hidden: bool
    title: str
    hint: str
    needs: str = ""  # what must be present for the check to run: "data", "cuda" or "cuda+data"

    @property
    def stub(self):
        return self.id.split("/", 1)[0]


def _c(id, points, visibility, title, hint, needs=""):
    return Check(id, points, visibility == "hidden", title, hint, needs)


CHECKS = (
    _c("synthetic_data/shape", 2, "public", "X is (n, len(w)) and y is (n, 1)",
       "Return y as a column: y.reshape((-1, 1)). X has one row per example and one column per weight."),
    _c("synthetic_data/statistics", 3, "hidden", "X is standard normal, noise std 0.01, least squares recovers w and b",
       "Draw X with torch.normal(0, 1, ...), compute y = Xw + b, then add noise torch.normal(0, 0.01, y.shape)."),
    _c("data_iter/coverage", 2, "public", "every example comes out exactly once per pass",
       "Walk a list of all indices 0..n-1 in steps of batch_size; do not sample with replacement."),
    _c("data_iter/partial-batch", 2, "hidden", "the last, smaller batch is kept",
       "Slice indices[i: min(i + batch_size, n)] so the final partial batch is yielded, not dropped."),
    _c("data_iter/shuffle", 2, "public", "examples come out in a shuffled order",
       "Shuffle the index list (random.shuffle) before slicing it into batches."),
    _c("data_iter/alignment", 2, "public", "features and labels stay paired",
       "Index features and labels with the same batch indices: features[idx], labels[idx]."),
    _c("squared_loss/value", 2, "public", "(y_hat - y)^2 / 2 per example, unreduced",
       "Return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2: no sum, no mean, and do not forget the / 2."),
    _c("squared_loss/broadcast", 3, "hidden", "(n,) labels against (n, 1) predictions stay (n, 1)",
       "Broadcasting pitfall: (n, 1) minus (n,) is an (n, n) matrix. Reshape y to y_hat's shape first."),
    _c("squared_loss/gradient", 2, "public", "the gradient with respect to y_hat is y_hat - y",
       "Build the loss from y_hat with differentiable torch operations (no .detach(), .item() or numpy)."),
    _c("sgd/update", 4, "public", "param -= lr * grad / batch_size",
       "Divide by batch_size: the training loop sums the loss over the minibatch."),
    _c("sgd/zero-grad", 2, "hidden", "gradients are zeroed after the update",
       "Call param.grad.zero_() after updating, or gradients accumulate across minibatches."),
    _c("sgd/no-grad", 2, "hidden", "the update is not recorded by autograd",
       "Update inside `with torch.no_grad():`, so parameters stay leaves that require grad."),
    _c("sgd/in-place", 2, "hidden", "parameters are updated in place",
       "Use param -= ... (in place); param = param - ... only rebinds a local name."),
    _c("softmax/value", 4, "public", "row-wise softmax of ordinary logits",
       "Exponentiate, then divide each row by its own sum: X_exp / X_exp.sum(1, keepdim=True)."),
    _c("softmax/overflow", 3, "hidden", "finite for logits of +1000",
       "Overflow in exp: exp(89) is inf in float32. Subtract each row's max before exponentiating."),
    _c("softmax/underflow", 2, "hidden", "finite for logits of -1000",
       "Underflow in exp: every exp(-1000) is 0, so the row sum is 0 and 0/0 is NaN. Subtract the row max."),
    _c("softmax/keepdim", 3, "hidden", "normalises rows, also for a square batch",
       "Missing keepdim: X_exp.sum(1) has shape (n,) and broadcasts along columns. Use keepdim=True."),
    _c("softmax/gradient", 2, "public", "autograd flows through softmax",
       "Use differentiable torch operations only (torch.exp, sum, max(...).values); no in-place edits of X."),
    _c("softmax/device", 2, "hidden", "runs on the device of its input",
       "Device mixing: create new tensors on X.device (or avoid creating them); never call .cpu() or .numpy()."),
    _c("cross_entropy/value", 3, "public", "-log of the true class's probability, per example",
       "Return -torch.log(y_hat[range(len(y_hat)), y]): one loss per example, unreduced."),
    _c("cross_entropy/zero-prob", 3, "hidden", "finite when the true class has probability 0",
       "log(0) is -inf. Clamp the picked probabilities to a tiny positive value (or add a small epsilon)."),
    _c("cross_entropy/indexing", 3, "hidden", "picks one entry per row",
       "Indexing pitfall: y_hat[:, y] is an (n, n) matrix. Pair rows and labels: y_hat[range(n), y]."),
    _c("cross_entropy/device", 2, "hidden", "runs on the device of its input",
       "Device mixing: build any new tensor (a one-hot matrix, a mask) on y_hat.device; no .cpu(), .numpy() or Python loops."),
    _c("accuracy/count", 4, "public", "number of correct predictions from scores, as a float",
       "Return the count (float(cmp.sum())), not the mean; argmax over axis 1 for (n, q) scores."),
    _c("accuracy/class-indices", 2, "hidden", "accepts class indices (n,) as predictions",
       "Only take argmax when y_hat has more than one column; compare flat (n,) tensors, never (n, 1) with (n,)."),
    _c("accuracy/device", 2, "hidden", "runs on the device of its inputs",
       "Device mixing: compare tensors on their own device and convert only the final count with float()."),
    _c("train_ch3/convergence-scratch", 8, "hidden", "softmax regression from scratch reaches test accuracy > 0.7",
       "Softmax, cross_entropy, sgd and train_ch3 together must learn: check the updater call and loss.sum().backward().",
       "data"),
    _c("train_ch3/convergence-concise", 8, "hidden", "nn.Linear with torch.optim.SGD reaches test accuracy > 0.7",
       "With a torch.optim.Optimizer: updater.zero_grad(); l.mean().backward(); updater.step() for every minibatch.",
       "data"),
    _c("train_ch3/evaluate-accuracy", 2, "public", "evaluate_accuracy is the fraction correct over all examples",
       "Accumulate (number correct, number of examples) over every batch and divide: metric[0] / metric[1]."),
    _c("train_ch3/epochs", 3, "public", "trains for exactly num_epochs passes over train_iter",
       "Loop `for epoch in range(num_epochs)` and run one full pass over train_iter per epoch."),
    _c("train_ch3/test-each-epoch", 3, "public", "evaluates on test_iter after every epoch",
       "Call evaluate_accuracy(net, test_iter) inside the epoch loop, after each training epoch."),
    _c("train_ch3/eval-mode", 3, "hidden", "evaluates in eval mode without gradients",
       "In evaluate_accuracy call net.eval() for an nn.Module and wrap the loop in torch.no_grad()."),
    _c("train_ch3/zero-grad", 3, "hidden", "zeroes gradients before every optimizer step",
       "Forgotten zero_grad: call updater.zero_grad() before l.mean().backward() in every minibatch."),
    _c("train_ch3/gpu", 5, "hidden", "trains on a CUDA GPU when the model and data are there",
       "Keep every tensor on the device of the model and batches; no hard-coded .cpu() or torch.device('cpu').",
       "cuda+data"),
)
BY_ID = {check.id: check for check in CHECKS}


def checks_for(stubs=None):
    """The checks of the given stubs (all when None), in table order."""
    return [check for check in CHECKS if stubs is None or check.stub in stubs]


def _validate():
    """The table's own invariants: unique ids, known stubs, 100 points in all."""
    if len(BY_ID) != len(CHECKS):
        raise ValueError("duplicate check ids in the check table")
    if any(check.stub not in STUBS for check in CHECKS):
        raise ValueError("a check names an unknown stub")
    if sum(check.points for check in CHECKS) != 100:
        raise ValueError("the check table must total 100 points")


_validate()
