"""Pullback metrics of the output distribution on parameters and on layer representations.

For inputs x_1…x_N and a network with outputs z(θ, x) ∈ R^K, the pullback of a metric G on outputs is

    F(θ) = Σ_n J_nᵀ G_n J_n,     J_n = ∂z(θ, x_n)/∂θ  (K × P).

``output="logits"``: G = I (Euclidean metric on logits, the Gauss–Newton matrix of the squared loss).
``output="softmax"``: G_n = diag(p_n) − p_n p_nᵀ with p_n = softmax(z_n), the Fisher–Rao metric of the
categorical distribution in logit coordinates; F is then the Fisher information matrix of the model
(Amari 2016, Information Geometry and Its Applications). G_n = B_nᵀ B_n with B_n = diag(√p_n) − √p_n p_nᵀ,
so F = AᵀA for the stacked A = [B_n J_n] (N·K × P), and F has the same non-zero spectrum as the N·K × N·K
Gram matrix A Aᵀ: the Gram form is used whenever P > N·K. For MLPs the Gram matrix is assembled layer by
layer without forming J (the Jacobian of a linear layer's weights is an outer product, so its Gram block is
the elementwise product of the activation Gram and the back-propagated signal Gram), which keeps memory at
O(N·K·width) for any number of parameters.

Null directions: F v = 0 exactly when moving θ along v leaves every output distribution unchanged to first
order. Continuous symmetries give such directions for every input set (see :func:`predicted_null_dimension`);
finite data adds more when N·K is small compared with P.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from uniq_core.models import MLP
from uniq_core.schema import check_choice, check_number

OUTPUTS = ("logits", "softmax")


def _check(model: nn.Module, inputs: torch.Tensor, output: str) -> tuple[torch.Tensor, torch.Tensor]:
    check_choice("output", output, OUTPUTS)
    parameters = [p for p in model.parameters()]
    if not parameters:
        raise ValueError(f"{type(model).__name__} has no parameters: there is no metric to pull back")
    if not isinstance(inputs, torch.Tensor) or inputs.dim() < 2 or inputs.shape[0] == 0:
        raise ValueError(f"inputs must be a non-empty batch tensor (N, ...); got {getattr(inputs, 'shape', inputs)!r}")
    dtype = parameters[0].dtype
    inputs = inputs.to(dtype)
    with torch.no_grad():
        try:
            logits = model(inputs)
        except RuntimeError as error:
            raise ValueError(f"inputs of shape {tuple(inputs.shape)} do not fit the model: {error}") from error
    if logits.dim() != 2 or logits.shape[0] != inputs.shape[0]:
        raise ValueError(f"the model must return logits of shape (N, K); got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise ValueError("the model's outputs are not finite on these inputs")
    return inputs, logits


def _factors(logits: torch.Tensor, output: str) -> torch.Tensor:
    """B_n (N × K × K) with G_n = B_nᵀ B_n."""
    count, classes = logits.shape
    if output == "logits":
        return torch.eye(classes, dtype=logits.dtype).expand(count, classes, classes)
    p = torch.softmax(logits, dim=-1)
    root = p.sqrt()
    return torch.diag_embed(root) - root[:, :, None] * p[:, None, :]


def jacobian(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Per-example Jacobians of the logits with respect to all parameters: (N, K, P), by ``jacrev``.

    The whole batch goes through the model at once, so batch-dependent layers (train-mode BatchNorm) are
    differentiated as they act; parameters are flattened in ``model.parameters()`` order.
    """
    names = [name for name, _ in model.named_parameters()]
    values = tuple(p.detach() for p in model.parameters())
    buffers = dict(model.named_buffers())

    def outputs(*params: torch.Tensor) -> torch.Tensor:
        return functional_call(model, ({**dict(zip(names, params)), **buffers}), (inputs,))

    blocks = jacrev(outputs, argnums=tuple(range(len(values))))(*values)
    count, classes = inputs.shape[0], blocks[0].shape[1]
    return torch.cat([block.reshape(count, classes, -1) for block in blocks], dim=-1)


def _mlp_gram(model: MLP, inputs: torch.Tensor) -> torch.Tensor:
    """J Jᵀ ((N·K) × (N·K), logits metric) of an MLP, layer by layer without forming J."""
    activations, pre_activations = [], []
    h = inputs.reshape(inputs.shape[0], -1).detach().requires_grad_(True)  # a graph through every layer
    linears = [m for m in model if isinstance(m, nn.Linear)]
    activation = [m for m in model if not isinstance(m, (nn.Linear, nn.Flatten))]
    for index, layer in enumerate(linears):
        activations.append(h)
        z = layer(h)
        pre_activations.append(z)
        h = activation[index](z) if index < len(activation) else z
    logits = h
    count, classes = logits.shape
    signals = [torch.empty(count, classes, z.shape[1], dtype=logits.dtype) for z in pre_activations]
    for k in range(classes):
        grads = torch.autograd.grad(logits[:, k].sum(), pre_activations, retain_graph=True)
        for l, g in enumerate(grads):
            signals[l][:, k] = g
    gram = torch.zeros(count * classes, count * classes, dtype=logits.dtype)
    for a, delta in zip(activations, signals):
        inner = a.detach() @ a.detach().T + 1.0  # weights and bias
        flat = delta.reshape(count * classes, -1)
        gram += (flat @ flat.T) * inner.repeat_interleave(classes, 0).repeat_interleave(classes, 1)
    return gram


def _gram_or_metric(model: nn.Module, inputs: torch.Tensor, output: str) -> tuple[torch.Tensor, int]:
    """The smaller of F = AᵀA (P × P) and A Aᵀ (N·K × N·K), and P."""
    inputs, logits = _check(model, inputs, output)
    size = sum(p.numel() for p in model.parameters())
    count, classes = logits.shape
    factors = _factors(logits, output)
    if size > count * classes and isinstance(model, MLP):
        with torch.enable_grad():
            gram = _mlp_gram(model, inputs)
        blocks = torch.block_diag(*factors)
        return blocks @ gram @ blocks.T, size
    J = jacobian(model, inputs)
    A = torch.einsum("nij,njp->nip", factors, J).reshape(count * classes, size)
    return (A.T @ A if size <= count * classes else A @ A.T), size


def fisher_spectrum(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> np.ndarray:
    """Eigenvalues (descending, length P) of the pullback metric Σ_n J_nᵀ G_n J_n (see the module docstring).

    When P > N·K, the spectrum comes from the N·K × N·K Gram matrix and the remaining P − N·K
    eigenvalues are exactly zero. Raises ``ValueError`` for models without parameters, inputs the model
    cannot take, outputs that are not (N, K) logits, and an unknown ``output``.
    """
    matrix, size = _gram_or_metric(model, inputs, output)
    values = np.linalg.eigvalsh(matrix.detach().double().numpy())[::-1]
    values = np.clip(values, 0.0, None)
    return np.concatenate([values, np.zeros(max(0, size - len(values)))])[:size]


def null_dimension(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits", rtol: float = 1e-6) -> int:
    """Number of eigenvalues of the pullback metric at most ``rtol`` × the largest."""
    check_number("rtol", rtol, low=0.0, high=1.0, low_inclusive=False)
    values = fisher_spectrum(model, inputs, output=output)
    return int(np.sum(values <= rtol * values[0]))


def predicted_null_dimension(model: nn.Module, *, output: str = "logits") -> int:
    """Dimension of the continuous symmetries of an MLP, which are null directions for any inputs.

    - ReLU: positive rescaling of each hidden unit (incoming weights and bias × a, outgoing weights ÷ a):
      one direction per hidden unit. tanh, GELU: no continuous symmetry (tanh's sign flip is discrete).
    - Linear activations (a deep linear network): all parameter vectors with the same affine map, whose
      rank is at most r = min(widths, d_in, d_out): P − [r(d_in + d_out − r) + d_out] directions (the
      GL(n) symmetries between layers, plus hidden biases that can be pushed into the output bias).
    - ``output="softmax"``: adding one vector v to every row of the last weight matrix and one constant c
      to every output bias shifts all logits by vᵀh + c, which the softmax ignores: n_last + 1 directions
      (for a linear network, d_in + 1, when r = min(d_in, d_out)).

    Measured null dimensions exceed this when the inputs are too few (N·K small against P), when units
    are dead or see inputs of low rank (:func:`data_null_dimension`), and in small networks whose last
    hidden layer is no wider than the output (tanh 4-4-3-3 with softmax shows one more direction). Raises ``TypeError`` for models other than :class:`uniq_core.models.MLP`.
    """
    check_choice("output", output, OUTPUTS)
    if not isinstance(model, MLP):
        raise TypeError(f"predicted_null_dimension knows the symmetries of uniq_core.models.MLP; got {type(model).__name__}")
    linears = [m for m in model if isinstance(m, nn.Linear)]
    d_in, d_out = linears[0].in_features, linears[-1].out_features
    widths = list(model.widths)
    size = sum(p.numel() for p in model.parameters())
    if model.activation == "linear":
        rank = min(widths + [d_in, d_out])
        image = rank * (d_in + d_out - rank) + d_out
        if output == "softmax":
            if rank < min(d_in, d_out):
                raise NotImplementedError("softmax symmetries of a linear network with a bottleneck narrower than "
                                          "min(d_in, d_out) are not counted")
            image -= d_in + 1
        return size - image
    null = sum(widths) if model.activation == "relu" else 0
    if output == "softmax":
        null += widths[-1] + 1 if widths else d_in + 1
    return null


# ------------------------------------------------------------------------------- effective dimension


def effective_rank(eigenvalues: np.ndarray, kind: str = "participation", *, prior: float = 1.0) -> float:
    """Effective number of directions of a non-negative spectrum λ.

    - ``participation``: (Σλ)² / Σλ² (1 for a single direction, n for n equal ones);
    - ``mackay``: Σ λ / (λ + prior), MacKay's number of well-determined parameters for a Gaussian prior of
      precision ``prior`` (MacKay 1992, Neural Computation 4, 448);
    - ``entropy``: exp(−Σ p log p) with p = λ/Σλ (Roy & Vetterli 2007, EUSIPCO).
    """
    check_choice("kind", kind, ("participation", "mackay", "entropy"))
    values = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    if values.size == 0 or values.sum() == 0:
        return 0.0
    if kind == "participation":
        return float(values.sum() ** 2 / np.sum(values**2))
    if kind == "mackay":
        check_number("prior", prior, low=0.0, low_inclusive=False)
        return float(np.sum(values / (values + prior)))
    p = values[values > 0] / values.sum()
    return float(np.exp(-np.sum(p * np.log(p))))


# ---------------------------------------------------------------------------------- representations


def representation_metrics(model: MLP, inputs: torch.Tensor, *, output: str = "logits") -> list[np.ndarray]:
    """For each hidden layer l of an MLP, Σ_n J_nᵀ G_n J_n with J_n = ∂z/∂h_l (K × n_l) at the layer's
    activations h_l (after the nonlinearity): the metric the output distribution induces on that layer."""
    inputs, logits = _check(model, inputs, output)
    if not isinstance(model, MLP):
        raise TypeError(f"representation_metrics splits uniq_core.models.MLP into layers; got {type(model).__name__}")
    factors = _factors(logits, output)
    layers = list(model)
    metrics = []
    h = inputs
    for index, layer in enumerate(layers):
        h = layer(h)
        is_hidden_output = index + 1 < len(layers) and not isinstance(layer, (nn.Linear, nn.Flatten)) and \
            isinstance(layers[index + 1], nn.Linear)
        if is_hidden_output:
            rest = nn.Sequential(*layers[index + 1:])
            with torch.enable_grad():
                J = vmap(jacrev(lambda a: rest(a[None])[0]))(h.detach())  # (N, K, n_l)
            A = torch.einsum("nij,njm->nim", factors, J).reshape(-1, J.shape[-1])
            metrics.append((A.T @ A).detach().double().numpy())
    return metrics


def data_null_dimension(model: MLP, inputs: torch.Tensor) -> dict[str, int]:
    """Null directions that the inputs, not the architecture, create in an MLP's metric.

    The incoming weights and bias of hidden unit j are seen only through the inputs on which the unit is
    active (all inputs for tanh, GELU and linear units): if its layer inputs [h, 1] on those examples span
    r_j < fan_in + 1 dimensions, the other fan_in + 1 − r_j directions are null (``incoming``: constant
    pixels, units active on few examples). A unit active on no input (``dead``) has its outgoing weights
    null too, less the ReLU rescaling direction already counted by :func:`predicted_null_dimension`.
    ``total`` is their sum; with the symmetries it explains the measured null dimension when N·K is large.
    """
    if not isinstance(model, MLP):
        raise TypeError(f"data_null_dimension reads the layers of uniq_core.models.MLP; got {type(model).__name__}")
    h = inputs.reshape(inputs.shape[0], -1).to(next(model.parameters()).dtype)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    activations = [m for m in model if not isinstance(m, (nn.Linear, nn.Flatten))]
    incoming, dead_total = 0, 0
    with torch.no_grad():
        for index, layer in enumerate(linears[:-1]):
            augmented = torch.cat([h, torch.ones(len(h), 1, dtype=h.dtype)], dim=1).double()
            pre = layer(h)
            active = pre > 0 if model.activation == "relu" else torch.ones_like(pre, dtype=torch.bool)
            for j in range(pre.shape[1]):
                rows = augmented[active[:, j]]
                rank = int(torch.linalg.matrix_rank(rows)) if len(rows) else 0
                incoming += layer.in_features + 1 - rank
                if rank == 0:
                    dead_total += linears[index + 1].out_features - (1 if model.activation == "relu" else 0)
            h = activations[index](pre)
    return {"incoming": incoming, "dead": dead_total, "total": incoming + dead_total}


def gap_null_dimension(eigenvalues: np.ndarray, *, floor: float = 1e-13) -> int:
    """Null dimension read from the spectrum's largest gap: the number of eigenvalues below the largest
    drop between consecutive ones (on a log scale) whose upper value exceeds ``floor`` × the largest.

    Below ``floor`` (relative) float64 arithmetic cannot tell eigenvalues from zero, so drops there are
    ignored. Unlike a fixed tolerance, this separates an exact null space from a spectrum that merely decays.
    """
    values = np.sort(np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None))[::-1]
    if values.size < 2 or values[0] == 0:
        return int(values.size if values.size and values[0] == 0 else 0)
    logs = np.log10(np.maximum(values / values[0], 1e-300))
    drops = logs[1:] - logs[:-1]
    drops[logs[:-1] < np.log10(floor)] = 0.0
    position = int(np.argmin(drops))
    return int(values.size - position - 1) if drops[position] < -2 else int(np.sum(logs < np.log10(floor)))
