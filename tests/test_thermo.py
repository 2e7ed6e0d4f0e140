"""Entropy production against exact answers: reversible processes, the rotational OU closed form, the
continuous-time limit of the AR(1) pair formula, and path estimates on simulated trajectories."""

import numpy as np
import pytest
from scipy import linalg

from uniq_core import thermo


def rotational(a: float, omega: float) -> np.ndarray:
    return np.array([[a, -omega], [omega, a]])


def test_symmetric_drift_with_isotropic_noise_is_reversible():
    A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.7]])
    assert thermo.ou_entropy_production(A, 0.3 * np.eye(3)) == pytest.approx(0.0, abs=1e-12)


def test_detailed_balance_with_anisotropic_noise_is_reversible():
    # A = S D⁻¹ with S symmetric positive definite satisfies A D = D Aᵀ
    D = np.diag([1.0, 2.0])
    S = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert thermo.ou_entropy_production(S @ np.linalg.inv(D), D) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("a, omega, d", [(1.0, 2.0, 1.0), (0.5, 0.3, 2.0), (3.0, 1.0, 0.1)])
def test_rotational_drift_has_the_closed_form(a, omega, d):
    # Σ = (d/a) I, M = aI − A, σ = tr(MᵀM Σ)/d = 2ω²/a (independent of d)
    assert thermo.ou_entropy_production(rotational(a, omega), d * np.eye(2)) == pytest.approx(2 * omega**2 / a, rel=1e-10)


def test_ar1_pair_formula_tends_to_the_ou_rate():
    A, D = rotational(1.0, 2.0), np.eye(2)
    exact = thermo.ou_entropy_production(A, D)
    sigma = thermo.stationary_covariance(A, D)
    for dt, tolerance in ((1e-2, 2e-2), (1e-3, 2e-3)):
        F = linalg.expm(-A * dt)
        per_step = thermo.ar1_entropy_production(F, sigma - F @ sigma @ F.T)
        assert per_step / dt == pytest.approx(exact, rel=tolerance)


def test_reversible_ar1_chain_produces_no_entropy():
    F = np.array([[0.5, 0.2], [0.2, 0.3]])
    assert thermo.ar1_entropy_production(F, np.eye(2) - F @ F) == pytest.approx(0.0, abs=1e-12)


def test_path_estimate_agrees_with_simulation():
    A, D, dt = rotational(1.0, 2.0), np.eye(2), 2e-3
    trajectory = thermo.simulate_ou(A, D, dt, 100_000, seed=1)
    rate, error = thermo.path_entropy_production(trajectory, lambda x: -x @ A.T, D, dt, return_error=True)
    exact = thermo.ou_entropy_production(A, D)
    assert abs(rate - exact) < 4 * error + 0.05 * exact  # statistical error plus O(dt) discretisation bias
    assert error < 0.2 * exact


def test_path_estimate_of_a_gradient_flow_is_zero_within_error():
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    trajectory = thermo.simulate_ou(A, np.eye(2), 2e-3, 50_000, seed=2)
    rate, error = thermo.path_entropy_production(trajectory, lambda x: -x @ A.T, 1.0, 2e-3, return_error=True)
    assert abs(rate) < 4 * error + 0.05


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: thermo.ou_entropy_production(np.array([[-1.0, 0], [0, 1.0]]), np.eye(2)), "not stable"),
        (lambda: thermo.ou_entropy_production(np.eye(2), np.diag([1.0, 0.0])), "positive definite"),
        (lambda: thermo.ou_entropy_production(np.eye(2), np.eye(3)), "one size"),
        (lambda: thermo.ar1_entropy_production(np.eye(2) * 1.1, np.eye(2)), "spectral radius"),
        (lambda: thermo.path_entropy_production(np.zeros((10, 2)), lambda x: -x, 1.0, 0.01), "at least 40"),
        (lambda: thermo.path_entropy_production(np.full((100, 2), np.nan), lambda x: -x, 1.0, 0.01), "non-finite"),
        (lambda: thermo.path_entropy_production(np.zeros((100, 2)), lambda x: -x, 0.0, 0.01), "positive definite"),
        (lambda: thermo.path_entropy_production(np.zeros((100, 2)), lambda x: -x, 1.0, 0.0), "dt=0.0"),
    ],
)
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def quadratic(seed: int = 0):
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    hessian = rotation @ np.diag([3.0, 1.0, 0.3]) @ rotation.T
    return hessian, rotation


def test_sgd_noise_commuting_with_the_hessian_is_reversible():
    hessian, _ = quadratic()
    assert thermo.sgd_entropy_production(hessian, 0.5 * np.eye(3), lr=0.2) == pytest.approx(0.0, abs=1e-12)
    assert thermo.sgd_entropy_production(hessian, hessian @ hessian, lr=0.2) == pytest.approx(0.0, abs=1e-12)


def test_sgd_noise_not_commuting_with_the_hessian_produces_entropy():
    hessian, _ = quadratic()
    noise = np.diag([2.0, 0.5, 0.1])  # axis-aligned, the Hessian is rotated
    assert thermo.sgd_entropy_production(hessian, noise, lr=0.2) > 1e-4
    with pytest.raises(ValueError, match="spectral radius"):
        thermo.sgd_entropy_production(hessian, noise, lr=1.0)  # η·3 > 2: beyond the edge of stability


def test_simulated_sgd_on_a_quadratic_matches_the_exact_rate():
    hessian, _ = quadratic()
    noise, lr, steps = np.diag([2.0, 0.5, 0.1]), 0.2, 200_000
    rng = np.random.default_rng(3)
    kicks = rng.standard_normal((steps, 3)) @ np.linalg.cholesky(noise).T
    theta, trajectory = np.zeros(3), np.empty((steps, 3))
    for t in range(steps):
        theta = theta - lr * (hessian @ theta + kicks[t])
        trajectory[t] = theta
    exact = thermo.sgd_entropy_production(hessian, noise, lr)
    assert thermo.ar1_entropy_estimate(trajectory) == pytest.approx(exact, rel=0.15)
    # isotropic noise: reversible, the bias-corrected estimate is zero within its error
    kicks = rng.standard_normal((steps, 3))
    for t in range(steps):
        theta = theta - lr * (hessian @ theta + kicks[t])
        trajectory[t] = theta
    estimate, error = thermo.ar1_entropy_estimate(trajectory, return_error=True)
    assert abs(estimate) < 3 * error and error < 0.2 * exact


def test_fit_ar1_needs_enough_steps_and_pools_chains():
    with pytest.raises(ValueError, match="T ≥ 3n"):
        thermo.fit_ar1(np.zeros((5, 3)))
    rng = np.random.default_rng(4)
    F = np.array([[0.6, 0.3], [-0.2, 0.5]])
    chains = np.zeros((50, 400, 2))
    for t in range(1, 400):
        chains[:, t] = chains[:, t - 1] @ F.T + rng.standard_normal((50, 2))
    fitted, noise = thermo.fit_ar1(chains)
    np.testing.assert_allclose(fitted, F, atol=0.02)
    np.testing.assert_allclose(noise, np.eye(2), atol=0.03)


def test_mean_local_velocity_recovers_the_exact_current():
    # stationary OU: E[midpoint velocity | x] = (D Σ⁻¹ − A) x; for rotational drift that is the rotation
    A, D = rotational(1.0, 2.0), np.eye(2)
    trajectory = thermo.simulate_ou(A, D, 1e-2, 200_000, seed=5)
    points, velocities = thermo.local_velocities(trajectory, 1e-2)
    fitted, *_ = np.linalg.lstsq(points, velocities, rcond=None)
    expected = D @ np.linalg.inv(thermo.stationary_covariance(A, D)) - A  # [[0, 2], [-2, 0]]
    np.testing.assert_allclose(fitted.T, expected, atol=0.15)
    # reversible dynamics: no current
    symmetric = np.array([[2.0, 0.5], [0.5, 1.0]])
    trajectory = thermo.simulate_ou(symmetric, D, 1e-2, 200_000, seed=6)
    points, velocities = thermo.local_velocities(trajectory, 1e-2)
    fitted, *_ = np.linalg.lstsq(points, velocities, rcond=None)
    np.testing.assert_allclose(fitted, 0.0, atol=0.15)


def test_velocity_field_circulates_for_rotational_drift():
    trajectory = thermo.simulate_ou(rotational(1.0, 2.0), np.eye(2), 1e-2, 100_000, seed=7)
    field = thermo.velocity_field(trajectory, 1e-2, bins=8)
    assert field["u"].shape == (8, 8) and field["count"].sum() == len(trajectory) - 2
    # the current v = (2y, -2x): positive first component above the centre, negative below
    centre = np.isfinite(field["u"])
    upper = field["u"][:, field["y"] > 0.5][centre[:, field["y"] > 0.5]]
    lower = field["u"][:, field["y"] < -0.5][centre[:, field["y"] < -0.5]]
    assert np.mean(upper) > 0.5 and np.mean(lower) < -0.5
    with pytest.raises(ValueError, match="2-D trajectory"):
        thermo.velocity_field(np.zeros((100, 3)), 0.1)


@pytest.mark.parametrize("a, omega, d", [(1.0, 2.0, 1.0), (0.5, -1.0, 2.0)])
def test_circulation_rate_matches_the_closed_form_and_simulation(a, omega, d):
    A, D = rotational(a, omega), d * np.eye(2)
    assert thermo.ou_circulation_rate(A, D) == pytest.approx(-omega * d / a)
    trajectory = thermo.simulate_ou(A, D, 1e-2, 200_000, seed=8)
    rate, error = thermo.circulation_rate(trajectory, 1e-2, return_error=True)
    assert abs(rate - thermo.ou_circulation_rate(A, D)) < 4 * error + 0.02 * abs(omega * d / a)


def test_reversible_processes_do_not_circulate():
    symmetric = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert thermo.ou_circulation_rate(symmetric, np.eye(2)) == pytest.approx(0.0, abs=1e-12)
    trajectory = thermo.simulate_ou(symmetric, np.eye(2), 1e-2, 100_000, seed=9)
    rate, error = thermo.circulation_rate(trajectory, 1e-2, return_error=True)
    assert abs(rate) < 4 * error
    with pytest.raises(ValueError, match="T × 2"):
        thermo.circulation_rate(np.zeros((100, 3)), 0.1)
    with pytest.raises(ValueError, match="at least"):
        thermo.circulation_rate(np.zeros((10, 2)), 0.1)


def test_velocity_field_pools_independent_chains():
    chains = np.stack([thermo.simulate_ou(rotational(1.0, 2.0), np.eye(2), 1e-2, 20_000, seed=s) for s in range(3)])
    field = thermo.velocity_field(chains, 1e-2, bins=6)
    assert field["count"].sum() == 3 * (chains.shape[1] - 2)


def _stationary_chains(F, C, chains, n_states, rng):
    S = linalg.solve_discrete_lyapunov(F, C)
    x = np.empty((chains, n_states, len(F)))
    x[:, 0] = rng.standard_normal((chains, len(F))) @ np.linalg.cholesky(S).T
    kicks = rng.standard_normal((chains, n_states - 1, len(F))) @ np.linalg.cholesky(C).T
    for t in range(1, n_states):
        x[:, t] = x[:, t - 1] @ F.T + kicks[:, t - 1]
    return x


def _repeat_estimate(F, C, chains, n_states, repetitions, seed):
    rng = np.random.default_rng(seed)
    values = [thermo.ar1_entropy_estimate(_stationary_chains(F, C, chains, n_states, rng), return_error=True,
                                          n_bootstrap=16, seed=r) for r in range(repetitions)]
    estimates, errors = np.array(values).T
    return estimates, errors


@pytest.mark.parametrize("n, n_states", [(2, 300), (2, 1000), (5, 300), (5, 1000)])
def test_ar1_estimate_is_unbiased_and_calibrated_on_reversible_chains(n, n_states):
    # F symmetric and C = I − F²: a reversible chain (exact rate 0) with correlated directions
    rng = np.random.default_rng(n)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    F = q @ np.diag(np.linspace(0.9, 0.2, n)) @ q.T
    C = np.eye(n) - F @ F
    estimates, errors = _repeat_estimate(F, C, 4, n_states, 40, seed=10 * n + n_states)
    spread = estimates.std(ddof=1)
    plug_in = thermo.ar1_entropy_production(*thermo.fit_ar1(_stationary_chains(F, C, 4, n_states, rng)))
    assert abs(estimates.mean()) < 2 * spread / np.sqrt(len(estimates))  # null: no systematic bias
    assert np.any(estimates < 0)  # it can and does come out negative
    assert 1 / 1.5 < errors.mean() / spread < 1.5  # the standard error is calibrated
    assert plug_in > 0  # the uncorrected plug-in value is a KL divergence: never negative


def test_ar1_estimate_recovers_the_rate_of_an_irreversible_chain():
    # F and C do not commute: an irreversible chain with a known exact rate
    F = np.diag([0.8, 0.5, 0.2])
    rotation, _ = np.linalg.qr(np.random.default_rng(11).standard_normal((3, 3)))
    C = rotation @ np.diag([1.0, 0.3, 0.1]) @ rotation.T
    exact = thermo.ar1_entropy_production(F, C)
    estimates, errors = _repeat_estimate(F, C, 4, 500, 30, seed=12)
    spread = estimates.std(ddof=1)
    assert exact > 3 * spread
    assert abs(estimates.mean() - exact) < 2 * spread / np.sqrt(len(estimates)) + 0.02 * exact
    assert np.mean(np.abs(estimates - exact) < 2 * errors) > 0.8  # each estimate within its error
    assert 1 / 1.5 < errors.mean() / spread < 1.5


def test_euler_chain_rate_tends_to_the_ou_rate():
    A, D = rotational(1.0, 2.0), np.eye(2)
    assert thermo.euler_entropy_production(A, D, 1e-4) == pytest.approx(8.0, rel=1e-3)
    assert thermo.euler_entropy_production(A, D, 0.1) != pytest.approx(8.0, rel=1e-2)


def test_euler_path_expectation_is_the_rotational_closed_form_and_the_path_limit():
    a, omega, dt = 1.0, 2.0, 0.2
    A = np.array([[a, -omega], [omega, a]])
    expected = thermo.euler_path_expectation(A, np.eye(2), dt)
    assert expected == pytest.approx(2 * omega * np.sin(omega * dt) * np.exp(-a * dt) / (a * dt), rel=1e-10)
    pair = thermo.ar1_entropy_production(*_exact_pair(A, dt)) / dt
    assert abs(expected - pair) > 0.1 and abs(expected - thermo.euler_entropy_production(A, np.eye(2), dt)) > 0.1
    trajectory = thermo.simulate_ou(A, np.eye(2), dt, 200_000, seed=3)
    rate, error = thermo.path_entropy_production(trajectory, lambda x: -x @ A.T, np.eye(2), dt, return_error=True)
    assert abs(rate - expected) < 3 * error
    assert thermo.euler_path_expectation(A, np.eye(2), 1e-4) == pytest.approx(thermo.ou_entropy_production(A, np.eye(2)), rel=1e-3)


def _exact_pair(A, dt):
    from scipy import linalg
    sigma = thermo.stationary_covariance(A, np.eye(2))
    transition = linalg.expm(-A * dt)
    return transition, sigma - transition @ sigma @ transition.T


def test_quadratic_rate_matches_the_kl_rate_for_small_currents_and_is_zero_when_reversible():
    F = np.array([[0.9, 0.02], [-0.02, 0.7]])
    assert thermo.quadratic_entropy_production(F, np.eye(2)) == pytest.approx(
        thermo.ar1_entropy_production(F, np.eye(2)), rel=0.02)
    assert thermo.quadratic_entropy_production(np.diag([0.9, 0.5]), np.diag([1.0, 3.0])) == pytest.approx(0, abs=1e-14)


def test_cross_chain_estimate_is_unbiased_on_a_reversible_chain_with_a_slow_part():
    rng = np.random.default_rng(0)
    k, chains, steps = 4, 16, 1500
    fast_coefficient, slow_coefficient = np.array([0.1, 0.5, 0.8, 0.95]), 0.999
    mixing = rng.standard_normal((k, 2))
    estimates, errors = [], []
    for _ in range(16):
        fast = np.empty((chains, steps, k))
        slow = np.empty((chains, steps, 2))
        fast[:, 0] = rng.standard_normal((chains, k)) / np.sqrt(1 - fast_coefficient**2)
        slow[:, 0] = rng.standard_normal((chains, 2))
        for t in range(1, steps):
            fast[:, t] = fast[:, t - 1] * fast_coefficient + rng.standard_normal((chains, k))
            slow[:, t] = slow[:, t - 1] * slow_coefficient + np.sqrt(1 - slow_coefficient**2) * rng.standard_normal((chains, 2))
        value, error = thermo.cross_chain_entropy_estimate(fast + 3 * slow @ mixing.T, return_error=True)
        estimates.append(value)
        errors.append(error)
    estimates = np.array(estimates)
    assert abs(estimates.mean()) < 3 * estimates.std(ddof=1) / 4
    assert 0.5 < np.mean(errors) / estimates.std(ddof=1) < 2


def test_cross_chain_estimate_recovers_an_irreversible_chain():
    rng = np.random.default_rng(2)
    F = np.array([[0.9, 0.1], [-0.1, 0.8]])
    C = np.eye(2)
    exact = thermo.quadratic_entropy_production(F, C)
    from scipy import linalg
    stationary = linalg.solve_discrete_lyapunov(F, C)
    values = []
    for _ in range(8):
        starts = rng.standard_normal((16, 2)) @ np.linalg.cholesky(stationary).T
        values.append(thermo.cross_chain_entropy_estimate(thermo._simulate_ar1(F, C, starts, 1500, 1, rng)[0]))
    assert np.mean(values) == pytest.approx(exact, rel=0.1)


def test_cross_chain_estimate_names_bad_input():
    with pytest.raises(ValueError, match="at least 3 chains"):
        thermo.cross_chain_entropy_estimate(np.zeros((2, 10, 2)))


def test_tur_lower_bound_and_integrated_circulation_known_answers():
    from scipy.stats import t as student

    from uniq_core import thermo

    currents = np.array([1.0, 3.0, 2.0, 2.5, 1.5])  # mean 2, variance 0.625, n = 5
    lower = 2.0 - student.ppf(0.975, 4) * np.sqrt(0.625 / 5)
    assert thermo.tur_lower_bound(currents, 10) == pytest.approx(np.log1p(2 * lower**2 / 0.625) / 10)
    assert thermo.tur_lower_bound(np.array([1.0, 3.0]), 10) == 0.0  # not resolved from zero: no bound
    assert thermo.tur_lower_bound(np.array([-1.0, 1.0]), 5) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        thermo.tur_lower_bound(np.array([1.0, np.nan]), 5)
    # a loop about the origin sweeps its area (2); clockwise, minus it
    square = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0]])
    assert thermo.integrated_circulation(square) == pytest.approx(2.0)
    assert thermo.integrated_circulation(square[::-1]) == pytest.approx(-2.0)


def test_the_tur_bound_has_no_upward_bias_on_reversible_chains():
    """Null control: on chains with no current the bound is 0 in at least ~95% of repetitions."""
    from uniq_core import thermo

    rng = np.random.default_rng(5)
    F, C = np.diag([0.9, 0.8]), np.eye(2)
    bounds = []
    for _ in range(40):
        chains = thermo._simulate_ar1(F, C, np.zeros((16, 2)), 300, 1, rng)[0]
        bounds.append(thermo.tur_lower_bound([thermo.integrated_circulation(c) for c in chains], 299))
    assert np.mean(np.array(bounds) > 0) <= 0.15


def _transient_case(n: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    F = np.eye(n) - 0.3 * np.diag(np.linspace(1.0, 0.2, n))
    A = rng.standard_normal((n, n))
    return F, 0.01 * (A @ A.T + np.eye(n)), rng.standard_normal(n), 0.05 * np.eye(n)


def test_transient_entropy_splits_into_excess_and_housekeeping_and_matches_path_log_ratios():
    from scipy.stats import multivariate_normal

    F, C, mean, cov = _transient_case()
    result = thermo.transient_entropy_production(F, C, mean, cov, 40)
    # two independent routes: the pair KL, and the relaxation of KL(p_t ‖ π) plus E_x KL(k ‖ k̃)
    np.testing.assert_allclose(result["total"], result["excess"] + result["housekeeping"], rtol=1e-9)
    assert (result["excess"] > 0).all() and (result["housekeeping"] > 0).all()
    # Monte Carlo of the path log-ratio ln p_0(x) k(y|x) / (p_1(y) k(x|y)) at the first step
    rng = np.random.default_rng(1)
    x = rng.multivariate_normal(mean, cov, size=200_000)
    y = x @ F.T + rng.multivariate_normal(np.zeros(3), C, size=len(x))
    noise = multivariate_normal(np.zeros(3), C)
    ratio = (multivariate_normal(mean, cov).logpdf(x) + noise.logpdf(y - x @ F.T)
             - multivariate_normal(F @ mean, F @ cov @ F.T + C).logpdf(y) - noise.logpdf(x - y @ F.T))
    assert abs(ratio.mean() - result["total"][0]) < 4 * ratio.std() / np.sqrt(len(ratio))


def test_transient_entropy_is_housekeeping_alone_at_stationarity_and_excess_alone_when_reversible():
    from scipy import linalg

    F, C, mean, _ = _transient_case()
    stationary = linalg.solve_discrete_lyapunov(F, C)
    at_rest = thermo.transient_entropy_production(F, C, np.zeros(3), stationary, 5)
    np.testing.assert_allclose(at_rest["excess"], 0.0, atol=1e-9)
    np.testing.assert_allclose(at_rest["housekeeping"], thermo.ar1_entropy_production(F, C), rtol=1e-6)
    reversible = thermo.transient_entropy_production(F, 0.01 * np.eye(3), mean, 0.05 * np.eye(3), 30)
    np.testing.assert_allclose(reversible["housekeeping"], 0.0, atol=1e-9)
    np.testing.assert_allclose(reversible["total"], reversible["excess"], rtol=1e-9)
    # the excess telescopes: its sum is the relaxation KL(p_0 ‖ π) − KL(p_T ‖ π) > 0
    assert reversible["excess"].sum() > 0 and np.all(np.diff(reversible["mean_norm"]) < 0)


def test_transient_entropy_housekeeping_grows_with_the_displacement():
    F, C, mean, cov = _transient_case()
    near = thermo.transient_entropy_production(F, C, 0.1 * mean, cov, 1)["housekeeping"][0]
    far = thermo.transient_entropy_production(F, C, 10 * mean, cov, 1)["housekeeping"][0]
    assert far > 10 * near


@pytest.mark.parametrize("change, message", [
    (dict(F=2 * np.eye(2)), "spectral radius"),
    (dict(C=-np.eye(2)), "C must be positive definite"),
    (dict(cov0=np.zeros((2, 2))), "cov0 must be positive definite"),
    (dict(mean0=np.zeros(3)), "mean0 of length 2"),
    (dict(steps=0), "steps"),
])
def test_transient_entropy_names_bad_input(change, message):
    arguments = dict(F=0.5 * np.eye(2), C=np.eye(2), mean0=np.zeros(2), cov0=np.eye(2), steps=3) | change
    with pytest.raises(ValueError, match=message):
        thermo.transient_entropy_production(**arguments)


def test_transient_entropy_parts_match_their_own_path_log_ratios_for_a_non_normal_drift():
    from scipy import linalg
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(3)
    F = np.array([[0.7, 0.3, 0.0], [-0.1, 0.8, 0.2], [0.0, 0.0, 0.6]])  # not symmetric, not normal
    A = rng.standard_normal((3, 3))
    C = 0.02 * (A @ A.T + np.eye(3))
    mean, cov = np.array([0.5, -0.4, 0.3]), 0.03 * np.eye(3)
    result = thermo.transient_entropy_production(F, C, mean, cov, 1)
    S = linalg.solve_discrete_lyapunov(F, C)
    reverse_F = S @ F.T @ np.linalg.inv(S)
    x = rng.multivariate_normal(mean, cov, size=200_000)
    y = x @ F.T + rng.multivariate_normal(np.zeros(3), C, size=len(x))
    stationary = multivariate_normal(np.zeros(3), S)
    excess = (multivariate_normal(mean, cov).logpdf(x) - multivariate_normal(F @ mean, F @ cov @ F.T + C).logpdf(y)
              + stationary.logpdf(y) - stationary.logpdf(x))
    housekeeping = (multivariate_normal(np.zeros(3), C).logpdf(y - x @ F.T)
                    - multivariate_normal(np.zeros(3), S - reverse_F @ S @ reverse_F.T).logpdf(y - x @ reverse_F.T))
    for sample, exact in ((excess, result["excess"][0]), (housekeeping, result["housekeeping"][0])):
        assert abs(sample.mean() - exact) < 4 * sample.std() / np.sqrt(len(sample))
