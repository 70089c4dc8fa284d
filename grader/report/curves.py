"""The training curves as a PNG: train loss and test accuracy per epoch, drawn by the grader."""
import io
import math


def curves_png(report):
    """Train loss and test accuracy per epoch of every curve as PNG bytes; None without curves."""
    if not report.curves:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
    figure = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    loss_axes, acc_axes = figure.subplots(1, 2)
    for curve in report.curves:
        label = str(curve.label).replace("$", r"\$")
        for axes, values in ((loss_axes, curve.train_loss), (acc_axes, curve.test_acc)):
            ys = [_plottable(value) for value in values]
            axes.plot(range(1, len(ys) + 1), ys, marker="o", label=label)
    for axes, title in ((loss_axes, "train loss"), (acc_axes, "test accuracy")):
        axes.set(title=title, xlabel="epoch", ylabel=title.split()[-1])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    figure.clear()
    return buffer.getvalue()


def _plottable(value):
    """A float for matplotlib; NaN (a gap in the line) for anything non-finite."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan
