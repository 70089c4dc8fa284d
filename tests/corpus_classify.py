"""Buggy cross_entropy (d2l 3.6.4) and accuracy (d2l 3.6.5) submissions."""
from bugs import Bug

PICK = "picked = y_hat[torch.arange(len(y_hat), device=y_hat.device), y]"
LOG = "return -torch.log(picked.clamp(min=torch.finfo(y_hat.dtype).tiny))"
ARGMAX = "if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:\n        y_hat = y_hat.argmax(axis=1)"
COUNT = "    cmp = y_hat.type(y.dtype).reshape(-1) == y.reshape(-1)\n    return float(cmp.type(y.dtype).sum())"
CE = ("cross_entropy/value", "cross_entropy/from-scratch", "cross_entropy/zero-prob", "cross_entropy/indexing")

BUGS = [
    Bug("cross_entropy/value", "cross_entropy", LOG,
        "return torch.log(picked.clamp(min=torch.finfo(y_hat.dtype).tiny))",
        CE + ("cross_entropy/device",), "returned [-"),
    Bug("cross_entropy/value", "cross_entropy", LOG,
        "return -torch.log(picked.clamp(min=torch.finfo(y_hat.dtype).tiny)).sum()",
        CE + ("cross_entropy/device",), "expected one loss per example"),
    Bug("cross_entropy/zero-prob", "cross_entropy", LOG, "return -torch.log(picked)",
        ("cross_entropy/zero-prob",), "3 inf"),
    Bug("cross_entropy/zero-prob", "cross_entropy", LOG, "return -torch.log(picked + 1e-50)",
        ("cross_entropy/zero-prob",), "inf"),
    Bug("cross_entropy/indexing", "cross_entropy", PICK, "picked = y_hat[:, y]",
        CE + ("cross_entropy/device",), "shape (5, 5)"),
    Bug("cross_entropy/indexing", "cross_entropy", PICK, "picked = y_hat.gather(1, y.reshape(-1, 1))",
        ("cross_entropy/indexing",), "a column"),
    Bug("cross_entropy/indexing", "cross_entropy", PICK,
        "picked = y_hat[y, torch.arange(len(y_hat), device=y_hat.device)]", CE + ("cross_entropy/device",),
        "5x5 batch"),
    Bug("cross_entropy/from-scratch", "cross_entropy", LOG,
        "return torch.nn.functional.nll_loss(torch.log(y_hat.clamp(min=1e-30)), y, reduction='none')",
        ("cross_entropy/from-scratch",), "called F.nll_loss"),
    Bug("cross_entropy/device", "cross_entropy", PICK, "picked = (torch.eye(y_hat.shape[1])[y] * y_hat).sum(dim=1)",
        ("cross_entropy/device",), "not on the expected device"),
    Bug("cross_entropy/device", "cross_entropy", PICK,
        "picked = torch.tensor([y_hat[i, y[i]] for i in range(len(y_hat))])",
        ("cross_entropy/device",), "meta"),
    Bug("accuracy/count", "accuracy", "return float(cmp.type(y.dtype).sum())", "return float(cmp.float().mean())",
        ("accuracy/count", "accuracy/class-indices", "accuracy/device"), "returned 0."),
    Bug("accuracy/count", "accuracy", "return float(cmp.type(y.dtype).sum())", "return cmp.type(y.dtype).sum()",
        ("accuracy/count", "accuracy/class-indices", "accuracy/device"), "tensor of shape ()"),
    Bug("accuracy/class-indices", "accuracy", ARGMAX, "y_hat = y_hat.argmax(axis=1)",
        ("accuracy/class-indices",), "Dimension out of range"),
    Bug("accuracy/class-indices", "accuracy", "if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:",
        "if y_hat.shape[1] > 1:", ("accuracy/class-indices",), "IndexError"),
    Bug("accuracy/device", "accuracy", "y_hat = y_hat.argmax(axis=1)", "y_hat = y_hat.argmax(axis=1).cpu()",
        ("accuracy/device",), "Cannot copy out of meta"),
    Bug("accuracy/device", "accuracy", COUNT,
        "    cmp = y_hat.numpy().reshape(-1) == y.numpy().reshape(-1)\n    return float(cmp.sum())",
        ("accuracy/device",), "numpy"),
]
