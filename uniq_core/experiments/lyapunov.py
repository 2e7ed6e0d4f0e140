"""Chapter 1: is training chaotic? Four measurements, each a ``Config -> run -> Result`` triple.

- ``Divergence``: perturbed replicas over seeds; spread growth, fitted exponent with a confidence
  interval, convergence ratio and effective dimensionality, and deep-lyapunov's three numbers.
- ``Tangent``: the top-k Lyapunov spectrum of full-batch training as a map, against the sharpness and the
  edge of stability, over step sizes.
- ``Instability``: Frankle et al.'s instability analysis: copies split at a given epoch with different
  minibatch orders, and the error barrier between them at the end.
- ``Regime``: the fitted exponent (over seeds, with intervals) and the divergence fraction over learning
  rate × perturbation scale; perturbations below float32 resolution train in float64.
"""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from uniq_core import barriers, data, grammar, lyapunov, models, replicas, rules, runtime
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_widths
from uniq_core.stats import holm_intervals, log_t_interval, t_interval

if TYPE_CHECKING:
    from uniq_core.experiments.divergence import ReproducibilityResult


def _check_common(config) -> None:
    check_choice("dataset", config.dataset, data.DATASETS)
    check_widths("widths", config.widths)
    check_number("seed", config.seed, low=0, integer=True)
    check_choice("device", config.device, runtime.DEVICES)


def _model(config, dataset: data.Dataset, seed: int) -> torch.nn.Module:
    runtime.seed_everything(seed)
    return models.MLP(dataset.n_features, config.widths, dataset.n_classes, "relu")


# -------------------------------------------------------------------------------------- divergence


@dataclass(frozen=True)
class DivergenceConfig(ConfigBase):
    """Replicas of an MLP perturbed by ``perturbation`` (relative, per tensor), trained with minibatch SGD."""

    dataset: str = "digits"
    n_train: int = 1500
    test_fraction: float = 0.15
    widths: tuple[int, ...] = (128,)
    lr: float = 0.1
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    perturbation: float = 0.01
    n_replicas: int = 9
    n_seeds: int = 3
    independent_order: bool = False
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_number("n_train", self.n_train, low=64, high=100_000, integer=True)
        check_number("test_fraction", self.test_fraction, low=0.05, high=0.5)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=self.n_train, integer=True)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        check_number("perturbation", self.perturbation, low=0.0, high=1.0, low_inclusive=False)
        check_number("n_replicas", self.n_replicas, low=3, high=1024, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=100, integer=True)
        check_choice("independent_order", self.independent_order, (False, True))

    @classmethod
    def quick(cls) -> "DivergenceConfig":
        return cls()

    @classmethod
    def full(cls) -> "DivergenceConfig":
        return cls(epochs=40, n_seeds=8, n_replicas=17, device="auto")


@dataclass
class DivergenceResult(ResultBase):
    """Per seed s and recorded epoch t: ``spread`` (S, T), the RMS distance of healthy replicas from their
    centroid. Per seed: ``fitted_exponent`` (slope of ln spread per epoch), ``convergence_ratio`` (final /
    initial spread), ``finite_time_exponent`` (= ln ratio / epochs), ``effective_dimensionality``
    (participation ratio of per-epoch checkpoints), the peer package's ``peer_convergence_ratio``,
    ``peer_lyapunov`` and ``peer_effective_dimensionality`` on the same checkpoints, ``diverged_fraction``
    and mean ``test_accuracy``. ``exponent_mean``/``exponent_interval``: mean and 95% t-interval over seeds.
    Units: rates are per epoch; ``steps_per_epoch`` and ``lr`` convert them (per step: λ / steps_per_epoch;
    per unit of learning time ηt: λ / (η·steps_per_epoch)). ``n_parameters`` P and ``dead_parameters``, the
    first-layer weights of input features that are zero on every training example (their gradient is
    zero, so their share of the perturbation never changes and sets a floor under the spread);
    ``live_exponent`` (S,): the fitted exponent of the spread with those weights projected out, from the
    per-epoch checkpoints. ``relative_exponent`` (S,): the fitted exponent of the relative spread
    s(t)/‖θ(t)‖ (‖θ‖ the mean parameter norm of the healthy replicas), and ``norm_growth`` (S,): the fitted
    exponent of ‖θ(t)‖, so that ``fitted_exponent`` = ``relative_exponent`` + ``norm_growth`` exactly (a
    least-squares slope is linear in the series): the part of the spread's growth that is growth of the
    weights themselves. ``norm`` (S, T): that mean parameter norm at each record (NaN for a seed with a
    diverged replica).
    """

    epochs: np.ndarray
    spread: np.ndarray
    fitted_exponent: np.ndarray
    exponent_mean: float
    exponent_interval: np.ndarray
    convergence_ratio: np.ndarray
    finite_time_exponent: np.ndarray
    effective_dimensionality: np.ndarray
    peer_convergence_ratio: np.ndarray
    peer_lyapunov: np.ndarray
    peer_effective_dimensionality: np.ndarray
    diverged_fraction: np.ndarray
    test_accuracy: np.ndarray
    wall_time: float
    steps_per_epoch: int = 1
    lr: float = float("nan")
    n_parameters: int = 0
    dead_parameters: int = 0
    live_exponent: np.ndarray | float = float("nan")
    relative_exponent: np.ndarray | float = float("nan")
    norm_growth: np.ndarray | float = float("nan")
    norm: np.ndarray | float = float("nan")


def relative_spread_exponents(record: replicas.ReplicaRun, steps_per_epoch: int) -> tuple[float, float]:
    """The fitted exponents per epoch of the relative spread s(t)/‖θ(t)‖ and of the mean parameter norm
    ‖θ(t)‖ of the healthy replicas (NaN for an ensemble with a diverged replica)."""
    if record.diverged.any():
        return float("nan"), float("nan")
    epochs = record.steps / steps_per_epoch
    norm = np.mean(np.asarray(record.parameter_norm, dtype=np.float64), axis=0)
    relative, _ = lyapunov.fitted_exponent(epochs, record.spread / norm)
    growth, _ = lyapunov.fitted_exponent(epochs, norm)
    return relative, growth


def measure_divergence(
    record: replicas.ReplicaRun, steps_per_epoch: int, n_epochs: int, *, include_peer: bool = True
) -> dict[str, float]:
    """Our metrics and (unless ``include_peer`` is False) the peer's, from one engine run with per-epoch
    checkpoints.

    An ensemble in which any replica diverged gets NaN throughout: its spread mixes replicas that stopped
    at different times, so no growth rate of it is meaningful (the divergence is reported separately).
    """
    keys = ("fitted_exponent", "convergence_ratio", "finite_time_exponent", "effective_dimensionality")
    keys += ("peer_convergence_ratio", "peer_lyapunov", "peer_effective_dimensionality") if include_peer else ()
    if record.diverged.any():
        return dict.fromkeys(keys, float("nan"))
    epochs = record.steps / steps_per_epoch
    slope, _ = lyapunov.fitted_exponent(epochs, record.spread)
    ours = {
        "fitted_exponent": slope,
        "convergence_ratio": lyapunov.convergence_ratio(record.spread),
        "finite_time_exponent": lyapunov.finite_time_exponent(record.spread, epochs[-1]),
        "effective_dimensionality": lyapunov.effective_dimensionality(record.checkpoints),
    }
    if not include_peer:
        return ours
    peer = lyapunov.peer_metrics(record.checkpoints, n_epochs)
    return ours | {f"peer_{key}": value for key, value in peer.items()}


def run_divergence(config: DivergenceConfig, *, progress: bool = True, use_cache: bool = True) -> DivergenceResult:
    """Train ``n_seeds`` independent ensembles of ``n_replicas`` and measure how their spread evolves."""

    def compute() -> DivergenceResult:
        device = runtime.device(config.device)
        dataset = data.load(config.dataset, n_train=config.n_train, test_fraction=config.test_fraction,
                            seed=config.seed, device=device)
        per_epoch = dataset.x_train.shape[0] // config.batch_size
        rows: list[dict[str, float]] = []
        spreads, accuracy, diverged, wall, live, relative, norms = [], [], [], 0.0, [], [], []
        dead_inputs = (dataset.x_train == 0).all(dim=0).cpu().numpy()
        n_parameters = sum(p.numel() for p in _model(config, dataset, config.seed).parameters())
        keep = np.ones(n_parameters, dtype=bool)
        keep[: config.widths[0] * dataset.n_features] = ~np.tile(dead_inputs, config.widths[0])
        seeds = runtime.progress_bar(range(config.seed, config.seed + config.n_seeds), "seeds", progress)
        for seed in seeds:
            record = replicas.train_replicas(
                _model(config, dataset, seed), dataset, n_replicas=config.n_replicas,
                perturbation=config.perturbation, lr=config.lr, momentum=config.momentum,
                batch_size=config.batch_size, n_steps=config.epochs * per_epoch,
                independent_order=config.independent_order, seed=seed, record_every=max(1, per_epoch // 4),
                checkpoint_every=per_epoch, device=device,
            )
            rows.append(measure_divergence(record, per_epoch, config.epochs))
            relative.append(relative_spread_exponents(record, per_epoch))
            norms.append(np.full(len(record.steps), np.nan) if record.diverged.any()
                         else np.mean(np.asarray(record.parameter_norm, dtype=np.float64), axis=0))
            live.append(float("nan") if record.diverged.any() else lyapunov.fitted_exponent(
                np.arange(record.checkpoints.shape[0], dtype=np.float64),
                lyapunov.checkpoint_spread(record.checkpoints, keep))[0])
            spreads.append(record.spread)
            accuracy.append(np.nanmean(record.test_accuracy) if record.healthy.any() else np.nan)
            diverged.append(record.diverged.mean())
            wall += record.wall_time
            epochs = record.steps / per_epoch
        column = {key: np.array([row[key] for row in rows]) for key in rows[0]}
        centre, interval = t_interval(column["fitted_exponent"])
        return DivergenceResult(
            epochs=epochs, spread=np.stack(spreads), exponent_mean=centre, exponent_interval=interval,
            diverged_fraction=np.array(diverged), test_accuracy=np.array(accuracy), wall_time=wall,
            steps_per_epoch=per_epoch, lr=config.lr, n_parameters=n_parameters,
            dead_parameters=int(dead_inputs.sum()) * config.widths[0], live_exponent=np.array(live),
            relative_exponent=np.array([r for r, _ in relative]), norm_growth=np.array([g for _, g in relative]),
            norm=np.stack(norms),
            **column,
        )

    return runtime.cached(compute, config, DivergenceResult, use_cache=use_cache)


def early_and_late_exponents(result: DivergenceResult) -> tuple[np.ndarray, np.ndarray]:
    """Per seed, the fitted exponent (slope of ln spread per epoch) over the first and over the second half
    of the run (the middle record belongs to both). The late window excludes the initial transient in which
    random perturbations align with the most expanding directions (:func:`alignment_bias`)."""
    half = result.epochs[-1] / 2
    early = result.epochs <= half
    late = result.epochs >= half
    fit = lyapunov.fitted_exponent
    return (np.array([fit(result.epochs[early], spread[early])[0] for spread in result.spread]),
            np.array([fit(result.epochs[late], spread[late])[0] for spread in result.spread]))


def late_relative_exponents(result: DivergenceResult) -> np.ndarray:
    """Per seed, the fitted exponent of the relative spread s(t)/‖θ(t)‖ over the second half of the run (NaN
    where the norms were not recorded or a replica diverged)."""
    norm = np.asarray(result.norm, dtype=float)
    if norm.ndim != 2:
        return np.full(len(result.spread), np.nan)
    late = result.epochs >= result.epochs[-1] / 2
    return np.array([lyapunov.fitted_exponent(result.epochs[late], (spread / scale)[late])[0]
                     if np.isfinite(scale).all() else np.nan for spread, scale in zip(result.spread, norm)])


def late_minus_early(result: DivergenceResult, confidence: float = 0.95) -> tuple[float, np.ndarray]:
    """Mean over seeds of the paired difference late − early of :func:`early_and_late_exponents` and its
    Student-t interval (:func:`uniq_core.stats.t_interval`); NaN interval with fewer than two seeds."""
    early, late = early_and_late_exponents(result)
    return t_interval(late - early, confidence)


def alignment_bias(n_parameters: int, duration: float, *, least_squares: bool = True) -> float:
    """Bound on the downward bias of a growth rate measured from an isotropic random perturbation.

    A random unit direction has a squared component of order 1/P along the most expanding direction, so
    ln s(t) = λ₁t + ½ ln(c₁ + Σ_{i>1} c_i e^{2(λ_i−λ₁)t}) with c₁ ~ 1/P: the second term falls by about
    ½ ln P while the perturbation aligns. The finite-time exponent ln(s(T)/s(0))/T is therefore biased by
    about −½ ln P / T; a least-squares slope over [0, T] of a term that falls monotonically by D is at
    most 3D/(2T) (a step at T/2), so with ``least_squares`` the bound is ¾ ln P / T. The same argument
    as for random tangent vectors (Benettin et al. 1980).
    """
    check_number("n_parameters", n_parameters, low=1, integer=True)
    check_number("duration", duration, low=0.0, low_inclusive=False)
    return (1.5 if least_squares else 1.0) * 0.5 * float(np.log(n_parameters)) / float(duration)


def per_step_and_learning_time(rate_per_epoch, steps_per_epoch: int, lr: float):
    """A rate per epoch as a rate per step (÷ steps per epoch) and per unit of learning time ηt
    (÷ η·steps per epoch), so that step sizes can be compared on one clock."""
    rate = np.asarray(rate_per_epoch, dtype=np.float64)
    return rate / steps_per_epoch, rate / (lr * steps_per_epoch)


def peer_sign_disagreements(result: DivergenceResult) -> int:
    """Seeds on which the peer's convergence ratio and its own exponent disagree in sign
    (ratio < 1 with exponent > 0, or ratio > 1 with exponent < 0)."""
    ratio_says = np.sign(np.log(result.peer_convergence_ratio))
    exponent_says = np.sign(result.peer_lyapunov)
    finite = np.isfinite(ratio_says) & np.isfinite(exponent_says)
    return int((ratio_says[finite] != exponent_says[finite]).sum())


# ----------------------------------------------------------------------------------------- tangent


@dataclass(frozen=True)
class TangentConfig(ConfigBase):
    """Full-batch GD (or heavy ball) on ``n_train`` examples, for each step size in ``lrs``: ``transient``
    steps of the orbit alone, ``warmup`` steps in which orbit and tangents advance (the tangents align with
    the most expanding directions; nothing is accumulated), then the top-``k`` exponents accumulated over
    ``n_steps`` steps, with the Hessian's largest and smallest eigenvalues at ``n_checkpoints`` points.
    ``loss``: "cross_entropy" or "mse" (squared error against one-hot targets); ``widths=()`` is a linear
    model. ``n_inits`` initialisations (seeds ``seed``, ``seed`` + 1, …; each with its own tangent draw) run
    the same Benettin measurement; the first also carries the Hessian checkpoints. The uncertainty of a
    finite-time exponent is over initialisations and tangent draws, so its sign is decided over them."""

    dataset: str = "digits"
    n_train: int = 256
    widths: tuple[int, ...] = (32,)
    lrs: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 4.0)
    momentum: float = 0.0
    k: int = 3
    transient: int = 0
    warmup: int = 10
    n_steps: int = 150
    n_checkpoints: int = 6
    loss: str = "cross_entropy"
    n_inits: int = 8
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_choice("loss", self.loss, lyapunov.LOSSES)
        check_number("n_inits", self.n_inits, low=1, high=256, integer=True)
        check_number("n_train", self.n_train, low=16, high=100_000, integer=True)
        if not self.lrs or not isinstance(self.lrs, tuple):
            raise ValueError(f"lrs={self.lrs!r} is not allowed; expected a non-empty tuple of positive numbers")
        for lr in self.lrs:
            check_number("lrs", lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("k", self.k, low=1, high=64, integer=True)
        check_number("transient", self.transient, low=0, integer=True)
        check_number("warmup", self.warmup, low=0, integer=True)
        check_number("n_steps", self.n_steps, low=1, integer=True)
        check_number("n_checkpoints", self.n_checkpoints, low=2, high=self.n_steps + 1, integer=True)

    @classmethod
    def quick(cls) -> "TangentConfig":
        return cls()

    @classmethod
    def standard(cls) -> "TangentConfig":
        """Long enough for the late top exponent's sign to settle (:func:`settled_signs`) at the calm step
        sizes on a CPU."""
        return super().standard().replace(n_steps=2000, n_checkpoints=11)

    @classmethod
    def full(cls) -> "TangentConfig":
        return cls(n_train=1024, widths=(64,), lrs=(0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0), k=6,
                   warmup=50, n_steps=600, n_checkpoints=16, n_inits=16, device="auto")


@dataclass(frozen=True)
class EdgeConfig(TangentConfig):
    """The tangent measurement at the edge of stability (Cohen et al. 2021): squared-error loss, under which
    full-batch training sharpens progressively until λ_max reaches 2/η and stays there (cross-entropy on a
    small set interpolates and its sharpness falls instead). ``transient`` steps bring the orbit to the
    edge before the tangents start; the sharpness checkpoints show whether each run stays there."""

    lrs: tuple[float, ...] = (0.5, 1.0)
    loss: str = "mse"
    k: int = 1
    transient: int = 250
    n_steps: int = 300
    n_checkpoints: int = 7

    @classmethod
    def quick(cls) -> "EdgeConfig":
        return cls()

    @classmethod
    def standard(cls) -> "EdgeConfig":
        return super(TangentConfig, cls).standard().replace(n_steps=1000, n_checkpoints=11)

    @classmethod
    def full(cls) -> "EdgeConfig":
        return cls(n_train=1024, widths=(64,), lrs=(0.25, 0.5, 1.0), transient=1000, warmup=50, n_steps=1000,
                   n_checkpoints=11, n_inits=16, device="auto")


EDGE_BAND = (0.9, 1.2)
"""A run is *at the edge* when its sharpness stays within this band of the edge (2 + 2β)/η at every
checkpoint, reaches the edge at one at least, and its loss rises at some checkpoint: at the edge of stability
the sharpness hovers at or just above 2/η and the loss falls non-monotonically (Cohen et al. 2021)."""

EDGE_BANDS = ((0.95, 1.1), (1.0, 1.2))
"""Other bands under which the count of runs at the edge is recomputed."""


MECHANISMS = ("none", "curvature above the edge", "negative curvature", "unexplained")
"""What a window's top exponent is attributed to: "none" unless it is positive
(:func:`window_over_initialisations`); then the larger mean frozen-Hessian rate along the window, or
"unexplained" when neither frozen rate is positive."""

REGIMES = ("calm", "catapult", "edge to the end", "diverged")
"""Per run: "calm" (the sharpness starts and stays below the edge, after every warm-up step and at every
checkpoint; first initialisation), "catapult" (it is above at the start, during the warm-up or at some
checkpoint, and below at the last), "edge to the end" (above at the last
checkpoint), "diverged" (the loss blew up)."""

@dataclass
class TangentResult(ResultBase):
    """Per step size (L of them), after the warm-up:

    - ``exponents`` (L, k): Benettin exponents per step over the whole accumulated window, in the QR
      columns' order (never re-sorted: column 0 is the top exponent, descending once converged);
      ``running`` (L, n_steps, k): the running estimate λ̂(T) after each step; ``local_rates``
      (L, n_steps, k): ln R_ii of each step, the time-resolved exponents (NaN after a blow-up).
    - over initialisations (I = ``n_inits``; row 0 is the run above): ``init_top`` (I, L), the top
      exponent λ̂₁(T) over the whole window; ``init_late`` (I, L), the mean of ln R₁₁ over the second half
      of the window (the finite-time exponent once the first half's transient is over); ``init_running``
      (I, L, n_steps), λ̂₁(T) after each step; ``init_growing`` (I, L), the share of steps with ln R₁₁ > 0;
      ``init_diverged`` (I, L). NaN where the run blew up.
    - the path: ``path_steps`` (C,), ``path_sharpness``/``path_smallest``/``path_loss`` (L, C): largest and
      smallest Hessian eigenvalue and loss; ``path_rayleigh`` (L, C): q₁ᵀHq₁ of the first tangent (its
      parameter block, normalised), the alignment diagnostic: an aligned tangent sits at λ_min or λ_max;
      ``predicted_rate`` (L, C): the largest frozen-Hessian rate max(r(λ_max), r(λ_min)),
      r = :func:`uniq_core.lyapunov.frozen_rate`.
    - ``regime`` (L,): one of :data:`REGIMES`, decided from ``sharpness_start``, ``warmup_sharpness`` (L,)
      (the largest sharpness after each warm-up step) and the checkpoints;
      ``transient_end`` (L,): first checkpoint step after the last one whose sharpness is above the edge
      (0 when no checkpoint is, including a catapult over before the first checkpoint; NaN for "edge to the
      end" and "diverged").
    - windows: ``exponents_transient`` (L, k) over [0, transient_end) (the whole run for "edge to the end"),
      ``exponents_after`` (L, k) over [transient_end + warmup, n_steps) for a catapult (the tangents are warmed
      up again after it) or [0, n_steps) for a calm run; per-column means of ln R_ii in the QR columns'
      order, column 0 the top exponent (NaN when the window is empty, or for the regime after, shorter
      than a quarter of the run), of the first initialisation. ``error_transient``/``error_after`` (L,): the
      standard error over initialisations of the window's mean ln R₁₁; ``sign_transient``/``sign_after``
      (L,): the window's sign over initialisations (:func:`window_over_initialisations`);
      ``bound_transient``/``bound_after`` (L,): the exact gradient-descent bound ln max(|1 − ηλ_max|,
      |1 − ηλ_min|) with the window's extreme curvatures at its checkpoints (NaN with momentum);
      ``mechanism_transient``/``mechanism_after`` (L,): one of :data:`MECHANISMS`.
    - ``sharpness_start``/``smallest_start`` (before the warm-up), ``sharpness_end``; ``threshold`` ((2 + 2β)/η,
      the edge of stability); ``sharpest_rate``/``negative_rate_start`` (the frozen rates of the sharpest and
      of the most negative direction at the start); ``initial_loss``/``final_loss``; ``diverged`` when the
      state became non-finite or the loss grew a thousandfold (the run stops at the next checkpoint;
      exponents accumulated so far are kept: they describe the blow-up).
    """

    lrs: np.ndarray
    exponents: np.ndarray
    running: np.ndarray
    local_rates: np.ndarray
    path_steps: np.ndarray
    path_sharpness: np.ndarray
    path_smallest: np.ndarray
    path_loss: np.ndarray
    path_rayleigh: np.ndarray
    predicted_rate: np.ndarray
    regime: np.ndarray
    transient_end: np.ndarray
    exponents_transient: np.ndarray
    exponents_after: np.ndarray
    error_transient: np.ndarray
    error_after: np.ndarray
    sign_transient: np.ndarray
    sign_after: np.ndarray
    bound_transient: np.ndarray
    bound_after: np.ndarray
    mechanism_transient: np.ndarray
    mechanism_after: np.ndarray
    sharpness_start: np.ndarray
    smallest_start: np.ndarray
    sharpness_end: np.ndarray
    threshold: np.ndarray
    sharpest_rate: np.ndarray
    negative_rate_start: np.ndarray
    initial_loss: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    seconds_per_step: np.ndarray
    init_top: np.ndarray | float = float("nan")
    init_late: np.ndarray | float = float("nan")
    init_running: np.ndarray | float = float("nan")
    init_growing: np.ndarray | float = float("nan")
    init_diverged: np.ndarray | float = float("nan")
    warmup_sharpness: np.ndarray | float = float("nan")


def _mechanism(sign: str, sharp_rate: np.ndarray, negative_rate: np.ndarray) -> str:
    """Which frozen-Hessian rate explains a positive top exponent over a window of checkpoints."""
    if sign != "positive":
        return MECHANISMS[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sharp, negative = np.nanmean(sharp_rate), np.nanmean(negative_rate)
    if not (np.fmax(sharp, negative) > 0):
        return MECHANISMS[3]
    return MECHANISMS[1] if sharp >= negative else MECHANISMS[2]


def _window(rates: np.ndarray, begin: int, end: int, minimum: int) -> np.ndarray:
    """Per-column means of the finite rows of ``rates[begin:end]`` in the QR columns' order (column 0 is
    the top exponent; columns are never re-sorted); NaN with fewer than ``minimum`` rows."""
    window = rates[begin:end]
    finite = window[np.isfinite(window).all(axis=1)]
    if finite.shape[0] < max(minimum, 1):
        return np.full(rates.shape[1], np.nan)
    return finite.mean(axis=0)


def window_over_initialisations(top_rates: np.ndarray, begin: int, end: int, minimum: int = 1,
                                confidence: float = rules.CONFIDENCE) -> tuple[float, str]:
    """The sign of one window's top exponent over initialisations, the rule of every window in the chapter:
    per initialisation the mean of ln R₁₁ over steps [begin, end) of ``top_rates`` (I, T) (NaN rows: runs
    that blew up), then the Student-t interval over the finite ones. Returns the standard error of their
    mean and "positive" (interval above 0: since ‖Mq‖ ≤ σ_max(M), a lower bound on the window's top
    finite-time exponent), "not significantly positive", or "undetermined" (a window shorter than
    ``minimum`` steps, or fewer than :data:`uniq_core.rules.MIN_UNITS` finite initialisations)."""
    rates = np.atleast_2d(np.asarray(top_rates, dtype=float))[:, begin:end]
    if rates.shape[1] < max(minimum, 1):
        return float("nan"), "undetermined"
    means = rates.mean(axis=1)
    means = means[np.isfinite(means)]
    if means.size < rules.MIN_UNITS:
        return float("nan"), "undetermined"
    _, (low, _) = t_interval(means, confidence)
    return float(means.std(ddof=1) / np.sqrt(means.size)), "positive" if low > 0 else "not significantly positive"


def top_exponent_summary(top_rates: np.ndarray) -> dict[str, np.ndarray | float]:
    """From ln R₁₁ per step (T,) of one run (NaN after a blow-up): ``top`` λ̂₁(T) over the whole run,
    ``late`` the mean over its second half, ``running`` (T,) λ̂₁ after each step, ``growing`` the share of
    steps with ln R₁₁ > 0. All NaN when any step is not finite."""
    top_rates = np.asarray(top_rates, dtype=np.float64)
    T = top_rates.shape[0]
    if T == 0 or not np.isfinite(top_rates).all():
        return {"top": float("nan"), "late": float("nan"), "running": np.full(T, np.nan), "growing": float("nan")}
    running = np.cumsum(top_rates) / np.arange(1, T + 1)
    return {"top": float(running[-1]), "late": float(top_rates[T // 2:].mean()), "running": running,
            "growing": float(np.mean(top_rates > 0))}


def tangent_checkpoints(config: TangentConfig) -> np.ndarray:
    """The accumulated-step counts at which :func:`run_tangent` records the path (0 and ``n_steps``
    included)."""
    return np.unique(np.round(np.linspace(0, config.n_steps, config.n_checkpoints)).astype(int))


def _tangent_replicas(config: TangentConfig, dataset: data.Dataset, inputs: torch.Tensor, targets: torch.Tensor,
                      progress: bool) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Every (initialisation, step size) Benettin run of :func:`run_tangent` at once
    (:func:`uniq_core.lyapunov.benettin_replicas`): initialisation ``seed + i`` with its own model and
    tangent draw, ``transient`` steps of the orbit, ``warmup`` steps of orbit and tangents, then ``n_steps``
    accumulated steps in segments between the checkpoints. At each checkpoint the first initialisation's
    runs record the loss, the Hessian's extreme eigenvalues and the top tangent's Rayleigh quotient, and a run
    whose loss is not finite or above 10³ × its loss after the transient is marked diverged; every other
    run is checked once at the end. Returns the first initialisation's rows (per step size: ``logs`` (T, k),
    ``sharp``, ``small``, ``loss``, ``rayleigh`` (C,), ``initial``, ``start``, ``diverged``, ``seconds`` per
    replica step) and ln R₁₁ per accumulated step of every run (I, L, T), NaN throughout for a run that blew
    up."""
    import time

    I, L, T, k = config.n_inits, len(config.lrs), config.n_steps, config.k
    checkpoints = tangent_checkpoints(config)
    models = [_model(config, dataset, config.seed + offset).double() for offset in range(I)]
    step = lyapunov.step_function(models[0], inputs, targets, momentum=config.momentum, loss=config.loss)
    loss_of = lyapunov._loss_function(models[0], inputs, targets, config.loss)
    P = sum(p.numel() for p in models[0].parameters())
    starts = [lyapunov.initial_state(model, config.momentum) for model in models]
    states = torch.stack([state for state in starts for _ in config.lrs])  # replica = init × L + step size
    lrs = torch.tensor(config.lrs * I, dtype=torch.float64)
    states, failed = lyapunov.orbit_replicas(step, states, lrs, config.transient)
    losses = torch.func.vmap(loss_of)(states[:, :P])
    initial = losses.detach().numpy().copy()
    first = range(L)  # the first initialisation's replicas carry the checkpoints
    C = len(checkpoints)
    rows = [{"logs": np.full((T, k), np.nan), "sharp": np.full(C, np.nan), "small": np.full(C, np.nan),
             "loss": np.full(C, np.nan), "rayleigh": np.full(C, np.nan), "initial": float("nan"),
             "start": (float("nan"), float("nan")), "diverged": False, "seconds": float("nan"),
             "warm": float("nan")} for _ in first]
    for i in first:
        try:  # Lanczos fails (ValueError) on a state that has all but blown up
            if failed[i]:
                raise ValueError("the orbit blew up during the transient")
            rows[i]["initial"] = float(initial[i])
            rows[i]["start"] = lyapunov.curvature_extremes(models[0], inputs, targets, theta=states[i, :P],
                                                           tolerance=1e-4, loss=config.loss)
        except ValueError:
            rows[i]["diverged"], failed[i] = True, True
    tangents = torch.stack([lyapunov.random_tangents(states.shape[1], k, config.seed + offset)
                            for offset in range(I) for _ in config.lrs])
    elapsed = 0.0
    for _ in range(config.warmup):  # one step at a time: the first initialisation's sharpness after each
        started = time.perf_counter()
        states, tangents, _, failed = lyapunov.benettin_replicas(step, states, lrs, tangents, 1, failed)
        elapsed += time.perf_counter() - started
        for i in first:
            if not failed[i]:
                try:
                    top = float(lyapunov.sharpness(models[0], inputs, targets, theta=states[i, :P], tolerance=1e-4,
                                                   loss=config.loss)[0])
                except ValueError:  # Lanczos fails on a state that has all but blown up
                    continue
                rows[i]["warm"] = float(np.fmax(rows[i]["warm"], top))
    logs = np.full((T, I * L, k), np.nan)
    vectors = [(None, None)] * L
    for index, point in enumerate(runtime.progress_bar(checkpoints, "checkpoints", progress)):
        previous = checkpoints[index - 1] if index else 0
        if point > previous:
            started = time.perf_counter()
            states, tangents, logs[previous:point], failed = lyapunov.benettin_replicas(
                step, states, lrs, tangents, int(point - previous), failed)
            elapsed += time.perf_counter() - started
        for i in first:
            row = rows[i]
            if row["diverged"]:
                continue
            row["loss"][index] = float(loss_of(states[i, :P])) if not failed[i] else float("nan")
            if not np.isfinite(row["loss"][index]) or row["loss"][index] > 1e3 * row["initial"]:
                row["diverged"], failed[i] = True, True
                continue
            try:
                top, low, *vectors[i] = lyapunov.curvature_extremes(
                    models[0], inputs, targets, theta=states[i, :P], tolerance=1e-4, loss=config.loss,
                    starts=vectors[i])
            except ValueError:
                row["diverged"], failed[i] = True, True
                continue
            row["sharp"][index], row["small"][index] = top, low
            row["rayleigh"][index] = lyapunov.rayleigh_quotient(loss_of, states[i, :P], tangents[i, :P, 0])
    final = torch.func.vmap(loss_of)(states[:, :P]).detach().numpy()
    blew_up = failed.numpy() | ~np.isfinite(final) | ~(final <= 1e3 * initial)
    for i in first:
        rows[i]["logs"] = logs[:, i]
        rows[i]["diverged"] = bool(rows[i]["diverged"] or blew_up[i])
        rows[i]["seconds"] = elapsed / max(config.warmup + T, 1) / (I * L)
    top = np.where(blew_up[None, :], np.nan, logs[:, :, 0]).T.reshape(I, L, T)
    return rows, top


def negative_curvature_control(
    n_parameters: int, lr: float, *, curvature: float = 0.004, n_negative: int = 3, n_zero: int = 10,
    bulk_scale: float = 1e-3, k: int = 3, warmup: int = 10, n_steps: int = 150, seed: int = 0,
) -> dict[str, object]:
    """Positive control for the chapter's regime: gradient descent on a quadratic in ``n_parameters``
    dimensions whose Hessian has ``n_negative`` eigenvalues near −``curvature`` (spread by ±5%), ``n_zero``
    exact zeros (like the logit-shift modes of softmax cross-entropy with an output bias) and a bulk
    |N(0, bulk_scale²)| near 0. The top exponent is exactly ln(1 + η·max|λ|); a random start has a component
    of about P^{-1/2} along it, which the warm-up and the run must amplify against the bulk before the
    estimate reaches it. Returns ``estimate`` (Benettin top exponent per step), ``truth``, ``recovered``
    (estimate / truth) and ``running`` (n_steps,)."""
    rng = np.random.default_rng(seed)
    negative = -curvature * np.linspace(1.0, 0.95, n_negative)
    bulk = np.abs(rng.normal(0.0, bulk_scale, size=n_parameters - n_negative - n_zero))
    curvatures = torch.tensor(np.concatenate([negative, np.zeros(n_zero), bulk]))
    factors = 1.0 - lr * curvatures
    exponents, running = lyapunov.lyapunov_spectrum(lambda x: factors * x, torch.zeros(n_parameters, dtype=torch.float64),
                                                    n_steps, k=k, transient=warmup, seed=seed, return_running=True)
    truth = float(np.log(1.0 + lr * curvature))
    return {"estimate": float(exponents[0]), "truth": truth, "recovered": float(exponents[0] / truth),
            "running": running[:, 0]}


def run_tangent(config: TangentConfig, *, progress: bool = True, use_cache: bool = True) -> TangentResult:
    """Benettin spectra of the training map, one per step size, with the curvature along the path."""

    def compute() -> TangentResult:
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
        inputs, targets = dataset.x_train.double(), dataset.y_train
        if config.loss == "mse":  # squared error against one-hot targets
            targets = torch.nn.functional.one_hot(targets, dataset.n_classes).double()
        rows, init_logs = _tangent_replicas(config, dataset, inputs, targets, progress)
        checkpoints = tangent_checkpoints(config)
        C, T, k = len(checkpoints), config.n_steps, config.k
        lr_array = np.asarray(config.lrs, dtype=np.float64)
        threshold = (2 + 2 * config.momentum) / lr_array
        logs = np.stack([r["logs"] for r in rows])  # (L, T, k) in tangent order
        sharp = np.stack([r["sharp"] for r in rows])
        small = np.stack([r["small"] for r in rows])
        sharp_rate = np.stack([lyapunov.frozen_rate(sharp[i], lr, config.momentum) for i, lr in enumerate(lr_array)])
        negative_rate = np.stack([lyapunov.frozen_rate(small[i], lr, config.momentum)
                                  for i, lr in enumerate(lr_array)])
        exponents, running = np.full((len(rows), k), np.nan), np.full_like(logs, np.nan)
        L = len(rows)
        transient_end = np.zeros(L)
        before, after = np.full((L, k), np.nan), np.full((L, k), np.nan)
        error_before, error_after = np.full(L, np.nan), np.full(L, np.nan)
        bound_before, bound_after = np.full(L, np.nan), np.full(L, np.nan)
        regime, sign_before, sign_after, mechanism_before, mechanism_after = [], [], [], [], []
        minimum = max(1, T // 4)
        start = np.array([r["start"][0] for r in rows])
        warm = np.array([r["warm"] for r in rows])  # the largest sharpness during the warm-up
        for i in range(L):
            finite = np.isfinite(logs[i]).all(axis=1)
            if finite.any():  # QR column order throughout: column 0 is the top exponent
                cumulative = np.cumsum(np.where(finite[:, None], logs[i], 0.0), axis=0) / np.arange(1, T + 1)[:, None]
                cumulative[~finite] = np.nan
                last = np.flatnonzero(finite)[-1]
                exponents[i], running[i] = cumulative[last], cumulative
            above = np.flatnonzero(sharp[i] > threshold[i])
            if rows[i]["diverged"]:
                regime.append(REGIMES[3])
            elif above.size and above[-1] == C - 1:
                regime.append(REGIMES[2])
            elif above.size or start[i] > threshold[i] or warm[i] > threshold[i]:
                regime.append(REGIMES[1])
            else:
                regime.append(REGIMES[0])
            if regime[-1] in REGIMES[2:]:
                transient_end[i] = np.nan
            elif above.size:
                transient_end[i] = checkpoints[above[-1] + 1]
            end = int(transient_end[i]) if np.isfinite(transient_end[i]) else T
            begin_after = end + config.warmup if end > 0 else end
            before[i] = _window(logs[i], 0, end, 1)
            after[i] = _window(logs[i], begin_after, T, minimum)
            if regime[-1] == REGIMES[3]:
                after[i] = np.nan
            error_before[i], word = window_over_initialisations(init_logs[:, i], 0, end)
            sign_before.append(word)
            error_after[i], word = window_over_initialisations(init_logs[:, i], begin_after, T, minimum)
            sign_after.append(word)
            if regime[-1] == REGIMES[3]:
                error_after[i], sign_after[-1] = np.nan, "undetermined"
            inside = checkpoints <= end
            later = checkpoints >= begin_after
            if config.momentum == 0.0:
                bound_before[i] = lyapunov.gradient_descent_bound(sharp[i, inside], small[i, inside], lr_array[i]) \
                    if end > 0 else np.nan
                bound_after[i] = lyapunov.gradient_descent_bound(sharp[i, later], small[i, later], lr_array[i])
            mechanism_before.append(_mechanism(sign_before[-1], sharp_rate[i, inside], negative_rate[i, inside]))
            mechanism_after.append(_mechanism(sign_after[-1], sharp_rate[i, later], negative_rate[i, later]))
        last_sharp = np.array([r["sharp"][np.isfinite(r["sharp"])][-1] if not r["diverged"] and
                               np.isfinite(r["sharp"]).any() else np.nan for r in rows])
        final_loss = np.array([r["loss"][np.isfinite(r["loss"])][-1] if np.isfinite(r["loss"]).any() else np.nan
                               for r in rows])
        summaries = [[top_exponent_summary(rates) for rates in per_lr] for per_lr in init_logs]
        init = {key: np.array([[summary[key] for summary in per_lr] for per_lr in summaries])
                for key in ("top", "late", "running", "growing")}
        return TangentResult(
            lrs=lr_array, exponents=exponents, running=running, local_rates=logs,
            path_steps=checkpoints.astype(np.float64), path_sharpness=sharp, path_smallest=small,
            path_loss=np.stack([r["loss"] for r in rows]), path_rayleigh=np.stack([r["rayleigh"] for r in rows]),
            predicted_rate=np.fmax(sharp_rate, negative_rate), regime=np.array(regime),
            transient_end=transient_end, exponents_transient=before, exponents_after=after,
            error_transient=error_before, error_after=error_after, sign_transient=np.array(sign_before),
            sign_after=np.array(sign_after), bound_transient=bound_before, bound_after=bound_after,
            mechanism_transient=np.array(mechanism_before), mechanism_after=np.array(mechanism_after),
            sharpness_start=start, smallest_start=np.array([r["start"][1] for r in rows]),
            sharpness_end=last_sharp, threshold=threshold,
            sharpest_rate=np.array([lyapunov.frozen_rate(s, lr, config.momentum) for s, lr in zip(start, lr_array)]),
            negative_rate_start=np.array([lyapunov.frozen_rate(r["start"][1], lr, config.momentum)
                                          for r, lr in zip(rows, lr_array)]),
            initial_loss=np.array([r["initial"] for r in rows]), final_loss=final_loss,
            diverged=np.array([r["diverged"] for r in rows]),
            seconds_per_step=np.array([r["seconds"] for r in rows]),
            init_top=init["top"], init_late=init["late"], init_running=init["running"],
            init_growing=init["growing"], init_diverged=~np.isfinite(init["top"]), warmup_sharpness=warm,
        )

    return runtime.cached(compute, config, TangentResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------- instability


STABILITY_THRESHOLD = 0.02
"""Frankle et al. (2020) call training stable to SGD noise when the test-error barrier between copies is
within 2 percentage points of zero (their tolerance for noise in the error)."""


@dataclass(frozen=True)
class InstabilityConfig(ConfigBase):
    """A parent trained for ``split`` epochs, then ``n_children`` copies with different minibatch orders
    trained to ``epochs``; the error and loss barriers between children, for each split epoch, for each of
    ``n_parents`` parent initialisations. The baseline: ``n_independent`` pairs of networks initialised
    independently and trained alike (their barriers are what "different basins" looks like here)."""

    dataset: str = "digits"
    widths: tuple[int, ...] = (128,)
    lr: float = 0.1
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 12
    splits: tuple[float, ...] = (0.0, 0.25, 1.0, 3.0)
    n_children: int = 3
    n_parents: int = 2
    n_independent: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_number("n_parents", self.n_parents, low=1, high=64, integer=True)
        check_number("n_independent", self.n_independent, low=0, high=64, integer=True)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=4096, integer=True)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        if not self.splits or not isinstance(self.splits, tuple):
            raise ValueError(f"splits={self.splits!r} is not allowed; expected a non-empty tuple of epochs")
        for split in self.splits:
            check_number("splits", split, low=0.0, high=self.epochs, high_inclusive=False)
        check_number("n_children", self.n_children, low=2, high=64, integer=True)

    @classmethod
    def quick(cls) -> "InstabilityConfig":
        return cls()

    @classmethod
    def full(cls) -> "InstabilityConfig":
        return cls(epochs=40, splits=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0), n_children=6, n_parents=5,
                   n_independent=8, device="auto")


@dataclass
class InstabilityResult(ResultBase):
    """Per split epoch: ``barrier`` (S, pairs) test-error barriers between children of every parent (parent
    by parent, ``pairs`` = parents × child pairs), its mean, the mean test error of the children, their
    distance (S, pairs) in parameter space and ``disagreement`` (S, pairs), the fraction of test inputs on
    which two children predict different classes; ``loss_barrier`` (S, pairs) the test-loss barriers;
    ``parent_barrier`` (S, parents) the mean error barrier per parent (the independent units). Baseline:
    ``independent_barrier``, ``independent_loss_barrier`` and ``independent_disagreement`` per pair of
    independently initialised networks. ``n_test``: test examples (one example is 1/n_test of error)."""

    splits: np.ndarray
    barrier: np.ndarray
    barrier_mean: np.ndarray
    child_error: np.ndarray
    distance: np.ndarray
    disagreement: np.ndarray
    loss_barrier: np.ndarray | float = float("nan")
    parent_barrier: np.ndarray | float = float("nan")
    independent_barrier: np.ndarray | float = float("nan")
    independent_loss_barrier: np.ndarray | float = float("nan")
    independent_disagreement: np.ndarray | float = float("nan")
    n_test: int = 0


def prediction_disagreement(model: torch.nn.Module, theta_a, theta_b, inputs: torch.Tensor) -> float:
    """Fraction of ``inputs`` on which the network with parameters θ_a and the one with θ_b predict different
    classes (argmax of the outputs): 0 for the same function on these inputs, whatever the weights."""
    curve_model = copy.deepcopy(model).cpu().eval()
    dtype = next(curve_model.parameters()).dtype
    predictions = []
    with torch.no_grad():
        for theta in (theta_a, theta_b):
            torch.nn.utils.vector_to_parameters(torch.as_tensor(theta, dtype=dtype), curve_model.parameters())
            predictions.append(curve_model(inputs.cpu().to(dtype)).argmax(-1))
    return float((predictions[0] != predictions[1]).double().mean())


def run_instability(config: InstabilityConfig, *, progress: bool = True, use_cache: bool = True) -> InstabilityResult:
    """Frankle et al. (2020): is the end of training stable to SGD noise from a given point on?"""

    def compute() -> InstabilityResult:
        device = runtime.device(config.device)
        dataset = data.load(config.dataset, seed=config.seed, device=device)
        per_epoch = dataset.x_train.shape[0] // config.batch_size
        settings = dict(lr=config.lr, momentum=config.momentum, batch_size=config.batch_size, device=device)
        rows = {name: [[] for _ in config.splits] for name in ("barrier", "loss", "distance", "disagreement")}
        errors = [[] for _ in config.splits]
        parent_means = np.full((len(config.splits), config.n_parents), np.nan)

        def compare(template: torch.nn.Module, theta_a: np.ndarray, theta_b: np.ndarray) -> dict[str, float]:
            curve = barriers.interpolation_curve(template.cpu(), theta_a, theta_b, dataset.x_test.cpu(),
                                                 dataset.y_test.cpu())
            template.to(device)
            return {"barrier": curve["error_barrier"], "loss": curve["loss_barrier"],
                    "distance": float(np.linalg.norm(theta_a - theta_b)),
                    "disagreement": prediction_disagreement(template, theta_a, theta_b, dataset.x_test)}

        runs = [(parent, index, split) for parent in range(config.n_parents) for index, split in enumerate(config.splits)]
        for parent_index, index, split in runtime.progress_bar(runs, "parents × split epochs", progress):
            seed = config.seed + 1000 * parent_index
            model = _model(config, dataset, seed).to(device)
            parent = model
            split_steps = int(round(split * per_epoch))
            if split_steps > 0:
                trunk = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0,
                                                n_steps=split_steps, seed=seed, **settings)
                parent = copy.deepcopy(model)
                torch.nn.utils.vector_to_parameters(
                    torch.as_tensor(trunk.final_parameters[0], device=device), parent.parameters())
            children = replicas.train_replicas(
                parent, dataset, n_replicas=config.n_children, perturbation=0.0, independent_order=True,
                n_steps=config.epochs * per_epoch - split_steps, seed=seed + 1, **settings)
            pair_barriers = []
            for a, b in itertools.combinations(range(config.n_children), 2):
                measured = compare(parent, children.final_parameters[a], children.final_parameters[b])
                for name, value in measured.items():
                    rows[name][index].append(value)
                pair_barriers.append(measured["barrier"])
            parent_means[index, parent_index] = float(np.mean(pair_barriers))
            errors[index].append(float(1 - np.nanmean(children.test_accuracy)))
        independent = {name: [] for name in ("barrier", "loss", "disagreement")}
        for pair in range(config.n_independent):
            finals = []
            for member in range(2):
                seed = config.seed + 500 + 1000 * pair + member
                trained = replicas.train_replicas(_model(config, dataset, seed).to(device), dataset, n_replicas=1,
                                                  perturbation=0.0, n_steps=config.epochs * per_epoch, seed=seed,
                                                  **settings)
                finals.append(trained.final_parameters[0])
            measured = compare(_model(config, dataset, config.seed).to(device), finals[0], finals[1])
            for name in independent:
                independent[name].append(measured[name])
        barrier = np.array(rows["barrier"])
        return InstabilityResult(splits=np.asarray(config.splits, dtype=np.float64), barrier=barrier,
                                 barrier_mean=barrier.mean(axis=1), child_error=np.array([np.mean(e) for e in errors]),
                                 distance=np.array(rows["distance"]), disagreement=np.array(rows["disagreement"]),
                                 loss_barrier=np.array(rows["loss"]), parent_barrier=parent_means,
                                 independent_barrier=np.array(independent["barrier"]),
                                 independent_loss_barrier=np.array(independent["loss"]),
                                 independent_disagreement=np.array(independent["disagreement"]),
                                 n_test=int(dataset.x_test.shape[0]))

    return runtime.cached(compute, config, InstabilityResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------- finite size


ARCHITECTURES = ("mlp", "cnn")


def _network(config, dataset: data.Dataset, seed: int) -> tuple[torch.nn.Module, data.Dataset]:
    """The network of ``config.architecture`` (seeded) and the data shaped for it."""
    if getattr(config, "architecture", "mlp") == "cnn":
        images = dataset.as_images()
        runtime.seed_everything(seed)
        return models.SimpleCNN(images.image_shape[0], dataset.n_classes, config.widths, norm="none"), images
    return _model(config, dataset, seed), dataset


@dataclass(frozen=True)
class FiniteSizeConfig(ConfigBase):
    """How the growth rate of a difference depends on its size: replicas perturbed by each relative size in
    ``perturbations`` (per tensor, as :func:`uniq_core.replicas.perturb_`), trained in float64 beside their
    reference with a shared batch order, and ``n_tangents`` linearised perturbations (tangent vectors of the
    same training map, pushed forward exactly) as the δ → 0 limit; ``n_seeds`` seeds, each its own
    initialisation, batch order and directions. The default setting is the introduction's (momentum 0.9,
    η = 0.05, one hidden layer of 64), whose growth factor the finite-size exponent explains. ``ratio``: the
    growth factor r between the thresholds of the finite-size exponent. ``n_train``: training examples (None:
    the data set's default split, as the introduction). ``architecture``: "mlp" (hidden ``widths``) or "cnn"
    (:class:`uniq_core.models.SimpleCNN` with ``widths`` as its channels, no normalisation, on the images).
    ``curvature``: also measure the extreme Hessian eigenvalues at initialisation (Lanczos on the whole
    training set; NaN when off)."""

    dataset: str = "digits"
    n_train: int | None = None
    test_fraction: float = 0.25
    architecture: str = "mlp"
    widths: tuple[int, ...] = (64,)
    lr: float = 0.05
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 8
    perturbations: tuple[float, ...] = (1e-9, 1e-7, 1e-5, 1e-3, 1e-2, 1e-1)
    n_replicas: int = 5
    n_tangents: int = 4
    n_seeds: int = 3
    ratio: float = 2.0**0.5
    curvature: bool = True
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_choice("architecture", self.architecture, ARCHITECTURES)
        if not isinstance(self.curvature, bool):
            raise ValueError(f"curvature={self.curvature!r} is not allowed; expected True or False")
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=4096, integer=True)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        if not self.perturbations or not isinstance(self.perturbations, tuple):
            raise ValueError(f"perturbations={self.perturbations!r} is not allowed; expected a non-empty tuple of "
                             "positive numbers in increasing order")
        for value in self.perturbations:
            check_number("perturbations", value, low=0.0, high=1.0, low_inclusive=False)
        if list(self.perturbations) != sorted(self.perturbations):
            raise ValueError(f"perturbations={self.perturbations!r} is not allowed; expected increasing order")
        check_number("n_replicas", self.n_replicas, low=2, high=1024, integer=True)
        check_number("n_tangents", self.n_tangents, low=1, high=64, integer=True)
        check_number("n_seeds", self.n_seeds, low=2, high=100, integer=True)
        check_number("ratio", self.ratio, low=1.0, high=10.0, low_inclusive=False)
        if self.n_train is not None:
            check_number("n_train", self.n_train, low=64, high=100_000, integer=True)
        check_number("test_fraction", self.test_fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)

    @classmethod
    def quick(cls) -> "FiniteSizeConfig":
        return cls()

    @classmethod
    def full(cls) -> "FiniteSizeConfig":
        return cls(perturbations=(1e-11, 1e-9, 1e-7, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
                   n_replicas=9, n_tangents=8, n_seeds=8, epochs=20, device="auto")


def finite_size_at(config: DivergenceConfig, smallest: float = 1e-9) -> FiniteSizeConfig:
    """The finite-size measurement at a divergence run's own setting (data, network, step size, momentum,
    batch, length, seeds): its perturbation against ``smallest``, to tell whether its rate is the small-size
    (tangent) rate or a finite-size effect."""
    return FiniteSizeConfig(dataset=config.dataset, n_train=config.n_train, test_fraction=config.test_fraction,
                            widths=config.widths, lr=config.lr, momentum=config.momentum, batch_size=config.batch_size,
                            epochs=config.epochs, perturbations=(smallest, config.perturbation),
                            n_seeds=config.n_seeds, curvature=False, seed=config.seed, device=config.device)


def finite_size_null_at(config: DivergenceConfig) -> FiniteSizeConfig:
    """The null control of :func:`finite_size_at`: the same setting with a linear model (softmax regression,
    convex loss), where an infinitesimal difference cannot grow relative to the weights; tangents only."""
    return finite_size_at(config).replace(widths=(), perturbations=(config.perturbation,), n_replicas=2)


@dataclass
class FiniteSizeResult(ResultBase):
    """``epochs`` (T,) of the records (every step). Per seed s, perturbation size j and perturbed replica r:
    ``distance`` (S, E, R, T), the distance to the reference over the reference's initial norm (NaN after a
    divergence). Per seed and tangent: ``tangent_log_growth`` (S, M, T), ln of the linearised perturbation's
    norm over its initial norm (weights only, as ``distance``). ``rate`` (S, E) and ``tangent_rate`` (S,):
    whole-run growth rates per epoch, ln(final/initial)/epochs averaged over replicas (tangents). ``flips``
    (S, E): the fraction of ReLU activations on the training inputs whose sign differs between a perturbed
    replica and the reference at the end (mean over replicas). ``smallest_curvature`` and ``largest_curvature``
    (S,): the extreme eigenvalues of the full-batch loss Hessian at initialisation; ``saddle_rate`` (S,) the
    per-epoch growth the smallest (negative) one gives a frozen-Hessian heavy-ball step
    (:func:`uniq_core.lyapunov.frozen_rate`); ``epoch_rate`` (S, epochs) the tangents' mean growth rate in
    each epoch, ``early_rate`` (S,) its first. ``norm_rate`` (S,): the reference's weight-norm growth rate
    per epoch (subtracted from a rate, it gives the rate relative to the weights); ``norm_path`` (S, T) that
    norm at every record; ``n_parameters`` P. ``diverged`` (S, E):
    perturbed replicas that diverged."""

    perturbations: np.ndarray
    epochs: np.ndarray
    distance: np.ndarray
    tangent_log_growth: np.ndarray
    rate: np.ndarray
    tangent_rate: np.ndarray
    flips: np.ndarray
    smallest_curvature: np.ndarray
    largest_curvature: np.ndarray
    saddle_rate: np.ndarray
    early_rate: np.ndarray
    epoch_rate: np.ndarray
    norm_rate: np.ndarray
    norm_path: np.ndarray
    diverged: np.ndarray
    steps_per_epoch: int
    ratio: float
    n_parameters: int = 0


def activation_signs(model: torch.nn.Module, theta: np.ndarray | torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """The sign pattern (input > 0) at every ReLU of ``model`` with parameters ``theta`` on ``inputs``,
    concatenated (N, units): which units are active for which example (forward hooks on the
    :class:`torch.nn.ReLU` modules; a model without any gives an error)."""
    relus = [module for module in model.modules() if isinstance(module, torch.nn.ReLU)]
    if not relus:
        raise ValueError(f"model is a {type(model).__name__} without nn.ReLU modules; activation signs need them")
    dtype = next(model.parameters()).dtype
    parameters = models.unflatten(model, torch.as_tensor(theta, dtype=dtype, device=inputs.device))
    signs: list[torch.Tensor] = []
    handles = [relu.register_forward_hook(lambda _m, args, _out: signs.append(args[0] > 0)) for relu in relus]
    try:
        with torch.no_grad():
            torch.func.functional_call(model, parameters, (inputs.to(dtype),))
    finally:
        for handle in handles:
            handle.remove()
    return torch.cat([sign.flatten(1) for sign in signs], dim=1)


def _tangent_directions(model: torch.nn.Module, n: int, seed: int) -> torch.Tensor:
    """``n`` random directions (P × n, float64) drawn as :func:`uniq_core.replicas.perturb_` draws a
    perturbation: per tensor W, a uniform direction of norm ‖W‖."""
    generator = torch.Generator().manual_seed(seed)
    columns = []
    for _ in range(n):
        parts = []
        for tensor in model.parameters():
            direction = torch.randn(tensor.shape, generator=generator, dtype=torch.float64)
            parts.append((direction / direction.norm().clamp_min(1e-300) * tensor.detach().double().norm()).flatten())
        columns.append(torch.cat(parts))
    return torch.stack(columns, dim=1)


def linearised_growth(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor, plan: torch.Tensor,
                      *, lr: float, momentum: float, directions: torch.Tensor) -> np.ndarray:
    """ln ‖u_t‖/‖u_0‖ (T+1, M) for tangent vectors u (weights part; velocity starts at 0) pushed forward
    exactly (forward-mode derivatives, float64) by the minibatch training map of PyTorch's SGD with
    momentum, v' = βv + ∇L_b(θ), θ' = θ − ηv', along the batches of ``plan`` (T, batch) — the δ → 0 limit
    of a replica perturbed along u. Columns are rescaled each step (their logs accumulated), so no
    growth overflows."""
    model = copy.deepcopy(model).to(torch.float64)
    theta0 = models.flat_parameters(model).to(torch.float64)
    P = theta0.numel()
    inputs = inputs.to(torch.float64)

    def loss_of(theta: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        outputs = torch.func.functional_call(model, models.unflatten(model, theta), (inputs[batch],))
        return torch.nn.functional.cross_entropy(outputs, labels[batch])

    gradient = torch.func.grad(loss_of)
    state = torch.cat([theta0, torch.zeros_like(theta0)])
    tangents = torch.cat([directions.to(theta0), torch.zeros_like(directions).to(theta0)])
    scale = torch.zeros(tangents.shape[1], dtype=torch.float64)
    first = tangents[:P].norm(dim=0).log()
    logs = [torch.zeros_like(first)]
    for batch in plan:
        def step(s: torch.Tensor, batch=batch) -> torch.Tensor:
            velocity = momentum * s[P:] + gradient(s[:P], batch)
            return torch.cat([s[:P] - lr * velocity, velocity])

        state, tangents = lyapunov._push_forward(step, state, tangents)
        norms = tangents.norm(dim=0)
        logs.append(scale + tangents[:P].norm(dim=0).log() - first)
        scale = scale + norms.log()
        tangents = tangents / norms
    return torch.stack(logs).numpy()


def run_finite_size(config: FiniteSizeConfig, *, progress: bool = True, use_cache: bool = True) -> FiniteSizeResult:
    """Aurell et al. (1997): the growth rate of a difference as a function of its size, from float64 replicas
    at several initial sizes and the exact linearisation (tangents) as the small-size limit."""

    def compute() -> FiniteSizeResult:
        device = runtime.device(config.device)
        flat_data = data.load(config.dataset, n_train=config.n_train, test_fraction=config.test_fraction,
                              seed=config.seed, device=device)
        per_epoch = flat_data.x_train.shape[0] // config.batch_size
        n_steps = config.epochs * per_epoch
        S, E, R = config.n_seeds, len(config.perturbations), config.n_replicas - 1
        distance = np.full((S, E, R, n_steps + 1), np.nan)
        tangent = np.full((S, config.n_tangents, n_steps + 1), np.nan)
        flips, diverged = np.full((S, E), np.nan), np.zeros((S, E), dtype=np.int64)
        smallest, largest, norm_rate = np.full(S, np.nan), np.full(S, np.nan), np.full(S, np.nan)
        norm_path = np.full((S, n_steps + 1), np.nan)
        runs = list(itertools.product(range(S), range(E)))
        for s, j in runtime.progress_bar(runs, "seeds × sizes", progress):
            seed = config.seed + s
            model, dataset = _network(config, flat_data, seed)
            model = model.double().to(device)
            record = replicas.train_replicas(
                model, dataset, n_replicas=config.n_replicas, perturbation=config.perturbations[j], lr=config.lr,
                momentum=config.momentum, batch_size=config.batch_size, n_steps=n_steps, seed=seed, device=device)
            norm0 = float(record.parameter_norm[0, 0])
            distance[s, j] = record.distance[1:] / norm0
            diverged[s, j] = int(record.diverged[1:].sum())
            healthy = np.flatnonzero(record.healthy[1:]) + 1
            if healthy.size and any(isinstance(m, torch.nn.ReLU) for m in model.modules()):
                reference = activation_signs(model, record.final_parameters[0], dataset.x_train)
                flips[s, j] = float(np.mean([(activation_signs(model, record.final_parameters[k], dataset.x_train)
                                              != reference).double().mean().item() for k in healthy]))
            if j == 0:
                norm_rate[s] = float(np.log(record.parameter_norm[0, -1] / norm0)) / config.epochs
                norm_path[s] = record.parameter_norm[0]
                plan = replicas.make_batch_plan(dataset.x_train.shape[0], config.batch_size, n_steps, seed=seed)[0]
                cpu_model = model.cpu()
                tangent[s] = linearised_growth(
                    cpu_model, dataset.x_train.cpu(), dataset.y_train.cpu(), plan, lr=config.lr,
                    momentum=config.momentum, directions=_tangent_directions(cpu_model, config.n_tangents, seed + 99)).T
                x64 = dataset.x_train.cpu().double()
                labels = dataset.y_train.cpu()
                if config.curvature:
                    smallest[s] = float(lyapunov.smallest_hessian_eigenvalue(cpu_model, x64, labels, tolerance=1e-6)[0])
                    largest[s] = float(lyapunov.sharpness(cpu_model, x64, labels, tolerance=1e-6)[0])
                model.to(device)
        epochs = np.arange(n_steps + 1) / per_epoch
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.nanmean(np.log(distance[..., -1] / distance[..., 0]), axis=-1) / config.epochs
        return FiniteSizeResult(
            perturbations=np.asarray(config.perturbations, dtype=np.float64), epochs=epochs, distance=distance,
            tangent_log_growth=tangent, rate=rate, tangent_rate=tangent[..., -1].mean(axis=1) / config.epochs,
            flips=flips, smallest_curvature=smallest, largest_curvature=largest,
            saddle_rate=np.array([lyapunov.frozen_rate(h, config.lr, config.momentum) for h in smallest]) * per_epoch,
            early_rate=tangent[..., per_epoch].mean(axis=1),
            epoch_rate=np.diff(tangent[..., ::per_epoch].mean(axis=1), axis=-1)[:, :config.epochs],
            norm_rate=norm_rate, norm_path=norm_path, diverged=diverged, steps_per_epoch=per_epoch,
            n_parameters=models.count_parameters(model),
            ratio=float(config.ratio))

    return runtime.cached(compute, config, FiniteSizeResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------ architectures


def parse_architecture(name: str) -> tuple[str, tuple[int, ...]]:
    """"mlp-128" → ("mlp", (128,)); "mlp-64-64-64" → three hidden layers; "cnn-16-32" → a CNN with those
    channels. Raises a ValueError naming the allowed forms."""
    kind, *sizes = str(name).split("-")
    try:
        widths = tuple(int(size) for size in sizes)
    except ValueError:
        widths = ()
    if kind not in ARCHITECTURES or not widths or any(width < 1 for width in widths):
        raise ValueError(f"architectures entry {name!r} is not allowed; expected 'mlp-W1-W2…' or 'cnn-C1-C2…' "
                         f"with positive integer widths, e.g. 'mlp-128', 'mlp-64-64-64', 'cnn-16-32'")
    return kind, widths


@dataclass(frozen=True)
class ArchitectureConfig(ConfigBase):
    """Which architectures are more stable to train? The growth rate of an infinitesimal difference (the
    tangents of the SGD map, relative to the weights' norm) and of a finite one (``perturbation``) for each of
    ``architectures`` at one training setting (by default the divergence run's: SGD without momentum), over
    ``n_seeds`` seeds: each seed fixes the minibatch order shared by every architecture, so architectures
    are compared paired by seed."""

    dataset: str = "digits"
    n_train: int = 1500
    test_fraction: float = 0.15
    architectures: tuple[str, ...] = ("mlp-32", "mlp-128", "mlp-512", "mlp-128-128-128", "cnn-16-32")
    reference: str = "mlp-128"
    lr: float = 0.1
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    perturbation: float = 0.01
    n_tangents: int = 2
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        check_choice("dataset", self.dataset, data.DATASETS)
        if not self.architectures or not isinstance(self.architectures, tuple):
            raise ValueError(f"architectures={self.architectures!r} is not allowed; expected a non-empty tuple of "
                             "names such as 'mlp-128' or 'cnn-16-32'")
        for name in self.architectures:
            parse_architecture(name)
        check_choice("reference", self.reference, self.architectures)
        check_number("n_train", self.n_train, low=64, high=100_000, integer=True)
        check_number("lr", self.lr, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        check_number("perturbation", self.perturbation, low=0.0, high=1.0, low_inclusive=False)
        check_number("n_tangents", self.n_tangents, low=1, high=64, integer=True)
        check_number("n_seeds", self.n_seeds, low=2, high=100, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "ArchitectureConfig":
        return cls()

    @classmethod
    def full(cls) -> "ArchitectureConfig":
        return cls(architectures=("mlp-32", "mlp-128", "mlp-512", "mlp-2048", "mlp-128-128", "mlp-128-128-128",
                                  "mlp-128-128-128-128-128", "cnn-16-32", "cnn-32-64"),
                   n_tangents=4, n_seeds=8, device="auto")

    def member(self, name: str) -> FiniteSizeConfig:
        """The finite-size measurement of one architecture (its own cached run)."""
        kind, widths = parse_architecture(name)
        return FiniteSizeConfig(dataset=self.dataset, n_train=self.n_train, test_fraction=self.test_fraction,
                                architecture=kind, widths=widths, lr=self.lr, momentum=self.momentum,
                                batch_size=self.batch_size, epochs=self.epochs, perturbations=(self.perturbation,),
                                n_replicas=3, n_tangents=self.n_tangents, n_seeds=self.n_seeds, curvature=False,
                                seed=self.seed, device=self.device)


@dataclass
class ArchitectureResult(ResultBase):
    """Per architecture a (in ``names`` order) and seed s: ``tangent`` (A, S), the infinitesimal growth rate
    per epoch relative to the weights' norm (:func:`tangent_exponents`); ``absolute`` (A, S) without the norm
    subtracted; ``finite`` (A, S), the finite perturbation's distance rate relative to the norm; ``flips``
    (A, S) the share of ReLU activations the finite perturbation flipped; ``n_parameters`` (A,)."""

    names: np.ndarray
    tangent: np.ndarray
    absolute: np.ndarray
    finite: np.ndarray
    flips: np.ndarray
    n_parameters: np.ndarray


def run_architectures(config: ArchitectureConfig, *, progress: bool = True, use_cache: bool = True,
                      executor: Any = None) -> ArchitectureResult:
    """One :func:`run_finite_size` per architecture (each cached on its own), summarised side by side; the
    architectures on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> ArchitectureResult:
        rows = {name: [] for name in ("tangent", "absolute", "finite", "flips", "n_parameters")}
        dataset = data.load(config.dataset, n_train=config.n_train, test_fraction=config.test_fraction,
                            seed=config.seed)
        members = [config.member(name) for name in config.architectures]
        with runtime.unit_pool(executor) as pool:
            results = runtime.map_runs(functools.partial(run_finite_size, progress=False, use_cache=use_cache),
                                       members, executor=pool, description="architectures", progress=progress)
        for member, result in zip(members, results):
            rows["tangent"].append(tangent_exponents(result, relative=True))
            rows["absolute"].append(tangent_exponents(result, relative=False))
            rows["finite"].append(np.asarray(result.rate[:, 0]) - np.asarray(result.norm_rate))
            rows["flips"].append(np.asarray(result.flips[:, 0]))
            rows["n_parameters"].append(models.count_parameters(_network(member, dataset, config.seed)[0]))
        return ArchitectureResult(names=np.array(config.architectures), **{k: np.array(v) for k, v in rows.items()})

    return runtime.cached(compute, config, ArchitectureResult, use_cache=use_cache)


def compare_architectures(result: ArchitectureResult, reference: str,
                          confidence: float = rules.CONFIDENCE) -> dict[str, np.ndarray]:
    """Each architecture's infinitesimal relative rate against the ``reference``'s, paired by seed (shared
    minibatch order), Holm-corrected over the other architectures. ``sign`` (A,): +1 grows faster (less
    stable), −1 slower (more stable), 0 not distinguishable, NaN for the reference itself."""
    names = list(result.names)
    index = names.index(reference)
    others = [a for a in range(len(names)) if a != index]
    differences = (np.asarray(result.tangent)[others] - np.asarray(result.tangent)[index]).T
    centre, interval, sign = holm_intervals(differences, confidence)
    out = {"difference": np.full(len(names), np.nan), "interval": np.full((len(names), 2), np.nan),
           "sign": np.full(len(names), np.nan)}
    out["difference"][others], out["interval"][others], out["sign"][others] = centre, interval, sign
    return out


def _architecture_findings(result: ArchitectureResult, config: ArchitectureConfig) -> dict[str, Any]:
    """Per architecture: the infinitesimal relative rate with its interval and sign over seeds, the finite
    rate, and the paired comparison with the reference architecture."""
    comparison = compare_architectures(result, config.reference)
    n_seeds = int(np.asarray(result.tangent).shape[1])
    tested = n_seeds >= rules.MIN_UNITS
    words = {1.0: "grows faster (less stable)", -1.0: "grows slower (more stable)",
             0.0: "not distinguishable at this power"}
    clauses, signs = [], []
    for a, name in enumerate(result.names):
        decision = rules.interval_rule(np.asarray(result.tangent[a], dtype=float))
        signs.append(decision.word)
        mean, _ = t_interval(result.tangent[a])
        versus = ("the reference" if name == config.reference else
                  f"vs {config.reference}: " + (words.get(float(comparison["sign"][a]), "untestable") if tested
                                                else "not tested"))
        slack = 0.5 * np.log(float(result.n_parameters[a])) / config.epochs
        clauses.append(f"{name} ({int(result.n_parameters[a])} parameters, slack ½ln P/T = {slack:.2f}): "
                       f"{mean:+.4f} per epoch ({_interval_text(result.tangent[a], signed=True)}), finite "
                       f"{np.nanmean(result.finite[a]):+.4f}; {versus}")
    order = np.argsort(np.nanmean(np.asarray(result.tangent, dtype=float), axis=1))
    more = [str(result.names[a]) for a in range(len(result.names)) if tested and comparison["sign"][a] == -1]
    less = [str(result.names[a]) for a in range(len(result.names)) if tested and comparison["sign"][a] == 1]
    return {
        "arch_count": len(result.names),
        "arch_seeds": int(np.asarray(result.tangent).shape[1]),
        "arch_reference": config.reference,
        "arch_sentence": "; ".join(clauses),
        "arch_order": ", ".join(str(result.names[a]) for a in order),
        "arch_tested": (f"paired by seed and Holm-corrected over the others" if tested else
                        f"not tested: {grammar.plural(n_seeds, 'seed')}, fewer than {rules.MIN_UNITS}"),
        "arch_more_stable": ", ".join(more) or "none",
        "arch_less_stable": ", ".join(less) or "none",
        "arch_decided": (f"with {grammar.plural(n_seeds, 'seed')}, fewer than {rules.MIN_UNITS}, the interval rule decides none of the "
                         "signs" if not tested else f"the interval rule resolves "
                         f"{int(sum(word in (HOLDS_WORD, FAILS_WORD) for word in signs))} of the {len(signs)} signs "
                         f"({int(sum(word == HOLDS_WORD for word in signs))} above 0)"),
    }


# ------------------------------------------------------------------------------------------ regime

FLOAT32_RESOLUTION = 2.0**-24
"""Half the spacing of float32 numbers relative to their size (≈ 6e-8): a relative change of a weight below
it is rounded away, and one a few times above it is distorted by rounding."""

FLOAT64_BELOW = 100 * FLOAT32_RESOLUTION
"""Perturbations smaller than this (relative, per tensor; ≈ 6e-6) are trained in float64, so that float32
rounding neither distorts the initial perturbation nor dominates its growth."""


@dataclass(frozen=True)
class RegimeConfig(ConfigBase):
    """The fitted exponent and the fraction of diverged replicas over ``lrs`` × ``perturbations``, for
    ``n_seeds`` seeds (each its own initialisation, batch order and perturbation directions). Cells whose
    perturbation is below :data:`FLOAT64_BELOW` train in float64."""

    dataset: str = "digits"
    n_train: int = 1000
    widths: tuple[int, ...] = (64,)
    lrs: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)
    perturbations: tuple[float, ...] = (1e-5, 1e-3, 1e-1)
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 5
    n_replicas: int = 4
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_number("n_train", self.n_train, low=64, high=100_000, integer=True)
        for field in ("lrs", "perturbations"):
            values = getattr(self, field)
            if not values or not isinstance(values, tuple):
                raise ValueError(f"{field}={values!r} is not allowed; expected a non-empty tuple of positive numbers")
            for value in values:
                check_number(field, value, low=0.0, high=100.0, low_inclusive=False)
        check_number("momentum", self.momentum, low=0.0, high=1.0, high_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=self.n_train, integer=True)
        check_number("epochs", self.epochs, low=1, high=1000, integer=True)
        check_number("n_replicas", self.n_replicas, low=3, high=1024, integer=True)
        check_number("n_seeds", self.n_seeds, low=2, high=100, integer=True)

    @classmethod
    def quick(cls) -> "RegimeConfig":
        return cls()

    @classmethod
    def full(cls) -> "RegimeConfig":
        return cls(n_train=1300, lrs=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
                   perturbations=(1e-7, 1e-5, 1e-3, 1e-2, 1e-1), epochs=20, n_replicas=9, n_seeds=5, device="auto")


@dataclass
class RegimeResult(ResultBase):
    """Per seed s, step size i and perturbation j: ``exponent`` (S, L, E), the slope of ln spread per epoch
    (NaN when any replica diverged); ``realised_perturbation`` (S, L, E), the mean initial distance of the
    perturbed replicas over ε‖θ₀‖ (1 when the perturbation survives rounding). Over seeds:
    ``exponent_mean`` (L, E) and its 95% t-interval ``exponent_interval`` (L, E, 2); ``diverged_fraction``
    (L, E) and ``test_accuracy`` (L, E) (mean over healthy replicas). ``float64`` (E,): the columns trained
    in float64. ``bend`` (S, L, E): the fitted exponent over the second half of the run minus the one over
    the first half (NaN when any replica diverged); saturation of the distance bends the curve earlier,
    hence more, at a larger perturbation."""

    lrs: np.ndarray
    perturbations: np.ndarray
    exponent: np.ndarray
    exponent_mean: np.ndarray
    exponent_interval: np.ndarray
    realised_perturbation: np.ndarray
    diverged_fraction: np.ndarray
    test_accuracy: np.ndarray
    float64: np.ndarray
    steps_per_epoch: int = 1
    bend: np.ndarray | float = float("nan")


def _regime_cell(config: RegimeConfig, cell: tuple[int, int, int]) -> dict[str, float]:
    """One (seed, step size, perturbation) cell of the regime map: a batched ensemble trained and summarised."""
    s, i, j = cell
    device = runtime.device(config.device)
    dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device=device)
    per_epoch = dataset.x_train.shape[0] // config.batch_size
    seed = config.seed + s
    float64 = config.perturbations[j] < FLOAT64_BELOW
    model = _model(config, dataset, seed)
    record = replicas.train_replicas(
        model.double() if float64 else model, dataset, n_replicas=config.n_replicas,
        perturbation=config.perturbations[j], lr=config.lrs[i], momentum=config.momentum,
        batch_size=config.batch_size, n_steps=config.epochs * per_epoch, seed=seed,
        record_every=max(1, per_epoch // 4), device=device,
    )
    out = {"realised": float(np.mean(record.distance[1:, 0]) / (config.perturbations[j] * record.parameter_norm[0, 0])),
           "diverged": float(record.diverged.mean()), "accuracy": np.nan, "exponent": np.nan, "bend": np.nan,
           "per_epoch": per_epoch}
    if record.healthy.any():
        out["accuracy"] = float(np.nanmean(record.test_accuracy))
    if not record.diverged.any():
        epochs = record.steps / per_epoch
        out["exponent"] = float(lyapunov.fitted_exponent(epochs, record.spread)[0])
        early, late = epochs <= epochs[-1] / 2, epochs >= epochs[-1] / 2
        out["bend"] = float(lyapunov.fitted_exponent(epochs[late], record.spread[late])[0]
                            - lyapunov.fitted_exponent(epochs[early], record.spread[early])[0])
    return out


def run_regime(config: RegimeConfig, *, progress: bool = True, use_cache: bool = True,
               executor: Any = None) -> RegimeResult:
    """One batched ensemble per grid cell and seed; with an ``executor`` (a process pool, a Dask cluster's)
    the cells run on it (:func:`uniq_core.runtime.map_runs`)."""

    def compute() -> RegimeResult:
        shape = (config.n_seeds, len(config.lrs), len(config.perturbations))
        cells = list(itertools.product(range(shape[0]), range(shape[1]), range(shape[2])))
        records = runtime.map_runs(functools.partial(_regime_cell, config), cells, executor=executor,
                                   description="grid", progress=progress)
        table = {name: np.array([record[name] for record in records]).reshape(shape)
                 for name in ("realised", "diverged", "accuracy", "exponent", "bend")}
        exponent, realised, bend = table["exponent"], table["realised"], table["bend"]
        diverged, accuracy = table["diverged"], table["accuracy"]
        float64 = np.asarray(config.perturbations) < FLOAT64_BELOW
        per_epoch = records[0]["per_epoch"]
        mean, interval = np.full(shape[1:], np.nan), np.full(shape[1:] + (2,), np.nan)
        for i, j in itertools.product(range(shape[1]), range(shape[2])):
            mean[i, j], interval[i, j] = t_interval(exponent[:, i, j])
        with warnings.catch_warnings():  # a column where every replica diverged has no accuracy
            warnings.simplefilter("ignore", RuntimeWarning)
            return RegimeResult(lrs=np.asarray(config.lrs, dtype=np.float64),
                                perturbations=np.asarray(config.perturbations, dtype=np.float64),
                                exponent=exponent, exponent_mean=mean, exponent_interval=interval,
                                realised_perturbation=realised, diverged_fraction=diverged.mean(axis=0),
                                test_accuracy=np.nanmean(accuracy, axis=0), float64=float64,
                                steps_per_epoch=per_epoch, bend=bend)

    return runtime.cached(compute, config, RegimeResult, use_cache=use_cache)


def healthy_cells(result: RegimeResult) -> np.ndarray:
    """(L, E) cells in which no replica of any seed diverged (a partly diverged cell is not healthy)."""
    return result.diverged_fraction == 0


def positive_cells(result: RegimeResult, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """One decision rule for the whole map: per healthy cell, a t-test over seeds of "exponent = 0", with
    Holm's correction over all healthy cells (:func:`uniq_core.stats.holm_intervals`).

    Returns ``sign`` (L, E): +1 (above 0), −1 (below), 0 (not distinguishable), NaN (cell not healthy or
    fewer than two seeds), and ``interval`` (L, E, 2), the simultaneous (Bonferroni-level) intervals.
    """
    healthy = healthy_cells(result)
    sign = np.full(healthy.shape, np.nan)
    interval = np.full(healthy.shape + (2,), np.nan)
    if healthy.any():
        _, cell_interval, cell_sign = holm_intervals(result.exponent[:, healthy], confidence)
        sign[healthy], interval[healthy] = cell_sign, cell_interval
    return {"sign": sign, "interval": interval}


def divergence_onset(result: RegimeResult) -> float:
    """The smallest step size from which every larger step size has a diverged replica in some cell, or NaN
    when the largest step size has none (then no step size is a threshold)."""
    any_diverged = result.diverged_fraction.max(axis=1) > 0
    if not any_diverged[-1]:
        return float("nan")
    first = len(any_diverged) - int(np.argmin(any_diverged[::-1])) if not any_diverged.all() else 0
    return float(result.lrs[first])


def compare_bends(result: RegimeResult, confidence: float = 0.95) -> dict[str, object]:
    """Per step size, does the curve bend more at the largest perturbation than at the smallest, as
    saturation of the distance predicts (training converging would bend both alike)?

    Paired by seed: d_s = bend_s(ε_max) − bend_s(ε_min) (bend = late − early exponent), Holm-corrected over
    step sizes. Words: "more at the largest ε" (d < 0), "less at the largest ε" (d > 0), "not
    distinguishable", or "untested" (fewer than two seeds with both). Returns ``difference``, ``interval``,
    ``words``.
    """
    difference = result.bend[:, :, -1] - result.bend[:, :, 0]
    centre, interval, sign = holm_intervals(difference, confidence)
    words = [("untested" if not np.isfinite(s) else
              {-1.0: "more at the largest ε", 1.0: "less at the largest ε"}.get(float(s), "not distinguishable"))
             for s in sign]
    return {"difference": centre, "interval": interval, "words": words}


def compare_perturbation_sizes(result: RegimeResult, confidence: float = 0.95) -> dict[str, object]:
    """Per step size, does the smallest perturbation's spread grow faster than the largest one's?

    The comparison is paired by seed: the difference d_s = λ_s(ε_min) − λ_s(ε_max) of fitted exponents,
    tested over seeds with Holm's correction over the step sizes (:func:`uniq_core.stats.holm_intervals`).
    A row's word is "faster" / "slower" when Holm rejects d = 0 with that sign, "not distinguishable" when
    it does not, "diverged" when no seed has both exponents and "too few seeds" when only one has.
    ``monotone`` (L,) compares point estimates only: whether the mean exponent falls with every step up
    in ε. Returns ``lrs``, ``difference`` (L,), ``interval`` (L, 2) (simultaneous), ``words`` (L,),
    ``monotone`` (L,) and ``sentence``, one clause per step size.
    """
    difference = result.exponent[:, :, 0] - result.exponent[:, :, -1]
    centre, interval, sign = holm_intervals(difference, confidence)
    n_finite = np.isfinite(difference).sum(axis=0)
    words = []
    for n, s in zip(n_finite, sign):
        if n == 0:
            words.append("diverged")
        elif n < 2:
            words.append("too few seeds")
        else:
            words.append({1.0: "faster", -1.0: "slower"}.get(float(s), "not distinguishable"))
    means = result.exponent_mean
    monotone = np.array([bool(np.all(np.isfinite(row)) and np.all(np.diff(row) < 0)) for row in means])
    clauses = []
    for lr, word, c, (low, high), n in zip(result.lrs, words, centre, interval, n_finite):
        if word == "diverged":
            clauses.append(f"at η = {lr:g} the replicas diverged")
        elif word == "too few seeds":
            clauses.append(f"at η = {lr:g} only {n} seed trained without divergence ({c:+.2f} per epoch)")
        else:
            clauses.append(f"at η = {lr:g} {word} ({c:+.2f} per epoch, {low:+.2f} to {high:+.2f})")
    return {"lrs": result.lrs, "difference": centre, "interval": interval, "words": words,
            "monotone": monotone, "sentence": "; ".join(clauses)}


# ---------------------------------------------------------------------------------------- findings

CONTROL_LR = 1.0
"""Step size of the negative-curvature positive control (:func:`negative_curvature_control`) in the chapter."""

CONTROL_CURVATURE = 0.004
"""The control's most negative Hessian eigenvalue is −CONTROL_CURVATURE (the scale of λ_min late in the
chapter's calm runs)."""

CONTROL_LONG_FACTOR = 20
"""The long control runs this many times the chapter's accumulated steps."""

CONTROL_WARM_FACTOR = 10
"""The warm control uses this many times the chapter's warm-up steps."""

RECOVERY_TOLERANCE = 0.2
"""The control counts as recovered when its estimate is within this fraction of the true exponent."""

ALIGNMENT_FRACTION = 0.5
"""A tangent is aligned with the negative curvature when q₁ᵀHq₁ is at least this fraction of λ_min at every
checkpoint after the first."""

HENON_CONTRACTION = 0.3
"""The Hénon map's b: its Jacobian has determinant −b everywhere, so λ₁ + λ₂ = ln b exactly."""



def _span(values, digits: int = 4) -> str:
    """"a to b" over the finite ``values`` (one value when they agree), to ``digits`` significant digits;
    "undetermined" when none is finite."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return "undetermined"
    low, high = np.min(values), np.max(values)
    return f"{low:.{digits}g}" if np.isclose(low, high) else f"{low:.{digits}g} to {high:.{digits}g}"


def _mechanism_words(values) -> str:
    """The distinct :data:`MECHANISMS` of some runs other than "none", joined by "and"."""
    names = sorted(set(values) - {MECHANISMS[0]})
    return " and ".join(names) if names else "no significantly positive exponent"


def _sign_counts(result: TangentResult, mask: np.ndarray) -> str:
    """How many selected runs' windows after the transient are positive / not positive / undetermined."""
    labels = result.sign_after[mask]
    counts = [(label, int((labels == label).sum())) for label in ("positive", "not significantly positive", "undetermined")]
    return ", ".join(f"{count} {label}" for label, count in counts if count) or "no runs"


def _step_sizes(lrs: np.ndarray) -> str:
    """Step sizes as "0.5, 1" ("none" when there are none)."""
    return ", ".join(f"{lr:g}" for lr in lrs) or "none"


def _distinct(words: np.ndarray) -> str:
    """The distinct words, sorted and comma-separated ("undetermined" when there are none)."""
    return ", ".join(sorted(set(words))) or "undetermined"


def _all_some_none(selected: np.ndarray, flags: np.ndarray, every: str, no: str, some: str) -> str:
    """``every`` when some runs are selected and every one is flagged, ``no`` when none is, else ``some``
    with ``{k}`` the number flagged; ``flags`` has one entry per selected run."""
    if selected.any() and flags.all():
        return every
    if selected.any() and not flags.any():
        return no
    return some.format(k=int(flags.sum()))


def tangent_parameter_count(config: TangentConfig) -> int:
    """P, the dimension of the training map: parameters of the chapter's MLP on the digits (64 → 10)."""
    return sum(p.numel() for p in models.MLP(64, config.widths, 10, "relu").parameters())


def _validation_findings(measured: dict, settings: dict) -> dict[str, Any]:
    """Known answers: the logistic and Hénon maps, GD on a quadratic, a cold and a warm start on a linear map."""
    henon, expected = np.asarray(measured["henon"]), np.log(np.asarray(settings["linear_factors"])[:3])
    return {
        "logistic_exponent": measured["logistic"][0],
        "henon_top": henon[0],
        "henon_literature": settings["henon_literature"],
        "henon_sum_error": abs(henon.sum() - np.log(HENON_CONTRACTION)),
        "henon_contraction": HENON_CONTRACTION,
        "logistic_truth": float(np.log(2.0)),
        "quadratic_error": np.max(np.abs(np.sort(measured["quadratic"]) - np.sort(settings["quadratic_exact"]))),
        "warm_run": settings["warm_run"],
        "warm_steps": settings["warm_steps"],
        "cold_error": float(np.max(np.abs(measured["cold"] - expected))),
        "warm_error": float(np.max(np.abs(measured["warm"] - expected))),
    }


def _tangent_setup_findings(result: TangentResult, config: TangentConfig) -> dict[str, Any]:
    """The map's size, the run's length, the alignment error a cold start would have, and the cost."""
    n_parameters = tangent_parameter_count(config)
    alignment_error = 0.5 * np.log(n_parameters) / config.n_steps
    below = result.exponents_after[result.regime == REGIMES[0], 0]
    return {
        "tangent_k": config.k,
        "tangent_parameters": n_parameters,
        "tangent_flat_directions": config.widths[-1] + 1,
        "tangent_steps": config.n_steps,
        "tangent_warmup": config.warmup,
        "tangent_alignment_error": alignment_error,
        "tangent_alignment_compare": "more than" if below.size and alignment_error > np.nanmax(below) else "less than",
        "tangent_cost": float(np.nanmedian(result.seconds_per_step)) * 1e3,
    }


def _below_edge_findings(result: TangentResult, config: TangentConfig) -> dict[str, Any]:
    """Calm runs (sharpness below the edge throughout): exponent, its sign, curvature and alignment."""
    calm = result.regime == REGIMES[0]
    first_small, last_small = np.abs(result.path_smallest[calm, 0]), np.abs(result.path_smallest[calm, -1])
    half = config.n_steps // 2
    early_rate = np.nanmean(result.local_rates[calm, :half, 0], axis=1) if calm.any() else np.array([])
    late_rate = np.nanmean(result.local_rates[calm, half:, 0], axis=1) if calm.any() else np.array([])
    steps = np.arange(config.n_steps) + 0.5
    predicted_mean = np.array([np.mean(np.interp(steps, result.path_steps, row)) for row in result.predicted_rate])
    return {
        "tangent_below_lr": float(np.max(result.lrs[calm])) if calm.any() else float("nan"),
        "tangent_below_range": _span(result.exponents_after[calm, 0]),
        "tangent_below_error": _span(result.error_after[calm], 2),
        "tangent_below_signs": _sign_counts(result, calm),
        "tangent_below_mechanism": _mechanism_words(result.mechanism_after[calm]),
        "tangent_below_bound": _span(result.bound_after[calm]),
        "tangent_end_smallest": _span(result.path_smallest[calm, -1]),
        "tangent_smallest_trend": "falls" if calm.any() and np.all(last_small < first_small)
        else "does not fall on every run",
        "tangent_rate_early": _span(early_rate),
        "tangent_rate_late": _span(late_rate),
        "tangent_rate_trend": "smaller" if early_rate.size and np.all(late_rate < early_rate)
        else "not smaller on every run",
        "tangent_rayleigh_end": _span(result.path_rayleigh[calm, -1], 2),
        "tangent_rayleigh_fraction": _span(result.path_rayleigh[calm, 1:] / result.path_smallest[calm, 1:], 2),
        "tangent_sharp_end": _span(result.path_sharpness[calm, -1], 2),
        "tangent_prediction_ratio": float(np.median(result.exponents[calm, 0] / predicted_mean[calm]))
        if calm.any() else float("nan"),
    }


def _control_findings(config: TangentConfig) -> dict[str, Any]:
    """The negative-curvature positive control at the chapter's k, warm-up and length, longer, and warmer."""
    n_parameters, settings = tangent_parameter_count(config), dict(k=config.k, warmup=config.warmup)
    settings["curvature"] = CONTROL_CURVATURE
    control = negative_curvature_control(n_parameters, CONTROL_LR, n_steps=config.n_steps, **settings)
    long_steps, warm_steps = CONTROL_LONG_FACTOR * config.n_steps, CONTROL_WARM_FACTOR * config.warmup
    control_long = negative_curvature_control(n_parameters, CONTROL_LR, n_steps=long_steps, **settings)
    control_warm = negative_curvature_control(n_parameters, CONTROL_LR, k=config.k, warmup=warm_steps,
                                              n_steps=config.n_steps, curvature=CONTROL_CURVATURE)
    recovered = abs(control["recovered"] - 1) < RECOVERY_TOLERANCE
    return {
        "control_lr": CONTROL_LR,
        "control_curvature": -CONTROL_CURVATURE,
        "control_truth": control["truth"],
        "control_estimate": control["estimate"],
        "control_recovered": control["recovered"],
        "control_long_steps": long_steps,
        "control_long_recovered": control_long["recovered"],
        "control_warm_steps": warm_steps,
        "control_warm_recovered": control_warm["recovered"],
        "control_verdict": "recovers it" if recovered else "does not recover it",
        "control_consequence": "the measured exponents can be read as the negative-curvature rate" if recovered
        else "late in training the measured exponents underestimate the negative-curvature rate and are not "
        "evidence about it either way",
        "control_consequence_short": "a window that is not positive can be read as stable" if recovered
        else "a window that is not positive is not evidence of stability",
    }


def _initialisation_findings(result: TangentResult) -> dict[str, Any]:
    """Frozen rates at initialisation, per step and per unit learning time: negative curvature against the edge."""
    return {
        "tangent_start_smallest": float(np.min(result.smallest_start)),
        "tangent_init_smallest_abs": float(-np.min(result.smallest_start)),
        "tangent_init_negative_wins": "at every step size" if np.all(result.negative_rate_start > result.sharpest_rate)
        else "not at every step size",
        "tangent_init_negative_per_time": _span(result.negative_rate_start / result.lrs, 3),
        "tangent_init_sharp_per_time": _span(result.sharpest_rate / result.lrs, 3),
    }


def _catapult_rates(result: TangentResult) -> tuple[np.ndarray, np.ndarray]:
    """Per catapult run, the mean frozen edge rate and negative-curvature rate over the transient window
    (the start and the checkpoints up to its end)."""
    edge_rate, negative_rate = [], []
    for i in np.flatnonzero(result.regime == REGIMES[1]):
        inside = result.path_steps <= result.transient_end[i]
        edge_rate.append(np.nanmean(np.r_[result.sharpest_rate[i],
                                          lyapunov.frozen_rate(result.path_sharpness[i, inside], result.lrs[i])]))
        negative_rate.append(np.nanmean(np.r_[result.negative_rate_start[i],
                                              lyapunov.frozen_rate(result.path_smallest[i, inside], result.lrs[i])]))
    return np.array(edge_rate), np.array(negative_rate)


def _catapult_growth(result: TangentResult) -> str:
    """The top tangent's growth factor exp(Σ ln R₁₁) over each catapult's transient window [0, transient_end),
    over the initialisations that did not blow up: its range and how many grew."""
    running = np.asarray(result.init_running, dtype=float)
    factors = []
    for i in np.flatnonzero(result.regime == REGIMES[1]):
        end = min(int(result.transient_end[i]), running.shape[-1])
        if end > 0:
            total = running[:, i, end - 1] * end
            factors.append(np.exp(total[np.isfinite(total)]))
    if not factors or not np.concatenate(factors).size:
        return "not measured (no catapult window after the warm-up)"
    every = np.concatenate(factors)
    return f"×{np.min(every):.3g} to ×{np.max(every):.3g}, growing at {int(np.sum(every > 1))} of {every.size} " \
        "initialisations"


def _catapult_findings(result: TangentResult, config: TangentConfig) -> dict[str, Any]:
    """Runs whose sharpness crosses the edge and falls back: the transient window and what drives it."""
    catapult = result.regime == REGIMES[1]
    edge_rate, negative_rate = _catapult_rates(result)
    return {
        "tangent_catapult_count": int(catapult.sum()),
        "tangent_catapult_sizes": grammar.plural(int(catapult.sum()), "step size"),
        "tangent_catapult_lr": _step_sizes(result.lrs[catapult]),
        "tangent_catapult_end": float(np.max(result.transient_end[catapult] + config.warmup))
        if catapult.any() else float("nan"),
        "tangent_catapult_top": _span(result.exponents_transient[catapult, 0], 3),
        "tangent_catapult_error": _span(result.error_transient[catapult], 2),
        "tangent_catapult_sign": _distinct(result.sign_transient[catapult & (result.transient_end > 0)])
        if np.any(catapult & (result.transient_end > 0)) else "undetermined (every catapult ended in the warm-up)",
        "tangent_catapult_growth": _catapult_growth(result),
        "tangent_catapult_per_time": _span(result.exponents_transient[catapult, 0] / result.lrs[catapult], 3),
        "tangent_catapult_bound": _span(result.bound_transient[catapult], 3),
        "tangent_catapult_edge_rate": _span(edge_rate / result.lrs[catapult], 3),
        "tangent_catapult_negative_rate": _span(negative_rate / result.lrs[catapult], 3),
        "tangent_catapult_mechanism": "negative curvature" if catapult.any() and np.all(negative_rate > edge_rate)
        else "curvature above the edge" if catapult.any() and np.all(edge_rate > negative_rate) else "a mixture",
        "tangent_beyond_sharpness_drop":
        float(np.min(result.sharpness_end[catapult] / result.sharpness_start[catapult])) if catapult.any()
        else float("nan"),
    }


def _after_catapult_findings(result: TangentResult) -> dict[str, Any]:
    """Catapult runs after the transient: exponent, its sign and whether the tangent found the negative curvature."""
    catapult = result.regime == REGIMES[1]
    aligned = result.path_rayleigh[catapult, 1:] / result.path_smallest[catapult, 1:]
    return {
        "tangent_after_catapult": _span(result.exponents_after[catapult, 0]),
        "tangent_after_catapult_error": _span(result.error_after[catapult], 2),
        "tangent_after_catapult_word": _distinct(result.sign_after[catapult]),
        "tangent_after_catapult_mechanism": _mechanism_words(result.mechanism_after[catapult]),
        "tangent_after_catapult_frozen": _span(np.nanmax(result.predicted_rate[catapult][:, 1:], axis=1)
                                               if catapult.any() else [], 3),
        "tangent_after_catapult_rayleigh": _span(result.path_rayleigh[catapult, 1:], 2),
        "tangent_after_catapult_smallest": _span(result.path_smallest[catapult, 1:], 2),
        "tangent_after_catapult_alignment": "undetermined" if not np.isfinite(aligned).any()
        else "is aligned with" if np.all(aligned[np.isfinite(aligned)] > ALIGNMENT_FRACTION)
        else "is not aligned with",
    }


def _tangent_outcome_findings(result: TangentResult) -> dict[str, Any]:
    """Runs that stay beyond the edge or blow up, and the healthy runs whose window after is positive."""
    healthy, edge_end = ~result.diverged, result.regime == REGIMES[2]
    after_positive = healthy & (result.sign_after == "positive")
    return {
        "tangent_edge_end_count": int(edge_end.sum()),
        "tangent_edge_end_sizes": grammar.plural(int(edge_end.sum()), "step size"),
        "tangent_edge_end_runs": grammar.plural(int(edge_end.sum()), "run"),
        "tangent_edge_end_stay": grammar.agree(int(edge_end.sum()), "stays", "stay"),
        "tangent_edge_end_lr": _step_sizes(result.lrs[edge_end]),
        "tangent_blowup_count": int(result.diverged.sum()),
        "tangent_blowup_sizes": grammar.plural(int(result.diverged.sum()), "step size"),
        "tangent_blowup_lr": _step_sizes(result.lrs[result.diverged]),
        "tangent_healthy_count": int(healthy.sum()),
        "tangent_after_positive_count": int(after_positive.sum()),
        "tangent_after_undetermined_count": int((healthy & (result.sign_after == "undetermined")).sum()),
        "tangent_after_max": _span(result.exponents_after[after_positive, 0]),
        "tangent_after_mechanism": _mechanism_words(result.mechanism_after[after_positive]),
    }


SETTLING_WINDOWS = (0.5, 0.25)
"""A sign is settled when the interval over initialisations gives the same word over the last half and over
the last quarter of the accumulated window (:func:`settled_signs`)."""


def late_window_rates(result: TangentResult, fraction: float = 0.5) -> np.ndarray:
    """(I, L) mean of ln R₁₁ over the last ``fraction`` of the accumulated window of every initialisation
    and step size, from the running estimates: (T λ̂₁(T) − (T − q) λ̂₁(T − q)) / q with q = max(1, ⌊fraction·T⌋).
    ``fraction = 0.5`` is ``init_late``."""
    check_number("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    running = np.asarray(result.init_running, dtype=float)
    T = running.shape[-1]
    q = max(1, int(np.floor(fraction * T)))
    before = running[..., T - q - 1] * (T - q) if q < T else 0.0
    return (running[..., -1] * T - before) / q


def initialisation_signs(result: TangentResult, confidence: float = rules.CONFIDENCE,
                         fraction: float = 0.5) -> dict[str, np.ndarray]:
    """Per step size, the sign of the late finite-time top exponent over initialisations: the Student-t
    interval over the finite initialisations (each with its own tangent draw: the units of the uncertainty)
    of the mean of ln R₁₁ over the last ``fraction`` of the window (:func:`late_window_rates`; by default the
    second half, ``init_late``), "positive" when it lies above 0, "negative" below, "not resolved" when it
    contains 0 or fewer than :data:`uniq_core.rules.MIN_UNITS` initialisations are finite. Returns ``mean``,
    ``low``, ``high`` (L,), ``n`` (L,) and ``sign`` (L,) words."""
    late = np.atleast_2d(np.asarray(result.init_late if fraction == 0.5 else late_window_rates(result, fraction),
                                    dtype=float))
    out = intervals_over_initialisations(late, confidence)
    out["sign"] = np.where(out["low"] > 0, "positive", np.where(out["high"] < 0, "negative", "not resolved"))
    return out


def intervals_over_initialisations(values: np.ndarray, confidence: float = rules.CONFIDENCE) -> dict[str, np.ndarray]:
    """Per column of ``values`` (I, L): the mean of its finite entries, their number ``n``, and the Student-t
    interval ``low``, ``high`` over them (NaN with fewer than :data:`uniq_core.rules.MIN_UNITS`)."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    L = values.shape[1]
    out = {"mean": np.full(L, np.nan), "low": np.full(L, np.nan), "high": np.full(L, np.nan),
           "n": np.zeros(L, dtype=int)}
    for i in range(L):
        finite = values[:, i][np.isfinite(values[:, i])]
        out["n"][i] = finite.size
        if finite.size:
            out["mean"][i] = finite.mean()
        if finite.size >= rules.MIN_UNITS:
            _, (out["low"][i], out["high"][i]) = t_interval(finite, confidence)
    return out


def settled_signs(result: TangentResult, confidence: float = rules.CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Per step size, whether a resolved sign keeps its word over the last quarter: :func:`initialisation_signs`
    is "positive" (or "negative") over each window of :data:`SETTLING_WINDOWS`. A drift that carries λ̂₁
    across 0 shows as a quarter whose word differs; an unresolved word never counts as settled. The last
    quarter lies inside the last half, so the two intervals are dependent: this rules out a sign change late
    in the window, not a decay towards 0 (:func:`late_decay` measures that). Returns ``settled`` and
    ``testable`` (L,) (enough finite initialisations for an interval)."""
    signs = [initialisation_signs(result, confidence, fraction) for fraction in SETTLING_WINDOWS]
    words = [each["sign"] for each in signs]
    testable = signs[0]["n"] >= rules.MIN_UNITS
    same = np.all([w == words[0] for w in words[1:]], axis=0)
    return testable & same & np.isin(words[0], ("positive", "negative")), testable


DECAY_WINDOWS = 3
""":func:`late_decay` fits the rate over this many consecutive dyadic windows ending at T: [T/8, T/4),
[T/4, T/2), [T/2, T)."""


def _dyadic_window_rates(result: TangentResult) -> tuple[list[int], np.ndarray | None]:
    """The :data:`DECAY_WINDOWS` dyadic windows ending at T (their edges T/8, T/4, T/2, T) and the mean of
    ln R₁₁ over each, per initialisation and step size (I, L, windows), from the running estimates; None
    when the window is too short for distinct edges."""
    running = np.asarray(result.init_running, dtype=float)
    T = running.shape[-1]
    edges = [T // 2 ** j for j in range(DECAY_WINDOWS, -1, -1)]
    if edges[0] < 1 or len(set(edges)) < len(edges):
        return edges, None
    cumulative = running * np.arange(1, T + 1)  # Σ ln R₁₁ up to each step
    return edges, np.stack([(cumulative[..., t2 - 1] - cumulative[..., t1 - 1]) / (t2 - t1)
                            for t1, t2 in zip(edges[:-1], edges[1:])], axis=-1)


def late_decay(result: TangentResult, confidence: float = rules.CONFIDENCE) -> dict[str, np.ndarray]:
    """How fast the top exponent's rate falls along the window, per step size: per initialisation the mean
    of ln R₁₁ over each of :data:`DECAY_WINDOWS` dyadic windows ending at T, and the least-squares slope of
    its logarithm against the logarithm of the window's geometric midpoint; ``a`` = −slope, so a rate that
    falls as T^−a gives a. Then the Student-t interval of a over the initialisations whose rates are all
    positive (NaN otherwise). a > 0 means the rate falls over these windows; a fit of the rate alone cannot
    tell a decay to 0 from a decay towards a small persistent exponent (a persistent part added to a
    transient also fits a power law over three windows). Returns ``mean``, ``low``, ``high``,
    ``n`` (L,) and ``decaying`` (L,): the interval lies above 0."""
    edges, rates = _dyadic_window_rates(result)
    if rates is None:
        L = np.asarray(result.init_running).shape[1]
        return {"mean": np.full(L, np.nan), "low": np.full(L, np.nan), "high": np.full(L, np.nan),
                "n": np.zeros(L, dtype=int), "decaying": np.zeros(L, dtype=bool)}
    midpoints = np.log(np.sqrt(np.array(edges[:-1], dtype=float) * np.array(edges[1:])))
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log(rates)
    centred = midpoints - midpoints.mean()
    slope = np.sum((logs - logs.mean(axis=-1, keepdims=True)) * centred, axis=-1) / np.sum(centred ** 2)
    exponent = np.where(np.all(rates > 0, axis=-1) & np.isfinite(slope), -slope, np.nan)
    out = intervals_over_initialisations(exponent, confidence)
    out["decaying"] = out["low"] > 0
    return out


SIGN_WORDS = ("finite-time positive", "below the exact floor of 0 (the estimator undershoots)", "negative",
              "not resolved", "not determined by this instrument", "blew up at every initialisation")
"""The words :func:`determined_signs` gives a step size."""


def determined_signs(signs: dict[str, np.ndarray], settled: np.ndarray, control_recovered: bool,
                     floor_at_zero: bool = True) -> np.ndarray:
    """The words of :data:`SIGN_WORDS` per step size, from :func:`initialisation_signs`.

    - Positive: the growth ‖M q‖ of a unit vector never exceeds the largest singular value of the window's
      Jacobian product M, so a positive estimate is a lower bound on the window's top finite-time exponent
      and needs no calibration; it needs its sign to have settled (:func:`settled_signs`). The word is
      "finite-time positive": whether the rate tends to 0 or to a positive limit is not a property of one
      window (:func:`late_decay` and the exact upper bound along the path speak to it).
    - Negative: with ``floor_at_zero`` (exactly flat directions keep the true exponent at 0 or above) a
      negative interval is a measured undershoot of the estimator, reported as such; without it, "negative"
      needs a settled sign and the positive control to recover its rate (``control_recovered``).
    - Not resolved: needs the control (an estimator that undershoots cannot show stability); with fewer than
      :data:`uniq_core.rules.MIN_UNITS` finite initialisations there is no interval, and the word is "not
      resolved" whatever the control.
    - Elsewhere "not determined by this instrument"; "blew up at every initialisation" where none is finite.
    """
    words = np.array(signs["sign"], dtype=object)
    settled = np.asarray(settled, dtype=bool)
    enough = np.asarray(signs["n"]) >= rules.MIN_UNITS
    positive, negative, unresolved = words == "positive", words == "negative", words == "not resolved"
    out = np.array(["not determined by this instrument"] * words.size, dtype=object)
    out[positive & settled] = SIGN_WORDS[0]
    if floor_at_zero:
        out[negative] = SIGN_WORDS[1]
    elif control_recovered:
        out[negative & settled] = SIGN_WORDS[2]
    if control_recovered:
        out[unresolved] = SIGN_WORDS[3]
    out[~enough & (np.asarray(signs["n"]) > 0)] = SIGN_WORDS[3]
    out[np.asarray(signs["n"]) == 0] = SIGN_WORDS[5]
    return out.astype(str)


def _quarter_intervals(result: TangentResult) -> str:
    """The late top exponent over the last quarter of the window per step size, as the chapter prints it."""
    signs = initialisation_signs(result, fraction=SETTLING_WINDOWS[-1])
    return "; ".join(f"η = {lr:g}: {m:.3g} [{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) else f"η = {lr:g}: no interval"
                     for lr, m, lo, hi in zip(result.lrs, signs["mean"], signs["low"], signs["high"]))


def _late_trend(result: TangentResult, positive: np.ndarray) -> str:
    """Whether the positive late exponents are still falling: the mean over the last quarter of the window
    against the mean over the last half, at the step sizes ``positive``."""
    if not positive.any():
        return "not compared (no positive sign)"
    ratio = initialisation_signs(result, fraction=SETTLING_WINDOWS[-1])["mean"][positive] / \
        initialisation_signs(result)["mean"][positive]
    return (("smaller over the last quarter than over the last half at every positive step size"
             if np.all(ratio < 1) else "not smaller over the last quarter at every positive step size")
            + f" (ratio {_span(ratio, 2)})")


def _decay_words(result: TangentResult, positive: np.ndarray) -> dict[str, str]:
    """The decay exponent a of the late rate (:func:`late_decay`, over [T/8, T)) at the positive step sizes,
    and its drift: the local exponent between the first two and between the last two dyadic windows."""
    decay = late_decay(result)
    intervals = "; ".join(f"η = {lr:g}: {m:.2f} [{lo:.2f}, {hi:.2f}]" if np.isfinite(lo) else
                          f"η = {lr:g}: no interval ({n} initialisations with positive rates in every window)"
                          for lr, m, lo, hi, n in zip(result.lrs[positive], decay["mean"][positive],
                                                      decay["low"][positive], decay["high"][positive],
                                                      decay["n"][positive]))
    _, rates = _dyadic_window_rates(result)
    drift = []
    if rates is not None:
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a step size whose every run blew up: NaN
            local = np.log(rates[..., :-1] / rates[..., 1:]) / np.log(2.0)  # (I, L, windows − 1)
            local = np.nanmean(np.where(np.all(rates > 0, axis=-1, keepdims=True), local, np.nan), axis=0)
        drift = [f"η = {lr:g}: {row[0]:.2f} then {row[-1]:.2f}" for lr, row in zip(result.lrs[positive],
                                                                                local[positive])]
    return {"tangent_inits_decay": intervals or "none",
            "tangent_inits_decay_drift": "; ".join(drift) if drift else "not measured"}


def _late_bracket(result: TangentResult) -> dict[str, str]:
    """Where the late rate lies between its measured lower bound and the exact upper bound: at the step sizes
    whose late sign is positive, for the first initialisation, the gradient-descent bound
    ln max(|1 − ηλ_max|, |1 − ηλ_min|) with the curvature at the checkpoints in the second half of the window,
    the measured late rate over that bound, and |λ_min| over the loss at the checkpoints after the start."""
    signs = initialisation_signs(result)
    positive = np.flatnonzero((signs["sign"] == "positive") & (result.regime == REGIMES[0]))
    steps = np.asarray(result.path_steps, dtype=float)
    late = steps >= steps[-1] / 2
    bounds, ratios, per_loss = [], [], []
    for i in positive:
        bound = lyapunov.gradient_descent_bound(result.path_sharpness[i, late], result.path_smallest[i, late],
                                                result.lrs[i])
        bounds.append(bound)
        ratios.append(np.atleast_2d(result.init_late)[0, i] / bound)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_loss.extend(-result.path_smallest[i, 1:] / result.path_loss[i, 1:])
    if not bounds:
        return {"tangent_late_bound": "not measured (no calm step size with a positive late sign)",
                "tangent_late_bracket": "not measured", "tangent_smallest_per_loss": "not measured"}
    return {"tangent_late_bound": _span(np.array(bounds), 3), "tangent_late_bracket": _span(np.array(ratios), 2),
            "tangent_smallest_per_loss": _span(np.array(per_loss), 2)}


def _curvature_decay(result: TangentResult) -> str:
    """Per calm step size (first initialisation), the exponent b of |λ_min| ∝ t^−b fitted by least squares
    on logarithms over the checkpoints after the start where λ_min < 0."""
    values = []
    for i in np.flatnonzero(result.regime == REGIMES[0]):
        steps, smallest = np.asarray(result.path_steps, dtype=float), np.asarray(result.path_smallest[i], dtype=float)
        keep = (steps > 0) & np.isfinite(smallest) & (smallest < 0)
        if keep.sum() >= 3:
            values.append(-np.polyfit(np.log(steps[keep]), np.log(-smallest[keep]), 1)[0])
    return _span(np.array(values), 3) if values else "not measured (fewer than three negative checkpoints)"


def _over_initialisations_findings(result: TangentResult, config: TangentConfig,
                                   control_recovered: bool) -> dict[str, Any]:
    """The late top exponent's distribution over initialisations per step size, its word where the
    instrument can give one (:func:`determined_signs`), how often the top tangent grows, whether a resolved
    sign keeps its word over the last quarter (:func:`settled_signs`) and how fast a positive rate decays
    (:func:`late_decay`)."""
    signs = initialisation_signs(result)
    calm = result.regime == REGIMES[0]
    flat, finite = settled_signs(result)
    intervals = "; ".join(f"η = {lr:g}: {m:.3g} [{lo:.3g}, {hi:.3g}]" if np.isfinite(lo) else
                          f"η = {lr:g}: blew up at every initialisation" if n == 0 else
                          f"η = {lr:g}: {m:.3g} (no interval: {n} initialisations did not blow up)"
                          for lr, m, lo, hi, n in zip(result.lrs, signs["mean"], signs["low"], signs["high"],
                                                      signs["n"]))
    words = determined_signs(signs, flat, control_recovered)
    positive = words == SIGN_WORDS[0]
    counts = [(word, int(np.sum(words == word))) for word in SIGN_WORDS]
    resolved = signs["sign"] != "not resolved"
    half = config.n_steps - config.n_steps // 2
    return {
        "tangent_inits": int(np.atleast_2d(result.init_late).shape[0]),
        "tangent_inits_intervals": intervals,
        "tangent_inits_signs": "; ".join(f"{n} {word}" for word, n in counts if n),
        "tangent_inits_calm_signs": _distinct(words[calm]) if calm.any() else "undetermined",
        "tangent_inits_growing": _span(np.asarray(result.init_growing, dtype=float)[:, calm], 2),
        "tangent_inits_flat": "keeps its word over the last quarter at every step size with a resolved sign"
        if resolved.any() and flat[resolved & finite].all()
        else f"keeps its word over the last quarter at {int(flat.sum())} of {int((resolved & finite).sum())} "
        "step sizes with a resolved sign",
        "tangent_inits_quarter": _quarter_intervals(result),
        "tangent_inits_trend": _late_trend(result, positive),
        "tangent_inits_amplification": _span(np.exp(signs["mean"][positive] * half), 3)
        if positive.any() else "not computed (no positive sign)",
        **_decay_words(result, positive),
        **_late_bracket(result),
        "tangent_smallest_decay": _curvature_decay(result),
        "tangent_inits_steps": int(config.n_steps),
        "tangent_inits_level": f"{rules.CONFIDENCE:.0%}",
    }


def edge_ratio(result: TangentResult) -> np.ndarray:
    """(L, C+1) sharpness over the edge (2 + 2β)/η at the start of the tangents and at every checkpoint."""
    start = np.asarray(result.sharpness_start, dtype=float)[:, None]
    return np.concatenate([start, np.asarray(result.path_sharpness, dtype=float)], axis=1) / \
        np.asarray(result.threshold, dtype=float)[:, None]


def at_edge(result: TangentResult, band: tuple[float, float] = EDGE_BAND) -> np.ndarray:
    """(L,) runs at the edge of stability (:data:`EDGE_BAND`): sharpness within ``band`` of the edge at every
    checkpoint and at or above it at one at least, and a loss that rises between some checkpoints. The
    sharpness and loss are those of the first initialisation."""
    ratio = edge_ratio(result)
    loss = np.asarray(result.path_loss, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        inside = np.all((ratio >= band[0]) & (ratio <= band[1]), axis=1) & np.isfinite(ratio).all(axis=1)
        reaches = np.nanmax(ratio, axis=1) >= 1.0
        rises = np.any(np.diff(loss, axis=1) > 0, axis=1)
    return inside & reaches & rises


def _edge_theory_word(frozen: np.ndarray, low: np.ndarray, high: np.ndarray) -> str:
    """How the frozen-Hessian rate of the sharpest direction compares with the measured late exponents'
    intervals at the runs at the edge."""
    if not frozen.size or not (np.isfinite(low).all() and np.isfinite(high).all() and np.isfinite(frozen).all()):
        return "not compared (no run at the edge with an interval)"
    if np.all(frozen > high):
        return ("above every measured interval (the measured rate is a lower bound with no control in this "
                "regime, so this does not show that a frozen Hessian overpredicts the growth)")
    if np.all((frozen >= low) & (frozen <= high)):
        return "inside the measured intervals"
    return "inside some measured intervals and outside others"


def _edge_findings(result: TangentResult, config: TangentConfig) -> dict[str, Any]:
    """At the edge of stability (:class:`EdgeConfig`): per step size, whether the run is at the edge
    (:func:`at_edge`, recomputed under :data:`EDGE_BANDS`), and the late top exponent over initialisations with
    its sign where it has settled (:func:`settled_signs`)."""
    signs = initialisation_signs(result)
    flat, _ = settled_signs(result)  # no positive control in this regime, and squared error has no floor at 0
    words = determined_signs(signs, flat, False, floor_at_zero=False)
    ratio = edge_ratio(result)
    edge = at_edge(result)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sharp_rate = np.array([np.nanmean(lyapunov.frozen_rate(row, lr, config.momentum))
                               for row, lr in zip(np.asarray(result.path_sharpness, dtype=float), result.lrs)])
    loss = np.asarray(result.path_loss, dtype=float)
    clauses = []
    for i, lr in enumerate(result.lrs):
        finite = ratio[i][np.isfinite(ratio[i])]
        rises = bool(np.any(np.diff(loss[i]) > 0))
        where = (f"sharpness {_span(finite * result.threshold[i], 3)} against the edge {result.threshold[i]:.3g}, "
                 f"loss {'rising at some checkpoint' if rises else 'falling at every checkpoint'}: "
                 + ("at the edge" if edge[i] else "not at the edge")) if finite.size else "no sharpness measured"
        interval = (f"{signs['mean'][i]:.2g} per step [{signs['low'][i]:.2g}, {signs['high'][i]:.2g}]"
                    if np.isfinite(signs["low"][i]) else f"{signs['mean'][i]:.2g} per step (no interval)")
        clauses.append(f"η = {lr:g}: {where}; late top exponent {interval}: {words[i]}")
    edge_words = words[edge]
    counts = [int(at_edge(result, band).sum()) for band in EDGE_BANDS]
    robust = ("the same under the bands " if all(c == int(edge.sum()) for c in counts) else "it depends on the band: ") \
        + ", ".join(f"{c} within {low:g} to {high:g}" for c, (low, high) in zip(counts, EDGE_BANDS))
    return {
        "edge_loss": "squared error" if config.loss == "mse" else "cross-entropy",
        "edge_transient": int(config.transient),
        "edge_steps": int(config.n_steps),
        "edge_inits": int(np.atleast_2d(result.init_late).shape[0]),
        "edge_band_low": EDGE_BAND[0],
        "edge_band_high": EDGE_BAND[1],
        "edge_count": int(edge.sum()),
        "edge_runs": len(result.lrs),
        "edge_bands": robust,
        "edge_sentence": "; ".join(clauses),
        "edge_signs": _distinct(edge_words) if edge_words.size else "not measured: no run is at the edge",
        "edge_sharp_rate": _span(sharp_rate, 2),
        "edge_theory_word": _edge_theory_word(sharp_rate[edge], signs["low"][edge], signs["high"][edge]),
        "edge_growing": _span(np.asarray(result.init_growing, dtype=float), 2),
    }


def heavy_ball_edge_ratio(result: TangentResult, momentum: float) -> np.ndarray:
    """(L,) the largest η·λ_max on each run's path (at the start or at a finite checkpoint) over the heavy-ball
    edge 2 + 2β; above 1 the run crossed the edge."""
    path = np.nanmax(np.where(np.isfinite(result.path_sharpness), result.path_sharpness, -np.inf), axis=1)
    return np.fmax(result.lrs * result.sharpness_start, path * result.lrs) / (2 + 2 * momentum)


def _momentum_findings(result: TangentResult, config: TangentConfig) -> dict[str, Any]:
    """Heavy ball at its edge: the step sizes whose η·λ_max crossed 2 + 2β without diverging, and the calm ones.
    Whether the crossing runs return below the edge is decided over the crossing runs only."""
    ratio = heavy_ball_edge_ratio(result, config.momentum)
    crossed = (ratio > 1) & ~result.diverged
    calm = result.regime == REGIMES[0]
    settled = result.regime[crossed] == REGIMES[1]
    worse = result.final_loss[crossed] > result.initial_loss[crossed]
    return {
        "momentum_beta": config.momentum,
        "momentum_crossed_count": int(crossed.sum()),
        "momentum_crossed_sizes": grammar.plural(int(crossed.sum()), "non-diverging step size"),
        "momentum_crossed_cross": grammar.agree(int(crossed.sum()), "crosses", "cross"),
        "momentum_crossed_lr": _step_sizes(result.lrs[crossed]),
        "momentum_diverged_count": int(result.diverged.sum()),
        "momentum_diverged_are": grammar.agree(int(result.diverged.sum()), "is", "are"),
        "momentum_largest_ratio": float(np.nanmax(ratio)),
        "momentum_largest_start_ratio":
        float(np.nanmax(result.lrs * result.sharpness_start / (2 + 2 * config.momentum))),
        "momentum_crossed_top": _span(result.exponents_transient[crossed, 0], 3),
        "momentum_crossed_error": _span(result.error_transient[crossed], 2),
        "momentum_crossed_sign": _distinct(result.sign_transient[crossed]),
        "momentum_crossed_mechanism": _mechanism_words(result.mechanism_transient[crossed]),
        "momentum_crossed_settled": _all_some_none(
            crossed, settled, every="returns below the edge", no="stays beyond the edge to the end of the run",
            some="returns below the edge at {k} of them and stays beyond it at the others"),
        "momentum_crossed_loss": _span(result.final_loss[crossed], 3),
        "momentum_initial_loss": float(result.initial_loss[0]),
        "momentum_crossed_trains": _all_some_none(
            crossed, worse, every="above the starting loss: these runs do not train",
            no="below the starting loss: these runs train", some="above the starting loss at {k} of them"),
        "momentum_calm_top": _span(result.exponents_after[calm, 0]),
        "momentum_calm_error": _span(result.error_after[calm], 2),
        "momentum_calm_signs": _sign_counts(result, calm),
        "momentum_calm_mechanism": _mechanism_words(result.mechanism_after[calm]),
    }


HOLDS_WORD, FAILS_WORD = rules.HOLDS, rules.FAILS


def _divergence_findings(result: DivergenceResult, config: DivergenceConfig) -> dict[str, Any]:
    """Finite perturbations: the setting, the whole-run rate over seeds, its interval and its units."""
    used = np.isfinite(result.fitted_exponent)
    low, high = result.exponent_interval
    decision = rules.interval_rule(result.fitted_exponent)
    ratio_centre, ratio_interval = log_t_interval(result.convergence_ratio)
    per_step, per_time = per_step_and_learning_time(np.array([result.exponent_mean]), result.steps_per_epoch,
                                                    result.lr)
    return {
        "div_seeds": config.n_seeds,
        "div_seeds_used": int(used.sum()),
        "div_seeds_note": "" if used.all() else " (the others had a diverged replica)",
        "div_replicas": config.n_replicas,
        "div_copies": config.n_replicas - 1,
        "div_perturbation_percent": 100 * config.perturbation,
        "div_n_train": config.n_train,
        "div_trend": {HOLDS_WORD: "grows", FAILS_WORD: "shrinks"}.get(decision.word, "changes"),
        "div_significance": ("distinguishable from zero by the book's interval rule" if decision.word in
                             (HOLDS_WORD, FAILS_WORD) else f"not decided by the book's interval rule "
                             f"({decision.interval_kind})"),
        "div_exponent": result.exponent_mean,
        "div_low": low,
        "div_high": high,
        "div_growth_total": float(np.exp(result.exponent_mean * config.epochs)),
        "div_ratio": ratio_centre,
        "div_ratio_low": ratio_interval[0],
        "div_ratio_high": ratio_interval[1],
        "div_steps_per_epoch": result.steps_per_epoch,
        "div_lr": result.lr,
        "div_exponent_step": float(per_step[0]),
        "div_exponent_time": float(per_time[0]),
        **_relative_spread_findings(result),
    }


HORIZON_TOLERANCE = 0.01
"""The relative size of a weight difference called visible in the predictability horizon (1% of the
weights' norm)."""


def _relative_spread_findings(result: DivergenceResult) -> dict[str, Any]:
    """The spread relative to the weights' norm: its rate over seeds, the norm's own rate, and the share of
    the absolute rate that is growth of the norm."""
    relative = np.asarray(result.relative_exponent, dtype=float)
    growth = np.asarray(result.norm_growth, dtype=float)
    decision = rules.interval_rule(relative)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        share = float(np.nanmean(growth) / np.nanmean(np.asarray(result.fitted_exponent, dtype=float)))
    horizon = lyapunov.predictability_horizon(decision.value, FLOAT32_RESOLUTION, HORIZON_TOLERANCE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        late_rate = float(np.nanmean(late_relative_exponents(result)))
    late = lyapunov.predictability_horizon(late_rate, FLOAT32_RESOLUTION, HORIZON_TOLERANCE) \
        if np.isfinite(late_rate) else float("nan")
    span = sorted(value for value in (horizon, late) if np.isfinite(value))
    if not span:
        word = "the relative spread does not grow at these rates, so no horizon follows from them"
    else:
        length = result.epochs[-1]
        where = "within" if span[-1] <= length else "beyond" if span[0] > length else "around"
        word = (f"about {span[0]:.0f}" + (f" to {span[-1]:.0f}" if len(span) > 1 and round(span[-1]) != round(span[0])
                                         else "") + f" epochs (from the whole-run and the late rate), {where} the "
                f"run's {length:g}")
    return {
        "div_roundoff": FLOAT32_RESOLUTION,
        "div_tolerance_percent": 100 * HORIZON_TOLERANCE,
        "div_horizon": horizon,
        "div_horizon_word": word,
        "div_relative": decision.value,
        "div_relative_interval": (f"{decision.low:+.3f} to {decision.high:+.3f}, {decision.interval_kind}"
                                  if np.isfinite(decision.low) else decision.interval_kind),
        "div_relative_trend": {HOLDS_WORD: "grows", FAILS_WORD: "shrinks"}.get(decision.word, "is not resolved"),
        "div_norm_growth": float(np.nanmean(growth)),
        "div_norm_share": 100 * share,
    }


TANGENT_WINDOWS = ("whole run", "second half")


def tangent_exponents(result: FiniteSizeResult, *, relative: bool = True, window: str = "whole run") -> np.ndarray:
    """Per seed (S,), the growth rate per epoch of an infinitesimal difference (the tangents of the SGD map,
    averaged over the tangents), ln(‖u(t₁)‖/‖u(t₀)‖)/(t₁ − t₀) over the ``window`` ("whole run" or "second
    half"); with ``relative``, minus the reference weights' own norm growth over the same window (the rate of
    the difference in units of the weights)."""
    check_choice("window", window, TANGENT_WINDOWS)
    epochs = np.asarray(result.epochs, dtype=float)
    begin = 0 if window == "whole run" else int(np.searchsorted(epochs, epochs[-1] / 2))
    duration = epochs[-1] - epochs[begin]
    growth = np.asarray(result.tangent_log_growth, dtype=float)
    rates = (growth[..., -1] - growth[..., begin]).mean(axis=1) / duration
    if relative:
        norm = np.asarray(result.norm_path, dtype=float)
        rates = rates - np.log(norm[:, -1] / norm[:, begin]) / duration
    return rates


def finite_size_curves(result: FiniteSizeResult) -> dict[str, np.ndarray]:
    """Aurell's λ(δ) (:func:`uniq_core.lyapunov.finite_size_exponent`) from each initial size's replicas, all
    seeds pooled: ``thresholds`` (N,), geometric with the result's ratio from the smallest initial size to the
    largest distance reached, and ``rate``, ``reached``, ``censored`` (E, N) per initial size."""
    distance = result.distance
    finite = distance[np.isfinite(distance) & (distance > 0)]
    low, high = float(result.perturbations[0]), float(finite.max()) if finite.size else float(result.perturbations[-1])
    n = max(1, int(np.floor(np.log(high / low) / np.log(result.ratio))))
    thresholds = low * result.ratio ** np.arange(n)
    table = {name: [] for name in ("rate", "reached", "censored")}
    for j in range(distance.shape[1]):
        curves = distance[:, j].reshape(-1, distance.shape[-1])
        measured = lyapunov.finite_size_exponent(result.epochs, curves, thresholds, result.ratio)
        for name in table:
            table[name].append(measured[name])
    return {"thresholds": thresholds, **{name: np.array(values) for name, values in table.items()}}


def finite_size_comparison(result: FiniteSizeResult, confidence: float = rules.CONFIDENCE) -> dict[str, np.ndarray]:
    """Each initial size's whole-run rate against the linearised (tangent) rate of the same seed: paired
    differences d_s = rate_s(ε) − tangent_s, Holm-corrected over the sizes. ``sign`` (E,): +1 faster than
    the linearisation (a finite-size amplification), −1 slower (saturation), 0 not distinguishable (the
    linear regime), NaN untestable; ``difference`` (E,), ``interval`` (E, 2)."""
    differences = np.asarray(result.rate, dtype=float) - np.asarray(result.tangent_rate, dtype=float)[:, None]
    centre, interval, sign = holm_intervals(differences, confidence)
    return {"difference": centre, "interval": interval, "sign": sign}


KICK_LOG = float(np.log(2.0))
"""A one-step increase of ln(distance) above this (a doubling in one step) is a *kick*: a jump of the
gradient at a ReLU kink, of a size that does not scale with the difference."""


def _interval_text(values: np.ndarray, digits: int = 3, signed: bool = False) -> str:
    """"a to b" (the 95% t-interval over the finite values), with the book's caveat when they are fewer than
    :data:`uniq_core.rules.MIN_UNITS`: with so few units the interval is shown, not used to decide."""
    values = np.asarray(values, dtype=float)
    n = int(np.isfinite(values).sum())
    _, (low, high) = t_interval(values)
    if not np.isfinite(low):
        return f"no interval: {grammar.plural(n, 'finite value')}"
    form = "+" if signed else ""
    text = f"{low:{form}.{digits}g} to {high:{form}.{digits}g}"
    return text if n >= rules.MIN_UNITS else f"would be {text}; {grammar.plural(n, 'seed')}, fewer than {rules.MIN_UNITS}, decide nothing"


def growth_shape(epochs: np.ndarray, log_growth: np.ndarray, start: float = 1.0) -> dict[str, np.ndarray]:
    """The exponential part of a growth that may decelerate. Per curve (rows of ``log_growth``, ln of the size
    over time), the least-squares fit ln g = a + λt + p ln t over epochs ≥ ``start`` (the first epoch's
    alignment transient left out): ``rate`` λ, the exponential part per unit time, and ``power`` p, the
    decelerating (algebraic) part. A positive whole-run rate with λ ≈ 0 is growth that slows down, p·ln T/T,
    which falls to 0 with the window and shows no positive exponent; exponential sensitivity needs λ > 0. A
    transient that decelerates like 1 − e^{−t} is partly absorbed by p, so λ is then biased low."""
    epochs = np.asarray(epochs, dtype=float)
    curves = np.atleast_2d(np.asarray(log_growth, dtype=float))
    keep = (epochs >= start) & (epochs > 0)
    design = np.vstack([np.ones(int(keep.sum())), epochs[keep], np.log(epochs[keep])]).T
    out = {name: np.full(curves.shape[0], np.nan) for name in ("rate", "power")}
    for i, curve in enumerate(curves):
        y = curve[keep]
        if keep.sum() >= 4 and np.isfinite(y).all():
            (_, out["rate"][i], out["power"][i]), *_ = np.linalg.lstsq(design, y, rcond=None)
    return out


def tangent_growth_shape(result: FiniteSizeResult, relative: bool = True) -> dict[str, np.ndarray]:
    """:func:`growth_shape` of each seed's tangent growth (mean over tangents), relative to the weights' norm
    when ``relative``."""
    growth = np.asarray(result.tangent_log_growth, dtype=float).mean(axis=1)
    if relative:
        norm = np.asarray(result.norm_path, dtype=float)
        growth = growth - np.log(norm / norm[:, :1])
    return growth_shape(result.epochs, growth)


def _shape_words(shape: dict[str, np.ndarray]) -> str:
    """The exponential and decelerating parts of :func:`growth_shape`, with the rule's word on the former."""
    if not np.isfinite(shape["rate"]).any():
        return "a fit a + λt + p ln t is not possible: too few records after the first epoch"
    decision = rules.interval_rule(shape["rate"])
    return (f"a fit a + λt + p ln t gives an exponential part λ of {np.nanmean(shape['rate']):+.4f} per epoch "
            f"({_interval_text(shape['rate'], signed=True)}) and a decelerating part p of "
            f"{_span(shape['power'], 2)}; the exponential part is {decision.word}")


def kicks(result: FiniteSizeResult) -> dict[str, np.ndarray]:
    """Per initial size (E,): the fraction of perturbed replicas whose distance jumps by more than
    :data:`KICK_LOG` in one step (a kick), ``seeds`` the seeds with at least one kicked replica (the replicas
    of one seed share the reference and the batches, so one seed's kicks may be one event), and the median
    distance (over the weights' initial norm) right after each kicked replica's largest jump."""
    distance = np.asarray(result.distance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        increments = np.diff(np.log(distance), axis=-1)
    largest = np.nanmax(np.where(np.isfinite(increments), increments, -np.inf), axis=-1)  # (S, E, R)
    where = np.argmax(np.where(np.isfinite(increments), increments, -np.inf), axis=-1)
    after = np.take_along_axis(distance, (where + 1)[..., None], axis=-1)[..., 0]
    kicked = largest > KICK_LOG
    fraction = kicked.mean(axis=(0, 2))
    seeds = kicked.any(axis=2).sum(axis=0)
    landing = np.array([float(np.median(after[:, j][kicked[:, j]])) if kicked[:, j].any() else np.nan
                        for j in range(distance.shape[1])])
    return {"fraction": fraction, "seeds": seeds, "landing": landing}


def _comparison_words(result: FiniteSizeResult) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`finite_size_comparison` and its word per size; with fewer than MIN_UNITS seeds nothing is tested."""
    comparison = finite_size_comparison(result)
    n = int(np.asarray(result.rate).shape[0])
    if n < rules.MIN_UNITS:
        return comparison, np.array([f"not tested: {grammar.plural(n, 'seed')}, fewer than {rules.MIN_UNITS}"] * len(comparison["sign"]))
    words = {1.0: "faster than the tangents", -1.0: "slower than the tangents",
             0.0: "not distinguishable from the tangents at this power"}
    return comparison, np.array([words.get(float(sign), "not testable") for sign in comparison["sign"]])


def _finite_size_findings(result: FiniteSizeResult, config: FiniteSizeConfig) -> dict[str, Any]:
    """The growth rate against the size of the difference: the small-size limit against the tangents, the
    weights' own growth, the kicks at ReLU kinks that make larger sizes jump, and why random tangents cannot
    test a saddle escape."""
    tangent_mean, _ = t_interval(result.tangent_rate)
    small_mean, _ = t_interval(result.rate[:, 0])
    comparison, words = _comparison_words(result)
    kick = kicks(result)
    relative = np.asarray(result.tangent_rate) - np.asarray(result.norm_rate)
    clauses = []
    for j, epsilon in enumerate(result.perturbations):
        mean, _ = t_interval(result.rate[:, j])
        growth = float(np.exp(mean * config.epochs)) if np.isfinite(mean) else float("nan")
        landing = (f", landing at {kick['landing'][j]:.1e} of the weights' norm" if np.isfinite(kick["landing"][j])
                   else "")
        clauses.append(f"ε = {epsilon:.0e}: {mean:.3f} per epoch (×{growth:.3g}; {words[j]}; kicks in "
                       f"{int(kick['seeds'][j])} of {result.rate.shape[0]} seeds{landing})")
    intro = int(np.argmin(np.abs(np.log(result.perturbations / 1e-3))))
    saddle_mean, _ = t_interval(result.saddle_rate)
    n_parameters = int(result.n_parameters)
    needed = 0.5 * np.log(n_parameters) / saddle_mean if saddle_mean > 0 else float("nan")
    # a frozen escape would have grown even a random tangent's P^(-1/2) share along it this much by the end
    component = float(np.exp(saddle_mean * config.epochs - 0.5 * np.log(n_parameters))) if saddle_mean > 0 \
        else float("nan")
    faster = int(np.sum(np.asarray(result.rate[:, intro]) > np.asarray(result.tangent_rate)))
    return {
        "fs_seeds": config.n_seeds,
        "fs_epochs": config.epochs,
        "fs_lr": config.lr,
        "fs_momentum": config.momentum,
        "fs_sizes": len(result.perturbations),
        "fs_smallest": float(result.perturbations[0]),
        "fs_largest": float(result.perturbations[-1]),
        "fs_tangent_rate": tangent_mean,
        "fs_tangent_interval": _interval_text(result.tangent_rate),
        "fs_norm_rate": float(np.nanmean(result.norm_rate)),
        "fs_relative_tangent": float(np.nanmean(relative)),
        "fs_relative_interval": _interval_text(relative, signed=True),
        "fs_relative_growth": float(np.exp(np.nanmean(relative) * config.epochs)),
        "fs_small_rate": small_mean,
        "fs_small_difference": float(comparison["difference"][0]),
        "fs_small_word": str(words[0]),
        "fs_sentence": "; ".join(clauses),
        "fs_kick_log": float(np.exp(KICK_LOG)),
        "fs_above_sizes": ", ".join(f"{e:.0e}" for e, r in zip(result.perturbations, np.nanmean(result.rate, axis=0))
                                    if r > tangent_mean) or "none",
        "fs_kick_sizes": ", ".join(f"{e:.0e}" for e, k in zip(result.perturbations, kick["seeds"]) if k) or "none",
        "fs_intro_size": float(result.perturbations[intro]),
        "fs_intro_growth": float(np.exp(np.nanmean(result.rate[:, intro]) * config.epochs)),
        "fs_intro_relative_growth": float(np.exp((np.nanmean(result.rate[:, intro]) - np.nanmean(result.norm_rate))
                                                 * config.epochs)),
        "fs_intro_kicked": int(kick["seeds"][intro]),
        "fs_linear_growth": float(np.exp(tangent_mean * config.epochs)),
        "fs_shape_word": _shape_words(tangent_growth_shape(result)),
        "fs_intro_faster": faster,
        "fs_curvature": float(np.nanmean(result.smallest_curvature)),
        "fs_sharpness": float(np.nanmean(result.largest_curvature)),
        "fs_saddle_rate": saddle_mean,
        "fs_parameters": n_parameters,
        "fs_saddle_needed": needed,
        "fs_saddle_component": component,
        "fs_saddle_word": ("so the negative curvature did not persist along the path"
                           if np.isfinite(component) and component > 10 * float(np.exp(tangent_mean * config.epochs))
                           else "so the tangents cannot tell whether it persisted"),
        "fs_early_rate": float(np.nanmean(result.early_rate)),
    }


def _finite_size_setting_findings(result: FiniteSizeResult) -> dict[str, Any]:
    """At the deciding run's own setting (:func:`finite_size_at`): the tangents' growth (absolute and relative
    to the weights), its shape (exponential or algebraic), its bias bound, and the finite perturbation's rate
    against it."""
    comparison, words = _comparison_words(result)
    tangent_mean, _ = t_interval(result.tangent_rate)
    rate_mean, _ = t_interval(result.rate[:, -1])
    relative = np.asarray(result.tangent_rate) - np.asarray(result.norm_rate)
    epochs = float(result.epochs[-1])
    return {
        "fsd_size": float(result.perturbations[-1]),
        "fsd_tangent_rate": tangent_mean,
        "fsd_rate": rate_mean,
        "fsd_difference": float(comparison["difference"][-1]),
        "fsd_word": str(words[-1]),
        "fsd_small_word": str(words[0]),
        "fsd_norm_rate": float(np.nanmean(result.norm_rate)),
        "fsd_relative_tangent": float(np.nanmean(relative)),
        "fsd_relative_tangent_interval": _interval_text(relative, digits=2, signed=True),
        "fsd_relative_rate": float(np.nanmean(result.rate[:, -1] - result.norm_rate)),
        "fsd_seeds": int(result.rate.shape[0]),
        "fsd_shape_word": _shape_words(tangent_growth_shape(result)),
        "fsd_bias": 0.5 * float(np.log(result.n_parameters)) / epochs if result.n_parameters else float("nan"),
        "fsd_upper": float(np.nanmean(relative)) + (0.5 * float(np.log(result.n_parameters)) / epochs
                                                     if result.n_parameters else float("nan")),
    }


def _finite_size_null_findings(result: FiniteSizeResult) -> dict[str, Any]:
    """The null control: the same instrument on a linear (softmax-regression) model. Its loss is convex, so
    each gradient step is non-expansive while η times the minibatch Hessian's largest eigenvalue stays below
    2: the absolute growth rate of a tangent must not be above 0 (the logit-shift directions are exactly flat,
    so it need not be below either)."""
    absolute = np.asarray(result.tangent_rate, dtype=float)
    above = int(np.sum(absolute > 0))
    return {
        "fsn_absolute": float(np.nanmean(absolute)),
        "fsn_interval": _interval_text(absolute, digits=3, signed=True),
        "fsn_word": (f"not above 0 on any of {absolute.size} seeds, as convexity requires" if above == 0 else
                     f"above 0 on {above} of {absolute.size} seeds, which convexity forbids: the instrument fails it"),
    }


def _divergence_bend_findings(result: DivergenceResult, config: DivergenceConfig) -> dict[str, Any]:
    """The late rate against the early one, the alignment bias bound, and the rate without dead weights."""
    early, late = early_and_late_exponents(result)
    late_mean, late_interval = t_interval(late)
    bend, bend_interval = late_minus_early(result)
    per_step, per_time = per_step_and_learning_time(np.array([late_mean]), result.steps_per_epoch, result.lr)
    bias = alignment_bias(result.n_parameters, float(config.epochs))
    live_mean, live_interval = t_interval(result.live_exponent)
    return {
        "div_early": float(np.nanmean(early)),
        "div_late": late_mean,
        "div_late_low": late_interval[0],
        "div_late_high": late_interval[1],
        "div_late_step": float(per_step[0]),
        "div_late_time": float(per_time[0]),
        "div_bend": bend,
        "div_bend_low": bend_interval[0],
        "div_bend_high": bend_interval[1],
        "div_bend_word": "lower than" if bend_interval[1] < 0 else "higher than" if bend_interval[0] > 0
        else "not distinguishable from",
        "div_parameters": result.n_parameters,
        "div_alignment_bias": bias,
        "div_bias_compare": "larger than" if bias > abs(result.exponent_mean) else "smaller than",
        "div_dead": result.dead_parameters,
        "div_dead_percent": 100 * result.dead_parameters / result.n_parameters,
        "div_live_exponent": live_mean,
        "div_live_low": live_interval[0],
        "div_live_high": live_interval[1],
    }


def _peer_findings(result: DivergenceResult) -> dict[str, Any]:
    """deep-lyapunov's numbers on the same checkpoints, its verdict, and whether its two numbers agree in sign."""
    used = np.isfinite(result.fitted_exponent)
    disagreements = peer_sign_disagreements(result)
    peer_finite = np.isfinite(result.peer_convergence_ratio)
    return {
        "peer_version": lyapunov.PEER_VERSION,
        "div_peer_agree": f"disagree in sign on {disagreements} of the {int(used.sum())} seeds" if disagreements
        else "agree in sign on every seed",
        "div_peer_ratio_min": float(np.nanmin(result.peer_convergence_ratio)),
        "div_peer_ratio_max": float(np.nanmax(result.peer_convergence_ratio)),
        "div_peer_lyapunov_min": float(np.nanmin(result.peer_lyapunov)),
        "div_peer_lyapunov_max": float(np.nanmax(result.peer_lyapunov)),
        "div_dimension": float(np.nanmean(result.effective_dimensionality)),
        "div_peer_says": f"convergent on {int((result.peer_convergence_ratio[peer_finite] < 1).sum())} of "
        f"{int(peer_finite.sum())} seeds",
    }


def _instability_findings(result: InstabilityResult) -> dict[str, Any]:
    """Copies split from one parent: error barriers against Frankle et al.'s tolerance, distances, disagreement."""
    stable = float(np.max(result.barrier_mean)) < STABILITY_THRESHOLD
    return {
        "barrier_max": 100 * float(np.max(result.barrier_mean)),
        "barrier_split0": 100 * float(result.barrier_mean[0]),
        "child_distance_ratio": float(result.distance[-1].mean() / result.distance[0].mean()),
        "child_error": 100 * float(np.mean(result.child_error)),
        "stability_threshold": 100 * STABILITY_THRESHOLD,
        "child_disagreement_max": 100 * float(np.max(result.disagreement)),
        "child_disagreement_last": 100 * float(np.mean(result.disagreement[-1])),
        "instability_pairs": int(result.barrier.shape[1]),
        "instability_basin": "yet, within that tolerance, they lie in one linearly connected basin" if stable
        else "and some pairs are separated by an error barrier beyond that tolerance: in this regime they "
        "end in different basins",
        "instability_verdict": "share a linearly connected basin" if stable else "do not always share a basin",
        **_instability_baseline_findings(result),
    }


def _instability_baseline_findings(result: InstabilityResult) -> dict[str, Any]:
    """The children at the last split epoch against the baseline of independently initialised pairs: error and
    loss barriers, disagreement, one test example's share of the error, and the per-parent means."""
    independent = 100 * np.asarray(result.independent_barrier, dtype=float).ravel()
    independent_loss = np.asarray(result.independent_loss_barrier, dtype=float).ravel()
    last = 100 * np.asarray(result.barrier, dtype=float)[-1]
    last_loss = np.atleast_2d(np.asarray(result.loss_barrier, dtype=float))[-1]
    parents = 100 * np.atleast_2d(np.asarray(result.parent_barrier, dtype=float))[-1]
    example = 100.0 / result.n_test if result.n_test else float("nan")
    finite = independent[np.isfinite(independent)]
    if not finite.size:
        compare = "has no baseline (no independent pairs were trained)"
    elif np.nanmax(last) < finite.min():
        compare = "is below the barrier of every independently initialised pair"
    else:
        compare = "is not below the barriers of independently initialised pairs"
    return {
        "inst_parents": int(parents.size),
        "inst_parent_barriers": ", ".join(f"{value:.2f}" for value in parents),
        "inst_last_barrier": float(np.nanmean(last)),
        "inst_last_loss": float(np.nanmean(last_loss)),
        "inst_example_points": example,
        "inst_last_in_examples": float(np.nanmean(last) / example) if np.isfinite(example) else float("nan"),
        "inst_independent_pairs": int(finite.size),
        "inst_independent_barrier": _span(finite, 3),
        "inst_independent_loss": _span(independent_loss, 3),
        "inst_independent_disagreement": _span(100 * np.asarray(result.independent_disagreement, dtype=float), 3),
        "inst_independent_below_tolerance": int(np.sum(finite < 100 * STABILITY_THRESHOLD)),
        "inst_compare": compare,
    }


def _reproducibility_findings(result: ReproducibilityResult) -> dict[str, Any]:
    """Re-execution and rounding variants (:func:`uniq_core.experiments.divergence.run_reproducibility`)."""
    names = result.names
    rerun, float64 = names.index("re-run"), names.index("float64")
    others = [i for i in range(len(names)) if i != rerun]
    changed_count = int((~result.bitwise_identical[others]).sum())
    first_float64 = max(int(result.first_difference_step[float64]), 0)
    return {
        "repro_rerun": ("reproduced every bit of all {} steps, so exact re-execution is not impossible"
                        if result.bitwise_identical[rerun] else "did not reproduce every bit of the {} steps: "
                        "here even re-execution is not reproducible").format(int(result.steps[-1])),
        "repro_changed": f"each changed the bits, from step {int(result.first_difference_step[others].max())} on"
        if changed_count == len(others) else f"changed the bits in {changed_count} of {len(others)} cases",
        "repro_buildup_ratio": float(result.distance[float64, -1] / result.distance[float64, first_float64]
                                     / result.control_growth),
        "repro_control_growth": result.control_growth,
    }


def _regime_findings(result: RegimeResult, config: RegimeConfig) -> dict[str, Any]:
    """The regime map's decision rule: healthy cells, signs after Holm's correction, the largest rates, divergence."""
    healthy = healthy_cells(result)
    sign = positive_cells(result)["sign"]
    healthy_means = np.where(healthy, result.exponent_mean, np.nan)
    per_time = healthy_means / (result.lrs[:, None] * result.steps_per_epoch)
    return {
        "regime_family_percent": 100 * (1 - 0.95),
        "regime_seeds": config.n_seeds,
        "regime_float64_below": FLOAT64_BELOW,
        "regime_float32_resolution": FLOAT32_RESOLUTION,
        "regime_realised_error": float(np.nanmax(np.abs(result.realised_perturbation - 1))),
        "regime_all_cells": int(healthy.size),
        "regime_cells": int(healthy.sum()),
        "regime_tested_cells": int(np.isfinite(sign).sum()),
        "regime_positive_count": int(np.nansum(sign == 1)),
        "regime_negative_count": int(np.nansum(sign == -1)),
        "regime_max_exponent": float(np.nanmax(healthy_means)) if healthy.any() else float("nan"),
        "regime_max_exponent_time": float(np.nanmax(per_time)) if healthy.any() else float("nan"),
        "regime_max_exponent_time_lr": float(result.lrs[np.unravel_index(np.nanargmax(per_time), per_time.shape)[0]])
        if healthy.any() else float("nan"),
        "regime_diverged_sentence": _diverged_sentence(result),
    }


def _diverged_sentence(result: RegimeResult) -> str:
    """Where replicas of the regime map diverged: from a threshold step size on, at some, or nowhere."""
    onset = divergence_onset(result)
    any_diverged = result.diverged_fraction.max(axis=1) > 0
    if np.isfinite(onset):
        return f"From step size {onset:g} on, every step size of the grid has diverged replicas, which is a " \
               "different phenomenon from chaos"
    if any_diverged.any():
        return f"Replicas diverged at {grammar.noun(int(any_diverged.sum()), 'step size')} " + \
            _step_sizes(result.lrs[any_diverged]) + \
            ", but not at every larger one"
    return "No replica diverged on this grid"


def _regime_comparison_findings(result: RegimeResult) -> dict[str, Any]:
    """Smallest against largest perturbation per step size: growth rates and bends (saturation's predictions)."""
    sizes, bends = compare_perturbation_sizes(result), compare_bends(result)
    words, bend_words = sizes["words"], bends["words"]
    return {
        "regime_rows": sizes["sentence"],
        "regime_smallest": f"{result.perturbations[0]:.0e}",
        "regime_largest": f"{result.perturbations[-1]:.0e}",
        "regime_faster_count": words.count("faster"),
        "regime_slower_count": words.count("slower"),
        "regime_unclear_count": words.count("not distinguishable"),
        "regime_few_count": words.count("too few seeds") + words.count("diverged"),
        "regime_monotone_count": int(sizes["monotone"].sum()),
        "regime_rows_count": int(sum(word not in ("diverged", "too few seeds") for word in words)),
        "regime_bend_more_count": bend_words.count("more at the largest ε"),
        "regime_bend_less_count": bend_words.count("less at the largest ε"),
        "regime_bend_unclear_count": bend_words.count("not distinguishable"),
        "regime_bend_tested_count": int(sum(word != "untested" for word in bend_words)),
        "saturation_word": "supports saturation at some step sizes" if bend_words.count("more at the largest ε")
        else "gives no evidence of saturation",
    }


def _verdict_findings(divergence: DivergenceResult, regime: RegimeResult,
                      finite_size: FiniteSizeResult | None = None) -> dict[str, Any]:
    """The verdict box: the verdict page's rows for the claims this chapter measures (positive exponents, the
    thin subset, the peer's convergence ratio), from the same row functions."""
    from uniq_core.experiments import verdicts

    return verdicts.claim_findings(verdicts.row_lyapunov(divergence, regime, finite_size=finite_size),
                                   verdicts.row_thin_subset(divergence),
                                   verdicts.row_convergence_ratio(divergence))


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 1 glues, by glue name.

    ``results``: "validation" (a mapping of the known-answer exponents "logistic", "henon", "quadratic" and
    the linear map's "cold" and "warm" top three), "tangent" and "momentum" (:class:`TangentResult`, without and
    with heavy-ball momentum), "divergence" (:class:`DivergenceResult`), "instability"
    (:class:`InstabilityResult`), "finite_size" and "finite_size_setting" (:class:`FiniteSizeResult`, optional:
    the introduction's setting and :func:`finite_size_at` the divergence run's), "edge" (:class:`TangentResult`
    of an :class:`EdgeConfig`, optional), "architectures" (:class:`ArchitectureResult`, optional),
    "reproducibility"
    (:class:`uniq_core.experiments.divergence.ReproducibilityResult`) and "regime" (:class:`RegimeResult`).
    ``configs``: "validation" (a mapping: "henon_literature", "quadratic_exact" (ln|1 − ηh_i|), "warm_run",
    "warm_steps", "linear_factors" (the linear map's factors, the top three first)), "tangent" and "momentum"
    (:class:`TangentConfig`), "divergence" (:class:`DivergenceConfig`), "regime" (:class:`RegimeConfig`) and,
    with their results, "finite_size" (:class:`FiniteSizeConfig`), "edge" (:class:`EdgeConfig`) and
    "architectures" (:class:`ArchitectureConfig`).
    Values are Python ``int``, ``float`` or ``str``; the negative-curvature control
    (:func:`negative_curvature_control`) is run here at the tangent configuration's k, warm-up and length.
    """
    tangent, tangent_config = results["tangent"], configs["tangent"]
    divergence, divergence_config = results["divergence"], configs["divergence"]
    control = _control_findings(tangent_config)
    values = {
        **_validation_findings(results["validation"], configs["validation"]),
        **_tangent_setup_findings(tangent, tangent_config),
        **_below_edge_findings(tangent, tangent_config),
        **control,
        **_initialisation_findings(tangent),
        **_over_initialisations_findings(tangent, tangent_config, control["control_verdict"] == "recovers it"),
        **_catapult_findings(tangent, tangent_config),
        **_after_catapult_findings(tangent),
        **_tangent_outcome_findings(tangent),
        **_momentum_findings(results["momentum"], configs["momentum"]),
        **_divergence_findings(divergence, divergence_config),
        **_divergence_bend_findings(divergence, divergence_config),
        **_peer_findings(divergence),
        **_instability_findings(results["instability"]),
        **_reproducibility_findings(results["reproducibility"]),
        **_regime_findings(results["regime"], configs["regime"]),
        **_regime_comparison_findings(results["regime"]),
        **_verdict_findings(divergence, results["regime"], results.get("finite_size_setting")),
        **(_finite_size_findings(results["finite_size"], configs["finite_size"]) if "finite_size" in results else {}),
        **(_edge_findings(results["edge"], configs["edge"]) if "edge" in results else {}),
        **(_architecture_findings(results["architectures"], configs["architectures"])
           if "architectures" in results else {}),
        **(_finite_size_setting_findings(results["finite_size_setting"]) if "finite_size_setting" in results else {}),
        **(_finite_size_null_findings(results["finite_size_null"]) if "finite_size_null" in results else {}),
    }
    return {name: value.item() if isinstance(value, np.generic) else value for name, value in values.items()}


__all__ = [
    "DivergenceConfig", "DivergenceResult", "run_divergence", "measure_divergence",
    "early_and_late_exponents", "late_relative_exponents", "peer_sign_disagreements", "late_minus_early", "alignment_bias",
    "per_step_and_learning_time", "healthy_cells", "positive_cells", "divergence_onset",
    "prediction_disagreement", "compare_bends",
    "TangentConfig", "TangentResult", "run_tangent", "MECHANISMS", "REGIMES", "window_over_initialisations",
    "negative_curvature_control", "initialisation_signs", "determined_signs", "top_exponent_summary",
    "InstabilityConfig", "InstabilityResult", "run_instability", "STABILITY_THRESHOLD",
    "RegimeConfig", "RegimeResult", "run_regime", "compare_perturbation_sizes",
    "FLOAT32_RESOLUTION", "FLOAT64_BELOW",
    "FiniteSizeConfig", "FiniteSizeResult", "run_finite_size", "finite_size_at", "tangent_exponents", "TANGENT_WINDOWS",
    "growth_shape", "tangent_growth_shape", "kicks", "KICK_LOG", "finite_size_null_at",
    "EdgeConfig", "EDGE_BAND", "EDGE_BANDS", "edge_ratio", "at_edge", "settled_signs", "late_window_rates", "SETTLING_WINDOWS", "ARCHITECTURES", "parse_architecture",
    "ArchitectureConfig", "ArchitectureResult", "run_architectures", "compare_architectures", "linearised_growth", "activation_signs",
    "finite_size_curves", "finite_size_comparison",
    "findings", "heavy_ball_edge_ratio", "tangent_parameter_count", "CONTROL_LR", "CONTROL_LONG_FACTOR",
    "CONTROL_WARM_FACTOR", "CONTROL_CURVATURE", "HORIZON_TOLERANCE", "RECOVERY_TOLERANCE", "ALIGNMENT_FRACTION", "HENON_CONTRACTION",
]
