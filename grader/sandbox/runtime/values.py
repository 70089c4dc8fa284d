"""Small helpers of the worker: seeding every random source, and copying values out as plain data."""
import random

import torch


def seed(seed):
    """Seed Python's and torch's random numbers, for calls that draw them (data_iter, synthetic_data)."""
    random.seed(seed)
    torch.manual_seed(seed)


def plain(value):
    """``value`` with every tensor detached and copied, lists and tuples as lists."""
    if type(value) is torch.Tensor:
        return value.detach().clone()
    if type(value) in (list, tuple):
        return [plain(item) for item in value]
    return value
