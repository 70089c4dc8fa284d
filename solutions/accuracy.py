"""Classification accuracy (d2l 3.6.5)."""


def accuracy(y_hat, y):
    """Number of correct predictions, as a float; y_hat holds scores (n, q) or class indices (n,) (d2l 3.6.5)."""
    ### BEGIN SOLUTION
    ### TODO: turn scores into predicted classes (argmax over axis 1) and count matches with y.
    ### Pitfall: return the count, not the mean; compare (n,) with (n,), never (n, 1) with (n,);
    ###          return a Python float (float(...)), not a tensor.
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype).reshape(-1) == y.reshape(-1)
    return float(cmp.type(y.dtype).sum())
    ### END SOLUTION
