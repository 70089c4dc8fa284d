"""Hidden checks of synthetic_data (d2l 3.2.1): the statistics of X and of the noise."""
import torch

from grader import messages
from grader.checks.check_synthetic_data import draw, expect_shape
from grader.harness import CheckFailed, check, describe, show

N = 20_000  # large enough that every tolerance below is at least 7 standard errors wide


def _outside(name, got, expected, tol, shown, advice):
    if not abs(got - expected) <= tol:
        raise CheckFailed(messages.text("evidence.hidden.synthetic_data.outside", call=shown, name=name,
                                        got=f"{got:.4g}", expected=f"{expected:g}", tol=f"{tol:g}", advice=advice))


@check("synthetic_data/statistics")
def check_statistics(stub, rng):
    """X ~ N(0, 1), noise std 0.01, and least squares on (X, y) recovers w and b (d2l 3.2.1)."""
    w, b, X, y, shown = draw(stub, rng, N, 3)
    expect_shape("X", X, (N, 3), shown)
    if type(y) is not torch.Tensor or y.numel() != N or not X.is_floating_point() or not y.is_floating_point():
        raise CheckFailed(messages.text("evidence.hidden.synthetic_data.not-float", call=shown, X=describe(X),
                                        y=describe(y), n=N))
    X, y = X.double(), y.double().reshape(-1)
    if not (torch.isfinite(X).all() and torch.isfinite(y).all()):
        raise CheckFailed(messages.text("evidence.hidden.synthetic_data.not-finite", call=shown, X=describe(X),
                                        y=describe(y)))
    advice = messages.text("evidence.hidden.synthetic_data.draw-normal")
    for j in range(3):
        _outside(messages.text("evidence.hidden.synthetic_data.column-mean", j=j), float(X[:, j].mean()), 0.0,
                 0.05, shown, advice)
        _outside(messages.text("evidence.hidden.synthetic_data.column-std", j=j), float(X[:, j].std()), 1.0,
                 0.05, shown, advice)
    _outside(messages.text("evidence.hidden.synthetic_data.within-one"), float((X.abs() <= 1).double().mean()),
             0.6827, 0.02, shown, messages.text("evidence.hidden.synthetic_data.not-uniform"))
    design = torch.cat([X, torch.ones(N, 1, dtype=torch.float64)], dim=1)
    fit = torch.linalg.lstsq(design, y.reshape(-1, 1)).solution.reshape(-1)
    noise = float((y - design @ fit).std())
    _outside(messages.text("evidence.hidden.synthetic_data.noise-std"), noise, 0.01, 0.001, shown,
             messages.text("evidence.hidden.synthetic_data.noise-advice"))
    expected = torch.cat([w.double(), torch.tensor([b], dtype=torch.float64)])
    if not (fit - expected).abs().max() <= 1e-3:
        raise CheckFailed(messages.text("evidence.hidden.synthetic_data.least-squares", call=shown, w=show(fit[:3]),
                                        b=f"{fit[3].item():.4g}", expected_w=show(expected[:3]), expected_b=f"{b:g}"))
