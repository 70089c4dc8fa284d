"""train_ch3 and its helpers: the d2l v0.17 contract, and convergence on the real Fashion-MNIST."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from grader.train import train_scratch
from solutions.train_ch3 import Accumulator, evaluate_accuracy, train_ch3, train_epoch_ch3

ROOT = Path(__file__).resolve().parent.parent


def toy_batches(seed=0, n=64, batch_size=16):
    """A small 3-class problem in batches; only for checking the loop's mechanics."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=generator)
    y = X[:, :3].argmax(dim=1)
    return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, n, batch_size)]


class ModeRecorder(nn.Linear):
    """A linear layer that records whether it was in training mode at each forward pass."""

    def __init__(self):
        super().__init__(4, 3)
        self.modes, self.grad_enabled = [], []

    def forward(self, X):
        self.modes.append(self.training)
        self.grad_enabled.append(torch.is_grad_enabled())
        return super().forward(X)


class CountingSGD(torch.optim.SGD):
    """torch.optim.SGD that counts its zero_grad and step calls."""

    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.calls = []

    def zero_grad(self, set_to_none=True):
        self.calls.append("zero_grad")
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.calls.append("step")
        return super().step(closure)


def test_accumulator_sums_columns():
    metric = Accumulator(2)
    metric.add(1, 2.5)
    metric.add(torch.tensor(3.0), 1)
    assert (metric[0], metric[1]) == (4.0, 3.5)


def test_train_epoch_with_an_optimizer_matches_a_plain_torch_loop():
    torch.manual_seed(0)
    net, reference = nn.Linear(4, 3), nn.Linear(4, 3)
    reference.load_state_dict(net.state_dict())
    updater = CountingSGD(net.parameters(), lr=0.5)
    loss = nn.CrossEntropyLoss(reduction="none")
    train_epoch_ch3(net, toy_batches(), loss, updater)
    optimizer = torch.optim.SGD(reference.parameters(), lr=0.5)
    for X, y in toy_batches():
        optimizer.zero_grad()
        nn.functional.cross_entropy(reference(X), y).backward()
        optimizer.step()
    assert updater.calls == ["zero_grad", "step"] * 4
    for ours, theirs in zip(net.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs)


def test_train_epoch_with_a_custom_updater_passes_the_batch_size_and_sums_the_loss():
    net, loss, seen = nn.Linear(4, 3), nn.CrossEntropyLoss(reduction="none"), []
    (X, y), = toy_batches(n=16)
    expected = torch.autograd.grad(loss(net(X), y).sum(), net.weight)[0]
    train_epoch_ch3(net, [(X, y)], loss, lambda batch_size: seen.append((batch_size, net.weight.grad.clone())))
    assert seen[0][0] == 16
    torch.testing.assert_close(seen[0][1], expected)


def test_train_epoch_returns_mean_loss_and_accuracy_over_examples():
    net = nn.Linear(4, 3)
    batches = toy_batches(n=40)
    with torch.no_grad():
        X = torch.cat([X for X, _ in batches])
        y = torch.cat([y for _, y in batches])
        expected_loss = nn.functional.cross_entropy(net(X), y).item()
        expected_acc = (net(X).argmax(1) == y).double().mean().item()
    train_loss, train_acc = train_epoch_ch3(net, batches, nn.CrossEntropyLoss(reduction="none"), lambda n: None)
    assert train_loss == pytest.approx(expected_loss, rel=1e-5)
    assert train_acc == pytest.approx(expected_acc)


def test_evaluate_accuracy_runs_in_eval_mode_without_grad():
    net = ModeRecorder()
    net.train()
    batches = toy_batches(n=40)
    with torch.no_grad():
        X = torch.cat([X for X, _ in batches])
        y = torch.cat([y for _, y in batches])
        expected = (nn.Linear.forward(net, X).argmax(1) == y).double().mean().item()
    assert evaluate_accuracy(net, batches) == pytest.approx(expected)
    assert net.modes == [False] * 3 and net.grad_enabled == [False] * 3


def test_train_ch3_tests_after_every_epoch_and_returns_the_history():
    net = ModeRecorder()
    updater = torch.optim.SGD(net.parameters(), lr=0.1)
    history = train_ch3(net, toy_batches(), toy_batches(seed=1), nn.CrossEntropyLoss(reduction="none"), 3, updater)
    assert len(history) == 3 and all(len(row) == 3 for row in history)
    assert all(isinstance(value, float) for row in history for value in row)
    assert net.modes == ([True] * 4 + [False] * 4) * 3


@pytest.mark.data
@pytest.mark.slow
def test_scratch_softmax_regression_reaches_70_percent(fashion_mnist):
    history, test_acc = train_scratch(num_epochs=10, lr=0.1, batch_size=256, seed=0)
    assert len(history) == 10
    assert test_acc > 0.7, f"test accuracy after 10 epochs: {test_acc:.3f}"
    assert history[-1][0] < history[0][0], "the training loss must fall"


@pytest.mark.data
@pytest.mark.slow
def test_concise_softmax_regression_reaches_70_percent(fashion_mnist):
    from datasets import load_data_fashion_mnist_fast
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.normal_(net[1].weight, std=0.01)
    train_iter, test_iter = load_data_fashion_mnist_fast(256, seed=0)
    history = train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 10,
                        torch.optim.SGD(net.parameters(), lr=0.1))
    assert evaluate_accuracy(net, test_iter) > 0.7
    assert history[-1][2] == pytest.approx(evaluate_accuracy(net, test_iter))


@pytest.mark.data
def test_make_train_prints_epochs_and_saves_the_curve(fashion_mnist, tmp_path):
    plot = tmp_path / "curve.png"
    run = subprocess.run([sys.executable, "-m", "grader.train", "--package", "solutions", "--epochs", "2",
                          "--plot", str(plot)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "epoch  train loss" in run.stdout and "    2  " in run.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.data
def test_make_train_on_the_untouched_stubs_says_what_is_missing(fashion_mnist):
    run = subprocess.run([sys.executable, "-m", "grader.train", "--package", "exercises", "--epochs", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "still a stub" in run.stderr and "Traceback" not in run.stderr
