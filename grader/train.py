"""``make train``: softmax regression from scratch on Fashion-MNIST with a package's own functions (d2l 3.6.6).

``python -m grader.train --package solutions`` trains the reference, ``--package exercises`` your code.
"""
import argparse
import importlib
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from datasets import DatasetUnavailable, EnvironmentMismatch, load_data_fashion_mnist_fast
from datasets.explain import explained

from . import messages
from .messages.columns import width

PACKAGES = ("exercises", "solutions")


class EpochProgress:
    """Wraps a re-iterable batch source so that each pass over it shows a tqdm bar."""

    def __init__(self, batches, num_epochs):
        self.batches, self.num_epochs, self.epoch = batches, num_epochs, 0

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        self.epoch += 1
        desc = f"epoch {self.epoch}/{self.num_epochs}"
        return iter(tqdm(self.batches, total=len(self.batches), desc=desc, unit="batch", leave=False))


def save_curve(history, path):
    """Plot train loss, train accuracy and test accuracy per epoch (d2l's Animator) to a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    epochs = range(1, len(history) + 1)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for column, label in enumerate(["train loss", "train acc", "test acc"]):
        ax.plot(epochs, [row[column] for row in history], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylim(0.3, 0.9)
    ax.grid(True)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def chapter(package):
    """The functions training needs, from ``package`` (exercises or solutions)."""
    def get(module, name):
        return getattr(importlib.import_module(f"{package}.{module}"), name)
    return (get("softmax", "softmax"), get("cross_entropy", "cross_entropy"), get("sgd", "sgd"),
            get("train_ch3", "train_ch3"), get("train_ch3", "evaluate_accuracy"))


def train_scratch(num_epochs, lr, batch_size, seed, package="solutions"):
    """d2l 3.6: W ~ N(0, 0.01^2) of shape 784x10, b = 0, trained with sgd on cross_entropy."""
    softmax, cross_entropy, sgd, train_ch3, evaluate_accuracy = chapter(package)
    torch.manual_seed(seed)
    W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    def updater(batch_size):
        return sgd([W, b], lr, batch_size)

    train_iter, test_iter = load_data_fashion_mnist_fast(batch_size, seed=seed)
    history = train_ch3(net, EpochProgress(train_iter, num_epochs), test_iter, cross_entropy, num_epochs, updater)
    return history, evaluate_accuracy(net, test_iter)


def history_table(history):
    """The header and one row per epoch, each number right-aligned under its (translated) label."""
    labels = messages.text("train.header").split("  ")
    widths = [max(width(label), least) for label, least in zip(labels, (5, 10, 9, 8))]
    rows = ["  ".join(" " * (size - width(label)) + label for label, size in zip(labels, widths))]
    for epoch, (train_loss, train_acc, test_acc) in enumerate(history, start=1):
        cells = (f"{epoch:d}", f"{train_loss:.4f}", f"{train_acc:.3f}", f"{test_acc:.3f}")
        rows.append("  ".join(cell.rjust(size) for cell, size in zip(cells, widths)))
    return rows


def main(argv=None):
    """Command line of ``make train``."""
    parser = argparse.ArgumentParser(prog="python -m grader.train", description=__doc__.splitlines()[0])
    parser.add_argument("--package", choices=PACKAGES, default="exercises", help="whose functions to train")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, help="where to save the curve (default: reports/train-PACKAGE.png)")
    args = parser.parse_args(argv)
    package, plot = args.package, args.plot or Path("reports") / f"train-{args.package}.png"
    started = time.perf_counter()
    try:
        history, final_acc = train_scratch(args.epochs, args.lr, args.batch_size, args.seed, package)
    except (DatasetUnavailable, EnvironmentMismatch) as error:
        print(explained(error), file=sys.stderr)
        return 1
    except NotImplementedError:
        print(messages.text("train.stub", package=package), file=sys.stderr)
        return 1
    if not history:
        print(messages.text("train.no-history", accuracy=f"{final_acc:.3f}"))
        return 0
    for row in history_table(history):
        print(row)
    save_curve(history, plot)
    print(messages.text("train.done", epochs=len(history), seconds=f"{time.perf_counter() - started:.1f}", plot=plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
