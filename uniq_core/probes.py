"""Quasi-symplectic probes of momentum training: the heavy-ball map, round trips, Ω-invariance, energy.

Heavy ball as a map on phase space (θ, p) with step dt, mass M and momentum factor β:

    p' = β p − dt ∇L(θ),     θ' = θ + dt p' / M.

With p = −(M/dt) v this is PyTorch's SGD with momentum (v' = β v + ∇L(θ), θ' = θ − η v') at learning rate
η = dt²/M (:func:`learning_rate`). The map is a damped kick followed by a drift. Its Jacobian
Df = [[I, (dt/M) I], [0, I]] · [[I, 0], [−dt H, β I]] satisfies Dfᵀ J Df = β J for the canonical
J = [[0, I], [−I, 0]] whenever H = ∇²L is symmetric: heavy ball is *conformally symplectic* with factor β
(McLachlan & Perlmutter 2001), and exactly symplectic (symplectic Euler) at β = 1. Any force that is not a
gradient of one function of θ breaks the identity.

Probes:
- round trip: T steps forward, momentum reversed, T steps forward again; the distance back to θ_0 over the
  length of the outward path (:func:`round_trip_error`);
- Ω-invariance: |ω(Df u, Df v) − β ω(u, v)| / (‖u‖ ‖v‖) for random tangents u, v, by forward-mode
  derivatives (:func:`omega_invariance_error`);
- energy drift: with H_t = ‖p_t‖²/(2M) + L(θ_t), the median over the last quarter of |H_t − H_0| / scale
  (:func:`energy_drift`);
- dt_zero: the step size at which a probe crosses a threshold, by bisection in log dt (:func:`dt_zero`).

Exact conservation laws used as checks of the machinery (:func:`scale_invariant_norm_step`,
:func:`softmax_column_sums`): for a loss invariant to the scale of w, ∇L ⊥ w, so plain SGD gives
‖w'‖² = ‖w‖² + η²‖∇L‖²; for softmax cross-entropy, the gradient of the output layer sums to zero over
classes, so the column sums of the output weights (and the sum of the output biases) never change under SGD
or momentum.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.func import jvp

from uniq_core.schema import check_number

Gradient = Callable[[torch.Tensor], torch.Tensor]


def learning_rate(dt: float, mass: float) -> float:
    """PyTorch learning rate η = dt²/M of the heavy-ball map with step dt and mass M."""
    check_number("dt", dt, low=0.0, low_inclusive=False)
    check_number("mass", mass, low=0.0, low_inclusive=False)
    return dt * dt / mass


def heavy_ball(gradient: Gradient, theta: torch.Tensor, p: torch.Tensor, *, dt: float, mass: float = 1.0,
               beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of the map (θ, p) ↦ (θ + dt p'/M, p' = β p − dt ∇L(θ))."""
    p_next = beta * p - dt * gradient(theta)
    return theta + dt * p_next / mass, p_next


def trajectory(gradient: Gradient | None, theta: torch.Tensor, p: torch.Tensor, n_steps: int, *,
               schedule: Callable[[int], Gradient] | None = None, **step: float) -> tuple[torch.Tensor, torch.Tensor]:
    """States (n_steps + 1, P) of θ and of p along the heavy-ball map; with ``schedule``, step t uses the
    force ``schedule(t)`` (one minibatch's gradient, say) instead of ``gradient``."""
    check_number("n_steps", n_steps, low=1, integer=True)
    thetas, momenta = [theta], [p]
    for t in range(n_steps):
        theta, p = heavy_ball(gradient if schedule is None else schedule(t), theta, p, **step)
        thetas.append(theta)
        momenta.append(p)
    return torch.stack(thetas), torch.stack(momenta)


def round_trip_error(gradient: Gradient, theta: torch.Tensor, p: torch.Tensor, n_steps: int, **step: float) -> float:
    """‖θ_back − θ_0‖ / (outward path length): T steps out, momentum reversed, T steps with the same map.

    0 for an exactly time-reversible flow; symplectic Euler is not exactly reversible, so the error is
    O(dt) even at β = 1, and damping (β < 1) adds to it. NaN when the outward run is not finite.
    """
    thetas, momenta = trajectory(gradient, theta, p, n_steps, **step)
    if not (torch.isfinite(thetas).all() and torch.isfinite(momenta).all()):
        return float("nan")
    return return_error(gradient, thetas, momenta[-1], **step)


def return_error(gradient: Gradient | None, thetas: torch.Tensor, p_end: torch.Tensor, *,
                 schedule: Callable[[int], Gradient] | None = None, **step: float) -> float:
    """The second half of :func:`round_trip_error` for an outward path ``thetas`` ending with momentum
    ``p_end``: run back from −p_end (with ``schedule``, through the forces in reverse order) and return
    ‖θ_back − θ_0‖ / (length of the outward path)."""
    n_steps = len(thetas) - 1
    backward = None if schedule is None else (lambda t: schedule(n_steps - 1 - t))
    back, _ = trajectory(gradient, thetas[-1], -p_end, n_steps, schedule=backward, **step)
    length = float((thetas[1:] - thetas[:-1]).norm(dim=1).sum())
    return float((back[-1] - thetas[0]).norm()) / max(length, 1e-300)


def omega_invariance_error(gradient: Gradient, theta: torch.Tensor, p: torch.Tensor, *, dt: float,
                           mass: float = 1.0, beta: float = 1.0, pairs: int = 8, seed: int = 0) -> float:
    """max over random tangent pairs of |ω(Df u, Df v) − β ω(u, v)| / (‖u‖‖v‖), ω(u, v) = u_θ·v_p − u_p·v_θ.

    Tangents are pushed through one heavy-ball step with ``torch.func.jvp``. Zero up to rounding for any
    gradient force (see the module docstring).
    """
    check_number("pairs", pairs, low=1, integer=True)
    generator = torch.Generator().manual_seed(seed)
    size = theta.numel()

    def step(state: torch.Tensor) -> torch.Tensor:
        t, q = heavy_ball(gradient, state[:size], state[size:], dt=dt, mass=mass, beta=beta)
        return torch.cat([t, q])

    state = torch.cat([theta, p])

    def omega(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return u[:size] @ v[size:] - u[size:] @ v[:size]

    worst = 0.0
    for _ in range(pairs):
        u = torch.randn(state.shape, generator=generator, dtype=state.dtype)
        v = torch.randn(state.shape, generator=generator, dtype=state.dtype)
        mu = jvp(step, (state,), (u,))[1]
        mv = jvp(step, (state,), (v,))[1]
        worst = max(worst, float((omega(mu, mv) - beta * omega(u, v)).abs() / (u.norm() * v.norm())))
    return worst


def energy_drift(losses: np.ndarray, momenta_sq: np.ndarray, mass: float, *, scale: float | None = None) -> float:
    """Median over the last quarter of |H_t − H_0| / scale, H_t = ‖p_t‖²/(2M) + L(θ_t).

    ``momenta_sq`` are ‖p_t‖². ``scale`` defaults to max(|H_0|, 1e-12). NaN when H is not finite.
    """
    losses = np.asarray(losses, dtype=np.float64)
    energy = np.asarray(momenta_sq, dtype=np.float64) / (2 * mass) + losses
    if energy.size < 2:
        raise ValueError("energy_drift needs at least two states")
    if not np.isfinite(energy).all():
        return float("nan")
    scale = max(abs(energy[0]), 1e-12) if scale is None else scale
    tail = energy[-max(1, len(energy) // 4):]
    return float(np.median(np.abs(tail - energy[0])) / scale)


def dt_zero(probe: Callable[[float], float], threshold: float, low: float, high: float, *,
            iterations: int = 20) -> float:
    """Step size where ``probe(dt)`` crosses ``threshold``, by bisection in log dt on [low, high].

    Assumes the probe grows with dt (NaN counts as above the threshold). Returns ``low`` when the probe
    is already above at ``low`` and ``inf`` when it stays below at ``high``.
    """
    check_number("low", low, low=0.0, low_inclusive=False)
    check_number("high", high, low=low, low_inclusive=False)
    check_number("iterations", iterations, low=1, integer=True)

    def above(dt: float) -> bool:
        value = probe(dt)
        return not np.isfinite(value) or value > threshold

    if above(low):
        return low
    if not above(high):
        return float("inf")
    a, b = np.log(low), np.log(high)
    for _ in range(iterations):
        middle = (a + b) / 2
        if above(float(np.exp(middle))):
            b = middle
        else:
            a = middle
    return float(np.exp((a + b) / 2))


# --------------------------------------------------------------------------------- conservation laws


def scale_invariant_norm_step(w: torch.Tensor, gradient: torch.Tensor, lr: float) -> tuple[float, float]:
    """(‖w − η g‖², ‖w‖² + η²‖g‖²): equal when g ⊥ w, as for any loss invariant to the scale of w."""
    after = w - lr * gradient
    return float(after.pow(2).sum()), float(w.pow(2).sum() + lr**2 * gradient.pow(2).sum())


def softmax_column_sums(weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Column sums of an output layer's weight (K × n), with the sum of its bias appended: invariant
    under SGD and momentum on softmax cross-entropy."""
    sums = weight.sum(dim=0)
    return torch.cat([sums, bias.sum()[None]]) if bias is not None else sums


def relu_rescaling_charges(weights: list[torch.Tensor], biases: list[torch.Tensor]) -> torch.Tensor:
    """Q_j = ‖w_in,j‖² + b_j² − ‖w_out,j‖² for every hidden unit of a ReLU MLP, layer by layer.

    ``weights[l]`` is layer l's (n_out × n_in) matrix and ``biases[l]`` its bias; unit j of hidden layer l
    has incoming weights ``weights[l][j]``, bias ``biases[l][j]`` and outgoing weights ``weights[l+1][:, j]``.
    ReLU is positively homogeneous, so the loss is invariant under (w_in, b) ↦ (c w_in, c b),
    w_out ↦ w_out / c; the generator gives the exact identity ⟨w_in, ∇_w_in L⟩ + b ∂_b L = ⟨w_out, ∇_w_out L⟩,
    hence dQ_j/dτ = 0 under gradient flow (Du, Hu & Lee 2018). One gradient step of size η changes Q_j by
    exactly η² (‖g_in‖² + g_b² − ‖g_out‖²) (:func:`relu_rescaling_step_change`): O(η) over a fixed horizon ητ.
    """
    if len(weights) != len(biases) or len(weights) < 2:
        raise ValueError(f"weights and biases must be lists of equal length ≥ 2 (got {len(weights)} and {len(biases)})")
    charges = []
    for layer in range(len(weights) - 1):
        incoming = weights[layer].pow(2).sum(dim=-1) + biases[layer].pow(2)
        outgoing = weights[layer + 1].pow(2).sum(dim=-2)
        charges.append(incoming - outgoing)
    return torch.cat(charges, dim=-1)


def relu_rescaling_step_change(gradient_weights: list[torch.Tensor], gradient_biases: list[torch.Tensor],
                               lr: float) -> torch.Tensor:
    """The exact change of :func:`relu_rescaling_charges` in one plain gradient step θ' = θ − η g:
    η² (‖g_in,j‖² + g_b,j² − ‖g_out,j‖²), because the cross terms −2η(⟨w_in, g_in⟩ + b g_b − ⟨w_out, g_out⟩)
    vanish by the rescaling identity."""
    return lr**2 * relu_rescaling_charges(gradient_weights, gradient_biases)
