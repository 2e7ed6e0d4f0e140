"""lyapunov_spectrum against exact exponents: linear maps, gradient descent on a quadratic, the logistic and
Hénon maps."""

import numpy as np
import pytest
import torch

from uniq_core import lyapunov
from uniq_core.lyapunov import lyapunov_spectrum


def test_linear_map_gives_log_moduli_of_eigenvalues():
    # A = P diag(2, 0.5, -0.1) P^-1: exponents ln 2, ln 0.5, ln 0.1. For a linear map the estimate
    # converges as O(1/T) (only the initial tangent alignment is forgotten): |error| ≲ c/T, c = O(1).
    rng = np.random.default_rng(0)
    basis = torch.tensor(rng.normal(size=(3, 3)))
    matrix = basis @ torch.diag(torch.tensor([2.0, 0.5, -0.1], dtype=torch.float64)) @ torch.linalg.inv(basis)
    # run at the fixed point 0 (the Jacobian is A everywhere; the orbit itself stays bounded)
    exponents = lyapunov_spectrum(lambda x: matrix @ x, torch.zeros(3, dtype=torch.float64), 2000)
    np.testing.assert_allclose(exponents, np.log([2.0, 0.5, 0.1]), atol=5e-3)


def test_gradient_descent_on_a_quadratic_is_exact():
    # x -> x - η H x has exponents ln|1 - η h_i| exactly; η = 0.5 puts h = 5 beyond the edge of
    # stability 2/η = 4 (positive exponent ln 1.5) and h = 1, 3 inside it.
    h = torch.tensor([5.0, 3.0, 1.0, 0.2], dtype=torch.float64)
    rotation, _ = torch.linalg.qr(torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    hessian = rotation @ torch.diag(h) @ rotation.T
    eta = 0.5
    exponents = lyapunov_spectrum(lambda x: x - eta * hessian @ x, torch.zeros(4, dtype=torch.float64), 3000)
    expected = np.sort(np.log(np.abs(1 - eta * h.numpy())))[::-1]
    np.testing.assert_allclose(exponents, expected, atol=2e-3)


def test_logistic_map_at_r4_has_exponent_ln2():
    # λ = ln 2 (Ulam–von Neumann). The local rate ln|4 − 8x| has variance ≈ 0.8 under the invariant
    # density, so after T = 8000 steps the standard error is ≈ 0.9/√T ≈ 0.01; we allow 0.04 (≈ 4σ).
    exponents = lyapunov_spectrum(lambda x: 4.0 * x * (1.0 - x), torch.tensor([0.3]), 8000, transient=100)
    assert exponents[0] == pytest.approx(np.log(2.0), abs=0.04)


def test_henon_map_spectrum_and_exact_volume_contraction():
    # Hénon (a=1.4, b=0.3): λ1 ≈ 0.41922 (literature value); λ1 + λ2 = ln b exactly (constant Jacobian
    # determinant -b), which holds to rounding whatever the statistical error of λ1.
    def henon(x):
        return torch.stack([1.0 - 1.4 * x[0] ** 2 + x[1], 0.3 * x[0]])

    exponents = lyapunov_spectrum(henon, torch.tensor([0.1, 0.1]), 8000, transient=1000)
    assert exponents[0] == pytest.approx(0.41922, abs=0.03)
    assert exponents.sum() == pytest.approx(np.log(0.3), abs=1e-10)


def test_top_k_dt_and_renormalisation_interval():
    matrix = torch.diag(torch.tensor([3.0, 2.0, 0.5], dtype=torch.float64))
    x0 = torch.zeros(3, dtype=torch.float64)
    top = lyapunov_spectrum(lambda x: matrix @ x, x0, 500, k=2, renorm_every=5, dt=0.1)
    assert top.shape == (2,) and top[0] >= top[1]
    np.testing.assert_allclose(top, np.log([3.0, 2.0]) / 0.1, atol=0.02 / 0.1)  # O(1/T) transient, T = 500


def test_steps_that_vmap_cannot_batch_still_work():
    def step(x):  # data-dependent Python control flow
        return 2.0 * x if float(x.sum()) > -1e9 else x

    assert lyapunov_spectrum(step, torch.ones(2), 50)[0] == pytest.approx(np.log(2.0))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_steps=0), "n_steps=0"),
        (dict(k=3), "k=3"),
        (dict(dt=0.0), "dt=0.0"),
        (dict(renorm_every=0), "renorm_every=0"),
        (dict(x0=torch.ones(2, 2)), "1-D"),
        (dict(x0=torch.tensor([float("nan"), 0.0])), "non-finite"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, message):
    arguments = dict(step=lambda x: 0.5 * x, x0=torch.ones(2), n_steps=10) | kwargs
    with pytest.raises(ValueError, match=message):
        lyapunov_spectrum(**arguments)


def test_a_step_returning_nan_is_reported_not_averaged():
    def step(x):
        return x * float("nan") if float(x[0]) > 100 else 2.0 * x

    with pytest.raises(ValueError, match="non-finite state at step 8 of 50"):
        lyapunov_spectrum(step, torch.ones(1), 50)


# ----------------------------------------------------------------------------- training as a map
from uniq_core import barriers, models  # noqa: E402
from uniq_core.lyapunov import (  # noqa: E402
    convergence_ratio, effective_dimensionality, finite_time_exponent, fitted_exponent, participation_ratio,
    peer_metrics, sharpness, training_map,
)


@pytest.fixture(scope="module")
def least_squares():
    """A linear model with squared loss: the Hessian is exactly XᵀX/n everywhere."""
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(60, 4, generator=generator, dtype=torch.float64) * torch.tensor([3.0, 2.0, 1.0, 0.5])
    targets = torch.randn(60, 1, generator=generator, dtype=torch.float64)
    model = torch.nn.Linear(4, 1, bias=False).double()
    hessian_eigenvalues = torch.linalg.eigvalsh(inputs.T @ inputs / 60).flip(0).numpy()
    return model, inputs, targets, hessian_eigenvalues


def test_gradient_descent_map_of_least_squares_is_exact(least_squares):
    model, inputs, targets, h = least_squares
    eta = 2.5 / h[0]  # top direction beyond the edge of stability: ln|1 - η h₀| = ln 1.5 > 0
    step, theta0 = training_map(model, inputs, targets, lr=eta, loss="mse")
    exponents = lyapunov_spectrum(step, theta0, 300)
    expected = np.sort(np.log(np.abs(1 - eta * h)))[::-1]
    np.testing.assert_allclose(exponents, expected, atol=0.02)  # O(1/T) alignment transient, T = 300


def test_heavy_ball_map_is_conformally_symplectic(least_squares):
    # det of the heavy-ball Jacobian is β^P at every step, so all 2P exponents sum to P ln β exactly.
    model, inputs, targets, h = least_squares
    step, state0 = training_map(model, inputs, targets, lr=0.5 / h[0], momentum=0.8, loss="mse")
    exponents = lyapunov_spectrum(step, state0, 200)
    assert exponents.shape == (8,)
    assert exponents.sum() == pytest.approx(4 * np.log(0.8), abs=1e-9)


def test_sharpness_is_the_top_hessian_eigenvalue(least_squares):
    model, inputs, targets, h = least_squares
    np.testing.assert_allclose(sharpness(model, inputs, targets, k=2, loss="mse"), h[:2], rtol=1e-8)


def test_sharpness_of_a_network_matches_the_dense_hessian():
    torch.manual_seed(0)
    model = models.MLP(3, (4,), 2, "tanh").double()
    inputs, targets = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    from uniq_core.lyapunov import _loss_function

    theta = models.flat_parameters(model)
    dense = torch.autograd.functional.hessian(_loss_function(model, inputs, targets, "cross_entropy"), theta)
    top = torch.linalg.eigvalsh(dense).max().item()
    assert sharpness(model, inputs, targets)[0] == pytest.approx(top, rel=1e-7)


def test_participation_ratio_equals_the_covariance_formula():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(12, 30)) * np.linspace(3, 0.1, 30)
    eigenvalues = np.linalg.eigvalsh(np.cov(points, rowvar=False))
    assert participation_ratio(points) == pytest.approx(eigenvalues.sum() ** 2 / (eigenvalues**2).sum(), rel=1e-9)
    line = np.outer(np.arange(5.0), rng.normal(size=7))
    assert participation_ratio(line) == pytest.approx(1.0)
    assert participation_ratio(points[:1]) == 1.0


def test_exponent_ratio_and_fit_are_consistent():
    t = np.linspace(0, 10, 21)
    spread = 3.0 * np.exp(0.2 * t)
    slope, error = fitted_exponent(t, spread)
    assert slope == pytest.approx(0.2) and error == pytest.approx(0.0, abs=1e-12)
    ratio = convergence_ratio(spread)
    assert finite_time_exponent(spread, 10.0) == pytest.approx(np.log(ratio) / 10.0) == pytest.approx(0.2)
    assert np.isnan(fitted_exponent(t[:1], spread[:1])[0])


def test_peer_metrics_follow_their_definitions():
    rng = np.random.default_rng(1)
    trajectories = np.cumsum(rng.normal(size=(11, 5, 40)), axis=0)
    metrics = peer_metrics(trajectories, n_epochs=10)
    from sklearn.decomposition import PCA

    projected = PCA(n_components=3).fit_transform(trajectories.reshape(-1, 40)).reshape(11, 5, 3)
    spread = np.sqrt(np.var(projected, axis=1).sum(axis=1))
    assert metrics["lyapunov"] == pytest.approx(np.log(spread[-1] / spread[0]) / 10, rel=1e-6)
    assert metrics["convergence_ratio"] == pytest.approx(np.std(projected[-1]) / np.std(projected[0]), rel=1e-6)
    assert metrics["effective_dimensionality"] == pytest.approx(effective_dimensionality(trajectories))


def test_interpolation_barrier_is_zero_between_identical_networks_and_endpoints_match():
    torch.manual_seed(0)
    model = models.MLP(4, (8,), 3)
    inputs, targets = torch.randn(50, 4), torch.randint(0, 3, (50,))
    theta = models.flat_parameters(model)
    curve = barriers.interpolation_curve(model, theta, theta, inputs, targets, n_points=5)
    assert curve["error_barrier"] == pytest.approx(0.0, abs=1e-12)
    other = theta + 0.5 * torch.randn_like(theta)
    curve = barriers.interpolation_curve(model, theta, other, inputs, targets, n_points=5)
    expected_end = (model(inputs).argmax(-1) != targets).double().mean().item()
    assert curve["error"][0] == pytest.approx(expected_end)


# ------------------------------------------------------------- warm-up, curvature extremes, heavy ball
from uniq_core.lyapunov import frozen_rate, heavy_ball_matrix, smallest_hessian_eigenvalue  # noqa: E402


def test_warm_up_makes_short_runs_exact_where_the_cold_start_is_biased():
    # A symmetric linear map in n = 200 dimensions with top factors 2, 1.5, 1.2 and the rest in [0.1, 0.9].
    # A random start has a component ~1/√n along each top direction: over T = 20 steps the cold estimate
    # of the top-3 is off by about ½ ln n / T ≈ 0.1. Warming the tangents up for 150 steps aligns them to
    # within (1.2/0.9)^150 ≈ 1e-19, so the same 20 steps give the exponents to rounding.
    rng = np.random.default_rng(3)
    basis, _ = np.linalg.qr(rng.normal(size=(200, 200)))
    factors = np.concatenate([[2.0, 1.5, 1.2], rng.uniform(0.1, 0.9, size=197)])
    matrix = torch.tensor(basis @ np.diag(factors) @ basis.T)
    exact = np.log([2.0, 1.5, 1.2])
    x0 = torch.zeros(200, dtype=torch.float64)
    cold = lyapunov_spectrum(lambda x: matrix @ x, x0, 20, k=3)
    warm = lyapunov_spectrum(lambda x: matrix @ x, x0, 20, k=3, transient=150)
    assert np.max(np.abs(cold - exact)) > 0.02
    np.testing.assert_allclose(warm, exact, atol=1e-9)


def test_running_estimate_ends_at_the_result():
    matrix = torch.diag(torch.tensor([3.0, 0.5], dtype=torch.float64))
    exponents, running = lyapunov_spectrum(lambda x: matrix @ x, torch.zeros(2, dtype=torch.float64), 40,
                                           transient=30, renorm_every=4, return_running=True)
    assert running.shape == (10, 2)
    np.testing.assert_allclose(running[-1], exponents)
    np.testing.assert_allclose(running, np.tile(np.log([3.0, 0.5]), (10, 1)), atol=1e-9)  # warm: exact at every T


def test_smallest_hessian_eigenvalue_of_a_known_quadratic(least_squares):
    model, inputs, targets, h = least_squares
    np.testing.assert_allclose(smallest_hessian_eigenvalue(model, inputs, targets, k=2, loss="mse"), h[::-1][:2],
                               rtol=1e-8)


def test_smallest_hessian_eigenvalue_of_a_network_is_negative_and_matches_the_dense_hessian():
    torch.manual_seed(0)
    model = models.MLP(3, (4,), 2, "tanh").double()
    inputs, targets = torch.randn(20, 3, dtype=torch.float64), torch.randint(0, 2, (20,))
    from uniq_core.lyapunov import _loss_function

    dense = torch.autograd.functional.hessian(_loss_function(model, inputs, targets, "cross_entropy"),
                                              models.flat_parameters(model))
    lowest = torch.linalg.eigvalsh(dense).min().item()
    assert lowest < 0
    assert smallest_hessian_eigenvalue(model, inputs, targets)[0] == pytest.approx(lowest, rel=1e-6)


def test_frozen_rate_is_positive_for_negative_curvature_and_beyond_the_edge():
    eta = 0.5
    assert frozen_rate(-0.1, eta) == pytest.approx(np.log(1.05)) and frozen_rate(-0.1, eta, 0.9) > 0
    assert frozen_rate(1.0, eta) < 0 and frozen_rate(4.5, eta) == pytest.approx(np.log(1.25))


@pytest.mark.parametrize("momentum", [0.5, 0.9])
@pytest.mark.parametrize("edge_fraction", [0.6, 0.95, 1.05, 1.3])
def test_heavy_ball_exponent_on_a_1d_quadratic_is_the_log_spectral_radius(momentum, edge_fraction):
    # One weight, one example: loss ½(w x)², curvature h = x². The heavy-ball map on (w, v) is linear with
    # matrix [[1 − ηh, −ηβ], [h, β]]; its exponent is ln ρ, positive exactly beyond ηh = 2 + 2β.
    x = 1.5
    h = x**2
    scaled_eta = edge_fraction * (2 + 2 * momentum) / h
    model = torch.nn.Linear(1, 1, bias=False).double()
    inputs, targets = torch.tensor([[x]], dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    step, state0 = training_map(model, inputs, targets, lr=scaled_eta, momentum=momentum, loss="mse")
    exponent = lyapunov_spectrum(step, state0, 400, k=1, transient=100)[0]
    radius = np.max(np.abs(np.linalg.eigvals(heavy_ball_matrix(h, scaled_eta, momentum))))
    assert exponent == pytest.approx(np.log(radius), abs=0.01)  # complex pairs rotate: O(1/T) error
    assert frozen_rate(h, scaled_eta, momentum) == pytest.approx(np.log(radius))
    assert (exponent > 0) == (edge_fraction > 1) and (np.log(radius) > 0) == (edge_fraction > 1)


def test_gradient_descent_bound_holds_step_by_step_on_a_quadratic():
    hessian = torch.diag(torch.tensor([3.0, 0.5, -0.2], dtype=torch.float64))
    for lr in (0.1, 0.9):
        top = lyapunov.lyapunov_spectrum(lambda x: x - lr * hessian @ x, torch.zeros(3, dtype=torch.float64), 50,
                                         k=1, transient=200)[0]
        bound = lyapunov.gradient_descent_bound(np.array([3.0]), np.array([-0.2]), lr)
        assert top <= bound + 1e-12
        assert top == pytest.approx(bound, abs=1e-9)  # the bound is attained by the dominant direction


def test_rayleigh_quotient_of_an_eigenvector_is_its_eigenvalue():
    hessian = torch.diag(torch.tensor([3.0, 0.5, -0.2], dtype=torch.float64))

    def loss_of(theta):
        return 0.5 * theta @ hessian @ theta

    theta = torch.zeros(3, dtype=torch.float64)
    assert lyapunov.rayleigh_quotient(loss_of, theta, torch.tensor([0.0, 0.0, 2.0])) == pytest.approx(-0.2)
    assert lyapunov.rayleigh_quotient(loss_of, theta, torch.tensor([1.0, 1.0, 0.0])) == pytest.approx(1.75)


def test_checkpoint_spread_equals_the_engine_spread_and_masks_coordinates():
    from uniq_core import data, lyapunov, models, replicas, runtime

    dataset = data.load("digits", n_train=256, seed=0, device="cpu")
    runtime.seed_everything(0)
    model = models.MLP(dataset.n_features, (8,), dataset.n_classes, "relu")
    record = replicas.train_replicas(model, dataset, n_replicas=4, perturbation=1e-2, lr=0.1, n_steps=10,
                                     record_every=1, checkpoint_every=5)
    spread = lyapunov.checkpoint_spread(record.checkpoints)
    np.testing.assert_allclose(spread, record.spread[[0, 5, 10]], rtol=1e-5)
    # a coordinate that is the same in every replica adds nothing; masking all others leaves zero
    checkpoints = np.zeros((2, 3, 4))
    checkpoints[:, :, 0] = [[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]
    np.testing.assert_allclose(lyapunov.checkpoint_spread(checkpoints), [np.sqrt(2 / 3), np.sqrt(8 / 3)])
    np.testing.assert_allclose(lyapunov.checkpoint_spread(checkpoints, np.array([False, True, True, True])), 0.0)


def test_predictability_horizon_known_answers():
    assert lyapunov.predictability_horizon(0.5, 1e-8, 1e-2) == pytest.approx(np.log(1e6) / 0.5)
    assert lyapunov.predictability_horizon(-0.1, 1e-8, 1e-2) == float("inf")
    assert lyapunov.predictability_horizon(0.1, 0.1, 1e-2) == 0.0
    with pytest.raises(ValueError, match="delta"):
        lyapunov.predictability_horizon(0.1, 0.0, 1e-2)


# ------------------------------------------------------------------------- finite-size exponent


def test_finite_size_exponent_recovers_an_exponential_rate_at_every_size():
    times = np.linspace(0.0, 10.0, 101)
    curves = np.vstack([1e-6 * np.exp(0.7 * times), 1e-6 * np.exp(0.7 * (times - 0.3)).clip(min=1e-6)])
    measured = lyapunov.finite_size_exponent(times, curves, 1e-6 * 2.0 ** np.arange(8), ratio=2.0)
    np.testing.assert_allclose(measured["rate"], 0.7, rtol=1e-9)
    assert (measured["reached"] == 2).all() and (measured["censored"] == 0).all()


def test_finite_size_exponent_falls_at_saturation_and_counts_censored_curves():
    times = np.linspace(0.0, 40.0, 4001)
    logistic = 1.0 / (1.0 + (1.0 / 1e-4 - 1.0) * np.exp(-0.7 * times))  # λ(δ) → 0.7 small, → 0 at 1
    measured = lyapunov.finite_size_exponent(times, logistic[None], 1e-4 * 2.0 ** np.arange(13))
    assert abs(measured["rate"][0] - 0.7) < 1e-3
    assert np.all(np.diff(measured["rate"]) < 0) and measured["rate"][-1] < 0.35
    slow = 1e-6 * np.exp(0.05 * times[:101])  # grows ×1.65 in 10: never doubles
    result = lyapunov.finite_size_exponent(times[:101], slow[None], np.array([1e-6, 4e-6]))
    assert result["censored"].tolist() == [1, 0] and result["reached"].tolist() == [0, 0]
    assert np.isnan(result["rate"]).all()


def test_finite_size_exponent_rejects_bad_input():
    with pytest.raises(ValueError, match="ratio"):
        lyapunov.finite_size_exponent(np.arange(3.0), np.ones((1, 3)), np.array([1.0]), ratio=1.0)
    with pytest.raises(ValueError, match="records"):
        lyapunov.finite_size_exponent(np.arange(3.0), np.ones((1, 4)), np.array([1.0]))
    with pytest.raises(ValueError, match="positive"):
        lyapunov.finite_size_exponent(np.arange(3.0), np.ones((1, 3)), np.array([0.0]))


@pytest.mark.parametrize("momentum", [0.0, 0.8])
def test_replicas_equal_one_run_at_a_time_and_a_blow_up_stays_in_its_replica(momentum):
    # Three replicas of a small ReLU network (two initialisations, one step size far beyond the edge): the
    # batched runs equal benettin_steps on each replica up to rounding, and the replica that blows up is
    # frozen with NaN logs from its failing step while the others are untouched.
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(40, 5, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 3, (40,), generator=generator)
    networks = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        networks.append(torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double())
    lrs = [0.5, 2.0, 1e155]  # the third overflows within a few steps
    settings = [(networks[0], lrs[0]), (networks[1], lrs[1]), (networks[0], lrs[2])]
    maps = [training_map(net, inputs, targets, lr=lr, momentum=momentum) for net, lr in settings]
    tangents = [lyapunov.random_tangents(maps[0][1].numel(), 2, seed) for seed in range(3)]
    step = lyapunov.step_function(networks[0], inputs, targets, momentum=momentum)
    states, failed = lyapunov.orbit_replicas(step, torch.stack([s for _, s in maps]),
                                             torch.tensor(lrs, dtype=torch.float64), 1)
    assert not failed.any()
    _, _, logs, failed = lyapunov.benettin_replicas(step, states, torch.tensor(lrs, dtype=torch.float64),
                                                    torch.stack(tangents), 25, failed)
    for b in range(2):
        state = maps[b][1]
        state = maps[b][0](state)
        expected = lyapunov.benettin_steps(maps[b][0], state, tangents[b], 25)[3]
        np.testing.assert_allclose(logs[:, b], expected, rtol=0, atol=1e-10)
    assert failed.tolist() == [False, False, True]
    blown = np.flatnonzero(~np.isfinite(logs[:, 2]).all(axis=1))
    assert blown.size and np.isnan(logs[blown[0]:, 2]).all()


def test_initial_state_is_the_flat_parameters_with_zero_velocity(least_squares):
    from uniq_core.models import flat_parameters

    model = least_squares[0]
    theta = flat_parameters(model.double())
    torch.testing.assert_close(lyapunov.initial_state(model), theta)
    state = lyapunov.initial_state(model, momentum=0.8)
    torch.testing.assert_close(state, torch.cat([theta, torch.zeros_like(theta)]))
    torch.testing.assert_close(training_map(model, least_squares[1], least_squares[2], lr=0.1, momentum=0.8,
                                            loss="mse")[1], state)


def _exact_finite_time(jacobians: list[np.ndarray], k: int) -> np.ndarray:
    product = np.eye(jacobians[0].shape[0])
    for jacobian in jacobians:
        product = jacobian @ product
    return np.log(np.linalg.svd(product, compute_uv=False)[:k]) / len(jacobians)


def test_finite_time_exponents_of_a_non_normal_linear_map_are_its_power_s_singular_values():
    # k ≪ n, a clustered top of the spectrum and a non-normal matrix: (1/T) ln σᵢ(Aᵀ) exactly, where a
    # cold-started Benettin run over the same T steps reads random directions' growth instead
    generator = np.random.default_rng(0)
    n, T, k = 120, 30, 4
    A = np.diag(np.linspace(0.7, 1.08, n)) + 0.02 * generator.standard_normal((n, n))
    matrix = torch.as_tensor(A)
    estimates = lyapunov.finite_time_exponents(lambda x: matrix @ x, torch.ones(n, dtype=torch.float64), T, k)
    exact = _exact_finite_time([A] * T, k)
    np.testing.assert_allclose(estimates[-1], exact, atol=1e-6)
    assert (np.diff(estimates[:, 0]) >= -1e-12).all()  # Rayleigh–Ritz estimates rise to the value
    cold = lyapunov.benettin_steps(lambda x: matrix @ x, torch.ones(n, dtype=torch.float64),
                                   lyapunov.random_tangents(n, k), T)[3].sum(axis=0) / T
    assert cold.max() < exact[0] - 0.01


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_finite_time_exponents_of_a_network_match_the_dense_jacobian_product(activation):
    # P = 219 parameters against the default Krylov basis of (3 + 6)(6 + 1) = 63 vectors: it cannot cover the
    # space, so only the right directions give the right values; with momentum the θ block ΠMΠᵀ is measured
    torch.manual_seed(0)
    model = models.MLP(5, (24,), 3, activation=activation).double()
    inputs, targets = torch.randn(16, 5, dtype=torch.float64), torch.randint(0, 3, (16,))
    size = sum(p.numel() for p in model.parameters())
    for momentum in (0.0, 0.5):
        step, x0 = lyapunov.training_map(model, inputs, targets, lr=0.8, momentum=momentum)
        T, states = 12, [x0]
        for _ in range(T - 1):
            states.append(step(states[-1]).detach())
        product = np.eye(len(x0))
        for state in states:
            product = torch.autograd.functional.jacobian(step, state).numpy() @ product
        exact = np.log(np.linalg.svd(product[:size, :size], compute_uv=False)[:3]) / T
        estimates = lyapunov.finite_time_exponents(step, x0, T, 3, observed=size)
        np.testing.assert_allclose(estimates[-1], exact, atol=1e-4)
        assert abs(estimates[-1][0] - estimates[-2][0]) < 1e-3  # and the last Krylov step says it has settled


def test_finite_time_exponents_name_the_step_where_the_orbit_blows_up():
    with pytest.raises(FloatingPointError, match="orbit stopped being finite at step 1"):
        lyapunov.finite_time_exponents(lambda x: x * float("inf"), torch.ones(3, dtype=torch.float64), 5, 1)
