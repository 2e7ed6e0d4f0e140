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
    with pytest.raises(TypeError, match="MLP"):
        fisher.predicted_null_dimension(torch.nn.Linear(4, 3))
