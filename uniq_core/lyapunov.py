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
from typing import Callable

import numpy as np
import torch
from torch.func import jvp, vmap

from uniq_core.models import flat_parameters, unflatten
from uniq_core.schema import check_number

Step = Callable[[torch.Tensor], torch.Tensor]


def _push_forward(step: Step, state: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next state and the images of the tangent columns (n × k) under the Jacobian of ``step`` at ``state``."""

    def push(vector: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return jvp(step, (state,), (vector,))

    try:  # the primal does not depend on the tangent: computed once, returned unbatched
        return vmap(push, in_dims=1, out_dims=(None, 1))(tangents)
    except Exception:  # steps that vmap cannot batch (data-dependent control flow): one column at a time
        pushed = [push(tangents[:, j]) for j in range(tangents.shape[1])]
        return pushed[0][0], torch.stack([image for _, image in pushed], dim=1)


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
) -> np.ndarray:
    """The top-``k`` Lyapunov exponents of ``step`` along the orbit of ``x0``, descending, per unit time.

    Parameters
    ----------
    step : maps a 1-D float64 tensor (the state) to the next state; must be differentiable by
        :func:`torch.func.jvp`.
    x0 : initial state, 1-D.
    n_steps : number of steps over which exponents are averaged (after the transient), ≥ 1.
    k : number of exponents (default: all, the state dimension).
    transient : steps run first and discarded, so the orbit and tangents settle on the attractor.
    renorm_every : QR re-orthonormalisation interval; larger intervals are cheaper but overflow
        when tangents grow by more than ~1e300 in between.
    dt : time per step; exponents are divided by it.
    seed : seed of the random orthonormal initial tangents.

    Returns
    -------
    numpy array of shape (k,), sorted descending.

    Accuracy: for a map with a well-defined spectrum, the finite-time estimate converges as O(1/T) for
    linear maps (only the initial alignment of the tangents is forgotten) and with a standard error
    σ/√T for chaotic maps (σ² the asymptotic variance of the local expansion rate); see the tests for
    tolerances derived this way.

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

    with torch.no_grad():
        for t in range(transient):
            state = step(state)
            if not torch.isfinite(state).all():
                raise ValueError(f"step returned a non-finite state during the transient (step {t + 1})")

    generator = torch.Generator().manual_seed(seed)
    tangents, _ = torch.linalg.qr(torch.randn(n, k, generator=generator, dtype=torch.float64))
    log_growth = torch.zeros(k, dtype=torch.float64)
    for t in range(1, n_steps + 1):
        state, tangents = _push_forward(step, state, tangents)
        if not (torch.isfinite(state).all() and torch.isfinite(tangents).all()):
            what = "state" if not torch.isfinite(state).all() else "tangent vectors"
            raise ValueError(
                f"non-finite {what} at step {t} of {n_steps}: the step returned NaN/inf"
                + ("" if what == "state" else ", or tangents overflowed (lower renorm_every)")
            )
        if t % renorm_every == 0 or t == n_steps:
            tangents, upper = torch.linalg.qr(tangents)
            signs = torch.sign(torch.diagonal(upper))
            signs[signs == 0] = 1.0
            tangents = tangents * signs  # sign-fixed QR: diag(R) > 0
            log_growth += torch.log(torch.diagonal(upper).abs())
    exponents = (log_growth / (n_steps * dt)).numpy()
    return np.sort(exponents)[::-1].copy()


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
    check_number("momentum", momentum, low=0.0, high=1.0, high_inclusive=False)
    model = copy.deepcopy(model).to(torch.float64)
    loss_of = _loss_function(model, inputs, targets, loss)
    gradient = torch.func.grad(loss_of)
    theta0 = flat_parameters(model)
    P = theta0.numel()
    if momentum == 0.0:
        return (lambda theta: theta - lr * gradient(theta)), theta0

    def heavy_ball(state: torch.Tensor) -> torch.Tensor:
        theta, velocity = state[:P], state[P:]
        velocity = momentum * velocity + gradient(theta)
        return torch.cat([theta - lr * velocity, velocity])

    return heavy_ball, torch.cat([theta0, torch.zeros_like(theta0)])


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
    from scipy.sparse.linalg import LinearOperator, eigsh

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

    operator = LinearOperator((P, P), matvec=hessian_vector, dtype=np.float64)
    start = np.random.default_rng(0).normal(size=P)
    values = eigsh(operator, k=k, which="LA", tol=tolerance, v0=start, return_eigenvectors=False)
    return np.sort(values)[::-1].copy()


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
