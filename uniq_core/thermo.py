"""Entropy production of stochastic dynamics: exact rates for linear processes and path estimates.

Continuous time (Ornstein–Uhlenbeck / linear Langevin): dx = −A x dt + √(2D) dW with A's eigenvalues in
the open right half-plane and D symmetric positive definite. The stationary density is N(0, Σ) with
A Σ + Σ Aᵀ = 2D. Its probability current is J = v p with the mean local velocity v(x) = (D Σ⁻¹ − A) x, and
the steady-state entropy production rate (in units of k_B) is

    σ = ⟨vᵀ D⁻¹ v⟩ = tr(Mᵀ D⁻¹ M Σ),   M = D Σ⁻¹ − A,

which is zero exactly when the process is reversible: detailed balance A D = D Aᵀ gives Σ = A⁻¹ D and M = 0.
For A = [[a, −ω], [ω, a]] and D = d·I it gives σ = 2ω²/a.

Discrete time (Gaussian AR(1)): x' = F x + ξ, ξ ~ N(0, C). The entropy production per step is the
Kullback–Leibler divergence between the stationary pair (x, x') and its time reverse (x', x).

Path estimate: along a sampled trajectory with Euler kernels N(x + b(x) dt, 2D dt), the average log-ratio of
forward and time-reversed transition densities per unit time estimates σ (Seifert 2012, Rep. Prog. Phys.
75, 126001; for the discrete-time pair form see e.g. Roldán & Parrondo 2010, PRL 105, 150607).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import linalg

from uniq_core.schema import check_number


def _matrices(A: np.ndarray, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    A = np.atleast_2d(np.asarray(A, dtype=np.float64))
    D = np.atleast_2d(np.asarray(D, dtype=np.float64))
    n = A.shape[0]
    if A.shape != (n, n) or D.shape != (n, n):
        raise ValueError(f"A and D must be square matrices of one size; got {A.shape} and {D.shape}")
    if not (np.isfinite(A).all() and np.isfinite(D).all()):
        raise ValueError("A and D must be finite")
    if np.min(np.linalg.eigvals(A).real) <= 0:
        raise ValueError(
            "A is not stable: dx = -A x dt needs every eigenvalue of A to have a positive real part; "
            f"got real parts {np.round(np.sort(np.linalg.eigvals(A).real), 6).tolist()}"
        )
    if not np.allclose(D, D.T):
        raise ValueError("D must be symmetric")
    smallest = np.linalg.eigvalsh(D).min()
    if smallest <= 1e-12 * max(1.0, np.abs(D).max()):
        raise ValueError(f"D must be positive definite; its smallest eigenvalue is {smallest:.3g} (singular noise)")
    return A, D


def stationary_covariance(A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Σ solving A Σ + Σ Aᵀ = 2D (continuous Lyapunov equation)."""
    A, D = _matrices(A, D)
    sigma = linalg.solve_continuous_lyapunov(A, 2 * D)
    return (sigma + sigma.T) / 2


def ou_entropy_production(A: np.ndarray, D: np.ndarray) -> float:
    """Exact steady-state entropy production rate of dx = −A x dt + √(2D) dW (see the module docstring).

    Raises ``ValueError`` unless A is stable (eigenvalues with positive real parts) and D symmetric
    positive definite.
    """
    A, D = _matrices(A, D)
    sigma = stationary_covariance(A, D)
    M = D @ np.linalg.inv(sigma) - A
    return float(max(0.0, np.trace(M.T @ np.linalg.solve(D, M) @ sigma)))


def ar1_entropy_production(F: np.ndarray, C: np.ndarray) -> float:
    """Exact entropy production per step of the stationary Gaussian chain x' = F x + ξ, ξ ~ N(0, C).

    KL(p(x, x') ‖ p(x', x)) = ½ [tr(Γᵣ⁻¹ Γ) − 2n], with Γ the covariance of the pair and Γᵣ that of the
    reversed pair (their determinants are equal). Requires spectral radius of F below 1 and C positive
    definite.
    """
    F = np.atleast_2d(np.asarray(F, dtype=np.float64))
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    n = F.shape[0]
    if F.shape != (n, n) or C.shape != (n, n):
        raise ValueError(f"F and C must be square matrices of one size; got {F.shape} and {C.shape}")
    if np.max(np.abs(np.linalg.eigvals(F))) >= 1:
        raise ValueError("F is not stable: its spectral radius must be below 1 for a stationary chain")
    if np.linalg.eigvalsh((C + C.T) / 2).min() <= 0:
        raise ValueError("C must be positive definite (singular noise)")
    S = linalg.solve_discrete_lyapunov(F, C)
    forward = np.block([[S, S @ F.T], [F @ S, S]])
    reverse = np.block([[S, F @ S], [S @ F.T, S]])
    return float(max(0.0, 0.5 * (np.trace(np.linalg.solve(reverse, forward)) - 2 * n)))


def euler_entropy_production(A: np.ndarray, D: np.ndarray, dt: float) -> float:
    """Exact entropy production per unit time of the Euler chain x' = (I − A dt) x + √(2D dt) ξ.

    The AR(1) pair rate (:func:`ar1_entropy_production`) of F = I − A dt, C = 2D dt, divided by dt: the
    discrete-time process whose kernels :func:`path_entropy_production` uses, which tends to
    :func:`ou_entropy_production` as dt → 0.
    """
    A, D = _matrices(A, D)
    check_number("dt", dt, low=0.0, low_inclusive=False)
    return ar1_entropy_production(np.eye(len(A)) - A * dt, 2 * D * dt) / dt


def euler_path_expectation(A: np.ndarray, D: np.ndarray, dt: float) -> float:
    """Exact limit of :func:`path_entropy_production` with drift −A x on the OU process sampled exactly at dt.

    With the pair y = (x, x') of the stationary sampled chain (covariance Γ, lag-one covariance
    K = E[x' xᵀ] = e^{−A dt} Σ), forward residual f = x' − x + A x dt, backward residual
    r = x − x' + A x' dt and P = (2D dt)⁻¹, the estimate converges to ½ E[rᵀ P r − fᵀ P f] / dt. For D = d·I
    it is tr(A(K − Kᵀ)) / (2 d dt²); for the rotational A = [[a, −ω], [ω, a]] it is
    2ω sin(ω dt) e^{−a dt} / (a dt). It is neither the pair rate of the sampled chain nor the rate of the
    Euler chain whose kernels the estimate is written with; all three tend to σ as dt → 0.
    """
    A, D = _matrices(A, D)
    check_number("dt", dt, low=0.0, low_inclusive=False)
    n = len(A)
    sigma = stationary_covariance(A, D)
    lag = linalg.expm(-A * dt) @ sigma  # E[x' xᵀ]
    pair = np.block([[sigma, lag.T], [lag, sigma]])
    identity = np.eye(n)
    forward = np.hstack([-identity + A * dt, identity])
    backward = np.hstack([identity, -identity + A * dt])
    precision = np.linalg.inv(2 * D * dt)
    value = np.trace(precision @ (backward @ pair @ backward.T - forward @ pair @ forward.T))
    return float(0.5 * value / dt)


def path_entropy_production(
    traj: np.ndarray,
    drift: Callable[[np.ndarray], np.ndarray],
    D: np.ndarray | float,
    dt: float,
    *,
    return_error: bool = False,
    n_batches: int = 20,
) -> float | tuple[float, float]:
    """Entropy production per unit time estimated from one sampled trajectory (T × n).

    Each step contributes ln N(x_{t+1}; x_t + b(x_t) dt, 2D dt) − ln N(x_t; x_{t+1} + b(x_{t+1}) dt, 2D dt);
    the estimate is their mean divided by dt. ``drift`` maps an (m × n) array of states to their drifts
    b(x). With ``return_error`` the standard error (batch means over ``n_batches`` contiguous blocks, which
    accounts for correlation along the path) is returned too. The Euler kernels make the estimate exact
    as dt → 0; at finite dt it carries an O(dt) bias.

    Raises ``ValueError`` for trajectories too short for the batch-means error (fewer than
    ``2 * n_batches`` steps), non-finite states, a bad ``dt`` or a singular D.
    """
    check_number("dt", dt, low=0.0, low_inclusive=False)
    check_number("n_batches", n_batches, low=2, integer=True)
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim == 1:
        traj = traj[:, None]
    if traj.ndim != 2:
        raise ValueError(f"traj must be a T × n array; got shape {traj.shape}")
    steps = traj.shape[0] - 1
    if steps < 2 * n_batches:
        raise ValueError(
            f"traj has {steps} steps; at least {2 * n_batches} are needed (2 per batch, n_batches={n_batches})"
        )
    if not np.isfinite(traj).all():
        raise ValueError("traj has non-finite entries")
    n = traj.shape[1]
    D = np.asarray(D, dtype=np.float64) * (np.eye(n) if np.ndim(D) == 0 else 1.0)
    if D.shape != (n, n) or np.linalg.eigvalsh((D + D.T) / 2).min() <= 0:
        raise ValueError("D must be a positive definite n × n matrix (or a positive number)")
    precision = np.linalg.inv(2 * D * dt)
    drifts = np.asarray(drift(traj), dtype=np.float64).reshape(traj.shape)
    before, after = traj[:-1], traj[1:]
    forward = after - before - drifts[:-1] * dt
    backward = before - after - drifts[1:] * dt
    log_ratio = 0.5 * (np.einsum("ti,ij,tj->t", backward, precision, backward)
                       - np.einsum("ti,ij,tj->t", forward, precision, forward))
    rate = float(log_ratio.mean() / dt)
    if not return_error:
        return rate
    usable = (steps // n_batches) * n_batches
    batch_means = log_ratio[:usable].reshape(n_batches, -1).mean(axis=1) / dt
    return rate, float(batch_means.std(ddof=1) / np.sqrt(n_batches))


def simulate_ou(A: np.ndarray, D: np.ndarray, dt: float, n_steps: int, *, seed: int = 0) -> np.ndarray:
    """A stationary OU trajectory (n_steps + 1 × n) sampled exactly at interval dt.

    Exact transition: x' = e^{−A dt} x + ξ with ξ ~ N(0, Σ − e^{−A dt} Σ e^{−Aᵀ dt}); the start is drawn
    from the stationary N(0, Σ).
    """
    A, D = _matrices(A, D)
    check_number("dt", dt, low=0.0, low_inclusive=False)
    check_number("n_steps", n_steps, low=1, integer=True)
    rng = np.random.default_rng(seed)
    sigma = stationary_covariance(A, D)
    F = linalg.expm(-A * dt)
    noise = np.linalg.cholesky(sigma - F @ sigma @ F.T + 1e-15 * np.eye(len(A)))
    x = np.empty((n_steps + 1, len(A)))
    x[0] = np.linalg.cholesky(sigma) @ rng.standard_normal(len(A))
    kicks = rng.standard_normal((n_steps, len(A))) @ noise.T
    for t in range(n_steps):
        x[t + 1] = F @ x[t] + kicks[t]
    return x


def sgd_entropy_production(hessian: np.ndarray, noise_covariance: np.ndarray, lr: float) -> float:
    """Exact entropy production per step of SGD on a quadratic loss with Gaussian gradient noise.

    θ' = θ − η (H θ + ξ), ξ ~ N(0, Σ_g), is the AR(1) chain F = I − ηH, C = η² Σ_g. With H symmetric, the
    chain is reversible exactly when Σ_g commutes with H (isotropic Langevin noise does; minibatch noise,
    whose covariance is not a function of H, in general does not). Near a minimum of a network this is the
    linearised dynamics in the subspace where H is positive and ηH < 2.
    """
    hessian = np.atleast_2d(np.asarray(hessian, dtype=np.float64))
    check_number("lr", lr, low=0.0, low_inclusive=False)
    n = hessian.shape[0]
    if not np.allclose(hessian, hessian.T):
        raise ValueError("hessian must be symmetric")
    return ar1_entropy_production(np.eye(n) - lr * hessian, lr**2 * np.asarray(noise_covariance, dtype=np.float64))


def fit_ar1(traj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares F and residual covariance C of x_{t+1} = F x_t + ξ.

    ``traj`` is one T × n trajectory or a (chains × T × n) stack of independent ones, whose transitions
    are pooled; states are centred by their overall mean.
    """
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim == 2:
        traj = traj[None]
    if traj.ndim != 3 or traj.shape[0] * (traj.shape[1] - 1) < 3 * traj.shape[2] + 3:
        raise ValueError(
            f"traj must be T × n or chains × T × n with at least T ≥ 3n + 3 transitions to fit an AR(1) chain; "
            f"got shape {traj.shape}"
        )
    traj = traj - traj.reshape(-1, traj.shape[2]).mean(axis=0)
    before = traj[:, :-1].reshape(-1, traj.shape[2])
    after = traj[:, 1:].reshape(-1, traj.shape[2])
    transposed, *_ = np.linalg.lstsq(before, after, rcond=None)
    residual = after - before @ transposed
    return transposed.T, residual.T @ residual / (len(residual) - traj.shape[2])


def _simulate_ar1(F: np.ndarray, C: np.ndarray, starts: np.ndarray, n_states: int, replicates: int,
                  rng: np.random.Generator) -> np.ndarray:
    """``replicates`` × chains × ``n_states`` × n paths of x' = F x + ξ, ξ ~ N(0, C), from the given starts."""
    factor = np.linalg.cholesky(C).T
    paths = np.empty((replicates, starts.shape[0], n_states, F.shape[0]))
    for replicate in range(replicates):  # one replicate's kicks at a time: memory of one path set, not all
        kicks = rng.standard_normal((starts.shape[0], n_states - 1, F.shape[0])) @ factor
        paths[replicate] = _ar1_recursion(F, starts, kicks)
    return paths


def _ar1_recursion(F: np.ndarray, starts: np.ndarray, kicks: np.ndarray) -> np.ndarray:
    """chains × (T + 1) × n states of x_t = F x_{t−1} + kicks_{t−1} from ``starts`` (chains × n), for
    ``kicks`` of shape chains × T × n. Where F is diagonalisable with a well-conditioned eigenbasis, each
    eigen-coordinate is a first-order linear filter run in compiled code (:func:`scipy.signal.lfilter`),
    equal to the step-by-step loop up to rounding; otherwise the loop."""
    from scipy.signal import lfilter

    chains, T, n = kicks.shape
    out = np.empty((chains, T + 1, n))
    out[:, 0] = starts
    values, vectors = np.linalg.eig(F)
    if np.linalg.cond(vectors) < 1e6:
        inverse = np.linalg.inv(vectors)
        driven = kicks @ inverse.T  # eigen-coordinates of the kicks
        start = starts @ inverse.T
        coordinates = np.empty((chains, T, n), dtype=complex)
        for k, value in enumerate(values):
            coordinates[..., k] = lfilter([1.0], [1.0, -value], driven[..., k], axis=1,
                                          zi=(value * start[:, k])[:, None])[0]
        out[:, 1:] = (coordinates @ vectors.T).real
        return out
    for t in range(1, T + 1):
        out[:, t] = out[:, t - 1] @ F.T + kicks[:, t - 1]
    return out


def ar1_reversibility_family(F: np.ndarray, C: np.ndarray) -> Callable[[float], tuple[np.ndarray, np.ndarray]]:
    """Chains with the stationary covariance S of (F, C) and lag-one covariance K_λ = K_s + λ K_a.

    K = F S splits into its symmetric part K_s and antisymmetric part K_a. λ = 0 is the reversible chain
    closest to (F, C) (a stationary Gaussian chain is reversible exactly when its lag-one covariance is
    symmetric), λ = 1 is (F, C) itself; for λ in [0, 1] the pair covariance is a mixture of the forward and
    reversed pair covariances, so the noise C_λ = S − K_λ S⁻¹ K_λᵀ stays positive definite.
    Returns λ ↦ (F_λ, C_λ) with F_λ = K_λ S⁻¹.
    """
    S = linalg.solve_discrete_lyapunov(F, C)
    S = (S + S.T) / 2
    lag = F @ S
    symmetric, antisymmetric = (lag + lag.T) / 2, (lag - lag.T) / 2
    precision = np.linalg.inv(S)

    def chain(strength: float) -> tuple[np.ndarray, np.ndarray]:
        lag_strength = symmetric + strength * antisymmetric
        noise = S - lag_strength @ precision @ lag_strength.T
        return lag_strength @ precision, (noise + noise.T) / 2

    return chain


def ar1_entropy_estimate(
    traj: np.ndarray, *, return_error: bool = False, n_bootstrap: int = 32, seed: int = 0
) -> float | tuple[float, float]:
    """Entropy production per step of the AR(1) chain behind ``traj``, bias-corrected by parametric bootstrap.

    The plug-in value σ̂ = KL rate of the chain fitted by :func:`fit_ar1` (:func:`ar1_entropy_production`) is
    never negative and biased upward by estimation noise, by about (number of fitted entries)/(transitions).
    The bias is estimated by simulating ``n_bootstrap`` data sets of the same shape (same chains, length and
    first states) from a model of known rate, refitting each:

    1. from the reversible chain closest to the fit (:func:`ar1_reversibility_family`, λ = 0, rate 0):
       b₀ = mean σ̂* and σ₁ = σ̂ − b₀;
    2. if σ₁ exceeds twice the spread s₀ of σ̂* in step 1 (a rate resolved from zero), from the member of
       the same family whose exact rate is σ₁: b = mean σ̂* − σ₁ and the estimate σ̂ − b; otherwise the
       estimate is σ₁ and its error s₀ (below detection the null spread is the relevant one; the spread at
       λ > 0 would count the plug-in's extra variance away from zero).

    The estimate is unbiased to first order on reversible and irreversible chains alike and may be negative.
    The standard error is the spread of σ̂* over the bootstrap at the chosen model, times √(1 + 1/n_bootstrap)
    for the Monte Carlo error of the bias (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*,
    ch. 10). ``traj`` is T × n or chains × T × n (independent chains, transitions pooled).
    """
    check_number("n_bootstrap", n_bootstrap, low=2, high=10_000, integer=True)
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim == 2:
        traj = traj[None]
    F, C = fit_ar1(traj)
    plug_in = ar1_entropy_production(F, C)
    centred = traj - traj.reshape(-1, traj.shape[-1]).mean(axis=0)
    starts, n_states = centred[:, 0], traj.shape[1]
    rng = np.random.default_rng(seed)
    family = ar1_reversibility_family(F, C)

    def bootstrap(strength: float) -> np.ndarray:
        paths = _simulate_ar1(*family(strength), starts, n_states, n_bootstrap, rng)
        return np.array([ar1_entropy_production(*fit_ar1(path)) for path in paths])

    replicas = bootstrap(0.0)
    estimate = plug_in - float(replicas.mean())
    if estimate > 2 * replicas.std(ddof=1):
        low, high = 0.0, 1.0
        for _ in range(40):  # the family's rate grows with λ; bisect for the member with rate σ₁
            middle = (low + high) / 2
            low, high = (middle, high) if ar1_entropy_production(*family(middle)) < estimate else (low, middle)
        target = ar1_entropy_production(*family(low))
        replicas = bootstrap(low)
        estimate = plug_in - (float(replicas.mean()) - target)
    if not return_error:
        return estimate
    return estimate, float(replicas.std(ddof=1) * np.sqrt(1 + 1 / n_bootstrap))


def local_velocities(traj: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """States x_t and Stratonovich midpoint velocities (x_{t+1} − x_{t−1}) / (2 dt), for t = 1 … T−2.

    Conditioned on x_t, the velocity's mean is the mean local velocity v(x) = J(x)/p(x) of the stationary
    process: for dx = −A x dt + √(2D) dW it is (D Σ⁻¹ − A) x, zero exactly for reversible dynamics.
    """
    check_number("dt", dt, low=0.0, low_inclusive=False)
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim != 2 or traj.shape[0] < 3:
        raise ValueError(f"traj must be a T × n array with T ≥ 3; got shape {traj.shape}")
    return traj[1:-1], (traj[2:] - traj[:-2]) / (2 * dt)


def velocity_field(traj: np.ndarray, dt: float, *, bins: int = 12, min_count: int = 30) -> dict[str, np.ndarray]:
    """Mean local velocity on a ``bins`` × ``bins`` grid over a 2-D trajectory (e.g. its top PCA plane).

    ``traj`` is T × 2, or chains × T × 2 for independent chains whose velocities are pooled. Returns ``x``, ``y`` (bin centres), ``u``, ``v`` (mean velocity components, NaN in bins with fewer than
    ``min_count`` visits) and ``count``. Closed loops in this field are the probability currents that
    break detailed balance (Chaudhari & Soatto 2018).
    """
    check_number("bins", bins, low=2, high=200, integer=True)
    check_number("min_count", min_count, low=1, integer=True)
    traj = np.asarray(traj, dtype=np.float64)
    chains = traj if traj.ndim == 3 else traj[None]
    pairs = [local_velocities(chain, dt) for chain in chains]
    points, velocities = np.concatenate([p for p, _ in pairs]), np.concatenate([v for _, v in pairs])
    if points.shape[1] != 2:
        raise ValueError(f"velocity_field needs a 2-D trajectory; got {points.shape[1]} dimensions")
    edges = [np.linspace(points[:, i].min(), points[:, i].max() + 1e-12, bins + 1) for i in range(2)]
    index = [np.clip(np.digitize(points[:, i], edges[i]) - 1, 0, bins - 1) for i in range(2)]
    flat = index[0] * bins + index[1]
    count = np.bincount(flat, minlength=bins * bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.bincount(flat, velocities[:, 0], bins * bins) / count
        v = np.bincount(flat, velocities[:, 1], bins * bins) / count
    u[count < min_count] = np.nan
    v[count < min_count] = np.nan
    centres = [(e[:-1] + e[1:]) / 2 for e in edges]
    return {"x": centres[0], "y": centres[1], "u": u.reshape(bins, bins), "v": v.reshape(bins, bins),
            "count": count.reshape(bins, bins)}


def circulation_rate(
    traj: np.ndarray, dt: float, *, return_error: bool = False, n_batches: int = 20
) -> float | tuple[float, float]:
    """Rate at which a 2-D trajectory sweeps signed area about its mean: ½⟨x ∧ ẋ⟩ per unit time.

    With midpoint velocities (:func:`local_velocities`) this is ⟨x_t ∧ x_{t+1}⟩ / (2 dt), the antisymmetric
    part of the lag-one covariance, which vanishes for every reversible stationary process; a non-zero value
    is a probability current circulating in the plane (positive: anticlockwise). For the OU process its
    value is :func:`ou_circulation_rate`. With ``return_error`` the batch-means standard error is returned too.
    """
    check_number("n_batches", n_batches, low=2, integer=True)
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim != 2 or traj.shape[1] != 2:
        raise ValueError(f"circulation_rate needs a T × 2 trajectory; got shape {traj.shape}")
    if traj.shape[0] - 2 < 2 * n_batches:
        raise ValueError(f"traj has {traj.shape[0]} states; at least {2 * n_batches + 2} are needed "
                         f"(n_batches={n_batches})")
    if not np.isfinite(traj).all():
        raise ValueError("traj has non-finite entries")
    points, velocities = local_velocities(traj - traj.mean(axis=0), dt)
    area = 0.5 * (points[:, 0] * velocities[:, 1] - points[:, 1] * velocities[:, 0])
    rate = float(area.mean())
    if not return_error:
        return rate
    usable = (len(area) // n_batches) * n_batches
    batch_means = area[:usable].reshape(n_batches, -1).mean(axis=1)
    return rate, float(batch_means.std(ddof=1) / np.sqrt(n_batches))


def ou_circulation_rate(A: np.ndarray, D: np.ndarray) -> float:
    """Exact ½⟨x ∧ ẋ⟩ of a stationary 2-D OU process: ½[(AΣ)₁₂ − (AΣ)₂₁] (for A = [[a, −ω], [ω, a]] and
    D = d·I it is −ωd/a: the drift turns states clockwise)."""
    A, D = _matrices(A, D)
    if A.shape != (2, 2):
        raise ValueError(f"ou_circulation_rate is defined for 2-D processes; got A of shape {A.shape}")
    product = A @ stationary_covariance(A, D)
    return float(0.5 * (product[0, 1] - product[1, 0]))


def _pair_blocks(S: np.ndarray, lag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of the time-symmetrised pair covariance [[S, K_s], [K_s, S]] and the map D ↦ [[0, −D], [D, 0]]."""
    symmetric = (lag + lag.T) / 2
    pair = np.block([[S, symmetric], [symmetric, S]])
    return np.linalg.inv((pair + pair.T) / 2), symmetric


def _antisymmetric_block(difference: np.ndarray) -> np.ndarray:
    zero = np.zeros_like(difference)
    return np.block([[zero, -difference], [difference, zero]])


def quadratic_entropy_production(F: np.ndarray, C: np.ndarray) -> float:
    """Small-current (quadratic) entropy production per step of x' = F x + ξ, ξ ~ N(0, C): what
    :func:`cross_chain_entropy_estimate` estimates.

    With stationary covariance S, lag-one covariance K = F S, its symmetric part K_s, G the inverse of the
    symmetrised pair covariance [[S, K_s], [K_s, S]] and δ = [[0, −(K − Kᵀ)], [K − Kᵀ, 0]] (the difference of
    the forward and reversed pair covariances), σ₂ = ¼ tr(G δ G δ): the second-order expansion in δ of the KL
    rate :func:`ar1_entropy_production`, equal to it up to relative O(σ) corrections.
    """
    F = np.atleast_2d(np.asarray(F, dtype=np.float64))
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    if np.max(np.abs(np.linalg.eigvals(F))) >= 1:
        raise ValueError("F is not stable: its spectral radius must be below 1 for a stationary chain")
    S = linalg.solve_discrete_lyapunov(F, C)
    S = (S + S.T) / 2
    lag = F @ S
    inverse, _ = _pair_blocks(S, lag)
    delta = _antisymmetric_block(lag - lag.T)
    return float(0.25 * np.trace(inverse @ delta @ inverse @ delta))


def cross_chain_entropy_estimate(
    traj: np.ndarray, *, return_error: bool = False
) -> float | tuple[float, float]:
    """Model-free estimate of the quadratic entropy production per step from independent chains.

    For each chain c (centred by its own mean) the lag-one covariance K_c = mean_t x_{t+1} x_tᵀ gives the
    antisymmetric part δ_c = [[0, −(K_c − K_cᵀ)], [K_c − K_cᵀ, 0]]; with G the inverse of the pooled
    time-symmetrised pair covariance, the estimate is the U-statistic over pairs of different chains

        σ̂ = 1/(C(C − 1)) Σ_{c ≠ c′} ¼ tr(G δ_c G δ_{c′}),

    whose target is :func:`quadratic_entropy_production`. Reversing any one chain in time flips δ_c and leaves
    G and every other chain unchanged, so for ANY stationary reversible process (linear or not, with slow
    components or not) the mean of σ̂ is exactly zero; it may be negative. No model is fitted, unlike
    :func:`ar1_entropy_estimate`, whose bootstrap assumes the chains are a Gaussian AR(1) process. The
    standard error is the jackknife over chains (Efron & Tibshirani 1993, ch. 11), with G held fixed.
    ``traj`` is chains × T × n with at least 3 chains.
    """
    traj = np.asarray(traj, dtype=np.float64)
    if traj.ndim != 3 or traj.shape[0] < 3 or traj.shape[1] < 3:
        raise ValueError(f"traj must be chains × T × n with at least 3 chains of 3 states; got shape {traj.shape}")
    if not np.isfinite(traj).all():
        raise ValueError("traj has non-finite entries")
    chains = traj.shape[0]
    centred = traj - traj.mean(axis=1, keepdims=True)
    lags = np.einsum("cti,ctj->cij", centred[:, 1:], centred[:, :-1]) / (traj.shape[1] - 1)
    S = np.einsum("cti,ctj->ij", centred, centred) / (chains * traj.shape[1])
    inverse, _ = _pair_blocks(S, lags.mean(axis=0))
    # G δ_c for every chain, then the Gram matrix of the bilinear form ¼ tr(G δ_c G δ_c′)
    whitened = np.stack([inverse @ _antisymmetric_block(lag - lag.T) for lag in lags])
    gram = 0.25 * np.einsum("aij,bji->ab", whitened, whitened)
    total, diagonal = gram.sum(), np.trace(gram)
    estimate = float((total - diagonal) / (chains * (chains - 1)))
    if not return_error:
        return estimate
    row = gram.sum(axis=1) - np.diag(gram)  # Σ_{c′≠c} of chain c's terms
    left_out = (total - diagonal - 2 * row) / ((chains - 1) * (chains - 2))
    error = np.sqrt((chains - 1) / chains * np.sum((left_out - left_out.mean()) ** 2))
    return estimate, float(error)


def phase_space_contraction(eigenvalues: np.ndarray, lr: float) -> float:
    """Phase-space contraction rate per step of gradient descent θ' = θ − η∇L at a point whose Hessian has
    ``eigenvalues`` h_i: σ = −ln|det(I − ηH)| = −Σ ln|1 − η h_i| nats per step. An ensemble of states loses
    Gibbs entropy at this rate, the deterministic counterpart of entropy production (for thermostatted
    dynamics the two are identified: Gallavotti & Cohen 1995; Ruelle 1996, *J. Stat. Phys.* 85, 1–23).
    Positive where the map contracts volume (0 < ηh < 2), negative where it expands it (h < 0, or ηh > 2);
    ``inf`` when some ηh = 1 exactly (the map collapses that direction)."""
    from uniq_core.schema import check_number

    check_number("lr", lr, low=0.0, low_inclusive=False)
    factors = np.abs(1.0 - lr * np.asarray(eigenvalues, dtype=np.float64))
    with np.errstate(divide="ignore"):
        return float(-np.sum(np.log(factors)))


def tur_lower_bound(currents: np.ndarray, n_steps: int, confidence: float = 0.95) -> float:
    """Model-free lower bound on the entropy production per step from a measured current: the discrete-time
    thermodynamic uncertainty relation (Barato & Seifert 2015, *PRL* 114, 158101; in discrete time Proesmans
    & Van den Broeck 2017, *EPL* 119, 20001), Σ_T ≥ ln(1 + 2⟨J_T⟩²/Var J_T) for a time-additive current J_T
    integrated over ``n_steps`` steps, estimated from independent chains (``currents``: one J_T per chain).
    The plug-in ⟨J⟩² is biased upward (by Var J / n under zero current), so |⟨J⟩| enters through the lower
    end of its Student-t interval at ``confidence``, max(|m| − t·s/√n, 0): the bound holds at that level,
    and is 0 (no bound) when the current is not resolved from zero. Returns Σ_T / ``n_steps``."""
    from scipy.stats import t as student
    from uniq_core.schema import check_number

    check_number("n_steps", n_steps, low=1, integer=True)
    check_number("confidence", confidence, low=0.5, high=1.0, high_inclusive=False)
    currents = np.asarray(currents, dtype=np.float64).ravel()
    currents = currents[np.isfinite(currents)]
    if currents.size < 2:
        raise ValueError(f"tur_lower_bound needs at least 2 finite currents (one per chain); got {currents.size}")
    n, mean, variance = currents.size, float(currents.mean()), float(currents.var(ddof=1))
    if variance == 0:
        return float("inf") if mean != 0 else 0.0
    lower = max(abs(mean) - float(student.ppf(0.5 + confidence / 2, n - 1)) * np.sqrt(variance / n), 0.0)
    return float(np.log1p(2 * lower**2 / variance) / n_steps)


def integrated_circulation(traj: np.ndarray) -> float:
    """The signed area a 2-D trajectory sweeps about the origin (for chains recorded relative to a minimum,
    about the minimum), summed over its steps: ½ Σ_t x_t ∧ x_{t+1}, a time-additive current (each step adds
    its own term), odd under time reversal; its stationary rate is the circulation of :func:`circulation_rate`
    about the stationary mean."""
    traj = np.asarray(traj, dtype=np.float64)
    return float(0.5 * np.sum(traj[:-1, 0] * traj[1:, 1] - traj[:-1, 1] * traj[1:, 0]))


def _gaussian_kl(mean: np.ndarray, cov: np.ndarray, target_mean: np.ndarray, target_cov: np.ndarray) -> float:
    """KL(N(mean, cov) ‖ N(target_mean, target_cov))."""
    n = len(mean)
    factor = linalg.cho_factor(target_cov)
    difference = target_mean - mean
    return float(0.5 * (np.trace(linalg.cho_solve(factor, cov)) + difference @ linalg.cho_solve(factor, difference)
                        - n + 2 * np.sum(np.log(np.diag(factor[0]))) - np.linalg.slogdet(cov)[1]))


def transient_entropy_production(F: np.ndarray, C: np.ndarray, mean0: np.ndarray, cov0: np.ndarray,
                                 steps: int) -> dict[str, np.ndarray]:
    """Exact entropy production, step by step, of the Gaussian chain x' = F x + ξ, ξ ~ N(0, C), started from
    N(``mean0``, ``cov0``) away from its stationary law π = N(0, S): the relaxation of an ensemble, not a
    steady state.

    Per step t → t+1, with p_t = N(m_t, S_t) and k the kernel:

    - ``total``: KL(p_t(x) k(y|x) ‖ p_{t+1}(y) k(x|y)), the forward pair against the same kernel run backwards
      from the law reached, ½[−n − ln det S_t + ln det S_{t+1} + tr(C⁻¹ E[(x − F y)(x − F y)ᵀ])];
    - ``excess`` (non-adiabatic, Hatano–Sasa / Esposito–Van den Broeck): KL(p_t ‖ π) − KL(p_{t+1} ‖ π), the
      relaxation; non-negative for any chain (data processing), zero at stationarity, and it telescopes to
      KL(p_0 ‖ π) − KL(p_T ‖ π);
    - ``housekeeping`` (adiabatic): E_{x∼p_t} KL(k(·|x) ‖ k̃(·|x)) with k̃ the stationary time reversal
      (F̃ = S Fᵀ S⁻¹, C̃ = S − F̃ S F̃ᵀ); zero for every p_t when the chain is reversible (F S symmetric), equal to
      :func:`ar1_entropy_production` at stationarity, and larger than that where the mean is displaced,
      because the drift's non-gradient part acts on the displacement.

    ``total`` = ``excess`` + ``housekeeping`` to rounding (the tests check the two routes against each other and
    against a Monte Carlo of path log-ratios). Returns the three arrays (``steps``,) in nats per step and the
    ``mean_norm`` ‖m_t‖ (``steps``+1,).
    """
    F = np.atleast_2d(np.asarray(F, dtype=np.float64))
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    n = F.shape[0]
    mean = np.asarray(mean0, dtype=np.float64).reshape(-1)
    cov = np.atleast_2d(np.asarray(cov0, dtype=np.float64))
    if F.shape != (n, n) or C.shape != (n, n) or cov.shape != (n, n) or mean.shape != (n,):
        raise ValueError(f"F, C, cov0 must be {n} × {n} and mean0 of length {n}; got {F.shape}, {C.shape}, "
                         f"{cov.shape}, {mean.shape}")
    check_number("steps", steps, low=1, integer=True)
    if np.max(np.abs(np.linalg.eigvals(F))) >= 1:
        raise ValueError("F is not stable: its spectral radius must be below 1 for the chain to relax")
    for name, matrix in (("C", C), ("cov0", cov)):
        if np.linalg.eigvalsh((matrix + matrix.T) / 2).min() <= 0:
            raise ValueError(f"{name} must be positive definite")
    S = linalg.solve_discrete_lyapunov(F, C)
    S = (S + S.T) / 2
    reverse_F = S @ F.T @ np.linalg.inv(S)
    reverse_C = S - reverse_F @ S @ reverse_F.T
    reverse_C = (reverse_C + reverse_C.T) / 2
    reverse_factor = linalg.cho_factor(reverse_C)
    noise_factor = linalg.cho_factor(C)
    log_det_C = 2 * np.sum(np.log(np.diag(noise_factor[0])))
    delta = F - reverse_F
    drift_form = delta.T @ linalg.cho_solve(reverse_factor, delta)
    noise_part = 0.5 * (np.trace(linalg.cho_solve(reverse_factor, C)) - n
                        + 2 * np.sum(np.log(np.diag(reverse_factor[0]))) - log_det_C)
    back = np.eye(n) - F @ F
    zero = np.zeros(n)
    total, excess, housekeeping, norms = [], [], [], [float(np.linalg.norm(mean))]
    divergence = _gaussian_kl(mean, cov, zero, S)
    for _ in range(steps):
        second = cov + np.outer(mean, mean)
        next_mean, next_cov = F @ mean, F @ cov @ F.T + C
        next_cov = (next_cov + next_cov.T) / 2
        residual = back @ second @ back.T + F @ C @ F.T
        total.append(0.5 * (-n - np.linalg.slogdet(cov)[1] + np.linalg.slogdet(next_cov)[1]
                            + np.trace(linalg.cho_solve(noise_factor, residual))))
        next_divergence = _gaussian_kl(next_mean, next_cov, zero, S)
        excess.append(divergence - next_divergence)
        housekeeping.append(noise_part + 0.5 * float(np.sum(drift_form * second)))
        mean, cov, divergence = next_mean, next_cov, next_divergence
        norms.append(float(np.linalg.norm(mean)))
    return {"total": np.array(total), "excess": np.array(excess), "housekeeping": np.array(housekeeping),
            "mean_norm": np.array(norms)}
