"""Introduction: train K perturbed copies of one network and measure how far apart they drift.

Beside the deliberate perturbation, :func:`run_reproducibility` measures what breaks bitwise
reproducibility without any perturbation: the same run repeated (deterministic re-execution), in float64
instead of float32, with the gradient accumulated over two half-batches (another reduction order), and with
another number of threads.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Mapping

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
    device: str = "auto"

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
        check_choice("device", self.device, runtime.DEVICES)

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


# --------------------------------------------------------------------------------- reproducibility


@dataclass(frozen=True)
class ReproducibilityConfig(Config):
    """The unperturbed reference run of a :class:`Config`, repeated with changes that are not perturbations.

    ``threads`` is the thread count of the "threads" variant (every other run uses one thread).
    """

    threads: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        check_number("threads", self.threads, low=2, high=256, integer=True)

    @classmethod
    def of(cls, config: Config, **changes) -> "ReproducibilityConfig":
        """The reproducibility measurement that goes with the divergence run ``config``."""
        return cls(**(config.to_dict() | changes))


VARIANTS = ("re-run", "float64", "two half-batches", "threads")
"""What changes against the float32 reference: nothing; the floating-point type; the reduction order of
the gradient (two half-batch means averaged); the thread count of the CPU kernels."""


@dataclass
class ReproducibilityResult(ResultBase):
    """Distances of unperturbed re-runs from the float32 reference run, over training.

    ``distance`` (V, T): ‖θ_variant(t) − θ_reference(t)‖ (computed in float64) for the variants of
    ``VARIANTS`` (names joined by "|" in ``variants``); ``bitwise_identical`` (V,): whether every recorded
    parameter agrees bit for bit; ``first_difference_step`` (V,): first recorded step at which it does not
    (−1 when never); ``reference_norm`` (T,): ‖θ_reference(t)‖; ``steps``/``epochs`` (T,).

    The float64 difference receives a new rounding error at every step, so its growth mixes build-up with
    amplification. ``control_distance`` (T,) separates them: one perturbation, of the size the float64
    difference has after its first differing step (``control_size``), applied at step 0 in a random
    direction and trained in float64 on both sides, so that nothing is added after step 0; its distance
    from the float64 run grows by amplification alone (``control_growth`` = final / initial distance).
    """

    steps: np.ndarray
    epochs: np.ndarray
    variants: str
    distance: np.ndarray
    bitwise_identical: np.ndarray
    first_difference_step: np.ndarray
    reference_norm: np.ndarray
    wall_time: float
    control_distance: np.ndarray
    control_size: float
    control_growth: float

    @property
    def names(self) -> list[str]:
        return self.variants.split("|")


def train_single(
    model: torch.nn.Module,
    dataset: data.Dataset,
    plan: torch.Tensor,
    *,
    lr: float,
    momentum: float,
    dtype: torch.dtype = torch.float32,
    n_chunks: int = 1,
) -> np.ndarray:
    """Parameters (float64, T × P) after every step of plain minibatch SGD with heavy-ball momentum.

    The update is the engine's (``v ← βv + g``, ``θ ← θ − ηv``, :mod:`uniq_core.replicas`), on the batches
    of ``plan`` (steps × batch). With ``n_chunks`` > 1 each batch's mean gradient is accumulated as the
    average of the mean gradients of ``n_chunks`` equal chunks: the same number in exact arithmetic, a
    different order of floating-point sums.
    """
    network = copy.deepcopy(model).to(dtype)
    parameters = list(network.parameters())
    velocity = [torch.zeros_like(p) for p in parameters]
    x_train, y_train = dataset.x_train.to(dtype), dataset.y_train
    history = [torch.nn.utils.parameters_to_vector(parameters).detach().double().clone()]
    for index in plan:
        grads = [torch.zeros_like(p) for p in parameters]
        for chunk in index.chunk(n_chunks):
            log_probabilities = torch.log_softmax(network(x_train[chunk]), dim=-1)
            loss = -log_probabilities.gather(-1, y_train[chunk].unsqueeze(-1)).mean()
            for total, g in zip(grads, torch.autograd.grad(loss, parameters)):
                total.add_(g)
        with torch.no_grad():
            for p, v, g in zip(parameters, velocity, grads):
                if n_chunks > 1:
                    g.div_(n_chunks)
                if momentum:
                    v.mul_(momentum).add_(g)
                    g = v
                p.sub_(lr * g)
        history.append(torch.nn.utils.parameters_to_vector(parameters).detach().double().clone())
    return torch.stack(history).numpy()


def run_reproducibility(config: Config, *, progress: bool = True, use_cache: bool = True,
                        threads: int | None = None) -> ReproducibilityResult:
    """Train the unperturbed reference of ``config`` (CPU, float32, one thread) and its variants of
    ``VARIANTS``; measure each one's distance from the reference at every step. ``threads`` defaults to
    :attr:`ReproducibilityConfig.threads`."""
    import time

    key = ReproducibilityConfig.of(config) if threads is None else ReproducibilityConfig.of(config, threads=threads)

    def compute() -> ReproducibilityResult:
        started = time.perf_counter()
        dataset = data.load(config.dataset, seed=config.seed, device="cpu")
        runtime.seed_everything(config.seed)
        model = models.MLP(dataset.n_features, config.widths, dataset.n_classes, config.activation)
        per_epoch = dataset.x_train.shape[0] // config.batch_size
        n_steps = replicas.steps_for_epochs(dataset.x_train.shape[0], config.batch_size, config.epochs)
        plan = replicas.make_batch_plan(dataset.x_train.shape[0], config.batch_size, n_steps, seed=config.seed)[0]
        settings: dict[str, dict] = {
            "reference": {}, "re-run": {}, "float64": {"dtype": torch.float64},
            "two half-batches": {"n_chunks": 2}, "threads": {},
        }
        saved_threads = torch.get_num_threads()
        runs: dict[str, np.ndarray] = {}
        try:
            for name in runtime.progress_bar(list(settings), "reproducibility", progress):
                torch.set_num_threads(key.threads if name == "threads" else 1)
                runs[name] = train_single(model, dataset, plan, lr=config.lr, momentum=config.momentum,
                                          **settings[name])
        finally:
            torch.set_num_threads(saved_threads)
        # the single-perturbation control: float64 on both sides, one perturbation at step 0
        float64_difference = np.linalg.norm(runs["float64"] - runs["reference"], axis=1)
        first_float64 = int(np.argmax(float64_difference > 0)) if (float64_difference > 0).any() else 0
        size = float(float64_difference[first_float64]) or float(np.finfo(np.float32).eps * np.linalg.norm(runs["reference"][0]))
        direction = torch.randn(runs["reference"].shape[1], generator=torch.Generator().manual_seed(config.seed + 1),
                                dtype=torch.float64)
        perturbed = copy.deepcopy(model).double()
        torch.nn.utils.vector_to_parameters(
            torch.nn.utils.parameters_to_vector(perturbed.parameters()).detach() + size * direction / direction.norm(),
            perturbed.parameters())
        torch.set_num_threads(1)
        try:
            control = train_single(perturbed, dataset, plan, lr=config.lr, momentum=config.momentum, dtype=torch.float64)
        finally:
            torch.set_num_threads(saved_threads)
        control_distance = np.linalg.norm(control - runs["float64"], axis=1)
        reference = runs.pop("reference")
        distance = np.stack([np.linalg.norm(runs[name] - reference, axis=1) for name in VARIANTS])
        identical = np.array([np.array_equal(runs[name], reference) for name in VARIANTS])
        first = np.array([int(np.argmax(d > 0)) if (d > 0).any() else -1 for d in distance])
        steps = np.arange(n_steps + 1)
        return ReproducibilityResult(
            steps=steps, epochs=steps / per_epoch, variants="|".join(VARIANTS), distance=distance,
            bitwise_identical=identical, first_difference_step=first,
            reference_norm=np.linalg.norm(reference, axis=1), wall_time=time.perf_counter() - started,
            control_distance=control_distance, control_size=size,
            control_growth=float(control_distance[-1] / control_distance[0]),
        )

    return runtime.cached(compute, key, ReproducibilityResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------------ findings

#: The float64 difference is called mostly build-up of new rounding errors (rather than amplification)
#: when it grew more than this many times as much as the single rounding-size perturbation (the control).
BUILDUP_RATIO_THRESHOLD = 2.0

#: The variants whose distance from the reference the introduction reports, with their glue-name keys.
REPORTED_VARIANTS = (("float64", "float64"), ("two half-batches", "halves"), ("threads", "threads"))


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word the introduction glues, by glue name.

    ``results``: ``"divergence"`` (:class:`Result` of :func:`run`) and ``"reproducibility"``
    (:class:`ReproducibilityResult` of :func:`run_reproducibility` on the same config); ``configs``:
    ``"divergence"`` (the :class:`Config` of both). The ``demo_*`` names describe the perturbed replicas, the
    ``repro_*`` names the unperturbed re-runs measured against them.
    """
    result, reproducibility = results["divergence"], results["reproducibility"]
    config = configs["divergence"]
    perturbed_final = _geometric_mean_distance(result, -1)
    said = _demo_findings(result, config)
    said |= _rerun_findings(reproducibility)
    said |= _head_start_findings(result, reproducibility, perturbed_final)
    for name, key in REPORTED_VARIANTS:
        said |= _variant_findings(reproducibility, name, key, perturbed_final)
    said["repro_threads"] = ReproducibilityConfig.of(config).threads
    said |= _rounding_control_findings(result, reproducibility, perturbed_final)
    return said


def _geometric_mean_distance(result: Result, index: int) -> float:
    """Geometric mean over the perturbed replicas of their distance from the reference at record ``index``."""
    return float(np.exp(np.nanmean(np.log(result.distance[1:, index]))))


def _demo_findings(result: Result, config: Config) -> dict[str, float | int | str]:
    """The ``demo_*`` names: perturbation, growth with its interval, divergences and test accuracies."""
    healthy = result.test_accuracy[np.isfinite(result.test_accuracy)]
    grew = result.growth_geometric_mean > 1
    return {
        "demo_perturbation": float(config.perturbation),
        "demo_replicas": config.n_replicas - 1,
        "demo_epochs": float(config.epochs),
        "demo_growth": float(result.growth_geometric_mean),
        "demo_growth_low": float(result.growth_interval[0]),
        "demo_growth_high": float(result.growth_interval[1]),
        "demo_diverged": int(result.n_diverged),
        "demo_accuracy_spread": float(100 * (healthy.max() - healthy.min())) if healthy.size else float("nan"),
        "demo_accuracy_mean": float(100 * healthy.mean()) if healthy.size else float("nan"),
        "demo_farther": "farther from" if grew else "closer to",
        "demo_grew": "The perturbation grew" if grew else "The perturbation shrank",
    }


def _rerun_findings(reproducibility: ReproducibilityResult) -> dict[str, float | int | str]:
    """The words on plain re-execution: whether the same run repeated reproduced every bit."""
    identical = bool(reproducibility.bitwise_identical[reproducibility.names.index("re-run")])
    return {
        "repro_steps": int(reproducibility.steps[-1]),
        "repro_rerun": "reproduced every bit of the parameters at every one of the" if identical
        else "did not reproduce the parameters bit for bit over the",
        "repro_heading": "Re-execution is reproducible; rounding is a perturbation." if identical
        else "Even re-execution is not reproducible here.",
        "repro_determinism": "determinism is not what fails" if identical else "here even determinism fails",
    }


def _head_start_findings(result: Result, reproducibility: ReproducibilityResult,
                         perturbed_final: float) -> dict[str, float | int | str]:
    """How many times larger the deliberate perturbation started than the float64 difference, and its end."""
    float64 = reproducibility.names.index("float64")
    first = max(int(reproducibility.first_difference_step[float64]), 0)
    start = reproducibility.distance[float64, first]
    perturbed_start = _geometric_mean_distance(result, 0)
    return {
        "repro_float64_head_start": float(perturbed_start / start) if start > 0 else float("inf"),
        "repro_perturbed_final": perturbed_final,
    }


def _variant_findings(reproducibility: ReproducibilityResult, name: str, key: str,
                      perturbed_final: float) -> dict[str, float | int | str]:
    """The ``repro_<key>_*`` names of one variant: when it changed the bits, by how much, and how it grew."""
    row = reproducibility.names.index(name)
    distance = reproducibility.distance[row]
    first = int(reproducibility.first_difference_step[row])
    said: dict[str, float | int | str] = {
        f"repro_{key}_changed": "did not change" if reproducibility.bitwise_identical[row] else "changed",
        f"repro_{key}_first": first if first >= 0 else float("nan"),
        f"repro_{key}_start": float(distance[first] / reproducibility.reference_norm[first]) if first >= 0 else 0.0,
        f"repro_{key}_final": float(distance[-1]),
        f"repro_{key}_below": float(perturbed_final / distance[-1]) if distance[-1] > 0 else float("inf"),
        f"repro_{key}_growth": float(distance[-1] / distance[first]) if first >= 0 else float("nan"),
    }
    if key != "float64":
        said[f"repro_{key}_clause"] = ("bit for bit the same at every step" if first < 0
                                       else f"growing {distance[-1] / distance[first]:.0f}-fold")
    return said


def _rounding_control_findings(result: Result, reproducibility: ReproducibilityResult,
                               perturbed_final: float) -> dict[str, float | int | str]:
    """The single rounding-size perturbation against the float64 difference and the deliberate perturbation."""
    float64 = reproducibility.names.index("float64")
    first = int(reproducibility.first_difference_step[float64])
    distance = reproducibility.distance[float64]
    float64_growth = float(distance[-1] / distance[first]) if first >= 0 else float("nan")
    buildup_ratio = float64_growth / reproducibility.control_growth
    return {
        "repro_control_size": float(reproducibility.control_size),
        "repro_control_growth": float(reproducibility.control_growth),
        "repro_buildup_ratio": float(buildup_ratio),
        "repro_buildup_word": "most of it is the build-up of new rounding errors, not amplification"
        if buildup_ratio > BUILDUP_RATIO_THRESHOLD else "most of it is amplification",
        "repro_control_compare": "less" if reproducibility.control_growth < result.growth_geometric_mean else "more",
        "repro_still": "still" if perturbed_final > distance[-1] else "only",
    }
