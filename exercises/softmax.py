"""The softmax operation (d2l 3.6.2)."""
import torch


def softmax(X):
    """Row-wise softmax: exp(X_ij) / sum_k exp(X_ik), computed stably (d2l 3.6.2)."""
    # TODO: exponentiate every entry and divide each row by its sum.
    # Pitfall: exp overflows to inf for logits above ~88 in float32: subtract each row's max first;
    #          sum with keepdim=True, or (n,) sums broadcast along the wrong axis.
    raise NotImplementedError()
