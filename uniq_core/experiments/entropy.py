"""Chapter 2: is training irreversible? Entropy production of SGD and Langevin dynamics.

A small network is trained on real data with the loss L(θ) = cross-entropy + (weight_decay/2)·‖θ‖².
Near a point θ with Hessian H and per-example gradient covariance Σ, one SGD step with batch size B, step η
and added Gaussian heat at temperature T is linearised as the AR(1) chain

    δ' = (I − ηH) δ + ξ,   ξ ~ N(0, η² Σ/B + 2ηT·I),

restricted to the top-k Hessian directions where 0 < ηh < 2 (:func:`uniq_core.thermo.sgd_entropy_production`).
Langevin dynamics (SGLD: full-batch gradient plus isotropic noise) has noise that commutes with H and is
exactly reversible in this model; minibatch noise is not, unless Σ happens to commute with H.

Three measurements: (1) at a minimum, the exact linearised rates and the entropy production estimated from
the real, nonlinear SGD and Langevin chains (Langevin heat added only in the observed subspace), with their
probability currents (:func:`run_entropy`), decided by :func:`pooled_decision` and checked by
:func:`null_control` and :func:`positive_control`; (2) the
local linearised rate along training from initialisation (:func:`run_training`); (3) learning itself: the
linearised chains run from the initialisation, their entropy production split into excess and housekeeping,
beside a real SGD run (:func:`run_learning`); (4) the exact rate over a grid of step sizes, batch sizes and
temperatures (:func:`run_sweep`).
"""

from __future__ import annotations

import copy
import functools
import inspect
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
from scipy import linalg
from torch.func import functional_call, grad, vmap
from torch.nn import functional as F

from uniq_core import data, grammar, models, rules, runtime, stats, thermo
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_numbers, check_widths

#: Standard errors within which an estimate agrees with its target (or a null estimate with zero) in the
#: chapter's words: validation, null and positive controls, stationarity halves and circulation.
AGREEMENT_Z = 3.0
#: Standard errors above zero at which the positive control counts as resolved from zero on a seed.
RESOLVED_Z = 2.0
#: Largest ratio of the per-unit-time rates over the step-size grid still read as constant (the OU limit).
TIME_RATIO_CONSTANT = 2.0


def _check_network(config) -> None:
    check_choice("dataset", config.dataset, data.DATASETS)
    check_number("n_train", config.n_train, low=32, high=5000, integer=True)
    check_widths("widths", config.widths, high=256)
    check_number("weight_decay", config.weight_decay, low=0.0, high=1.0, low_inclusive=False)
    check_number("subspace", config.subspace, low=2, high=min(64, config.n_train - 1), integer=True)
    check_number("seed", config.seed, low=0, integer=True)
    check_choice("device", config.device, runtime.DEVICES)


def _check_descent_and_sgd(config) -> None:
    """The full-batch descent to a minimum and the SGD chain there: step counts and sizes in range."""
    check_number("descent_steps", config.descent_steps, low=1, integer=True)
    check_number("descent_lr", config.descent_lr, low=0.0, high=100.0, low_inclusive=False)
    check_number("lr", config.lr, low=0.0, high=100.0, low_inclusive=False)
    check_number("batch_size", config.batch_size, low=1, high=config.n_train, integer=True)


class _Problem:
    """One network on one dataset in flat-parameter form: loss, gradients, curvature and noise at any θ, with
    its tensors on ``device``. Random draws (minibatches, kicks) are made on the CPU and moved, so a seed
    gives the same draws on every device."""

    def __init__(self, dataset: str, n_train: int, widths: tuple[int, ...], weight_decay: float, seed: int,
                 device: str = "cpu"):
        self.device = runtime.device(device)
        loaded = data.load(dataset, n_train=n_train, seed=seed, device=self.device)
        runtime.seed_everything(seed)
        model = models.MLP(loaded.n_features, widths, loaded.n_classes).double().to(self.device)
        self.model = copy.deepcopy(model)
        self.x, self.y = loaded.x_train.double(), loaded.y_train
        self.theta0 = models.flat_parameters(model)
        self.weight_decay = weight_decay
        self.functional_gradient = grad(self.loss)  # composable with jvp/vmap, for curvature and per-example terms

    def logits(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, models.unflatten(self.model, theta), (x,))

    def loss(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(self.logits(theta, x), y) + 0.5 * self.weight_decay * theta.pow(2).sum()

    def gradient(self, theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """∇L on the batch (x, y) by reverse-mode autograd (cheaper per call than ``torch.func.grad``)."""
        theta = theta.detach().requires_grad_(True)
        return torch.autograd.grad(self.loss(theta, x, y), theta)[0]

    def batched_gradient(self, states: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Gradients for a stack of chains (C × P): each on its own batch when x is C × B × d, else all on
        (x, y); a forward under ``vmap`` and one reverse pass for the summed losses."""
        states = states.detach().requires_grad_(True)
        own = x.dim() == 3
        logits = vmap(self.logits, in_dims=(0, 0 if own else None))(states, x)
        targets = y if own else y.expand(states.shape[0], -1)
        cross_entropy = -logits.log_softmax(-1).gather(-1, targets[..., None]).squeeze(-1).mean(-1)
        total = (cross_entropy + 0.5 * self.weight_decay * states.pow(2).sum(-1)).sum()
        return torch.autograd.grad(total, states)[0]

    def full_loss(self, theta: torch.Tensor) -> float:
        return float(self.loss(theta, self.x, self.y))

    def accuracy(self, theta: torch.Tensor) -> float:
        return float((self.logits(theta, self.x).argmax(-1) == self.y).double().mean())

    def descend(self, theta: torch.Tensor, steps: int, lr: float, progress: bool) -> torch.Tensor:
        for _ in runtime.progress_bar(range(steps), "descent to a minimum", progress):
            theta = theta - lr * self.gradient(theta, self.x, self.y)
        return theta

    def curvature(self, theta: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """All Hessian eigenvalues (descending) and eigenvectors (P × P) of the full-batch loss at ``theta``;
        the Hessian is built row by row as exact Hessian-vector products in one batched reverse pass."""
        theta = theta.detach().requires_grad_(True)
        gradient = torch.autograd.grad(self.loss(theta, self.x, self.y), theta, create_graph=True)[0]
        identity = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
        hessian = torch.autograd.grad(gradient, theta, identity, is_grads_batched=True)[0].detach().cpu().numpy()
        values, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
        return values[::-1], vectors[:, ::-1]

    def gradient_covariance(self, theta: torch.Tensor, basis: np.ndarray) -> np.ndarray:
        """Covariance of one example's gradient, projected on ``basis`` (P × k)."""
        per_example = vmap(lambda x, y: self.functional_gradient(theta, x[None], y[None]))(self.x, self.y).cpu().numpy()
        return np.cov(per_example @ basis, rowvar=False)


def _stable(eigenvalues: np.ndarray, lr: float, count: int) -> np.ndarray:
    """Indices of the ``count`` largest eigenvalues h with 0 < ηh < 2 (where the linearised chain is stable)."""
    return np.flatnonzero((eigenvalues > 0) & (lr * eigenvalues < 2))[:count]


def _commutator(hessian: np.ndarray, noise: np.ndarray) -> float:
    """‖HΣ − ΣH‖_F / (‖H‖_F ‖Σ‖_F): 0 when the noise commutes with the Hessian."""
    return float(np.linalg.norm(hessian @ noise - noise @ hessian) / (np.linalg.norm(hessian) * np.linalg.norm(noise)))


def linearised_rates(
    eigenvalues: np.ndarray,
    example_covariance: np.ndarray,
    *,
    lr: float,
    batch_size: int,
    temperature: float = 0.0,
    rotations: int = 16,
) -> dict[str, float]:
    """Exact entropy production per step of the linearised chains in an eigenbasis of H.

    ``eigenvalues`` (k,) of H and ``example_covariance`` (k × k) of one example's gradient in the same basis.
    Returns ``sgd`` (minibatch noise Σ/B plus heat 2T/η·I), ``langevin`` (isotropic noise of the same
    trace: zero up to rounding), ``rotated`` (the same noise spectrum in random orientations relative to H,
    mean over ``rotations``: what the rate would be if the noise were not aligned with the curvature),
    ``commutator`` and the matched Langevin ``langevin_temperature``.
    """
    k = len(eigenvalues)
    hessian = np.diag(eigenvalues)
    noise = example_covariance / batch_size + (2 * temperature / lr) * np.eye(k)
    isotropic = np.trace(noise) / k * np.eye(k)
    spectrum = np.linalg.eigvalsh(noise)
    rng = np.random.default_rng(0)
    rotated = []
    for _ in range(rotations):
        q, _ = np.linalg.qr(rng.standard_normal((k, k)))
        rotated.append(thermo.sgd_entropy_production(hessian, (q * spectrum) @ q.T, lr))
    return {
        "sgd": thermo.sgd_entropy_production(hessian, noise, lr),
        "langevin": thermo.sgd_entropy_production(hessian, isotropic, lr),
        "rotated": float(np.mean(rotated)),
        "commutator": _commutator(hessian, noise),
        "langevin_temperature": float(lr * np.trace(noise) / (2 * len(eigenvalues))),
        "noise": noise,
    }


# ---------------------------------------------------------------------------------------- at a minimum


BURN_IN_RELAXATIONS = 3
"""Relaxation times of the slowest (weight-decay-only) directions in the default burn-in: an offset decays
to e⁻³ of itself and a variance, which relaxes twice as fast, to e⁻⁶."""


@dataclass(frozen=True)
class EntropyConfig(ConfigBase):
    """A minimum of an MLP on ``dataset``; SGD (``lr``, ``batch_size``, added heat ``temperature``) and the
    matched Langevin control sampled there in ``chains`` independent chains of ``sample_steps`` steps after
    ``burn_in`` steps,
    observed in the top-``subspace`` stable Hessian directions; over ``n_seeds`` initialisations. The
    default burn-in is :data:`BURN_IN_RELAXATIONS` relaxation times 1/(η·weight_decay) of the directions
    whose only curvature is the weight decay, the slowest of the linearised chain."""

    dataset: str = "digits"
    n_train: int = 512
    widths: tuple[int, ...] = (16,)
    weight_decay: float = 1e-2
    descent_steps: int = 2000
    descent_lr: float = 0.5
    lr: float = 0.1
    batch_size: int = 16
    temperature: float = 0.0
    subspace: int = 16
    dimensions: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128)
    chains: int = 16
    burn_in: int = 3000
    sample_steps: int = 1500
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_network(self)
        _check_descent_and_sgd(self)
        check_number("temperature", self.temperature, low=0.0, high=10.0)
        check_numbers("dimensions", self.dimensions, low=2, high=1024, integer=True)
        check_number("chains", self.chains, low=2, high=4096, integer=True)
        check_number("burn_in", self.burn_in, low=0, integer=True)
        check_number("sample_steps", self.sample_steps, low=100, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)

    @classmethod
    def quick(cls) -> "EntropyConfig":
        return cls()

    @classmethod
    def full(cls) -> "EntropyConfig":
        return cls(n_train=1347, widths=(32,), descent_steps=5000, chains=128, sample_steps=20_000, n_seeds=5)


@dataclass
class EntropyResult(ResultBase):
    """Per seed: ``hessian_eigenvalues`` (seeds × k), ``gradient_norm`` and ``train_accuracy`` at the
    minimum, ``commutator``; exact linearised rates per step ``sgd_exact``, ``langevin_exact`` and
    ``rotated_exact`` (the noise spectrum in random orientations: see :func:`linearised_rates`);
    ``rate_by_dimension`` (seeds × len(``dimensions``)): the exact SGD rate in the top-d stable subspace,
    a lower bound on the whole chain's rate that grows with d (NaN beyond the stable directions, and from
    d = n_train on, where the minibatch noise is singular and the rate infinite); estimates
    from the simulated chains, pooled over chains: the plug-in KL rate of the fitted AR(1) chain
    (``sgd_plugin``, ``langevin_plugin``; never negative and biased upward), the model-free cross-chain
    estimate with its jackknife standard error (``sgd_estimate``, ``sgd_estimate_error``, ``langevin_estimate``…;
    :func:`uniq_core.thermo.cross_chain_entropy_estimate`: mean exactly zero on any stationary reversible
    process, may be negative), and the signed circulation rate in the top PCA plane of the samples
    with its error (``sgd_circulation``…); ``sgd_diverged``, ``langevin_diverged``: chains per seed that
    diverged and were left out of every estimate. ``sgd_plane``, ``langevin_plane`` (chains × T × 2): the first
    seed's chains in that plane, for the current figure. ``sgd_exact_mean``/``_interval``: geometric mean
    and interval over seeds; ``sgd_exact_quadratic``: the exact small-current rate the estimate targets
    (:func:`uniq_core.thermo.quadratic_entropy_production`); ``sgd_noise`` (seeds × k × k): the linearised
    chain's noise covariance per η² (for :func:`positive_control`); ``*_first_half``/``*_second_half``: the
    estimate from each half of the recorded steps (a stationarity check); the decision of
    :func:`pooled_decision` (``sgd_pooled``…, ``decision_interval``, ``langevin_null_holds``)."""

    hessian_eigenvalues: np.ndarray
    gradient_norm: np.ndarray
    train_accuracy: np.ndarray
    commutator: np.ndarray
    sgd_exact: np.ndarray
    langevin_exact: np.ndarray
    rotated_exact: np.ndarray
    rate_by_dimension: np.ndarray
    dimensions: np.ndarray
    sgd_diverged: np.ndarray
    langevin_diverged: np.ndarray
    sgd_plugin: np.ndarray
    langevin_plugin: np.ndarray
    sgd_estimate: np.ndarray
    sgd_estimate_error: np.ndarray
    langevin_estimate: np.ndarray
    langevin_estimate_error: np.ndarray
    sgd_circulation: np.ndarray
    sgd_circulation_error: np.ndarray
    langevin_circulation: np.ndarray
    langevin_circulation_error: np.ndarray
    sgd_plane: np.ndarray
    langevin_plane: np.ndarray
    sgd_exact_mean: float
    sgd_exact_interval: np.ndarray
    sgd_exact_quadratic: np.ndarray
    sgd_noise: np.ndarray
    sgd_first_half: np.ndarray
    sgd_second_half: np.ndarray
    langevin_first_half: np.ndarray
    langevin_second_half: np.ndarray
    sgd_pooled: float
    sgd_pooled_error: float
    langevin_pooled: float
    langevin_pooled_error: float
    systematic: float
    decision_interval: np.ndarray
    langevin_null_holds: bool


def pooled_decision(sgd: np.ndarray, sgd_error: np.ndarray, langevin: np.ndarray,
                    langevin_error: np.ndarray, *, z: float = 1.96, null_z: float = 2.0) -> dict[str, object]:
    """The chapter's one decision rule on the SGD entropy production, pooled over seeds.

    Pooled value m = mean over seeds, standard error s = √(Σ sᵢ²)/n (seeds independent). The Langevin chains
    are reversible in the linearised model, so their pooled estimate m_L is an offset of the instrument on
    the real dynamics: it enters as a systematic error |m_L|, added linearly, giving the interval
    m ± (z s + |m_L|). The rate is resolved from zero when that interval excludes zero. ``langevin_null_holds``
    is |m_L| ≤ ``null_z`` s_L: the null check on the real dynamics passes. Seeds with NaN (diverged) are left out.
    """
    def pooled(values: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
        keep = np.isfinite(values) & np.isfinite(errors)
        if not keep.any():
            return np.nan, np.nan
        return float(np.mean(values[keep])), float(np.sqrt(np.sum(errors[keep] ** 2)) / keep.sum())

    sgd_pooled, sgd_pooled_error = pooled(np.asarray(sgd, float), np.asarray(sgd_error, float))
    langevin_pooled, langevin_pooled_error = pooled(np.asarray(langevin, float), np.asarray(langevin_error, float))
    systematic = abs(langevin_pooled)
    half_width = z * sgd_pooled_error + systematic
    return {"sgd_pooled": sgd_pooled, "sgd_pooled_error": sgd_pooled_error, "langevin_pooled": langevin_pooled,
            "langevin_pooled_error": langevin_pooled_error, "systematic": systematic,
            "decision_interval": np.array([sgd_pooled - half_width, sgd_pooled + half_width]),
            "langevin_null_holds": bool(abs(langevin_pooled) <= null_z * langevin_pooled_error)}


def _pooled_circulation(plane: np.ndarray) -> tuple[float, float]:
    values, errors = zip(*(thermo.circulation_rate(chain, 1.0, return_error=True) for chain in plane))
    return float(np.mean(values)), float(np.sqrt(np.sum(np.square(errors))) / len(errors))


def _sample(problem: _Problem, theta: torch.Tensor, basis: np.ndarray, config: EntropyConfig, kind: str,
            noise_scale: float, generator: torch.Generator, progress: bool) -> tuple[np.ndarray, np.ndarray]:
    """Chains × steps × k projections of SGD (``kind="sgd"``) or Langevin chains started at ``theta``,
    recorded after ``config.burn_in`` steps (the chains start at the minimum, out of equilibrium), and a
    per-chain ``diverged`` flag: a chain whose state turns non-finite or moves 100(1 + ‖θ‖) away stops there."""
    device = theta.device
    basis_t = torch.as_tensor(basis, device=device)
    state = theta.expand(config.chains, -1).clone()
    diverged = torch.zeros(config.chains, dtype=torch.bool, device=device)
    limit = 100.0 * (1.0 + float(theta.norm()))
    recorded = torch.empty((config.chains, config.sample_steps, basis.shape[1]), dtype=state.dtype, device=device)
    x, y = problem.x, problem.y
    for t in runtime.progress_bar(range(-config.burn_in, config.sample_steps), f"sampling {kind} chains", progress):
        if kind == "sgd":
            index = torch.randint(0, x.shape[0], (config.chains, config.batch_size), generator=generator).to(device)
            step = problem.batched_gradient(state, x[index], y[index])
        else:
            step = problem.batched_gradient(state, x, y)
        proposal = state - config.lr * step
        if noise_scale > 0:  # Langevin heat only in the observed subspace: flat directions are not heated
            kicks = torch.randn((config.chains, basis.shape[1]), generator=generator, dtype=state.dtype).to(device)
            proposal = proposal + noise_scale * kicks @ basis_t.T
        bad = ~torch.isfinite(proposal).all(dim=1) | ((proposal - theta).norm(dim=1) > limit)
        diverged |= bad
        state = torch.where(diverged[:, None], state, proposal)
        if t >= 0:
            recorded[:, t] = (state - theta) @ basis_t  # kept on the device: one copy to the host at the end
    samples = recorded.cpu().numpy()
    diverged = diverged.cpu().numpy()
    samples[diverged] = np.nan
    return samples, diverged


def _estimates(samples: np.ndarray, axes: np.ndarray | None, prefix: str) -> dict[str, object]:
    """Plug-in KL, bias-corrected rate and circulation estimates from the chains that did not diverge (NaN when fewer than two)."""
    healthy = samples[np.isfinite(samples).all(axis=(1, 2))]
    record: dict[str, object] = {f"{prefix}_diverged": len(samples) - len(healthy)}
    if len(healthy) < 3:
        for name in ("plugin", "estimate", "estimate_error", "first_half", "second_half", "circulation",
                     "circulation_error"):
            record[f"{prefix}_{name}"] = np.nan
        record[f"{prefix}_plane"] = np.full(samples.shape[:2] + (2,), np.nan)
        return record
    plane = healthy @ (axes if axes is not None else _top_plane(healthy))
    record[f"{prefix}_plugin"] = thermo.ar1_entropy_production(*thermo.fit_ar1(healthy))
    record[f"{prefix}_estimate"], record[f"{prefix}_estimate_error"] = thermo.cross_chain_entropy_estimate(
        healthy, return_error=True)
    half = healthy.shape[1] // 2
    record[f"{prefix}_first_half"] = thermo.cross_chain_entropy_estimate(healthy[:, :half])
    record[f"{prefix}_second_half"] = thermo.cross_chain_entropy_estimate(healthy[:, half:])
    record[f"{prefix}_circulation"], record[f"{prefix}_circulation_error"] = _pooled_circulation(plane)
    record[f"{prefix}_plane"] = plane
    return record


def _top_plane(samples: np.ndarray) -> np.ndarray:
    """The top-two principal axes of the pooled samples (k × 2), each signed so its largest entry is positive."""
    pooled = samples.reshape(-1, samples.shape[-1])
    _, _, vt = np.linalg.svd(pooled - pooled.mean(axis=0), full_matrices=False)
    axes = vt[:2].T
    return axes * np.sign(axes[np.argmax(np.abs(axes), axis=0), [0, 1]])


def _entropy_unit(config: EntropyConfig, seed: int, progress: bool = False) -> dict[str, object]:
    """Seed ``seed`` of :func:`run_entropy`: its minimum, curvature, noise, exact rates and chains (the seed's
    problem and chains seed themselves, so the record does not depend on the process it ran in)."""
    problem = _Problem(config.dataset, config.n_train, config.widths, config.weight_decay, seed, config.device)
    theta = problem.descend(problem.theta0, config.descent_steps, config.descent_lr, progress)
    eigenvalues, vectors = problem.curvature(theta)
    chosen = _stable(eigenvalues, config.lr, max(config.subspace, *config.dimensions))
    if len(chosen) < config.subspace:
        raise ValueError(f"lr={config.lr} leaves {len(chosen)} stable curvature directions at the minimum; "
                         f"subspace={config.subspace} needs more")
    covariance = problem.gradient_covariance(theta, vectors[:, chosen])
    by_dimension = [
        linearised_rates(eigenvalues[chosen[:d]], covariance[:d, :d], lr=config.lr,
                         batch_size=config.batch_size, temperature=config.temperature)["sgd"]
        if d <= len(chosen) and d < config.n_train else np.nan
        for d in config.dimensions
    ]
    chosen = chosen[: config.subspace]
    basis = vectors[:, chosen]
    k = config.subspace
    rates = linearised_rates(eigenvalues[chosen], covariance[:k, :k], lr=config.lr,
                             batch_size=config.batch_size, temperature=config.temperature)
    generator = torch.Generator().manual_seed(seed + 10_000)
    sgd, _ = _sample(problem, theta, basis, config, "sgd", float(np.sqrt(2 * config.lr * config.temperature)),
                     generator, progress)
    langevin, _ = _sample(problem, theta, basis, config, "langevin",
                          float(np.sqrt(2 * config.lr * rates["langevin_temperature"])), generator, progress)
    healthy = sgd[np.isfinite(sgd).all(axis=(1, 2))]
    axes = _top_plane(healthy) if len(healthy) >= 2 else None
    record = {
        "hessian_eigenvalues": eigenvalues[chosen],
        "gradient_norm": float(problem.gradient(theta, problem.x, problem.y).norm()),
        "train_accuracy": problem.accuracy(theta),
        "commutator": rates["commutator"],
        "sgd_exact": rates["sgd"],
        "langevin_exact": rates["langevin"],
        "rotated_exact": rates["rotated"],
        "sgd_exact_quadratic": thermo.quadratic_entropy_production(
            np.eye(k) - config.lr * np.diag(eigenvalues[chosen]), config.lr**2 * rates["noise"]),
        "sgd_noise": rates["noise"],
        "rate_by_dimension": np.array(by_dimension),
        **_estimates(sgd, axes, "sgd"),
        **_estimates(langevin, axes, "langevin"),
    }
    return record


def run_entropy(config: EntropyConfig, *, progress: bool = True, use_cache: bool = True,
                executor: Any = None) -> EntropyResult:
    """Minimum, curvature and noise, exact linearised rates, simulated chains, estimates over seeds; the
    seeds on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> EntropyResult:
        seeds = range(config.seed, config.seed + config.n_seeds)
        with runtime.unit_pool(executor) as pool:
            per_seed = runtime.map_runs(functools.partial(_entropy_unit, config, progress=progress and pool is None),
                                        seeds, executor=pool, description="seeds", progress=progress)
        for index, record in enumerate(per_seed):  # the first seed's planes are drawn
            sgd_plane, langevin_plane = record.pop("sgd_plane"), record.pop("langevin_plane")
            if index == 0:
                record["sgd_plane"], record["langevin_plane"] = sgd_plane, langevin_plane
        fields = {name: np.array([r[name] for r in per_seed]) for name in per_seed[0] if not name.endswith("plane")}
        exact_mean, exact_interval = stats.log_t_interval(fields["sgd_exact"])
        decision = pooled_decision(fields["sgd_estimate"], fields["sgd_estimate_error"],
                                   fields["langevin_estimate"], fields["langevin_estimate_error"])
        return EntropyResult(
            **fields,
            dimensions=np.array(config.dimensions),
            sgd_plane=per_seed[0]["sgd_plane"],
            langevin_plane=per_seed[0]["langevin_plane"],
            sgd_exact_mean=exact_mean,
            sgd_exact_interval=exact_interval,
            **decision,
        )

    return runtime.cached(compute, config, EntropyResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------- along training


@dataclass(frozen=True)
class TrainingConfig(ConfigBase):
    """Minibatch SGD from initialisation for ``steps`` steps; at ``checkpoints`` log-spaced steps, the local
    linearised entropy production in the top-``subspace`` stable Hessian directions; over ``n_seeds``."""

    dataset: str = "digits"
    n_train: int = 512
    widths: tuple[int, ...] = (16,)
    weight_decay: float = 1e-2
    lr: float = 0.1
    batch_size: int = 16
    steps: int = 3000
    checkpoints: int = 6
    subspace: int = 16
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_network(self)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=self.n_train, integer=True)
        check_number("steps", self.steps, low=10, integer=True)
        check_number("checkpoints", self.checkpoints, low=2, high=100, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)

    @classmethod
    def quick(cls) -> "TrainingConfig":
        return cls()

    @classmethod
    def full(cls) -> "TrainingConfig":
        return cls(n_train=1347, widths=(32,), steps=20_000, checkpoints=12, n_seeds=5)


@dataclass
class TrainingResult(ResultBase):
    """``steps`` (c,) checkpoint steps; per seed × checkpoint: ``loss``, ``accuracy``, ``sharpness`` (top
    Hessian eigenvalue), ``commutator``, ``sgd_rate`` and ``langevin_rate`` (exact linearised entropy
    production per step); ``sgd_rate_mean`` and ``sgd_rate_interval`` (c,), (2, c): geometric mean and
    interval over seeds; ``contraction``: the phase-space contraction −Σ ln|1 − ηh_i| of the full-batch
    gradient-descent map at the checkpoint (:func:`uniq_core.thermo.phase_space_contraction`, every Hessian
    eigenvalue), and ``data_contraction`` the same with the data loss's Hessian alone (h_i − weight decay)."""

    steps: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    sharpness: np.ndarray
    commutator: np.ndarray
    sgd_rate: np.ndarray
    langevin_rate: np.ndarray
    sgd_rate_mean: np.ndarray
    sgd_rate_interval: np.ndarray
    contraction: np.ndarray | float = float("nan")
    data_contraction: np.ndarray | float = float("nan")


def learning_contraction(training: TrainingResult, *, data_only: bool = False) -> np.ndarray:
    """Per seed, the phase-space contraction of the gradient-descent map averaged over the learning run: the
    trapezoid integral over steps of the per-step rate at the (log-spaced) checkpoints, divided by the run's
    length, in nats per step (NaN for a seed with a non-finite checkpoint). ``data_only``: with the Hessian of
    the data loss alone (the weight decay's uniform contraction removed)."""
    values = np.asarray(training.data_contraction if data_only else training.contraction, dtype=float)
    steps = np.asarray(training.steps, dtype=float)
    integrate = getattr(np, "trapezoid", None) or np.trapz
    return np.array([integrate(row, steps) / (steps[-1] - steps[0]) if np.isfinite(row).all() else np.nan
                     for row in np.atleast_2d(values)])


def _sgd_path(problem: _Problem, lr: float, batch_size: int, steps: int, seed: int):
    """Minibatch SGD from ``problem``'s initialisation, batches drawn with a CPU generator seeded ``seed``:
    yields (step, θ) for step = 0, …, ``steps``, and stops before the first non-finite θ (a diverged run)."""
    generator = torch.Generator().manual_seed(seed)
    theta = problem.theta0
    for step in range(steps + 1):
        if not bool(torch.isfinite(theta).all()):
            return
        yield step, theta
        if step == steps:
            return
        index = torch.randint(0, problem.x.shape[0], (batch_size,), generator=generator).to(problem.device)
        theta = theta - lr * problem.gradient(theta, problem.x[index], problem.y[index])


def run_training(config: TrainingConfig, *, progress: bool = True, use_cache: bool = True) -> TrainingResult:
    """Train with SGD and measure the local linearised rates at log-spaced checkpoints."""

    def compute() -> TrainingResult:
        later = np.geomspace(min(10, config.steps), config.steps, config.checkpoints - 1).round().astype(int)
        checkpoints = np.concatenate([[0], np.unique(later)])
        shape = (config.n_seeds, len(checkpoints))
        out = {name: np.full(shape, np.nan) for name in
               ("loss", "accuracy", "sharpness", "commutator", "sgd_rate", "langevin_rate", "contraction",
                "data_contraction")}
        for row, seed in enumerate(runtime.progress_bar(range(config.seed, config.seed + config.n_seeds),
                                                        "seeds", progress)):
            problem = _Problem(config.dataset, config.n_train, config.widths, config.weight_decay, seed, config.device)
            # a diverged run stops early: its remaining checkpoints stay NaN and never enter a statistic
            for step, theta in _sgd_path(problem, config.lr, config.batch_size, config.steps, seed + 20_000):
                if step in checkpoints:
                    column = int(np.searchsorted(checkpoints, step))
                    eigenvalues, vectors = problem.curvature(theta)
                    chosen = _stable(eigenvalues, config.lr, config.subspace)
                    out["loss"][row, column] = problem.full_loss(theta)
                    out["accuracy"][row, column] = problem.accuracy(theta)
                    out["sharpness"][row, column] = eigenvalues[0]
                    out["contraction"][row, column] = thermo.phase_space_contraction(eigenvalues, config.lr)
                    out["data_contraction"][row, column] = thermo.phase_space_contraction(
                        eigenvalues - config.weight_decay, config.lr)
                    if len(chosen) >= 2:
                        basis = vectors[:, chosen]
                        rates = linearised_rates(eigenvalues[chosen], problem.gradient_covariance(theta, basis),
                                                 lr=config.lr, batch_size=config.batch_size)
                        out["commutator"][row, column] = rates["commutator"]
                        out["sgd_rate"][row, column] = rates["sgd"]
                        out["langevin_rate"][row, column] = rates["langevin"]
        means, intervals = zip(*(stats.log_t_interval(column) for column in out["sgd_rate"].T))
        return TrainingResult(steps=checkpoints, **out, sgd_rate_mean=np.array(means),
                              sgd_rate_interval=np.array(intervals).T)

    return runtime.cached(compute, config, TrainingResult, use_cache=use_cache)


# ----------------------------------------------------------------------------------- learning itself


def initial_variance(model: torch.nn.Module) -> np.ndarray:
    """Per-parameter variance of PyTorch's default initialisation of an MLP's ``nn.Linear`` layers, in the
    order of :func:`uniq_core.models.flat_parameters`: weights and biases uniform on ±1/√fan_in, so variance
    1/(3·fan_in). The draws are independent, so the initial law of the flat parameters has this diagonal
    covariance."""
    parts = []
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            variance = 1.0 / (3.0 * module.in_features)
            parts += [np.full(module.weight.numel(), variance)]
            if module.bias is not None:
                parts += [np.full(module.bias.numel(), variance)]
        elif any(True for _ in module.parameters(recurse=False)):
            raise ValueError(f"initial_variance knows nn.Linear layers only; got {type(module).__name__}")
    return np.concatenate(parts)


@dataclass(frozen=True)
class LearningConfig(ConfigBase):
    """Entropy production of learning itself, in a model: per seed, the linearised SGD chain at the minimum
    that full-batch descent reaches from that seed's initialisation (Gaussian, state-independent noise
    η²Σ_g/B with Σ_g at the minimum), run for ``steps`` steps from that initialisation projected on the
    top-``subspace`` stable Hessian directions (also at every size in ``subspaces``), with the chain's own
    stationary spread (and, as a sensitivity, the initialisation's spread); its exact total entropy
    production split into excess (relaxation) and housekeeping (non-equilibrium) parts
    (:func:`uniq_core.thermo.transient_entropy_production`), beside the reversible Langevin control; and one
    real minibatch SGD run from the same initialisation, projected on the same directions, against
    ``null_paths`` sample paths of the chain itself, to show how far the model is from the run."""

    dataset: str = "digits"
    n_train: int = 512
    widths: tuple[int, ...] = (16,)
    weight_decay: float = 1e-2
    descent_steps: int = 2000
    descent_lr: float = 0.5
    lr: float = 0.1
    batch_size: int = 16
    subspace: int = 16
    subspaces: tuple[int, ...] = (8, 16, 32)
    steps: int = 3000
    null_paths: int = 100
    n_seeds: int = 8
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_network(self)
        _check_descent_and_sgd(self)
        check_numbers("subspaces", self.subspaces, low=2, high=1024, integer=True)
        if self.subspace not in self.subspaces:
            raise ValueError(f"subspace={self.subspace} must be one of subspaces={self.subspaces}")
        if max(self.subspaces) >= self.n_train:
            raise ValueError(f"subspaces={self.subspaces} must stay below n_train={self.n_train}: the minibatch "
                             "noise has rank below n_train, and the chain's entropy production is infinite there")
        check_number("steps", self.steps, low=10, integer=True)
        check_number("null_paths", self.null_paths, low=20, high=10_000, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)

    @classmethod
    def quick(cls) -> "LearningConfig":
        return cls()

    @classmethod
    def full(cls) -> "LearningConfig":
        return cls(n_train=1347, widths=(32,), descent_steps=5000, steps=10_000, n_seeds=16)


@dataclass
class LearningResult(ResultBase):
    """``subspaces`` (s,) and the default ``subspace``; per seed × subspace size, summed over the run's
    ``steps`` steps (nats), from the
    projected initialisation with the chain's stationary spread: the linearised SGD chain's ``sgd_total``,
    ``sgd_excess``, ``sgd_housekeeping`` and the matched Langevin chain's (isotropic noise of the same trace)
    ``langevin_*``; ``sgd_stationary_rate``: the housekeeping per step at stationarity; ``displacement_kl``:
    ½ m₀ᵀS⁻¹m₀, the closed form of the excess (the initial displacement in units of the stationary spread);
    ``sgd_excess_initial_spread``, ``sgd_housekeeping_initial_spread``: the same with the initialisation's
    spread, and ``sgd_housekeeping_initial_noise`` with Σ_g taken at the initialisation (sensitivities);
    ``sgd_housekeeping_early``: the housekeeping over the first tenth of the run; ``sgd_horizon``: the step at
    which the housekeeping produced equals the whole relaxation (:func:`_horizon`). Per seed × step, at the default ``subspace``: ``sgd_total_rate``,
    ``sgd_excess_rate``, ``sgd_housekeeping_rate``, ``langevin_total_rate``. ``checkpoints``; per seed ×
    checkpoint at the default subspace: ``model_distance`` ‖m_t‖ of the chain's mean and ``real_distance`` of
    the real SGD run, both relative to the minimum; per seed × subspace: ``model_deviation``, the largest
    ‖x_real − m_t‖/‖m₀‖ over the checkpoints, and ``null_deviation``, the :data:`NULL_QUANTILE` quantile of
    the same for ``null_paths`` paths of the chain itself; ``train_accuracy`` at the minimum."""

    subspaces: np.ndarray
    subspace: int
    sgd_total: np.ndarray
    sgd_excess: np.ndarray
    sgd_housekeeping: np.ndarray
    langevin_total: np.ndarray
    langevin_excess: np.ndarray
    langevin_housekeeping: np.ndarray
    sgd_stationary_rate: np.ndarray
    displacement_kl: np.ndarray
    sgd_excess_initial_spread: np.ndarray
    sgd_housekeeping_initial_spread: np.ndarray
    sgd_housekeeping_initial_noise: np.ndarray
    sgd_housekeeping_early: np.ndarray
    sgd_horizon: np.ndarray
    sgd_total_rate: np.ndarray
    sgd_excess_rate: np.ndarray
    sgd_housekeeping_rate: np.ndarray
    langevin_total_rate: np.ndarray
    checkpoints: np.ndarray
    model_distance: np.ndarray
    real_distance: np.ndarray
    model_deviation: np.ndarray
    null_deviation: np.ndarray
    train_accuracy: np.ndarray


#: The quantile of the chain's own sample paths' deviation against which a real run's deviation is judged.
NULL_QUANTILE = 0.95


def _deviation(paths: np.ndarray, means: np.ndarray) -> np.ndarray:
    """The largest ‖x_t − m_t‖ over checkpoints, relative to ‖m₀‖, for each path (… × checkpoints × d)."""
    return np.nanmax(np.linalg.norm(paths - means, axis=-1), axis=-1) / np.linalg.norm(means[0])


def _horizon(parts: dict[str, np.ndarray], stationary_rate: float) -> float:
    """The step at which the housekeeping produced so far equals the whole run's excess (the relaxation), from
    the per-step series of :func:`uniq_core.thermo.transient_entropy_production`; beyond the series, the
    chain is taken as relaxed and its housekeeping as the stationary rate (an extrapolation of the model)."""
    produced = np.cumsum(parts["housekeeping"])
    relaxation = float(parts["excess"].sum())
    if produced[-1] >= relaxation:
        return float(np.searchsorted(produced, relaxation) + 1)
    return float(len(produced) + (relaxation - produced[-1]) / stationary_rate)


def _chain_paths(transition: np.ndarray, noise: np.ndarray, start: np.ndarray, spread: np.ndarray,
                 checkpoints: np.ndarray, paths: int, seed: int) -> np.ndarray:
    """``paths`` sample paths of x' = F x + ξ from N(``start``, ``spread``), recorded at ``checkpoints``."""
    rng = np.random.default_rng(seed)
    d = len(start)
    x = start + rng.standard_normal((paths, d)) @ np.linalg.cholesky(spread).T
    kick = np.linalg.cholesky(noise)
    out = np.empty((paths, len(checkpoints), d))
    for step in range(int(checkpoints[-1]) + 1):
        hits = np.flatnonzero(checkpoints == step)
        if hits.size:
            out[:, hits[0]] = x
        x = x @ transition.T + rng.standard_normal((paths, d)) @ kick.T
    return out


def run_learning(config: LearningConfig, *, progress: bool = True, use_cache: bool = True) -> LearningResult:
    """Minimum, curvature and noise per seed; the exact transient entropy production of the linearised chains
    from the projected initialisation; one real SGD run from the same initialisation, against paths of the
    chain itself."""

    def compute() -> LearningResult:
        later = np.geomspace(min(10, config.steps), config.steps, 8).round().astype(int)
        checkpoints = np.concatenate([[0], np.unique(later)])
        per_seed: list[dict[str, Any]] = []
        for seed in runtime.progress_bar(range(config.seed, config.seed + config.n_seeds), "seeds", progress):
            problem = _Problem(config.dataset, config.n_train, config.widths, config.weight_decay, seed, config.device)
            theta = problem.descend(problem.theta0, config.descent_steps, config.descent_lr, progress)
            eigenvalues, vectors = problem.curvature(theta)
            chosen = _stable(eigenvalues, config.lr, max(config.subspaces))
            if len(chosen) < max(config.subspaces):
                raise ValueError(f"lr={config.lr} leaves {len(chosen)} stable curvature directions at the minimum; "
                                 f"subspaces={config.subspaces} need {max(config.subspaces)}")
            covariance = problem.gradient_covariance(theta, vectors[:, chosen])
            covariance_at_start = problem.gradient_covariance(problem.theta0, vectors[:, chosen])
            variance = initial_variance(problem.model)
            real = _real_run(problem, theta, checkpoints, config, seed)  # checkpoints × P, relative to the minimum
            record: dict[str, Any] = {"train_accuracy": problem.accuracy(theta)}
            sums: dict[str, list[float]] = {}
            for d in config.subspaces:
                basis = vectors[:, chosen[:d]]
                transition = np.eye(d) - config.lr * np.diag(eigenvalues[chosen[:d]])
                noise = config.lr**2 * covariance[:d, :d] / config.batch_size
                isotropic = np.trace(noise) / d * np.eye(d)
                spread = linalg.solve_discrete_lyapunov(transition, noise)
                spread = (spread + spread.T) / 2
                mean0 = basis.T @ (problem.theta0 - theta).cpu().numpy()
                sgd = thermo.transient_entropy_production(transition, noise, mean0, spread, config.steps)
                langevin = thermo.transient_entropy_production(
                    transition, isotropic, mean0, linalg.solve_discrete_lyapunov(transition, isotropic), config.steps)
                wide = thermo.transient_entropy_production(transition, noise, mean0, (basis.T * variance) @ basis,
                                                           config.steps)
                noise_at_start = config.lr**2 * covariance_at_start[:d, :d] / config.batch_size
                moved = thermo.transient_entropy_production(
                    transition, noise_at_start, mean0, linalg.solve_discrete_lyapunov(transition, noise_at_start),
                    config.steps)
                means = np.array([np.linalg.matrix_power(transition, int(step)) @ mean0 for step in checkpoints])
                stationary_rate = thermo.ar1_entropy_production(transition, noise)
                paths = _chain_paths(transition, noise, mean0, spread, checkpoints, config.null_paths, seed)
                values = {
                    **{f"sgd_{name}": float(sgd[name].sum()) for name in ("total", "excess", "housekeeping")},
                    **{f"langevin_{name}": float(langevin[name].sum()) for name in ("total", "excess", "housekeeping")},
                    "sgd_stationary_rate": stationary_rate,
                    "displacement_kl": float(0.5 * mean0 @ np.linalg.solve(spread, mean0)),
                    "sgd_excess_initial_spread": float(wide["excess"].sum()),
                    "sgd_housekeeping_initial_spread": float(wide["housekeeping"].sum()),
                    "sgd_housekeeping_initial_noise": float(moved["housekeeping"].sum()),
                    "sgd_housekeeping_early": float(sgd["housekeeping"][: config.steps // 10].sum()),
                    "sgd_horizon": _horizon(sgd, stationary_rate),
                    "model_deviation": float(_deviation(real @ basis, means)),
                    "null_deviation": float(np.quantile(_deviation(paths, means), NULL_QUANTILE)),
                }
                for name, value in values.items():
                    sums.setdefault(name, []).append(value)
                if d == config.subspace:
                    record |= {"sgd_total_rate": sgd["total"], "sgd_excess_rate": sgd["excess"],
                               "sgd_housekeeping_rate": sgd["housekeeping"], "langevin_total_rate": langevin["total"],
                               "model_distance": np.linalg.norm(means, axis=1),
                               "real_distance": np.linalg.norm(real @ basis, axis=1)}
            record |= {name: np.array(values) for name, values in sums.items()}
            per_seed.append(record)
        fields = {name: np.array([r[name] for r in per_seed]) for name in per_seed[0]}
        return LearningResult(subspaces=np.array(config.subspaces), subspace=config.subspace, checkpoints=checkpoints,
                              **fields)

    return runtime.cached(compute, config, LearningResult, use_cache=use_cache)


def _real_run(problem: _Problem, minimum: torch.Tensor, checkpoints: np.ndarray, config: LearningConfig,
              seed: int) -> np.ndarray:
    """One minibatch SGD run from the seed's initialisation; its displacement from ``minimum`` at each
    checkpoint (checkpoints × P; NaN from divergence on)."""
    out = np.full((len(checkpoints), problem.theta0.numel()), np.nan)
    for step, theta in _sgd_path(problem, config.lr, config.batch_size, config.steps, seed + 30_000):
        if step in checkpoints:
            out[int(np.searchsorted(checkpoints, step))] = (theta - minimum).cpu().numpy()
    return out


# ---------------------------------------------------------------------------------------------- regimes


@dataclass(frozen=True)
class SweepConfig(ConfigBase):
    """Exact linearised rates at one minimum over a grid of step sizes, batch sizes and temperatures."""

    dataset: str = "digits"
    n_train: int = 512
    widths: tuple[int, ...] = (16,)
    weight_decay: float = 1e-2
    descent_steps: int = 2000
    descent_lr: float = 0.5
    subspace: int = 16
    lrs: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
    batch_sizes: tuple[int, ...] = (4, 16, 64, 256)
    temperatures: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_network(self)
        check_number("descent_steps", self.descent_steps, low=1, integer=True)
        check_number("descent_lr", self.descent_lr, low=0.0, high=100.0, low_inclusive=False)
        check_numbers("lrs", self.lrs, low=0.0, high=100.0, low_inclusive=False)
        check_numbers("batch_sizes", self.batch_sizes, low=1, high=self.n_train, integer=True)
        check_numbers("temperatures", self.temperatures, low=0.0, high=10.0)

    @classmethod
    def quick(cls) -> "SweepConfig":
        return cls()

    @classmethod
    def full(cls) -> "SweepConfig":
        return cls(n_train=1347, widths=(32,), descent_steps=5000)


@dataclass
class SweepResult(ResultBase):
    """``sgd_rate`` (temperatures × batch sizes × lrs): exact linearised entropy production per step (NaN
    where fewer than two curvature directions are stable); ``commutator`` of the same shape; the grid."""

    lrs: np.ndarray
    batch_sizes: np.ndarray
    temperatures: np.ndarray
    sgd_rate: np.ndarray
    commutator: np.ndarray


def run_sweep(config: SweepConfig, *, progress: bool = True, use_cache: bool = True) -> SweepResult:
    """One minimum, its curvature and noise, then the exact rate at every grid point."""

    def compute() -> SweepResult:
        problem = _Problem(config.dataset, config.n_train, config.widths, config.weight_decay, config.seed, config.device)
        theta = problem.descend(problem.theta0, config.descent_steps, config.descent_lr, progress)
        eigenvalues, vectors = problem.curvature(theta)
        shape = (len(config.temperatures), len(config.batch_sizes), len(config.lrs))
        rate, commutator = np.full(shape, np.nan), np.full(shape, np.nan)
        for k, lr in enumerate(config.lrs):
            chosen = _stable(eigenvalues, lr, config.subspace)
            if len(chosen) < 2:
                continue
            covariance = problem.gradient_covariance(theta, vectors[:, chosen])
            for i, temperature in enumerate(config.temperatures):
                for j, batch_size in enumerate(config.batch_sizes):
                    rates = linearised_rates(eigenvalues[chosen], covariance, lr=lr, batch_size=batch_size,
                                             temperature=temperature)
                    rate[i, j, k], commutator[i, j, k] = rates["sgd"], rates["commutator"]
        return SweepResult(lrs=np.array(config.lrs), batch_sizes=np.array(config.batch_sizes),
                           temperatures=np.array(config.temperatures), sgd_rate=rate, commutator=commutator)

    return runtime.cached(compute, config, SweepResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------------ validation


@dataclass(frozen=True)
class ValidationConfig(ConfigBase):
    """The rotational OU process dx = −A x dt + √(2d) dW, A = [[a, −ω], [ω, a]], sampled exactly at each
    interval in ``dts`` for ``n_steps`` steps: exact rate, AR(1) pair rate and path estimate."""

    a: float = 1.0
    omega: float = 2.0
    d: float = 1.0
    dts: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
    n_steps: int = 100_000
    segments: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        check_number("a", self.a, low=0.0, low_inclusive=False)
        check_number("omega", self.omega)
        check_number("d", self.d, low=0.0, low_inclusive=False)
        check_numbers("dts", self.dts, low=0.0, high=10.0, low_inclusive=False)
        check_number("n_steps", self.n_steps, low=1000, integer=True)
        check_number("segments", self.segments, low=3, high=self.n_steps // 10, integer=True)
        check_number("seed", self.seed, low=0, integer=True)

    @classmethod
    def quick(cls) -> "ValidationConfig":
        return cls()

    @classmethod
    def full(cls) -> "ValidationConfig":
        return cls(n_steps=1_000_000)


@dataclass
class ValidationResult(ResultBase):
    """``exact`` (2ω²/a), and per interval in ``dts``: ``pair`` (exact AR(1) pair rate per unit time),
    ``euler`` (exact rate per unit time of the Euler chain x' = (I − A dt) x + √(2D dt) ξ whose kernels the
    path estimate uses: :func:`uniq_core.thermo.euler_entropy_production`),
    ``path`` and ``path_error`` (estimate from the sampled trajectory), ``circulation`` and its error, and
    ``circulation_exact``; ``path_expected``: the exact limit of the path estimate on the sampled chain
    (:func:`uniq_core.thermo.euler_path_expectation`); ``cross``, ``cross_error``: the cross-chain estimate
    (:func:`uniq_core.thermo.cross_chain_entropy_estimate`) from the trajectory cut into ``segments`` chains,
    and ``cross_exact``, its target (:func:`uniq_core.thermo.quadratic_entropy_production`), all per unit time."""

    dts: np.ndarray
    exact: float
    pair: np.ndarray
    path: np.ndarray
    path_error: np.ndarray
    circulation: np.ndarray
    circulation_error: np.ndarray
    circulation_exact: float
    euler: np.ndarray
    path_expected: np.ndarray
    cross: np.ndarray
    cross_error: np.ndarray
    cross_exact: np.ndarray


def run_validation(config: ValidationConfig, *, progress: bool = True, use_cache: bool = True) -> ValidationResult:
    """Exact, pair and path rates of the rotational OU process at each sampling interval."""

    def compute() -> ValidationResult:
        A = np.array([[config.a, -config.omega], [config.omega, config.a]])
        D = config.d * np.eye(2)
        sigma = thermo.stationary_covariance(A, D)
        pair, path, path_error, circulation, circulation_error, euler = [], [], [], [], [], []
        expected, cross, cross_error, cross_exact = [], [], [], []
        for dt in runtime.progress_bar(config.dts, "sampling intervals", progress):
            transition = linalg.expm(-A * dt)
            pair.append(thermo.ar1_entropy_production(transition, sigma - transition @ sigma @ transition.T) / dt)
            euler.append(thermo.euler_entropy_production(A, D, dt))
            trajectory = thermo.simulate_ou(A, D, dt, config.n_steps, seed=config.seed)
            rate, error = thermo.path_entropy_production(trajectory, lambda x: -x @ A.T, D, dt, return_error=True)
            path.append(rate)
            path_error.append(error)
            rate, error = thermo.circulation_rate(trajectory, dt, return_error=True)
            circulation.append(rate)
            circulation_error.append(error)
            expected.append(thermo.euler_path_expectation(A, D, dt))
            usable = (len(trajectory) // config.segments) * config.segments
            rate, error = thermo.cross_chain_entropy_estimate(
                trajectory[:usable].reshape(config.segments, -1, 2), return_error=True)
            cross.append(rate / dt)
            cross_error.append(error / dt)
            cross_exact.append(thermo.quadratic_entropy_production(
                transition, sigma - transition @ sigma @ transition.T) / dt)
        return ValidationResult(dts=np.array(config.dts), exact=thermo.ou_entropy_production(A, D), pair=np.array(pair),
                                path=np.array(path), path_error=np.array(path_error),
                                circulation=np.array(circulation), circulation_error=np.array(circulation_error),
                                circulation_exact=thermo.ou_circulation_rate(A, D), euler=np.array(euler),
                                path_expected=np.array(expected), cross=np.array(cross),
                                cross_error=np.array(cross_error), cross_exact=np.array(cross_exact))

    return runtime.cached(compute, config, ValidationResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------------ null control


def null_control(result: EntropyResult, config: EntropyConfig, *, repetitions: int = 8, slow_share: float = 1.0,
                 n_bootstrap: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Both estimators on reversible chains of the chapter's own size, with and without a hidden slow part.

    The linearised chain δ' = (I − ηH) δ + ξ with the first seed's top Hessian eigenvalues and isotropic noise
    ξ ~ N(0, η² I) (it commutes with H: exact rate 0), in ``config.chains`` stationary chains of
    ``config.sample_steps`` steps, ``repetitions`` times. In the ``slow`` variant an independent reversible
    component is added to the observed coordinates: k latent AR(1) coordinates with coefficient
    1 − η·weight_decay (the relaxation of a direction whose curvature is the weight decay alone), mapped by a
    random matrix so that their variance is ``slow_share`` times the fast variance; the sum is still reversible
    (rate 0) but not an AR(1) chain. Returns per variant (``plain``/``slow`` prefixes) and repetition:
    ``plugin``, ``bootstrap`` (:func:`uniq_core.thermo.ar1_entropy_estimate`, with ``n_bootstrap``
    replicas) and ``estimate``, ``error`` (:func:`uniq_core.thermo.cross_chain_entropy_estimate`).
    """
    check_number("repetitions", repetitions, low=2, high=1000, integer=True)
    check_number("slow_share", slow_share, low=0.0, high=100.0, low_inclusive=False)
    eigenvalues = result.hessian_eigenvalues[0]
    k = len(eigenvalues)
    transition = 1 - config.lr * eigenvalues
    stationary_variance = config.lr**2 / (1 - transition**2)
    slow_coefficient = 1 - config.lr * config.weight_decay
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((k, k)) * np.sqrt(slow_share * stationary_variance / k)[:, None]
    out: dict[str, list[float]] = {f"{variant}_{name}": [] for variant in ("plain", "slow")
                                   for name in ("plugin", "bootstrap", "estimate", "error")}
    for repetition in range(repetitions):
        fast = np.empty((config.chains, config.sample_steps, k))
        slow = np.empty((config.chains, config.sample_steps, k))
        fast[:, 0] = rng.standard_normal((config.chains, k)) * np.sqrt(stationary_variance)
        slow[:, 0] = rng.standard_normal((config.chains, k))
        kicks = config.lr * rng.standard_normal((config.chains, config.sample_steps - 1, k))
        slow_kicks = np.sqrt(1 - slow_coefficient**2) * rng.standard_normal((config.chains, config.sample_steps - 1, k))
        for t in range(1, config.sample_steps):
            fast[:, t] = fast[:, t - 1] * transition + kicks[:, t - 1]
            slow[:, t] = slow[:, t - 1] * slow_coefficient + slow_kicks[:, t - 1]
        for variant, chains in (("plain", fast), ("slow", fast + slow @ mixing.T)):
            out[f"{variant}_plugin"].append(thermo.ar1_entropy_production(*thermo.fit_ar1(chains)))
            out[f"{variant}_bootstrap"].append(thermo.ar1_entropy_estimate(chains, n_bootstrap=n_bootstrap,
                                                                           seed=repetition))
            value, error = thermo.cross_chain_entropy_estimate(chains, return_error=True)
            out[f"{variant}_estimate"].append(value)
            out[f"{variant}_error"].append(error)
    return {name: np.array(values) for name, values in out.items()}


def positive_control(result: EntropyResult, config: EntropyConfig, *, seed: int = 0) -> dict[str, np.ndarray]:
    """The estimator on the linearised SGD chain of each seed, whose rate is known exactly.

    δ' = (I − ηH) δ + ξ, ξ ~ N(0, η² N) with each seed's top Hessian eigenvalues and noise N
    (``result.sgd_noise``), in ``config.chains`` stationary chains of ``config.sample_steps`` steps. Returns per
    seed ``estimate``, ``error`` (:func:`uniq_core.thermo.cross_chain_entropy_estimate`), ``exact``
    (:func:`uniq_core.thermo.quadratic_entropy_production`, its target) and ``exact_kl`` (the KL rate).
    """

    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {"estimate": [], "error": [], "exact": [], "exact_kl": []}
    for eigenvalues, noise in zip(result.hessian_eigenvalues, result.sgd_noise):
        transition = np.eye(len(eigenvalues)) - config.lr * np.diag(eigenvalues)
        covariance = config.lr**2 * noise
        stationary = linalg.solve_discrete_lyapunov(transition, covariance)
        starts = rng.standard_normal((config.chains, len(eigenvalues))) @ np.linalg.cholesky(stationary).T
        chains = thermo._simulate_ar1(transition, covariance, starts, config.sample_steps, 1, rng)[0]
        value, error = thermo.cross_chain_entropy_estimate(chains, return_error=True)
        out["estimate"].append(value)
        out["error"].append(error)
        out["exact"].append(thermo.quadratic_entropy_production(transition, covariance))
        out["exact_kl"].append(thermo.ar1_entropy_production(transition, covariance))
    return {name: np.array(values) for name, values in out.items()}


# --------------------------------------------------------------------------------------------- findings


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 2 glues, by glue name.

    ``results``: ``validation`` (:class:`ValidationResult`), ``stationary`` (:class:`EntropyResult`), ``null``
    (:func:`null_control`'s dict), ``positive`` (:func:`positive_control`'s dict), ``training``
    (:class:`TrainingResult`), ``learning`` (:class:`LearningResult`) and ``sweep`` (:class:`SweepResult`).
    ``configs``: ``validation`` (:class:`ValidationConfig`), ``stationary`` (:class:`EntropyConfig`) and
    ``learning`` (:class:`LearningConfig`). Keys are the glue names:
    ``ou_*`` (validation), ``st_*`` (at a minimum), ``null_*``/``pos_*`` (the controls), ``cur_*`` (currents),
    ``tr_*`` (along training), ``le_*`` (learning itself), ``sw_*`` (regimes) and ``claim_entropy*`` (the verdict). Values are ``int``, ``float`` or ``str``.
    """
    stationary, stationary_config = results["stationary"], configs["stationary"]
    return {
        **_validation_findings(results["validation"], configs["validation"]),
        **_minimum_findings(stationary, stationary_config),
        **_null_findings(results["null"]),
        **_positive_findings(results["positive"]),
        **_chain_findings(stationary, stationary_config),
        **_current_findings(stationary),
        **_training_findings(results["training"]),
        **_sweep_findings(results["sweep"]),
        **_learning_findings(results["learning"], configs["learning"]),
        **_verdict_findings(stationary, stationary_config, results["training"], results["learning"],
                            configs["learning"]),
    }


def _max_z(values: np.ndarray, targets: np.ndarray | float, errors: np.ndarray) -> float:
    """Largest |values − targets| / errors over the entries."""
    return float(np.max(np.abs(values - targets) / errors))


def _validation_findings(validation: ValidationResult, config: ValidationConfig) -> dict[str, float | int | str]:
    """The ``ou_*`` numbers and words of the rotational OU validation, at the smallest and largest interval."""
    pair_z = _max_z(validation.path, validation.pair, validation.path_error)
    euler_z = _max_z(validation.path, validation.euler, validation.path_error)
    expected_z = _max_z(validation.path, validation.path_expected, validation.path_error)
    cross_z = _max_z(validation.cross, validation.cross_exact, validation.cross_error)
    return {
        "ou_exact": float(validation.exact),
        "ou_dt_small": float(validation.dts[0]),
        "ou_pair_small": float(validation.pair[0]),
        "ou_path_small": float(validation.path[0]),
        "ou_path_small_error": float(validation.path_error[0]),
        "ou_circulation_exact": float(validation.circulation_exact),
        "ou_circulation_small": float(validation.circulation[0]),
        "ou_dt_large": float(validation.dts[-1]),
        "ou_pair_large": float(validation.pair[-1]),
        "ou_euler_large": float(validation.euler[-1]),
        "ou_path_large": float(validation.path[-1]),
        "ou_path_large_error": float(validation.path_error[-1]),
        "ou_expected_large": float(validation.path_expected[-1]),
        "ou_max_z": pair_z,
        "ou_pair_verdict": "within" if pair_z <= AGREEMENT_Z else "up to",
        "ou_euler_z": euler_z,
        "ou_euler_verdict": "rules out" if euler_z > AGREEMENT_Z else "does not rule out",
        "ou_expected_z": expected_z,
        "ou_expected_verdict": "agrees" if expected_z <= AGREEMENT_Z else "disagrees",
        "ou_cross_z": cross_z,
        "ou_cross_verdict": "agrees" if cross_z <= AGREEMENT_Z else "disagrees",
        "ou_segments": int(config.segments),
        "ou_cross_large": float(validation.cross[-1]),
        "ou_cross_large_error": float(validation.cross_error[-1]),
        "ou_cross_exact_large": float(validation.cross_exact[-1]),
    }


def _dimension_findings(stationary: EntropyResult) -> dict[str, float | int | str]:
    """How the exact rate depends on the subspace dimension d: its log–log slope over d (median over seeds),
    the rate per direction at the smallest and largest d, and whether it levels off between the last two."""
    dims = np.asarray(stationary.dimensions, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        median = np.nanmedian(np.asarray(stationary.rate_by_dimension, dtype=float), axis=0)
    finite = np.isfinite(median) & (median > 0)
    slope = float(np.polyfit(np.log(dims[finite]), np.log(median[finite]), 1)[0]) if finite.sum() >= 2 else np.nan
    last = np.flatnonzero(finite)
    step = float(median[last[-1]] / median[last[-2]]) if last.size >= 2 else np.nan
    doubling = float(dims[last[-1]] / dims[last[-2]]) if last.size >= 2 else np.nan
    return {
        "st_rate_slope": slope,
        "st_per_direction_small": float(median[last[0]] / dims[last[0]]) if last.size else np.nan,
        "st_per_direction_large": float(median[last[-1]] / dims[last[-1]]) if last.size else np.nan,
        "st_rate_last_step": step,
        "st_rate_last_factor": doubling,
        "st_rate_limit_word": "levels off: the largest subspaces give nearly one rate" if step < 1.1
        else "is still growing at the largest subspace, so it has no limit in reach here",
        "st_per_direction_word": "grows with d too" if slope > 1.1 else "falls with d" if slope < 0.9
        else "is roughly independent of d",
    }


def _minimum_findings(stationary: EntropyResult, config: EntropyConfig) -> dict[str, float | int | str]:
    """The ``st_*`` exact linearised rates at the minimum: by subspace dimension, over seeds, rotated noise."""
    rate_small = float(np.nanmedian(stationary.rate_by_dimension[:, 0]))
    rate_large = float(np.nanmedian(stationary.rate_by_dimension[:, -1]))
    rate_growth = rate_large / rate_small
    rotated_ratio = float(np.exp(np.mean(np.log(stationary.rotated_exact / stationary.sgd_exact))))
    return {
        "st_seeds": int(config.n_seeds),
        "st_lr": float(config.lr),
        "st_batch": int(config.batch_size),
        "st_subspace": int(config.subspace),
        "st_burn_in": int(config.burn_in),
        "st_relaxation": float(1 / (config.lr * config.weight_decay)),
        "st_burn_in_relaxations": float(config.burn_in * config.lr * config.weight_decay),
        "st_burn_in_word": ("longer than" if config.burn_in * config.lr * config.weight_decay > 1
                            else "shorter than"),
        "st_accuracy": 100 * float(np.mean(stationary.train_accuracy)),
        "st_gradient": float(np.max(stationary.gradient_norm)),
        "st_d_small": int(stationary.dimensions[0]),
        "st_d_large": int(stationary.dimensions[-1]),
        "st_rate_small": rate_small,
        "st_rate_large": rate_large,
        "st_rate_growth": rate_growth,
        "st_rate_growth_word": "grows" if rate_growth > 1 else "does not grow",
        **_dimension_findings(stationary),
        "st_exact": float(stationary.sgd_exact_mean),
        "st_exact_low": float(stationary.sgd_exact_interval[0]),
        "st_exact_high": float(stationary.sgd_exact_interval[1]),
        "st_exact_per_time": float(stationary.sgd_exact_mean / config.lr),
        "st_commutator": float(np.mean(stationary.commutator)),
        "st_langevin_exact": float(np.max(np.abs(stationary.langevin_exact))),
        "st_rotated_ratio": rotated_ratio,
        "st_rotated_word": "raises" if rotated_ratio > 1 else "lowers",
        "st_aligned_word": "aligned with the curvature more than random orientations" if rotated_ratio > 1
        else "not better aligned with the curvature than random orientations",
    }


def _mean_and_sem(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (ddof 1) of ``values``."""
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(len(values)))


def _null_word(values: np.ndarray) -> str:
    """"consistent with zero" when the mean lies within ``AGREEMENT_Z`` standard errors of zero, else "biased"."""
    mean, sem = _mean_and_sem(values)
    return "consistent with zero" if abs(mean) <= AGREEMENT_Z * sem else "biased"


def _null_findings(null: Mapping[str, np.ndarray]) -> dict[str, float | int | str]:
    """The ``null_*`` means, errors and words of both estimators on the plain and slow reversible controls."""
    said: dict[str, float | int | str] = {"null_reps": int(len(null["plain_estimate"]))}
    for variant in ("plain", "slow"):
        for name in ("plugin", "bootstrap", "estimate"):
            mean, sem = _mean_and_sem(null[f"{variant}_{name}"])
            said[f"null_{variant}_{name}"], said[f"null_{variant}_{name}_sem"] = mean, sem
        said[f"null_{variant}_bootstrap_word"] = _null_word(null[f"{variant}_bootstrap"])
        said[f"null_{variant}_estimate_word"] = _null_word(null[f"{variant}_estimate"])
        said[f"null_{variant}_error_ratio"] = float(
            np.mean(null[f"{variant}_error"]) / np.std(null[f"{variant}_estimate"], ddof=1))
    return said


def _positive_findings(positive: Mapping[str, np.ndarray]) -> dict[str, float | int | str]:
    """The ``pos_*`` numbers and words of the cross-chain estimate on the linearised SGD chains."""
    positive_z = (positive["estimate"] - positive["exact"]) / positive["error"]
    resolved = positive["estimate"] > RESOLVED_Z * positive["error"]
    return {
        "pos_z": ", ".join(f"{z:.1f}" for z in positive_z),
        "pos_z_max": float(np.max(np.abs(positive_z))),
        "pos_word": "recovers" if np.max(np.abs(positive_z)) <= AGREEMENT_Z else "does not recover",
        "pos_exact": float(np.mean(positive["exact"])),
        "pos_estimate": float(np.mean(positive["estimate"])),
        "pos_resolved": "every seed" if resolved.all() else "some seeds only" if resolved.any() else "no seed",
        "pos_kl_ratio": float(np.max(np.abs(positive["exact"] / positive["exact_kl"] - 1))),
    }


def _detected_word(stationary: EntropyResult, config: EntropyConfig) -> str:
    """Whether the pooled SGD rate at a stationary minimum is resolved from zero
    (:func:`uniq_core.experiments.verdicts.stationary_entropy_decision`, the rule the verdict row reports
    beside its decision on learning)."""
    from uniq_core.experiments import verdicts

    word = verdicts.stationary_entropy_decision(stationary).word
    return {verdicts.HOLDS: "resolved from zero", verdicts.FAILS: "resolved, below zero"}.get(
        word, "resolved from zero only at some levels" if word.startswith("depends on") else "not resolved from zero")


def _chain_findings(stationary: EntropyResult, config: EntropyConfig) -> dict[str, float | int | str]:
    """The ``st_*`` estimates from the simulated chains: plug-in, pooled decision, stationarity halves."""
    exact_quadratic = float(np.mean(stationary.sgd_exact_quadratic))
    said: dict[str, float | int | str] = {
        "st_transitions": int(config.chains * (config.sample_steps - 1)),
        "st_chains": int(config.chains),
        "st_steps": int(config.sample_steps),
        "st_sgd_plugin": float(np.mean(stationary.sgd_plugin)),
        "st_langevin_plugin": float(np.mean(stationary.langevin_plugin)),
        "st_sgd_estimate": float(stationary.sgd_pooled),
        "st_sgd_estimate_error": float(stationary.sgd_pooled_error),
        "st_langevin_estimate": float(stationary.langevin_pooled),
        "st_langevin_estimate_error": float(stationary.langevin_pooled_error),
        "st_langevin_pooled_z": float(stationary.langevin_pooled / stationary.langevin_pooled_error),
        "st_langevin_null": "passes" if stationary.langevin_null_holds else "fails",
        "st_systematic": float(stationary.systematic),
        "st_decision_z": float(inspect.signature(pooled_decision).parameters["z"].default),
        "st_low": float(stationary.decision_interval[0]),
        "st_high": float(stationary.decision_interval[1]),
        "st_detected": _detected_word(stationary, config),
        "st_sgd_per_time": float(stationary.sgd_pooled / config.lr),
        "st_exact_quadratic": exact_quadratic,
        "st_vs_exact_z": float((stationary.sgd_pooled - exact_quadratic) / stationary.sgd_pooled_error),
    }
    halves_z = []
    for kind in ("sgd", "langevin"):
        first, second = getattr(stationary, f"{kind}_first_half"), getattr(stationary, f"{kind}_second_half")
        # each half has about twice the variance of the whole: error of the difference of the pooled halves
        error = 2 * getattr(stationary, f"{kind}_pooled_error")
        said[f"st_{kind}_first"] = float(np.mean(first))
        said[f"st_{kind}_second"] = float(np.mean(second))
        said[f"st_{kind}_halves_z"] = float((np.mean(second) - np.mean(first)) / error)
        halves_z.append(said[f"st_{kind}_halves_z"])
    said["st_halves_word"] = ("no significant drift between the halves, which at this power does not show "
                              "stationarity" if max(abs(z) for z in halves_z) <= AGREEMENT_Z
                              else "a drift between the halves: the chains are not stationary")
    return said


def _current_findings(stationary: EntropyResult) -> dict[str, float | int | str]:
    """The ``cur_*`` largest circulation z over seeds and whether a current is visible in the top plane."""
    sgd_z = float(np.max(np.abs(stationary.sgd_circulation / stationary.sgd_circulation_error)))
    langevin_z = float(np.max(np.abs(stationary.langevin_circulation / stationary.langevin_circulation_error)))
    return {
        "cur_sgd_z": sgd_z,
        "cur_langevin_z": langevin_z,
        "cur_word": "within" if sgd_z <= AGREEMENT_Z else "as much as",
        "cur_visible": "not visible" if sgd_z <= AGREEMENT_Z else "visible",
        **_tur_findings(stationary),
    }


def circulation_currents(stationary: EntropyResult) -> np.ndarray:
    """The first seed's time-integrated circulation in the top principal plane, one per healthy chain
    (:func:`uniq_core.thermo.integrated_circulation`)."""
    plane = np.asarray(stationary.sgd_plane, dtype=float)
    return np.array([thermo.integrated_circulation(chain) for chain in plane if np.isfinite(chain).all()])


def _tur_findings(stationary: EntropyResult) -> dict[str, float | int | str]:
    """The ``cur_tur*`` model-free lower bound from the circulation current about the minimum (thermodynamic
    uncertainty relation, :func:`uniq_core.thermo.tur_lower_bound`), against the first seed's exact rate."""
    currents = circulation_currents(stationary)
    steps = int(np.asarray(stationary.sgd_plane).shape[1]) - 1
    bound = thermo.tur_lower_bound(currents, steps) if currents.size >= 2 else float("nan")
    exact = float(np.asarray(stationary.sgd_exact, dtype=float).ravel()[0])
    fraction = bound / exact if exact > 0 else float("nan")
    return {
        "cur_tur": bound,
        "cur_tur_chains": int(currents.size),
        "cur_tur_fraction": fraction,
        "cur_tur_word": (f"the bound is {bound:.1e} nats per step, {fraction:.1e} of that seed's exact linearised "
                         "rate: weak, as a current that carries little of the entropy production must give")
        if bound > 0 else "the current is not resolved from zero, so it gives no bound",
    }


def _training_findings(training: TrainingResult) -> dict[str, float | int | str]:
    """The ``tr_*`` local linearised rate along training: start, peak, end, and its relation to sharpness.

    The correlation of log rate with sharpness is taken over the finite (seed, checkpoint) pairs only, so a
    diverged seed's NaN checkpoints or a rate clamped at zero do not turn it into NaN."""
    peak = int(np.nanargmax(training.sgd_rate_mean))
    sharpest = int(np.nanargmax(np.nanmean(training.sharpness, axis=0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rate = np.log(training.sgd_rate.ravel())
    sharpness = training.sharpness.ravel()
    finite = np.isfinite(log_rate) & np.isfinite(sharpness)
    correlation = float(np.corrcoef(log_rate[finite], sharpness[finite])[0, 1])
    smallest = float(np.nanmin(training.sgd_rate))
    return {
        "tr_peak": float(training.sgd_rate_mean[peak]),
        "tr_peak_step": int(training.steps[peak]),
        "tr_start": float(training.sgd_rate_mean[0]),
        "tr_end": float(training.sgd_rate_mean[-1]),
        "tr_peak_sharpness": float(np.nanmean(training.sharpness[:, peak])),
        "tr_sharpest_step": int(training.steps[sharpest]),
        "tr_sharpest": float(np.nanmean(training.sharpness[:, sharpest])),
        "tr_correlation": correlation,
        "tr_min": smallest,
        "tr_positive": "positive at every checkpoint of every seed" if smallest > 0
        else "zero at some checkpoint (the exact rate is clamped at zero from below)",
        "tr_peak_word": "at the same checkpoint as" if peak == sharpest else "at a different checkpoint from",
        **_follow_findings(training),
        **_contraction_findings(training),
        "tr_end_word": "below" if training.sgd_rate_mean[-1] < training.sgd_rate_mean[peak] else "at",
    }


def _contraction_findings(training: TrainingResult) -> dict[str, float | int | str]:
    """The ``lc_*`` names: phase-space contraction of gradient descent along learning, per checkpoint and
    averaged over the run, with and without the weight decay's share."""
    whole, data = learning_contraction(training), learning_contraction(training, data_only=True)
    contraction = np.asarray(training.contraction, dtype=float)
    decision = rules.interval_rule(whole)
    return {
        "lc_start": float(np.nanmean(contraction[:, 0])),
        "lc_end": float(np.nanmean(contraction[:, -1])),
        "lc_min": float(np.nanmin(contraction)),
        "lc_run": float(np.nanmean(whole)),
        "lc_data_run": float(np.nanmean(data)),
        "lc_interval": (f"{decision.low:.3g} to {decision.high:.3g}, {decision.interval_kind}"
                        if np.isfinite(decision.low) else decision.interval_kind),
        "lc_sign_word": "contracts volume at every checkpoint of every seed" if np.nanmin(contraction) > 0
        else "expands volume at some checkpoints (negative curvature, or curvature beyond 2/η)",
    }


def learning_summary(learning: LearningResult, config: LearningConfig, subspace: int | None = None) -> dict[str, Any]:
    """What the learning run's entropy production shows in the linearised chain, computed once for the
    chapter and the verdict row: per seed at the default subspace (or ``subspace``), SGD's total, excess and
    housekeeping over the run, the Langevin control's, the housekeeping share of SGD's total, the closed form
    of the excess, the horizon at which the housekeeping has produced as much as the whole relaxation
    (excess over the stationary rate), and the real run's deviation from the chain against the chain's own;
    the mean housekeeping with its t-interval over seeds (or, below :data:`~uniq_core.rules.MIN_UNITS` seeds,
    what it would be)."""
    column = list(np.asarray(learning.subspaces)).index(subspace or config.subspace)

    def at(name: str) -> np.ndarray:
        return np.asarray(getattr(learning, name), dtype=float)[:, column]

    housekeeping = at("sgd_housekeeping")
    mean, interval = stats.t_interval(housekeeping)
    seeds = int(np.isfinite(housekeeping).sum())
    interval_text = (f"{interval[0]:.3g} to {interval[1]:.3g}, t-interval over {seeds} seeds"
                     if seeds >= rules.MIN_UNITS else
                     f"over {grammar.plural(seeds, 'seed')}, fewer than {rules.MIN_UNITS}: the interval would be {interval[0]:.3g} to "
                     f"{interval[1]:.3g}; decide nothing")
    return {
        "seeds": seeds,
        "housekeeping": housekeeping, "housekeeping_mean": mean, "housekeeping_interval": interval,
        "housekeeping_text": interval_text,
        "total": at("sgd_total"), "excess": at("sgd_excess"),
        "langevin_total": at("langevin_total"), "langevin_housekeeping": at("langevin_housekeeping"),
        "share": housekeeping / at("sgd_total"),
        "displacement_kl": at("displacement_kl"),
        "stationary_rate": at("sgd_stationary_rate"),
        "horizon": at("sgd_horizon"),
        "pair_route_excess": at("sgd_total") - housekeeping,
        "early": at("sgd_housekeeping_early"),
        "late": housekeeping + 9 * config.steps * at("sgd_stationary_rate"),
        "initial_noise": at("sgd_housekeeping_initial_noise"),
        "initial_spread": at("sgd_housekeeping_initial_spread"),
        "transient_ratio": housekeeping / (config.steps * at("sgd_stationary_rate")),
        "deviation": at("model_deviation"), "null_deviation": at("null_deviation"),
    }


def _learning_findings(learning: LearningResult, config: LearningConfig) -> dict[str, float | int | str]:
    """The ``le_*`` names: entropy production of learning from initialisation in the linearised chains."""
    summary = learning_summary(learning, config)
    sizes = []
    for d in learning.subspaces:
        at_d = learning_summary(learning, config, int(d))
        sizes.append(f"{int(d)} directions: {at_d['housekeeping_mean']:.3g} nats of housekeeping "
                     f"({np.mean(at_d['transient_ratio']):.2g} times the stationary rate times the run's length), "
                     f"a mean share of {100 * np.mean(at_d['share']):.2g}%; the real run {np.median(at_d['deviation']):.2f} "
                     f"from the chain, its own paths {np.median(at_d['null_deviation']):.2f}")
    beyond = int(np.sum(summary["deviation"] > summary["null_deviation"]))
    real = np.asarray(learning.real_distance, dtype=float)
    wide = np.asarray(learning.sgd_excess_initial_spread, dtype=float)[:, list(learning.subspaces).index(config.subspace)]
    return {
        "le_seeds": summary["seeds"],
        "le_steps": int(config.steps),
        "le_subspace": int(config.subspace),
        "le_lr": config.lr,
        "le_batch": int(config.batch_size),
        "le_sgd_total": float(np.mean(summary["total"])),
        "le_sgd_excess": float(np.mean(summary["excess"])),
        "le_sgd_housekeeping": summary["housekeeping_mean"],
        "le_housekeeping_interval": summary["housekeeping_text"],
        "le_share": 100 * float(np.mean(summary["share"])),
        "le_langevin_total": float(np.mean(summary["langevin_total"])),
        "le_langevin_housekeeping": float(np.max(np.abs(summary["langevin_housekeeping"]))),
        "le_excess_ratio": float(np.mean(summary["excess"] / summary["langevin_total"])),
        "le_displacement_kl": float(np.mean(summary["displacement_kl"])),
        "le_excess_theory_gap": float(np.max(np.abs(summary["pair_route_excess"] / summary["displacement_kl"] - 1))),
        "le_stationary_rate": float(np.mean(summary["stationary_rate"])),
        "le_transient_ratio": float(np.mean(summary["transient_ratio"])),
        "le_horizon": float(np.mean(summary["horizon"])),
        "le_horizon_time": float(np.mean(summary["horizon"])) * config.lr,
        "le_housekeeping_initial_noise": float(np.mean(summary["initial_noise"])),
        "le_housekeeping_initial_spread": float(np.mean(summary["initial_spread"])),
        "le_excess_initial_spread": float(np.mean(wide)),
        "le_by_subspace": "; ".join(sizes),
        "le_deviation": float(np.median(summary["deviation"])),
        "le_null_deviation": float(np.median(summary["null_deviation"])),
        "le_null_quantile": round(100 * NULL_QUANTILE),
        "le_beyond": beyond,
        "le_model_word": ("departs from the run by more than its own noise" if 2 * beyond > summary["seeds"]
                          else "stays within its own noise of the run"),
        "le_real_end": float(np.nanmedian(real[:, -1] / real[:, 0])),
        "le_model_end": float(np.median(np.asarray(learning.model_distance)[:, -1]
                                        / np.asarray(learning.model_distance)[:, 0])),
        "le_run_time": config.lr * config.steps,
        "le_descent_time": config.descent_lr * config.descent_steps,
        "le_train_accuracy": 100 * float(np.mean(learning.train_accuracy)),
    }


def per_seed_correlations(training: TrainingResult) -> np.ndarray:
    """Per seed, the Pearson correlation across checkpoints of the log local rate with the sharpness (over
    that seed's finite checkpoints; NaN with fewer than three): one number per independent unit."""
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for rate, sharpness in zip(np.log(np.asarray(training.sgd_rate, dtype=float)),
                                   np.asarray(training.sharpness, dtype=float)):
            finite = np.isfinite(rate) & np.isfinite(sharpness)
            ok = finite.sum() >= 3 and np.ptp(rate[finite]) > 0 and np.ptp(sharpness[finite]) > 0
            out.append(float(np.corrcoef(rate[finite], sharpness[finite])[0, 1]) if ok else np.nan)
    return np.array(out)


def _follow_findings(training: TrainingResult) -> dict[str, float | int | str]:
    """Whether the local rate follows the sharpness, from the per-seed correlations with an interval over
    seeds (:func:`uniq_core.rules.interval_rule`, claim: above 0); with fewer than five seeds the values are
    shown and nothing is claimed."""
    decision = rules.interval_rule(per_seed_correlations(training), unit="seeds")
    words = {rules.HOLDS: "rises and falls with", rules.FAILS: "moves against"}
    interval = (f"per-seed correlation {decision.value:.2f}, {decision.interval_kind} {decision.low:.2f} to "
                f"{decision.high:.2f}" if np.isfinite(decision.low) else decision.interval_kind)
    return {"tr_follow_word": words.get(decision.word, "is not shown to follow"), "tr_follow_interval": interval}


def _sweep_findings(sweep: SweepResult) -> dict[str, float | int | str]:
    """The ``sw_*`` exact rates over the grid without heat (per step and per unit of learning time) and with it."""
    cold = sweep.sgd_rate[0]
    per_time = cold / sweep.lrs  # nats per unit of learning time η t
    cold_small, cold_large = float(np.nanmedian(cold[:, 0])), float(np.nanmedian(cold[:, -1]))
    per_time_median = np.nanmedian(per_time, axis=0)
    time_ratio = float(np.nanmax(per_time_median) / np.nanmin(per_time_median))
    return {
        "sw_lr_min": float(sweep.lrs[0]),
        "sw_lr_max": float(sweep.lrs[-1]),
        "sw_lr_ratio": float(sweep.lrs[-1] / sweep.lrs[0]),
        "sw_cold_small": cold_small,
        "sw_cold_large": cold_large,
        "sw_step_ratio": cold_large / cold_small,
        "sw_step_trend": "grows" if cold_large > cold_small else "falls",
        "sw_batch_spread": float(np.nanmax(np.abs(cold / cold[:1] - 1))),
        "sw_hot_t": float(sweep.temperatures[-1]),
        "sw_hot_drop": float(np.nanmedian(sweep.sgd_rate[-1] / cold)),
        "sw_commutator_low": float(np.nanmin(sweep.commutator[0])),
        "sw_commutator_high": float(np.nanmax(sweep.commutator[0])),
        "sw_time_ratio": time_ratio,
        "sw_time_small": float(np.nanmedian(per_time[:, 0])),
        "sw_time_large": float(np.nanmedian(per_time[:, -1])),
        "sw_time_trend": "stays within a factor" if time_ratio < TIME_RATIO_CONSTANT else "varies by a factor",
    }


def _verdict_findings(stationary: EntropyResult, config: EntropyConfig, training: TrainingResult,
                      learning: LearningResult, learning_config: LearningConfig) -> dict[str, float | int | str]:
    """The ``claim_entropy*`` names of the verdict box: the verdict page's row for this claim, from the same
    row function (:func:`uniq_core.experiments.verdicts.row_entropy`)."""
    from uniq_core.experiments import verdicts

    return verdicts.claim_findings(verdicts.row_entropy(stationary, config, training, learning, learning_config))
