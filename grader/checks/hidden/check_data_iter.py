"""Hidden checks of data_iter (d2l 3.2.2): a batch size that does not divide the number of examples."""
from grader import messages
from grader.checks.check_data_iter import minibatches
from grader.harness import CheckFailed, check


@check("data_iter/partial-batch")
def check_partial_batch(stub, rng):
    """37 examples in batches of 5 are 7 full batches and a last batch of 2 (d2l 3.2.2)."""
    _, _, batches, shown = minibatches(stub, rng, 37, 5)
    sizes = [len(X) for X, _, _ in batches]
    if sorted(sizes, reverse=True) != [5] * 7 + [2]:
        raise CheckFailed(messages.text("evidence.hidden.data_iter.sizes", call=shown, sizes=sizes))
