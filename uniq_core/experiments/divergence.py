"""Introduction: train K perturbed copies of one network and measure how far apart they drift."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from uniq_core import data, models, replicas, runtime
from uniq_core.stats import log_t_interval
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_widths


@dataclass(frozen=True)
class Config(ConfigBase):
    """What to train and how: an MLP on an offline data set, K replicas, SGD with momentum.

    ``perturbation`` is the relative size of the initial perturbation of each parameter tensor;
    ``independent_order`` gives every replica its own minibatch order (adds SGD noise on top).
    """

    dataset: str = "digits"
    widths: tuple[int, ...] = (64,)
    activation: str = "relu"
    n_replicas: int = 9
    perturbation: float = 1e-3
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 64
    epochs: float = 8.0
    independent_order: bool = False
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, data.DATASETS)
        check_widths("widths", self.widths)
        check_choice("activation", self.activation, models.ACTIVATIONS)
        check_number("n_replicas", self.n_replicas, low=2, high=1024, integer=True)
        check_number("perturbation", self.perturbation, low=0.0, high=1.0, low_inclusive=False)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=1024, integer=True)
        check_number("epochs", self.epochs, low=0.0, high=1000.0, low_inclusive=False)
        check_choice("independent_order", self.independent_order, (False, True))
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))

    @classmethod
    def quick(cls) -> "Config":
        return cls()

    @classmethod
    def full(cls) -> "Config":
        return cls(widths=(128, 128), n_replicas=17, epochs=40.0, device="auto")


@dataclass
class Result(ResultBase):
    """Distances between each perturbed replica and the reference over training, and their summary.

    ``growth`` (K−1,) is final distance / initial distance for each perturbed replica (NaN if it
    diverged); ``growth_geometric_mean`` and its 95% interval ``growth_interval`` (a t-interval on
    log growth over healthy replicas) summarise it. ``n_diverged`` counts flagged replicas.
    """

    steps: np.ndarray
    epochs: np.ndarray
    distance: np.ndarray
    loss: np.ndarray
    growth: np.ndarray
    growth_geometric_mean: float
    growth_interval: np.ndarray
    test_accuracy: np.ndarray
    n_diverged: int
    wall_time: float


def run(config: Config, *, progress: bool = True, use_cache: bool = True) -> Result:
    """Train ``config.n_replicas`` copies (copy 0 unperturbed) and summarise their divergence."""

    def compute() -> Result:
        device = runtime.device(config.device)
        dataset = data.load(config.dataset, seed=config.seed, device=device)
        runtime.seed_everything(config.seed)
        model = models.MLP(dataset.n_features, config.widths, dataset.n_classes, config.activation)
        per_epoch = dataset.x_train.shape[0] // config.batch_size
        n_steps = replicas.steps_for_epochs(dataset.x_train.shape[0], config.batch_size, config.epochs)
        record = replicas.train_replicas(
            model,
            dataset,
            n_replicas=config.n_replicas,
            perturbation=config.perturbation,
            lr=config.lr,
            momentum=config.momentum,
            batch_size=config.batch_size,
            n_steps=n_steps,
            independent_order=config.independent_order,
            seed=config.seed,
            record_every=max(1, n_steps // 200),
            device=device,
            progress=progress,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = record.distance[1:, -1] / record.distance[1:, 0]
        centre, interval = log_t_interval(growth)
        return Result(
            steps=record.steps,
            epochs=record.steps / per_epoch,
            distance=record.distance,
            loss=record.loss,
            growth=growth,
            growth_geometric_mean=centre,
            growth_interval=interval,
            test_accuracy=record.test_accuracy,
            n_diverged=int(record.diverged.sum()),
            wall_time=record.wall_time,
        )

    return runtime.cached(compute, config, Result, use_cache=use_cache)
