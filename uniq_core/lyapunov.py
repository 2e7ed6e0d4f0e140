"""Lyapunov exponents of a discrete-time map by Benettin's algorithm with QR re-orthonormalisation.

For a map :math:`x_{t+1} = f(x_t)` with Jacobian :math:`J_t = Df(x_t)`, the exponents are the growth rates
of the singular values of the product :math:`J_{T-1}\\cdots J_0`. Benettin et al. (1980) evolve k tangent
vectors with the Jacobian and re-orthonormalise them by a QR factorisation every few steps,
:math:`J Q_{t} = Q_{t+1} R_{t+1}`; then

.. math::  \\lambda_i = \\frac{1}{T\\,\\Delta t} \\sum_{\\text{renormalisations}} \\ln |R_{ii}|,

with the diagonal of R made positive (sign fixing), so that the i-th exponent is the growth rate of the
i-dimensional volume spanned by the first i tangents, minus that of the first i−1.
Tangents are pushed forward with :func:`torch.func.jvp` (forward-mode derivatives, no finite differences).

References: G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, Meccanica 15, 9-20 (1980);
K. Geist, U. Parlitz, W. Lauterborn, Prog. Theor. Phys. 83, 875 (1990) on QR methods.
"""

from __future__ import annotations

import copy
import math
import weakref
from typing import Any, Callable

import numpy as np
import torch
from torch.func import jvp, vmap

from uniq_core.models import flat_parameters, unflatten
from uniq_core.schema import check_choice, check_number

Step = Callable[[torch.Tensor], torch.Tensor]


#: How each step function's tangents were last pushed (index into the strategies of :func:`_push_forward`):
#: a step that one strategy cannot run is not retried with it at every step.
_PUSH_STRATEGY: "weakref.WeakKeyDictionary[Any, int]" = weakref.WeakKeyDictionary()


def _push_forward(step: Step, state: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next state and the images of the tangent columns (n × k) under the Jacobian of ``step`` at ``state``.

    Forward mode (:func:`torch.func.jvp`) batched by :func:`torch.func.vmap`; where vmap cannot batch the step
    (data-dependent control flow), one column at a time; where forward mode cannot run it (some losses'
    double-backward formulas, e.g. ``F.mse_loss``'s), the same product by reverse mode twice, J v =
    ∂/∂u [(Jᵀu)·v] (batched, then one column at a time). The first strategy that works is remembered."""

    def push(vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return jvp(step, (state,), (vector,))

    def push_reverse(vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, pull = torch.func.vjp(step, state)
        return out, torch.func.vjp(lambda u: pull(u)[0], torch.zeros_like(out))[1](vector)[0]

    def batched(function):
        return lambda: vmap(function, in_dims=1, out_dims=(None, 1))(tangents)

    def looped(function):
        def run():
            pushed = [function(tangents[:, j]) for j in range(tangents.shape[1])]
            return pushed[0][0], torch.stack([image for _, image in pushed], dim=1)
        return run

    strategies = (batched(push), looped(push), batched(push_reverse), looped(push_reverse))
    try:
        known = _PUSH_STRATEGY.get(step)
    except TypeError:  # a step that cannot be weakly referenced
        known = None
    if known is not None:
        return strategies[known]()
    error: Exception | None = None
    for index, strategy in enumerate(strategies):
        try:
            result = strategy()
        except Exception as caught:  # the next strategy
            error = caught
            continue
        try:
            _PUSH_STRATEGY[step] = index
        except TypeError:
            pass
        return result
    raise error  # type: ignore[misc]


def _check_state(what: str, state: torch.Tensor, tangents: torch.Tensor, t: int, n_steps: int) -> None:
    if not (torch.isfinite(state).all() and torch.isfinite(tangents).all()):
        kind = "state" if not torch.isfinite(state).all() else "tangent vectors"
        raise ValueError(
            f"non-finite {kind} at step {t} of {n_steps}{what}: the step returned NaN/inf"
            + ("" if kind == "state" else ", or tangents overflowed (lower renorm_every)")
        )


def _orthonormalise(tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign-fixed QR: tangents = Q R with diag(R) > 0; returns Q and ln diag(R). Batched over any leading
    dimensions (… × n × k)."""
    tangents, upper = torch.linalg.qr(tangents)
    diagonal = torch.diagonal(upper, dim1=-2, dim2=-1)
    signs = torch.sign(diagonal)
    signs[signs == 0] = 1.0
    return tangents * signs.unsqueeze(-2), torch.log(diagonal.abs())


def random_tangents(n: int, k: int, seed: int = 0) -> torch.Tensor:
    """k random orthonormal columns in R^n (float64): the cold start of Benettin's algorithm."""
    generator = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(n, k, generator=generator, dtype=torch.float64))[0]


def benettin_steps(
    step: Step,
    state: torch.Tensor,
    tangents: torch.Tensor,
    n_steps: int,
    *,
    renorm_every: int = 1,
    label: str = "",
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """Advance the orbit and the tangent columns (n × k) by ``n_steps`` steps of ``step``.

    Returns the final state, the final orthonormal tangents, the step indices (1-based) of the
    re-orthonormalisations, and the log growth ln R_ii at each of them (m × k, in tangent order).
    Chaining calls continues one Benettin run: a warm-up is a call whose logs are discarded.
    """
    steps, logs = [], []
    for t in range(1, n_steps + 1):
        state, tangents = _push_forward(step, state, tangents)
        _check_state(label, state, tangents, t, n_steps)
        if t % renorm_every == 0 or t == n_steps:
            tangents, log_growth = _orthonormalise(tangents)
            steps.append(t)
            logs.append(log_growth)
    k = tangents.shape[1]
    log_array = torch.stack(logs).numpy() if logs else np.zeros((0, k))
    return state, tangents, np.asarray(steps, dtype=np.int64), log_array


def lyapunov_spectrum(
    step: Step,
    x0: torch.Tensor,
    n_steps: int,
    *,
    k: int | None = None,
    transient: int = 0,
    renorm_every: int = 1,
    dt: float = 1.0,
    seed: int = 0,
    return_running: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The top-``k`` Lyapunov exponents of ``step`` along the orbit of ``x0``, descending, per unit time.

    Parameters
    ----------
    step : maps a 1-D float64 tensor (the state) to the next state; must be differentiable by
        :func:`torch.func.jvp`.
    x0 : initial state, 1-D.
    n_steps : number of steps over which exponents are averaged (after the transient), ≥ 1.
    k : number of exponents (default: all, the state dimension).
    transient : steps run first and discarded. Orbit *and* tangents advance during it (with the same
        re-orthonormalisation), so the tangents start the accumulation aligned with the most expanding
        directions (the backward Lyapunov vectors) instead of at random.
    renorm_every : QR re-orthonormalisation interval; larger intervals are cheaper but overflow
        when tangents grow by more than ~1e300 in between.
    dt : time per step; exponents are divided by it.
    seed : seed of the random orthonormal initial tangents.
    return_running : also return the running estimate λ̂(t) after each re-orthonormalisation.

    Returns
    -------
    numpy array of shape (k,), sorted descending; with ``return_running``, also an array (m, k) whose
    row j is the estimate from the first ``renorm_every·(j+1)`` accumulated steps (the last row is the
    result; columns in the same order).

    Accuracy: a random start has a component of order 1/√n along the most expanding direction, so a cold
    start underestimates the top exponent by about ½ ln n / T. The transient removes that alignment
    error: for a linear map it decays like ρ^transient (ρ the ratio of consecutive singular-value growth
    factors), and the estimate is exact up to rounding once it is negligible. For chaotic maps the
    remaining error is statistical, σ/√T (σ² the asymptotic variance of the local expansion rate); see the
    tests for tolerances derived this way.

    Raises ``ValueError`` for invalid arguments, and when the orbit or the tangents become non-finite
    (the step returned NaN/inf, or tangents overflowed: lower ``renorm_every``).
    """
    check_number("n_steps", n_steps, low=1, integer=True)
    check_number("transient", transient, low=0, integer=True)
    check_number("renorm_every", renorm_every, low=1, integer=True)
    check_number("dt", dt, low=0.0, low_inclusive=False)
    state = torch.as_tensor(x0, dtype=torch.float64)
    if state.dim() != 1 or state.numel() == 0:
        raise ValueError(f"x0 must be a non-empty 1-D tensor; got shape {tuple(state.shape)}")
    if not torch.isfinite(state).all():
        raise ValueError("x0 has non-finite entries")
    n = state.numel()
    k = n if k is None else k
    check_number("k", k, low=1, high=n, integer=True)

    tangents = random_tangents(n, k, seed)
    if transient:
        state, tangents, _, _ = benettin_steps(step, state, tangents, transient, renorm_every=renorm_every,
                                               label=" of the transient")
    steps, logs = benettin_steps(step, state, tangents, n_steps, renorm_every=renorm_every)[2:]
    running = np.cumsum(logs, axis=0) / (steps[:, None] * dt)
    order = np.argsort(-running[-1], kind="stable")
    exponents = running[-1, order].copy()
    return (exponents, running[:, order].copy()) if return_running else exponents


def heavy_ball_matrix(curvature: float, lr: float, momentum: float = 0.0) -> np.ndarray:
    """Jacobian of one heavy-ball step on the 1-D quadratic ½ h θ², state (θ, v):

    v' = β v + h θ,  θ' = θ − η v'   ⇒   [[1 − η h, −η β], [h, β]].

    Its characteristic polynomial is μ² − (1 + β − η h) μ + β; an eigenvalue crosses −1 at
    η h = 2 + 2β (the heavy-ball edge of stability) and +1 at h = 0 (negative curvature).
    With β = 0 the first entry, 1 − η h, is gradient descent's factor.
    """
    return np.array([[1.0 - lr * curvature, -lr * momentum], [curvature, momentum]])


def frozen_rate(curvature, lr: float, momentum: float = 0.0) -> np.ndarray:
    """Per-step exponent of one Hessian eigen-direction of curvature h if the Hessian were frozen:
    ln of the spectral radius of :func:`heavy_ball_matrix` (ln|1 − η h| for gradient descent).

    Positive exactly when η h > 2 + 2β (curvature above the edge of stability) or h < 0 (negative
    curvature). Vectorised over ``curvature``; NaN where it is NaN.
    """
    curvature = np.asarray(curvature, dtype=np.float64)
    out = np.full(curvature.shape, np.nan)
    for index, h in np.ndenumerate(curvature):
        if np.isfinite(h):
            if momentum == 0.0:
                with np.errstate(divide="ignore"):  # ηh = 1 contracts in one step: −inf
                    out[index] = np.log(abs(1.0 - lr * h))
            else:
                out[index] = np.log(np.max(np.abs(np.linalg.eigvals(heavy_ball_matrix(h, lr, momentum)))))
    return out if out.ndim else float(out)


def gradient_descent_bound(largest: np.ndarray, smallest: np.ndarray, lr: float) -> float:
    """Upper bound on the per-step top exponent of gradient descent while the Hessian's spectrum lies in
    [min ``smallest``, max ``largest``]: ln R₁₁ = ln‖J q₁‖ ≤ ln‖I − ηH‖ = ln max(|1 − ηλ_max|, |1 − ηλ_min|)
    (J = I − ηH is symmetric). NaN when no curvature is finite."""
    largest, smallest = np.asarray(largest, dtype=np.float64), np.asarray(smallest, dtype=np.float64)
    if not (np.isfinite(largest).any() and np.isfinite(smallest).any()):
        return float("nan")
    return float(np.log(max(abs(1 - lr * np.nanmax(largest)), abs(1 - lr * np.nanmin(smallest)))))


def rayleigh_quotient(loss_of: Callable[[torch.Tensor], torch.Tensor], theta: torch.Tensor,
                      vector: torch.Tensor) -> float:
    """qᵀ H q / qᵀq of the Hessian of ``loss_of`` at ``theta`` along ``vector`` (one Hessian-vector product,
    forward over reverse). For a tangent aligned with the most expanding direction of gradient descent it
    equals λ_min (negative curvature) or λ_max (beyond the edge)."""
    vector = vector.to(torch.float64)
    product = jvp(torch.func.grad(loss_of), (theta.to(torch.float64),), (vector,))[1]
    return float(torch.dot(vector, product) / torch.dot(vector, vector))


# ------------------------------------------------------------------------------- training as a map

LOSSES = ("cross_entropy", "mse")


def _loss_function(model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: str):
    """``flat parameters -> full-batch loss`` for ``model`` (float64), via ``functional_call``."""
    from torch.func import functional_call
    from torch.nn import functional as F

    from uniq_core.schema import check_choice

    check_choice("loss", loss, LOSSES)
    inputs = inputs.to(torch.float64)

    def loss_of(theta: torch.Tensor) -> torch.Tensor:
        outputs = functional_call(model, unflatten(model, theta), (inputs,))
        if loss == "mse":
            return 0.5 * (outputs - targets.to(outputs)).pow(2).sum(-1).mean()
        return F.cross_entropy(outputs, targets)

    return loss_of


def step_function(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    momentum: float = 0.0,
    loss: str = "cross_entropy",
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Full-batch training as ``(state, lr) -> next state`` for ``model``'s architecture (float64), with the
    step size an argument so that :func:`torch.func.vmap` can batch replicas that differ in it (see
    :func:`benettin_replicas`). The map itself is described in :func:`training_map`."""
    check_number("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    model = copy.deepcopy(model).to(torch.float64)
    gradient = torch.func.grad(_loss_function(model, inputs, targets, loss))
    return _sgd_step(gradient, momentum, sum(p.numel() for p in model.parameters()))


def _sgd_step(gradient: Callable[[torch.Tensor], torch.Tensor], momentum: float,
              size: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """PyTorch's SGD as ``(state, lr) -> next state`` given ``gradient`` (flat θ → ∇L(θ)): θ' = θ − η∇L(θ);
    with momentum β the state is (θ, v), of length 2·``size``, and v' = βv + ∇L(θ), θ' = θ − ηv'."""
    if momentum == 0.0:
        return lambda theta, lr: theta - lr * gradient(theta)

    def heavy_ball(state: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
        theta, velocity = state[:size], state[size:]
        velocity = momentum * velocity + gradient(theta)
        return torch.cat([theta - lr * velocity, velocity])

    return heavy_ball


def step_from_gradient(gradient: Callable[[torch.Tensor], torch.Tensor], lr: float, momentum: float,
                       size: int) -> Step:
    """One step of PyTorch's SGD with step size ``lr`` as a map on a flat state, given ``gradient`` (flat θ →
    ∇L(θ), differentiable by :mod:`torch.func`); the map of :func:`training_map`, for any loss."""
    step = _sgd_step(gradient, momentum, size)
    return lambda state: step(state, lr)


def _pull_back(step: Step, state: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """The images of the columns of ``vectors`` under the transposed Jacobian of ``step`` at ``state``."""
    _, pull = torch.func.vjp(step, state)
    try:
        return vmap(lambda w: pull(w)[0], in_dims=1, out_dims=1)(vectors)
    except Exception:  # steps that vmap cannot batch: one column at a time
        return torch.stack([pull(vectors[:, j])[0] for j in range(vectors.shape[1])], dim=1)


def finite_time_exponents(step: Step, x0: torch.Tensor, n_steps: int, k: int, *, depth: int = 6,
                          oversample: int = 6, seed: int = 0, observed: int | None = None) -> np.ndarray:
    """The top-``k`` finite-time Lyapunov exponents of ``n_steps`` steps of ``step`` from ``x0``, per step:
    (1/T) ln σᵢ of the product M = J_{T−1}⋯J₀ of the Jacobians along the orbit, by a randomized block
    Krylov method on MᵀM (Musco & Musco 2015): a block Q₀ of k + ``oversample`` random vectors and the
    blocks Q_{j+1} ∝ MᵀM Q_j, ``depth`` of them, then Rayleigh–Ritz: the singular values of M on the span of
    Q₀ … Q_j. Row j of the result is that estimate from the first j + 2 blocks (each σ̂ᵢ ≤ σᵢ, rising to
    it), so the change between the last two rows shows convergence. A block is pushed forward through the T
    Jacobians (:func:`torch.func.jvp`, batched) and back through their transposes (:func:`torch.func.vjp`),
    re-orthonormalised by QR at every step, so nothing overflows: each block costs 2T batched
    Jacobian-vector products. Unlike a cold-started Benettin run, whose k random vectors grow at the rates
    of random directions (short by up to ½ ln P / T), this measures the most expanding directions; over a
    transient the result depends on T, which is part of its name.

    In float64, exponents more than about (ln 10⁸)/T below the top one sit under the rounding of the
    largest singular value and are not resolved by this or any method that applies M to vectors.

    ``observed``: only the first ``observed`` coordinates of the state are perturbed and measured, the block
    ΠMΠᵀ with Π = [I 0] (for heavy ball's state (θ, v): a perturbation of θ with v unchanged, read in θ).
    The whole state's singular values depend on how its parts are scaled: v' = βv + ∇L(θ) carries the
    curvature without the step size, so (θ, v) "grows" by about ‖H‖/(1 − β) where no perturbation of θ does.

    Raises ``FloatingPointError`` when the orbit or a block stops being finite (naming the step)."""
    check_number("n_steps", n_steps, low=1, integer=True)
    check_number("depth", depth, low=1, integer=True)
    state = torch.as_tensor(x0, dtype=torch.float64)
    dimension = state.numel()
    size = dimension if observed is None else observed
    check_number("observed", size, low=1, high=dimension, integer=True)
    check_number("k", k, low=1, high=size, integer=True)
    orbit = [state]
    for t in range(n_steps - 1):
        orbit.append(step(orbit[-1]).detach())
        if not torch.isfinite(orbit[-1]).all():
            raise FloatingPointError(f"the orbit stopped being finite at step {t + 1} of {n_steps}")

    def padded(block: torch.Tensor) -> torch.Tensor:  # Πᵀ: the unobserved coordinates unperturbed
        if size == dimension:
            return block
        return torch.cat([block, block.new_zeros((dimension - size, block.shape[1]))])

    def forward(block: torch.Tensor) -> tuple[torch.Tensor, float]:
        """Π M Πᵀ block = images · e^{log_scale} (images: the observed rows of an orthonormal image times
        the accumulated triangular factor, scaled to norm one)."""
        block = padded(block)
        upper = torch.eye(block.shape[1], dtype=torch.float64, device=state.device)
        log_scale = 0.0
        for t, point in enumerate(orbit):
            block = _push_forward(step, point, block)[1]
            if not torch.isfinite(block).all():
                raise FloatingPointError(f"a tangent block stopped being finite at step {t + 1} of {n_steps}")
            block, factor = torch.linalg.qr(block)
            upper = factor @ upper
            scale = torch.linalg.matrix_norm(upper)
            upper, log_scale = upper / scale, log_scale + float(torch.log(scale))
        return block[:size] @ upper, log_scale

    blocks = [random_tangents(size, min(size, k + oversample), seed).to(state.device)]
    images = [forward(blocks[0])]
    estimates = []
    for j in range(depth):
        image, _ = images[-1]
        back = padded(torch.linalg.svd(image, full_matrices=False)[0])  # Mᵀ on the images' left singular vectors
        for point in reversed(orbit):
            back = torch.linalg.qr(_pull_back(step, point, back))[0]
        blocks.append(torch.linalg.qr(back[:size])[0])
        images.append(forward(blocks[-1]))
        # Rayleigh–Ritz on span(Q₀ … Q_{j+1}): basis K = Q V S⁻¹ (Q = [Q₀ … ], its SVD Q = U S Vᵀ), M K from M Q
        basis = torch.cat(blocks, dim=1)
        _, spread, right = torch.linalg.svd(basis, full_matrices=False)
        keep = spread > spread[0] * 1e-10
        top = max(log_scale for _, log_scale in images)
        mapped = torch.cat([image * math.exp(log_scale - top) for image, log_scale in images], dim=1)
        reduced = mapped @ (right[keep].T / spread[keep])
        singular = torch.linalg.svdvals(reduced)[:k]
        estimates.append(((torch.log(singular) + top) / n_steps).cpu().numpy())
    return np.stack(estimates)


def training_map(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    lr: float,
    momentum: float = 0.0,
    loss: str = "cross_entropy",
) -> tuple[Step, torch.Tensor]:
    """Full-batch training as a map on a flat float64 state, and the model's initial state.

    Gradient descent (``momentum = 0``), state θ:      θ' = θ − η ∇L(θ),  Jacobian I − η H(θ).
    Heavy ball (PyTorch's SGD with momentum β), state (θ, v):
        v' = β v + ∇L(θ),   θ' = θ − η v',
    whose Jacobian has determinant βᴾ (conformally symplectic: the exponents of each (θ, v) pair sum to
    ln β). Tangents of the map are Hessian-vector products (forward-over-reverse), so one tangent costs
    about two gradient evaluations.
    """
    check_number("lr", lr, low=0.0, low_inclusive=False)
    step = step_function(model, inputs, targets, momentum=momentum, loss=loss)
    return (lambda state: step(state, lr)), initial_state(model, momentum)


def initial_state(model: torch.nn.Module, momentum: float = 0.0) -> torch.Tensor:
    """The flat float64 state at which :func:`training_map` starts: θ₀, with zero velocity under momentum."""
    theta0 = flat_parameters(copy.deepcopy(model).to(torch.float64))
    return theta0 if momentum == 0.0 else torch.cat([theta0, torch.zeros_like(theta0)])


def orbit_replicas(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    states: torch.Tensor,
    lrs: torch.Tensor,
    n_steps: int,
    failed: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_steps`` steps of the orbits of B replicas (states B × n, step sizes ``lrs`` (B,)) without tangents.
    Returns the states and ``failed`` (B,): a replica whose state stopped being finite is frozen at its last
    finite state and marked failed; the others go on."""
    check_number("n_steps", n_steps, low=0, integer=True)
    failed = torch.zeros(states.shape[0], dtype=torch.bool) if failed is None else failed.clone()
    advance = vmap(step)
    with torch.no_grad():
        for _ in range(n_steps):
            moved = advance(states, lrs)
            failed |= ~torch.isfinite(moved).all(dim=1)
            states = torch.where(failed[:, None], states, moved)
    return states, failed


def benettin_replicas(
    step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    states: torch.Tensor,
    lrs: torch.Tensor,
    tangents: torch.Tensor,
    n_steps: int,
    failed: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, torch.Tensor]:
    """Benettin runs of B replicas at once: replica b at ``states[b]`` (B × n) with step size ``lrs[b]`` and
    orthonormal tangent columns ``tangents[b]`` (B × n × k), advanced ``n_steps`` steps and re-orthonormalised
    (sign-fixed QR) after every step: the arithmetic of :func:`benettin_steps` on each replica, batched by
    :func:`torch.func.vmap` (equal to it up to rounding; see the tests). ``step(state, lr)`` is one replica's
    map, e.g. from :func:`step_function`.

    Returns the states, the tangents, ``logs`` (n_steps, B, k) of ln R_ii in tangent order, and ``failed``
    (B,). A replica whose state or tangents stop being finite is frozen there and marked failed, with NaN
    logs from that step on; the others go on. Chaining calls (passing ``failed`` back) continues the runs: a
    warm-up is a call whose logs are discarded."""
    check_number("n_steps", n_steps, low=0, integer=True)
    B, k = tangents.shape[0], tangents.shape[2]
    failed = torch.zeros(B, dtype=torch.bool) if failed is None else failed.clone()

    def push(state: torch.Tensor, lr: torch.Tensor, columns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        moved, images = vmap(lambda v: jvp(lambda x: step(x, lr), (state,), (v,)), in_dims=1,
                             out_dims=(0, 1))(columns)
        return moved[0], images

    push_all = vmap(push)
    logs = np.full((n_steps, B, k), np.nan)
    for t in range(n_steps):
        moved, images = push_all(states, lrs, tangents)
        fine = torch.isfinite(moved).all(dim=1) & torch.isfinite(images).all(dim=(1, 2)) & ~failed
        tangents, log_growth = _orthonormalise(torch.where(fine[:, None, None], images, tangents))
        failed |= ~fine
        states = torch.where(failed[:, None], states, moved).detach()
        tangents = tangents.detach()
        logs[t] = log_growth.detach().numpy()
        logs[t, failed.numpy()] = np.nan
    return states, tangents, logs, failed


def hessian_extremes(product: Callable[[np.ndarray], np.ndarray], size: int, *, k: int = 1,
                     which: str = "largest", tolerance: float = 1e-8,
                     start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest or smallest (``which``) eigenvalues of a symmetric ``size`` × ``size`` operator given
    by ``product`` (a numpy vector v → H v), by Lanczos (ARPACK, :func:`scipy.sparse.linalg.eigsh`) on H for
    the largest and on −H for the smallest; ``start`` defaults to a normal draw from seed 0. Returns (values
    in the order of ARPACK, eigenvectors). Raises ``ValueError`` for a non-finite start or when Lanczos
    fails (e.g. products so large that they overflow: a blown-up run)."""
    from scipy.sparse.linalg import ArpackError, LinearOperator, eigsh

    check_choice("which", which, ("largest", "smallest"))
    sign = 1.0 if which == "largest" else -1.0
    operator = LinearOperator((size, size), matvec=lambda vector: sign * product(vector), dtype=np.float64)
    start = np.random.default_rng(0).normal(size=size) if start is None else np.asarray(start, dtype=np.float64)
    if not np.isfinite(start).all():
        raise ValueError("the Hessian's eigenvalues are undefined at non-finite parameters")
    try:
        values, vectors = eigsh(operator, k=k, which="LA", tol=tolerance, v0=start)
    except ArpackError as error:
        raise ValueError(f"Lanczos failed on the {which} Hessian eigenvalue: {error}") from error
    return sign * values, vectors


def _hessian_eigenvalues(model, inputs, targets, theta, k, loss, tolerance, which, start):
    """k extreme eigenvalues of the full-batch loss Hessian (:func:`hessian_extremes` on exact
    Hessian-vector products). Returns (values in the order of ARPACK, eigenvectors)."""
    model = copy.deepcopy(model).to(torch.float64)
    loss_of = _loss_function(model, inputs, targets, loss)
    if theta is None:
        theta = flat_parameters(model)
    theta = theta.to(torch.float64)
    P = theta.numel()
    check_number("k", k, low=1, high=max(1, P - 1), integer=True)
    gradient = torch.func.grad(loss_of)

    def hessian_vector(vector: np.ndarray) -> np.ndarray:
        tangent = torch.as_tensor(np.ravel(vector), dtype=torch.float64)
        return jvp(gradient, (theta,), (tangent,))[1].numpy()

    if not torch.isfinite(theta).all():
        raise ValueError("the Hessian's eigenvalues are undefined at non-finite parameters")
    return hessian_extremes(hessian_vector, P, k=k, which=which, tolerance=tolerance, start=start)


def sharpness(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    theta: torch.Tensor | None = None,
    k: int = 1,
    loss: str = "cross_entropy",
    tolerance: float = 1e-8,
) -> np.ndarray:
    """Top-``k`` eigenvalues (largest algebraic, descending) of the full-batch loss Hessian at ``theta``.

    Lanczos iteration (ARPACK, :func:`scipy.sparse.linalg.eigsh`) on exact Hessian-vector products
    (``jvp`` of ``grad``); ``theta`` defaults to the model's parameters. For gradient descent with step η,
    the edge of stability is sharpness = 2/η (Cohen et al. 2021); with heavy-ball momentum β it is
    (2 + 2β)/η.
    """
    values, _ = _hessian_eigenvalues(model, inputs, targets, theta, k, loss, tolerance, "largest", None)
    return np.sort(values)[::-1].copy()


def smallest_hessian_eigenvalue(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    theta: torch.Tensor | None = None,
    k: int = 1,
    loss: str = "cross_entropy",
    tolerance: float = 1e-8,
) -> np.ndarray:
    """The ``k`` smallest (most negative) eigenvalues of the full-batch loss Hessian, ascending.

    Lanczos on −H: its largest eigenvalues are −λ_min(H), ... A direction of negative curvature h < 0
    expands under gradient descent by |1 − η h| = 1 + η|h| > 1 at every step size, so a positive
    exponent need not mean curvature beyond the edge of stability.
    """
    values, _ = _hessian_eigenvalues(model, inputs, targets, theta, k, loss, tolerance, "smallest", None)
    return np.sort(values).copy()


def curvature_extremes(
    model: torch.nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    theta: torch.Tensor | None = None,
    loss: str = "cross_entropy",
    tolerance: float = 1e-8,
    starts: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Largest and smallest Hessian eigenvalue at ``theta`` and their eigenvectors. ``starts`` (previous
    eigenvectors, e.g. at the last point of a path) warm-start the two Lanczos runs."""
    top, top_vector = _hessian_eigenvalues(model, inputs, targets, theta, 1, loss, tolerance, "largest", starts[0])
    low, low_vector = _hessian_eigenvalues(model, inputs, targets, theta, 1, loss, tolerance, "smallest", starts[1])
    return float(top[0]), float(low[0]), top_vector[:, 0], low_vector[:, 0]


# -------------------------------------------------------------------- finite-perturbation divergence


def fitted_exponent(times: np.ndarray, spread: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of ln(spread) against time, and its standard error.

    Non-finite and non-positive spreads are ignored; with fewer than three points the error is NaN.
    """
    times = np.asarray(times, dtype=np.float64)
    spread = np.asarray(spread, dtype=np.float64)
    keep = np.isfinite(spread) & (spread > 0)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    t, y = times[keep], np.log(spread[keep])
    design = np.vstack([t, np.ones_like(t)]).T
    coefficients, residual, *_ = np.linalg.lstsq(design, y, rcond=None)
    if keep.sum() < 3:
        return float(coefficients[0]), float("nan")
    variance = float(residual[0]) / (keep.sum() - 2) if residual.size else 0.0
    return float(coefficients[0]), float(np.sqrt(variance / ((t - t.mean()) ** 2).sum()))


def checkpoint_spread(checkpoints: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """Spread s(c) = sqrt(mean_k ‖θ_k(c) − θ̄(c)‖²) of replicas about their centroid at each checkpoint.

    ``checkpoints`` (C, K, P); ``keep`` (P,) a boolean mask of the coordinates to include (all when None),
    e.g. to project out weights whose gradient is zero at every step, which never change.
    """
    points = np.asarray(checkpoints, dtype=np.float64)
    if keep is not None:
        points = points[..., np.asarray(keep, dtype=bool)]
    centred = points - points.mean(axis=1, keepdims=True)
    return np.sqrt((centred**2).sum(axis=-1).mean(axis=1))


def convergence_ratio(spread: np.ndarray) -> float:
    """Final over initial spread. With :func:`finite_time_exponent` it satisfies
    ``exponent = ln(ratio) / T``: the two can never disagree in sign."""
    return float(spread[-1] / spread[0])


def finite_time_exponent(spread: np.ndarray, duration: float) -> float:
    """ln(final spread / initial spread) / duration."""
    return float(np.log(convergence_ratio(spread)) / duration)


def participation_ratio(points: np.ndarray) -> float:
    """Participation ratio (Σλ)² / Σλ² of the covariance eigenvalues λ of ``points`` (N × P).

    Computed from the N × N Gram matrix G of the centred points: its nonzero eigenvalues are those of the
    P × P covariance (up to the same factor), Σλ = tr G and Σλ² = ‖G‖²_F, so no eigendecomposition and no
    P × P matrix is needed. Returns 1.0 for fewer than two points or zero variance.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape[0] < 2:
        return 1.0
    centred = points - points.mean(axis=0)
    gram = centred @ centred.T
    squared = float((gram**2).sum())
    return float(np.trace(gram) ** 2 / squared) if squared > 0 else 1.0


def effective_dimensionality(trajectories: np.ndarray, window: int | None = None) -> float:
    """Mean participation ratio over half-overlapping windows of checkpoints (C × K × P array).

    The window is ``min(50, max(10, C // 4))`` checkpoints unless given, as in deep-lyapunov; when the
    run is shorter than a window, the participation ratio of all points.
    """
    count, replicas_, size = trajectories.shape
    window = window or min(50, max(10, count // 4))
    values = [
        participation_ratio(trajectories[start : start + window].reshape(-1, size))
        for start in range(0, count - window + 1, max(1, window // 2))
    ]
    return float(np.mean(values)) if values else participation_ratio(trajectories.reshape(-1, size))


def random_walk_effective_dimensionality(n_checkpoints: int, *, dimension: int = 512, n_walks: int = 64,
                                         seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation over ``n_walks`` isotropic Gaussian random walks in ``dimension`` dimensions,
    sampled at ``n_checkpoints`` points, of :func:`effective_dimensionality` (one path, the same windows): the
    value a trajectory that explores space like unconstrained diffusion would have. A window of a Brownian
    path has covariance eigenvalues falling as 1/k², so its participation ratio tends to (π²/6)²/(π⁴/90) = 2.5
    for long windows in many dimensions, whatever the dimension.
    """
    check = int(n_checkpoints)
    if check < 2:
        raise ValueError(f"n_checkpoints={n_checkpoints!r} is out of range; allowed: an integer ≥ 2")
    generator = np.random.default_rng(seed)
    values = [effective_dimensionality(np.cumsum(generator.standard_normal((check, 1, dimension)), axis=0))
              for _ in range(n_walks)]
    return float(np.mean(values)), float(np.std(values, ddof=1))


PEER_VERSION = "0.1.2"
"""The release of deep-lyapunov whose definitions :func:`peer_metrics` reproduces (tests compare them)."""


def peer_metrics(trajectories: np.ndarray, n_epochs: int) -> dict[str, float]:
    """deep-lyapunov 0.1.2's three numbers, reproduced from its definitions, for comparison.

    Both spreads use the top three principal components of all checkpoints of all replicas:
    - ``convergence_ratio``: ``np.std`` of all entries of the final (K × 3) coordinates over that of the
      initial ones; the standard deviation runs over components too, so offsets between components count
      as "spread", and the value depends on the arbitrary sign of each principal axis;
    - ``lyapunov``: ln(final/initial) / n_epochs with spread √(Σ_components var over replicas);
    - ``effective_dimensionality``: :func:`effective_dimensionality`.
    Because the two spreads differ, the ratio can say "convergent" (< 1) while the exponent is positive.
    """
    from sklearn.decomposition import PCA

    count, replicas_, size = trajectories.shape
    components = min(3, size, replicas_ - 1)
    projected = PCA(n_components=components).fit_transform(trajectories.reshape(-1, size))
    projected = projected.reshape(count, replicas_, components)
    first, last = projected[0], projected[-1]
    spread = np.sqrt(np.var(projected, axis=1).sum(axis=1))
    return {
        "convergence_ratio": float(np.std(last) / np.std(first)),
        "lyapunov": float(np.log(spread[-1] / spread[0]) / n_epochs),
        "effective_dimensionality": effective_dimensionality(trajectories),
    }


def predictability_horizon(rate: float, delta: float, tolerance: float) -> float:
    """Time until a difference ``delta`` grows to ``tolerance`` at exponential ``rate`` (per unit time):
    T = ln(tolerance / delta) / rate, the practical form of "exact reproducibility is impossible" (a
    difference at rounding level reaches a visible size after T). ``inf`` when the rate is not positive;
    0 when ``delta`` already reaches the tolerance."""
    check_number("delta", delta, low=0.0, low_inclusive=False)
    check_number("tolerance", tolerance, low=0.0, low_inclusive=False)
    if delta >= tolerance:
        return 0.0
    if not np.isfinite(rate):
        return float("nan")
    return float(np.log(tolerance / delta) / rate) if rate > 0 else float("inf")


def _first_crossing(times: np.ndarray, log_distance: np.ndarray, level: float, start: float) -> float:
    """First time at or after ``start`` at which ``log_distance`` reaches ``level``, interpolated linearly
    in ln d between records; NaN if it never does."""
    candidates = np.flatnonzero((times >= start) & np.isfinite(log_distance) & (log_distance >= level))
    if not candidates.size:
        return float("nan")
    i = int(candidates[0])
    before = log_distance[i - 1] if i > 0 else np.nan
    if not (np.isfinite(before) and before < level):
        return float(times[i])
    fraction = (level - before) / (log_distance[i] - before)
    return float(max(start, times[i - 1] + fraction * (times[i] - times[i - 1])))


def finite_size_exponent(times: np.ndarray, distance: np.ndarray, thresholds: np.ndarray,
                         ratio: float = 2.0) -> dict[str, np.ndarray]:
    """The finite-size Lyapunov exponent λ(δ) = ln r / ⟨τ_r(δ)⟩ (Aurell et al. 1997).

    τ_r(δ) is the time a distance takes to grow from δ to rδ: from the first time d(t) ≥ δ to the first
    later time d(t) ≥ rδ (interpolated in ln d between records). ``distance`` (R, T): one curve per
    realisation (NaN entries, e.g. after a divergence, are skipped); ``thresholds`` (N,) the δ values.
    For an exponential d(t) = d₀e^{λt} it returns λ at every δ above d₀; it falls as δ nears saturation.

    Returns ``rate`` (N,) from the realisations that reached rδ (NaN where none did), ``mean_time`` (N,),
    ``reached`` (N,), the realisations that grew from δ to rδ, and ``censored`` (N,), those that reached δ
    but not rδ before the end (a realisation that starts above δ counts for neither): where any are censored the average keeps only the faster ones, so the
    rate there is an upper estimate (a curve that never doubles has λ(δ) < ln r / (time left)).
    """
    check_number("ratio", ratio, low=1.0, low_inclusive=False)
    times = np.asarray(times, dtype=np.float64)
    distance = np.atleast_2d(np.asarray(distance, dtype=np.float64))
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if distance.shape[1] != times.shape[0]:
        raise ValueError(f"distance has {distance.shape[1]} records per curve but times has {times.shape[0]}")
    if np.any(thresholds <= 0):
        raise ValueError("thresholds must be positive")
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(distance > 0, np.log(distance), np.nan)
    rate, mean_time = np.full(thresholds.shape, np.nan), np.full(thresholds.shape, np.nan)
    reached, censored = np.zeros(thresholds.shape, int), np.zeros(thresholds.shape, int)
    for n, delta in enumerate(thresholds):
        durations = []
        for curve in logs:
            if not np.isfinite(curve[0]) or curve[0] > np.log(delta) + 1e-9:
                continue  # started above δ: it never grew from δ
            start = _first_crossing(times, curve, np.log(delta), times[0])
            if not np.isfinite(start):
                continue
            end = _first_crossing(times, curve, np.log(ratio * delta), start)
            if np.isfinite(end):
                durations.append(end - start)
            else:
                censored[n] += 1
        reached[n] = len(durations)
        if durations and np.mean(durations) > 0:
            mean_time[n] = float(np.mean(durations))
            rate[n] = float(np.log(ratio) / mean_time[n])
    return {"rate": rate, "mean_time": mean_time, "reached": reached, "censored": censored}
