"""Offline data sets as tensors: scikit-learn's bundled digits and breast_cancer, and generated MNIST-1D."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from uniq_core import runtime
from uniq_core.schema import check_choice, check_number

DATASETS = ("digits", "breast_cancer", "mnist1d")


@dataclass(frozen=True)
class Dataset:
    """A train/test split as tensors on one device.

    ``x_*`` are float32 (standardised with the training mean and standard deviation), ``y_*`` int64
    class labels. ``image_shape`` is ``(channels, height, width)`` for image data, else ``None``.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    image_shape: tuple[int, int, int] | None = None

    @property
    def n_features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))

    def as_images(self) -> "Dataset":
        """The same data shaped ``(N, C, H, W)`` for convolutional models."""
        if self.image_shape is None:
            raise ValueError(f"dataset={self.name!r} has no image shape; image data sets: 'digits'")
        shape = (-1, *self.image_shape)
        return Dataset(
            self.name,
            self.x_train.reshape(shape),
            self.y_train,
            self.x_test.reshape(shape),
            self.y_test,
            self.n_classes,
            self.image_shape,
        )


@lru_cache(maxsize=4)
def _raw(name: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int] | None]:
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64), (1, 8, 8)
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer()
        return bunch.data.astype(np.float64), bunch.target.astype(np.int64), None
    # MNIST-1D (Greydanus 2020), generated offline from its templates with the default arguments.
    from mnist1d.data import get_dataset_args, make_dataset

    generated = make_dataset(get_dataset_args())
    x = np.concatenate([generated["x"], generated["x_test"]]).astype(np.float64)
    y = np.concatenate([generated["y"], generated["y_test"]]).astype(np.int64)
    return x, y, None


def load(
    name: str = "digits",
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    test_fraction: float = 0.25,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Dataset:
    """Load ``name`` with a deterministic stratified split.

    Parameters
    ----------
    name : one of ``digits`` (1797 8×8 images), ``breast_cancer`` (569×30), ``mnist1d`` (5000×40).
    n_train, n_test : optional caps on the split sizes (first samples of the shuffled split).
    test_fraction : share of the data held out, in (0, 1).
    seed : split seed; the same seed always gives the same split.
    device : where the tensors live (``runtime.device`` resolves ``None``/``"auto"``).
    """
    check_choice("dataset", name, DATASETS)
    check_number("test_fraction", test_fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    for field, value in (("n_train", n_train), ("n_test", n_test)):
        if value is not None:
            check_number(field, value, low=1, integer=True)
    x, y, image_shape = _raw(name)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    for field, value, available in (("n_train", n_train, len(x_train)), ("n_test", n_test, len(x_test))):
        if value is not None and value > available:
            raise ValueError(
                f"{field}={value} exceeds the {available} examples of {name!r} in that split "
                f"(test_fraction={test_fraction}); allowed: 1 to {available}"
            )
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    target = runtime.device(device)

    def tensor(a: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
        return torch.as_tensor(a, dtype=dtype, device=target)

    return Dataset(
        name=name,
        x_train=tensor((x_train - mean) / std, torch.float32),
        y_train=tensor(y_train, torch.int64),
        x_test=tensor((x_test - mean) / std, torch.float32),
        y_test=tensor(y_test, torch.int64),
        n_classes=int(y.max()) + 1,
        image_shape=image_shape,
    )
