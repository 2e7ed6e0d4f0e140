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

For softmax cross-entropy, G_n is also the Hessian of the loss in the logits, whatever the label: the
Fisher is the generalised Gauss–Newton matrix (:func:`generalised_gauss_newton`). The empirical Fisher
(:func:`empirical_fisher_spectrum`) puts the observed label's residual in place of G_n^{1/2}.

Models and inputs are CPU tensors: spectra are float64 NumPy/LAPACK results, read at a null gap near
ε²·λ_max, and do not depend on a device's linear-algebra library. Experiments train on their device and
bring the parameters here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from uniq_core.models import MLP
from uniq_core.schema import check_choice, check_number

OUTPUTS = ("logits", "softmax")

#: Hidden activations a plain ``nn.Sequential`` may use, by the symmetry they carry: ``homogeneous``
#: (f(a·z) = a·f(z) for a > 0: positive rescaling of each unit), ``smooth`` (no continuous symmetry; tanh's
#: and the sigmoid's point reflections are discrete) and ``linear`` (the identity: GL(n) between layers).
ACTIVATION_KINDS: dict[type, str] = {nn.ReLU: "homogeneous", nn.LeakyReLU: "homogeneous", nn.Tanh: "smooth",
                                     nn.GELU: "smooth", nn.Sigmoid: "smooth", nn.SiLU: "smooth",
                                     nn.Softplus: "smooth", nn.Identity: "linear"}


def sequential_layers(model: nn.Module) -> tuple[list[nn.Linear], list[nn.Module]]:
    """The linear layers of a plain ``nn.Sequential`` and the activation after each hidden one.

    Accepted: an optional leading ``nn.Flatten``, then ``Linear`` layers, each hidden one followed by at
    most one activation of :data:`ACTIVATION_KINDS` (none means the identity), and a ``Linear`` last.
    :class:`uniq_core.models.MLP` is such a Sequential. Raises ``ValueError`` naming the first module that
    does not fit (normalisation, dropout, convolution, an activation after the last layer, …).
    """
    supported = ", ".join(kind.__name__ for kind in ACTIVATION_KINDS)
    if not isinstance(model, nn.Sequential):
        raise ValueError(f"model must be an nn.Sequential of Linear layers and activations ({supported}); "
                         f"got {type(model).__name__}")
    linears: list[nn.Linear] = []
    activations: list[nn.Module] = []
    for index, module in enumerate(model):
        if isinstance(module, nn.Flatten) and not linears:
            continue
        if isinstance(module, nn.Linear):
            if len(activations) < len(linears):
                activations.append(nn.Identity())
            linears.append(module)
        elif type(module) in ACTIVATION_KINDS and len(activations) < len(linears):
            activations.append(module)
        else:
            raise ValueError(f"model[{index}] is {type(module).__name__}: a plain Sequential has Linear layers, "
                             f"each followed by at most one activation of ({supported}), and ends with a Linear")
    if not linears or len(activations) == len(linears):
        raise ValueError(f"model must end with an nn.Linear (the logits); got {type(model[-1]).__name__}")
    return linears, activations


def _kind(activation: nn.Module) -> str:
    if isinstance(activation, nn.LeakyReLU) and activation.negative_slope <= 0:
        raise ValueError(f"LeakyReLU(negative_slope={activation.negative_slope}) must have negative_slope > 0; "
                         "use nn.ReLU for a zero slope")
    return ACTIVATION_KINDS[type(activation)]


def _gates(activation: nn.Module, pre: torch.Tensor) -> torch.Tensor:
    """Where a unit passes a signal: z > 0 for ReLU, everywhere for activations with f' ≠ 0."""
    if isinstance(activation, nn.ReLU):
        return pre > 0
    return torch.ones_like(pre, dtype=torch.bool)


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


def _mlp_gram(model: nn.Sequential, inputs: torch.Tensor) -> torch.Tensor:
    """J Jᵀ ((N·K) × (N·K), logits metric) of a plain Sequential, layer by layer without forming J."""
    activations, pre_activations = [], []
    h = inputs.reshape(inputs.shape[0], -1).detach().requires_grad_(True)  # a graph through every layer
    linears, activation = sequential_layers(model)
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


def _is_plain(model: nn.Module) -> bool:
    try:
        sequential_layers(model)
    except ValueError:
        return False
    return True


def _gram_or_metric(model: nn.Module, inputs: torch.Tensor, output: str,
                    factors: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """The smaller of F = AᵀA (P × P) and A Aᵀ (rows × rows), and P, for A = [B_n J_n] stacked over n.

    ``factors`` B_n (N × m × K) default to the square roots of the ``output`` metric (m = K)."""
    inputs, logits = _check(model, inputs, output)
    size = sum(p.numel() for p in model.parameters())
    count, classes = logits.shape
    factors = _factors(logits, output) if factors is None else factors.to(logits.dtype)
    rows = count * factors.shape[1]
    if size > rows and size > count * classes and _is_plain(model):
        with torch.enable_grad():
            gram = _mlp_gram(model, inputs)
        blocks = torch.block_diag(*factors)
        return blocks @ gram @ blocks.T, size
    J = jacobian(model, inputs)
    A = torch.einsum("nij,njp->nip", factors, J).reshape(rows, size)
    return (A.T @ A if size <= rows else A @ A.T), size


def fisher_spectrum(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> np.ndarray:
    """Eigenvalues (descending, length P) of the pullback metric Σ_n J_nᵀ G_n J_n (see the module docstring).

    When P ≤ N·K, the eigenvalues are the squared singular values of the stacked A = [G_n^{1/2} J_n]
    (an SVD of A, so the condition number is not squared: null eigenvalues sit near ε²·λ_max rather than
    ε·λ_max). When P > N·K, the spectrum comes from the N·K × N·K Gram matrix and the remaining P − N·K
    eigenvalues are exactly zero. Raises ``ValueError`` for models without parameters, inputs the model
    cannot take, outputs that are not (N, K) logits, and an unknown ``output``.
    """
    inputs, logits = _check(model, inputs, output)
    size = sum(p.numel() for p in model.parameters())
    if size <= logits.shape[0] * logits.shape[1]:  # A is formed: its singular values, not the eigenvalues of AᵀA
        A = torch.einsum("nij,njp->nip", _factors(logits, output), jacobian(model, inputs)).reshape(-1, size)
        values = np.linalg.svd(A.detach().double().numpy(), compute_uv=False) ** 2
        return np.concatenate([values, np.zeros(max(0, size - len(values)))])[:size]
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
    """Dimension of the continuous symmetries of a plain Sequential, which are null directions for any inputs.

    The model is any ``nn.Sequential`` that :func:`sequential_layers` accepts (``uniq_core.models.MLP``
    included): Linear layers with ReLU, LeakyReLU (slope > 0), Tanh, GELU, Sigmoid, SiLU, Softplus or
    Identity between them.

    - ReLU, LeakyReLU (positively homogeneous): rescaling of each hidden unit (incoming weights and bias × a,
      outgoing weights ÷ a): one direction per hidden unit. Tanh, GELU, Sigmoid, SiLU, Softplus: no
      continuous symmetry (tanh's sign flip is discrete).
    - Identity everywhere (a deep linear network): all parameter vectors with the same affine map, whose
      rank is at most r = min(widths, d_in, d_out): P − [r(d_in + d_out − r) + d_out] directions (the
      GL(n) symmetries between layers, plus hidden biases that can be pushed into the output bias).
    - ``output="softmax"``: adding one vector v to every row of the last weight matrix and one constant c
      to every output bias shifts all logits by vᵀh + c, which the softmax ignores: n_last + 1 directions
      (for a linear network, d_in + 1, when r = min(d_in, d_out)).

    Measured null dimensions exceed this when the inputs are too few (N·K small against P), when units
    are dead or see inputs of low rank (:func:`data_null_dimension`), and in small networks whose last
    hidden layer is no wider than the output (tanh 4-4-3-3 with softmax shows one more direction).
    Raises ``ValueError`` for modules other than such Sequentials and for networks that mix the identity
    with nonlinear activations (their partial GL symmetries are not counted).
    """
    check_choice("output", output, OUTPUTS)
    linears, activations = sequential_layers(model)
    kinds = [_kind(activation) for activation in activations]
    d_in, d_out = linears[0].in_features, linears[-1].out_features
    widths = [layer.out_features for layer in linears[:-1]]
    if any(layer.bias is None for layer in linears):
        raise ValueError("every Linear layer must have a bias (bias=False removes directions that are not counted)")
    size = sum(p.numel() for p in model.parameters())
    if "linear" in kinds and set(kinds) != {"linear"}:
        raise ValueError(f"activations {[type(a).__name__ for a in activations]} mix the identity with nonlinear "
                         "ones; the symmetries of such networks are not counted")
    if kinds and kinds[0] == "linear":
        rank = min(widths + [d_in, d_out])
        image = rank * (d_in + d_out - rank) + d_out
        if output == "softmax":
            if rank < min(d_in, d_out):
                raise NotImplementedError("softmax symmetries of a linear network with a bottleneck narrower than "
                                          "min(d_in, d_out) are not counted")
            image -= d_in + 1
        return size - image
    null = sum(width for width, kind in zip(widths, kinds) if kind == "homogeneous")
    if output == "softmax":
        null += widths[-1] + 1 if widths else d_in + 1
    return null


def symmetry_basis(model: nn.Module, *, output: str = "logits") -> np.ndarray:
    """An orthonormal basis (P × d) of the tangent directions of the continuous symmetries at the model's
    parameters, in ``model.parameters()`` order, d = :func:`predicted_null_dimension` for networks of
    positively homogeneous or smooth activations.

    Each hidden unit u of a ReLU/LeakyReLU layer gives the generator of its rescaling, d/da of
    (a·w_in, a·b, w_out/a) at a = 1: (w_in, b, −w_out). These depend on the parameters, so the symmetry
    subspace turns as training moves them, with no change in what the data show. With ``output="softmax"``,
    the logit shifts (one vector added to every row of the last weight matrix, one constant to every output
    bias) are the same at every point. Raises ``NotImplementedError`` for linear networks (their GL(n)
    symmetries are not listed here)."""
    check_choice("output", output, OUTPUTS)
    linears, activations = sequential_layers(model)
    kinds = [_kind(activation) for activation in activations]
    if "linear" in kinds:
        raise NotImplementedError("the GL(n) symmetry directions of linear networks are not listed; "
                                  "predicted_null_dimension counts them")
    offsets, offset = [], 0
    for layer in linears:
        offsets.append((offset, offset + layer.weight.numel()))
        offset += layer.weight.numel() + layer.bias.numel()
    size = offset
    directions = []
    for index, kind in enumerate(kinds):
        if kind != "homogeneous":
            continue
        layer, following = linears[index], linears[index + 1]
        w_in, b = layer.weight.detach().double().numpy(), layer.bias.detach().double().numpy()
        w_out = following.weight.detach().double().numpy()
        (start_in, bias_in), (start_out, _) = offsets[index], offsets[index + 1]
        for unit in range(layer.out_features):
            vector = np.zeros(size)
            weights_in = np.zeros_like(w_in)
            weights_in[unit] = w_in[unit]
            vector[start_in:bias_in] = weights_in.ravel()
            vector[bias_in + unit] = b[unit]
            weights_out = np.zeros_like(w_out)
            weights_out[:, unit] = -w_out[:, unit]
            vector[start_out:start_out + w_out.size] = weights_out.ravel()
            directions.append(vector)
    if output == "softmax":
        last = linears[-1]
        (start, bias), classes = offsets[-1], last.out_features
        for column in range(last.in_features):
            vector = np.zeros(size)
            shift = np.zeros((classes, last.in_features))
            shift[:, column] = 1.0
            vector[start:bias] = shift.ravel()
            directions.append(vector)
        vector = np.zeros(size)
        vector[bias:bias + classes] = 1.0
        directions.append(vector)
    if not directions:
        return np.zeros((size, 0))
    basis, singular, _ = np.linalg.svd(np.array(directions).T, full_matrices=False)
    return np.ascontiguousarray(basis[:, singular > singular[0] * 1e-10])


def _layer_signals(model: nn.Module, inputs: torch.Tensor, output: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per Linear layer of a plain Sequential: its inputs with a 1 appended, ã (N × (in + 1)), and the
    gradients with respect to its outputs of the K output directions B_n[c]·z_n, g (K·N × out, direction-major;
    G_n = B_nᵀ B_n as in the exact metric). The layer's block of the metric is Σ_n Σ_c (g_nc ⊗ ã_n)(g_nc ⊗ ã_n)ᵀ."""
    inputs, logits = _check(model, inputs, output)
    linears, _ = sequential_layers(model)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    handles = [layer.register_forward_hook(lambda _, args, out: seen.append((args[0], out))) for layer in linears]
    try:
        logits = model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    factors = _factors(logits.detach(), output)
    count, classes = logits.shape
    outputs = [out for _, out in seen]
    gradients: list[list[torch.Tensor]] = [[] for _ in linears]
    for c in range(classes):
        grads = torch.autograd.grad((factors[:, c, :] * logits).sum(), outputs, retain_graph=c < classes - 1)
        for layer, grad in enumerate(grads):
            gradients[layer].append(grad.detach())
    signals = []
    for (layer_input, _), grads in zip(seen, gradients):
        a = torch.cat([layer_input.detach().reshape(count, -1), torch.ones(count, 1, dtype=layer_input.dtype)], dim=1)
        signals.append((a, torch.cat(grads, dim=0)))
    return signals


def kfac_factors(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> list[tuple[np.ndarray, np.ndarray]]:
    """K-FAC's Kronecker factors (Martens & Grosse 2015) of a plain Sequential's metric, per Linear layer:
    A = (1/N) Σ_n ã_n ã_nᵀ over the layer's inputs with a 1 appended (for the bias), and
    G = (1/N) Σ_n Σ_c g_nc g_ncᵀ over the gradients with respect to the layer's outputs of the K output
    directions (:func:`_layer_signals`). The exact layer block is Σ_n Σ_c (g_nc g_ncᵀ) ⊗ (ã_n ã_nᵀ); K-FAC
    replaces it by N · G ⊗ A, treating activations and output gradients as independent, and drops every
    block between layers (:func:`block_diagonal_spectrum` keeps the exact blocks)."""
    count = inputs.shape[0]
    return [((a.T @ a / count).double().numpy(), (g.T @ g / count).double().numpy())
            for a, g in _layer_signals(model, inputs, output)]


def block_diagonal_spectrum(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> np.ndarray:
    """Eigenvalues (descending, length P) of the metric with every block between layers dropped and each
    layer's block kept exact: the squared singular values of the rows g_nc ⊗ ã_n, per layer. Between the
    exact metric and :func:`kfac_spectrum`, it separates what K-FAC loses by dropping the blocks between
    layers from what it loses by factoring each block."""
    values = []
    for a, g in _layer_signals(model, inputs, output):
        count = a.shape[0]
        rows = (g.reshape(-1, count, g.shape[1])[:, :, :, None] * a[None, :, None, :]).reshape(-1, g.shape[1] * a.shape[1])
        singular = np.linalg.svd(rows.double().numpy(), compute_uv=False)
        values.append(np.concatenate([singular**2, np.zeros(max(0, rows.shape[1] - len(singular)))]))
    return np.sort(np.concatenate(values))[::-1]


def kfac_spectrum(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> np.ndarray:
    """Eigenvalues (descending, length P) of K-FAC's block-diagonal approximation of the metric on
    ``inputs``: per layer, N times the products of the eigenvalues of its factors (:func:`kfac_factors`)."""
    count = inputs.shape[0]
    values = []
    for a, g in kfac_factors(model, inputs, output=output):
        values.append(np.outer(np.clip(np.linalg.eigvalsh(g), 0, None), np.clip(np.linalg.eigvalsh(a), 0, None)).ravel())
    return np.sort(count * np.concatenate(values))[::-1]


def empirical_fisher_spectrum(model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Eigenvalues (descending, length P) of the empirical Fisher Σ_n g_n g_nᵀ, g_n = ∇_θ log p(y_n | x_n).

    For softmax outputs g_n = J_nᵀ (e_{y_n} − p_n), so the empirical Fisher is the pullback with the rank-one
    factor B_n = (e_{y_n} − p_n)ᵀ in place of G_n^{1/2}: rank ≤ N. It uses the observed labels where the
    Fisher averages over y ~ p_n: E_{y~p_n}[(e_y − p_n)(e_y − p_n)ᵀ] = diag(p_n) − p_n p_nᵀ = G_n, so the two
    agree in expectation only when the labels are drawn from the model (Kunstner, Hennig & Balles 2019,
    "Limitations of the empirical Fisher approximation"). Raises ``ValueError`` for labels that are not N
    integers in [0, K).
    """
    inputs, logits = _check(model, inputs, "softmax")
    labels = torch.as_tensor(labels)
    count, classes = logits.shape
    if labels.shape != (count,) or labels.dtype.is_floating_point or labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must be {count} integers in [0, {classes}); got shape {tuple(labels.shape)}")
    residual = torch.nn.functional.one_hot(labels.long(), classes).to(logits.dtype) - torch.softmax(logits, -1)
    matrix, size = _gram_or_metric(model, inputs, "softmax", factors=residual[:, None, :])
    values = np.clip(np.linalg.eigvalsh(matrix.detach().double().numpy())[::-1], 0.0, None)
    return np.concatenate([values, np.zeros(max(0, size - len(values)))])[:size]


def generalised_gauss_newton(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """Σ_n J_nᵀ H_n J_n (P × P) with H_n = ∂²ℓ/∂z² the Hessian of the cross-entropy ℓ(z) = −log softmax(z)_y
    in the logits, taken by ``torch.func.hessian`` (Schraudolph 2002; Martens 2020, "New insights and
    perspectives on the natural gradient method").

    H_n = diag(p_n) − p_n p_nᵀ does not depend on the label y, and it is G_n of the Fisher: for softmax
    cross-entropy the Fisher and the generalised Gauss–Newton matrix are one matrix (the tests check it to
    rounding). Forms the Jacobian, so it is meant for small models.
    """
    inputs, logits = _check(model, inputs, "softmax")

    def cross_entropy(z: torch.Tensor) -> torch.Tensor:
        return -torch.log_softmax(z, -1)[0]

    hessians = vmap(torch.func.hessian(cross_entropy))(logits.detach())
    J = jacobian(model, inputs)
    return torch.einsum("nkp,nkl,nlq->pq", J, hessians, J).detach().double().numpy()


def null_space(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> tuple[np.ndarray, np.ndarray]:
    """An orthonormal basis (P × d) of the metric's null space and its spectrum (descending, length P).

    d is read at the spectrum's gap (:func:`gap_null_dimension`); the basis is the right singular vectors of
    the stacked A = [G_n^{1/2} J_n] (F = AᵀA) for its d smallest singular values, and the spectrum the
    squared singular values (an SVD of A does not square the condition number). Forms the P × P basis, so
    P must stay in the thousands.
    """
    inputs, logits = _check(model, inputs, output)
    size = sum(p.numel() for p in model.parameters())
    A = torch.einsum("nij,njp->nip", _factors(logits, output), jacobian(model, inputs)).reshape(-1, size)
    _, singular, vt = np.linalg.svd(A.detach().double().numpy(), full_matrices=True)
    values = np.concatenate([singular**2, np.zeros(max(0, size - len(singular)))])[:size]
    dimension = gap_null_dimension(values, floor=SVD_FLOOR)
    return np.ascontiguousarray(vt[size - dimension:].T), values


def complement_within(basis: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the part of span(``basis``) orthogonal to span(``inner``): (I − QQᵀ)·basis,
    Q = ``inner``, orthonormalised, keeping d_basis − d_inner directions (all of them when ``inner`` lies in
    ``basis``). For the null space and the symmetry subspace inside it, the symmetry-free null directions."""
    basis, inner = np.asarray(basis, dtype=np.float64), np.asarray(inner, dtype=np.float64)
    if basis.shape[1] == 0:
        return basis
    projected = basis - inner @ (inner.T @ basis) if inner.shape[1] else basis
    u, singular, _ = np.linalg.svd(projected, full_matrices=False)
    keep = max(0, basis.shape[1] - inner.shape[1])
    return np.ascontiguousarray(u[:, :keep])


def principal_angles(basis_a: np.ndarray, basis_b: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending, min(d_a, d_b) of them) between the column spans of two
    orthonormal bases: θ_i = arccos σ_i(Aᵀ B) (Björck & Golub 1973, Math. Comp. 27, 579).

    0 for a shared direction, π/2 for orthogonal ones. For independent uniformly random subspaces of R^P,
    E Σ cos² θ_i = d_a d_b / P.
    """
    basis_a, basis_b = np.asarray(basis_a, dtype=np.float64), np.asarray(basis_b, dtype=np.float64)
    if basis_a.ndim != 2 or basis_b.ndim != 2 or basis_a.shape[0] != basis_b.shape[0]:
        raise ValueError(f"bases must be (P, d) arrays with the same P; got {basis_a.shape} and {basis_b.shape}")
    if basis_a.shape[1] == 0 or basis_b.shape[1] == 0:
        return np.zeros(0)
    cosines = np.linalg.svd(basis_a.T @ basis_b, compute_uv=False)
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))


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


def _rank(rows: torch.Tensor) -> int:
    return int(torch.linalg.matrix_rank(rows)) if len(rows) else 0


def data_null_dimension(model: nn.Module, inputs: torch.Tensor, *, output: str = "logits") -> dict[str, int]:
    """Null directions that the inputs, not the architecture, add to the symmetries of a plain Sequential.

    Each unit of every Linear layer (the logits included) sees its incoming weights and bias w only through
    Σ_n δ_n (wᵀ[h_n, 1]), with h_n its layer input and δ_n ∈ R^K the back-propagated signal of the logits
    to the unit's pre-activation. w is invisible exactly when wᵀ[h_n, 1] = 0 on every input with δ_n ≠ 0
    (for ReLU, inputs where the unit and some path above it are active): if those rows span r < fan_in + 1
    dimensions, fan_in + 1 − r directions are null. These blocks lie on disjoint coordinates, so they add up:

    - ``incoming``: the sum over hidden units (constant pixels, units active on few inputs, all incoming
      weights of a ``dead`` unit, i.e. one active on no input);
    - ``outgoing``: the sum over the output layer (the outgoing weights of dead units of the last hidden
      layer; a dead unit of an earlier layer has its outgoing weights in the next layer's ``incoming``);
    - ``shared``: directions of both lists that :func:`predicted_null_dimension` already counts: the
      rescaling of each dead ReLU unit, and for ``output="softmax"`` the logit shifts along the
      n_last + 1 − rank([h_last, 1]) directions the last hidden layer never takes;
    - ``linear``: Σ_l k_l² over ReLU/LeakyReLU layers, with k_l the units whose pre-activation keeps one
      sign on every input (for LeakyReLU, counted per sign). On these inputs such units act linearly, so
      mixing them (A on their incoming weights, A⁻¹ on their outgoing ones: k² directions) and shifting
      their biases into the next layer's (k directions) leave every output unchanged; the k rescalings
      among them are already symmetries;
    - ``dead``: the number of dead hidden units; ``total`` = incoming + outgoing − shared + linear, which
      with the symmetries explains the measured null dimension when N·K is large.

    For networks with identity activations only the first layer's incoming directions are counted (deeper
    rank deficits are part of the linear network's GL symmetries). Directions that mix the blocks of
    several units in other ways are not counted: the tests find the count exact for K ≥ 3 outputs, while a
    binary softmax (one logit difference) or a hidden layer narrower than the output can show one or two
    more null directions.
    """
    check_choice("output", output, OUTPUTS)
    linears, activations = sequential_layers(model)
    kinds = [_kind(activation) for activation in activations]
    linear_network = bool(kinds) and kinds[0] == "linear"
    h = inputs.reshape(inputs.shape[0], -1).to(linears[0].weight.dtype).detach()
    layer_inputs, pre_activations = [], []
    with torch.enable_grad():
        x = h.requires_grad_(True)
        for index, layer in enumerate(linears):
            layer_inputs.append(x.detach())
            z = layer(x)
            pre_activations.append(z)
            x = activations[index](z) if index < len(activations) else z
        logits = x
        seen = [torch.zeros_like(z, dtype=torch.bool) for z in pre_activations[:-1]]
        for k in range(logits.shape[1]):
            grads = torch.autograd.grad(logits[:, k].sum(), pre_activations[:-1], retain_graph=True,
                                        allow_unused=True)
            for index, g in enumerate(grads):
                if g is not None:
                    seen[index] |= g != 0
    incoming = outgoing = dead = linear = 0
    for index, layer in enumerate(linears):
        if linear_network and index > 0:
            break
        augmented = torch.cat([layer_inputs[index], torch.ones(len(h), 1, dtype=h.dtype)], dim=1).double()
        if index == len(linears) - 1:  # the logits see every input
            outgoing += layer.out_features * (layer.in_features + 1 - _rank(augmented))
            continue
        gates = _gates(activations[index], pre_activations[index].detach()) & seen[index]
        for j in range(layer.out_features):
            rank = _rank(augmented[gates[:, j]])
            incoming += layer.in_features + 1 - rank
        pre = pre_activations[index].detach()
        if isinstance(activations[index], nn.ReLU):
            dead += int((~(pre > 0).any(dim=0)).sum())
        if kinds[index] == "homogeneous":  # units that never change regime act linearly: GL(k) and bias shifts
            linear += int((pre > 0).all(dim=0).sum()) ** 2
            if isinstance(activations[index], nn.LeakyReLU):
                linear += int((pre < 0).all(dim=0).sum()) ** 2
    shared = dead
    if output == "softmax" and not linear_network and len(linears) > 1:
        last = torch.cat([layer_inputs[-1], torch.ones(len(h), 1, dtype=h.dtype)], dim=1).double()
        shared += linears[-1].in_features + 1 - _rank(last)
    if linear_network:
        outgoing = shared = 0
    return {"incoming": incoming, "outgoing": outgoing, "shared": shared, "dead": dead, "linear": linear,
            "total": incoming + outgoing - shared + linear}


def dead_units(model: nn.Module, inputs: torch.Tensor) -> int:
    """Number of ReLU hidden units whose pre-activation is ≤ 0 on every input."""
    return data_null_dimension(model, inputs)["dead"]


#: Relative floor for spectra from the singular values of A (exact null eigenvalues sit near ε² ≈ 1e-32);
#: the default floor of :func:`gap_null_dimension` (1e-13) is for eigenvalues of AᵀA or A Aᵀ (near ε).
SVD_FLOOR = 1e-24


def spectrum_floor(model: nn.Module, inputs: torch.Tensor) -> float:
    """The floor for :func:`gap_null_dimension` that fits :func:`fisher_spectrum` on these inputs: SVD_FLOOR
    when it takes the SVD of A (P ≤ N·K), 1e-13 when it diagonalises a Gram matrix."""
    size = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        classes = model(inputs[:1].to(next(model.parameters()).dtype)).shape[-1]
    return SVD_FLOOR if size <= inputs.shape[0] * classes else 1e-13


def gap_null_dimension(eigenvalues: np.ndarray, *, floor: float = 1e-13, min_decades: float = 2.0) -> int:
    """Null dimension read at the spectrum's null gap: the number of eigenvalues below the *lowest* drop of
    more than ``min_decades`` decades between consecutive eigenvalues whose upper value exceeds ``floor`` ×
    the largest; when there is no such drop, the number of eigenvalues below ``floor`` × the largest.

    Below ``floor`` (relative) the arithmetic cannot tell eigenvalues from zero, so drops there are ignored.
    Taking the lowest qualifying drop, not the largest one, keeps a wide gap inside the non-null spectrum
    from being read as the null gap when the null gap is narrower (a kept tail close to the floor). Unlike
    a fixed tolerance, this separates an exact null space from a spectrum that merely decays; how the count
    moves with a fixed tolerance is :func:`null_dimension_by_rtol`.
    """
    values = np.sort(np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None))[::-1]
    if values.size < 2 or values[0] == 0:
        return int(values.size if values.size and values[0] == 0 else 0)
    logs = np.log10(np.maximum(values / values[0], 1e-300))
    drops = logs[1:] - logs[:-1]
    qualifying = np.flatnonzero((drops < -min_decades) & (logs[:-1] >= np.log10(floor)))
    if qualifying.size:
        return int(values.size - qualifying[-1] - 1)
    return int(np.sum(logs < np.log10(floor)))


def null_gap_ratio(eigenvalues: np.ndarray, dimension: int) -> float:
    """Smallest kept eigenvalue over the largest one counted null, for a null ``dimension`` d (∞ when d is
    0 or the largest null eigenvalue is exactly 0): how clearly the count is separated from its neighbours."""
    values = np.sort(np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None))[::-1]
    if dimension <= 0 or dimension >= values.size:
        return float("inf")
    null_top = values[values.size - dimension]
    return float(values[values.size - dimension - 1] / null_top) if null_top > 0 else float("inf")


def null_dimension_by_rtol(eigenvalues: np.ndarray, rtols) -> np.ndarray:
    """Number of eigenvalues at most rtol × the largest, for each rtol: the fixed-tolerance null dimension."""
    values = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    return np.array([int(np.sum(values <= rtol * values.max())) for rtol in rtols])
