"""The book's own pipeline (d2l 3.5 to 3.6): torchvision FashionMNIST with ToTensor through a DataLoader
with d2l's worker count, and train_ch3 on the reference softmax regression from scratch.

Prints one JSON line: the final test accuracy and the seconds spent in train_ch3.
"""
import argparse
import json
import sys
import time

import torch

from datasets import load_data_fashion_mnist
from solutions.cross_entropy import cross_entropy
from solutions.sgd import sgd
from solutions.softmax import softmax
from solutions.train_ch3 import train_ch3


def main(argv=None):
    """Train for ``--epochs`` with the book's settings and report the final test accuracy."""
    parser = argparse.ArgumentParser(prog="python -m bench.book", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    lr, batch_size = 0.1, 256
    torch.manual_seed(args.seed)
    W = torch.normal(0, 0.01, size=(784, 10), requires_grad=True)
    b = torch.zeros(10, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    train_iter, test_iter = load_data_fashion_mnist(batch_size)
    started = time.perf_counter()
    history = train_ch3(net, train_iter, test_iter, cross_entropy, args.epochs, lambda n: sgd([W, b], lr, n))
    print(json.dumps({"accuracy": history[-1][2], "training_seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
