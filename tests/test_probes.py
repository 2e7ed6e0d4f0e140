"""Heavy-ball phase-space probes against exact identities."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from uniq_core import models, probes


def quadratic(seed=0, n=4):
    rng = np.random.default_rng(seed)
    root = rng.standard_normal((n, n))
    H = torch.as_tensor(root @ root.T / n + np.eye(n))
    return (lambda theta: H @ theta), H


def test_heavy_ball_is_pytorch_sgd_with_momentum_at_lr_dt2_over_m():
    gradient, H = quadratic()
    dt, mass, beta = 0.3, 2.0, 0.9
    theta0 = torch.ones(4, dtype=torch.float64)
    thetas, _ = probes.trajectory(gradient, theta0, torch.zeros(4, dtype=torch.float64), 20, dt=dt, mass=mass,
                                  beta=beta)
    w = torch.nn.Parameter(theta0.clone())
    optimiser = torch.optim.SGD([w], lr=probes.learning_rate(dt, mass), momentum=beta)
    for t in range(20):
        optimiser.zero_grad()
        (0.5 * w @ H @ w).backward()
        optimiser.step()
        torch.testing.assert_close(w.detach(), thetas[t + 1])


@settings(max_examples=20, deadline=None)
@given(st.floats(0.01, 1.0), st.floats(0.1, 5.0), st.floats(0.0, 1.0), st.integers(0, 100))
def test_heavy_ball_on_a_network_loss_is_conformally_symplectic(dt, mass, beta, seed):
    torch.manual_seed(seed)
    model = models.MLP(3, (4,), 2, "tanh").double()
    x, y = torch.randn(8, 3, dtype=torch.float64), torch.randint(0, 2, (8,))
    theta = models.flat_parameters(model).detach()

    def loss(t):
        return F.cross_entropy(torch.func.functional_call(model, models.unflatten(model, t), (x,)), y)

    gradient = torch.func.grad(loss)
    p = torch.randn(theta.shape, dtype=torch.float64)
    assert probes.omega_invariance_error(gradient, theta, p, dt=dt, mass=mass, beta=beta) < 1e-10


def test_a_non_gradient_force_breaks_the_symplectic_identity():
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    force = lambda theta: rotation @ theta  # curl: not the gradient of any function
    error = probes.omega_invariance_error(force, torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64),
                                          dt=0.5)
    assert error > 1e-2


def nonlinear_force(theta):
    return torch.sin(3 * theta) + theta**3 + 0.5 * theta.roll(1)  # the gradient of no function, on purpose


def potential_force(theta):
    return torch.sin(3 * theta) + theta**3  # ∇ of Σ (−cos 3θ/3 + θ⁴/4)


@pytest.mark.parametrize("force", ["quadratic", "nonlinear"])
def test_exact_reversal_returns_to_rounding_level_at_beta_one(force):
    gradient = quadratic(1)[0] if force == "quadratic" else potential_force
    theta, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for dt in (0.2, 0.05):
        assert probes.round_trip_error(gradient, theta, p, int(round(4 / dt)), dt=dt, mass=2.0) < 1e-12
    # the inverse needs no gradient structure: any force, matched step by step, reverses exactly
    assert probes.round_trip_error(nonlinear_force, theta, p, 40, dt=0.1) < 1e-12
    assert np.isnan(probes.round_trip_error(lambda t: 1e200 * t, theta, p, 5, dt=10.0))


def test_exact_reversal_of_a_scheduled_minibatch_force():
    gradient, H = quadratic(2)
    scales = np.random.default_rng(0).uniform(0.5, 2.0, 30)
    forces = [lambda t, s=s: s * (H @ t) + torch.sin(t) for s in scales]  # a different force at each step
    theta, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    thetas, momenta = probes.trajectory(None, theta, p, 30, schedule=lambda t: forces[t], dt=0.1)
    assert probes.return_error(None, thetas, momenta[-1], schedule=lambda t: forces[t], dt=0.1) < 1e-12
    # the forces one position off (the reversal of the earlier probe) do not return
    shifted = lambda t: forces[min(t + 1, 29)]  # noqa: E731
    assert probes.return_error(None, thetas, momenta[-1], schedule=shifted, dt=0.1) > 1e-4


def test_inverse_step_undoes_a_step_and_needs_beta_above_zero():
    gradient, _ = quadratic(3)
    theta, p = torch.randn(4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    forward = probes.heavy_ball(gradient, theta, p, dt=0.3, mass=1.5, beta=0.7)
    back = probes.inverse_heavy_ball(gradient, *forward, dt=0.3, mass=1.5, beta=0.7)
    torch.testing.assert_close(back[0], theta, rtol=0, atol=1e-14)
    torch.testing.assert_close(back[1], p, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="^beta="):
        probes.inverse_heavy_ball(gradient, theta, p, dt=0.1, beta=0.0)


def test_negative_dt_probe_is_first_order_at_a_fixed_physical_time():
    gradient, _ = quadratic(1)
    theta, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    dts = np.array([0.2, 0.1, 0.05, 0.025])
    errors = np.array([probes.round_trip_error(gradient, theta, p, int(round(4 / dt)), dt=dt, reversal="negative_dt")
                       for dt in dts])
    order = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert order == pytest.approx(1.0, abs=0.15)
    assert errors.min() > 1e-4  # far above rounding: the probe measures the integrator, not reversibility
    with pytest.raises(ValueError, match="^reversal="):
        probes.round_trip_error(gradient, theta, p, 4, dt=0.1, reversal="backwards")


def test_the_inverse_of_damped_steps_amplifies_by_beta_to_the_minus_t():
    # known answer: with no force, T inverse steps multiply a momentum error by exactly β^−T
    zero = lambda t: torch.zeros_like(t)  # noqa: E731
    theta, error = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    for _ in range(30):
        theta, error = probes.inverse_heavy_ball(zero, theta, error, dt=0.1, beta=0.8)
    assert float(error) == pytest.approx(probes.reversal_gain(30, 0.8), rel=1e-12)
    # measured: under a constant force (a run that keeps moving) the round trip grows like ε·β^−T
    constant = lambda t: torch.tensor([0.3, -0.7, 1.1, 0.2], dtype=torch.float64) + 0 * t  # noqa: E731
    start, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    lengths = np.array([40, 80, 120])
    errors = [probes.round_trip_error(constant, start, p, int(n), dt=0.1, beta=0.8) for n in lengths]
    growth = np.polyfit(lengths, np.log(errors), 1)[0]
    assert growth == pytest.approx(-np.log(0.8), rel=0.25)
    assert max(probes.round_trip_error(constant, start, p, int(n), dt=0.1) for n in lengths) < 1e-13


def test_energy_drift_and_dt_zero():
    assert probes.energy_drift(np.array([1.0, 1.0, 1.0, 1.0]), np.zeros(4), 1.0) == 0.0
    assert probes.energy_drift(np.array([1.0, 1.1, 1.2, 1.4]), np.zeros(4), 1.0) == pytest.approx(0.4)
    assert probes.dt_zero(lambda dt: dt**2, 0.25, 1e-3, 10.0) == pytest.approx(0.5, rel=1e-4)
    assert probes.dt_zero(lambda dt: dt, 10.0, 1e-3, 1.0) == float("inf")
    assert probes.dt_zero(lambda dt: float("nan") if dt > 0.3 else 0.0, 0.5, 1e-3, 1.0) == pytest.approx(0.3, rel=1e-4)
    # not monotone (a probe that falls again at large dt): the first crossing, not a bisection artefact
    assert probes.dt_zero(lambda dt: dt if dt < 0.5 else 0.0, 0.2, 1e-2, 1.0) == pytest.approx(0.2, rel=1e-4)
    # the grid scales with the bracket: a probe of dt/c searched on c·[low, high] gives c times the answer
    one = probes.dt_zero(lambda dt: dt**1.7, 0.2, 0.05, 2.0, iterations=6)
    assert probes.dt_zero(lambda dt: (dt / 3.0)**1.7, 0.2, 0.15, 6.0, iterations=6) == pytest.approx(3 * one, rel=1e-12)


def test_scale_invariant_weights_obey_the_norm_identity():
    torch.manual_seed(0)
    w = torch.randn(10, dtype=torch.float64, requires_grad=True)
    x = torch.randn(10, dtype=torch.float64)
    loss = torch.sin(3 * (w @ x) / w.norm())  # invariant to the scale of w
    g, = torch.autograd.grad(loss, w)
    after, predicted = probes.scale_invariant_norm_step(w.detach(), g, 0.3)
    assert after == pytest.approx(predicted, rel=1e-12)


def test_output_column_sums_are_invariant_under_momentum_training():
    torch.manual_seed(1)
    model = models.MLP(5, (6,), 4)
    x, y = torch.randn(64, 5), torch.randint(0, 4, (64,))
    before = probes.softmax_column_sums(model[-1].weight, model[-1].bias).detach().clone()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(50):
        optimiser.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimiser.step()
    after = probes.softmax_column_sums(model[-1].weight, model[-1].bias).detach()
    torch.testing.assert_close(after, before, atol=1e-5, rtol=0)
    assert (model[-1].weight.detach() - 0).abs().sum() > 0


def test_shadow_hamiltonian_of_symplectic_euler_is_exact_on_a_harmonic_oscillator():
    for dt in (0.1, 0.05):
        energies = probes.oscillator_energies(dt, 2.0, int(round(20 / dt)))
        assert np.abs(energies["shadow"]).max() < 1e-12  # H̃ = H − (dt/2)ω²θp is invariant
        # H oscillates by O(dt) (amplitude (dt/2)·ω²·max θp = dt·ω·H_0/2 here) and does not drift
        assert np.abs(energies["energy"]).max() == pytest.approx(dt * 2.0 * 2.0 / 2, rel=0.15)
    # the other sign is not invariant: it drifts like H does
    run = probes.trajectory(lambda t: 4.0 * t, torch.ones(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64),
                            200, dt=0.1)
    theta, p = run[0][:, 0].numpy(), run[1][:, 0].numpy()
    wrong = probes.shadow_energy(2.0 * theta**2, -p * 4.0 * theta, p**2, 1.0, 0.1)
    assert np.abs(wrong - wrong[0]).max() > 0.1


def test_energy_accounts_balance_and_separate_dissipation():
    gradient, H = quadratic(4)
    U = lambda t: float(0.5 * t @ H @ t)  # noqa: E731
    theta, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    for beta in (1.0, 0.9):
        thetas, momenta = probes.trajectory(gradient, theta, p, 60, dt=0.1, beta=beta)
        u_start = [U(t) for t in thetas[:-1]]
        u_end = [U(t) for t in thetas[1:]]
        momenta_sq = momenta.pow(2).sum(dim=1).numpy()
        power_start = [float(beta * q @ gradient(t)) for t, q in zip(thetas[:-1], momenta[:-1])]
        power_end = [float(q @ gradient(t)) for t, q in zip(thetas[1:], momenta[1:])]
        accounts = probes.energy_accounts(u_start, u_end, momenta_sq, 1.0, beta=beta, dt=0.1,
                                          power_start=power_start, power_end=power_end)
        energy = momenta_sq / 2 + np.array([U(t) for t in thetas])
        # H(t) + dissipated(t) = H(0) + integration error(t), exactly
        np.testing.assert_allclose(energy + accounts["dissipated"], energy[0] + accounts["integration"], atol=1e-12)
        # the shadow account of symplectic Euler is an order of dt smaller than H's
        assert np.abs(accounts["shadow"]).max() < 0.1 * np.abs(accounts["integration"]).max()
        assert (accounts["dissipated"][-1] > 0.1 * energy[0]) == (beta < 1)


def test_a_schedule_of_forces_is_retraced_in_reverse_order():
    gradient, H = quadratic(2)
    theta, p = torch.ones(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)
    forces = [lambda t, s=s: s * (H @ t) for s in (1.0, 2.0, 0.5, 1.5)]  # a different force at each step
    thetas, momenta = probes.trajectory(None, theta, p, 4, schedule=lambda t: forces[t], dt=0.1)
    # the same schedule with one constant force is the plain trajectory
    plain, _ = probes.trajectory(gradient, theta, p, 4, dt=0.1)
    torch.testing.assert_close(probes.trajectory(None, theta, p, 4, schedule=lambda t: gradient, dt=0.1)[0], plain)
    # run back by hand: drift, then kick, momentum negated, forces in reverse order
    back, q = thetas[-1], -momenta[-1]
    for t in reversed(range(4)):
        back = back + 0.1 * q
        q = q - 0.1 * forces[t](back)
    expected = float((back - theta).norm()) / float((thetas[1:] - thetas[:-1]).norm(dim=1).sum())
    assert probes.return_error(None, thetas, momenta[-1], schedule=lambda t: forces[t], dt=0.1) == \
        pytest.approx(expected, abs=1e-15)
    assert expected < 1e-14
    assert probes.return_error(gradient, plain, probes.trajectory(gradient, theta, p, 4, dt=0.1)[1][-1], dt=0.1) == \
        pytest.approx(probes.round_trip_error(gradient, theta, p, 4, dt=0.1), rel=1e-12)


def _relu_mlp(seed=0):
    torch.manual_seed(seed)
    from uniq_core import models
    return models.MLP(6, (5, 4), 3, "relu").double()


def _parts(net, values=None):
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    if values is None:
        return [m.weight for m in linear], [m.bias for m in linear]
    return [values[m.weight] for m in linear], [values[m.bias] for m in linear]


def test_relu_rescaling_charges_are_invariant_to_the_symmetry_generator_and_know_their_layout():
    net = _relu_mlp()
    weights, biases = _parts(net)
    charges = probes.relu_rescaling_charges(weights, biases)
    assert charges.shape == (5 + 4,)
    expected = weights[0][2].pow(2).sum() + biases[0][2] ** 2 - weights[1][:, 2].pow(2).sum()
    torch.testing.assert_close(charges[2], expected)
    with pytest.raises(ValueError, match="equal length"):
        probes.relu_rescaling_charges(weights[:1], biases[:1])


def test_one_gradient_step_changes_the_charges_by_exactly_eta_squared_law():
    net = _relu_mlp(1)
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.randint(0, 3, (40,))
    loss = torch.nn.functional.cross_entropy(net(x), y)
    params = list(net.parameters())
    grads = dict(zip(params, torch.autograd.grad(loss, params)))
    weights, biases = _parts(net)
    before = probes.relu_rescaling_charges(weights, biases).detach()
    lr = 0.3
    g_weights, g_biases = _parts(net, grads)
    predicted = probes.relu_rescaling_step_change(g_weights, g_biases, lr)
    after = probes.relu_rescaling_charges([w - lr * grads[w] for w in weights], [b - lr * grads[b] for b in biases])
    torch.testing.assert_close(after.detach() - before, predicted, rtol=1e-8, atol=1e-12)
    assert predicted.abs().max() > 1e-6  # the law is not trivially zero


def test_charges_are_conserved_by_gradient_flow_with_drift_of_order_one_in_the_step():
    """Small-step GD over a fixed horizon τ: max |ΔQ| → 0 with slope 1 in log-log (exact conservation in
    the limit); heavy ball with fixed friction (the mechanical limit) does not conserve them."""
    from uniq_core.experiments import probes as chapter
    result = chapter.run_noether(chapter.NoetherConfig(n_train=64, widths=(6,), time_steps=(0.1, 0.05, 0.025),
                                                       horizon=1.0, n_seeds=1), progress=False, use_cache=False)
    gd = list(result.modes).index("gradient_descent")
    friction = list(result.modes).index("heavy_ball_fixed_friction")
    assert result.order[gd] == pytest.approx(1.0, abs=0.1)
    assert result.charge_change[gd, -1, 0] < 0.5 * result.charge_change[friction, -1, 0]
    assert abs(result.order[friction]) < 0.3
    assert result.step_identity_error < 1e-6
    assert np.nanmax(result.column_sum_change) < 1e-12


@pytest.mark.parametrize("lr, beta", [(1e-3, 0.0), (1.0, 0.0), (50.0, 0.0), (10.0, 0.9), (100.0, 0.99)])
def test_softmax_column_sums_are_conserved_to_rounding_under_any_step_size(lr, beta):
    net = _relu_mlp(2)
    x, y = torch.randn(30, 6, dtype=torch.float64), torch.randint(0, 3, (30,))
    optimiser = torch.optim.SGD(net.parameters(), lr=lr, momentum=beta)
    start = probes.softmax_column_sums(net[-1].weight, net[-1].bias).detach().clone()
    for _ in range(20):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        optimiser.step()
    after = probes.softmax_column_sums(net[-1].weight, net[-1].bias).detach()
    moved = (net[-1].weight.detach()).abs().max()
    assert torch.isfinite(after).all()
    assert (after - start).abs().max() < 1e-12 * max(1.0, float(moved)) * 10


def test_switching_potentials_make_the_energy_error_grow_with_the_horizon():
    """Known answer (backward error analysis): one fixed potential keeps H's error bounded at O(dt) for all
    times; a new potential each step (minibatches) makes it grow with the horizon, at a rate ∝ dt."""
    horizons = (5.0, 20.0, 80.0)
    fixed = probes.switching_oscillator_drift(0.05, horizons, switching=False)
    switching = probes.switching_oscillator_drift(0.05, horizons)
    finer = probes.switching_oscillator_drift(0.025, horizons)
    assert fixed.max() < 0.01
    assert switching[1] > 3 * switching[0] and switching[2] > 3 * switching[1]
    assert finer[2] / switching[2] == pytest.approx(0.5, abs=0.15)  # drift per unit time is first order


def test_switching_drift_is_the_known_answer_of_a_quadratic_with_known_gradient_noise():
    """U_t = k‖θ‖²/2 − ξ_t·θ with tr Σ_g known: the mean Σδ at a fixed time is −T dt tr Σ_g/(2M), first order
    in dt and inversely proportional to M, to 2% over 400 runs."""
    for mass in (0.5, 2.0):
        for dt in (0.1, 0.025):
            measured = probes.noisy_quadratic_drift(dt, mass, 20.0, noise=1.0, n_runs=400)
            predicted = probes.switching_drift(dt, mass, 1.0, int(round(20.0 / dt)))[-1]
            assert predicted == pytest.approx(-20.0 * dt / (2 * mass))
            assert measured == pytest.approx(predicted, rel=0.02)
    # without noise nothing grows with the horizon: a fixed potential's H oscillates by O(dt), here under a
    # tenth of the noisy drift at T = 20 and smaller still at T = 80
    quiet = [abs(probes.noisy_quadratic_drift(0.05, 1.0, horizon, noise=0.0)) for horizon in (20.0, 80.0)]
    assert max(quiet) < 0.1 * 20.0 * 0.05 / 2
    # read with the probe's own statistic (each run's median |Σδ| over the last quarter), the same theory
    # read the same way: the part that does not grow with T (first order in dt too) still shows at T = 5,
    # and is gone by T = 80
    ratio = {}
    for horizon in (5.0, 80.0):
        measured = probes.noisy_quadratic_drift(0.05, 1.0, horizon, n_runs=200, statistic="tail")
        predicted = probes.tail_drift(probes.switching_drift(0.05, 1.0, 1.0, int(round(horizon / 0.05))), 1.0)
        ratio[horizon] = measured / predicted
    assert 1.1 < ratio[5.0] < 1.4 and ratio[80.0] == pytest.approx(1.0, abs=0.02)
    with pytest.raises(ValueError, match="statistic"):
        probes.noisy_quadratic_drift(0.05, 1.0, 1.0, statistic="mean")


def test_a_gradient_noise_that_changes_along_the_run_is_predicted_by_its_path():
    """tr Σ_g rising from 0.2 to 1.8 along the run: the drift follows the path's cumulative noise, which the
    noise at the start misses by a factor of five."""
    dt, mass, horizon = 0.05, 2.0, 40.0
    steps = int(round(horizon / dt))
    noise = np.linspace(0.2, 1.8, steps)
    measured = probes.noisy_quadratic_drift(dt, mass, horizon, noise=noise, n_runs=400)
    along = probes.switching_drift_along(dt, mass, noise)
    np.testing.assert_allclose(probes.switching_drift_along(dt, mass, np.full(steps, 0.7)),
                               probes.switching_drift(dt, mass, 0.7, steps))
    assert measured == pytest.approx(along[-1], rel=0.03)
    assert along[-1] / probes.switching_drift(dt, mass, 0.2, steps)[-1] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="one per step"):
        probes.noisy_quadratic_drift(dt, mass, horizon, noise=noise[:10])


def test_gradient_noise_is_the_trace_of_the_sample_covariance():
    generator = torch.Generator().manual_seed(0)
    gradients = torch.randn(50, 3, generator=generator, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0])
    expected = float(np.trace(np.cov(gradients.numpy(), rowvar=False)))
    assert probes.gradient_noise(gradients) == pytest.approx(expected)
    with pytest.raises(ValueError, match="n ≥ 2"):
        probes.gradient_noise(gradients[:1])


def test_first_crossing_is_exact_on_a_power_law_and_names_its_censoring():
    dts = np.geomspace(0.01, 1.0, 9)
    values = 0.3 * dts**1.5
    dt0, where = probes.first_crossing(dts, values, 0.01)
    assert where == "inside" and dt0 == pytest.approx((0.01 / 0.3) ** (1 / 1.5))
    assert probes.first_crossing(dts, values, 1e-9) == (0.01, "below")
    assert probes.first_crossing(dts, values, 10.0) == (float("inf"), "above")
    diverged = values.copy()
    diverged[5:] = np.nan  # NaN counts as above: the crossing lies between the last finite point and it
    dt0, where = probes.first_crossing(dts, diverged, 10.0)
    assert where == "inside" and dt0 == pytest.approx(np.sqrt(dts[4] * dts[5]))
    with pytest.raises(ValueError, match="increasing"):
        probes.first_crossing(dts[::-1], values, 0.01)
