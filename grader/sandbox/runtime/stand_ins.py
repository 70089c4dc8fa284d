"""The grader's own softmax, cross-entropy and SGD (d2l 3.6.2, 3.6.4, 3.2.6), put in place of a student's one at a
time to find the part that broke a training from scratch. A student handout leaves this file out.
"""
import torch


def softmax(X):
    """A known-good softmax (d2l 3.6.2), stable: the grader's stand-in when it traces a failed training."""
    X_exp = (X - X.max(dim=1, keepdim=True).values).exp()
    return X_exp / X_exp.sum(dim=1, keepdim=True)


def cross_entropy(y_hat, y):
    """A known-good cross-entropy (d2l 3.6.4), finite at probability 0: the grader's stand-in."""
    picked = y_hat.gather(1, y.reshape(-1, 1)).reshape(-1)
    return -(picked.clamp(min=1e-30)).log()


def sgd(params, lr, batch_size):
    """A known-good minibatch SGD (d2l 3.2.6): the grader's stand-in when it traces a failed training."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
