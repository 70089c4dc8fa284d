"""Public checks of synthetic_data(w, b, num_examples) (d2l 3.2.1), judged on the X and y that come back."""
import torch

from grader import messages
from grader.harness import CheckFailed, check, describe, show


def draw(stub, rng, num_examples, dims):
    """Call synthetic_data with random w and b; return w, b, the X and y that came back, and the call as text."""
    w = (torch.randn(dims, generator=rng) * 2).round(decimals=2)
    b = round(float(torch.rand(1, generator=rng)) * 10 - 5, 2)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))
    shown = messages.text("evidence.synthetic_data.call", b=b, n=num_examples, w=show(w))
    value = stub.call("synthetic_data", w.clone(), b, num_examples, seed=seed, shown=shown).value
    if type(value) not in (list, tuple) or len(value) != 2:
        raise CheckFailed(messages.text("evidence.synthetic_data.not-a-pair", call=shown, got=describe(value)))
    return w, b, value[0], value[1], shown


@check("synthetic_data/shape")
def check_shape(stub, rng):
    """X is (n, len(w)), y is the column (n, 1) (d2l 3.2.1)."""
    for num_examples, dims in ((7, 3), (12, 2)):
        _, _, X, y, shown = draw(stub, rng, num_examples, dims)
        expect_shape("X", X, (num_examples, dims), shown)
        expect_shape("y", y, (num_examples, 1), shown)


def expect_shape(name, value, shape, shown):
    """Fail unless ``value`` is a tensor of exactly ``shape``."""
    if type(value) is not torch.Tensor or tuple(value.shape) != shape:
        raise CheckFailed(messages.text("evidence.synthetic_data.wrong-shape", call=shown, name=name,
                                        got=describe(value), shape=shape))
