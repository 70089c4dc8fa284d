"""Public checks of accuracy(y_hat, y) (d2l 3.6.5) against a count of correct predictions made here."""
import torch

from grader import messages
from grader.harness import check, expect_number, show


def predictions(rng, n, q):
    """Scores (n, q), their argmax classes (n,), int64 labels (n,), and how many labels match."""
    scores = torch.randn(n, q, generator=rng)
    predicted = scores.argmax(dim=1)
    correct = int(torch.randint(2, n - 1, (1,), generator=rng))
    hit = torch.zeros(n, dtype=torch.bool)
    hit[torch.randperm(n, generator=rng)[:correct]] = True
    wrong = (predicted + torch.randint(1, q, (n,), generator=rng)) % q
    return scores, predicted, torch.where(hit, predicted, wrong), float(correct)


@check("accuracy/count")
def check_count(stub, rng):
    """The number (not the fraction) of rows whose argmax is the label, as a float (d2l 3.6.5)."""
    scores, _, y, correct = predictions(rng, 10, 4)
    shown = messages.text("evidence.accuracy.scores", y_hat=show(scores), y=show(y), correct=f"{correct:g}", n=10)
    expect_number(stub.call("accuracy", scores.clone(), y.clone(), shown=shown).value, correct, shown)
