"""torchvision, which d2l 3.5 reads Fashion-MNIST with: imported once, a torch mismatch said in one sentence."""

from __future__ import annotations

from importlib import metadata

import torch


class EnvironmentMismatch(ImportError):
    """torchvision cannot be imported against the installed torch (d2l 3.5 needs both); ``versions`` holds
    (torchvision's, torch's, the import's error) where they are known."""

    def __init__(self, message, versions=()):
        super().__init__(message)
        self.versions = tuple(versions)


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
        versions = (_version("torchvision"), torch.__version__, str(exc))
        raise EnvironmentMismatch(
            f"torchvision {versions[0]} cannot load against torch {versions[1]} "
            f"(they must be a matched pair; the import failed with: {exc}), so rebuild the "
            f"environment from the lock with `rm -rf .venv && make test`.", versions) from exc
    return tv
