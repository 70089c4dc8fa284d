"""Buggy softmax submissions (d2l 3.6.2)."""
from bugs import Bug

ALL = ("softmax/value", "softmax/from-scratch", "softmax/overflow", "softmax/underflow", "softmax/keepdim",
       "softmax/gradient", "softmax/device")

BUGS = [
    Bug("softmax/value", "softmax", "X_exp / X_exp.sum(dim=1, keepdim=True)", "X_exp / X_exp.sum()",
        ALL, "returned"),
    Bug("softmax/overflow", "softmax", "torch.exp(X - X.max(dim=1, keepdim=True).values)", "torch.exp(X)",
        ("softmax/overflow", "softmax/underflow"), "NaN"),
    Bug("softmax/underflow", "softmax", "torch.exp(X - X.max(dim=1, keepdim=True).values)",
        "torch.exp(X - X.max(dim=1, keepdim=True).values.clamp(min=0))",
        ("softmax/underflow",), "NaN"),
    Bug("softmax/keepdim", "softmax", "X_exp / X_exp.sum(dim=1, keepdim=True)", "X_exp / X_exp.sum(dim=1)",
        ALL, "5x5"),
    Bug("softmax/gradient", "softmax", "X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)",
        "X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values).detach()",
        ("softmax/gradient",), "gradient"),
    Bug("softmax/from-scratch", "softmax", "X_exp / X_exp.sum(dim=1, keepdim=True)",
        "torch.nn.functional.softmax(X, dim=1)", ("softmax/from-scratch",), "called F.softmax"),
    Bug("softmax/from-scratch", "softmax", "return X_exp / X_exp.sum(dim=1, keepdim=True)",
        "return X.softmax(1)", ("softmax/from-scratch",), "called Tensor.softmax"),
    Bug("softmax/device", "softmax", "X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)",
        "X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values) + torch.zeros(X.shape)",
        ("softmax/device",), "meta"),
]
