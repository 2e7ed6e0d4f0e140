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


@pytest.mark.parametrize("channels, requested, expected", [(16, 32, 16), (64, 32, 32), (24, 32, 24), (48, 32, 24),
                                                            (7, 32, 7), (37, 32, 1), (12, 8, 6), (8, 4, 4)])
def test_group_count_is_the_widest_divisor(channels, requested, expected):
    assert models.group_count(channels, requested) == expected
    cnn = models.SimpleCNN(norm="group", channels=(channels,), groups=requested)
    assert cnn.features[1].num_groups == expected


def test_resnet_shapes_norms_and_skip_connections():
    torch.manual_seed(0)
    for norm in models.NORMS:
        net = models.SmallResNet(width=8, blocks=2, norm=norm)
        assert net(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    net = models.SmallResNet(width=4, blocks=2, norm="none")
    with torch.no_grad():  # zero residual branches: each block is relu(x), the net is a one-conv CNN
        for block in net.blocks:
            block.body[3].weight.zero_()
            block.body[3].bias.zero_()
    x = torch.randn(3, 1, 8, 8)
    expected = net.head(net.stem(x).mean(dim=(2, 3)))
    torch.testing.assert_close(net(x), expected)
    with pytest.raises(ValueError, match="blocks"):
        models.SmallResNet(blocks=0)


def test_freezing_batchnorm_keeps_statistics_and_makes_examples_independent():
    torch.manual_seed(0)
    net = models.SmallResNet(width=4, norm="batch").double().train()
    x = torch.randn(32, 1, 8, 8, dtype=torch.float64)
    for _ in range(3):
        net(x)  # accumulate running statistics
    names_before = [name for name, _ in net.named_parameters()]
    statistics = {name: b.clone() for name, b in net.named_buffers()}
    models.freeze_batchnorm(net)
    assert [name for name, _ in net.named_parameters()] == names_before
    assert not any(type(m) is torch.nn.BatchNorm2d for m in net.modules())
    for name, b in net.named_buffers():
        torch.testing.assert_close(b, statistics[name])
    torch.testing.assert_close(net(x)[:4], net(x[:4]))  # each example normalised by the frozen statistics
    net.eval()
    reference = net(x)
    net.train()
    torch.testing.assert_close(net(x), reference)  # frozen: train and eval mode agree
