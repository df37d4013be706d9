"""Data: reading IDX files, loading Fashion-MNIST, and cutting datasets into minibatches.

- ``idx.py``: the IDX file format (``read_idx``, ``write_idx``), with strict checks.
- ``fashion_mnist.py``: finding, downloading, verifying and loading Fashion-MNIST.
- ``dataset.py``: ``ArrayDataset``, ``DataLoader`` and the book's ``synthetic_data``.
"""
from tinygrad_sm.data.dataset import ArrayDataset, DataLoader, Dataset, synthetic_data
from tinygrad_sm.data.fashion_mnist import (
    TEXT_LABELS,
    ChecksumError,
    FashionMNIST,
    FashionMNISTError,
    FashionMNISTNotFoundError,
    load_fashion_mnist,
    resize_images,
    text_labels,
)
from tinygrad_sm.data.idx import IDXError, read_idx, write_idx

__all__ = [
    "ArrayDataset", "DataLoader", "Dataset", "synthetic_data",
    "TEXT_LABELS", "ChecksumError", "FashionMNIST", "FashionMNISTError", "FashionMNISTNotFoundError",
    "load_fashion_mnist", "resize_images", "text_labels",
    "IDXError", "read_idx", "write_idx",
]
