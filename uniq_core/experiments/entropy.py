"""Chapter 2: is training irreversible? Entropy production of SGD and Langevin dynamics near a minimum.

A network is trained to a minimum of cross-entropy + (weight_decay/2)·‖θ‖² by full-batch gradient descent.
There, with H the Hessian and Σ_g the covariance of a minibatch gradient, SGD is linearised as the AR(1)
chain F = I − ηH, C = η²Σ_g (:func:`uniq_core.thermo.sgd_entropy_production`), restricted to the top-k
Hessian directions where ηH < 2. Langevin dynamics (SGLD) replaces the minibatch noise by isotropic
Gaussian noise of the same total variance, which commutes with H: exactly reversible in the linear model.
The real, nonlinear dynamics are then run from the minimum, projected on the same subspace, and their
entropy production estimated from a fitted AR(1) chain (:func:`uniq_core.thermo.ar1_entropy_estimate`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch.func import functional_call, grad, vmap
from torch.nn import functional as F

from uniq_core import data, models, runtime, thermo
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_widths


@dataclass(frozen=True)
class EntropyConfig(ConfigBase):
    """Network, minimum and sampling settings; ``lr`` and ``batch_size`` are those of the SGD being probed."""

    dataset: str = "digits"
    n_train: int = 512
    widths: tuple[int, ...] = (16,)
    weight_decay: float = 1e-2
    descent_steps: int = 3000
    descent_lr: float = 0.5
    lr: float = 0.05
    batch_size: int = 32
    subspace: int = 8
    chains: int = 32
    sample_steps: int = 1500
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, data.DATASETS)
        check_number("n_train", self.n_train, low=32, high=5000, integer=True)
        check_widths("widths", self.widths, high=256)
        check_number("weight_decay", self.weight_decay, low=0.0, high=1.0, low_inclusive=False)
        check_number("descent_steps", self.descent_steps, low=1, integer=True)
        check_number("descent_lr", self.descent_lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=self.n_train, integer=True)
        check_number("subspace", self.subspace, low=1, high=64, integer=True)
        check_number("chains", self.chains, low=1, high=4096, integer=True)
        check_number("sample_steps", self.sample_steps, low=100, integer=True)
        check_number("seed", self.seed, low=0, integer=True)

    @classmethod
    def quick(cls) -> "EntropyConfig":
        return cls()

    @classmethod
    def full(cls) -> "EntropyConfig":
        return cls(n_train=1347, widths=(32,), subspace=16, chains=128, sample_steps=20_000)


@dataclass
class EntropyResult(ResultBase):
    """``hessian_eigenvalues`` (k,) of the subspace; ``gradient_norm`` at the minimum; per step, the exact
    linearised entropy production of SGD (``sgd_exact``) and of Langevin noise (``langevin_exact``, zero
    up to rounding), and the estimates from the simulated nonlinear dynamics (``sgd_estimate``,
    ``langevin_estimate``); ``commutator`` = ‖HΣ − ΣH‖/(‖H‖‖Σ‖) in the subspace, the normalised measure of
    how far the minibatch noise is from commuting with the Hessian."""

    hessian_eigenvalues: np.ndarray
    gradient_norm: float
    commutator: float
    sgd_exact: float
    langevin_exact: float
    sgd_estimate: float
    langevin_estimate: float
    train_accuracy: float


def _flat_loss(model: torch.nn.Module, weight_decay: float):
    def per_example(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, models.unflatten(model, theta), (x[None],))
        return F.cross_entropy(out, y[None]) + 0.5 * weight_decay * theta.pow(2).sum()

    def full(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, models.unflatten(model, theta), (x,))
        return F.cross_entropy(out, y) + 0.5 * weight_decay * theta.pow(2).sum()

    return per_example, full


def run_entropy(config: EntropyConfig, *, progress: bool = True, use_cache: bool = True) -> EntropyResult:
    """Minimum, Hessian and gradient covariance, exact linearised rates, simulated estimates."""

    def compute() -> EntropyResult:
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
        runtime.seed_everything(config.seed)
        model = models.MLP(dataset.n_features, config.widths, dataset.n_classes).double()
        x, y = dataset.x_train.double(), dataset.y_train
        per_example, full = _flat_loss(copy.deepcopy(model), config.weight_decay)
        gradient = grad(full)
        theta = models.flat_parameters(model)
        for _ in runtime.progress_bar(range(config.descent_steps), "descent to the minimum", progress):
            theta = theta - config.descent_lr * gradient(theta, x, y)
        hessian = torch.func.hessian(full)(theta, x, y)
        hessian = ((hessian + hessian.T) / 2).numpy()
        per_example_grads = vmap(grad(per_example), in_dims=(None, 0, 0))(theta, x, y).numpy()
        noise = np.cov(per_example_grads, rowvar=False) / config.batch_size  # covariance of a minibatch mean
        eigenvalues, vectors = np.linalg.eigh(hessian)
        order = np.argsort(eigenvalues)[::-1]
        stable = [i for i in order if 0 < eigenvalues[i] < 2 / config.lr][: config.subspace]
        basis = vectors[:, stable]
        h = eigenvalues[stable]
        noise_k = basis.T @ noise @ basis
        H_k = np.diag(h)
        commutator = np.linalg.norm(H_k @ noise_k - noise_k @ H_k) / (np.linalg.norm(H_k) * np.linalg.norm(noise_k))
        sgd_exact = thermo.sgd_entropy_production(H_k, noise_k, config.lr)
        isotropic = np.trace(noise_k) / len(h) * np.eye(len(h))
        langevin_exact = thermo.sgd_entropy_production(H_k, isotropic, config.lr)

        # nonlinear dynamics from the minimum: independent chains in one batched step, projected on the subspace
        generator = torch.Generator().manual_seed(config.seed + 1)
        basis_t = torch.as_tensor(basis)
        temperature_scale = float(np.sqrt(np.trace(noise) / noise.shape[0]))
        minibatch_gradient = vmap(gradient, in_dims=(0, 0, 0))
        full_gradient = vmap(gradient, in_dims=(0, None, None))
        shape = (config.chains, config.sample_steps, len(h))
        samples = {"sgd": np.empty(shape), "langevin": np.empty(shape)}
        for kind in samples:
            state = theta.expand(config.chains, -1).clone()
            for t in runtime.progress_bar(range(config.sample_steps), f"sampling {kind}", progress):
                if kind == "sgd":
                    index = torch.randint(0, x.shape[0], (config.chains, config.batch_size), generator=generator)
                    step = minibatch_gradient(state, x[index], y[index])
                else:
                    step = full_gradient(state, x, y) + temperature_scale * torch.randn(
                        state.shape, generator=generator, dtype=state.dtype)
                state = state - config.lr * step
                samples[kind][:, t] = ((state - theta) @ basis_t).numpy()
        train_accuracy = float((functional_call(model, models.unflatten(model, theta), (x,)).argmax(-1) == y).double().mean())
        return EntropyResult(
            hessian_eigenvalues=h,
            gradient_norm=float(gradient(theta, x, y).norm()),
            commutator=float(commutator),
            sgd_exact=sgd_exact,
            langevin_exact=langevin_exact,
            sgd_estimate=thermo.ar1_entropy_estimate(samples["sgd"]),
            langevin_estimate=thermo.ar1_entropy_estimate(samples["langevin"]),
            train_accuracy=train_accuracy,
        )

    return runtime.cached(compute, config, EntropyResult, use_cache=use_cache)
