"""torchvision, which d2l 3.5 reads Fashion-MNIST with: imported once, a torch mismatch said in one sentence."""

from __future__ import annotations

from importlib import metadata

import torch


class EnvironmentMismatch(ImportError):
    """torchvision cannot be imported against the installed torch (d2l 3.5 needs both)."""


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def torchvision():
    """Import torchvision, turning a torch/torchvision mismatch into EnvironmentMismatch (d2l 3.5)."""
    try:
        import torchvision as tv
        import torchvision.datasets
        import torchvision.datasets.utils
        import torchvision.transforms
    except Exception as exc:
        raise EnvironmentMismatch(
            f"torchvision {_version('torchvision')} cannot load against torch {torch.__version__} "
            f"(they must be a matched pair; the import failed with: {exc}), so rebuild the "
            f"environment from the lock with `rm -rf .venv && make test`.") from exc
    return tv
