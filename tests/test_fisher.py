"""Pullback metrics against ground truths: symmetry-predicted null dimensions, the Gram form, invariances."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from uniq_core import fisher, models


def mlp(widths, activation="relu", seed=0, d_in=4, d_out=3):
    torch.manual_seed(seed)
    return models.MLP(d_in, widths, d_out, activation).double()


def inputs(n=200, d=4, seed=1):
    return torch.randn(n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("activation, widths", [("relu", (8,)), ("relu", (12,)), ("tanh", (8,)), ("tanh", (6, 5)),
                                                ("gelu", (7,)), ("linear", (8,)), ("linear", (6, 5)),
                                                ("linear", (2,))])
@pytest.mark.parametrize("output", ["logits", "softmax"])
def test_null_dimension_is_the_dimension_of_the_symmetries(activation, widths, output):
    model = mlp(widths, activation)
    if activation == "linear" and output == "softmax" and min(widths) < 3:
        with pytest.raises(NotImplementedError):
            fisher.predicted_null_dimension(model, output=output)
        return
    assert fisher.null_dimension(model, inputs(), output=output, rtol=1e-9) == \
        fisher.predicted_null_dimension(model, output=output)


def test_few_inputs_add_data_limited_null_directions():
    model = mlp((8,))
    size = sum(p.numel() for p in model.parameters())
    # 5 inputs × 3 logits = 15 directions at most can be seen
    assert fisher.null_dimension(model, inputs(5), rtol=1e-9) == size - 15


def test_gram_form_equals_the_parameter_metric():
    model = mlp((30,))  # P = 243 > N·K = 30: the Gram path
    x = inputs(10)
    for output in ("logits", "softmax"):
        spectrum = fisher.fisher_spectrum(model, x, output=output)
        J = fisher.jacobian(model, x)
        B = fisher._factors(model(x), output)
        A = torch.einsum("nij,njp->nip", B, J).reshape(30, -1)
        direct = np.linalg.eigvalsh((A.T @ A).detach().numpy())[::-1]
        assert spectrum.shape == (243,)
        np.testing.assert_allclose(spectrum, np.clip(direct, 0, None), atol=1e-10)


def test_fisher_of_a_softmax_model_is_the_expected_outer_product_of_score_gradients():
    # F = Σ_n E_{y~p_n} ∇log p(y|x_n) ∇log p(y|x_n)ᵀ
    model = mlp((3,), "tanh")
    x = inputs(6)
    logits = model(x)
    p = torch.softmax(logits, -1).detach()
    params = list(model.parameters())
    F = 0
    for n in range(6):
        for y in range(3):
            log_p = torch.log_softmax(model(x[n:n + 1]), -1)[0, y]
            g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(log_p, params)])
            F = F + p[n, y] * torch.outer(g, g)
    expected = np.linalg.eigvalsh(F.detach().numpy())[::-1]
    np.testing.assert_allclose(fisher.fisher_spectrum(model, x, output="softmax"), np.clip(expected, 0, None),
                               atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1000))
def test_null_directions_leave_the_outputs_unchanged(seed):
    model = mlp((6,), "relu", seed=seed)
    x = inputs(100, seed=seed + 1)
    J = fisher.jacobian(model, x).reshape(-1, sum(p.numel() for p in model.parameters()))
    _, singular, vt = np.linalg.svd(J.detach().numpy())
    null = vt[-1]  # the direction of the smallest singular value: a null direction
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()

    def change(direction, step):
        moved = mlp((6,), "relu", seed=seed)
        torch.nn.utils.vector_to_parameters(theta + step * torch.as_tensor(direction), moved.parameters())
        with torch.no_grad():
            return float((moved(x) - model(x)).abs().max())

    random = np.random.default_rng(seed).standard_normal(len(null))
    random /= np.linalg.norm(random)
    assert change(null, 1e-4) < 1e-3 * change(random, 1e-4)  # first-order change vanishes


def test_effective_ranks():
    assert fisher.effective_rank(np.array([1.0, 0, 0])) == pytest.approx(1.0)
    assert fisher.effective_rank(np.ones(5)) == pytest.approx(5.0)
    assert fisher.effective_rank(np.ones(5), "entropy") == pytest.approx(5.0)
    assert fisher.effective_rank(np.array([1.0, 1.0, 0.0]), "mackay", prior=1.0) == pytest.approx(1.0)
    assert fisher.effective_rank(np.array([100.0, 1e-6]), "mackay", prior=1e-3) == pytest.approx(1.0, abs=2e-3)
    assert fisher.effective_rank(np.zeros(3)) == 0.0
    # over a sweep of priors, m equal eigenvalues λ count m·λ/(λ + α): m/2 at α = λ, m and 0 at the ends
    for alpha, expected in [(1e-9, 4.0), (2.0, 2.0), (6.0, 1.0), (1e9, 0.0)]:
        assert fisher.effective_rank(np.array([2.0] * 4 + [0.0] * 3), "mackay", prior=alpha) == pytest.approx(expected, abs=1e-8)
    with pytest.raises(ValueError, match="kind="):
        fisher.effective_rank(np.ones(2), "volume")


def test_representation_metrics_have_layer_shapes_and_softmax_null_vector():
    model = mlp((7, 5), "tanh")
    metrics = fisher.representation_metrics(model, inputs(50), output="softmax")
    assert [m.shape for m in metrics] == [(7, 7), (5, 5)]
    for m in metrics:
        assert np.allclose(m, m.T) and np.linalg.eigvalsh(m).min() > -1e-10
    def rank(m):
        return np.linalg.matrix_rank(m, tol=1e-9 * np.abs(m).max())

    # the last hidden layer reaches the logits through one fixed matrix, and the softmax ignores a shift:
    # the output distribution sees K − 1 = 2 of its directions, however many inputs; earlier layers see more
    assert rank(metrics[-1]) == 2
    assert rank(metrics[0]) > 2


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no parameters"):
        fisher.fisher_spectrum(torch.nn.Flatten(), inputs(3))
    with pytest.raises(ValueError, match="do not fit"):
        fisher.fisher_spectrum(mlp((4,)), inputs(3, d=7))
    with pytest.raises(ValueError, match="logits of shape"):
        fisher.fisher_spectrum(torch.nn.Linear(4, 3).double(), torch.randn(2, 5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="output="):
        fisher.fisher_spectrum(mlp((4,)), inputs(3), output="probabilities")
    with pytest.raises(ValueError, match="nn.Sequential"):
        fisher.predicted_null_dimension(torch.nn.Linear(4, 3))


# ------------------------------------------------------------------ data-limited null directions, two layers


@pytest.mark.parametrize("dead", [[(1, 0)], [(3, 0)], [(1, 0), (3, 1)], [(1, 1), (3, 1), (3, 2)]],
                         ids=["layer 1", "layer 2", "one in each", "one in layer 1, two in layer 2"])
@pytest.mark.parametrize("output", ["logits", "softmax"])
def test_dead_units_of_any_layer_are_counted_once(dead, output):
    # a 3-(5,5)-3 ReLU net with units killed by a large negative bias: symmetries plus the data-limited
    # directions equal the measured null dimension exactly
    torch.manual_seed(1)  # no unit is dead before the constructed ones
    model = models.MLP(3, (5, 5), 3, "relu").double()
    with torch.no_grad():
        for layer, unit in dead:
            model[layer].bias[unit] = -100.0
    x = inputs(300, d=3)
    counts = fisher.data_null_dimension(model, x, output=output)
    assert counts["dead"] == len(dead)
    measured = fisher.gap_null_dimension(fisher.fisher_spectrum(model, x, output=output))
    assert measured == fisher.predicted_null_dimension(model, output=output) + counts["total"]


@pytest.mark.parametrize("activation, widths", [("relu", (8,)), ("relu", (12,)), ("tanh", (6, 5)), ("gelu", (7,))])
def test_generic_networks_have_no_data_limited_directions(activation, widths):
    counts = fisher.data_null_dimension(mlp(widths, activation), inputs(300), output="softmax")
    assert counts == {"incoming": 0, "outgoing": 0, "shared": 0, "dead": 0, "linear": 0, "total": 0}


def test_relu_units_active_on_every_input_act_linearly():
    # positive control: biases of +10 keep k units of the last hidden layer active on every input; they then
    # mix like a linear layer and pass constant shifts to the next bias: k² directions beyond the symmetries
    for k in (1, 2, 3):
        torch.manual_seed(1)
        model = models.MLP(3, (5, 5), 3, "relu").double()
        with torch.no_grad():
            model[3].bias[:k] = 10.0
        x = inputs(300, d=3)
        for output in ("logits", "softmax"):
            counts = fisher.data_null_dimension(model, x, output=output)
            assert counts["linear"] == k**2 and counts["dead"] == 0
            measured = fisher.gap_null_dimension(fisher.fisher_spectrum(model, x, output=output))
            explained = fisher.predicted_null_dimension(model, output=output) + counts["total"]
            if output == "softmax" and k > 3 - 1:
                # k linear units feeding K − 1 = 2 softmax directions: a bottleneck the count does not see
                assert measured > explained
            else:
                assert measured == explained


# ------------------------------------------------------------------------------ plain Sequentials


def test_hand_built_sequentials_have_the_predicted_null_dimension():
    nn = torch.nn
    torch.manual_seed(0)
    cases = [
        (nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3)), 6),
        (nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.1), nn.Linear(6, 3)), 6),
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)), 4),
        (nn.Sequential(nn.Linear(4, 6), nn.SiLU(), nn.Linear(6, 3)), 0),
    ]
    x = inputs(300)
    for model, symmetries in cases:
        model = model.double()
        assert fisher.predicted_null_dimension(model) == symmetries
        last_width = [m for m in model if isinstance(m, nn.Linear)][-1].in_features
        assert fisher.predicted_null_dimension(model, output="softmax") == symmetries + last_width + 1
        for output in ("logits", "softmax"):  # symmetries plus what the inputs leave unseen (dead units)
            measured = fisher.gap_null_dimension(fisher.fisher_spectrum(model, x, output=output))
            assert measured == fisher.predicted_null_dimension(model, output=output) + \
                fisher.data_null_dimension(model, x, output=output)["total"]
    # an MLP and the same layers as a plain Sequential
    model = mlp((6, 5), "relu")
    plain = nn.Sequential(*list(model))
    assert fisher.predicted_null_dimension(plain, output="softmax") == fisher.predicted_null_dimension(model, output="softmax")


@pytest.mark.parametrize("model, message", [
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Linear(6, 3)), r"model\[1\] is BatchNorm1d"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Dropout(), torch.nn.Linear(6, 3)), r"model\[1\] is Dropout"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(6, 3)), r"model\[2\] is ReLU"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU()), "must end with an nn.Linear"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3)), "mix the identity"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.LeakyReLU(0.0), torch.nn.Linear(6, 3)), "negative_slope"),
    (torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3, bias=False)), "bias"),
])
def test_unsupported_layers_are_a_clear_error(model, message):
    with pytest.raises(ValueError, match=message):
        fisher.predicted_null_dimension(model)


# ------------------------------------------------------------- Fisher, Gauss–Newton, empirical Fisher


def test_fisher_is_the_generalised_gauss_newton_of_cross_entropy():
    model = mlp((5,), "tanh")
    x = inputs(7)
    J = fisher.jacobian(model, x)
    B = fisher._factors(model(x), "softmax")
    A = torch.einsum("nij,njp->nip", B, J).reshape(-1, J.shape[-1])
    F = (A.T @ A).detach().numpy()
    ggn = fisher.generalised_gauss_newton(model, x)
    np.testing.assert_allclose(ggn, F, rtol=0, atol=1e-14 * np.abs(F).max())


def test_empirical_fisher_is_the_sum_of_per_example_score_outer_products():
    model = mlp((4,), "relu")
    x = inputs(20)
    labels = torch.arange(20) % 3
    params = list(model.parameters())
    matrix = 0
    for n in range(20):
        log_p = torch.log_softmax(model(x[n:n + 1]), -1)[0, labels[n]]
        g = torch.cat([t.reshape(-1) for t in torch.autograd.grad(log_p, params)])
        matrix = matrix + torch.outer(g, g)
    expected = np.clip(np.linalg.eigvalsh(matrix.detach().numpy())[::-1], 0, None)
    spectrum = fisher.empirical_fisher_spectrum(model, x, labels)
    np.testing.assert_allclose(spectrum, expected, atol=1e-10)
    assert np.sum(spectrum > 1e-9 * spectrum[0]) <= 20  # rank at most N
    with pytest.raises(ValueError, match="labels must be 20 integers"):
        fisher.empirical_fisher_spectrum(model, x, labels + 3)


def test_empirical_fisher_is_unbiased_for_labels_drawn_from_the_model_and_not_for_observed_ones():
    # null control: y ~ p_n gives E tr F_emp = tr F; positive control: the least likely labels inflate it
    model = mlp((6,), "tanh", seed=2)
    with torch.no_grad():
        model[-1].weight *= 4  # confident predictions
    x = inputs(12)
    p = torch.softmax(model(x), -1).detach()
    trace = fisher.fisher_spectrum(model, x, output="softmax").sum()
    generator = torch.Generator().manual_seed(0)
    traces = np.array([fisher.empirical_fisher_spectrum(model, x, torch.multinomial(p, 1, generator=generator)[:, 0]).sum()
                       for _ in range(400)])
    error = traces.std(ddof=1) / np.sqrt(len(traces))
    assert abs(traces.mean() - trace) < 4 * error
    least_likely = fisher.empirical_fisher_spectrum(model, x, p.argmin(-1)).sum()
    most_likely = fisher.empirical_fisher_spectrum(model, x, p.argmax(-1)).sum()
    assert least_likely > 1.5 * trace and most_likely < trace


# ------------------------------------------------------------------ null subspaces and their angles


def test_principal_angles_known_answers_and_random_subspaces():
    rng = np.random.default_rng(0)
    size = 40
    basis, _ = np.linalg.qr(rng.standard_normal((size, 6)))
    np.testing.assert_allclose(fisher.principal_angles(basis, basis), 0, atol=1e-7)
    np.testing.assert_allclose(fisher.principal_angles(basis[:, :2], basis), 0, atol=1e-7)
    # positive control: rotate each basis vector by θ towards an orthogonal one
    complement, _ = np.linalg.qr(np.concatenate([basis, rng.standard_normal((size, 6))], axis=1))
    theta = 0.3
    rotated = np.cos(theta) * basis + np.sin(theta) * complement[:, 6:]
    np.testing.assert_allclose(fisher.principal_angles(basis, rotated), theta, atol=1e-9)
    np.testing.assert_allclose(fisher.principal_angles(basis, complement[:, 6:]), np.pi / 2, atol=1e-9)
    # null control: independent random subspaces share Σ cos² = d_a d_b / P on average
    overlaps = []
    for _ in range(300):
        a, _ = np.linalg.qr(rng.standard_normal((size, 5)))
        b, _ = np.linalg.qr(rng.standard_normal((size, 8)))
        overlaps.append(np.sum(np.cos(fisher.principal_angles(a, b)) ** 2))
    assert abs(np.mean(overlaps) - 5 * 8 / size) < 4 * np.std(overlaps) / np.sqrt(len(overlaps))
    with pytest.raises(ValueError, match="same P"):
        fisher.principal_angles(basis, basis[:10])


def test_null_space_contains_the_rescaling_directions():
    model = mlp((6,), "relu")
    x = inputs(200)
    basis, spectrum = fisher.null_space(model, x)
    assert basis.shape == (sum(p.numel() for p in model.parameters()), fisher.predicted_null_dimension(model))
    np.testing.assert_allclose(basis.T @ basis, np.eye(basis.shape[1]), atol=1e-10)
    # rescaling unit 0: d/da of (a·w_in, a·b, w_out/a) at a = 1 is (w_in, b, −w_out)
    w_in, b, w_out, _ = [t.detach().numpy() for t in model.parameters()]
    direction = np.concatenate([np.eye(6)[0][:, None] * w_in, np.eye(6)[0] * b,
                                -np.eye(6)[0][None, :] * w_out, np.zeros(3)], axis=None)
    direction = direction / np.linalg.norm(direction)
    assert fisher.principal_angles(direction[:, None], basis)[0] < 1e-6


@pytest.mark.parametrize("output", ["logits", "softmax"])
def test_symmetry_basis_spans_the_predicted_symmetries_and_lies_in_the_null_space(output):
    model = mlp((6, 5), "relu")
    x = inputs(300)
    symmetries = fisher.symmetry_basis(model, output=output)
    assert symmetries.shape[1] == fisher.predicted_null_dimension(model, output=output)
    np.testing.assert_allclose(symmetries.T @ symmetries, np.eye(symmetries.shape[1]), atol=1e-10)
    basis, _ = fisher.null_space(model, x, output=output)
    # every symmetry direction is a null direction: its angle to the measured null space is zero
    assert fisher.principal_angles(symmetries, basis).max() < 1e-6
    # the rescaling generators follow the parameters: moving them turns the symmetry subspace
    with torch.no_grad():
        model[1].weight.mul_(torch.linspace(0.5, 2.0, model[1].weight.numel()).reshape(model[1].weight.shape))
    assert fisher.principal_angles(symmetries, fisher.symmetry_basis(model, output=output)).max() > 1e-2
    assert fisher.symmetry_basis(mlp((6,), "tanh")).shape[1] == 0
    with pytest.raises(NotImplementedError, match="GL"):
        fisher.symmetry_basis(mlp((6,), "linear"))


def test_kfac_is_exact_on_one_linear_layer_under_the_logits_metric_and_the_exact_blocks_separate_its_losses():
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Linear(4, 3)).double()
    x = inputs(50)
    # logits metric, one layer: the output gradients are the unit vectors, so the factors are independent
    np.testing.assert_allclose(fisher.kfac_spectrum(linear, x), fisher.fisher_spectrum(linear, x), atol=1e-9)
    model = mlp((6,), "relu")
    exact = fisher.fisher_spectrum(model, x, output="softmax")
    kfac = fisher.kfac_spectrum(model, x, output="softmax")
    assert len(kfac) == len(exact) == sum(p.numel() for p in model.parameters())
    # the factors are the stated averages: A's corner is the mean of 1·1, G is symmetric positive semi-definite
    (a, g), _ = fisher.kfac_factors(model, x, output="softmax")
    assert a[-1, -1] == pytest.approx(1.0) and np.all(np.linalg.eigvalsh(g) > -1e-12)
    # the exact block-diagonal metric keeps each layer's trace; dropping the blocks between layers loses the
    # rescaling symmetries, which couple two layers (one per hidden unit); factoring each block loses more
    block = fisher.block_diagonal_spectrum(model, x, output="softmax")
    assert block.sum() == pytest.approx(exact.sum(), rel=1e-9) and len(block) == len(exact)
    assert fisher.gap_null_dimension(exact) - fisher.gap_null_dimension(block) == 6
    assert fisher.gap_null_dimension(kfac) <= fisher.gap_null_dimension(block)
    one = torch.nn.Sequential(torch.nn.Linear(4, 3)).double()
    np.testing.assert_allclose(fisher.block_diagonal_spectrum(one, x, output="softmax"),
                               fisher.fisher_spectrum(one, x, output="softmax"), atol=1e-9)


def test_a_unit_that_dies_adds_its_block_and_keeps_the_old_null_space():
    # one hidden layer, logits metric: killing unit 0 leaves the other units' Jacobian unchanged, so the old
    # null space stays inside the new one, which gains d_in + 1 incoming and K outgoing directions, less
    # the unit's rescaling (already null): a rank jump of d_in + K
    model = mlp((8,), "relu")
    x = inputs(300)
    before, _ = fisher.null_space(model, x)
    with torch.no_grad():
        model[1].bias[0] = -100.0
    after, _ = fisher.null_space(model, x)
    assert after.shape[1] - before.shape[1] == 4 + 3
    angles = fisher.principal_angles(before, after)
    assert len(angles) == before.shape[1] and angles.max() < 1e-6


def test_empirical_fisher_gram_path_equals_the_direct_matrix():
    model = mlp((30,))  # P = 243 > N·K = 30: the layer-by-layer Gram path
    x = inputs(10)
    labels = torch.arange(10) % 3
    J = fisher.jacobian(model, x)
    residual = torch.nn.functional.one_hot(labels, 3).double() - torch.softmax(model(x), -1)
    A = torch.einsum("nk,nkp->np", residual, J)
    direct = np.clip(np.linalg.eigvalsh((A.T @ A).detach().numpy())[::-1], 0, None)
    np.testing.assert_allclose(fisher.empirical_fisher_spectrum(model, x, labels), direct, atol=1e-10)


def test_gap_null_dimension_reads_the_null_gap_not_a_wider_internal_gap():
    # an internal gap of 6 decades above a null gap of 4 decades whose kept tail lies near the floor
    spectrum = np.concatenate([np.ones(5), 1e-6 * np.ones(20), 1e-12 * np.ones(3), 1e-16 * np.ones(7)])
    assert fisher.gap_null_dimension(spectrum) == 7
    # the same internal gap with an exact null space far below the floor
    spectrum = np.concatenate([np.ones(5), 1e-6 * np.ones(20), 1e-30 * np.ones(7)])
    assert fisher.gap_null_dimension(spectrum) == 7
    # no null space: a spectrum with only an internal gap above the floor counts it (a gap rule cannot tell)
    assert fisher.gap_null_dimension(np.concatenate([np.ones(5), 1e-6 * np.ones(20)])) == 20
    # a smooth decay through the floor: the values below the floor
    assert fisher.gap_null_dimension(np.logspace(0, -20, 41)) == np.sum(np.logspace(0, -20, 41) < 1e-13)


def test_null_gap_ratio_and_fixed_tolerance_counts():
    spectrum = np.concatenate([np.ones(5), 1e-6 * np.ones(3), 1e-16 * np.ones(7)])
    assert fisher.null_gap_ratio(spectrum, 7) == pytest.approx(1e10)
    assert fisher.null_gap_ratio(spectrum, 0) == np.inf
    np.testing.assert_array_equal(fisher.null_dimension_by_rtol(spectrum, (1e-12, 1e-6, 1e-5)), [7, 10, 10])


def test_spectrum_from_the_svd_does_not_square_the_condition_number():
    # P ≤ N·K: the SVD path; null eigenvalues of an ReLU network sit at ~ε²·λ_max, far below ε·λ_max
    model = mlp((5,), "relu")
    values = fisher.fisher_spectrum(model, inputs(100))
    null = fisher.predicted_null_dimension(model)
    assert fisher.gap_null_dimension(values) == null
    assert fisher.spectrum_floor(model, inputs(100)) == fisher.SVD_FLOOR
    assert fisher.gap_null_dimension(values, floor=fisher.SVD_FLOOR) == null
    assert fisher.spectrum_floor(model, inputs(5)) == 1e-13  # P > N·K: the Gram path
    assert values[-null:].max() < 1e-25 * values[0] and values[-null - 1] > 1e-8 * values[0]
    basis, spectrum = fisher.null_space(model, inputs(100))
    np.testing.assert_allclose(spectrum, values, rtol=1e-8, atol=1e-20 * values[0])
    assert basis.shape == (sum(p.numel() for p in model.parameters()), null)


def test_linear_symmetries_are_n_squared_at_a_bottleneck_and_fewer_at_an_expansion():
    """GL(n) between two layers moves n² directions when n ≤ min(d_in, d_out), and n² − (n − d_in)(n − d_out)
    when n is wider than both; each hidden bias adds one more (it can be pushed into the output bias)."""
    def count(d_in, n, d_out):
        return fisher.predicted_null_dimension(torch.nn.Sequential(torch.nn.Linear(d_in, n), torch.nn.Identity(),
                                                                   torch.nn.Linear(n, d_out)))
    assert count(4, 2, 3) == 2**2 + 2  # a bottleneck
    assert count(4, 8, 3) == 8**2 - (8 - 4) * (8 - 3) + 8  # an expansion: 44 + 8
