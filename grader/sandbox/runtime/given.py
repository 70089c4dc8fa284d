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
