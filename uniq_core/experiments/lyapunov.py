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
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from uniq_core import barriers, data, lyapunov, models, replicas, runtime
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_widths
from uniq_core.stats import holm_intervals, t_interval


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
    per-epoch checkpoints.
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
        spreads, accuracy, diverged, wall, live = [], [], [], 0.0, []
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
            dead_parameters=int(dead_inputs.sum()) * config.widths[0], live_exponent=np.array(live), **column,
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
    model."""

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
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
        check_choice("loss", self.loss, lyapunov.LOSSES)
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
    def full(cls) -> "TangentConfig":
        return cls(n_train=1024, widths=(64,), lrs=(0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0), k=6,
                   warmup=50, n_steps=600, n_checkpoints=16, device="auto")


MECHANISMS = ("none", "curvature above the edge", "negative curvature", "unexplained")
"""What a window's top exponent is attributed to: "none" unless it is positive (more than
:data:`SIGNIFICANCE_Z` standard errors above 0); then the larger mean frozen-Hessian rate along the window,
or "unexplained" when neither frozen rate is positive."""

REGIMES = ("calm", "catapult", "edge to the end", "diverged")
"""Per run: "calm" (the sharpness starts and stays below the edge at every checkpoint), "catapult" (it is
above at the start or at some checkpoint, and below at the last), "edge to the end" (above at the last
checkpoint), "diverged" (the loss blew up)."""

SIGNIFICANCE_Z = 3.0
"""A window's top exponent is called positive when its mean exceeds this many batch-means standard errors."""


@dataclass
class TangentResult(ResultBase):
    """Per step size (L of them), after the warm-up:

    - ``exponents`` (L, k): Benettin exponents per step over the whole accumulated window, descending;
      ``running`` (L, n_steps, k): the running estimate λ̂(T) after each step; ``local_rates``
      (L, n_steps, k): ln R_ii of each step, the time-resolved exponents (NaN after a blow-up).
    - the path: ``path_steps`` (C,), ``path_sharpness``/``path_smallest``/``path_loss`` (L, C): largest and
      smallest Hessian eigenvalue and loss; ``path_rayleigh`` (L, C): q₁ᵀHq₁ of the first tangent (its
      parameter block, normalised), the alignment diagnostic: an aligned tangent sits at λ_min or λ_max;
      ``predicted_rate`` (L, C): the largest frozen-Hessian rate max(r(λ_max), r(λ_min)),
      r = :func:`uniq_core.lyapunov.frozen_rate`.
    - ``regime`` (L,): one of :data:`REGIMES`, decided from ``sharpness_start`` and the checkpoints;
      ``transient_end`` (L,): first checkpoint step after the last one whose sharpness is above the edge
      (0 when no checkpoint is, including a catapult over before the first checkpoint; NaN for "edge to the
      end" and "diverged").
    - windows: ``exponents_transient`` (L, k) over [0, transient_end) (the whole run for "edge to the end"),
      ``exponents_after`` (L, k) over [transient_end + warmup, n_steps) for a catapult (the tangents are warmed
      up again after it) or [0, n_steps) for a calm run; per-column means of ln R_ii sorted descending, so
      column 0 is the window's top exponent (NaN when the window is empty, or for the regime after, shorter
      than a quarter of the run). ``error_transient``/``error_after`` (L,): batch-means standard error of the
      top column's mean (:func:`uniq_core.lyapunov.batch_means_error`); ``sign_transient``/``sign_after``
      (L,): :func:`uniq_core.lyapunov.sign_word` of the top with :data:`SIGNIFICANCE_Z`;
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


def _window(rates: np.ndarray, begin: int, end: int, minimum: int) -> tuple[np.ndarray, float]:
    """Per-column means of the finite rows of ``rates[begin:end]``, sorted descending, and the batch-means
    standard error of the top column's mean; NaN with fewer than ``minimum`` rows."""
    window = rates[begin:end]
    finite = window[np.isfinite(window).all(axis=1)]
    if finite.shape[0] < max(minimum, 1):
        return np.full(rates.shape[1], np.nan), float("nan")
    means = finite.mean(axis=0)
    order = np.argsort(-means, kind="stable")
    return means[order], lyapunov.batch_means_error(finite[:, order[0]])


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
    import time

    def compute() -> TangentResult:
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
        model = _model(config, dataset, config.seed).double()
        inputs, targets = dataset.x_train.double(), dataset.y_train
        if config.loss == "mse":  # squared error against one-hot targets
            targets = torch.nn.functional.one_hot(targets, dataset.n_classes).double()
        loss_of = lyapunov._loss_function(model, inputs, targets, config.loss)
        P = sum(p.numel() for p in model.parameters())
        checkpoints = np.unique(np.round(np.linspace(0, config.n_steps, config.n_checkpoints)).astype(int))
        C, T, k = len(checkpoints), config.n_steps, config.k
        rows = []
        for lr in runtime.progress_bar(config.lrs, "step sizes", progress):
            step, state = lyapunov.training_map(model, inputs, targets, lr=lr, momentum=config.momentum,
                                                 loss=config.loss)
            row = {"logs": np.full((T, k), np.nan), "sharp": np.full(C, np.nan), "small": np.full(C, np.nan),
                   "loss": np.full(C, np.nan), "rayleigh": np.full(C, np.nan), "initial": np.nan, "start": (np.nan, np.nan), "diverged": False, "seconds": np.nan}
            starts = (None, None)
            try:
                with torch.no_grad():
                    for _ in range(config.transient):
                        state = step(state)
                row["initial"] = float(loss_of(state[:P]))
                row["start"] = lyapunov.curvature_extremes(model, inputs, targets, theta=state[:P], tolerance=1e-4,
                                                           loss=config.loss)
                tangents = lyapunov.random_tangents(state.numel(), k, config.seed)
                started = time.perf_counter()
                if config.warmup:
                    state, tangents, _, _ = lyapunov.benettin_steps(step, state, tangents, config.warmup)
                elapsed, done = time.perf_counter() - started, config.warmup
                for index, point in enumerate(checkpoints):
                    if point > (checkpoints[index - 1] if index else 0):
                        started = time.perf_counter()
                        previous = checkpoints[index - 1]
                        state, tangents, _, logs = lyapunov.benettin_steps(step, state, tangents, point - previous)
                        row["logs"][previous:point] = logs
                        elapsed, done = elapsed + time.perf_counter() - started, done + point - previous
                    row["loss"][index] = float(loss_of(state[:P]))
                    if not np.isfinite(row["loss"][index]) or row["loss"][index] > 1e3 * row["initial"]:
                        row["diverged"] = True
                        break
                    top, low, *vectors = lyapunov.curvature_extremes(model, inputs, targets, theta=state[:P],
                                                                      tolerance=1e-4, loss=config.loss, starts=starts)
                    row["sharp"][index], row["small"][index], starts = top, low, tuple(vectors)
                    row["rayleigh"][index] = lyapunov.rayleigh_quotient(loss_of, state[:P], tangents[:P, 0])
                row["seconds"] = elapsed / max(done, 1)
            except ValueError:
                row["diverged"] = True
            rows.append(row)
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
        for i in range(L):
            finite = np.isfinite(logs[i]).all(axis=1)
            if finite.any():
                cumulative = np.cumsum(np.where(finite[:, None], logs[i], 0.0), axis=0) / np.arange(1, T + 1)[:, None]
                cumulative[~finite] = np.nan
                last = np.flatnonzero(finite)[-1]
                order = np.argsort(-cumulative[last], kind="stable")
                exponents[i], running[i] = cumulative[last, order], cumulative[:, order]
                logs[i] = logs[i][:, order]
            above = np.flatnonzero(sharp[i] > threshold[i])
            if rows[i]["diverged"]:
                regime.append(REGIMES[3])
            elif above.size and above[-1] == C - 1:
                regime.append(REGIMES[2])
            elif above.size or start[i] > threshold[i]:
                regime.append(REGIMES[1])
            else:
                regime.append(REGIMES[0])
            if regime[-1] in REGIMES[2:]:
                transient_end[i] = np.nan
            elif above.size:
                transient_end[i] = checkpoints[above[-1] + 1]
            end = int(transient_end[i]) if np.isfinite(transient_end[i]) else T
            begin_after = end + config.warmup if end > 0 else end
            before[i], error_before[i] = _window(logs[i], 0, end, 1)
            after[i], error_after[i] = _window(logs[i], begin_after, T, minimum)
            if regime[-1] == REGIMES[3]:
                after[i], error_after[i] = np.nan, np.nan
            sign_before.append(lyapunov.sign_word(before[i, 0], error_before[i], SIGNIFICANCE_Z))
            sign_after.append(lyapunov.sign_word(after[i, 0], error_after[i], SIGNIFICANCE_Z))
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
        )

    return runtime.cached(compute, config, TangentResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------- instability


STABILITY_THRESHOLD = 0.02
"""Frankle et al. (2020) call training stable to SGD noise when the test-error barrier between copies is
within 2 percentage points of zero (their tolerance for noise in the error)."""


@dataclass(frozen=True)
class InstabilityConfig(ConfigBase):
    """A parent trained for ``split`` epochs, then ``n_children`` copies with different minibatch orders
    trained to ``epochs``; the error barrier between children, for each split epoch."""

    dataset: str = "digits"
    widths: tuple[int, ...] = (128,)
    lr: float = 0.1
    momentum: float = 0.0
    batch_size: int = 64
    epochs: int = 12
    splits: tuple[float, ...] = (0.0, 0.25, 1.0, 3.0)
    n_children: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_common(self)
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
        return cls(epochs=40, splits=(0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0), n_children=6, device="auto")


@dataclass
class InstabilityResult(ResultBase):
    """Per split epoch: ``barrier`` (S, pairs) test-error barriers between children, its mean, the mean
    test error of the children, their distance (S, pairs) in parameter space and ``disagreement`` (S, pairs),
    the fraction of test inputs on which two children predict different classes. All children descend from
    one parent initialisation (``config.seed``)."""

    splits: np.ndarray
    barrier: np.ndarray
    barrier_mean: np.ndarray
    child_error: np.ndarray
    distance: np.ndarray
    disagreement: np.ndarray


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
        model = _model(config, dataset, config.seed).to(device)
        settings = dict(lr=config.lr, momentum=config.momentum, batch_size=config.batch_size, device=device)
        barrier_rows, error_rows, distance_rows, disagreement_rows = [], [], [], []
        for split in runtime.progress_bar(config.splits, "split epochs", progress):
            parent = model
            split_steps = int(round(split * per_epoch))
            if split_steps > 0:
                trunk = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0,
                                                n_steps=split_steps, seed=config.seed, **settings)
                parent = copy.deepcopy(model)
                torch.nn.utils.vector_to_parameters(
                    torch.as_tensor(trunk.final_parameters[0], device=device), parent.parameters())
            children = replicas.train_replicas(
                parent, dataset, n_replicas=config.n_children, perturbation=0.0, independent_order=True,
                n_steps=config.epochs * per_epoch - split_steps, seed=config.seed + 1, **settings)
            row_barrier, row_distance, row_disagreement = [], [], []
            for a, b in itertools.combinations(range(config.n_children), 2):
                curve = barriers.interpolation_curve(parent.cpu(), children.final_parameters[a],
                                                     children.final_parameters[b], dataset.x_test.cpu(),
                                                     dataset.y_test.cpu())
                parent.to(device)
                row_barrier.append(curve["error_barrier"])
                row_distance.append(float(np.linalg.norm(children.final_parameters[a] - children.final_parameters[b])))
                row_disagreement.append(prediction_disagreement(parent, children.final_parameters[a],
                                                                children.final_parameters[b], dataset.x_test))
            disagreement_rows.append(row_disagreement)
            barrier_rows.append(row_barrier)
            distance_rows.append(row_distance)
            error_rows.append(float(1 - np.nanmean(children.test_accuracy)))
        barrier = np.array(barrier_rows)
        return InstabilityResult(splits=np.asarray(config.splits, dtype=np.float64), barrier=barrier,
                                 barrier_mean=barrier.mean(axis=1), child_error=np.array(error_rows),
                                 distance=np.array(distance_rows), disagreement=np.array(disagreement_rows))

    return runtime.cached(compute, config, InstabilityResult, use_cache=use_cache)


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


__all__ = [
    "DivergenceConfig", "DivergenceResult", "run_divergence", "measure_divergence",
    "early_and_late_exponents", "peer_sign_disagreements", "late_minus_early", "alignment_bias",
    "per_step_and_learning_time", "healthy_cells", "positive_cells", "divergence_onset",
    "prediction_disagreement", "compare_bends",
    "TangentConfig", "TangentResult", "run_tangent", "MECHANISMS", "REGIMES", "SIGNIFICANCE_Z",
    "negative_curvature_control",
    "InstabilityConfig", "InstabilityResult", "run_instability", "STABILITY_THRESHOLD",
    "RegimeConfig", "RegimeResult", "run_regime", "compare_perturbation_sizes",
    "FLOAT32_RESOLUTION", "FLOAT64_BELOW",
]
