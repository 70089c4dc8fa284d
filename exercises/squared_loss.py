"""The linear regression model and its loss (d2l 3.2.4, 3.2.5)."""
import torch


def linreg(X, w, b):
    """The linear regression model: X w + b (d2l 3.2.4)."""
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    """Unreduced squared loss: (y_hat - y)^2 / 2, one value per example (d2l 3.2.5)."""
    # TODO: return (y_hat - y)^2 / 2 elementwise, without summing or averaging.
    # Pitfall: y may be (n,) while y_hat is (n, 1); reshape y to y_hat's shape, or
    #          broadcasting silently builds an (n, n) matrix.
    raise NotImplementedError()
