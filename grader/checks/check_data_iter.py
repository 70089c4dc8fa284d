"""Public checks of data_iter(batch_size, features, labels) (d2l 3.2.2), on features that number their rows."""
import torch

from grader import messages
from grader.harness import CheckFailed, check, describe, show


def draw_seed(rng):
    """A seed for the student's random module, drawn from the check's generator."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=rng))


def minibatches(stub, rng, n, batch_size, seed=None):
    """Run data_iter on n numbered examples; return (features, labels, [(X, y, ids)], shown)."""
    features = torch.stack([torch.arange(n, dtype=torch.float32), torch.randn(n, generator=rng)], dim=1)
    labels = torch.randn(n, 1, generator=rng)
    shown = messages.text("evidence.data_iter.call", batch_size=batch_size, n=n)
    items = stub.call("data_iter", batch_size, features.clone(), labels.clone(), materialize=True,
                      seed=draw_seed(rng) if seed is None else seed, shown=shown).value
    if type(items) is not list:
        raise CheckFailed(messages.text("evidence.data_iter.not-iterable", call=shown, got=describe(items)))
    batches = []
    for k, item in enumerate(items):
        if type(item) is not list or len(item) != 2 or any(type(part) is not torch.Tensor for part in item):
            raise CheckFailed(messages.text("evidence.data_iter.not-a-pair", call=shown, k=k, got=describe(item)))
        X, y = item
        if X.dim() != 2 or X.shape[1] != 2 or tuple(y.shape) != (X.shape[0], 1) or not len(X):
            raise CheckFailed(messages.text("evidence.data_iter.shapes", call=shown, k=k, X=tuple(X.shape),
                                            y=tuple(y.shape)))
        ids = X[:, 0].double()
        if not ((ids == ids.round()) & (ids >= 0) & (ids < n)).all():
            raise CheckFailed(messages.text("evidence.data_iter.foreign-rows", call=shown, k=k, X=show(X)))
        batches.append((X, y, ids.long()))
    return features, labels, batches, shown


def _order(batches):
    return torch.cat([ids for _, _, ids in batches]) if batches else torch.zeros(0, dtype=torch.long)


def _few(ids):
    listed = ids.tolist()
    if not listed:
        return messages.text("evidence.data_iter.none")
    return ", ".join(map(str, listed[:10])) + (", ..." if len(listed) > 10 else "")


@check("data_iter/coverage")
def check_coverage(stub, rng):
    """One pass yields every example exactly once (d2l 3.2.2)."""
    n = 40
    _, _, batches, shown = minibatches(stub, rng, n, 8)
    counts = torch.bincount(_order(batches), minlength=n)
    missing, repeated = (counts == 0).nonzero().reshape(-1), (counts > 1).nonzero().reshape(-1)
    if len(missing) or len(repeated):
        raise CheckFailed(messages.text("evidence.data_iter.coverage", call=shown, count=int(counts.sum()),
                                        batches=len(batches), missing=_few(missing), repeated=_few(repeated)))


def _blocks(batches, batch_size):
    """Whether every minibatch holds a run of consecutive examples, as without shuffling."""
    return all(len(ids) == batch_size and int(ids.max() - ids.min()) == batch_size - 1
               and len(set(ids.tolist())) == batch_size for _, _, ids in batches)


@check("data_iter/shuffle")
def check_shuffle(stub, rng):
    """The examples come out in a random order that differs between seeds (d2l 3.2.2)."""
    n, batch_size = 100, 10
    first, second = draw_seed(rng), draw_seed(rng)
    orders = []
    for seed in (first, second if second != first else first + 1):
        _, _, batches, shown = minibatches(stub, rng, n, batch_size, seed=seed)
        order = _order(batches)
        if torch.equal(order, torch.arange(len(order))) or _blocks(batches, batch_size):
            raise CheckFailed(messages.text("evidence.data_iter.in-order", call=shown, order=show(order, limit=12)))
        orders.append(order)
    if torch.equal(orders[0], orders[1]):
        raise CheckFailed(messages.text("evidence.data_iter.same-order", call=shown, order=show(orders[0], limit=12)))


@check("data_iter/alignment")
def check_alignment(stub, rng):
    """Each minibatch pairs features[i] with labels[i] (d2l 3.2.2)."""
    features, labels, batches, shown = minibatches(stub, rng, 50, 7)
    for k, (X, y, ids) in enumerate(batches):
        if not torch.equal(X, features[ids]):
            raise CheckFailed(messages.text("evidence.data_iter.not-whole-rows", call=shown, k=k, X=show(X),
                                            expected=show(features[ids])))
        if not torch.equal(y, labels[ids]):
            raise CheckFailed(messages.text("evidence.data_iter.wrong-labels", call=shown, k=k, ids=show(ids, limit=8),
                                            y=show(y), expected=show(labels[ids])))
