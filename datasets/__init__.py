"""Fashion-MNIST for the d2l linear networks chapter (3.5): locate, verify, cache and load it."""

from .fashion_mnist import (
    TensorBatches,
    fashion_mnist_tensors,
    fashion_mnist_uint8,
    get_dataloader_workers,
    get_fashion_mnist_labels,
    load_data_fashion_mnist,
    load_data_fashion_mnist_fast,
    show_images,
)
from .routes import DatasetUnavailable, cache_dir, locate_fashion_mnist
from .vision import EnvironmentMismatch

__all__ = [
    "DatasetUnavailable",
    "EnvironmentMismatch",
    "TensorBatches",
    "cache_dir",
    "fashion_mnist_tensors",
    "fashion_mnist_uint8",
    "get_dataloader_workers",
    "get_fashion_mnist_labels",
    "load_data_fashion_mnist",
    "load_data_fashion_mnist_fast",
    "locate_fashion_mnist",
    "show_images",
]
