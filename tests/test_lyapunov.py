"""lyapunov_spectrum against exact exponents: linear maps, gradient descent on a quadratic, the logistic and
Hénon maps."""

import numpy as np
import pytest
import torch

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
