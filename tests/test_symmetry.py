"""Hidden-unit permutations leave the function unchanged, and weight matching undoes them exactly."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from uniq_core import barriers, models, symmetry


def network(widths, seed=0):
    torch.manual_seed(seed)
    model = models.MLP(6, widths, 4).double()
    return model, models.flat_parameters(model).detach().numpy().copy()


def outputs(model, theta, x):
    from torch.func import functional_call

    return functional_call(model, models.unflatten(model, torch.as_tensor(theta)), (x,))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=3), st.integers(0, 1000))
def test_permutations_leave_the_outputs_unchanged(widths, seed):
    model, theta = network(tuple(widths), seed)
    permuted = symmetry.permute(model, theta, symmetry.random_permutations(model, seed))
    x = torch.randn(5, 6, dtype=torch.float64)
    torch.testing.assert_close(outputs(model, theta, x), outputs(model, permuted, x))


@pytest.mark.parametrize("widths", [(16,), (8, 12), (5, 6, 7)])
def test_a_randomly_permuted_copy_is_recovered_exactly_with_zero_barrier(widths):
    model, theta = network(widths)
    permuted = symmetry.permute(model, theta, symmetry.random_permutations(model, 3))
    assert np.linalg.norm(permuted - theta) > 0.1
    aligned, _ = symmetry.align(model, theta, permuted)
    np.testing.assert_array_equal(aligned, theta)
    x, y = torch.randn(50, 6, dtype=torch.float64), torch.randint(0, 4, (50,))
    curve = barriers.interpolation_curve(model, theta, aligned, x, y)
    assert curve["loss_barrier"] == pytest.approx(0.0, abs=1e-12) and curve["error_barrier"] == 0.0


def test_bad_input_is_a_clear_error():
    model, theta = network((4,))
    with pytest.raises(ValueError, match="flat vector"):
        symmetry.permute(model, theta[:-1], [np.arange(4)])
    with pytest.raises(ValueError, match="not a permutation"):
        symmetry.permute(model, theta, [np.array([0, 0, 1, 2])])
    with pytest.raises(ValueError, match="one permutation per hidden layer"):
        symmetry.permute(model, theta, [])
    with pytest.raises(TypeError, match="MLP"):
        symmetry.align(torch.nn.Linear(2, 2), np.zeros(6), np.zeros(6))
