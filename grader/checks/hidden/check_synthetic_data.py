"""Hidden checks of synthetic_data (d2l 3.2.1): the statistics of X and of the noise."""
import torch

from grader.checks.check_synthetic_data import draw, expect_shape
from grader.harness import CheckFailed, check, describe, show

N = 20_000  # large enough that every tolerance below is at least 7 standard errors wide


def _outside(name, got, expected, tol, shown, advice):
    if not abs(got - expected) <= tol:
        raise CheckFailed(f"{shown}: {name} is {got:.4g}; expected {expected:g} ± {tol:g}. {advice}")


@check("synthetic_data/statistics")
def check_statistics(stub, rng):
    """X ~ N(0, 1), noise std 0.01, and least squares on (X, y) recovers w and b (d2l 3.2.1)."""
    w, b, X, y, shown = draw(stub, rng, N, 3)
    expect_shape("X", X, (N, 3), shown)
    if type(y) is not torch.Tensor or y.numel() != N or not X.is_floating_point() or not y.is_floating_point():
        raise CheckFailed(f"{shown} returned X as {describe(X)} and y as {describe(y)}; expected floating "
                          f"tensors with {N} rows.")
    X, y = X.double(), y.double().reshape(-1)
    if not (torch.isfinite(X).all() and torch.isfinite(y).all()):
        raise CheckFailed(f"{shown} returned X as {describe(X)} and y as {describe(y)}; expected finite values.")
    advice = "Draw X with torch.normal(0, 1, (num_examples, len(w)))."
    for j in range(3):
        _outside(f"the mean of column {j} of X", float(X[:, j].mean()), 0.0, 0.05, shown, advice)
        _outside(f"the standard deviation of column {j} of X", float(X[:, j].std()), 1.0, 0.05, shown, advice)
    _outside("the fraction of entries of X within [-1, 1]", float((X.abs() <= 1).double().mean()),
             0.6827, 0.02, shown, "X must be normally distributed (not uniform).")
    design = torch.cat([X, torch.ones(N, 1, dtype=torch.float64)], dim=1)
    fit = torch.linalg.lstsq(design, y.reshape(-1, 1)).solution.reshape(-1)
    noise = float((y - design @ fit).std())
    _outside("the standard deviation of the noise (y - X w - b, fitted)", noise, 0.01, 0.001, shown,
             "y must be X w + b plus noise drawn with torch.normal(0, 0.01, y.shape).")
    expected = torch.cat([w.double(), torch.tensor([b], dtype=torch.float64)])
    if not (fit - expected).abs().max() <= 1e-3:
        raise CheckFailed(f"{shown}: least squares on the returned X and y gives w = {show(fit[:3])}, "
                          f"b = {fit[3].item():.4g}; expected w = {show(expected[:3])}, b = {b:g} (±0.001). "
                          f"y must be X w + b plus small noise, row by row.")
