"""A known-good accuracy (d2l 3.6.5) that the instructor's grader gives train_ch3, to judge train_ch3 alone.

A student handout leaves this file out (it is a solution), and its grader uses the student's own accuracy.
"""
import types


def accuracy_module(name):
    """A module ``name`` whose ``accuracy`` counts the correct predictions, as d2l 3.6.5 does."""
    module = types.ModuleType(name)

    def accuracy(y_hat, y):
        if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
            y_hat = y_hat.argmax(axis=1)
        return float((y_hat.type(y.dtype).reshape(-1) == y.reshape(-1)).sum())

    module.accuracy = accuracy
    return module


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
    import torch
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()
