"""Synthetic regression data (d2l 3.2.1)."""
import torch


def synthetic_data(w, b, num_examples):
    """Generate y = Xw + b + noise, X ~ N(0, 1), noise ~ N(0, 0.01^2) (d2l 3.2.1)."""
    ### BEGIN SOLUTION
    ### TODO: draw X of shape (num_examples, len(w)) from N(0, 1), compute y = Xw + b,
    ###       add Gaussian noise with standard deviation 0.01, and return X and y.
    ### Pitfall: y must come back as a column of shape (num_examples, 1), not (num_examples,).
    X = torch.normal(0, 1, (num_examples, len(w)), dtype=w.dtype)
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape, dtype=y.dtype)
    return X, y.reshape((-1, 1))
    ### END SOLUTION
