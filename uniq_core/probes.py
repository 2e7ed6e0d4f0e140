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
- round trip: T steps forward, then T steps of the exact inverse map (drift, then an anti-damped kick, with
  the momentum negated: the staggered reversal), or of the ΔNEGdt map (the same map with −dt); the distance
  back to θ_0 over the length of the outward path (:func:`round_trip_error`);
- Ω-invariance: |ω(Df u, Df v) − β ω(u, v)| / (‖u‖ ‖v‖) for random tangents u, v, by forward-mode
  derivatives (:func:`omega_invariance_error`);
- energy drift: with H_t = ‖p_t‖²/(2M) + L(θ_t), the median over the last quarter of |H_t − H_0| / scale
  (:func:`energy_drift`); with a potential that changes between steps (minibatches), the integration error
  summed step by step, beside the energy dissipated by damping (:func:`energy_accounts`), and the same for
  the shadow Hamiltonian (:func:`shadow_energy`);
- dt_zero: the smallest step size at which a probe crosses a threshold, by a log-spaced scan and bisection
  in log dt (:func:`dt_zero`).

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

from uniq_core.schema import check_choice, check_number

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


def inverse_heavy_ball(gradient: Gradient, theta: torch.Tensor, p: torch.Tensor, *, dt: float, mass: float = 1.0,
                       beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The exact inverse of :func:`heavy_ball`: (θ', p') ↦ (θ' − dt p'/M, (p' + dt ∇L(θ' − dt p'/M))/β).

    Written with the momentum negated, q = −p', it is a drift followed by an anti-damped kick,
    θ = θ' + dt q/M, −p = (q − dt ∇L(θ))/β: the staggered reversal of symplectic Euler. It exists only for
    β > 0 and divides by β.
    """
    if beta <= 0:
        raise ValueError(f"beta={beta!r} has no inverse map; reversal needs 0 < beta <= 1")
    theta_before = theta - dt * p / mass
    return theta_before, (p + dt * gradient(theta_before)) / beta


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


REVERSALS = ("exact", "negative_dt")


def round_trip_error(gradient: Gradient, theta: torch.Tensor, p: torch.Tensor, n_steps: int, *,
                     reversal: str = "exact", **step: float) -> float:
    """‖θ_back − θ_0‖ / (outward path length) after T steps out and T steps of a reversal.

    ``reversal="exact"`` runs :func:`inverse_heavy_ball` T times: zero in exact arithmetic for any force at
    β = 1 (rounding level in floating point), while for β < 1 the inverse amplifies the rounding of the
    outward run by up to β^−T (:func:`reversal_gain`). ``reversal="negative_dt"`` is the ΔNEGdt probe: the
    same kick-then-drift map run T steps with −dt; it returns with an error O(dt) at a fixed physical time
    T·dt (the first-order difference between symplectic Euler and its adjoint). NaN when the outward run is
    not finite.
    """
    thetas, momenta = trajectory(gradient, theta, p, n_steps, **step)
    if not (torch.isfinite(thetas).all() and torch.isfinite(momenta).all()):
        return float("nan")
    return return_error(gradient, thetas, momenta[-1], reversal=reversal, **step)


def return_error(gradient: Gradient | None, thetas: torch.Tensor, p_end: torch.Tensor, *,
                 schedule: Callable[[int], Gradient] | None = None, reversal: str = "exact", dt: float,
                 mass: float = 1.0, beta: float = 1.0) -> float:
    """The second half of :func:`round_trip_error` for an outward path ``thetas`` ending with momentum
    ``p_end``; with ``schedule``, backward step k uses the force of outward step T − 1 − k, so that each
    force meets the state it was applied to (``exact``) or its neighbour (``negative_dt``)."""
    if reversal not in REVERSALS:
        raise ValueError(f"reversal={reversal!r} must be one of {', '.join(REVERSALS)}")
    n_steps = len(thetas) - 1
    theta, p = thetas[-1], p_end
    for k in range(n_steps):
        force = gradient if schedule is None else schedule(n_steps - 1 - k)
        if reversal == "exact":
            theta, p = inverse_heavy_ball(force, theta, p, dt=dt, mass=mass, beta=beta)
        else:
            theta, p = heavy_ball(force, theta, p, dt=-dt, mass=mass, beta=beta)
    length = float((thetas[1:] - thetas[:-1]).norm(dim=1).sum())
    return float((theta - thetas[0]).norm()) / max(length, 1e-300)


def reversal_gain(n_steps: int, beta: float) -> float:
    """β^−T: the factor by which T exact inverse steps amplify a momentum error in a flat direction
    (zero force), the largest amplification of the damped map's inverse when the curvature is small."""
    check_number("n_steps", n_steps, low=0, integer=True)
    check_number("beta", beta, low=0.0, high=1.0, low_inclusive=False)
    return float(beta ** (-n_steps))


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
        u = torch.randn(state.shape, generator=generator, dtype=state.dtype).to(state.device)
        v = torch.randn(state.shape, generator=generator, dtype=state.dtype).to(state.device)
        mu = jvp(step, (state,), (u,))[1]
        mv = jvp(step, (state,), (v,))[1]
        worst = max(worst, float((omega(mu, mv) - beta * omega(u, v)).abs() / (u.norm() * v.norm())))
    return worst


def tail_drift(deviation: np.ndarray, scale: float) -> float:
    """Median over the last quarter of |deviation_t| / scale; NaN when a deviation is not finite."""
    deviation = np.asarray(deviation, dtype=np.float64)
    if deviation.size < 2:
        raise ValueError("a drift needs at least two states")
    if not np.isfinite(deviation).all():
        return float("nan")
    tail = deviation[-max(1, len(deviation) // 4):]
    return float(np.median(np.abs(tail)) / scale)


def energy_drift(losses: np.ndarray, momenta_sq: np.ndarray, mass: float, *, scale: float | None = None) -> float:
    """Median over the last quarter of |H_t − H_0| / scale, H_t = ‖p_t‖²/(2M) + L(θ_t), for one fixed L.

    ``momenta_sq`` are ‖p_t‖². ``scale`` defaults to max(|H_0|, 1e-12). NaN when H is not finite.
    """
    losses = np.asarray(losses, dtype=np.float64)
    energy = np.asarray(momenta_sq, dtype=np.float64) / (2 * mass) + losses
    if energy.size < 2:
        raise ValueError("energy_drift needs at least two states")
    if not np.isfinite(energy).all():
        return float("nan")
    scale = max(abs(energy[0]), 1e-12) if scale is None else scale
    return tail_drift(energy - energy[0], scale)


def shadow_energy(potential: np.ndarray, power: np.ndarray, momenta_sq: np.ndarray, mass: float,
                  dt: float) -> np.ndarray:
    """Modified Hamiltonian of the kick-then-drift map to first order in dt,

        H̃ = ‖p‖²/(2M) + U(θ) − (dt/2M) ⟨p, ∇U(θ)⟩,

    with ``power`` = ⟨p, ∇U(θ)⟩. For U = ω²θ²/2 (M = 1) it is exactly invariant; in general symplectic
    Euler conserves it up to O(dt²) over exponentially long times, so H itself oscillates by O(dt) without
    drifting (Hairer, Lubich & Wanner 2006, Geometric Numerical Integration, ch. IX).
    """
    return (np.asarray(momenta_sq, dtype=np.float64) / (2 * mass) + np.asarray(potential, dtype=np.float64)
            - dt / (2 * mass) * np.asarray(power, dtype=np.float64))


def oscillator_energies(dt: float, frequency: float, n_steps: int, *, theta0: float = 1.0,
                        p0: float = 0.0) -> dict[str, np.ndarray]:
    """H_t − H_0 and H̃_t − H̃_0 along symplectic Euler (:func:`heavy_ball`, β = 1, M = 1) on U = ω²θ²/2.

    The known answer: H̃ = p²/2 + ω²θ²/2 − (dt/2)ω²θp is exactly invariant for this kick-then-drift map,
    while H oscillates by O(dt) without drifting.
    """
    check_number("n_steps", n_steps, low=1, integer=True)
    gradient = lambda theta: frequency**2 * theta  # noqa: E731
    thetas, momenta = trajectory(gradient, torch.tensor([theta0], dtype=torch.float64),
                                 torch.tensor([p0], dtype=torch.float64), n_steps, dt=dt)
    theta, p = thetas[:, 0].numpy(), momenta[:, 0].numpy()
    energy = p**2 / 2 + frequency**2 * theta**2 / 2
    shadow = shadow_energy(frequency**2 * theta**2 / 2, p * frequency**2 * theta, p**2, 1.0, dt)
    return {"energy": energy - energy[0], "shadow": shadow - shadow[0]}


def switching_oscillator_drift(dt: float, horizons: tuple[float, ...], *, switching: bool = True,
                               n_runs: int = 32, seed: int = 0) -> np.ndarray:
    """Median over ``n_runs`` of |Σδ| (:func:`energy_accounts`, integration account) at each physical time of
    ``horizons``, for symplectic Euler (β = 1, M = 1, step ``dt``) on U_s(θ) = k_s(θ − c_s)²/2.

    With ``switching`` the potential of every step is new (k_s uniform on [0.5, 2], c_s standard normal), as a
    minibatch is; otherwise k = 1, c = 0 throughout. For one fixed potential backward error analysis bounds
    H's error by O(dt) for all times (Hairer, Lubich & Wanner 2006, ch. IX); with a new potential each step
    the O(dt²) defects δ_s of different potentials do not cancel and |Σδ| grows with the horizon.
    """
    check_number("dt", dt, low=0.0, low_inclusive=False)
    check_number("n_runs", n_runs, low=1, integer=True)
    generator = np.random.default_rng(seed)
    steps = [max(1, int(round(h / dt))) for h in horizons]
    out = np.zeros((n_runs, len(horizons)))
    for r in range(n_runs):
        n = max(steps)
        k = generator.uniform(0.5, 2.0, n) if switching else np.ones(n)
        c = generator.standard_normal(n) if switching else np.zeros(n)
        theta, p = generator.standard_normal(), 0.0
        u_start, u_end, momenta_sq = [], [], [0.0]
        for s in range(n):
            u_start.append(0.5 * k[s] * (theta - c[s]) ** 2)
            p = p - dt * k[s] * (theta - c[s])
            theta = theta + dt * p
            u_end.append(0.5 * k[s] * (theta - c[s]) ** 2)
            momenta_sq.append(p * p)
        integration = energy_accounts(u_start, u_end, momenta_sq, 1.0)["integration"]
        out[r] = np.abs(integration[steps])
    return np.median(out, axis=0)


def gradient_noise(gradients: torch.Tensor) -> float:
    """tr Σ_g, the trace of the covariance of minibatch gradients (n × P, one row per minibatch; the
    unbiased sample covariance over the n rows): the mean squared distance of a minibatch's gradient from the
    mean gradient. It sets the energy drift of symplectic Euler with switching potentials
    (:func:`switching_drift`)."""
    if gradients.dim() != 2 or gradients.shape[0] < 2:
        raise ValueError(f"gradients has shape {tuple(gradients.shape)}; it needs (n, P) with n ≥ 2 minibatches")
    centred = gradients - gradients.mean(dim=0)
    return float(centred.pow(2).sum() / (gradients.shape[0] - 1))


def switching_drift(dt: float, mass: float, noise: float, n_steps: int) -> np.ndarray:
    """The leading-order integration error of heavy ball at β = 1 whose force switches between minibatches:
    Σδ(t) = −t dt² tr Σ_g / (2M) for t = 0 … n_steps, with ``noise`` = tr Σ_g (:func:`gradient_noise`).

    Backward error analysis of symplectic Euler (Hairer, Lubich & Wanner 2006, ch. IX) gives, step by step,
    δ_t = (dt/2M)(⟨p_{t+1}, g_t(θ_{t+1})⟩ − ⟨p_t, g_t(θ_t)⟩) + O(dt³): the shadow account. For one fixed
    potential the bracket telescopes, and H only oscillates by O(dt). With a new minibatch every step the sum
    regroups into the boundary terms (the same bounded oscillation) plus (dt/2M) Σ_t ⟨p_t, g_{t−1}(θ_t) −
    g_t(θ_t)⟩. The momentum p_t = p_{t−1} − dt g_{t−1}(θ_{t−1}) carries −dt ξ_{t−1}, the fluctuation
    ξ = g − ḡ of the previous minibatch, and the bracket is ξ_{t−1} − ξ_t to leading order; with
    E‖ξ‖² = tr Σ_g every step leaves −dt² tr Σ_g/(2M). At a fixed physical time T = n dt the drift is
    −dt T tr Σ_g/(2M): first order in dt, linear in T, inversely proportional to M, for
    any network; the minibatch's noise term is also the implicit regulariser of SGD's modified equation
    (Smith, Dherin, Barrett & De 2021). Besides the bounded O(dt) oscillation, the corrections are O(dt²) at
    fixed T. :func:`noisy_quadratic_drift` is the known answer it is tested on.
    """
    check_number("dt", dt, low=0.0, low_inclusive=False)
    check_number("mass", mass, low=0.0, low_inclusive=False)
    check_number("noise", noise, low=0.0)
    check_number("n_steps", n_steps, low=1, integer=True)
    return -np.arange(n_steps + 1, dtype=np.float64) * dt * dt * noise / (2 * mass)


def switching_drift_along(dt: float, mass: float, noise: np.ndarray) -> np.ndarray:
    """:func:`switching_drift` with a gradient noise that changes along the run: Σδ(t) = −(dt²/2M) Σ_{s<t}
    tr Σ_g(s), ``noise`` giving tr Σ_g at each step s = 0 … n − 1 (a constant gives :func:`switching_drift`)."""
    noise = np.asarray(noise, dtype=np.float64)
    return np.concatenate([[0.0], -np.cumsum(noise) * dt**2 / (2 * mass)])


def noisy_quadratic_drift(dt: float, mass: float, horizon: float, *, noise: float | np.ndarray = 1.0, dim: int = 4,
                          stiffness: float = 1.0, n_runs: int = 400, seed: int = 0, statistic: str = "final") -> float:
    """Mean over ``n_runs`` of the integration error Σδ at time ``horizon`` (:func:`energy_accounts`) of
    symplectic Euler (β = 1) on U_t(θ) = k‖θ‖²/2 − ξ_t·θ in ``dim`` dimensions, ξ_t Gaussian with covariance
    (noise/dim)·I, new at every step: a potential whose minibatch-gradient covariance is known exactly,
    tr Σ_g = ``noise``. Started at rest from θ_0 ~ N(0, I). :func:`switching_drift` predicts
    −horizon dt noise/(2M) to first order in dt. ``statistic="tail"``: instead, the mean over runs of the
    energy probe's own statistic, each run's :func:`tail_drift` of its Σδ path (scale 1). ``noise`` may be
    one tr Σ_g per step, a noise that changes along the run (:func:`switching_drift_along` predicts it)."""
    check_number("horizon", horizon, low=0.0, low_inclusive=False)
    check_number("n_runs", n_runs, low=1, integer=True)
    check_choice("statistic", statistic, ("final", "tail"))
    generator = np.random.default_rng(seed)
    steps = max(1, int(round(horizon / dt)))
    theta = generator.standard_normal((n_runs, dim))
    p = np.zeros_like(theta)
    path = np.zeros((steps + 1, n_runs))
    level = np.broadcast_to(np.asarray(noise, dtype=np.float64), (steps,)) if np.ndim(noise) == 0 else np.asarray(noise)
    if len(level) != steps:
        raise ValueError(f"noise has {len(level)} values; give one, or one per step ({steps})")
    for t in range(steps):
        xi = generator.standard_normal((n_runs, dim)) * np.sqrt(level[t] / dim)
        before = (p * p).sum(1) / (2 * mass) + 0.5 * stiffness * (theta * theta).sum(1) - (xi * theta).sum(1)
        p = p - dt * (stiffness * theta - xi)
        theta = theta + dt * p / mass
        after = (p * p).sum(1) / (2 * mass) + 0.5 * stiffness * (theta * theta).sum(1) - (xi * theta).sum(1)
        path[t + 1] = path[t] + after - before
    if statistic == "final":
        return float(path[-1].mean())
    return float(np.mean([tail_drift(path[:, run], 1.0) for run in range(n_runs)]))


def first_crossing(dts: np.ndarray, values: np.ndarray, threshold: float) -> tuple[float, str]:
    """The step size where ``values`` (a probe on the increasing grid ``dts``) first rises above
    ``threshold``, interpolated linearly in (log dt, log value) between the last point below and the first
    above; NaN counts as above (a diverged run), and then the geometric mean of the two points is returned.

    Returns (dt_zero, where): ``where`` is ``"inside"``, ``"below"`` (already above at the first point:
    dt_zero is that point, an upper bound) or ``"above"`` (never above: ``inf``, a lower bound is the last
    point). On an exact power law the interpolation is exact.
    """
    dts, values = np.asarray(dts, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if dts.ndim != 1 or dts.shape != values.shape or len(dts) < 2 or np.any(np.diff(dts) <= 0):
        raise ValueError("dts must be an increasing grid of at least two step sizes, one value per step size")
    check_number("threshold", threshold, low=0.0, low_inclusive=False)
    above = ~np.isfinite(values) | (values > threshold)
    if above[0]:
        return float(dts[0]), "below"
    if not above.any():
        return float("inf"), "above"
    i = int(np.argmax(above))
    a, b = np.log(dts[i - 1]), np.log(dts[i])
    if not np.isfinite(values[i]) or values[i - 1] <= 0:
        return float(np.exp((a + b) / 2)), "inside"
    va, vb = np.log(values[i - 1]), np.log(values[i])
    return float(np.exp(a + (np.log(threshold) - va) * (b - a) / (vb - va))), "inside"


def energy_accounts(u_start: np.ndarray, u_end: np.ndarray, momenta_sq: np.ndarray, mass: float, *,
                    beta: float = 1.0, dt: float | None = None, power_start: np.ndarray | None = None,
                    power_end: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Cumulative energy accounts of a heavy-ball run whose step s is driven by the potential U_s.

    Step s damps, p̂_s = β p_s, which dissipates d_s = (1 − β²)‖p_s‖²/(2M), then applies symplectic Euler
    to (θ_s, p̂_s) with the force ∇U_s. Its integration error is the change of the energy of the potential
    that drives it, δ_s = ‖p_{s+1}‖²/(2M) + U_s(θ_{s+1}) − ‖p̂_s‖²/(2M) − U_s(θ_s), and the same with the
    shadow energy (:func:`shadow_energy`) when ``dt`` and the powers are given. Returns arrays of length
    T + 1 starting at 0: ``integration`` (Σ δ), ``dissipated`` (Σ d) and ``shadow`` (Σ δ̃). For a single
    potential, H(t) + dissipated(t) = H(0) + integration(t) exactly; a change of potential between steps
    (a new minibatch) is work done on the system, not integration error, and enters no account.

    ``u_start[s]`` = U_s(θ_s), ``u_end[s]`` = U_s(θ_{s+1}), ``momenta_sq[t]`` = ‖p_t‖² (T + 1 values),
    ``power_start[s]`` = ⟨β p_s, ∇U_s(θ_s)⟩, ``power_end[s]`` = ⟨p_{s+1}, ∇U_s(θ_{s+1})⟩.
    """
    u_start, u_end = np.asarray(u_start, dtype=np.float64), np.asarray(u_end, dtype=np.float64)
    kinetic = np.asarray(momenta_sq, dtype=np.float64) / (2 * mass)
    if kinetic.shape != (len(u_start) + 1,) or u_end.shape != u_start.shape:
        raise ValueError(f"momenta_sq has {kinetic.shape} entries; it needs len(u_start) + 1 = {len(u_start) + 1}")
    before = beta**2 * kinetic[:-1] + u_start
    after = kinetic[1:] + u_end
    accounts = {"integration": np.concatenate([[0.0], np.cumsum(after - before)]),
                "dissipated": np.concatenate([[0.0], np.cumsum((1 - beta**2) * kinetic[:-1])])}
    if dt is not None and power_start is not None and power_end is not None:
        correction = dt / (2 * mass) * (np.asarray(power_end, dtype=np.float64) - np.asarray(power_start, dtype=np.float64))
        accounts["shadow"] = np.concatenate([[0.0], np.cumsum(after - before - correction)])
    return accounts


def dt_zero(probe: Callable[[float], float], threshold: float, low: float, high: float, *,
            iterations: int = 20, scan: int = 8) -> float:
    """Smallest step size where ``probe(dt)`` crosses ``threshold``: a scan of ``scan`` points spaced evenly
    in log dt on [low, high] finds the first point above, then bisection in log dt between it and the point
    before.

    NaN counts as above the threshold. Returns ``low`` when the probe is already above at ``low`` and
    ``inf`` when no scanned point is above. The scan makes the answer the first crossing even when the
    probe is not monotone at large dt (few steps in a fixed horizon). The grid scales with the bracket, so a
    probe that depends on dt/c only, searched on [c·low, c·high], gives c times the answer.
    """
    check_number("low", low, low=0.0, low_inclusive=False)
    check_number("high", high, low=low, low_inclusive=False)
    check_number("iterations", iterations, low=1, integer=True)
    check_number("scan", scan, low=2, integer=True)

    def above(dt: float) -> bool:
        value = probe(dt)
        return not np.isfinite(value) or value > threshold

    grid = np.linspace(np.log(low), np.log(high), scan)
    if above(low):
        return low
    for a, b in zip(grid[:-1], grid[1:]):
        if above(float(np.exp(b))):
            break
    else:
        return float("inf")
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
