"""Chapter 5: singular information geometry of trained networks.

Three measurements. (1) At random initialisation, on random inputs: the measured null dimension of the
pullback metric against the dimension of the architecture's continuous symmetries, for several MLPs
(:func:`run_null_check`). (2) Along real training on the digits: the spectrum of the Fisher metric on a
fixed probe set, its null dimension against the symmetries plus the data limit, and three effective ranks
(:func:`run_fisher`), with MacKay's count over a sweep of prior precisions, the empirical Fisher at the
observed labels, dead units, and principal angles between the null subspaces of successive checkpoints. (3) Per hidden layer of a deeper MLP, before and after training: the rank and
participation ratio of the metric the output distribution induces on the layer's activations
(:func:`run_representations`). :func:`run_fisher_sweep` repeats (2) over architectures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from uniq_core import data, fisher, models, replicas, runtime, stats
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_numbers, check_widths


def _rank(matrix: np.ndarray) -> int:
    """Rank of a symmetric positive semi-definite matrix, read at its spectrum's null gap."""
    values = np.linalg.eigvalsh((matrix + matrix.T) / 2)
    return len(values) - fisher.gap_null_dimension(values)


def _check_architectures(architectures, high: int) -> None:
    if len(architectures) == 0:
        raise ValueError("architectures=() is empty; give at least one (activation, widths) pair")
    for activation, widths in architectures:
        check_choice("architectures", activation, models.ACTIVATIONS)
        check_widths("architectures", tuple(widths), high=high)


def _check_training(config) -> None:
    """Validation shared by the trained-network configs."""
    check_choice("dataset", config.dataset, data.DATASETS)
    check_number("n_train", config.n_train, low=64, high=5000, integer=True)
    check_widths("widths", config.widths, high=1024)
    check_choice("activation", config.activation, models.ACTIVATIONS)
    check_number("lr", config.lr, low=0.0, high=10.0, low_inclusive=False)
    check_number("epochs", config.epochs, low=1, high=1000, integer=True)
    check_number("batch_size", config.batch_size, low=1, high=config.n_train, integer=True)
    check_number("probe_size", config.probe_size, low=1, high=config.n_train, integer=True)
    check_choice("output", config.output, fisher.OUTPUTS)
    check_number("n_seeds", config.n_seeds, low=1, high=50, integer=True)
    check_number("seed", config.seed, low=0, integer=True)
    check_choice("device", config.device, runtime.DEVICES)


def expected_null_dimension(model: models.MLP, n_inputs: int, output: str) -> int:
    """Symmetries plus the data limit: N inputs show at most N·K directions (N·(K − 1) for softmax),
    so at least P − min(N·K_eff, P − symmetries) directions are null."""
    size = sum(p.numel() for p in model.parameters())
    classes = [m for m in model if isinstance(m, torch.nn.Linear)][-1].out_features
    visible = n_inputs * (classes - 1 if output == "softmax" else classes)
    return size - min(visible, size - fisher.predicted_null_dimension(model, output=output))


# ----------------------------------------------------------------------------------------- null check


#: MacKay's prior on the planted spectra, as a fraction of the largest eigenvalue (as on the digits).
PLANTED_PRIOR = 1e-3


@dataclass(frozen=True)
class NullCheckConfig(ConfigBase):
    """MLPs ``architectures`` (activation, widths) with ``d_in`` inputs and ``d_out`` outputs, at random
    initialisation, on ``n_inputs`` standard normal inputs."""

    architectures: tuple[tuple[str, tuple[int, ...]], ...] = (
        ("relu", (8,)), ("relu", (16,)), ("tanh", (8,)), ("tanh", (6, 5)), ("gelu", (8,)),
        ("linear", (8,)), ("linear", (6, 5)),
    )
    d_in: int = 4
    d_out: int = 3
    n_inputs: int = 300
    rtol: float = 1e-9
    seed: int = 0
    planted_k: int = 5
    planted_dim: int = 32
    planted_tails: tuple[float, ...] = (1e-6, 1e-4, 1e-2)

    def __post_init__(self) -> None:
        _check_architectures(self.architectures, high=256)
        check_number("planted_k", self.planted_k, low=1, high=self.planted_dim - 1, integer=True)
        check_number("planted_dim", self.planted_dim, low=2, high=256, integer=True)
        check_numbers("planted_tails", self.planted_tails, low=0.0, high=1.0, low_inclusive=False)
        check_number("d_in", self.d_in, low=1, high=64, integer=True)
        check_number("d_out", self.d_out, low=2, high=64, integer=True)
        check_number("n_inputs", self.n_inputs, low=1, high=100_000, integer=True)
        check_number("rtol", self.rtol, low=0.0, high=1.0, low_inclusive=False)
        check_number("seed", self.seed, low=0, integer=True)

    @classmethod
    def quick(cls) -> "NullCheckConfig":
        return cls()

    @classmethod
    def full(cls) -> "NullCheckConfig":
        return cls()


@dataclass
class NullCheckResult(ResultBase):
    """Per architecture (``labels``) and output metric (columns: logits, softmax): ``parameters``,
    ``predicted`` and ``measured`` null dimensions (−1 where no prediction exists), and ``gap``: the ratio
    of the smallest eigenvalue kept to the largest one counted as null (a clear gap is ≫ 1).

    A dying unit, on the first ReLU network with one hidden layer (logits metric): ``death_jump``, the
    change of the null dimension when its first hidden unit is killed (bias −100), ``death_expected`` =
    d_in + K (its incoming weights and bias and its outgoing weights, less its rescaling), and
    ``death_angle``: the largest principal angle (degrees) between the null space before and the one after
    (0 when the old null space stays inside the new one); NaN when there is no such network.

    Planted effective rank (:func:`planted_rank_spectrum`): ``planted_count`` = K(k + 1) equal eigenvalues
    and ``planted_tail_count`` = K(dim − k) at the tail level, and per tail level of ``planted_tails`` the three measures ``planted_participation``,
    ``planted_entropy``, ``planted_mackay`` (prior 1e-3 × λ_max, as on the digits)."""

    labels: np.ndarray
    parameters: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    gap: np.ndarray
    death_jump: float
    death_expected: float
    death_angle: float
    planted_count: int
    planted_tail_count: int
    planted_tails: np.ndarray
    planted_participation: np.ndarray
    planted_entropy: np.ndarray
    planted_mackay: np.ndarray


def planted_rank_spectrum(k: int, dim: int, tail: float, *, classes: int = 3, n_inputs: int = 200,
                          seed: int = 0) -> np.ndarray:
    """Logits-metric Fisher spectrum of a linear softmax-free model Linear(dim, classes) on inputs built so that
    Σ_n [x_n, 1][x_n, 1]ᵀ has exactly k + 1 eigenvalues N (k input directions of unit variance and the bias)
    and dim − k eigenvalues N·tail: F = I_K ⊗ Σ_n [x_n, 1][x_n, 1]ᵀ then has K(k + 1) equal large
    eigenvalues and K(dim − k) at ``tail`` × λ_max. A known answer for effective ranks: K(k + 1) directions."""
    generator = torch.Generator().manual_seed(seed)
    raw = torch.randn(n_inputs, dim, dtype=torch.float64, generator=generator)
    raw = raw - raw.mean(0)  # columns orthogonal to the bias column
    basis, _ = torch.linalg.qr(raw)
    rotation, _ = torch.linalg.qr(torch.randn(dim, dim, dtype=torch.float64, generator=generator))
    scales = torch.cat([torch.ones(k, dtype=torch.float64), torch.full((dim - k,), tail**0.5, dtype=torch.float64)])
    x = n_inputs**0.5 * (basis * scales) @ rotation.T
    model = torch.nn.Sequential(torch.nn.Linear(dim, classes)).double()
    return fisher.fisher_spectrum(model, x, output="logits")


def run_null_check(config: NullCheckConfig, *, progress: bool = True, use_cache: bool = True) -> NullCheckResult:
    """Measured against predicted null dimensions at random initialisation."""

    def compute() -> NullCheckResult:
        x = torch.randn(config.n_inputs, config.d_in, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(config.seed))
        shape = (len(config.architectures), 2)
        predicted, measured, gap = np.full(shape, -1), np.zeros(shape, dtype=int), np.zeros(shape)
        labels, parameters = [], []
        for i, (activation, widths) in enumerate(runtime.progress_bar(config.architectures, "architectures", progress)):
            torch.manual_seed(config.seed + i)
            model = models.MLP(config.d_in, tuple(widths), config.d_out, activation).double()
            labels.append(f"{activation} {config.d_in}-{'-'.join(map(str, widths))}-{config.d_out}")
            parameters.append(sum(p.numel() for p in model.parameters()))
            for j, output in enumerate(fisher.OUTPUTS):
                spectrum = fisher.fisher_spectrum(model, x, output=output)
                null = spectrum <= config.rtol * spectrum[0]
                measured[i, j] = int(null.sum())
                kept, dropped = spectrum[~null], spectrum[null]
                gap[i, j] = kept.min() / max(dropped.max(), 1e-300) if null.any() and (~null).any() else np.inf
                try:
                    predicted[i, j] = fisher.predicted_null_dimension(model, output=output)
                except NotImplementedError:
                    pass
        jump = expected = angle = np.nan
        for i, (activation, widths) in enumerate(config.architectures):
            if activation == "relu" and len(widths) == 1:
                torch.manual_seed(config.seed + i)
                model = models.MLP(config.d_in, tuple(widths), config.d_out, activation).double()
                before, _ = fisher.null_space(model, x)
                with torch.no_grad():
                    model[1].bias[0] = -100.0
                after, _ = fisher.null_space(model, x)
                jump, expected = float(after.shape[1] - before.shape[1]), float(config.d_in + config.d_out)
                angles = fisher.principal_angles(before, after)
                angle = float(np.degrees(angles.max())) if len(angles) else 0.0
                break
        planted = [planted_rank_spectrum(config.planted_k, config.planted_dim, tail, classes=config.d_out,
                                         seed=config.seed) for tail in config.planted_tails]
        return NullCheckResult(labels=np.array(labels), parameters=np.array(parameters), predicted=predicted,
                               measured=measured, gap=gap, death_jump=jump, death_expected=expected,
                               death_angle=angle, planted_count=config.d_out * (config.planted_k + 1),
                               planted_tail_count=config.d_out * (config.planted_dim - config.planted_k),
                               planted_tails=np.array(config.planted_tails),
                               planted_participation=np.array([fisher.effective_rank(v) for v in planted]),
                               planted_entropy=np.array([fisher.effective_rank(v, "entropy") for v in planted]),
                               planted_mackay=np.array([fisher.effective_rank(v, "mackay", prior=PLANTED_PRIOR * v[0])
                                                        for v in planted]))

    return runtime.cached(compute, config, NullCheckResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------ along training


@dataclass(frozen=True)
class FisherConfig(ConfigBase):
    """An MLP trained with SGD on ``dataset``; at ``checkpoints`` evenly spaced steps, the pullback metric
    on ``probe_size`` training inputs with the ``output`` metric; over ``n_seeds`` seeds. The network trains
    on ``device``; the metric's float64 linear algebra (spectra read at their null gap near ε²·λ_max) runs
    on the CPU, so a null-dimension count does not depend on a device's linear-algebra library."""

    dataset: str = "digits"
    n_train: int = 1000
    widths: tuple[int, ...] = (32,)
    activation: str = "relu"
    lr: float = 0.1
    epochs: int = 20
    batch_size: int = 64
    probe_size: int = 300
    output: str = "softmax"
    checkpoints: int = 6
    n_seeds: int = 3
    seed: int = 0
    priors: tuple[float, ...] = tuple(10.0**k for k in range(-6, 5))
    tracked_seeds: int = 1
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_training(self)
        check_number("checkpoints", self.checkpoints, low=2, high=100, integer=True)
        check_numbers("priors", self.priors, low=0.0, high=1e12, low_inclusive=False)
        check_number("tracked_seeds", self.tracked_seeds, low=0, high=self.n_seeds, integer=True)

    @classmethod
    def quick(cls) -> "FisherConfig":
        return cls()

    @classmethod
    def standard(cls) -> "FisherConfig":
        """Eight seeds, the null subspace tracked along training on five of them."""
        return cls(n_seeds=8, tracked_seeds=5)

    @classmethod
    def full(cls) -> "FisherConfig":
        return cls(n_train=1347, widths=(64,), epochs=60, probe_size=600, checkpoints=12, n_seeds=5, tracked_seeds=5)


@dataclass
class FisherResult(ResultBase):
    """``steps`` (C,); per seed × checkpoint: ``null_dimension`` (measured at the spectrum's null gap,
    :func:`uniq_core.fisher.gap_null_dimension` with the floor of the spectrum's method), ``explained_null``
    (symmetries plus the directions the probe inputs leave unseen, :func:`uniq_core.fisher.data_null_dimension`), ``participation``,
    ``entropy_rank``, ``mackay`` (prior = 1e-3 × the top eigenvalue), ``top_eigenvalue``,
    ``train_accuracy``; ``null_gap`` (:func:`uniq_core.fisher.null_gap_ratio` at that count) and
    ``null_by_rtol`` (seeds × C × len(``rtols``): the fixed-tolerance counts); ``explained_null_data``: the
    same explained count with every training input in place of the probe (``n_train`` of them);
    ``constant_probe`` and ``constant_data``: input features constant on the probe and on the training set;
    ``spectra`` (seeds × C × P) normalised by each top eigenvalue; ``parameters``,
    ``predicted_null`` (symmetries) and ``expected_null`` (symmetries and the data limit).

    ``dead_units``: ReLU units active on no probe input. ``mackay_curve`` (seeds × C × len(priors)):
    Σ λ/(λ + α) of F / N (the metric per probe input) for each prior precision α of ``priors``. Empirical Fisher with the observed labels
    (:func:`uniq_core.fisher.empirical_fisher_spectrum`): ``empirical_trace_ratio`` (tr F_emp / tr F),
    ``empirical_participation``, ``empirical_top_ratio`` (λ_max(F_emp) / λ_max(F)). For the first
    ``tracked_seeds`` seeds, the null subspace against the previous checkpoint's (NaN at the first one and
    for other seeds): ``null_largest_angle`` (degrees) and ``null_overlap`` (Σ cos² θ / min(d, d'), 1 for
    nested subspaces) with ``null_overlap_chance`` (max(d, d') / P, its mean for random subspaces), and
    ``null_angles_moved``: how many principal angles exceed ``MOVED_DEGREES``, with its baseline
    ``symmetry_angles_moved``: how many principal angles between the symmetry subspaces
    (:func:`uniq_core.fisher.symmetry_basis`) of the same checkpoints do, since the rescaling generators
    follow the parameters, and ``free_angles_moved``: how many principal angles between the symmetry-free
    parts N ⊖ S of the null subspaces (:func:`uniq_core.fisher.complement_within`) do.
    K-FAC's block-diagonal Kronecker approximation of the same metric (:func:`uniq_core.fisher.kfac_spectrum`),
    per seed at the last checkpoint (NaN elsewhere, and for networks wider than :data:`KFAC_MAX_WIDTH`):
    ``kfac_trace_ratio`` and
    ``kfac_top_ratio`` (its trace and top eigenvalue over the exact metric's), ``kfac_participation`` and
    ``kfac_null`` (its null dimension at its gap), with ``block_null``, the null dimension of the exact metric
    with the blocks between layers dropped (:func:`uniq_core.fisher.block_diagonal_spectrum`), and
    ``rescalings``, the network's rescaling symmetries (one per ReLU unit), each coupling two layers."""

    steps: np.ndarray
    null_dimension: np.ndarray
    explained_null: np.ndarray
    participation: np.ndarray
    entropy_rank: np.ndarray
    mackay: np.ndarray
    top_eigenvalue: np.ndarray
    train_accuracy: np.ndarray
    spectra: np.ndarray
    parameters: int
    predicted_null: int
    expected_null: int
    participation_mean: np.ndarray
    participation_interval: np.ndarray
    dead_units: np.ndarray
    priors: np.ndarray
    mackay_curve: np.ndarray
    empirical_trace_ratio: np.ndarray
    empirical_participation: np.ndarray
    empirical_top_ratio: np.ndarray
    null_largest_angle: np.ndarray
    null_overlap: np.ndarray
    null_overlap_chance: np.ndarray
    architecture: str
    null_gap: np.ndarray
    rtols: np.ndarray
    null_by_rtol: np.ndarray
    explained_null_data: np.ndarray
    constant_probe: int
    constant_data: int
    null_angles_moved: np.ndarray
    symmetry_angles_moved: np.ndarray
    free_angles_moved: np.ndarray
    kfac_trace_ratio: np.ndarray
    kfac_top_ratio: np.ndarray
    kfac_participation: np.ndarray
    kfac_null: np.ndarray
    block_null: np.ndarray
    rescalings: int


#: Fixed tolerances at which the trained null dimension is also counted.
RTOLS = (1e-12, 1e-10, 1e-8, 1e-6)
#: K-FAC and the exact block-diagonal metric are compared after training for networks no wider than this.
KFAC_MAX_WIDTH = 128
#: A principal angle between successive null subspaces above this many degrees counts as a moved direction.
MOVED_DEGREES = 10.0


def _constant_features(x: torch.Tensor) -> int:
    flat = x.reshape(x.shape[0], -1)
    return int((flat.max(0).values == flat.min(0).values).sum())


def _train(config, dataset: data.Dataset, seed: int, checkpoint_every: int) -> tuple[models.MLP, replicas.ReplicaRun]:
    runtime.seed_everything(seed)
    model = models.MLP(dataset.n_features, config.widths, dataset.n_classes, config.activation)
    n_steps = config.epochs * (dataset.x_train.shape[0] // config.batch_size)
    record = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0, lr=config.lr, n_steps=n_steps,
                                     batch_size=config.batch_size, seed=seed, checkpoint_every=checkpoint_every,
                                     device=config.device)
    return model, record


def _load(model: models.MLP, theta: np.ndarray) -> models.MLP:
    loaded = models.MLP(model[1].in_features, model.widths, model[-1].out_features, model.activation).double()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(theta, dtype=torch.float64), loaded.parameters())
    return loaded


def _fisher_setting(config: FisherConfig) -> tuple:
    """What every seed of :func:`run_fisher` shares: the data, the probe batch and the checkpoint spacing."""
    dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
    probe = dataset.x_train[: config.probe_size].double()
    n_steps = config.epochs * (dataset.x_train.shape[0] // config.batch_size)
    every = max(1, n_steps // (config.checkpoints - 1))
    labels = dataset.y_train[: config.probe_size]
    priors = np.array(config.priors, dtype=np.float64)
    keys = ("null_dimension", "explained_null", "participation", "entropy_rank", "mackay", "top_eigenvalue",
            "train_accuracy", "spectra", "dead_units", "mackay_curve", "empirical_trace_ratio",
            "empirical_participation", "empirical_top_ratio", "null_largest_angle", "null_overlap",
            "null_overlap_chance", "null_gap", "null_by_rtol", "explained_null_data", "null_angles_moved",
            "symmetry_angles_moved", "free_angles_moved", "kfac_trace_ratio", "kfac_top_ratio", "kfac_participation", "kfac_null",
            "block_null")
    everything = dataset.x_train.double()
    return dataset, probe, every, labels, priors, keys, everything


def _fisher_unit(config: FisherConfig, job: tuple[int, int]) -> tuple[dict[str, list], Any, Any]:
    """Seed ``job = (index, seed)`` of :func:`run_fisher`: its training and the metric at every checkpoint
    (the run seeds itself); returns the row, the training record and the model."""
    index, seed = job
    dataset, probe, every, labels, priors, keys, everything = _fisher_setting(config)
    model, record = _train(config, dataset, seed, every)
    row: dict[str, list] = {key: [] for key in keys}
    previous = None
    last = len(record.checkpoints) - 1
    for position, theta in enumerate(record.checkpoints[:, 0]):
        network = _load(model, theta)
        if not np.isfinite(theta).all():
            for key in row:
                row[key].append({"spectra": np.full(len(theta), np.nan), "null_by_rtol": np.full(len(RTOLS), np.nan),
                                 "mackay_curve": np.full(len(priors), np.nan)}.get(key, np.nan))
            previous = None
            continue
        if index < config.tracked_seeds:
            basis, spectrum = fisher.null_space(network, probe, output=config.output)
            symmetric = (fisher.symmetry_basis(network, output=config.output)
                         if config.activation != "linear" else None)  # GL(n) directions are not listed
            free = None if symmetric is None else fisher.complement_within(basis, symmetric)
            if previous is None:
                angle = overlap = chance = moved = symmetry_moved = free_moved = np.nan
            else:
                angles = fisher.principal_angles(previous[0], basis)
                angle = float(np.degrees(angles.max())) if len(angles) else np.nan
                overlap = float(np.mean(np.cos(angles) ** 2)) if len(angles) else np.nan
                chance = max(previous[0].shape[1], basis.shape[1]) / len(theta)
                moved = int(np.sum(np.degrees(angles) > MOVED_DEGREES))
                # the baseline: how far the rescaling generators alone turn between the checkpoints
                symmetry_moved = (np.nan if symmetric is None else int(np.sum(
                    np.degrees(fisher.principal_angles(previous[1], symmetric)) > MOVED_DEGREES)))
                # the symmetry-free part N ⊖ S: its turning is what the data, not the generators, do
                free_moved = (np.nan if free is None or previous[2] is None else int(np.sum(
                    np.degrees(fisher.principal_angles(previous[2], free)) > MOVED_DEGREES)))
            previous = (basis, symmetric, free)
        else:
            spectrum = fisher.fisher_spectrum(network, probe, output=config.output)
            angle = overlap = chance = moved = symmetry_moved = free_moved = np.nan
        floor = fisher.SVD_FLOOR if index < config.tracked_seeds else fisher.spectrum_floor(network, probe)
        counts = fisher.data_null_dimension(network, probe, output=config.output)
        symmetries = fisher.predicted_null_dimension(network, output=config.output)
        null = fisher.gap_null_dimension(spectrum, floor=floor)
        row["null_dimension"].append(null)
        row["null_gap"].append(fisher.null_gap_ratio(spectrum, null))
        row["null_by_rtol"].append(fisher.null_dimension_by_rtol(spectrum, RTOLS))
        row["explained_null"].append(symmetries + counts["total"])
        row["explained_null_data"].append(
            symmetries + fisher.data_null_dimension(network, everything, output=config.output)["total"])
        row["null_angles_moved"].append(moved)
        row["symmetry_angles_moved"].append(symmetry_moved)
        row["free_angles_moved"].append(free_moved)
        row["dead_units"].append(counts["dead"])
        row["participation"].append(fisher.effective_rank(spectrum, "participation"))
        row["entropy_rank"].append(fisher.effective_rank(spectrum, "entropy"))
        row["mackay"].append(fisher.effective_rank(spectrum, "mackay", prior=1e-3 * spectrum[0]))
        row["mackay_curve"].append([fisher.effective_rank(spectrum / config.probe_size, "mackay", prior=alpha)
                                    for alpha in priors])
        empirical = fisher.empirical_fisher_spectrum(network, probe, labels)
        row["empirical_trace_ratio"].append(float(empirical.sum() / spectrum.sum()))
        row["empirical_participation"].append(fisher.effective_rank(empirical, "participation"))
        row["empirical_top_ratio"].append(float(empirical[0] / spectrum[0]))
        if position == last and max(config.widths) <= KFAC_MAX_WIDTH:
            kfac = fisher.kfac_spectrum(network, probe, output=config.output)
            block_null = fisher.gap_null_dimension(
                fisher.block_diagonal_spectrum(network, probe, output=config.output))
            kfac_values = (float(kfac.sum() / spectrum.sum()), float(kfac[0] / spectrum[0]),
                           fisher.effective_rank(kfac, "participation"), fisher.gap_null_dimension(kfac))
        else:  # K-FAC is compared after training only, and not for the widest networks of the sweep
            kfac_values, block_null = (np.nan,) * 4, np.nan
        for key, value in zip(("kfac_trace_ratio", "kfac_top_ratio", "kfac_participation", "kfac_null"),
                              kfac_values):
            row[key].append(value)
        row["block_null"].append(block_null)
        row["null_largest_angle"].append(angle)
        row["null_overlap"].append(overlap)
        row["null_overlap_chance"].append(chance)
        row["top_eigenvalue"].append(float(spectrum[0]))
        with torch.no_grad():
            predictions = network(dataset.x_train.double()).argmax(-1)
        row["train_accuracy"].append(float((predictions == dataset.y_train).double().mean()))
        row["spectra"].append(spectrum / spectrum[0])
    return row, record, model


def run_fisher(config: FisherConfig, *, progress: bool = True, use_cache: bool = True,
               executor: Any = None) -> FisherResult:
    """Train, then the metric's spectrum, null dimension and effective ranks at every checkpoint; the seeds
    on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> FisherResult:
        dataset, probe, every, labels, priors, keys, everything = _fisher_setting(config)
        with runtime.unit_pool(executor) as pool:
            units = runtime.map_runs(functools.partial(_fisher_unit, config),
                                     list(enumerate(range(config.seed, config.seed + config.n_seeds))), executor=pool,
                                     description="seeds", progress=progress)
        rows = [row for row, _, _ in units]
        _, record, model = units[-1]
        columns = {key: np.array([row[key] for row in rows], dtype=np.float64) for key in rows[0]}
        means, intervals = zip(*(stats.t_interval(column) for column in columns["participation"].T))
        template = _load(model, record.checkpoints[0, 0])
        return FisherResult(
            steps=record.checkpoint_steps, **columns,
            parameters=sum(p.numel() for p in template.parameters()),
            predicted_null=fisher.predicted_null_dimension(template, output=config.output),
            expected_null=expected_null_dimension(template, config.probe_size, config.output),
            participation_mean=np.array(means), participation_interval=np.array(intervals).T,
            priors=priors, rtols=np.array(RTOLS),
            constant_probe=_constant_features(probe), constant_data=_constant_features(everything),
            architecture="–".join(str(n) for n in (dataset.n_features, *config.widths, dataset.n_classes)),
            rescalings=int(sum(config.widths)) if config.activation == "relu" else 0,
        )

    return runtime.cached(compute, config, FisherResult, use_cache=use_cache)


# ----------------------------------------------------------------------------------- representations


@dataclass(frozen=True)
class RepresentationConfig(ConfigBase):
    """A deeper MLP trained like :class:`FisherConfig` (on ``device``); per hidden layer, the pulled-back
    metric on its activations at initialisation and after training (float64, on the CPU)."""

    dataset: str = "digits"
    n_train: int = 1000
    widths: tuple[int, ...] = (64, 64, 64, 64)
    activation: str = "relu"
    lr: float = 0.1
    epochs: int = 40
    batch_size: int = 64
    probe_size: int = 300
    output: str = "softmax"
    n_seeds: int = 3
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        _check_training(self)

    @classmethod
    def quick(cls) -> "RepresentationConfig":
        return cls()

    @classmethod
    def full(cls) -> "RepresentationConfig":
        return cls(n_train=1347, widths=(128, 128, 128, 128), epochs=60, probe_size=600, n_seeds=5)


@dataclass
class RepresentationResult(ResultBase):
    """Per seed × hidden layer, at initialisation (``*_start``) and after training (``*_end``): ``rank`` of
    the layer metric (read at its spectrum's null gap) and its ``participation`` ratio; ``widths``; final
    ``train_accuracy`` per seed; ``ceiling``: K − 1 (softmax) or K (logits), the rank the last layer can
    reach."""

    widths: np.ndarray
    rank_start: np.ndarray
    rank_end: np.ndarray
    participation_start: np.ndarray
    participation_end: np.ndarray
    train_accuracy: np.ndarray
    ceiling: int


def run_representations(config: RepresentationConfig, *, progress: bool = True, use_cache: bool = True) -> RepresentationResult:
    """Train, then each hidden layer's pulled-back metric at the first and last checkpoint."""

    def compute() -> RepresentationResult:
        dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
        probe = dataset.x_train[: config.probe_size].double()
        n_steps = config.epochs * (dataset.x_train.shape[0] // config.batch_size)
        out = {key: [] for key in ("rank_start", "rank_end", "participation_start", "participation_end")}
        accuracy = []
        for seed in runtime.progress_bar(range(config.seed, config.seed + config.n_seeds), "seeds", progress):
            model, record = _train(config, dataset, seed, n_steps)
            for label, theta in (("start", record.checkpoints[0, 0]), ("end", record.checkpoints[-1, 0])):
                metrics = fisher.representation_metrics(_load(model, theta), probe, output=config.output)
                out[f"rank_{label}"].append([_rank(m) for m in metrics])
                out[f"participation_{label}"].append(
                    [fisher.effective_rank(np.linalg.eigvalsh(m), "participation") for m in metrics])
            accuracy.append(float(record.train_accuracy[0]))
        return RepresentationResult(widths=np.array(config.widths), **{k: np.array(v) for k, v in out.items()},
                                    train_accuracy=np.array(accuracy),
                                    ceiling=dataset.n_classes - (1 if config.output == "softmax" else 0))

    return runtime.cached(compute, config, RepresentationResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------ teacher–student

#: The teacher–student runs per teacher: inputs isotropic in all d dimensions (the task uses k of them);
#: inputs aligned with the k relevant directions up to a small isotropic noise (the positive control: every
#: direction the data excite is one the task uses); isotropic inputs with labels drawn uniformly at random
#: (no task at all).
CONDITIONS = ("isotropic", "aligned", "random labels")
MEASURES = ("participation", "entropy", "mackay")  #: the effective ranks of :func:`uniq_core.fisher.effective_rank`


@dataclass(frozen=True)
class TeacherStudentConfig(ConfigBase):
    """For each k of ``ks``: teachers whose logits ``teacher_scale`` · A Pᵀx depend on k of ``d`` input
    directions (P a random orthonormal d × k, A a random K × k), labels drawn from their softmax, and a
    linear softmax student Linear(d, K) trained on ``n_train`` of them by full-batch Adam (``steps``,
    ``lr``); then the Fisher (softmax metric) of the trained student on ``probe_size`` inputs of the same
    kind, in each of :data:`CONDITIONS`. The task depends on (K − 1)(k + 1) directions of the student (its
    weights on the k relevant input directions and its biases, less the softmax's shift); isotropic inputs
    excite (K − 1)(d + 1). ``aligned_noise``: the isotropic noise of the aligned inputs; ``n_seeds``
    teachers per k, the same teacher in every condition."""

    d: int = 16
    ks: tuple[int, ...] = (2, 1, 4)
    classes: int = 3
    n_train: int = 1024
    probe_size: int = 256
    steps: int = 500
    lr: float = 0.05
    teacher_scale: float = 3.0
    aligned_noise: float = 1e-3
    seed: int = 0
    n_seeds: int = 5
    device: str = "auto"

    def __post_init__(self) -> None:
        check_number("d", self.d, low=2, high=512, integer=True)
        if len(self.ks) == 0:
            raise ValueError("ks=() is empty; give at least one number of relevant input directions")
        for k in self.ks:
            check_number("ks", k, low=1, high=self.d - 1, integer=True)
        check_number("classes", self.classes, low=2, high=100, integer=True)
        check_number("n_train", self.n_train, low=2, integer=True)
        check_number("probe_size", self.probe_size, low=2, integer=True)
        check_number("steps", self.steps, low=1, integer=True)
        check_number("lr", self.lr, low=0.0, high=10.0, low_inclusive=False)
        check_number("teacher_scale", self.teacher_scale, low=0.0, low_inclusive=False)
        check_number("aligned_noise", self.aligned_noise, low=0.0, high=1.0, low_inclusive=False)
        check_number("seed", self.seed, low=0, integer=True)
        check_number("n_seeds", self.n_seeds, low=1, high=1000, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "TeacherStudentConfig":
        return cls()

    @classmethod
    def full(cls) -> "TeacherStudentConfig":
        return cls(n_seeds=20)


@dataclass
class TeacherStudentResult(ResultBase):
    """``ks``; ``relevant_counts`` (K − 1)(k + 1) per k and ``data_count`` (K − 1)(d + 1); per k × condition of
    :data:`CONDITIONS` × teacher: the effective ranks of :data:`MEASURES` of the trained student's Fisher
    (``participation``, ``entropy``, ``mackay``, MacKay's prior :data:`PLANTED_PRIOR` × λ_max), its numerical
    rank (``rank``, eigenvalues above 1e-10 λ_max) and the student's agreement with the teacher's most likely
    class on fresh inputs (``agreement``)."""

    ks: np.ndarray
    relevant_counts: np.ndarray
    data_count: int
    participation: np.ndarray
    entropy: np.ndarray
    mackay: np.ndarray
    rank: np.ndarray
    agreement: np.ndarray

    def ratio(self, measure: str = "mackay", condition: str = "isotropic", k: int | None = None) -> np.ndarray:
        """Per teacher, an effective rank over the task-relevant count, at ``k`` (default the first of ``ks``)."""
        check_choice("measure", measure, MEASURES)
        check_choice("condition", condition, CONDITIONS)
        ks = [int(v) for v in self.ks]
        i = 0 if k is None else ks.index(int(k)) if int(k) in ks else None
        if i is None:
            raise ValueError(f"k={k!r} was not run; ks are {ks}")
        return getattr(self, measure)[i, CONDITIONS.index(condition)] / self.relevant_counts[i]


def _teacher_inputs(kind: str, basis: torch.Tensor, n: int, noise: float, generator: torch.Generator) -> torch.Tensor:
    d, k = basis.shape
    if kind != "aligned":
        return torch.randn(n, d, dtype=torch.float64, generator=generator)
    return (torch.randn(n, k, dtype=torch.float64, generator=generator) @ basis.T
            + noise * torch.randn(n, d, dtype=torch.float64, generator=generator))


def run_teacher_student(config: TeacherStudentConfig, *, progress: bool = True, use_cache: bool = True
                        ) -> TeacherStudentResult:
    """Train the student on each teacher, for each k and condition, and measure its Fisher's effective ranks."""

    def compute() -> TeacherStudentResult:
        device = runtime.device(config.device)
        shape = (len(config.ks), len(CONDITIONS), config.n_seeds)
        out = {key: np.full(shape, np.nan) for key in ("participation", "entropy", "mackay", "rank", "agreement")}
        jobs = [(a, s) for a in range(len(config.ks)) for s in range(config.n_seeds)]
        for a, s in runtime.progress_bar(jobs, "teachers", progress):
            k, seed = config.ks[a], config.seed + s
            generator = torch.Generator().manual_seed(seed)
            basis, _ = torch.linalg.qr(torch.randn(config.d, k, dtype=torch.float64, generator=generator))
            mixing = torch.randn(config.classes, k, dtype=torch.float64, generator=generator)

            def teacher(x: torch.Tensor) -> torch.Tensor:
                return config.teacher_scale * (x @ basis) @ mixing.T

            for c, condition in enumerate(CONDITIONS):
                x = _teacher_inputs(condition, basis, config.n_train, config.aligned_noise, generator)
                if condition == "random labels":
                    labels = torch.randint(0, config.classes, (config.n_train,), generator=generator)
                else:
                    labels = torch.multinomial(torch.softmax(teacher(x), -1), 1, generator=generator)[:, 0]
                torch.manual_seed(seed)
                student = torch.nn.Sequential(torch.nn.Linear(config.d, config.classes)).double().to(device)
                optimiser = torch.optim.Adam(student.parameters(), lr=config.lr)
                x, labels = x.to(device), labels.to(device)
                for _ in range(config.steps):
                    loss = torch.nn.functional.cross_entropy(student(x), labels)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                student = student.cpu()
                probe = _teacher_inputs(condition, basis, config.probe_size, config.aligned_noise, generator)
                spectrum = fisher.fisher_spectrum(student, probe, output="softmax")
                out["participation"][a, c, s] = fisher.effective_rank(spectrum, "participation")
                out["entropy"][a, c, s] = fisher.effective_rank(spectrum, "entropy")
                out["mackay"][a, c, s] = fisher.effective_rank(spectrum, "mackay", prior=PLANTED_PRIOR * spectrum[0])
                out["rank"][a, c, s] = int(np.sum(spectrum > 1e-10 * spectrum[0]))
                fresh = _teacher_inputs(condition, basis, config.probe_size, config.aligned_noise, generator)
                with torch.no_grad():
                    out["agreement"][a, c, s] = float((student(fresh).argmax(-1) == teacher(fresh).argmax(-1))
                                                      .double().mean())
        return TeacherStudentResult(ks=np.array(config.ks), relevant_counts=np.array(
            [(config.classes - 1) * (k + 1) for k in config.ks]), data_count=(config.classes - 1) * (config.d + 1), **out)

    return runtime.cached(compute, config, TeacherStudentResult, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------- regimes


@dataclass(frozen=True)
class FisherSweepConfig(ConfigBase):
    """:class:`FisherConfig` (one seed) for each (activation, widths) in ``architectures``."""

    base: FisherConfig = FisherConfig(probe_size=150, epochs=10, checkpoints=4, n_seeds=1, tracked_seeds=0)
    architectures: tuple[tuple[str, tuple[int, ...]], ...] = (
        ("relu", (16,)), ("relu", (32,)), ("relu", (64,)), ("relu", (32, 32)),
        ("tanh", (32,)), ("tanh", (32, 32)), ("linear", (32,)), ("relu", (256,)),
    )

    def __post_init__(self) -> None:
        if not isinstance(self.base, FisherConfig):
            raise ValueError(f"base={self.base!r} must be a FisherConfig")
        _check_architectures(self.architectures, high=1024)

    @classmethod
    def quick(cls) -> "FisherSweepConfig":
        return cls()

    @classmethod
    def full(cls) -> "FisherSweepConfig":
        return cls(base=FisherConfig.full().replace(n_seeds=1, tracked_seeds=0))


@dataclass
class FisherSweepResult(ResultBase):
    """Per architecture (``labels``): ``steps`` (C,), ``spectra`` (A × C × P_max, NaN-padded), ``participation``
    and ``null_dimension`` (A × C), ``parameters``, ``expected_null`` and ``predicted_null`` (the symmetries)
    (A,)."""

    labels: np.ndarray
    steps: np.ndarray
    spectra: np.ndarray
    participation: np.ndarray
    null_dimension: np.ndarray
    parameters: np.ndarray
    expected_null: np.ndarray
    predicted_null: np.ndarray


def run_fisher_sweep(config: FisherSweepConfig, *, progress: bool = True, use_cache: bool = True,
                     executor: Any = None) -> FisherSweepResult:
    """Each architecture through :func:`run_fisher` (and its cache), on ``executor`` when given
    (:func:`uniq_core.runtime.map_runs`)."""

    def compute() -> FisherSweepResult:
        configs = [config.base.replace(activation=activation, widths=tuple(widths))
                   for activation, widths in config.architectures]
        results = runtime.map_runs(functools.partial(run_fisher, progress=False), configs, executor=executor,
                                   description="architectures", progress=progress)
        width = max(r.spectra.shape[-1] for r in results)
        spectra = np.full((len(results), len(results[0].steps), width), np.nan)
        for i, r in enumerate(results):
            spectra[i, :, : r.spectra.shape[-1]] = r.spectra[0]
        return FisherSweepResult(
            labels=np.array([f"{a} {'-'.join(map(str, w))}" for a, w in config.architectures]),
            steps=results[0].steps, spectra=spectra,
            participation=np.array([r.participation[0] for r in results]),
            null_dimension=np.array([r.null_dimension[0] for r in results]),
            parameters=np.array([r.parameters for r in results]),
            expected_null=np.array([r.expected_null for r in results]),
            predicted_null=np.array([r.predicted_null for r in results]),
        )

    return runtime.cached(compute, config, FisherSweepResult, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------- findings


#: A largest principal angle (degrees) below this says the old null space stays inside the new one.
INSIDE_DEGREES = 1e-4
#: The null subspace "moves little" when less than this share of its directions turn by more than
#: :data:`MOVED_DEGREES` between successive checkpoints (and its largest angle stays below that too).
MOVED_SHARE = 0.05
#: The non-null spectrum is "far from flat" when the participation ratio and the entropy rank stay below
#: this fraction of the metric's rank.
FLAT_FRACTION = 0.1
#: The three effective ranks sit "far below" the metric's rank when all stay below this fraction of it.
BELOW_FRACTION = 0.5


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 5 glues, by glue name.

    ``results`` and ``configs`` hold, under the same keys, ``"null_check"`` (:class:`NullCheckResult`,
    :class:`NullCheckConfig`), ``"training"`` (:class:`FisherResult`, :class:`FisherConfig`),
    ``"representations"`` (:class:`RepresentationResult`, :class:`RepresentationConfig`), ``"teacher"``
    (:class:`TeacherStudentResult`, :class:`TeacherStudentConfig`) and ``"sweep"``
    (:class:`FisherSweepResult`, :class:`FisherSweepConfig`). Keys: ``pl_*`` (planted effective rank),
    ``nc_*`` (null check), ``ts_*`` (teacher–student), ``fi_*`` (the network trained on the digits), ``verdict_*`` (the verdict rows of
    :mod:`uniq_core.experiments.verdicts`), ``mk_*``, ``ef_*`` and ``nt_*`` (MacKay's count, the empirical
    Fisher and the null subspace along training), ``re_*`` (representations) and ``sw_*`` (the sweep).
    Values are plain ``int``, ``float`` or ``str``.
    """
    check, training = results["null_check"], results["training"]
    representations = results["representations"]
    values: dict[str, float | int | str] = {}
    values.update(_planted_findings(check))
    values.update(_null_check_findings(check, configs["null_check"]))
    values.update(_training_findings(training, configs["training"]))
    values.update(_count_findings(training))
    values.update(_tolerance_findings(training, _initial_gap(check)))
    values.update(_effective_rank_findings(training))
    values.update(_verdict_findings(check, training, results["teacher"]))
    values.update(_teacher_findings(results["teacher"], configs["teacher"]))
    values.update(_along_training_findings(training))
    values.update(_representation_findings(representations))
    values.update(_sweep_findings(results["sweep"], configs["sweep"], int(representations.ceiling)))
    return values


def split_effective_ranks(count: int, tail_count: int, tail: float, *, prior: float = PLANTED_PRIOR) -> dict[str, float]:
    """The three effective ranks of a spectrum of ``count`` eigenvalues 1 and ``tail_count`` eigenvalues
    ``tail``, in closed form: participation (a + bt)²/(a + bt²), entropy rank exp(−Σ p log p) with
    p = 1/(a + bt) and t/(a + bt), MacKay a/(1 + α) + bt/(t + α), a = count, b = tail_count, α = ``prior``.
    Each exceeds ``count`` by what the tail adds; none is an error of the measure."""
    a, b, t = float(count), float(tail_count), float(tail)
    total = a + b * t
    p_head, p_tail = 1 / total, t / total
    entropy = -(a * p_head * np.log(p_head) + (b * p_tail * np.log(p_tail) if t > 0 else 0.0))
    return {"participation": total**2 / (a + b * t**2), "entropy": float(np.exp(entropy)),
            "mackay": a / (1 + prior) + b * t / (t + prior)}


def largest_clean_tail(count: int, tail_count: int, kind: str, tolerance: float, *,
                       prior: float = PLANTED_PRIOR) -> float:
    """The largest tail level t at which the ``kind`` effective rank of :func:`split_effective_ranks` stays
    within ``tolerance`` of ``count`` (bisection in log t over [1e-12, 1]): up to there, that measure counts
    the planted directions."""
    def error(t: float) -> float:
        return abs(split_effective_ranks(count, tail_count, t, prior=prior)[kind] / count - 1)

    low, high = -12.0, 0.0
    if error(10**high) <= tolerance:
        return 1.0
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if error(10**middle) <= tolerance else (low, middle)
    return float(10**low)


def _initial_gap(check: NullCheckResult) -> float:
    """The smallest finite null gap at initialisation over the architectures with a prediction."""
    known = check.predicted >= 0
    return float(np.min(check.gap[known & np.isfinite(check.gap)]))


def _planted_findings(check: NullCheckResult) -> dict[str, float | int | str]:
    """``pl_*``: the three effective ranks on the planted spectra and which of them recover the count."""
    from uniq_core.experiments import verdicts

    measures = [("pr", "the participation ratio", check.planted_participation),
                ("entropy", "the entropy rank", check.planted_entropy),
                ("mackay", "MacKay's count", check.planted_mackay)]
    values: dict[str, float | int | str] = {
        "pl_tolerance": float(verdicts.PLANTED_TOLERANCE), "pl_count": int(check.planted_count),
        "pl_tail_low": float(check.planted_tails[0]), "pl_tail_high": float(check.planted_tails[-1]),
        "pl_prior": float(PLANTED_PRIOR)}
    for key, _, measure in measures:
        values[f"pl_{key}_low"] = float(measure[0])
        values[f"pl_{key}_high"] = float(measure[-1])
    recovered = [name for _, name, measure in measures
                 if np.all(np.abs(measure / check.planted_count - 1) < verdicts.PLANTED_TOLERANCE)]
    values["pl_recovers"] = " and ".join(recovered) if recovered else "none of the three"
    # the known answer: each measure's closed form on the planted split; the measured values must equal it
    kinds = {"pr": "participation", "entropy": "entropy", "mackay": "mackay"}
    tail_count = int(check.planted_tail_count)
    deviation = 0.0
    for key, _, measure in measures:
        theory = np.array([split_effective_ranks(check.planted_count, tail_count, t)[kinds[key]]
                           for t in check.planted_tails])
        deviation = max(deviation, float(np.max(np.abs(measure / theory - 1))))
        values[f"pl_{key}_clean"] = largest_clean_tail(check.planted_count, tail_count, kinds[key],
                                                       verdicts.PLANTED_TOLERANCE)
    values["pl_theory_error"] = deviation
    values["pl_tail_count"] = tail_count
    return values


def _null_check_findings(check: NullCheckResult, config: NullCheckConfig) -> dict[str, float | int | str]:
    """``nc_*``: measured against predicted null dimensions at initialisation, and the dying-unit control."""
    known = check.predicted >= 0
    return {
        "nc_inputs": int(config.n_inputs), "nc_rtol": float(config.rtol), "nc_cases": int(known.sum()),
        "nc_agree": int((check.predicted[known] == check.measured[known]).sum()),
        "nc_min_gap": _initial_gap(check), "nc_death_jump": float(check.death_jump),
        "nc_death_expected": float(check.death_expected), "nc_death_angle": float(check.death_angle),
        "nc_inside": "stays inside" if check.death_angle < INSIDE_DEGREES else "does not stay inside",
    }


def _training_findings(training: FisherResult, config: FisherConfig) -> dict[str, float | int | str]:
    """``fi_*`` of the set-up: architecture, parameters, symmetries, probe and data limits."""
    classes = int(training.architecture.rsplit("–", 1)[-1])
    visible_per_input = classes - 1 if config.output == "softmax" else classes
    return {
        "fi_architecture": str(training.architecture), "fi_parameters": int(training.parameters),
        "fi_probe": int(config.probe_size), "fi_probe_visible": int(config.probe_size * visible_per_input),
        "fi_not_symmetry": int(training.parameters - training.predicted_null),
        "fi_binds": "binds" if training.expected_null > training.predicted_null else "does not bind",
        "fi_symmetries": int(training.predicted_null), "fi_n_train": int(config.n_train),
        "fi_width": int(config.widths[0]), "fi_constant_probe": int(training.constant_probe),
        "fi_constant_data": int(training.constant_data), "fi_seeds": int(config.n_seeds),
    }


def _count_findings(training: FisherResult) -> dict[str, float | int | str]:
    """``fi_*`` of the count: directions the probe and the data leave unseen, shares, and the remainder."""
    values: dict[str, float | int | str] = {}
    for label, column in (("start", 0), ("end", -1)):
        data_probe = float(np.mean(training.explained_null[:, column] - training.predicted_null))
        data_full = float(np.mean(training.explained_null_data[:, column] - training.predicted_null))
        values[f"fi_data_probe_{label}"] = data_probe
        values[f"fi_data_full_{label}"] = data_full
        values[f"fi_probe_only_{label}"] = data_probe - data_full
        values[f"fi_unexplained_{label}"] = float(
            np.mean(training.null_dimension[:, column] - training.explained_null[:, column]))
    nulls, probe, data = (training.null_dimension[:, -1], training.explained_null[:, -1],
                          training.explained_null_data[:, -1])
    # shares per seed, then their mean (as the symmetric share of the gauge row), so that the parts add up
    values["fi_support_share"] = float(np.mean((data - training.predicted_null) / nulls))
    values["fi_probe_share"] = float(np.mean((probe - data) / nulls))
    values["fi_gap_origin"] = (
        "the gap is present before training, so it is a gap of the counting, not something training creates"
        if values["fi_unexplained_start"] > 0 else "none is present before training, so training creates them")
    return values


def _tolerance_findings(training: FisherResult, initial_gap: float) -> dict[str, float | int | str]:
    """``fi_gap_*``, ``fi_*rtol*``: the trained null gap against the initial one, and fixed-tolerance counts."""
    trained_gaps = training.null_gap[:, 1:]
    by_rtol = np.nanmean(training.null_by_rtol[:, -1], axis=0)
    extra = float(by_rtol[-1] - by_rtol[0])
    return {
        "fi_gap_low": float(np.nanmin(trained_gaps)), "fi_gap_high": float(np.nanmax(trained_gaps)),
        "nc_trained_gap": "narrower" if np.nanmin(trained_gaps) < initial_gap else "no narrower",
        "fi_rtol_low": float(training.rtols[0]), "fi_rtol_high": float(training.rtols[-1]),
        "fi_null_rtol_low": float(by_rtol[0]), "fi_null_rtol_high": float(by_rtol[-1]),
        "fi_tolerance": "does not change" if np.ptp(training.null_by_rtol[:, 1:], axis=-1).max() == 0 else "changes",
        "fi_loose_extra": (f"trained networks also have {extra:.0f} small non-zero eigenvalues (mean over seeds) that "
                           "the loosest tolerance calls null" if extra > 0
                           else "no trained eigenvalue lies between the tolerances"),
    }


def _effective_rank_findings(training: FisherResult) -> dict[str, float | int | str]:
    """``fi_*``: null dimensions, the three effective ranks after training and the participation trend."""
    rank_end = training.parameters - np.mean(training.null_dimension[:, -1])
    measures = [np.mean(training.participation[:, -1]), np.mean(training.entropy_rank[:, -1]),
                np.mean(training.mackay[:, -1])]
    _, (change_low, change_high) = stats.t_interval(training.participation[:, -1] - training.participation[:, 0])
    return {
        "fi_null_start": float(np.mean(training.null_dimension[:, 0])),
        "fi_null_end": float(np.mean(training.null_dimension[:, -1])),
        "fi_explained_start": float(np.mean(training.explained_null[:, 0])),
        "fi_explained_end": float(np.mean(training.explained_null[:, -1])),
        "fi_pr_start": float(training.participation_mean[0]), "fi_pr_end": float(training.participation_mean[-1]),
        "fi_pr_end_low": float(training.participation_interval[0, -1]),
        "fi_pr_end_high": float(training.participation_interval[1, -1]),
        "fi_entropy_end": float(np.mean(training.entropy_rank[:, -1])),
        "fi_mackay_end": float(np.mean(training.mackay[:, -1])),
        "fi_accuracy_end": 100 * float(np.mean(training.train_accuracy[:, -1])),
        "fi_rank_end": float(rank_end), "fi_measure_ratio": float(max(measures) / min(measures)),
        "fi_flat": "far from flat" if max(measures[:2]) < FLAT_FRACTION * rank_end else "close to flat",
        "fi_below": "far below" if max(measures) < BELOW_FRACTION * rank_end else "near",
        "fi_pr_trend": ("lowers" if change_high < 0 else "raises" if change_low > 0
                        else "does not change, beyond the spread over seeds,"),
        "fi_pr_from": "down from" if change_high < 0 else "up from" if change_low > 0 else "against",
    }


def _verdict_findings(check: NullCheckResult, training: FisherResult, teacher: TeacherStudentResult
                      ) -> dict[str, float | int | str]:
    """``claim_degenerate*``, ``claim_gauge*``, ``claim_effective_rank*`` and the gauge row's share: the verdict
    page's rows, from the same row functions, so both pages give one verdict."""
    from uniq_core.experiments import verdicts

    gauge = verdicts.row_gauge(check, training)
    return {
        **verdicts.claim_findings(verdicts.row_degenerate(training), gauge, verdicts.row_effective_rank(teacher)),
        "fi_symmetric_share": float(gauge.value),
    }


def _teacher_findings(teacher: TeacherStudentResult, config: TeacherStudentConfig) -> dict[str, float | int | str]:
    """``ts_*``: the teacher–student task's counts at the first k of ``ks``, per effective rank its mean over
    teachers as a multiple of the task-relevant count in each condition, the label-free prediction
    (d + 1)/(k + 1) of the isotropic over aligned ratio, and the student's agreement with the teacher."""
    k = int(config.ks[0])
    values: dict[str, float | int | str] = {
        "ts_d": int(config.d), "ts_k": k, "ts_classes": int(config.classes),
        "ts_ks": ", ".join(str(int(v)) for v in config.ks),
        "ts_relevant": int(teacher.relevant_counts[0]), "ts_data": int(teacher.data_count),
        "ts_teachers": int(config.n_seeds), "ts_noise": float(config.aligned_noise),
        "ts_prior": float(PLANTED_PRIOR),
        "ts_agreement_iso": float(np.mean(teacher.agreement[0, 0])),
        "ts_theory": (config.d + 1) / (k + 1),
        "ts_ratio_mackay": float(np.mean(teacher.ratio("mackay", "isotropic") / teacher.ratio("mackay", "aligned"))),
        "ts_random_mackay": float(np.mean(teacher.ratio("mackay", "random labels") / teacher.ratio("mackay", "isotropic"))),
    }
    for measure, key in zip(MEASURES, ("pr", "entropy", "mackay")):
        for condition, name in zip(CONDITIONS, ("isotropic", "aligned", "random")):
            ratio = teacher.ratio(measure, condition)
            values[f"ts_{key}_{name}"] = float(np.mean(ratio))
            values[f"ts_{key}_{name}_count"] = float(np.mean(ratio) * teacher.relevant_counts[0])
    aligned = values["ts_mackay_aligned"]
    values["ts_word"] = ("the count of directions the inputs excite, whatever the labels"
                         if abs(values["ts_random_mackay"] - 1) < 0.1 and abs(values["ts_ratio_mackay"] / values["ts_theory"] - 1) < 0.1
                         else "not only the directions the inputs excite")
    values["ts_control_word"] = ("recovers the task-relevant count" if abs(aligned - 1) < 0.1
                                 else "does not recover the task-relevant count")
    return values


def _along_training_findings(training: FisherResult) -> dict[str, float | int | str]:
    """``mk_*``, ``ef_*``, ``nt_*``: MacKay's count over priors, the empirical Fisher, the null subspace and
    how many principal angles of its symmetry-free part N ⊖ S exceed :data:`MOVED_DEGREES` per interval
    between checkpoints, as a share of the null dimension averaged over the tracked seeds (``nt_free_*``; the
    word ``nt_moves`` from the first interval's share and the largest later one against :data:`MOVED_SHARE`)."""
    curve_end = np.mean(training.mackay_curve[:, -1], axis=0)
    moved = training.null_angles_moved[0, 1:]
    moved_share = float(np.nanmax(moved / training.null_dimension[0, 1:]))
    largest_angle = float(np.nanmax(training.null_largest_angle[0, 1:]))
    # the baseline: the rescaling generators follow the parameters, so they alone turn some directions; the
    # symmetry-free part N ⊖ S turns only as the data make it, per interval between checkpoints
    symmetry_moved = training.symmetry_angles_moved[0, 1:]
    tracked = np.flatnonzero(np.isfinite(training.free_angles_moved[:, 1:]).all(axis=1))
    free_share = (training.free_angles_moved[tracked, 1:] / training.null_dimension[tracked, 1:]).mean(axis=0)
    free_count = training.free_angles_moved[tracked, 1:].mean(axis=0)
    first_share, late_share = float(free_share[0]), float(np.max(free_share[1:])) if len(free_share) > 1 else 0.0
    return {
        "mk_high": float(curve_end[0]), "mk_low": float(curve_end[-1]),
        "mk_alpha_low": float(training.priors[0]), "mk_alpha_high": float(training.priors[-1]),
        "mk_decades": int(round(np.log10(training.priors[-1] / training.priors[0]))),
        "mk_trend": "falls" if curve_end[-1] < curve_end[0] else "rises",
        "ef_trace_start": float(np.mean(training.empirical_trace_ratio[:, 0])),
        "ef_trace_end": float(np.mean(training.empirical_trace_ratio[:, -1])),
        "ef_top_end": float(np.mean(training.empirical_top_ratio[:, -1])),
        "ef_pr_end": float(np.mean(training.empirical_participation[:, -1])),
        "kf_trace_end": float(np.mean(training.kfac_trace_ratio[:, -1])),
        "kf_top_end": float(np.mean(training.kfac_top_ratio[:, -1])),
        "kf_pr_end": float(np.mean(training.kfac_participation[:, -1])),
        "kf_null_end": float(np.mean(training.kfac_null[:, -1])),
        "kf_exact_null_end": float(np.mean(training.null_dimension[: len(training.block_null), -1])),
        "kf_exact_pr_end": float(np.mean(training.participation[:, -1])),
        "kf_block_null_end": float(np.mean(training.block_null[:, -1])),
        "kf_cross": float(np.mean(training.null_dimension[: len(training.block_null), -1] - training.block_null[:, -1])),
        "kf_kron": float(np.mean(training.block_null[:, -1] - training.kfac_null[:, -1])),
        "kf_rescalings": int(training.rescalings),
        "nt_dead_start": float(np.mean(training.dead_units[:, 0])),
        "nt_dead_end": float(np.mean(training.dead_units[:, -1])),
        "nt_overlap_min": float(np.nanmin(training.null_overlap[0, 1:])), "nt_angle_max": largest_angle,
        "nt_chance_max": float(np.nanmax(training.null_overlap_chance[0, 1:])),
        "nt_moved_max": float(np.nanmax(moved)), "nt_moved_min": float(np.nanmin(moved)),
        "nt_moved_share": moved_share, "nt_degrees": MOVED_DEGREES,
        "nt_sym_moved_min": float(np.nanmin(symmetry_moved)), "nt_sym_moved_max": float(np.nanmax(symmetry_moved)),
        "nt_tracked": int(len(tracked)),
        "nt_free_first": float(free_count[0]), "nt_free_first_share": first_share,
        "nt_free_late": float(np.max(free_count[1:])) if len(free_count) > 1 else 0.0,
        "nt_free_late_share": late_share,
        "nt_moves": ("turns early in training, then settles" if late_share < MOVED_SHARE <= first_share else
                     "moves little beyond its symmetry generators" if max(first_share, late_share) < MOVED_SHARE
                     else "keeps turning"),
        "nt_geometry": ("Part of that turning is geometry, not data" if np.nanmax(symmetry_moved) > 0
                        else "None of that turning comes from the symmetry generators"),
        "nt_null_jump": float(np.nanmax(np.abs(np.diff(training.null_dimension, axis=1)))),
    }


def _representation_findings(representations: RepresentationResult) -> dict[str, float | int | str]:
    """``re_*``: per-layer ranks against the output ceiling, and the first layer's participation trend."""
    rank_end, widths = representations.rank_end, representations.widths
    _, (first_low, first_high) = stats.t_interval(
        representations.participation_end[:, 0] - representations.participation_start[:, 0])
    return {
        "re_ceiling": int(representations.ceiling), "re_depth": len(widths), "re_width": int(widths[0]),
        "re_full": "full-rank" if np.all(rank_end[:, 0] == widths[0]) else "not full-rank",
        "re_last_rank": float(np.mean(rank_end[:, -1])), "re_first_rank": float(np.mean(rank_end[:, 0])),
        "re_pr_first_start": float(np.mean(representations.participation_start[:, 0])),
        "re_pr_first_end": float(np.mean(representations.participation_end[:, 0])),
        "re_pr_last_end": float(np.mean(representations.participation_end[:, -1])),
        "re_accuracy": 100 * float(np.mean(representations.train_accuracy)),
        "re_exact": "equals" if np.all(rank_end[:, -1] == representations.ceiling) else "differs from",
        "re_redundant": 1 - float(np.mean(rank_end[:, -1])) / int(widths[-1]),
        "re_pr_first_trend": ("falls" if first_high < 0 else "rises" if first_low > 0
                              else "does not change beyond the spread over seeds,"),
    }


def _sweep_findings(sweep: FisherSweepResult, config: FisherSweepConfig, ceiling: int) -> dict[str, float | int | str]:
    """``sw_*``: null fractions and participation ratios across architectures; ``ceiling`` is K − 1 (softmax)."""
    final_participation, probe = sweep.participation[:, -1], config.base.probe_size
    wide = int(np.argmax(sweep.parameters))
    return {
        "sw_probe": int(probe), "sw_architectures": len(sweep.labels),
        "sw_data_limited": int(np.sum(sweep.parameters - sweep.expected_null == probe * ceiling)),
        "sw_pr_low": float(np.min(final_participation)), "sw_pr_high": float(np.max(final_participation)),
        "sw_pr_low_label": str(sweep.labels[np.argmin(final_participation)]),
        "sw_pr_high_label": str(sweep.labels[np.argmax(final_participation)]),
        "sw_null_fraction_low": float(np.min(sweep.null_dimension[:, -1] / sweep.parameters)),
        "sw_null_fraction_high": float(np.max(sweep.null_dimension[:, -1] / sweep.parameters)),
        # the architecture with the most parameters per output direction the probe shows: P ≫ N(K − 1)
        "sw_wide_label": str(sweep.labels[wide]), "sw_wide_parameters": int(sweep.parameters[wide]),
        "sw_wide_ratio": float(sweep.parameters[wide] / (probe * ceiling)),
        "sw_wide_null": float(sweep.null_dimension[wide, -1]),
        "sw_wide_limit": int(sweep.parameters[wide] - probe * ceiling),
        "sw_wide_pr": float(sweep.participation[wide, -1]), "sw_visible": int(probe * ceiling),
        "sw_wide_symmetries": int(sweep.predicted_null[wide]),
        "sw_wide_symmetry_share": float(sweep.predicted_null[wide] / sweep.null_dimension[wide, -1]),
        "sw_wide_all_visible": int(config.base.n_train * ceiling),
        "sw_wide_free": int(sweep.parameters[wide] - sweep.predicted_null[wide]),
        "sw_wide_regime": ("stays limited by the data even with every training input as its probe"
                           if config.base.n_train * ceiling < sweep.parameters[wide] - sweep.predicted_null[wide]
                           else "would leave the data-limited regime with every training input as its probe"),
    }
