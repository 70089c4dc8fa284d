"""Records the calls of torch's own softmax and cross-entropy while a student function runs (d2l 3.6).

Installed before a student module is imported, so that a name imported from torch (``from
torch.nn.functional import softmax as sm``) is the recording one too. Outside a recording the
wrappers only pass the call on. The grader judges from-scratch checks on what was recorded.
"""
import contextlib
import functools

import torch

FUNCTIONS = {
    torch: ("softmax", "log_softmax", "logsumexp"),
    torch.nn.functional: ("softmax", "log_softmax", "cross_entropy", "nll_loss"),
    torch.special: ("softmax", "log_softmax", "logsumexp"),
    torch.Tensor: ("softmax", "log_softmax", "logsumexp"),
}
MODULES = (torch.nn.Softmax, torch.nn.LogSoftmax, torch.nn.CrossEntropyLoss, torch.nn.NLLLoss)
_used = None   # the names recorded during the current recording, or None outside one


def _recorder(name, original):
    @functools.wraps(original)
    def recorded(*args, **kwargs):
        if _used is not None:
            _used.add(name)
        return original(*args, **kwargs)
    return recorded


def install():
    """Wrap each library function once; calls are recorded only inside ``recording()``."""
    if getattr(torch.softmax, "_kit_recorded", False):
        return
    for owner, names in FUNCTIONS.items():
        prefix = {torch: "torch", torch.nn.functional: "F", torch.special: "torch.special"}.get(owner, "Tensor")
        for name in names:
            wrapper = _recorder(f"{prefix}.{name}", getattr(owner, name))
            wrapper._kit_recorded = True
            setattr(owner, name, wrapper)
    for module in MODULES:
        module.forward = _recorder(f"nn.{module.__name__}", module.forward)


@contextlib.contextmanager
def recording():
    """Record, into the set it yields, every library softmax or cross-entropy called in the block."""
    global _used
    _used = used = set()
    try:
        yield used
    finally:
        _used = None
