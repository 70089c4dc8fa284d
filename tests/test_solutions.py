"""The reference solutions against torch as the oracle, pitfall inputs included."""
import random

import pytest
import torch
import torch.nn.functional as F

from solutions.accuracy import accuracy
from solutions.cross_entropy import cross_entropy
from solutions.data_iter import data_iter
from solutions.sgd import sgd
from solutions.softmax import softmax
from solutions.squared_loss import linreg, squared_loss
from solutions.synthetic_data import synthetic_data

TOL = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    random.seed(0)


@pytest.mark.parametrize("shape", [(4, 10), (7, 7), (1, 3)], ids=["wide", "square", "one-row"])
def test_softmax_matches_torch(shape):
    X = torch.randn(shape)
    torch.testing.assert_close(softmax(X), torch.softmax(X.double(), dim=1).float(), **TOL)


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_survives_extreme_logits(scale):
    X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.5, -0.5]]) * scale
    result = softmax(X)
    assert torch.isfinite(result).all()
    torch.testing.assert_close(result, torch.softmax(X.double(), dim=1).float(), **TOL)


def test_softmax_square_batch_normalises_rows_not_columns():
    X = torch.tensor([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0], [1.0, 1.0, 9.0]])
    torch.testing.assert_close(softmax(X).sum(dim=1), torch.ones(3), **TOL)
    torch.testing.assert_close(softmax(X), torch.softmax(X, dim=1), **TOL)


def test_softmax_gradient_matches_autograd_of_torch_softmax():
    X = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(5, 4, dtype=torch.float64)
    (grad_ours,) = torch.autograd.grad((softmax(X) * weights).sum(), X)
    (grad_torch,) = torch.autograd.grad((torch.softmax(X, dim=1) * weights).sum(), X)
    torch.testing.assert_close(grad_ours, grad_torch)


def test_cross_entropy_matches_torch_on_softmax_probabilities():
    logits, y = torch.randn(6, 5, dtype=torch.float64), torch.tensor([0, 4, 2, 2, 1, 3])
    expected = F.cross_entropy(logits, y, reduction="none")
    torch.testing.assert_close(cross_entropy(torch.softmax(logits, dim=1), y), expected)


def test_cross_entropy_is_finite_for_a_zero_probability():
    y_hat = torch.tensor([[0.0, 1.0], [0.5, 0.5]])
    loss = cross_entropy(y_hat, torch.tensor([0, 1]))
    assert loss.shape == (2,) and torch.isfinite(loss).all()
    assert loss[0] > 50, "a zero probability of the true class must cost a large loss"
    torch.testing.assert_close(loss[1], torch.tensor(0.6931472), **TOL)


def test_cross_entropy_picks_one_entry_per_row():
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.2, 0.7, 0.1]])
    loss = cross_entropy(y_hat, torch.tensor([2, 0, 1]))
    torch.testing.assert_close(loss, -torch.log(torch.tensor([0.6, 0.3, 0.7])), **TOL)


def test_squared_loss_is_unreduced_and_matches_mse():
    y_hat, y = torch.randn(8, 1), torch.randn(8, 1)
    expected = F.mse_loss(y_hat, y, reduction="none") / 2
    torch.testing.assert_close(squared_loss(y_hat, y), expected, **TOL)


def test_squared_loss_reshapes_flat_labels_instead_of_broadcasting():
    y_hat, y = torch.randn(8, 1), torch.randn(8)
    loss = squared_loss(y_hat, y)
    assert loss.shape == (8, 1), f"(n,) labels against (n,1) predictions gave shape {tuple(loss.shape)}"
    torch.testing.assert_close(loss, (y_hat - y[:, None]) ** 2 / 2, **TOL)


def test_sgd_matches_torch_optim_sgd_and_zeroes_grads():
    w = torch.randn(3, 1, requires_grad=True)
    w_torch = w.detach().clone().requires_grad_(True)
    X, y, batch_size, lr = torch.randn(10, 3), torch.randn(10, 1), 10, 0.3
    squared_loss(linreg(X, w, 0.0), y).sum().backward()
    (((X @ w_torch) - y) ** 2 / 2).sum().div(batch_size).backward()
    storage = w.data_ptr()
    sgd([w], lr, batch_size)
    torch.optim.SGD([w_torch], lr=lr).step()
    torch.testing.assert_close(w.detach(), w_torch.detach(), **TOL)
    assert w.data_ptr() == storage and w.is_leaf and w.requires_grad
    assert torch.count_nonzero(w.grad) == 0


def test_accuracy_counts_correct_predictions_from_scores_and_indices():
    y_hat = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    y = torch.tensor([1, 0, 0, 1])
    assert accuracy(y_hat, y) == 2.0 and type(accuracy(y_hat, y)) is float
    assert accuracy(torch.tensor([1, 1, 0, 0]), y) == 2.0
    assert accuracy(torch.tensor([[1], [0], [1], [1]]), y) == 3.0


def test_synthetic_data_shapes_and_statistics():
    w, b = torch.tensor([2.0, -3.4]), 4.2
    X, y = synthetic_data(w, b, 5000)
    assert X.shape == (5000, 2) and y.shape == (5000, 1)
    residual = (y - (X @ w + b).reshape(-1, 1)).double()
    assert abs(residual.mean()) < 1e-3 and abs(residual.std() - 0.01) < 1e-3
    torch.testing.assert_close(X.double().mean(0), torch.zeros(2, dtype=torch.float64), atol=0.05, rtol=0)
    design = torch.cat([X, torch.ones(5000, 1)], dim=1).double()
    solution = torch.linalg.lstsq(design, y.double()).solution.flatten()
    torch.testing.assert_close(solution, torch.tensor([2.0, -3.4, 4.2], dtype=torch.float64), atol=1e-3, rtol=0)


def test_data_iter_covers_every_example_once_aligned_and_shuffled():
    features = torch.arange(23.0).reshape(23, 1) * torch.ones(23, 3)
    labels = torch.arange(23.0).reshape(23, 1) * 10
    batches = list(data_iter(5, features, labels))
    assert [len(X) for X, _ in batches] == [5, 5, 5, 5, 3]
    order = torch.cat([X[:, 0] for X, _ in batches])
    assert sorted(order.tolist()) == list(range(23))
    assert order.tolist() != list(range(23)), "examples must come out shuffled"
    for X, y in batches:
        torch.testing.assert_close(X[:, 0:1] * 10, y)
