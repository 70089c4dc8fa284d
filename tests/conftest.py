"""Shared fixtures of the kit's test suite."""
import os

import pytest


@pytest.fixture(scope="session")
def fashion_mnist():
    """The torchvision root of the verified real Fashion-MNIST; skips locally, fails in CI, when absent."""
    from datasets import DatasetUnavailable, locate_fashion_mnist
    try:
        return locate_fashion_mnist()
    except DatasetUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"Fashion-MNIST is required in CI:\n{error}")
        pytest.skip(f"Fashion-MNIST unavailable:\n{error}")
