import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from uniq_core import models


def test_mlp_shapes_and_parameter_count():
    mlp = models.MLP(64, (32, 16), 10, "tanh")
    assert mlp(torch.randn(5, 64)).shape == (5, 10)
    assert models.count_parameters(mlp) == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


@pytest.mark.parametrize("norm", models.NORMS)
def test_cnn_runs_with_every_norm(norm):
    cnn = models.SimpleCNN(norm=norm, channels=(8, 8))
    assert cnn(torch.randn(4, 1, 8, 8)).shape == (4, 10)


@pytest.mark.parametrize(
    "build, field",
    [
        (lambda: models.MLP(64, (32,), 10, "sigmoid"), "activation"),
        (lambda: models.MLP(64, (0,), 10), "widths"),
        (lambda: models.SimpleCNN(norm="layer"), "norm"),
    ],
)
def test_bad_arguments_name_the_field(build, field):
    with pytest.raises(ValueError, match=field):
        build()


@settings(max_examples=20, deadline=None)
@given(scales=st.lists(st.floats(0.1, 10.0), min_size=16, max_size=16))
def test_relu_positive_rescaling_leaves_outputs_unchanged(scales):
    """Scaling a hidden unit's incoming weights by c > 0 and outgoing by 1/c is an exact symmetry."""
    torch.manual_seed(1)
    mlp = models.MLP(8, (16,), 3).double()
    x = torch.randn(20, 8, dtype=torch.float64)
    before = mlp(x)
    c = torch.tensor(scales, dtype=torch.float64)
    with torch.no_grad():
        mlp[1].weight.mul_(c[:, None])
        mlp[1].bias.mul_(c)
        mlp[3].weight.div_(c[None, :])
    torch.testing.assert_close(mlp(x), before, rtol=1e-10, atol=1e-10)


def test_frozen_batchnorm_is_independent_of_batch_composition():
    torch.manual_seed(0)
    x = torch.randn(32, 1, 8, 8)
    for norm, independent in (("frozen_batch", True), ("group", True), ("batch", False)):
        cnn = models.SimpleCNN(norm=norm, channels=(8, 8)).train()
        if norm == "frozen_batch":
            models.calibrate_batchnorm(cnn, x)
        together = cnn(x)[:4]
        alone = cnn(x[:4])
        assert torch.allclose(together, alone, atol=1e-5) == independent, norm


def test_calibration_sets_exact_statistics():
    torch.manual_seed(0)
    cnn = models.SimpleCNN(norm="frozen_batch", channels=(4, 4))
    x = torch.randn(64, 1, 8, 8)
    models.calibrate_batchnorm(cnn, x)
    first_conv, first_norm = cnn.features[0], cnn.features[1]
    activations = first_conv(x)
    torch.testing.assert_close(first_norm.running_mean, activations.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(first_norm.running_var, activations.var(dim=(0, 2, 3), unbiased=False))
    # after calibration the first normalised layer has zero mean, unit variance per channel on x
    normalised = first_norm(activations)
    assert normalised.mean(dim=(0, 2, 3)).abs().max() < 1e-5


def test_flat_parameters_and_unflatten_round_trip():
    torch.manual_seed(0)
    mlp = models.MLP(5, (4,), 3)
    vector = models.flat_parameters(mlp)
    assert vector.shape == (models.count_parameters(mlp),)
    tensors = models.unflatten(mlp, vector)
    for name, parameter in mlp.named_parameters():
        assert torch.equal(tensors[name], parameter.detach())
    batch = models.unflatten(mlp, torch.stack([vector, 2 * vector]))  # a batch of vectors
    assert torch.equal(batch["1.weight"][1], 2 * mlp[1].weight.detach())
    with pytest.raises(ValueError, match="the model has 39 parameters"):
        models.unflatten(mlp, torch.zeros(3))
