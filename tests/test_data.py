import numpy as np
import pytest
import torch

from uniq_core import data


@pytest.mark.parametrize("name, n_features, n_classes", [("digits", 64, 10), ("breast_cancer", 30, 2)])
def test_bundled_sets_split_and_standardise(name, n_features, n_classes):
    dataset = data.load(name)
    assert dataset.x_train.shape[1] == n_features and dataset.n_classes == n_classes
    assert dataset.x_train.dtype == torch.float32 and dataset.y_train.dtype == torch.int64
    total = dataset.x_train.shape[0] + dataset.x_test.shape[0]
    assert dataset.x_test.shape[0] == pytest.approx(0.25 * total, abs=1)
    # standardised with training statistics: zero mean, unit (or zero, for constant pixels) std
    assert dataset.x_train.mean(0).abs().max() < 1e-5
    std = dataset.x_train.std(0, unbiased=False)
    assert torch.all(((std - 1).abs() < 1e-4) | (std < 1e-6))
    # stratified: class proportions agree between the splits
    train = np.bincount(dataset.y_train.numpy(), minlength=n_classes) / dataset.y_train.numel()
    test = np.bincount(dataset.y_test.numpy(), minlength=n_classes) / dataset.y_test.numel()
    assert np.abs(train - test).max() < 0.02


def test_split_is_deterministic_and_seeded():
    a, b, c = data.load("digits", seed=1), data.load("digits", seed=1), data.load("digits", seed=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_train, c.y_train)


def test_caps_and_images():
    dataset = data.load("digits", n_train=100, n_test=50)
    assert dataset.x_train.shape == (100, 64) and dataset.x_test.shape == (50, 64)
    images = dataset.as_images()
    assert images.x_train.shape == (100, 1, 8, 8)
    with pytest.raises(ValueError, match="no image shape"):
        data.load("breast_cancer").as_images()


def test_mnist1d_is_generated_offline():
    dataset = data.load("mnist1d", n_train=200)
    assert dataset.x_train.shape == (200, 40) and dataset.n_classes == 10


@pytest.mark.parametrize(
    "kwargs, field",
    [(dict(name="cifar"), "dataset"), (dict(test_fraction=1.0), "test_fraction"), (dict(n_train=0), "n_train"),
     (dict(n_train=1500), "n_train=1500 exceeds the 1347 examples")],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        data.load(**kwargs)
