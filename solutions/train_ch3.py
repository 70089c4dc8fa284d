"""Training softmax regression and predicting with it (d2l 3.6.5 to 3.6.7)."""
import sys

import torch

from .accuracy import accuracy


class Accumulator:
    """Sums n running totals (d2l 3.6.5)."""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


class Animator:
    """Collects the points of the training curves, one line per legend entry (d2l 3.6.6).

    The book's Animator redraws its plot at every add() in a notebook; this one does so too when it
    runs in a notebook, and otherwise only keeps the points (show() draws them).
    """

    def __init__(self, xlabel=None, ylabel=None, legend=None, xlim=None, ylim=None, xscale="linear",
                 yscale="linear", fmts=("-", "m--", "g-.", "r:"), nrows=1, ncols=1, figsize=(3.5, 2.5)):
        self.axes_settings = dict(xlabel=xlabel, ylabel=ylabel, xlim=xlim, ylim=ylim, xscale=xscale, yscale=yscale)
        self.legend, self.fmts, self.figsize, self.X, self.Y = legend or [], fmts, figsize, None, None

    def add(self, x, y):
        """Add one point to each line: y holds one value per line, x one value or one per line."""
        y = list(y) if hasattr(y, "__len__") else [y]
        x = list(x) if hasattr(x, "__len__") else [x] * len(y)
        self.X, self.Y = self.X or [[] for _ in y], self.Y or [[] for _ in y]
        for i, (a, b) in enumerate(zip(x, y)):
            if a is not None and b is not None:
                self.X[i].append(a)
                self.Y[i].append(b)
        if "IPython" in sys.modules and sys.modules["IPython"].get_ipython() is not None:
            self.show()

    def show(self):
        """Draw the lines with matplotlib (in a notebook, in place of the previous drawing)."""
        import matplotlib.pyplot as plt
        figure, axes = plt.subplots(figsize=self.figsize)
        for xs, ys, fmt in zip(self.X or [], self.Y or [], self.fmts):
            axes.plot(xs, ys, fmt)
        settings = {key: value for key, value in self.axes_settings.items() if value is not None}
        axes.set(**settings)
        if self.legend:
            axes.legend(self.legend)
        axes.grid()
        if "IPython" in sys.modules:
            from IPython import display
            display.display(figure)
            display.clear_output(wait=True)
            plt.close(figure)
        return figure


def evaluate_accuracy(net, data_iter):
    """Fraction of correct predictions of net over data_iter, in eval mode without grad (d2l 3.6.5)."""
    ### BEGIN SOLUTION
    ### TODO: if net is an nn.Module, call net.eval(); then count the correct predictions and the
    ###       examples over all of data_iter with the given Accumulator (two running totals), and divide.
    ### Pitfall: evaluate under torch.no_grad(); divide by the number of examples, not batches.
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]
    ### END SOLUTION


def train_epoch_ch3(net, train_iter, loss, updater):
    """One epoch of training; returns (mean train loss, train accuracy) (d2l 3.6.6)."""
    ### BEGIN SOLUTION
    ### TODO: put an nn.Module in train mode; for each minibatch compute the loss and update.
    ### TODO: With a torch.optim.Optimizer: clear its gradients, back-propagate the mean loss, then step;
    ###       with a custom updater: back-propagate the summed loss, then call it with the minibatch's size.
    ### Pitfall: forget zero_grad() and gradients pile up across minibatches.
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.detach().sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]
    ### END SOLUTION


def train_ch3(net, train_iter, test_iter, loss, num_epochs, updater):
    """Train for num_epochs, testing after each; returns [(train_loss, train_acc, test_acc), ...] (d2l 3.6.6)."""
    ### BEGIN SOLUTION
    ### TODO: for each epoch, run train_epoch_ch3, then evaluate_accuracy on test_iter,
    ###       and collect (train_loss, train_acc, test_acc) per epoch.
    ### Pitfall: evaluate on the test set after every epoch, not only at the end.
    history = []
    for _ in range(num_epochs):
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater)
        test_acc = evaluate_accuracy(net, test_iter)
        history.append((train_loss, train_acc, test_acc))
    return history
    ### END SOLUTION


def predict_ch3(net, test_iter, n=6):
    """Predict labels for the first n test images and show them with true/predicted titles (d2l 3.6.7)."""
    from datasets import get_fashion_mnist_labels, show_images
    X, y = next(iter(test_iter))
    with torch.no_grad():
        preds = get_fashion_mnist_labels(net(X).argmax(axis=1))
    trues = get_fashion_mnist_labels(y)
    titles = [true + '\n' + pred for true, pred in zip(trues, preds)]
    show_images(X[0:n].reshape((n, 28, 28)).cpu(), 1, n, titles=titles[0:n])
    return titles[0:n]
