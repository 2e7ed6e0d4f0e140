"""Chapter 4: is momentum training a near-symplectic, near-reversible integrator?

A small CNN on the digits (8×8 images) with each normalisation (none, GroupNorm, train-mode BatchNorm,
BatchNorm calibrated on the training set then frozen) is trained by the heavy-ball map of
:mod:`uniq_core.probes` (step dt, mass M, momentum β; PyTorch learning rate dt²/M) on a fixed sequence of
minibatches. The force at step t is the gradient of U_t, the loss of minibatch t with the model in
training mode (for train-mode BatchNorm: normalised by that minibatch's statistics, a fixed function of θ;
the running statistics it updates never enter it). The energy of step t is H_t = ‖p‖²/(2M) + U_t(θ), the
energy of the function the force is the gradient of. Probes at each setting:

- round trip: T steps out, then T steps of the exact inverse map with the forces matched step by step, and
  the ΔNEGdt probe (the same map with −dt on the minibatches in reverse order);
- Ω-invariance of one step's tangent map (at the end of the outward run);
- energy: the integration error summed step by step (:func:`uniq_core.probes.energy_accounts`), for H and
  for the shadow Hamiltonian, and dt_zero: the step size at which the drift crosses ``threshold``.

Every sweep over dt keeps the physical horizon T·dt fixed (``ProbeConfig.horizon``), so that a small dt
is not a short run. The energy of the earlier definition, the full training loss in evaluation mode (for
BatchNorm: the running statistics, which every train-mode step changes), is kept as ``eval_energy_drift``.

Exact conservation laws checked on the same runs: column sums of the output layer (softmax), and, for
weights followed by a normalisation (scale-invariant), ‖w'‖² = ‖w‖² + η²‖g‖² for one plain SGD step.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
from torch.func import functional_call, grad
from torch.nn import functional as F

from uniq_core import data, models, probes, replicas, runtime
from uniq_core.schema import STANDARD_UNITS, ConfigBase, ResultBase, check_choice, check_number, check_numbers, check_widths


NETWORKS = ("simple_cnn", "resnet")
NETWORK_NAMES = {"simple_cnn": "SimpleCNN", "resnet": "the small ResNet"}  #: how the chapter names each network
PROBE_ACTIVATIONS = ("relu", "softplus")  #: the SimpleCNN's activations: ReLU's kinks, and a smooth control
LOSS_BLOW_UP = 1e3  #: a minibatch loss above this many times max(L_0, 1) marks a settings run as diverged
NOISE_BATCHES = 64  #: minibatches at θ_0 over which tr Σ_g is estimated for the drift's theory


class _System:
    """One CNN on a fixed minibatch plan, as forces and a potential on flat parameters."""

    def __init__(self, config, norm: str, seed: int, bn_momentum: float | None = None, *,
                 resnet: tuple[int, int] | None = None):
        device = runtime.device(config.device)
        dataset = data.load("digits", n_train=config.n_train, seed=seed, device=device).as_images()
        runtime.seed_everything(seed)
        momentum = config.bn_momentum if bn_momentum is None else bn_momentum
        if resnet is None:
            self.model = models.SimpleCNN(1, dataset.n_classes, config.channels, norm, bn_momentum=momentum,
                                          activation=getattr(config, "activation", "relu")).double()
        else:  # (width, blocks)
            self.model = models.SmallResNet(1, dataset.n_classes, resnet[0], resnet[1], norm,
                                            bn_momentum=momentum).double()
        self.model.to(device)
        self.x, self.y = dataset.x_train.double(), dataset.y_train
        if norm == "frozen_batch":
            models.calibrate_batchnorm(self.model, self.x)
        self.buffers = {name: b.clone() for name, b in self.model.named_buffers()}
        self.theta0 = models.flat_parameters(self.model).double()
        self.batch_size, self.seed = config.batch_size, seed
        self.plan = replicas.make_batch_plan(len(self.x), config.batch_size, config.steps, seed=seed)[0]

    def cover(self, steps: int) -> None:
        """Lengthen the minibatch plan to ``steps`` (a longer plan starts with the shorter one)."""
        if steps > len(self.plan):
            self.plan = replicas.make_batch_plan(len(self.x), self.batch_size, steps, seed=self.seed)[0]

    def batch_loss(self, theta: torch.Tensor, t: int, buffers: dict[str, torch.Tensor]) -> torch.Tensor:
        index = self.plan[t]
        self.model.train()
        out = functional_call(self.model, (models.unflatten(self.model, theta), buffers), (self.x[index],))
        return F.cross_entropy(out, self.y[index])

    def loss_and_gradient(self, t: int, theta: torch.Tensor, *, update: bool = True) -> tuple[float, torch.Tensor]:
        """U_t(θ) and ∇U_t(θ); with ``update``, train-mode BatchNorm updates the running statistics as a
        training step does (they do not enter U_t)."""
        buffers = self.buffers if update else {name: b.clone() for name, b in self.buffers.items()}
        theta = theta.detach().requires_grad_(True)
        loss = self.batch_loss(theta, t, buffers)
        return float(loss.detach()), torch.autograd.grad(loss, theta)[0]

    def loss(self, t: int, theta: torch.Tensor) -> float:
        """U_t(θ) without a gradient and without touching the running statistics."""
        with torch.no_grad():
            return float(self.batch_loss(theta, t, {name: b.clone() for name, b in self.buffers.items()}))

    def force(self, t: int):
        """∇ of minibatch t's loss; train-mode BatchNorm updates the system's running statistics."""
        return lambda theta: self.loss_and_gradient(t, theta)[1]

    def pure_force(self, t: int):
        """The same force without side effects on the statistics, composable with ``jvp``."""
        frozen = {name: b.clone() for name, b in self.buffers.items()}
        return grad(lambda theta: self.batch_loss(theta, t, {k: v.clone() for k, v in frozen.items()}))

    def gradient_noise(self, n_batches: int = NOISE_BATCHES, theta: torch.Tensor | None = None) -> float:
        """tr Σ_g at ``theta`` (default θ_0) over the first ``n_batches`` minibatches of the plan
        (:func:`uniq_core.probes.gradient_noise`), without touching the running statistics: the input of the
        drift's one-line theory."""
        self.cover(n_batches)
        theta = self.theta0 if theta is None else theta
        return probes.gradient_noise(torch.stack([self.loss_and_gradient(t, theta, update=False)[1]
                                                  for t in range(n_batches)]))

    def potential(self, theta: torch.Tensor) -> float:
        """The full training loss in evaluation mode (BatchNorm: the current running statistics)."""
        self.model.eval()
        with torch.no_grad():
            out = functional_call(self.model, (models.unflatten(self.model, theta), self.buffers), (self.x,))
        return float(F.cross_entropy(out, self.y))

    def head(self, theta: torch.Tensor) -> torch.Tensor:
        named = models.unflatten(self.model, theta)
        return probes.softmax_column_sums(named["head.weight"], named["head.bias"])


def _healthy(theta: torch.Tensor, start: torch.Tensor) -> bool:
    """False once the parameters are non-finite or 1000 × (1 + ‖θ_0‖) long: the run diverged."""
    return bool(torch.isfinite(theta).all()) and float(theta.norm()) <= 1e3 * (1 + float(start.norm()))


def steps_for(horizon: float, dt: float) -> int:
    """Number of steps of size dt that cover the physical time ``horizon`` (at least 2)."""
    return max(2, int(round(horizon / dt)))


_NAN_RECORD = dict(round_trip=np.nan, negative_dt=np.nan, omega=np.nan, column_sum_change=np.nan)


def _run(system: _System, dt: float, mass: float, beta: float, steps: int, *, energy_only: bool = False,
         eval_energy: bool = False, negative_dt: bool = True) -> dict[str, float | np.ndarray]:
    """The outward run with its energy accounts; unless ``energy_only``, the Ω probe at its end and the two
    reversals (the exact one only, without ``negative_dt``); with ``eval_energy``, the drift of the
    evaluation-mode energy too; ``energy_only`` runs skip the shadow energy (NaN). A diverged run
    (:func:`_healthy`) gives NaN for every probe, so it never enters a statistic."""
    system.cover(steps)
    theta, p = system.theta0.clone(), torch.zeros_like(system.theta0)
    thetas, momenta_sq = [theta], [0.0]
    u_start, u_end, power_start, power_end = [], [], [], []
    eval_losses = [system.potential(theta)] if eval_energy else []
    for t in range(steps):
        u0, g0 = system.loss_and_gradient(t, theta)
        p_damped = beta * p
        p = p_damped - dt * g0
        theta = theta + dt * p / mass
        if energy_only:
            u1, g1 = system.loss(t, theta), torch.zeros_like(theta)
        else:
            u1, g1 = system.loss_and_gradient(t, theta, update=False)
        thetas.append(theta)
        momenta_sq.append(float(p.pow(2).sum()))
        u_start.append(u0)
        u_end.append(u1)
        power_start.append(float(p_damped @ g0))
        power_end.append(float(p @ g1))
        if eval_energy:
            eval_losses.append(system.potential(theta) if torch.isfinite(theta).all() else np.nan)
        if not _healthy(theta, system.theta0):
            break
    finite = _healthy(theta, system.theta0) and bool(torch.isfinite(p).all())
    scale = max(abs(u_start[0]), 1e-12)
    accounts = probes.energy_accounts(u_start, u_end, momenta_sq, mass, beta=beta, dt=dt,
                                      power_start=power_start, power_end=power_end)
    record: dict[str, float | np.ndarray] = {
        "energy": accounts["integration"] / scale,
        "shadow": accounts["shadow"] / scale if not energy_only else np.full(len(momenta_sq), np.nan),
        "dissipated": accounts["dissipated"] / scale,
        "energy_drift": probes.tail_drift(accounts["integration"], scale) if finite else np.nan,
        "shadow_drift": probes.tail_drift(accounts["shadow"], scale) if finite and not energy_only else np.nan,
        "eval_energy_drift": (probes.energy_drift(np.array(eval_losses), np.array(momenta_sq), mass)
                              if finite and eval_energy else np.nan),
        "thetas": thetas if finite else None}
    if not finite or energy_only:
        record.update(_NAN_RECORD)
        return record
    record["omega"] = probes.omega_invariance_error(system.pure_force(steps - 1), theta, p, dt=dt, mass=mass,
                                                    beta=beta, pairs=4)
    record["column_sum_change"] = float((system.head(theta) - system.head(system.theta0)).abs().max())
    path = torch.stack(thetas)
    record["negative_dt"] = np.nan
    for name, reversal in (("round_trip", "exact"), ("negative_dt", "negative_dt"))[: 2 if negative_dt else 1]:
        record[name] = probes.return_error(None, path, p, schedule=system.force, reversal=reversal, dt=dt,
                                           mass=mass, beta=beta)
    return record


def _norm_identity(system: _System, lr: float) -> float:
    """Relative error of ‖w'‖² = ‖w‖² + η²‖g‖² for the first convolution's weights, one plain SGD step."""
    gradient = system.force(0)(system.theta0)
    named = models.unflatten(system.model, system.theta0)
    gnamed = models.unflatten(system.model, gradient)
    after, predicted = probes.scale_invariant_norm_step(named["features.0.weight"], gnamed["features.0.weight"], lr)
    return abs(after - predicted) / predicted


# ----------------------------------------------------------------------------------------- the probes


@dataclass(frozen=True)
class ProbeConfig(ConfigBase):
    """Heavy-ball training of a small CNN (``channels``) on ``n_train`` digits with each of ``norms``,
    ``steps`` steps of ``dt`` at ``mass`` and ``beta``; dt_zero where the energy drift crosses
    ``threshold``, searched in ``dt_range`` at the fixed physical horizon ``horizon`` = steps × dt;
    over ``n_seeds``. ``activation``: the SimpleCNN's, ReLU or the smooth Softplus (the ResNet keeps ReLU)."""

    n_train: int = 256
    channels: tuple[int, ...] = (8, 16)
    norms: tuple[str, ...] = ("none", "group", "batch", "frozen_batch")
    bn_momentum: float = 0.1
    batch_size: int = 64
    dt: float = 0.1
    mass: float = 1.0
    beta: float = 1.0
    steps: int = 40
    threshold: float = 0.01
    dt_range: tuple[float, float] = (0.05, 1.0)
    bisections: int = 4
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"
    activation: str = "relu"

    def __post_init__(self) -> None:
        check_number("n_train", self.n_train, low=64, high=1347, integer=True)
        check_choice("activation", self.activation, PROBE_ACTIVATIONS)
        check_widths("channels", self.channels, high=256)
        if len(self.norms) == 0:
            raise ValueError("norms=() is empty; give at least one of " + ", ".join(models.NORMS))
        for norm in self.norms:
            check_choice("norms", norm, models.NORMS)
        check_number("bn_momentum", self.bn_momentum, low=0.0, high=1.0)
        check_number("batch_size", self.batch_size, low=2, high=self.n_train, integer=True)
        check_number("dt", self.dt, low=0.0, high=100.0, low_inclusive=False)
        check_number("mass", self.mass, low=0.0, high=1e6, low_inclusive=False)
        check_number("beta", self.beta, low=0.0, high=1.0)
        check_number("steps", self.steps, low=2, high=100_000, integer=True)
        check_number("threshold", self.threshold, low=0.0, low_inclusive=False)
        check_number("dt_range", self.dt_range[0], low=0.0, low_inclusive=False)
        check_number("dt_range", self.dt_range[1], low=self.dt_range[0], low_inclusive=False)
        check_number("bisections", self.bisections, low=1, high=60, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @property
    def horizon(self) -> float:
        """The physical time T·dt of a run, held fixed when dt changes."""
        return self.steps * self.dt

    @classmethod
    def quick(cls) -> "ProbeConfig":
        return cls()

    @classmethod
    def standard(cls) -> "ProbeConfig":
        return cls(n_seeds=STANDARD_UNITS, bisections=8)  # dt_zero to 1.5 %, fine enough to compare with theory

    @classmethod
    def full(cls) -> "ProbeConfig":
        return cls(n_train=1347, channels=(16, 32), steps=200, dt=0.05, dt_range=(0.02, 1.0), bisections=14,
                   n_seeds=5)


_PER_RUN = ("round_trip", "negative_dt", "omega", "energy_drift", "shadow_drift", "column_sum_change")


@dataclass
class ProbeResult(ResultBase):
    """Per norm × seed at ``dt``: ``round_trip`` (exact reversal), ``negative_dt`` (ΔNEGdt), ``omega``,
    ``energy_drift`` and ``shadow_drift`` (integration error of H and of the shadow Hamiltonian over the
    last quarter, relative to H_0); ``dt_zero`` (energy drift crosses the threshold at a fixed horizon);
    ``column_sum_change`` (max change of the output layer's column sums over the run); ``norm_identity``
    (relative error of the scale-invariance identity for the first convolution; NaN where those weights are
    not scale-invariant). ``energy`` and ``shadow`` (norms × steps+1): the cumulative integration error of
    H and of H̃ over H_0, first seed. The drift's one-line theory (:func:`uniq_core.probes.switching_drift`)
    per norm × seed: ``gradient_noise`` (tr Σ_g at θ_0), ``initial_loss`` (U_0 = H_0, the drift's scale),
    ``predicted_drift`` (at ``dt``) and ``predicted_dt_zero`` (the same search on the theory's drift);
    ``gradient_noise_end``: tr Σ_g where the run of ``steps`` steps ends, and ``predicted_drift_path`` the
    theory's drift at ``dt`` with tr Σ_g read at :data:`NOISE_CHECKPOINTS` states along the run, linear
    between them (:func:`uniq_core.probes.switching_drift_along`; NaN for a diverged run), those reads in
    ``gradient_noise_along`` (norms × seeds × checkpoints)."""

    norms: np.ndarray
    round_trip: np.ndarray
    negative_dt: np.ndarray
    omega: np.ndarray
    energy_drift: np.ndarray
    shadow_drift: np.ndarray
    dt_zero: np.ndarray
    column_sum_change: np.ndarray
    norm_identity: np.ndarray
    energy: np.ndarray
    shadow: np.ndarray
    gradient_noise: np.ndarray
    initial_loss: np.ndarray
    predicted_drift: np.ndarray
    predicted_dt_zero: np.ndarray
    gradient_noise_end: np.ndarray
    predicted_drift_path: np.ndarray
    gradient_noise_along: np.ndarray


def _energy_probe(config: ProbeConfig, norm: str, seed: int, mass: float, *, steps: int | None = None,
                  resnet: tuple[int, int] | None = None):
    """dt ↦ energy drift at the fixed horizon of ``config`` (or at a fixed number of ``steps``); the SimpleCNN,
    or a SmallResNet of (width, blocks) ``resnet``."""
    def probe(dt: float) -> float:
        n_steps = steps_for(config.horizon, dt) if steps is None else steps
        return float(_run(_System(config, norm, seed, resnet=resnet), dt, mass, config.beta, n_steps,
                          energy_only=True)["energy_drift"])
    return probe


NOISE_CHECKPOINTS = 5  #: evenly spaced states of a run (its start and end included) where tr Σ_g is read


def _noise_along(system: "_System", thetas: list[torch.Tensor], initial: float) -> np.ndarray:
    """tr Σ_g at :data:`NOISE_CHECKPOINTS` evenly spaced states of a run (the first is ``initial``, at θ_0)."""
    marks = np.linspace(0, len(thetas) - 1, NOISE_CHECKPOINTS).round().astype(int)
    return np.array([initial] + [system.gradient_noise(theta=thetas[m]) for m in marks[1:]])


def _per_step(along: np.ndarray, steps: int) -> np.ndarray:
    """tr Σ_g at each of ``steps`` steps, linear between the checkpoints of :func:`_noise_along`."""
    marks = np.linspace(0, steps, len(along))
    return np.interp(np.arange(steps), marks, along)


def _theory_probe(config: ProbeConfig, noise: float, initial_loss: float, mass: float, *,
                  steps: int | None = None):
    """dt ↦ the energy drift the one-line theory predicts (:func:`uniq_core.probes.switching_drift`, the same
    tail statistic as the measured probe) at the horizon of ``config`` or at a fixed number of ``steps``."""
    def probe(dt: float) -> float:
        n_steps = steps_for(config.horizon, dt) if steps is None else steps
        return probes.tail_drift(probes.switching_drift(dt, mass, noise, n_steps), initial_loss)
    return probe


def run_probes(config: ProbeConfig, *, progress: bool = True, use_cache: bool = True) -> ProbeResult:
    """The probes, dt_zero and the conservation checks for every normalisation and seed."""

    def compute() -> ProbeResult:
        shape = (len(config.norms), config.n_seeds)
        out = {name: np.full(shape, np.nan) for name in _PER_RUN + ("dt_zero", "norm_identity", "gradient_noise",
                                                                   "gradient_noise_end", "initial_loss",
                                                                   "predicted_drift", "predicted_drift_path",
                                                                   "predicted_dt_zero")}
        traces = {name: np.full((len(config.norms), config.steps + 1), np.nan) for name in ("energy", "shadow")}
        noise_along = np.full(shape + (NOISE_CHECKPOINTS,), np.nan)
        jobs = [(i, s) for i in range(len(config.norms)) for s in range(config.n_seeds)]
        for i, s in runtime.progress_bar(jobs, "normalisations × seeds", progress):
            norm, seed = config.norms[i], config.seed + s
            record = _run(_System(config, norm, seed), config.dt, config.mass, config.beta, config.steps)
            for name in _PER_RUN:
                out[name][i, s] = record[name]
            if s == 0:
                for name in traces:
                    traces[name][i, : len(record[name])] = record[name]
            if norm in ("batch", "group"):
                out["norm_identity"][i, s] = _norm_identity(_System(config, norm, seed), config.dt**2 / config.mass)
            out["dt_zero"][i, s] = probes.dt_zero(_energy_probe(config, norm, seed, config.mass), config.threshold,
                                                  *config.dt_range, iterations=config.bisections)
            system = _System(config, norm, seed)
            noise, initial = system.gradient_noise(), system.loss(0, system.theta0)
            theory = _theory_probe(config, noise, initial, config.mass)
            out["gradient_noise"][i, s], out["initial_loss"][i, s] = noise, initial
            out["predicted_drift"][i, s] = theory(config.dt)
            if record["thetas"] is not None:  # the theory's one input along the run, and its drift from that
                along = _noise_along(system, record["thetas"], noise)
                noise_along[i, s] = along
                out["gradient_noise_end"][i, s] = along[-1]
                out["predicted_drift_path"][i, s] = probes.tail_drift(probes.switching_drift_along(
                    config.dt, config.mass, _per_step(along, config.steps)), initial)
            out["predicted_dt_zero"][i, s] = probes.dt_zero(theory, config.threshold, *config.dt_range,
                                                            iterations=config.bisections)
        return ProbeResult(norms=np.array(config.norms), **traces, **out, gradient_noise_along=noise_along)

    return runtime.cached(compute, config, ProbeResult, use_cache=use_cache)


# ------------------------------------------------------------------------------ BN momentum, mass


@dataclass(frozen=True)
class DoseConfig(ConfigBase):
    """Train-mode BatchNorm at each running-statistics momentum in ``bn_momenta``: probes at ``base.dt``."""

    base: ProbeConfig = ProbeConfig(norms=("batch",), n_seeds=2)
    bn_momenta: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)

    def __post_init__(self) -> None:
        if not isinstance(self.base, ProbeConfig):
            raise ValueError(f"base={self.base!r} must be a ProbeConfig")
        check_numbers("bn_momenta", self.bn_momenta, low=0.0, high=1.0)

    @classmethod
    def quick(cls) -> "DoseConfig":
        return cls()

    @classmethod
    def full(cls) -> "DoseConfig":
        return cls(base=ProbeConfig.full().replace(norms=("batch",)))


@dataclass
class DoseResult(ResultBase):
    """Per BN momentum × seed: ``energy_drift`` (the energy of the force's own potential),
    ``eval_energy_drift`` (the evaluation-mode energy with running statistics), ``round_trip``, ``omega``."""

    bn_momenta: np.ndarray
    energy_drift: np.ndarray
    eval_energy_drift: np.ndarray
    round_trip: np.ndarray
    omega: np.ndarray


def run_dose(config: DoseConfig, *, progress: bool = True, use_cache: bool = True) -> DoseResult:
    """Probes of train-mode BatchNorm against its running-statistics momentum."""

    def compute() -> DoseResult:
        base = config.base
        shape = (len(config.bn_momenta), base.n_seeds)
        out = {name: np.full(shape, np.nan) for name in ("energy_drift", "eval_energy_drift", "round_trip", "omega")}
        jobs = [(i, s) for i in range(shape[0]) for s in range(shape[1])]
        for i, s in runtime.progress_bar(jobs, "BN momenta × seeds", progress):
            system = _System(base, "batch", base.seed + s, bn_momentum=config.bn_momenta[i])
            record = _run(system, base.dt, base.mass, base.beta, base.steps, eval_energy=True, negative_dt=False)
            for name in out:
                out[name][i, s] = record[name]
        return DoseResult(bn_momenta=np.array(config.bn_momenta), **out)

    return runtime.cached(compute, config, DoseResult, use_cache=use_cache)


MASS_HORIZONS = ("time", "steps")
GRID_EXTENSION = 6  #: grid points below the bracket, scanned only while the drift is still above a threshold
MIN_CROSSING_STEPS = 12  #: a dt_zero whose run has fewer steps is censored: a few-step run has no drift to speak of


@dataclass(frozen=True)
class MassConfig(ConfigBase):
    """dt_zero of the energy-drift probe at each mass in ``masses`` (norm ``base.norms[0]``; ``network``
    ``simple_cnn`` with ``base.channels`` or ``resnet`` with ``resnet_width``, ``resnet_blocks``), over
    ``base.n_seeds`` seeds. ``fixed="time"``: a run covers the physical time ``base.horizon`` × factor;
    ``fixed="steps"``: ``base.steps`` × factor steps, where dt_zero ∝ √M is an identity of the map.

    Each (mass, seed) measures the drift on a grid of step sizes: the ``grid`` points spaced evenly in log dt
    over ``base.dt_range`` scaled by √M, continued with the same spacing to cover the bracket scaled by M
    (the two candidate laws) and :data:`GRID_EXTENSION` points below it, scanned from the largest step down until the drift is below every threshold
    at every horizon on two points in a row. One run at the longest horizon gives the drift at every
    shorter one. dt_zero at each of ``thresholds`` and ``horizon_factors`` is the first crossing
    (:func:`uniq_core.probes.first_crossing`); the chapter's is at ``base.threshold`` and factor 1. At a fixed
    physical time, a crossing whose run has fewer than :data:`MIN_CROSSING_STEPS` steps is censored with those
    at a grid's end."""

    base: ProbeConfig = ProbeConfig(norms=("batch",), n_seeds=2)
    masses: tuple[float, ...] = (0.125, 0.25, 0.5, 1.0)
    fixed: str = "time"
    network: str = "simple_cnn"
    resnet_width: int = 4
    resnet_blocks: int = 2
    thresholds: tuple[float, ...] = (0.003, 0.01, 0.03)
    horizon_factors: tuple[float, ...] = (0.5, 1.0)
    grid: int = 14

    def __post_init__(self) -> None:
        if not isinstance(self.base, ProbeConfig):
            raise ValueError(f"base={self.base!r} must be a ProbeConfig")
        if len(self.masses) < 2:
            raise ValueError(f"masses={self.masses!r} needs at least two values to fit a slope")
        for value in self.masses:
            check_number("masses", value, low=0.0, high=1e6, low_inclusive=False)
        check_choice("fixed", self.fixed, MASS_HORIZONS)
        check_choice("network", self.network, NETWORKS)
        check_number("resnet_width", self.resnet_width, low=1, high=256, integer=True)
        check_number("resnet_blocks", self.resnet_blocks, low=1, high=16, integer=True)
        check_numbers("thresholds", self.thresholds, low=0.0, low_inclusive=False)
        if self.base.threshold not in self.thresholds:
            raise ValueError(f"thresholds={self.thresholds!r} must include base.threshold={self.base.threshold!r}")
        check_numbers("horizon_factors", self.horizon_factors, low=0.0, high=16.0, low_inclusive=False)
        if 1.0 not in self.horizon_factors:
            raise ValueError(f"horizon_factors={self.horizon_factors!r} must include 1.0, the chapter's horizon")
        check_number("grid", self.grid, low=3, high=200, integer=True)

    @classmethod
    def quick(cls) -> "MassConfig":
        # the tests' and CI's scale: no lightest mass and a narrower range of thresholds, fewer small steps to run
        return cls(masses=(0.25, 0.5, 1.0), thresholds=(0.005, 0.01, 0.02))

    @classmethod
    def standard(cls) -> "MassConfig":
        return cls(base=ProbeConfig(norms=("batch",), n_seeds=STANDARD_UNITS))

    @classmethod
    def full(cls) -> "MassConfig":
        return cls(base=ProbeConfig.full().replace(norms=("batch",), steps=400, n_seeds=8),
                   masses=(0.0625, 0.25, 1.0, 4.0, 16.0), horizon_factors=(0.5, 1.0, 2.0), grid=20)

    def steps(self, dt: float, factor: float) -> int:
        """Steps of a run at ``dt`` over horizon ``factor`` (of the physical time, or of the step count)."""
        if self.fixed == "steps":
            return max(2, int(round(factor * self.base.steps)))
        return steps_for(factor * self.base.horizon, dt)

    def grid_for(self, mass: float) -> np.ndarray:
        """The increasing step sizes searched at ``mass`` (see the class docstring)."""
        low, high = self.base.dt_range
        ratio = (high / low) ** (1.0 / (self.grid - 1))
        root = np.sqrt(mass)
        below = int(np.floor(np.log(min(root, mass) / root) / np.log(ratio) + 1e-9)) - GRID_EXTENSION
        above = int(np.ceil(np.log(max(root, mass) / root) / np.log(ratio) - 1e-9))
        return low * root * ratio ** np.arange(below, self.grid + above, dtype=np.float64)


@dataclass
class MassResult(ResultBase):
    """The drift on each mass's grid and the step sizes where it crosses each threshold.

    ``dts`` (masses × G, NaN-padded) the grids; ``drift`` (masses × seeds × G × horizons) the energy drift,
    NaN where diverged; ``computed`` (masses × seeds × G) the grid points the scan ran. ``dt_zero_by`` and
    ``censored_by`` (thresholds × horizons × masses × seeds): the first crossing and whether it lay at an end
    of the grid (only a bound, left out of every fit); ``slopes_by`` (thresholds × horizons × seeds): per seed
    the least-squares exponent of log dt_zero against log M over the uncensored masses (NaN with fewer than
    two). ``dt_zero``, ``censored``, ``slopes`` and ``slope`` (their mean) are those at the chapter's
    threshold and horizon (1/2 exactly when ``fixed="steps"``: an identity). The one-line theory
    (:func:`uniq_core.probes.switching_drift`): ``gradient_noise`` and ``initial_loss`` per seed at θ_0, and
    ``predicted_dt_zero`` (masses × seeds) and ``predicted_slopes`` found the same way on its drift."""

    masses: np.ndarray
    thresholds: np.ndarray
    horizon_factors: np.ndarray
    dts: np.ndarray
    drift: np.ndarray
    computed: np.ndarray
    dt_zero_by: np.ndarray
    censored_by: np.ndarray
    slopes_by: np.ndarray
    dt_zero: np.ndarray
    censored: np.ndarray
    slopes: np.ndarray
    slope: float
    gradient_noise: np.ndarray
    initial_loss: np.ndarray
    predicted_dt_zero: np.ndarray
    predicted_slopes: np.ndarray


def resnet_mass_config(config: MassConfig) -> MassConfig:
    """The same search on the ResNet, at the same masses, thresholds and horizons."""
    return config.replace(network="resnet")


def mass_slopes(masses: np.ndarray, dt_zero: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Per seed (columns of ``dt_zero``, masses × seeds) the least-squares slope of log dt_zero against log M
    over the finite, uncensored masses; NaN with fewer than two."""
    slopes = []
    for column, cut in zip(np.asarray(dt_zero, dtype=float).T, np.asarray(censored, dtype=bool).T):
        ok = np.isfinite(column) & ~cut
        slopes.append(np.polyfit(np.log(np.asarray(masses, dtype=float)[ok]), np.log(column[ok]), 1)[0]
                      if ok.sum() >= 2 else np.nan)
    return np.array(slopes, dtype=float)


def _mass_scan(config: MassConfig, norm: str, seed: int, mass: float, grid: np.ndarray,
               resnet: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """Drift (G × horizons) and the computed mask on ``grid``, scanned from the largest step down."""
    factors = config.horizon_factors
    drift = np.full((len(grid), len(factors)), np.nan)
    computed = np.zeros(len(grid), dtype=bool)
    quiet = 0
    for g in range(len(grid) - 1, -1, -1):
        dt = float(grid[g])
        longest = max(config.steps(dt, f) for f in factors)
        record = _run(_System(config.base, norm, seed, resnet=resnet), dt, mass, config.base.beta, longest,
                      energy_only=True)
        trace = np.asarray(record["energy"], dtype=float)
        for h, factor in enumerate(factors):
            n = config.steps(dt, factor)
            drift[g, h] = probes.tail_drift(trace[: n + 1], 1.0) if len(trace) > n else np.nan
        computed[g] = True
        quiet = quiet + 1 if np.all(np.isfinite(drift[g]) & (drift[g] < min(config.thresholds))) else 0
        if quiet == 2:
            break
    return drift, computed


def _mass_unit(config: MassConfig, s: int) -> tuple[float, float, list[tuple[np.ndarray, np.ndarray]]]:
    """Seed ``s`` of :func:`run_mass`: tr Σ_g and L_0 at θ_0, and the scan of every mass's grid."""
    base, seed = config.base, config.base.seed + s
    resnet = (config.resnet_width, config.resnet_blocks) if config.network == "resnet" else None
    system = _System(base, base.norms[0], seed, resnet=resnet)
    noise, initial = system.gradient_noise(), system.loss(0, system.theta0)
    return noise, initial, [_mass_scan(config, base.norms[0], seed, float(mass), config.grid_for(mass), resnet)
                            for mass in config.masses]


def run_mass(config: MassConfig, *, progress: bool = True, use_cache: bool = True,
             executor: Any = None) -> MassResult:
    """dt_zero against mass at every threshold and horizon, its fitted exponents, and the theory's; the seeds
    on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> MassResult:
        base = config.base
        masses, thresholds, factors = (np.array(config.masses, dtype=float), np.array(config.thresholds, dtype=float),
                                       np.array(config.horizon_factors, dtype=float))
        grids = [config.grid_for(m) for m in masses]
        width = max(len(g) for g in grids)
        dts = np.full((len(masses), width), np.nan)
        for i, g in enumerate(grids):
            dts[i, : len(g)] = g
        drift = np.full((len(masses), base.n_seeds, width, len(factors)), np.nan)
        computed = np.zeros((len(masses), base.n_seeds, width), dtype=bool)
        shape = (len(thresholds), len(factors), len(masses), base.n_seeds)
        dt_zero_by, censored_by = np.full(shape, np.nan), np.zeros(shape, dtype=bool)
        predicted = np.full((len(masses), base.n_seeds), np.nan)
        noise, initial = np.full(base.n_seeds, np.nan), np.full(base.n_seeds, np.nan)
        k, h = int(np.flatnonzero(thresholds == base.threshold)[0]), int(np.flatnonzero(factors == 1.0)[0])
        with runtime.unit_pool(executor) as pool:
            units = runtime.map_runs(functools.partial(_mass_unit, config), range(base.n_seeds), executor=pool,
                                     description="seeds (every mass)", progress=progress)
        for s, (seed_noise, seed_initial, scans) in enumerate(units):
            noise[s], initial[s] = seed_noise, seed_initial
            for i, (mass, grid, (values, done)) in enumerate(zip(masses, grids, scans)):
                drift[i, s, : len(grid)], computed[i, s, : len(grid)] = values, done
                first = int(np.argmax(done))  # the scan ran a contiguous top part of the grid
                for a, threshold in enumerate(thresholds):
                    for b, factor in enumerate(factors):
                        crossing, where = probes.first_crossing(grid[first:], values[first:, b], float(threshold))
                        few = (config.fixed == "time" and where == "inside"
                               and config.steps(crossing, float(factor)) < MIN_CROSSING_STEPS)
                        dt_zero_by[a, b, i, s], censored_by[a, b, i, s] = crossing, where != "inside" or few
                steps = None if config.fixed == "time" else config.steps(float(grid[0]), 1.0)
                predict = _theory_probe(base, float(noise[s]), float(initial[s]), float(mass), steps=steps)
                theory = [predict(float(dt)) for dt in grid]
                crossing, where = probes.first_crossing(grid, np.array(theory), base.threshold)
                predicted[i, s] = crossing if where == "inside" and not censored_by[k, h, i, s] else np.nan
        slopes_by = np.array([[mass_slopes(masses, dt_zero_by[a, b], censored_by[a, b])
                               for b in range(len(factors))] for a in range(len(thresholds))])
        slopes = slopes_by[k, h]
        return MassResult(masses=masses, thresholds=thresholds, horizon_factors=factors, dts=dts, drift=drift,
                          computed=computed, dt_zero_by=dt_zero_by, censored_by=censored_by, slopes_by=slopes_by,
                          dt_zero=dt_zero_by[k, h], censored=censored_by[k, h], slopes=slopes,
                          slope=float(np.nanmean(slopes)) if np.isfinite(slopes).any() else float("nan"),
                          gradient_noise=noise, initial_loss=initial, predicted_dt_zero=predicted,
                          predicted_slopes=mass_slopes(masses, predicted, ~np.isfinite(predicted)))

    return runtime.cached(compute, config, MassResult, use_cache=use_cache)


# ------------------------------------------------------------------------------ dt sweep, damping


@dataclass(frozen=True)
class DtSweepConfig(ConfigBase):
    """The probes for each of ``base.norms`` at each step size in ``dts`` over the fixed physical horizon
    ``base.horizon`` (first seed only)."""

    base: ProbeConfig = ProbeConfig()
    dts: tuple[float, ...] = (0.025, 0.05, 0.1, 0.2, 0.4)

    def __post_init__(self) -> None:
        if not isinstance(self.base, ProbeConfig):
            raise ValueError(f"base={self.base!r} must be a ProbeConfig")
        check_numbers("dts", self.dts, low=0.0, high=100.0, low_inclusive=False)

    @classmethod
    def quick(cls) -> "DtSweepConfig":
        return cls()

    @classmethod
    def full(cls) -> "DtSweepConfig":
        return cls(base=ProbeConfig.full(), dts=(0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6))


_SWEPT = ("round_trip", "negative_dt", "omega", "energy_drift", "shadow_drift")


@dataclass
class DtSweepResult(ResultBase):
    """(norms × dts) grids of ``round_trip``, ``negative_dt``, ``omega``, ``energy_drift`` and
    ``shadow_drift`` at the fixed horizon (NaN where the run blew up); ``orders`` (norms × 3): the
    least-squares slopes of log ``negative_dt``, ``energy_drift`` and ``shadow_drift`` against log dt over
    the smallest step sizes (:func:`fitted_steps`), where a run has many steps."""

    norms: np.ndarray
    dts: np.ndarray
    horizon: float
    round_trip: np.ndarray
    negative_dt: np.ndarray
    omega: np.ndarray
    energy_drift: np.ndarray
    shadow_drift: np.ndarray
    orders: np.ndarray


def smooth_sweep_config(config: DtSweepConfig) -> DtSweepConfig:
    """The same sweep with Softplus in place of ReLU: a smooth potential, where the shadow energy's error
    is second order in dt; ReLU's kinks make it first order wherever a step crosses one."""
    return config.replace(base=config.base.replace(activation="softplus"))


def _log_slope(x: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of log value against x over the finite, positive values (NaN with fewer than 2)."""
    ok = np.isfinite(values) & (values > 0)
    return float(np.polyfit(x[ok], np.log(values[ok]), 1)[0]) if ok.sum() >= 2 else float("nan")


def fitted_steps(dts: np.ndarray) -> np.ndarray:
    """Indices of the smallest max(3, ⌈n/2⌉) of the n step sizes: an order is fitted where the runs are
    long, not over runs of a handful of steps at the largest dt."""
    dts = np.asarray(dts)
    return np.sort(np.argsort(dts)[: min(len(dts), max(3, (len(dts) + 1) // 2))])


def _order(dts: np.ndarray, values: np.ndarray) -> float:
    """Slope of log value against log dt (the order of the error in dt)."""
    return _log_slope(np.log(dts), values)


def _dt_cell(config: DtSweepConfig, job: tuple[int, int]) -> dict[str, float]:
    """One grid point of :func:`run_dt_sweep`: normalisation ``job[0]`` at step size ``job[1]``."""
    base, dt = config.base, config.dts[job[1]]
    record = _run(_System(base, base.norms[job[0]], base.seed), dt, base.mass, base.beta, steps_for(base.horizon, dt))
    return {name: float(record[name]) for name in _SWEPT}


def run_dt_sweep(config: DtSweepConfig, *, progress: bool = True, use_cache: bool = True,
                 executor: Any = None) -> DtSweepResult:
    """Probes over step sizes and normalisations at a fixed physical horizon; with an ``executor`` (a process
    pool, a Dask cluster's) the grid points run on it, with the same Result."""

    def compute() -> DtSweepResult:
        base = config.base
        shape = (len(base.norms), len(config.dts))
        out = {name: np.full(shape, np.nan) for name in _SWEPT}
        jobs = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
        with runtime.unit_pool(executor) as pool:
            records = runtime.map_runs(functools.partial(_dt_cell, config), jobs, executor=pool,
                                       description="normalisations × step sizes", progress=progress)
        for (i, j), record in zip(jobs, records):
            for name in out:
                out[name][i, j] = record[name]
        dts = np.array(config.dts)
        fit = fitted_steps(dts)
        orders = np.array([[_order(dts[fit], out[name][i][fit]) for name in ("negative_dt", "energy_drift",
                                                                             "shadow_drift")]
                           for i in range(shape[0])])
        return DtSweepResult(norms=np.array(base.norms), dts=dts, horizon=base.horizon, orders=orders, **out)

    return runtime.cached(compute, config, DtSweepResult, use_cache=use_cache)


# ------------------------------------------------------------------------------ the paper's settings

SETTINGS = ("batch", "group", "frozen_batch", "batch_frozen_after")
#: A setting that is not one of the write-up's: BatchNorm normalising with running statistics that every force
#: call updates, so the force reads the history of the path. The positive control of finding (b).
RUNNING_BATCH = "running_batch"
SETTING_NAMES = SETTINGS + (RUNNING_BATCH,)


def _network(config, network: str, norm: str, n_classes: int, bn_momentum: float) -> torch.nn.Module:
    if network == "simple_cnn":
        return models.SimpleCNN(1, n_classes, config.channels, norm, groups=config.groups, bn_momentum=bn_momentum)
    return models.SmallResNet(1, n_classes, config.resnet_width, config.resnet_blocks, norm, groups=config.groups,
                              bn_momentum=bn_momentum)


class _SettingSystem:
    """One network in one normalisation setting on the digits, as per-minibatch forces and potentials.

    ``batch``: train-mode BatchNorm (batch statistics; running statistics updated by each force call with
    ``bn_momentum``); ``group``: GroupNorm with :func:`models.group_count` groups; ``frozen_batch``: BatchNorm
    calibrated on the training set, then frozen; ``batch_frozen_after``: ``freeze_epochs`` epochs of
    heavy-ball training with train-mode BatchNorm (at the largest step size), then its running statistics
    frozen (:func:`models.freeze_batchnorm`); the probes start from there. ``running_batch`` (the positive
    control, :data:`RUNNING_BATCH`): BatchNorm calibrated like ``frozen_batch``, then normalising with its
    running statistics, which each force call first updates with the minibatch's (momentum ``bn_momentum``):
    a force that reads the history of the path, on the way back as on the way out.
    """

    def __init__(self, config, network: str, setting: str, seed: int, bn_momentum: float | None = None):
        device = runtime.device(config.device)
        dataset = data.load("digits", n_train=config.n_train, seed=seed, device=device).as_images()
        runtime.seed_everything(seed)
        momentum = config.bn_momentum if bn_momentum is None else bn_momentum
        norm = "batch" if setting in ("batch_frozen_after", RUNNING_BATCH) else setting
        self.model = _network(config, network, norm, dataset.n_classes, momentum).double().to(device)
        self.x, self.y = dataset.x_train.double(), dataset.y_train
        self.batch_size = config.batch_size
        self.reads_running = setting == RUNNING_BATCH
        if setting in ("frozen_batch", RUNNING_BATCH):
            models.calibrate_batchnorm(self.model, self.x)
        self.buffers = {name: b.clone() for name, b in self.model.named_buffers()}
        self.theta0 = models.flat_parameters(self.model).double()
        if setting == "batch_frozen_after":
            steps = replicas.steps_for_epochs(len(self.x), config.batch_size, config.freeze_epochs)
            self.plan = replicas.make_batch_plan(len(self.x), config.batch_size, steps, seed=seed + 1)[0]
            theta, p = self.theta0, torch.zeros_like(self.theta0)
            for t in range(steps):
                theta, p = probes.heavy_ball(self.force(t), theta, p, dt=max(config.dts), mass=config.mass,
                                             beta=config.beta)
            models.freeze_batchnorm(self.model)
            self.theta0 = theta
        self.plan = None

    def use_plan(self, steps: int, seed: int) -> None:
        self.plan = replicas.make_batch_plan(len(self.x), self.batch_size, steps, seed=seed)[0]

    def batch_loss(self, theta: torch.Tensor, t: int, buffers: dict[str, torch.Tensor]) -> torch.Tensor:
        x = self.x[self.plan[t]]
        if self.reads_running:  # update the given running statistics with this minibatch, then normalise by them
            with torch.no_grad():
                self.model.train()
                functional_call(self.model, (models.unflatten(self.model, theta.detach()), buffers), (x,))
            self.model.eval()
        else:
            self.model.train()
        out = functional_call(self.model, (models.unflatten(self.model, theta), buffers), (x,))
        return F.cross_entropy(out, self.y[self.plan[t]])

    def force(self, t: int):
        """∇ of minibatch t's loss; train-mode BatchNorm updates the system's running statistics."""
        def gradient(theta: torch.Tensor) -> torch.Tensor:
            theta = theta.detach().requires_grad_(True)
            loss = self.batch_loss(theta, t, self.buffers)
            self.last_loss = float(loss.detach())
            return torch.autograd.grad(loss, theta)[0]
        return gradient

    def pure_force(self, t: int):
        """The same force without side effects on the statistics, composable with ``jvp``."""
        frozen = {name: b.clone() for name, b in self.buffers.items()}
        return grad(lambda theta: self.batch_loss(theta, t, {k: v.clone() for k, v in frozen.items()}))

    def loss_and_gradient(self, theta: torch.Tensor, t: int) -> tuple[float, torch.Tensor]:
        """Minibatch t's loss and its gradient, without side effects on the statistics."""
        theta = theta.detach().requires_grad_(True)
        loss = self.batch_loss(theta, t, {k: v.clone() for k, v in self.buffers.items()})
        return float(loss.detach()), torch.autograd.grad(loss, theta)[0]

    @torch.no_grad()
    def batch_potential(self, theta: torch.Tensor, t: int) -> float:
        """Minibatch t's loss, the function whose gradient is the force at step t (no side effects)."""
        return float(self.batch_loss(theta, t, {k: v.clone() for k, v in self.buffers.items()}))

    @torch.no_grad()
    def running_statistics_loss(self, theta: torch.Tensor) -> float:
        """Full training loss in evaluation mode: BatchNorm with its current running statistics."""
        self.model.eval()
        out = functional_call(self.model, (models.unflatten(self.model, theta), self.buffers), (self.x,))
        return float(F.cross_entropy(out, self.y))


def steps_for_horizon(dt: float, mass: float, beta: float, horizon: float) -> int:
    """Steps that cover ``horizon`` units of learning time τ = n η / (1 − β), η = dt²/M: the time of the
    gradient flow that heavy ball at fixed β < 1 follows as η → 0, so every step size trains equally far."""
    return max(2, int(round(horizon * (1 - beta) / probes.learning_rate(dt, mass))))


def _diverged_setting_run(steps: int) -> dict[str, Any]:
    """The record of a settings run that diverged: NaN everywhere, so it enters no statistic."""
    return dict(round_trip=np.nan, negative_dt=np.nan, omega=np.nan, energy_drift=np.nan, shadow_drift=np.nan,
                running_energy_drift=np.nan, energy=np.full(steps + 1, np.nan), shadow=np.full(steps + 1, np.nan))


def _setting_run(system: _SettingSystem, dt: float, mass: float, beta: float, steps: int, seed: int, *,
                 running_energy: bool = False) -> dict[str, float]:
    """Heavy ball over ``steps`` minibatches; returns the probes (the exact round trip, the write-up's
    ΔNEGdt, Ω, the drifts), the cumulative accounts ``energy`` and ``shadow`` over L_0(θ_0) step by step, and,
    with ``running_energy``, the drift of the running-statistics energy. Both round trips reverse the
    outward path that was run, minibatch by minibatch (:func:`uniq_core.probes.return_error`). A run whose
    parameters leave :func:`_healthy` or whose loss exceeds :data:`LOSS_BLOW_UP` × max(L_0, 1) diverged: every
    probe is NaN, so it enters no statistic.

    The energy accounts are those of :func:`probes.energy_accounts`, the one definition of this chapter:
    step s damps (dissipating (1 − β²)‖p_s‖²/2M) and then applies symplectic Euler to the potential L_s
    whose gradient is its force (minibatch s's loss, in the mode the force uses). ``energy_drift`` is the
    drift of the integration error Σδ_s of H; one step gives δ_s = −dt²‖g_s‖²/2M + R_s exactly (the kick
    taken in full before the drift, plus the Taylor remainder R_s), and at fixed β < 1 the first term sums
    to (1 − β)/2 · Σ η_eff‖g‖² over a fixed learning time, whatever the step: a floor. ``shadow_drift`` is
    the drift of the shadow account Σδ̃_s, δ̃_s = δ_s − (dt/2M)(⟨p_{s+1}, ∇L_s(θ_{s+1})⟩ − ⟨βp_s, ∇L_s(θ_s)⟩)
    = R_s − ½⟨Δθ_s, ∇L_s(θ_{s+1}) − ∇L_s(θ_s)⟩: the kick term cancels and what is left is the trapezoid
    remainder, O(‖Δθ_s‖³) for any smooth potential whose gradient is the force, under any optimiser. It
    checks that the force is that gradient, as Ω does, not that the training is near-symplectic.
    Both drifts: :func:`probes.tail_drift` relative to L_0(θ_0).
    """
    system.use_plan(steps, seed)
    theta, p = system.theta0.clone(), torch.zeros_like(system.theta0)
    path = [theta]
    scale = max(abs(system.batch_potential(theta, 0)), 1e-12)
    u_start, u_end, power_start, power_end, momenta_sq = [], [], [], [], [0.0]
    running = [system.running_statistics_loss(theta)] if running_energy else []
    dissipated = [0.0]
    for t in range(steps):
        dissipated.append(dissipated[-1] + (1 - beta**2) * float(p.pow(2).sum()) / (2 * mass))
        p_damped = beta * p
        theta, p = probes.heavy_ball(system.force(t), theta, p, dt=dt, mass=mass, beta=beta)
        gradient_step = (p_damped - p) / dt  # the force used: p' = βp − dt g
        if not _healthy(theta, system.theta0) or not abs(system.last_loss) < LOSS_BLOW_UP * max(scale, 1.0):
            return _diverged_setting_run(steps)
        path.append(theta)
        u_start.append(system.last_loss)  # L_t(θ_t), evaluated by the force
        u_after, g_after = system.loss_and_gradient(theta, t)
        if not abs(u_after) < LOSS_BLOW_UP * max(scale, 1.0):
            return _diverged_setting_run(steps)
        u_end.append(u_after)
        power_start.append(float(p_damped @ gradient_step))
        power_end.append(float(p @ g_after))
        momenta_sq.append(float(p.pow(2).sum()))
        if running_energy:
            running.append(system.running_statistics_loss(theta))
    accounts = probes.energy_accounts(u_start, u_end, momenta_sq, mass, beta=beta, dt=dt,
                                      power_start=power_start, power_end=power_end)
    record = dict(
        energy_drift=probes.tail_drift(accounts["integration"], scale),
        shadow_drift=probes.tail_drift(accounts["shadow"], scale),
        running_energy_drift=(probes.energy_drift(np.array(running) + np.array(dissipated), np.array(momenta_sq),
                                                  mass) if running_energy else np.nan),
        omega=probes.omega_invariance_error(system.pure_force(steps - 1), theta, p, dt=dt, mass=mass, beta=beta,
                                            pairs=4),
        energy=accounts["integration"] / scale, shadow=accounts["shadow"] / scale,
    )
    path = torch.stack(path)
    for name, reversal in (("round_trip", "exact"), ("negative_dt", "negative_dt")):
        record[name] = probes.return_error(None, path, p, schedule=system.force, reversal=reversal, dt=dt,
                                           mass=mass, beta=beta)
    return record


@dataclass(frozen=True)
class SettingsConfig(ConfigBase):
    """Heavy ball at momentum ``beta`` (< 1) and mass ``mass`` on ``n_train`` digits in minibatches of
    ``batch_size``, for each of ``networks`` (``simple_cnn`` with ``channels``; ``resnet``: a stem and
    ``resnet_blocks`` residual blocks of ``resnet_width`` channels) and each normalisation setting of
    ``settings`` (GroupNorm with the widest group count up to ``groups`` in each layer, the write-up's 32
    wherever the channels allow; BatchNorm frozen after ``freeze_epochs`` epochs of train-mode heavy ball, a
    calibration phase of several relaxation times 1/``bn_momentum`` of the running averages), at each step
    size of ``dts`` over ``horizon`` units of learning time (:func:`steps_for_horizon`: 8 to 120 steps by
    default), over ``n_seeds``. A probe passes below its tolerance (``round_trip_tolerance``,
    ``omega_tolerance``, ``energy_threshold`` for the shadow drift); the energy is judged at the smallest
    step size."""

    n_train: int = 128
    batch_size: int = 32
    networks: tuple[str, ...] = NETWORKS
    settings: tuple[str, ...] = SETTINGS
    channels: tuple[int, ...] = (32, 64)
    resnet_width: int = 8
    resnet_blocks: int = 2
    groups: int = 32
    bn_momentum: float = 0.1
    freeze_epochs: int = 10
    beta: float = 0.9
    mass: float = 1.0
    dts: tuple[float, ...] = (0.2, 0.1, 0.07, 0.05)
    horizon: float = 3.0
    round_trip_tolerance: float = 1e-6
    omega_tolerance: float = 1e-8
    energy_threshold: float = 0.01
    n_seeds: int = 2
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        check_number("n_train", self.n_train, low=64, high=1347, integer=True)
        check_number("batch_size", self.batch_size, low=2, high=self.n_train, integer=True)
        for name, values, allowed in (("networks", self.networks, NETWORKS),
                                      ("settings", self.settings, SETTING_NAMES)):
            if len(values) == 0:
                raise ValueError(f"{name}=() is empty; give at least one of " + ", ".join(allowed))
            for value in values:
                check_choice(name, value, allowed)
        check_widths("channels", self.channels, high=256)
        check_number("resnet_width", self.resnet_width, low=1, high=256, integer=True)
        check_number("resnet_blocks", self.resnet_blocks, low=1, high=16, integer=True)
        check_number("groups", self.groups, low=1, high=1024, integer=True)
        check_number("bn_momentum", self.bn_momentum, low=0.0, high=1.0)
        check_number("freeze_epochs", self.freeze_epochs, low=1, high=1000, integer=True)
        check_number("beta", self.beta, low=0.0, high=0.999)
        check_number("mass", self.mass, low=0.0, high=1e6, low_inclusive=False)
        check_numbers("dts", self.dts, low=0.0, high=10.0, low_inclusive=False)
        check_number("horizon", self.horizon, low=0.0, high=1e5, low_inclusive=False)
        for name in ("round_trip_tolerance", "omega_tolerance", "energy_threshold"):
            check_number(name, getattr(self, name), low=0.0, low_inclusive=False)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "SettingsConfig":
        # narrower networks and three step sizes: the tests' and CI's scale
        return cls(channels=(8, 16), resnet_width=4, dts=(0.2, 0.1, 0.05))

    @classmethod
    def standard(cls) -> "SettingsConfig":
        return cls(n_seeds=STANDARD_UNITS)

    @classmethod
    def full(cls) -> "SettingsConfig":
        # at most a few hundred steps: the exact inverse of the damped map amplifies rounding by β^(−steps)
        return cls(n_train=1024, batch_size=64, channels=(32, 64), resnet_width=64, freeze_epochs=20,
                   dts=(0.2, 0.1, 0.07, 0.05), horizon=4.0, n_seeds=8)


def control_config(config: SettingsConfig) -> SettingsConfig:
    """The positive control of finding (b): ``config`` with only :data:`RUNNING_BATCH` on its first network.
    Same seeds, data, minibatches and step sizes, so each run pairs with that network's frozen-BatchNorm run
    of ``config``."""
    return config.replace(settings=(RUNNING_BATCH,), networks=config.networks[:1])


@dataclass
class SettingsResult(ResultBase):
    """(networks × settings × dts × seeds) grids of ``round_trip``, ``omega``, ``energy_drift`` (the energy
    balance) and ``shadow_drift`` (the shadow account; see :func:`_setting_run`), NaN where
    a run diverged; ``steps`` per step size; ``groups`` (networks): GroupNorm's group count in the widest
    layer; ``passes`` (networks × settings): all three probes below tolerance for every seed (round trip and
    Ω at every step size, the shadow drift at the smallest); ``energy_slope`` and ``shadow_slope``
    (networks × settings): least-squares slope of log(mean drift over seeds) against log dt over the
    smallest step sizes (:func:`fitted_steps`; NaN with fewer than two finite ones); a drift that vanishes as dt → 0 has a positive slope. ``negative_dt``: the
    write-up's ΔNEGdt round trip on the same grid. ``energy`` and ``shadow`` (networks × settings × dts × seeds
    × steps+1, NaN-padded): the cumulative accounts over L_0(θ_0) step by step, the curves behind the drifts;
    ``energy_threshold``: the write-up's threshold on the drift D, for :func:`acceptance` and :meth:`tables`;
    ``diverged`` (networks × settings × dts): the runs that diverged (their probes are NaN, in no statistic)."""

    networks: np.ndarray
    settings: np.ndarray
    dts: np.ndarray
    steps: np.ndarray
    groups: np.ndarray
    round_trip: np.ndarray
    negative_dt: np.ndarray
    omega: np.ndarray
    energy_drift: np.ndarray
    shadow_drift: np.ndarray
    energy_slope: np.ndarray
    shadow_slope: np.ndarray
    passes: np.ndarray
    energy: np.ndarray
    shadow: np.ndarray
    energy_threshold: float
    diverged: np.ndarray


    def tables(self) -> dict[str, list[dict[str, Any]]]:
        """The write-up's CSV tables from this Result, by file stem: ``summary_settings`` (per network ×
        setting × step size: each probe's mean, least and largest over seeds, and the runs accepted),
        ``merged_curves_settings`` (the energy and shadow accounts step by step, per run) and
        ``accept_rtvol_settings`` (:func:`acceptance` against the step size)."""
        rates = acceptance(self)
        summary, curves, accept = [], [], []
        for a, network in enumerate(self.networks):
            for b, setting in enumerate(self.settings):
                for j, dt in enumerate(self.dts):
                    key = {"network": str(network), "setting": str(setting), "dt": float(dt),
                           "steps": int(self.steps[j])}
                    row = dict(key)
                    for name in ("energy_drift", "shadow_drift", "negative_dt", "round_trip", "omega"):
                        values = np.asarray(getattr(self, name), dtype=float)[a, b, j]
                        finite = values[np.isfinite(values)]
                        row[f"{name}_mean"] = float(finite.mean()) if finite.size else float("nan")
                        row[f"{name}_min"] = float(finite.min()) if finite.size else float("nan")
                        row[f"{name}_max"] = float(finite.max()) if finite.size else float("nan")
                    row["seeds"] = int(values.size)
                    row["diverged"] = int(self.diverged[a, b, j])
                    row["accepted_runs"] = int(rates["accepted"][a, b, j])
                    summary.append(row)
                    accept.append({**key, "accepted_runs": int(rates["accepted"][a, b, j]), "runs": int(values.size),
                                   "run_rate": float(rates["run_rate"][a, b, j]),
                                   "run_rate_low": float(rates["run_low"][a, b, j]),
                                   "run_rate_high": float(rates["run_high"][a, b, j]),
                                   "step_rate": float(rates["step_rate"][a, b, j])})
                    for seed in range(self.energy.shape[3]):
                        for step in range(int(self.steps[j]) + 1):
                            curves.append({**key, "seed": seed, "step": step,
                                           "energy": float(self.energy[a, b, j, seed, step]),
                                           "shadow": float(self.shadow[a, b, j, seed, step])})
        return {"summary_settings": summary, "merged_curves_settings": curves, "accept_rtvol_settings": accept}


def acceptance(result: SettingsResult, threshold: float | None = None) -> dict[str, np.ndarray]:
    """The write-up's acceptance analysis of the energy probe, per network × setting × step size: the runs
    whose drift D stays under ``threshold`` (default the Result's), as a count ``accepted``, a ``run_rate``
    with its Wilson interval (``run_low``, ``run_high``) over the seeds, and the ``step_rate``, the mean over
    seeds of the fraction of steps at which |Σδ|/L_0 is under the threshold. A diverged run is not accepted."""
    from uniq_core import stats

    threshold = float(result.energy_threshold if threshold is None else threshold)
    drift = np.asarray(result.energy_drift, dtype=float)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverged run has no steps to count
        accepted = (np.isfinite(drift) & (drift < threshold)).sum(axis=-1)
        energy = np.abs(np.asarray(result.energy, dtype=float)[..., 1:])
        under = np.where(np.isfinite(energy), energy < threshold, np.nan)
        step_rate = np.nanmean(np.nanmean(under, axis=-1), axis=-1)
    runs = drift.shape[-1]
    bounds = np.array([stats.wilson_interval(int(k), runs) for k in accepted.ravel()]).reshape(accepted.shape + (2,))
    return {"accepted": accepted, "run_rate": accepted / runs, "run_low": bounds[..., 0], "run_high": bounds[..., 1],
            "step_rate": step_rate}


def setting_passes(config: SettingsConfig, round_trip: np.ndarray, omega: np.ndarray, energy_drift: np.ndarray
                   ) -> np.ndarray:
    """Pass/fail per leading index of (… × dts × seeds) grids: round trip and Ω below tolerance at every step
    size and seed, energy drift below ``energy_threshold`` at the smallest step size for every seed. A
    diverged run (NaN) is not a failed probe: it is left out and counted apart (``SettingsResult.diverged``);
    a step size whose every run diverged does not pass."""
    smallest = int(np.argmin(config.dts))

    def below(values: np.ndarray, tolerance: float) -> np.ndarray:
        return np.where(np.isfinite(values), values < tolerance, True)

    finite = np.isfinite(energy_drift)
    with np.errstate(invalid="ignore"):
        return (below(round_trip, config.round_trip_tolerance).all(axis=(-2, -1))
                & below(omega, config.omega_tolerance).all(axis=(-2, -1))
                & below(energy_drift[..., smallest, :], config.energy_threshold).all(axis=-1)
                & finite.any(axis=-1).all(axis=-1))


def _settings_unit(config: SettingsConfig, steps: tuple[int, ...], job: tuple[int, int, int]) -> list[dict]:
    """One network × setting × seed of :func:`run_settings`: its runs at every step size (it seeds itself)."""
    a, b, s = job
    system = _SettingSystem(config, config.networks[a], config.settings[b], config.seed + s)
    return [_setting_run(system, dt, config.mass, config.beta, steps[j], config.seed + s)
            for j, dt in enumerate(config.dts)]


def run_settings(config: SettingsConfig, *, progress: bool = True, use_cache: bool = True,
                 executor: Any = None) -> SettingsResult:
    """The three probes for each network × normalisation setting × step size × seed, at ``config.beta``;
    the network × setting × seed units on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> SettingsResult:
        shape = (len(config.networks), len(config.settings), len(config.dts), config.n_seeds)
        out = {name: np.full(shape, np.nan) for name in ("round_trip", "negative_dt", "omega", "energy_drift",
                                                         "shadow_drift")}
        steps = np.array([steps_for_horizon(dt, config.mass, config.beta, config.horizon) for dt in config.dts])
        traces = {name: np.full(shape + (int(steps.max()) + 1,), np.nan) for name in ("energy", "shadow")}
        jobs = [(a, b, s) for a in range(shape[0]) for b in range(shape[1]) for s in range(shape[3])]
        with runtime.unit_pool(executor) as pool:
            units = runtime.map_runs(functools.partial(_settings_unit, config, tuple(int(n) for n in steps)), jobs,
                                     executor=pool, description="networks × settings × seeds", progress=progress)
        for (a, b, s), records in zip(jobs, units):
            for j, record in enumerate(records):
                for name in out:
                    out[name][a, b, j, s] = record[name]
                for name in traces:
                    traces[name][a, b, j, s, : int(steps[j]) + 1] = record[name]
        widest = max(config.channels), config.resnet_width
        groups = np.array([models.group_count(widest[0] if n == "simple_cnn" else widest[1], config.groups)
                           for n in config.networks])
        slopes = {name: np.full(shape[:2], np.nan) for name in ("energy_drift", "shadow_drift")}
        fit = fitted_steps(np.array(config.dts))  # the smallest steps: the longest runs
        for name, slope in slopes.items():
            for a in range(shape[0]):
                for b in range(shape[1]):
                    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # every seed of a step size diverged
                        mean_drift = np.log(np.nanmean(out[name][a, b][fit], axis=-1))
                    ok = np.isfinite(mean_drift)
                    if ok.sum() >= 2:
                        slope[a, b] = np.polyfit(np.log(np.array(config.dts)[fit][ok]), mean_drift[ok], 1)[0]
        return SettingsResult(networks=np.array(config.networks), settings=np.array(config.settings),
                              dts=np.array(config.dts), steps=steps, groups=groups,
                              energy_slope=slopes["energy_drift"], shadow_slope=slopes["shadow_drift"],
                              passes=setting_passes(config, out["round_trip"], out["omega"], out["shadow_drift"]),
                              energy_threshold=config.energy_threshold,
                              diverged=(~np.isfinite(out["energy_drift"])).sum(axis=-1), **traces, **out)

    return runtime.cached(compute, config, SettingsResult, use_cache=use_cache)


@dataclass(frozen=True)
class SettingsDoseConfig(ConfigBase):
    """Train-mode BatchNorm in ``network`` at each running-statistics momentum of ``bn_momenta``, at step
    ``dt`` with the rest of ``base``: the three probes and the drift of the running-statistics energy."""

    base: SettingsConfig = SettingsConfig()
    network: str = "simple_cnn"
    dt: float = 0.2
    bn_momenta: tuple[float, ...] = (0.0, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0)

    def __post_init__(self) -> None:
        if not isinstance(self.base, SettingsConfig):
            raise ValueError(f"base={self.base!r} must be a SettingsConfig")
        check_choice("network", self.network, NETWORKS)
        check_number("dt", self.dt, low=0.0, high=10.0, low_inclusive=False)
        check_numbers("bn_momenta", self.bn_momenta, low=0.0, high=1.0)
        if len(self.bn_momenta) < 3:
            raise ValueError(f"bn_momenta={self.bn_momenta!r} needs at least three values for a rank correlation")

    @classmethod
    def quick(cls) -> "SettingsDoseConfig":
        return cls(base=SettingsConfig.quick())

    @classmethod
    def standard(cls) -> "SettingsDoseConfig":
        return cls(base=SettingsConfig.standard())

    @classmethod
    def full(cls) -> "SettingsDoseConfig":
        return cls(base=SettingsConfig.full(), bn_momenta=(0.0, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0))


@dataclass
class SettingsDoseResult(ResultBase):
    """Per BN momentum × seed: ``round_trip``, ``omega``, ``energy_drift`` (work balance) and
    ``running_energy_drift`` (energy with the evaluation-mode loss on the running statistics);
    ``probe_spread``: the largest relative change of each of the three probes across momenta (0 when the
    momentum cannot act on them); ``running_correlation``: Spearman correlation of the mean
    running-statistics drift with the momentum; ``seed_correlations``: the same per seed, the units of an
    interval."""

    bn_momenta: np.ndarray
    round_trip: np.ndarray
    omega: np.ndarray
    energy_drift: np.ndarray
    running_energy_drift: np.ndarray
    probe_spread: float
    running_correlation: float
    seed_correlations: np.ndarray


def run_settings_dose(config: SettingsDoseConfig, *, progress: bool = True, use_cache: bool = True
                      ) -> SettingsDoseResult:
    """Dose-response of train-mode BatchNorm's probes to its running-statistics momentum."""

    def compute() -> SettingsDoseResult:
        from scipy import stats as scipy_stats

        base = config.base
        shape = (len(config.bn_momenta), base.n_seeds)
        names = ("round_trip", "omega", "energy_drift", "running_energy_drift")
        out = {name: np.full(shape, np.nan) for name in names}
        steps = steps_for_horizon(config.dt, base.mass, base.beta, base.horizon)
        jobs = [(i, s) for i in range(shape[0]) for s in range(shape[1])]
        for i, s in runtime.progress_bar(jobs, "BN momenta × seeds", progress):
            system = _SettingSystem(base, config.network, "batch", base.seed + s, bn_momentum=config.bn_momenta[i])
            record = _setting_run(system, config.dt, base.mass, base.beta, steps, base.seed + s, running_energy=True)
            for name in names:
                out[name][i, s] = record[name]
        spread = 0.0
        for name in ("round_trip", "omega", "energy_drift"):
            values = out[name]
            reference = np.abs(values[0]) + 1e-300
            spread = max(spread, float(np.nanmax(np.abs(values - values[0]) / reference)))
        correlation = float(scipy_stats.spearmanr(config.bn_momenta, np.nanmean(out["running_energy_drift"], axis=1))[0])
        per_seed = np.array([float(scipy_stats.spearmanr(config.bn_momenta, column)[0])
                             if np.isfinite(column).all() else np.nan for column in out["running_energy_drift"].T])
        return SettingsDoseResult(bn_momenta=np.array(config.bn_momenta), probe_spread=spread,
                                  running_correlation=correlation, seed_correlations=per_seed, **out)

    return runtime.cached(compute, config, SettingsDoseResult, use_cache=use_cache)


@dataclass(frozen=True)
class MassIdentityConfig(ConfigBase):
    """Each of ``base.networks`` with train-mode BatchNorm at (dt, M) and at (√c·dt, c·M) for each c in
    ``factors`` (first seed): the probes agree to rounding when they depend on dt/√M alone."""

    base: SettingsConfig = SettingsConfig()
    dt: float = 0.2
    factors: tuple[float, ...] = (3.0,)

    def __post_init__(self) -> None:
        if not isinstance(self.base, SettingsConfig):
            raise ValueError(f"base={self.base!r} must be a SettingsConfig")
        check_number("dt", self.dt, low=0.0, high=10.0, low_inclusive=False)
        check_numbers("factors", self.factors, low=0.0, high=1e4, low_inclusive=False)

    @classmethod
    def quick(cls) -> "MassIdentityConfig":
        return cls(base=SettingsConfig.quick())

    @classmethod
    def standard(cls) -> "MassIdentityConfig":
        return cls()

    @classmethod
    def full(cls) -> "MassIdentityConfig":
        return cls(base=SettingsConfig.full(), factors=(0.3, 3.0, 10.0))


@dataclass
class MassIdentityResult(ResultBase):
    """Per network × factor: the largest relative difference of the energy drift and of the final
    parameters between (dt, M) and (√c·dt, c·M) (``energy_difference``, ``parameter_difference``)."""

    networks: np.ndarray
    factors: np.ndarray
    energy_difference: np.ndarray
    parameter_difference: np.ndarray


def run_mass_identity(config: MassIdentityConfig, *, progress: bool = True, use_cache: bool = True
                      ) -> MassIdentityResult:
    """Whether the probes of each network depend on dt and M only through dt/√M."""

    def compute() -> MassIdentityResult:
        base = config.base
        shape = (len(base.networks), len(config.factors))
        energy, parameters = np.full(shape, np.nan), np.full(shape, np.nan)
        steps = steps_for_horizon(config.dt, base.mass, base.beta, base.horizon)

        def endpoint(network: str, dt: float, mass: float) -> tuple[float, torch.Tensor]:
            system = _SettingSystem(base, network, "batch", base.seed)
            record = _setting_run(system, dt, mass, base.beta, steps, base.seed)
            system.use_plan(steps, base.seed)
            theta, p = system.theta0.clone(), torch.zeros_like(system.theta0)
            for t in range(steps):
                theta, p = probes.heavy_ball(system.force(t), theta, p, dt=dt, mass=mass, beta=base.beta)
            return record["energy_drift"], theta

        jobs = [(a, f) for a in range(shape[0]) for f in range(shape[1])]
        for a, f in runtime.progress_bar(jobs, "networks × mass factors", progress):
            network, factor = base.networks[a], config.factors[f]
            drift, theta = endpoint(network, config.dt, base.mass)
            drift_scaled, theta_scaled = endpoint(network, config.dt * np.sqrt(factor), base.mass * factor)
            energy[a, f] = abs(drift_scaled - drift) / max(abs(drift), 1e-300)
            parameters[a, f] = float((theta_scaled - theta).norm() / (theta - _SettingSystem(
                base, network, "batch", base.seed).theta0).norm())
        return MassIdentityResult(networks=np.array(base.networks), factors=np.array(config.factors),
                                  energy_difference=energy, parameter_difference=parameters)

    return runtime.cached(compute, config, MassIdentityResult, use_cache=use_cache)


# ------------------------------------------------------------------------------ Noether: rescaling charges

NOETHER_MODES = ("gradient_descent", "heavy_ball_fixed_beta", "heavy_ball_fixed_friction")


@dataclass(frozen=True)
class NoetherConfig(ConfigBase):
    """A ReLU MLP (``widths``) on ``n_train`` digits, full batch, trained for ``horizon`` units of time at each
    step of ``time_steps`` by: plain gradient descent (learning rate = time step, time = learning-rate sum);
    heavy ball at fixed ``beta`` (learning rate = time step × (1 − β), the rate of the gradient flow it follows
    as the rate → 0); heavy ball with fixed ``friction`` γ (time step dt, β = 1 − γ dt, mass 1: the mechanical
    limit M θ̈ = −∇L − γ M θ̇). Records the change of the rescaling charges and of the softmax column sums."""

    n_train: int = 128
    widths: tuple[int, ...] = (16,)
    time_steps: tuple[float, ...] = (0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625)
    horizon: float = 2.0
    beta: float = 0.9
    friction: float = 1.0
    n_seeds: int = 2
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        check_number("n_train", self.n_train, low=16, high=1347, integer=True)
        check_widths("widths", self.widths, high=512)
        check_numbers("time_steps", self.time_steps, low=0.0, high=1.0, low_inclusive=False)
        if len(self.time_steps) < 3:
            raise ValueError(f"time_steps={self.time_steps!r} needs at least three values to fit an order")
        check_number("horizon", self.horizon, low=0.0, high=1e4, low_inclusive=False)
        check_number("beta", self.beta, low=0.0, high=0.999)
        check_number("friction", self.friction, low=0.0, high=1.0 / max(self.time_steps), low_inclusive=False)
        check_number("n_seeds", self.n_seeds, low=1, high=50, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "NoetherConfig":
        return cls()

    @classmethod
    def full(cls) -> "NoetherConfig":
        return cls(n_train=1024, widths=(32, 32), time_steps=(0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125),
                   horizon=4.0,
                   n_seeds=5)


@dataclass
class NoetherResult(ResultBase):
    """Per mode × time step × seed: ``charge_change``, max over hidden units of |Q_j(T) − Q_j(0)| over the
    mean of ‖w_in‖² + b² + ‖w_out‖² at the start; ``column_sum_change``, the largest change of the output
    layer's column sums and bias sum. ``order`` (modes): least-squares slope of log(mean charge change)
    against log(time step) over the smallest half of the time steps (at least three: the asymptotic order,
    past heavy ball's transient of about 1/(1 − β) steps); ``step_identity_error``: largest relative error of the exact one-step law
    ΔQ = η²(‖g_in‖² + g_b² − ‖g_out‖²) over the gradient-descent steps of the first seed."""

    modes: np.ndarray
    time_steps: np.ndarray
    charge_change: np.ndarray
    column_sum_change: np.ndarray
    order: np.ndarray
    step_identity_error: float


def _mlp_parts(model: torch.nn.Module, theta: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    named = models.unflatten(model, theta)
    linear = [name[: -len(".weight")] for name in named if name.endswith(".weight")]
    return [named[f"{n}.weight"] for n in linear], [named[f"{n}.bias"] for n in linear]


def run_noether(config: NoetherConfig, *, progress: bool = True, use_cache: bool = True) -> NoetherResult:
    """Conservation of the ReLU rescaling charges and softmax column sums under GD and heavy ball."""

    def compute() -> NoetherResult:
        shape = (len(NOETHER_MODES), len(config.time_steps), config.n_seeds)
        charge, columns = np.full(shape, np.nan), np.full(shape, np.nan)
        identity_error = 0.0
        device = runtime.device(config.device)
        jobs = [(s, j) for s in range(config.n_seeds) for j in range(len(config.time_steps))]
        for s, j in runtime.progress_bar(jobs, "seeds × time steps", progress):
            dataset = data.load("digits", n_train=config.n_train, seed=config.seed + s, device=device)
            runtime.seed_everything(config.seed + s)
            model = models.MLP(dataset.n_features, config.widths, dataset.n_classes, "relu").double().to(device)
            x, y = dataset.x_train.double(), dataset.y_train
            theta0 = models.flat_parameters(model).double()

            def gradient(theta: torch.Tensor) -> torch.Tensor:
                return grad(lambda t: F.cross_entropy(functional_call(model, models.unflatten(model, t), (x,)), y))(theta)

            weights, biases = _mlp_parts(model, theta0)
            charge0 = probes.relu_rescaling_charges(weights, biases)
            size = float(np.mean([float((w.pow(2).sum(-1) + b.pow(2)).mean()) for w, b in zip(weights[:-1], biases[:-1])])
                         + np.mean([float(w.pow(2).sum(-2).mean()) for w in weights[1:]]))
            columns0 = probes.softmax_column_sums(weights[-1], biases[-1])
            step = config.time_steps[j]
            settings = {
                "gradient_descent": (np.sqrt(step), 0.0, round(config.horizon / step)),
                "heavy_ball_fixed_beta": (np.sqrt(step * (1 - config.beta)), config.beta, round(config.horizon / step)),
                "heavy_ball_fixed_friction": (step, 1 - config.friction * step, round(config.horizon / step)),
            }
            for m, mode in enumerate(NOETHER_MODES):
                dt, beta, n_steps = settings[mode]
                theta, p = theta0.clone(), torch.zeros_like(theta0)
                for t in range(n_steps):
                    if mode == "gradient_descent" and s == 0:
                        g = gradient(theta)
                        predicted = probes.relu_rescaling_step_change(*_mlp_parts(model, g), dt * dt)
                        before = probes.relu_rescaling_charges(*_mlp_parts(model, theta))
                    theta, p = probes.heavy_ball(gradient, theta, p, dt=dt, mass=1.0, beta=beta)
                    if mode == "gradient_descent" and s == 0:
                        change = probes.relu_rescaling_charges(*_mlp_parts(model, theta)) - before
                        identity_error = max(identity_error, float((change - predicted).abs().max()
                                                                   / predicted.abs().max().clamp_min(1e-300)))
                if not torch.isfinite(theta).all():
                    continue
                weights, biases = _mlp_parts(model, theta)
                charge[m, j, s] = float((probes.relu_rescaling_charges(weights, biases) - charge0).abs().max()) / size
                columns[m, j, s] = float((probes.softmax_column_sums(weights[-1], biases[-1]) - columns0).abs().max())
        order = np.full(len(NOETHER_MODES), np.nan)
        smallest = np.argsort(config.time_steps)[: max(3, len(config.time_steps) // 2)]
        for m in range(len(NOETHER_MODES)):
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_change = np.log(np.nanmean(charge[m][smallest], axis=-1))
            ok = np.isfinite(mean_change)
            if ok.sum() >= 2:
                order[m] = np.polyfit(np.log(np.array(config.time_steps)[smallest][ok]), mean_change[ok], 1)[0]
        return NoetherResult(modes=np.array(NOETHER_MODES), time_steps=np.array(config.time_steps),
                             charge_change=charge, column_sum_change=columns, order=order,
                             step_identity_error=identity_error)

    return runtime.cached(compute, config, NoetherResult, use_cache=use_cache)


@dataclass(frozen=True)
class DampingConfig(ConfigBase):
    """Exact reversal and the energy balance of damped heavy ball: train-mode BatchNorm (norm
    ``base.norms[0]``) at each momentum factor in ``betas``, round trips of each length in ``lengths``."""

    base: ProbeConfig = ProbeConfig(norms=("batch",), n_seeds=1)
    betas: tuple[float, ...] = (1.0, 0.9, 0.8)
    lengths: tuple[int, ...] = (20, 40, 80)

    def __post_init__(self) -> None:
        if not isinstance(self.base, ProbeConfig):
            raise ValueError(f"base={self.base!r} must be a ProbeConfig")
        check_numbers("betas", self.betas, low=0.0, high=1.0, low_inclusive=False)
        if len(self.lengths) < 2:
            raise ValueError(f"lengths={self.lengths!r} needs at least two values to fit a growth rate")
        for value in self.lengths:
            check_number("lengths", value, low=2, high=10_000, integer=True)

    @classmethod
    def quick(cls) -> "DampingConfig":
        return cls()

    @classmethod
    def full(cls) -> "DampingConfig":
        return cls(base=ProbeConfig.full().replace(norms=("batch",), n_seeds=1), lengths=(25, 50, 100, 200))


@dataclass
class DampingResult(ResultBase):
    """``round_trip`` (betas × lengths): exact-reversal error; ``growth`` (betas): fitted growth of its
    logarithm per step, to compare with −log β, the rate of the inverse's amplification β^−T;
    ``integration``, ``dissipated`` (betas): the integration error and the energy dissipated by damping
    over the longest run, relative to H_0."""

    betas: np.ndarray
    lengths: np.ndarray
    round_trip: np.ndarray
    growth: np.ndarray
    integration: np.ndarray
    dissipated: np.ndarray


def run_damping(config: DampingConfig, *, progress: bool = True, use_cache: bool = True) -> DampingResult:
    """Round trips of damped heavy ball against their length, and the energy balance."""

    def compute() -> DampingResult:
        base = config.base
        norm = base.norms[0]
        table = np.full((len(config.betas), len(config.lengths)), np.nan)
        integration, dissipated = np.full(len(config.betas), np.nan), np.full(len(config.betas), np.nan)
        jobs = [(i, j) for i in range(len(config.betas)) for j in range(len(config.lengths))]
        for i, j in runtime.progress_bar(jobs, "momentum factors × lengths", progress):
            record = _run(_System(base, norm, base.seed), base.dt, base.mass, config.betas[i], config.lengths[j],
                          negative_dt=False)
            table[i, j] = record["round_trip"]
            if j == len(config.lengths) - 1:
                integration[i], dissipated[i] = record["energy"][-1], record["dissipated"][-1]
        lengths = np.array(config.lengths, dtype=float)
        growth = np.array([_log_slope(lengths, row) for row in table])
        return DampingResult(betas=np.array(config.betas), lengths=np.array(config.lengths), round_trip=table,
                             growth=growth, integration=integration, dissipated=dissipated)

    return runtime.cached(compute, config, DampingResult, use_cache=use_cache)


# ------------------------------------------------------------------------------ the chapter's findings

TOY_DT = 0.05  #: step of symplectic Euler on the switching-potential toy of the chapter's mathematics
TOY_HORIZONS = (5.0, 20.0, 80.0)  #: physical times at which the toy's |Σδ| is read
ROUNDING = 1e-12  #: a round-trip error below this (relative to the path) is rounding
OMEGA_ROUNDING = 1e-10  #: an Ω-invariance error below this is rounding
SHADOW_REMOVES_MOST = 0.5  #: shadow drift / drift of H below this: the shadow removes most of the drift
FIRST_ORDER_TOLERANCE = 0.25  #: a fitted exponent within this of 1 is first order
SECOND_ORDER_TOLERANCE = 0.5  #: a fitted exponent within this of 2 is second order
FALLING_SLOPE = 0.5  #: a drift whose exponent in dt is above this falls as dt → 0
MASS_IDENTITY_TOLERANCE = 1e-8  #: relative energy difference under (√c dt, cM) below which the identity holds
VANISHING_ORDER = 0.5  #: a charge change whose order in the step is above this vanishes with the step
PASSING_SETTINGS = ("group", "frozen_batch", "batch_frozen_after")
NORM_NAMES = {"none": "none", "group": "GroupNorm", "batch": "train-mode BatchNorm",
              "frozen_batch": "frozen BatchNorm"}  #: how the chapter names each normalisation
THEORY_FACTOR = 1.25  #: measured/predicted within [1/this, this]: the one-line theory reproduces the number
THEORY_DTS = (0.1, 0.05, 0.025)  #: step sizes of the known-answer check of the drift's theory
THEORY_MASSES = (0.5, 1.0, 2.0)  #: masses of the known-answer check
THEORY_HORIZONS = (5.0, 20.0, 80.0)  #: physical times of the known-answer check
KNOWN_RUNS = 400  #: runs averaged in the known-answer check  #: the settings compared with train-mode BN
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def _number_word(count: int) -> str:
    """A count in words up to five, digits above."""
    return _NUMBER_WORDS.get(count, str(count))


def _joined(values, form: str, separator: str = ", ") -> str:
    """``values`` formatted with ``form`` and joined by ``separator`` (:func:`verdicts.joined`)."""
    from uniq_core.experiments import verdicts

    return verdicts.joined(values, form, separator)


def _norm_mean(result: ProbeResult, field: str, norm: str) -> float:
    """Mean over seeds (NaN left out) of ``field`` of ``result`` for normalisation ``norm``."""
    return float(np.nanmean(getattr(result, field)[list(result.norms).index(norm)]))


def toy_drifts(dt: float = TOY_DT, horizons: tuple[float, ...] = TOY_HORIZONS) -> tuple[np.ndarray, np.ndarray]:
    """The switching-potential toy: median |Σδ| at ``horizons`` with a new potential every step, and with one."""
    return (probes.switching_oscillator_drift(dt, horizons),
            probes.switching_oscillator_drift(dt, horizons, switching=False))


def _toy_findings(switching: np.ndarray, fixed: np.ndarray) -> dict[str, float | int | str]:
    """``toy_*``: the energy error of a switching potential grows with the horizon, a fixed one's does not."""
    separates = bool(np.all(np.diff(switching) > 0) and fixed.max() < switching[0])
    return {
        "toy_dt": TOY_DT,
        "toy_horizons": _joined(TOY_HORIZONS, "g"),
        "toy_switching": _joined(switching, ".3f"),
        "toy_fixed": _joined(fixed, ".3f"),
        "toy_word": "grows with the horizon when the potential switches and stays bounded when it does not"
        if separates else "does not separate the two cases",
    }


def _batch_separated(result: ProbeResult) -> bool:
    """Whether train-mode BatchNorm's energy drifts over seeds lie outside the other normalisations' range."""
    norms = list(result.norms)
    batch_row = result.energy_drift[norms.index("batch")]
    other_rows = result.energy_drift[[i for i, n in enumerate(norms) if n != "batch"]]
    return bool(np.nanmin(batch_row) > np.nanmax(other_rows) or np.nanmax(batch_row) < np.nanmin(other_rows))


def _probe_settings_findings(result: ProbeResult, config: ProbeConfig) -> dict[str, float | int | str]:
    """``pr_*`` of the run's settings and of the Ω, round-trip and conservation probes."""
    omega_max = float(np.nanmax(result.omega))
    round_trip_max = float(np.nanmax(result.round_trip))
    return {
        "pr_dt": config.dt,
        "pr_steps": config.steps,
        "pr_horizon": config.horizon,
        "pr_seeds": config.n_seeds,
        "pr_threshold": config.threshold,
        "pr_dt_range": _joined(config.dt_range, "g", " to "),
        "pr_n_norms": _number_word(len(result.norms)),
        "pr_omega_max": omega_max,
        "pr_omega_word": "which is rounding" if omega_max < OMEGA_ROUNDING else "above rounding",
        "pr_omega_holds": "holds" if omega_max < OMEGA_ROUNDING else "does not hold",
        "pr_rt_max": round_trip_max,
        "pr_reversible": "returns" if round_trip_max < ROUNDING else "does not return",
        "pr_neg_min": float(np.nanmin(result.negative_dt)),
        "pr_neg_max": float(np.nanmax(result.negative_dt)),
        "pr_columns": float(np.nanmax(result.column_sum_change)),
        "pr_identity": float(np.nanmax(result.norm_identity)),
    }


def _probe_energy_findings(result: ProbeResult, config: ProbeConfig) -> dict[str, float | int | str]:
    """``pr_*`` of the energy probe: drifts per normalisation, dt_zero, and where train-mode BatchNorm lies."""
    norms = list(result.norms)
    out: dict[str, float | int | str] = {}
    censored = (result.dt_zero <= config.dt_range[0]) | ~np.isfinite(result.dt_zero)
    for index, norm in enumerate(norms):
        out[f"pr_drift_{norm}"] = _norm_mean(result, "energy_drift", norm)
        out[f"pr_shadow_{norm}"] = _norm_mean(result, "shadow_drift", norm)
        kept = result.dt_zero[index][~censored[index]]
        out[f"pr_dt0_{norm}"] = f"{np.exp(np.mean(np.log(kept))):.2f}" if kept.size else "outside the bracket"
    rate = result.energy_drift / config.horizon
    batch = _norm_mean(result, "energy_drift", "batch")
    others = [_norm_mean(result, "energy_drift", n) for n in norms if n != "batch"]
    separated = _batch_separated(result)
    shadow_ratio = float(np.nanmax(result.shadow_drift / result.energy_drift))
    negative_means = {n: _norm_mean(result, "negative_dt", n) for n in norms}
    negative_rank = sorted(negative_means, key=negative_means.get).index("batch") + 1
    return {
        **out,
        "pr_censored": int(censored.sum()),
        "pr_dt0_total": int(censored.size),
        "pr_rate_low": float(np.nanmin(rate)),
        "pr_rate_high": float(np.nanmax(rate)),
        "pr_batch_rank": "the smallest" if batch < min(others) else
        ("the largest" if batch > max(others) else "within the range"),
        "pr_energy_word": "singles out" if separated else "does not single out",
        "pr_separation": "lies outside" if separated else "overlaps",
        "pr_shadow_ratio": shadow_ratio,
        "pr_shadow_word": "most of the drift of $H$ is the $O(dt)$ term that the shadow Hamiltonian removes"
        if shadow_ratio < SHADOW_REMOVES_MOST else "the shadow Hamiltonian removes little of the drift of $H$",
        "pr_neg_rank": {1: "the smallest", len(norms): "the largest"}.get(
            negative_rank, f"number {negative_rank} from the smallest"),
    }


def _sweep_findings(sweep: DtSweepResult, oscillator: dict[str, np.ndarray], dt: float,
                    smooth: DtSweepResult) -> dict[str, float | int | str]:
    """``sw_*`` and ``os_*``: the oscillator's known answer and the orders in dt at a fixed horizon, for
    ReLU and for the smooth control (Softplus)."""
    fit = fitted_steps(sweep.dts)
    order_negative, order_energy, order_shadow = sweep.orders.T
    first_order = bool(np.all(np.abs(order_energy - 1) < FIRST_ORDER_TOLERANCE)
                       and np.all(np.abs(order_negative - 1) < FIRST_ORDER_TOLERANCE))
    round_trip_max = float(np.nanmax(sweep.round_trip))
    return {
        "sw_dt_low": float(sweep.dts.min()),
        "sw_dt_high": float(sweep.dts.max()),
        "sw_horizon": float(sweep.horizon),
        "sw_n_fit": len(fit),
        "sw_steps_fit": int(min(steps_for(sweep.horizon, d) for d in sweep.dts[fit])),
        "os_energy": float(np.abs(oscillator["energy"]).max()),
        "os_shadow": float(np.abs(oscillator["shadow"]).max()),
        "os_expected": dt * 2.0 * (2.0**2 / 2) / 2,  # dt·ω·H_0/2 for θ_0 = 1, p_0 = 0, ω = 2
        "sw_rt_word": "stays at rounding" if round_trip_max < ROUNDING else "leaves rounding",
        "sw_rt_max": round_trip_max,
        "sw_order_neg_low": float(np.nanmin(order_negative)),
        "sw_order_neg_high": float(np.nanmax(order_negative)),
        "sw_order_energy_low": float(np.nanmin(order_energy)),
        "sw_order_energy_high": float(np.nanmax(order_energy)),
        "sw_order_shadow_low": float(np.nanmin(order_shadow)),
        "sw_order_shadow_high": float(np.nanmax(order_shadow)),
        "sw_shadow_small": float(np.nanmax(sweep.shadow_drift[:, 0])),
        "sw_energy_small": float(np.nanmin(sweep.energy_drift[:, 0])),
        "sw_first_order": "are first order" if first_order else "are not all first order",
        "sw_shadow_word": _second_order(order_shadow),
        "sw_smooth_low": float(np.nanmin(smooth.orders[:, 2])),
        "sw_smooth_high": float(np.nanmax(smooth.orders[:, 2])),
        "sw_smooth_word": _second_order(smooth.orders[:, 2]),
        "sw_smooth_energy_low": float(np.nanmin(smooth.orders[:, 1])),
        "sw_smooth_energy_high": float(np.nanmax(smooth.orders[:, 1])),
    }


def _second_order(orders: np.ndarray) -> str:
    return "second order" if np.all(np.abs(np.asarray(orders) - 2) < SECOND_ORDER_TOLERANCE) else "not all second order"


def _damping_findings(damping: DampingResult) -> dict[str, float | int | str]:
    """``da_*``: how the exact inverse of damped heavy ball amplifies rounding, and the energy balance."""
    damped = damping.betas < 1
    growth, rate = damping.growth[damped], -np.log(damping.betas[damped])
    return {
        "da_betas": _joined(damping.betas[damped], "g"),
        "da_growth": _joined(growth, ".3f"),
        "da_rate": _joined(rate, ".3f"),
        "da_longest": int(damping.lengths.max()),
        "da_rt_one": float(np.nanmax(damping.round_trip[~damped])) if (~damped).any() else float("nan"),
        "da_rt_damped": float(np.nanmax(damping.round_trip[damped])),
        "da_dissipated": _joined(damping.dissipated[damped], ".3f"),
        "da_integration": float(np.nanmax(np.abs(damping.integration))),
        "da_ratio": float(np.nanmax(np.abs(damping.integration[damped]) / damping.dissipated[damped])),
        "da_compare": "faster than" if np.all(growth > rate) else
        ("slower than" if np.all(growth < rate) else "not uniformly faster than"),
    }


def _finite_extreme(values: np.ndarray, extreme) -> float:
    """``extreme`` (np.nanmin or np.nanmax) of ``values``, NaN when none is finite."""
    return float(extreme(values)) if np.isfinite(values).any() else float("nan")


def _mass_findings(mass: MassResult, mass_resnet: MassResult, config: MassConfig) -> dict[str, float | int | str]:
    """``ma_*`` and ``claim_mass_scaling*``, ``claim_deeper_deviate*``: the mass exponent at a fixed physical
    horizon, SimpleCNN against ResNet, decided by the verdict page's rows."""
    from uniq_core.experiments import verdicts

    return {
        **verdicts.claim_findings(verdicts.row_mass_scaling(mass), verdicts.row_deeper_deviate(mass, mass_resnet)),
        "ma_slope": float(mass.slope),
        "ma_slope_low": _finite_extreme(mass.slopes, np.nanmin),
        "ma_slope_high": _finite_extreme(mass.slopes, np.nanmax),
        "ma_masses": _joined(mass.masses, "g"),
        "ma_norm": str(config.base.norms[0]),
        "ma_seeds": int(config.base.n_seeds),
        "ma_resnet_width": int(config.resnet_width), "ma_resnet_blocks": int(config.resnet_blocks),
        "ma_min_steps": MIN_CROSSING_STEPS,
        "ma_horizon": float(config.base.horizon),
        "ma_censored": int(mass.censored.sum()) + int(mass_resnet.censored.sum()),
        "ma_total": int(mass.censored.size) + int(mass_resnet.censored.size),
        "ma_resnet_slope": float(mass_resnet.slope),
        "ma_resnet_masses": _joined(mass_resnet.masses, "g"),
        "ma_resnet_low": _finite_extreme(mass_resnet.slopes, np.nanmin),
        "ma_resnet_high": _finite_extreme(mass_resnet.slopes, np.nanmax),
    }


def theory_known_answer(dts: tuple[float, ...] = THEORY_DTS, masses: tuple[float, ...] = THEORY_MASSES,
                        horizons: tuple[float, ...] = THEORY_HORIZONS) -> dict[str, np.ndarray]:
    """The drift's one-line theory on the potential with known gradient noise
    (:func:`uniq_core.probes.noisy_quadratic_drift`, tr Σ_g = 1), read with the energy probe's own statistic
    (the median over the last quarter, :func:`uniq_core.probes.tail_drift`, per run, mean over
    :data:`KNOWN_RUNS` runs): ``measured`` and ``predicted`` (horizons × masses × dts)."""
    measured = np.array([[[probes.noisy_quadratic_drift(dt, mass, horizon, n_runs=KNOWN_RUNS, statistic="tail")
                           for dt in dts] for mass in masses] for horizon in horizons])
    predicted = np.array([[[probes.tail_drift(probes.switching_drift(dt, mass, 1.0, steps_for(horizon, dt)), 1.0)
                            for dt in dts] for mass in masses] for horizon in horizons])
    return {"dts": np.array(dts), "masses": np.array(masses), "horizons": np.array(horizons),
            "measured": measured, "predicted": predicted}


def _known_departure(known: dict[str, np.ndarray]) -> str:
    """Where the known answer departs most from the one line, and how that departure behaves in dt and T."""
    ratio = np.asarray(known["measured"]) / np.asarray(known["predicted"])  # horizons × masses × dts
    departure = np.abs(ratio - 1)
    h, j, k = np.unravel_index(int(np.argmax(departure)), departure.shape)
    horizons, dts = np.asarray(known["horizons"]), np.asarray(known["dts"])
    shrinks_dt = departure[h, j, np.argmin(dts)] < 0.5 * departure[h, j, np.argmax(dts)]
    fades_t = departure[np.argmax(horizons)].max() < 0.5 * departure[h].max()
    return (f"The largest departure, {ratio[h, j, k]:.2f} times, is at "
            f"T = {horizons[h]:g} and M = {np.asarray(known['masses'])[j]:g}; it "
            + ("shrinks" if shrinks_dt else "does not shrink") + " with dt and "
            + ("fades" if fades_t else "does not fade") + " as T grows"
            + (": a part of the drift first order in dt that does not grow with T, which the one line leaves out."
               if fades_t and not shrinks_dt else "."))


def _ratios(measured: np.ndarray, predicted: np.ndarray, *, inside=None) -> np.ndarray:
    """measured / predicted where both are finite and positive (and ``inside``, a mask of uncensored values)."""
    measured, predicted = np.asarray(measured, dtype=float), np.asarray(predicted, dtype=float)
    ok = np.isfinite(measured) & np.isfinite(predicted) & (measured > 0) & (predicted > 0)
    if inside is not None:
        ok &= np.asarray(inside, dtype=bool)
    return measured[ok] / predicted[ok]


def _agreement(ratios: np.ndarray) -> str:
    if ratios.size == 0:
        return "cannot be compared (no uncensored value)"
    if np.all((ratios >= 1 / THEORY_FACTOR) & (ratios <= THEORY_FACTOR)):
        return f"agrees within a factor {THEORY_FACTOR:g}"
    return f"is off by more than a factor {THEORY_FACTOR:g} somewhere"


def _theory_findings(result: ProbeResult, config: ProbeConfig, mass: MassResult, mass_resnet: MassResult,
                     known: dict[str, np.ndarray]) -> dict[str, float | int | str]:
    """``th_*``: the drift's one-line theory against its known answer, the normalisations and the masses."""
    known_ratio = np.asarray(known["measured"]) / np.asarray(known["predicted"])
    dt0 = np.asarray(result.dt_zero, dtype=float)
    inside = np.isfinite(dt0) & (dt0 > config.dt_range[0]) & (dt0 < config.dt_range[1])
    norm_ratio = _ratios(dt0, result.predicted_dt_zero, inside=inside)
    drift_ratio = _ratios(result.energy_drift, result.predicted_drift)
    per_norm = []
    for i, norm in enumerate(result.norms):
        r = _ratios(dt0[i], np.asarray(result.predicted_dt_zero)[i], inside=inside[i])
        per_norm.append(f"{NORM_NAMES.get(str(norm), str(norm))} {np.exp(np.mean(np.log(r))):.2f}" if r.size
                        else f"{NORM_NAMES.get(str(norm), str(norm))} censored")
    mass_ratio = np.concatenate([_ratios(m.dt_zero, m.predicted_dt_zero, inside=~np.asarray(m.censored, dtype=bool))
                                 for m in (mass, mass_resnet)])
    noise = np.asarray(result.gradient_noise, dtype=float)
    growth = np.asarray(result.gradient_noise_end, dtype=float) / noise
    path_ratio = _ratios(result.energy_drift, result.predicted_drift_path)
    return {
        "th_noise_checkpoints": NOISE_CHECKPOINTS,
        "th_noise_growth_low": _finite_extreme(growth, np.nanmin),
        "th_noise_growth_high": _finite_extreme(growth, np.nanmax),
        "th_drift_path_low": _finite_extreme(path_ratio, np.nanmin),
        "th_drift_path_high": _finite_extreme(path_ratio, np.nanmax),
        "th_known_low": float(known_ratio.min()), "th_known_high": float(known_ratio.max()),
        "th_known_dts": _joined(known["dts"], "g"), "th_known_masses": _joined(known["masses"], "g"),
        "th_known_horizons": _joined(known["horizons"], "g"),
        "th_known_departure": _known_departure(known),
        "th_known_by_horizon": "; ".join(
            f"T = {horizon:g}: {ratio.min():.3f} to {ratio.max():.3f}"
            for horizon, ratio in zip(known["horizons"], np.asarray(known["measured"]) / np.asarray(known["predicted"]))),
        "th_noise_low": _finite_extreme(noise, np.nanmin), "th_noise_high": _finite_extreme(noise, np.nanmax),
        "th_drift_low": _finite_extreme(drift_ratio, np.nanmin), "th_drift_high": _finite_extreme(drift_ratio, np.nanmax),
        "th_dt0_low": _finite_extreme(norm_ratio, np.nanmin), "th_dt0_high": _finite_extreme(norm_ratio, np.nanmax),
        "th_dt0_count": int(norm_ratio.size), "th_dt0_total": int(dt0.size),
        "th_dt0_norms": "; ".join(per_norm), "th_dt0_word": _agreement(norm_ratio),
        "th_mass_low": _finite_extreme(mass_ratio, np.nanmin), "th_mass_high": _finite_extreme(mass_ratio, np.nanmax),
        "th_mass_count": int(mass_ratio.size), "th_mass_word": _agreement(mass_ratio),
        "ma_theory_low": _finite_extreme(np.concatenate([mass.predicted_slopes, mass_resnet.predicted_slopes]), np.nanmin),
        "ma_theory_high": _finite_extreme(np.concatenate([mass.predicted_slopes, mass_resnet.predicted_slopes]), np.nanmax),
        "th_noise_batches": NOISE_BATCHES, "th_known_runs": KNOWN_RUNS,
    }


def mass_exponent_table(mass: MassResult, mass_resnet: MassResult) -> str:
    """The mass exponent at every threshold × horizon measured, per network, as a Markdown table: the mean
    over seeds, the range over seeds and the number of seeds with an exponent."""
    lines = ["| threshold | horizon | SimpleCNN | ResNet |", "|---|---|---|---|"]
    for a, threshold in enumerate(mass.thresholds):
        for b, factor in enumerate(mass.horizon_factors):
            cells = []
            for result in (mass, mass_resnet):
                values = np.asarray(result.slopes_by, dtype=float)[a, b]
                finite = values[np.isfinite(values)]
                cells.append(f"{finite.mean():.2f} [{finite.min():.2f}, {finite.max():.2f}] ({finite.size} seeds)"
                             if finite.size else "no exponent (censored)")
            lines.append(f"| {threshold:g} | {factor:g} × T | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _headline(result: ProbeResult) -> str:
    """The verdict's first sentence: reversibility and whether the energy singles out train-mode BatchNorm."""
    reversible = np.nanmax(result.round_trip) < ROUNDING
    return ("At β = 1 heavy ball is exactly symplectic and " + ("exactly reversible" if reversible else
            "not reversible") + " for every normalisation; the energy "
            + ("singles out" if _batch_separated(result) else "does not single out") + " train-mode BatchNorm.")


def _settings_setup_findings(settings: SettingsResult, config: SettingsConfig) -> dict[str, float | int | str]:
    """``st_*`` that describe the paper's settings: networks, group counts, step sizes and horizon."""
    freeze_steps = replicas.steps_for_epochs(config.n_train, config.batch_size, config.freeze_epochs)
    freeze_time = freeze_steps * max(config.dts) ** 2 / config.mass / (1 - config.beta)
    largest = int(np.argmax(settings.dts))
    return {
        "st_channels": _joined(config.channels, "d", "–"),
        "st_blocks": config.resnet_blocks,
        "st_width": config.resnet_width,
        "st_groups_requested": config.groups,
        "st_groups_cnn_text": _groups_text(config.channels, config.groups),
        "st_groups_resnet_text": _groups_text((config.resnet_width,), config.groups),
        "st_freeze_steps": int(freeze_steps),
        "st_freeze_relax": float(freeze_steps * config.bn_momentum),
        "st_freeze_time": float(freeze_time),
        "st_freeze_word": "longer than" if freeze_time > config.horizon else "no longer than",
        "st_fit_steps": int(min(settings.steps[fitted_steps(settings.dts)])),
        "st_time_largest": float(settings.steps[largest] * settings.dts[largest] ** 2 / config.mass
                                 / (1 - config.beta)),
        "st_freeze_epochs": config.freeze_epochs,
        "st_beta": config.beta,
        "st_n_train": config.n_train,
        "st_batch": config.batch_size,
        "st_seeds": config.n_seeds,
        "st_horizon": config.horizon,
        "st_dt_min": float(np.min(settings.dts)),
        "st_dt_max": float(np.max(settings.dts)),
        "st_steps_max": int(np.max(settings.steps)),
        "st_steps_min": int(np.min(settings.steps)),
        "st_omega_tol": config.omega_tolerance,
        "st_rt_tol": config.round_trip_tolerance,
        "st_threshold": config.energy_threshold,
        "st_n_others": _number_word(len(PASSING_SETTINGS)),
    }


def _groups_text(widths: tuple[int, ...], groups: int) -> str:
    """GroupNorm's grouping layer by layer: "32 groups of 1 channel, then 32 groups of 2" ("one channel per
    group: InstanceNorm" where no layer has two)."""
    counts = [models.group_count(w, groups) for w in widths]
    parts = [f"{g} groups of {w // g} channel{'s' if w // g > 1 else ''}" for w, g in zip(widths, counts)]
    text = ", then ".join(dict.fromkeys(parts))
    if all(w == g for w, g in zip(widths, counts)):
        return text + " (InstanceNorm: the width allows no more than one channel per group)"
    if any(w == g for w, g in zip(widths, counts)):
        return text + " (a group of one channel is InstanceNorm)"
    return text


def _settings_reversal_findings(settings: SettingsResult, config: SettingsConfig,
                                control: SettingsResult | None = None) -> dict[str, float | int | str]:
    """``st_*`` of the round trip and Ω in the paper's settings, and findings (a) and (b) as the verdict page's
    rows decide them (``claim_probes_pass*``, ``claim_batchnorm_fails*``, with ``control`` the positive
    control's Result), and ``rc_*``: the positive control's ΔNEGdt and exact return against frozen BatchNorm.

    The sentence on "the other settings" covers all of :data:`PASSING_SETTINGS`, whose worst error it quotes."""
    from uniq_core.experiments import verdicts

    names = list(settings.settings)
    batch = names.index("batch")
    with np.errstate(invalid="ignore"):  # diverged runs (NaN) are counted apart, not as failed probes
        batch_fails = bool(((settings.round_trip[:, batch] >= config.round_trip_tolerance)
                            | (settings.omega[:, batch] >= config.omega_tolerance)).any())

    def pass_both(columns: list[int]) -> bool:
        with np.errstate(invalid="ignore"):
            return not bool(((settings.round_trip[:, columns] >= config.round_trip_tolerance)
                             | (settings.omega[:, columns] >= config.omega_tolerance)).any())

    passing = [names.index(n) for n in PASSING_SETTINGS if n in names]
    return {
        "st_omega_max": float(np.nanmax(settings.omega)),
        "st_omega_holds": "holds" if np.nanmax(settings.omega) < config.omega_tolerance else "does not hold",
        "st_rt_batch": float(np.nanmax(settings.round_trip[:, [batch]])),
        "st_rt_others": float(np.nanmax(settings.round_trip[:, passing])),
        **verdicts.claim_findings(verdicts.row_probes_pass(settings, config),
                                  verdicts.row_batchnorm_fails(settings, config, control)),
        "st_batch_rt_omega": "fails at least one of" if batch_fails else "passes both of",
        **_negative_dt_findings(settings),
        **_divergence_findings(settings),
        "st_others_rt_omega": "pass both of" if pass_both(passing) else "do not all pass",
        **_control_findings(settings, control),
    }


def _control_findings(settings: SettingsResult, control: SettingsResult | None) -> dict[str, float | int | str]:
    """``rc_*``: the running-statistics force (:data:`RUNNING_BATCH`) against frozen BatchNorm on the same
    network and seeds: the ratio of their ΔNEGdt (geometric mean over seeds) and the exact return error of
    each, at the smallest step size; empty without a control."""
    if control is None:
        return {}
    from uniq_core.experiments import verdicts

    j = int(np.argmin(settings.dts))
    ratio = verdicts.control_excess(settings, control, float(settings.dts[j]))
    frozen = list(settings.settings).index("frozen_batch")
    return {
        "rc_network": NETWORK_NAMES.get(str(control.networks[0]), str(control.networks[0])),
        "rc_ratio": float(np.exp(np.nanmean(ratio))),
        "rc_rt": float(np.nanmedian(control.round_trip[0, 0, j])),
        "rc_rt_frozen": float(np.nanmedian(settings.round_trip[0, frozen, j])),
        "rc_dt": float(settings.dts[j]),
    }


def _shadow_summary(settings: SettingsResult) -> str:
    """What the shadow account shows across networks × settings: all pass alike, or which fail."""
    if settings.passes.all():
        return ("every network × setting passes alike, train-mode BatchNorm included, so the account does not "
                "separate the normalisations")
    failing = [f"{settings.networks[a]} with {settings.settings[b]}" for a, b in zip(*np.nonzero(~settings.passes))]
    return ("it fails for " + ", ".join(failing) + ", where steps are large for the local curvature (the remainder "
            "grows with the step's cube), and passes for the rest")


def _divergence_findings(settings: SettingsResult) -> dict[str, float | int | str]:
    """``st_diverged*``: the runs of the paper's settings that diverged, in total and where."""
    diverged = np.asarray(getattr(settings, "diverged", np.zeros((0,))), dtype=int)
    runs = int(np.asarray(settings.energy_drift).shape[-1])
    cells = [f"{settings.networks[a]}, {settings.settings[b]} at dt = {settings.dts[j]:g} ({diverged[a, b, j]} of {runs})"
             for a, b, j in zip(*np.nonzero(diverged))] if diverged.size else []
    return {"st_diverged": int(diverged.sum()), "st_runs": int(np.asarray(settings.energy_drift).size),
            "st_diverged_cells": "; ".join(cells) if cells else "none"}


def _negative_dt_findings(settings: SettingsResult) -> dict[str, float | int | str]:
    """``st_neg_*``: the write-up's ΔNEGdt at the smallest step, over every run, and train-mode BatchNorm's
    against the other settings' (geometric means over networks and seeds)."""
    names = list(settings.settings)
    smallest = int(np.argmin(settings.dts))
    negative = np.asarray(settings.negative_dt, dtype=float)[:, :, smallest]
    others = [names.index(n) for n in names if n != "batch"]

    def geometric(values: np.ndarray) -> float:
        values = values[np.isfinite(values) & (values > 0)]
        return float(np.exp(np.mean(np.log(values)))) if values.size else float("nan")

    return {"st_neg_low": _finite_extreme(negative, np.nanmin), "st_neg_high": _finite_extreme(negative, np.nanmax),
            "st_neg_batch": geometric(negative[:, names.index("batch")]), "st_neg_others": geometric(negative[:, others])}


def _acceptance_findings(settings: SettingsResult) -> dict[str, float | int | str]:
    """``st_accept_*``: the write-up's acceptance rates of the energy probe at the smallest step (runs whose D
    stays under the threshold, and steps whose |Σδ| does), over every network × setting."""
    rates = acceptance(settings)
    smallest = int(np.argmin(settings.dts))
    runs = np.asarray(rates["run_rate"])[:, :, smallest]
    steps = np.asarray(rates["step_rate"])[:, :, smallest]
    return {"st_accept_runs_low": _finite_extreme(runs, np.nanmin), "st_accept_runs_high": _finite_extreme(runs, np.nanmax),
            "st_accept_steps_low": _finite_extreme(steps, np.nanmin),
            "st_accept_steps_high": _finite_extreme(steps, np.nanmax)}


def _settings_energy_findings(settings: SettingsResult) -> dict[str, float | int | str]:
    """``st_*`` of the energy accounts in the paper's settings at the smallest step and their slopes in dt."""
    names = list(settings.settings)
    smallest = int(np.argmin(settings.dts))
    drift_small = np.nanmean(settings.energy_drift[:, :, smallest], axis=-1)
    rest_small = np.nanmean(settings.shadow_drift[:, :, smallest], axis=-1)
    return {
        "st_drift_small_min": float(np.nanmin(drift_small)),
        "st_drift_small_max": float(np.nanmax(drift_small)),
        "st_slope_min": float(np.nanmin(settings.energy_slope)),
        "st_slope_max": float(np.nanmax(settings.energy_slope)),
        "st_floor_word": "keeps a floor" if np.nanmin(settings.energy_slope) < FALLING_SLOPE else "falls",
        "st_rest_small_min": float(np.nanmin(rest_small)),
        "st_rest_small_max": float(np.nanmax(rest_small)),
        "st_rest_slope_min": float(np.nanmin(settings.shadow_slope)),
        "st_rest_slope_max": float(np.nanmax(settings.shadow_slope)),
        "st_rest_slope_word": "falls for every setting" if np.nanmin(settings.shadow_slope) > FALLING_SLOPE
        else "does not fall clearly for every setting (slope below 0.5 for some)",
        "st_rest_batch": float(np.nanmax(rest_small[:, names.index("batch")])),
        "st_rest_group": float(np.nanmax(rest_small[:, names.index("group")])),
        **_acceptance_findings(settings),
        "st_n_pass": int(settings.passes.sum()),
        "st_n_total": int(settings.passes.size),
        "st_all_word": _shadow_summary(settings),
    }


def _dose_trend(correlations: np.ndarray) -> dict[str, float | int | str]:
    """``sd_trend_*``: the per-seed rank correlations of the running-statistics drift with the momentum, their
    range over seeds and a two-sided sign test over seeds (a bounded statistic: no t-interval); a trend only
    where at least :data:`~uniq_core.rules.MIN_UNITS` seeds agree in sign at the 5% level."""
    from scipy.stats import binomtest

    from uniq_core import rules

    finite = correlations[np.isfinite(correlations)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (float("nan"), float("nan"))
    positive, negative = int((finite > 0).sum()), int((finite < 0).sum())
    p = float(binomtest(positive, positive + negative).pvalue) if positive + negative else float("nan")
    if finite.size < rules.MIN_UNITS:
        word = f"cannot be judged: {finite.size} seeds, fewer than {rules.MIN_UNITS}"
    elif p < 0.05:
        word = "falls with the momentum" if negative > positive else "rises with the momentum"
    else:
        word = "shows no trend the seeds resolve (the sign test does not reject)"
    return {"sd_trend_mean": float(np.mean(finite)) if finite.size else float("nan"), "sd_trend_low": low,
            "sd_trend_high": high, "sd_trend_seeds": int(finite.size), "sd_trend_p": p,
            "sd_trend_negative": negative, "sd_trend_word": word}


def _dose_findings(dose: SettingsDoseResult, identity: MassIdentityResult) -> dict[str, float | int | str]:
    """``sd_*``, ``mi_*``, finding (c) as the verdict page's row decides it (``claim_dose_response*``), and the
    mass identity: the BN momentum and the mass identity."""
    from uniq_core.experiments import verdicts

    running_mean = np.nanmean(dose.running_energy_drift, axis=1)
    low, high = np.nanmin(running_mean), np.nanmax(running_mean)
    dose_row = verdicts.row_dose_response(dose)
    energy_difference = float(np.nanmax(identity.energy_difference))
    return {
        "sd_spread": float(dose.probe_spread),
        "sd_corr": float(dose.running_correlation),
        **_dose_trend(np.asarray(dose.seed_correlations, dtype=float)),
        "sd_running_low": float(low),
        "sd_running_high": float(high),
        "sd_momenta": _joined(dose.bn_momenta, "g"),
        "sd_momentum_low": float(np.min(dose.bn_momenta)),
        "sd_momentum_high": float(np.max(dose.bn_momenta)),
        "sd_n_momenta": int(len(dose.bn_momenta)),
        "sd_source": ("The probes do not read the running statistics, so they cannot show a dose-response; any "
                      "response lies in how an energy is defined, not in the dynamics."
                      if dose_row.rule == "instrument_rule" else
                      "The probes themselves respond to the momentum." if dose_row.verdict == verdicts.HOLDS else
                      "The probes change by less than the threshold as the momentum varies."),
        **verdicts.claim_findings(dose_row),
        "mi_energy": energy_difference,
        "mi_parameters": float(np.nanmax(identity.parameter_difference)),
        "mi_factor": _joined(identity.factors, "g"),
        "mi_identity_word": ("is an identity of the map" if energy_difference < MASS_IDENTITY_TOLERANCE
                             else "is not an identity of the map"),
    }


def _noether_findings(noether: NoetherResult, config: NoetherConfig) -> dict[str, float | int | str]:
    """``no_*``: the change of the ReLU rescaling charges and of the softmax column sums per method."""
    modes = list(noether.modes)
    order = {mode: float(noether.order[modes.index(mode)]) for mode in modes}
    smallest = int(np.argmin(noether.time_steps))
    change = {mode: np.nanmean(noether.charge_change[modes.index(mode), smallest]) for mode in modes}

    def vanish(value: float) -> str:
        return "vanishes" if value > VANISHING_ORDER else "does not vanish"

    return {
        "no_widths": _joined((64, *config.widths, 10), "d", "–"),
        "no_horizon": config.horizon,
        "no_beta": config.beta,
        "no_friction": config.friction,
        "no_seeds": config.n_seeds,
        "no_step_min": float(np.min(noether.time_steps)),
        "no_step_max": float(np.max(noether.time_steps)),
        "no_order_gd": order["gradient_descent"],
        "no_order_beta": order["heavy_ball_fixed_beta"],
        "no_order_friction": order["heavy_ball_fixed_friction"],
        "no_identity": float(noether.step_identity_error),
        "no_columns": float(np.nanmax(noether.column_sum_change)),
        "no_word_gd": vanish(order["gradient_descent"]),
        "no_word_beta": vanish(order["heavy_ball_fixed_beta"]),
        "no_word_friction": vanish(order["heavy_ball_fixed_friction"]),
        "no_change_gd_small": float(change["gradient_descent"]),
        "no_change_beta_small": float(change["heavy_ball_fixed_beta"]),
        "no_change_friction_small": float(change["heavy_ball_fixed_friction"]),
        "no_ratio_beta": float(change["heavy_ball_fixed_beta"] / change["gradient_descent"]),
    }


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 4 glues, by glue name.

    ``results``: ``"probes"`` (:class:`ProbeResult`), ``"dt_sweep"`` and ``"dt_sweep_smooth"``
    (:class:`DtSweepResult`, ReLU and Softplus), ``"oscillator"``
    (:func:`uniq_core.probes.oscillator_energies` at the probes' dt), ``"damping"`` (:class:`DampingResult`),
    ``"mass"`` and ``"mass_resnet"`` (:class:`MassResult`), ``"settings"`` (:class:`SettingsResult`),
    ``"settings_dose"`` (:class:`SettingsDoseResult`), ``"mass_identity"`` (:class:`MassIdentityResult`),
    ``"noether"`` (:class:`NoetherResult`), ``"settings_control"`` (:class:`SettingsResult` of
    :func:`control_config`, the positive control of finding (b)); optionally ``"toy"``, the pair of :func:`toy_drifts`, and
    ``"theory"``, :func:`theory_known_answer` (each computed when absent). ``configs``: ``"probes"`` (:class:`ProbeConfig`), ``"mass"`` (:class:`MassConfig`),
    ``"settings"`` (:class:`SettingsConfig`), ``"noether"`` (:class:`NoetherConfig`).
    """
    probe_result, probe_config = results["probes"], configs["probes"]
    switching, fixed = results["toy"] if "toy" in results else toy_drifts()
    return {
        **_toy_findings(np.asarray(switching), np.asarray(fixed)),
        **_probe_settings_findings(probe_result, probe_config),
        **_probe_energy_findings(probe_result, probe_config),
        **_sweep_findings(results["dt_sweep"], results["oscillator"], probe_config.dt, results["dt_sweep_smooth"]),
        **_damping_findings(results["damping"]),
        **_mass_findings(results["mass"], results["mass_resnet"], configs["mass"]),
        **_theory_findings(probe_result, probe_config, results["mass"], results["mass_resnet"],
                           results["theory"] if "theory" in results else theory_known_answer()),
        "verdict_headline": _headline(probe_result),
        **_settings_setup_findings(results["settings"], configs["settings"]),
        **_settings_reversal_findings(results["settings"], configs["settings"], results.get("settings_control")),
        **_settings_energy_findings(results["settings"]),
        **_dose_findings(results["settings_dose"], results["mass_identity"]),
        **_noether_findings(results["noether"], configs["noether"]),
    }
