"""A known-good accuracy (d2l 3.6.5) that the grader gives train_ch3, to judge train_ch3 alone.

The student handout holds it too, so that a student's own grading of train_ch3 agrees with the
instructor's whatever their accuracy does (the book prints this function in 3.6.5).
"""
import types


def accuracy_module(name):
    """A module ``name`` whose ``accuracy`` counts the correct predictions, as d2l 3.6.5 does."""
    module = types.ModuleType(name)

    def accuracy(y_hat, y):
        predicted = y_hat.argmax(dim=1) if y_hat.dim() > 1 and y_hat.shape[1] > 1 else y_hat
        return float((predicted.reshape(-1).to(y.dtype) == y.reshape(-1)).sum())

    module.accuracy = accuracy
    return module

