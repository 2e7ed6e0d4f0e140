"""Small models: an MLP of chosen widths/activation, a CNN and a small residual network with a chosen
normalisation."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from uniq_core.schema import check_choice, check_number, check_widths

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "softplus": nn.Softplus, "linear": nn.Identity}
NORMS = ("none", "batch", "group", "frozen_batch")


class MLP(nn.Sequential):
    """Fully connected network ``in -> widths... -> out`` with one activation after each hidden layer.

    Layers use PyTorch's default (Kaiming-uniform) initialisation.
    """

    def __init__(self, in_features: int, widths: tuple[int, ...], out_features: int, activation: str = "relu"):
        check_number("in_features", in_features, low=1, integer=True)
        check_number("out_features", out_features, low=1, integer=True)
        check_widths("widths", tuple(widths))
        check_choice("activation", activation, ACTIVATIONS)
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = (in_features, *widths)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), ACTIVATIONS[activation]()]
        layers.append(nn.Linear(sizes[-1], out_features))
        super().__init__(*layers)
        self.widths = tuple(widths)
        self.activation = activation


class FrozenBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm that always normalises with its running statistics (train mode or not).

    Used for "calibrate, then freeze": :func:`calibrate_batchnorm` sets the statistics from data once;
    afterwards the loss of an example no longer depends on the rest of its batch.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps)


def group_count(channels: int, groups: int = 32) -> int:
    """The widest grouping GroupNorm allows: the largest divisor of ``channels`` that is at most ``groups``.

    GroupNorm (Wu & He 2018) needs the group count to divide the channel count; its default of 32 groups
    becomes 16 for 16 channels, 8 for 24 channels and 1 (LayerNorm over channels) for a prime count below 32.
    """
    check_number("channels", channels, low=1, integer=True)
    check_number("groups", groups, low=1, integer=True)
    return max(d for d in range(1, min(groups, channels) + 1) if channels % d == 0)


def _norm_layer(norm: str, channels: int, groups: int, bn_momentum: float) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels, momentum=bn_momentum)
    if norm == "frozen_batch":
        return FrozenBatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(group_count(channels, groups), channels)
    return nn.Identity()


class SimpleCNN(nn.Module):
    """Two 3×3 convolutions (each followed by a normalisation and ``activation``, ReLU by default), global
    average pooling, a linear head.

    ``norm`` is one of ``none``, ``batch`` (train-mode BatchNorm), ``group`` (GroupNorm) or
    ``frozen_batch`` (BatchNorm with frozen running statistics; see :func:`calibrate_batchnorm`).
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        channels: tuple[int, ...] = (16, 32),
        norm: str = "none",
        groups: int = 4,
        bn_momentum: float = 0.1,
        activation: str = "relu",
    ):
        super().__init__()
        check_number("in_channels", in_channels, low=1, integer=True)
        check_number("n_classes", n_classes, low=1, integer=True)
        check_widths("channels", tuple(channels), high=1024)
        check_choice("norm", norm, NORMS)
        check_number("groups", groups, low=1, integer=True)
        check_number("bn_momentum", bn_momentum, low=0.0, high=1.0)
        check_choice("activation", activation, ACTIVATIONS)
        blocks: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            blocks += [
                nn.Conv2d(previous, width, 3, padding=1, bias=norm == "none"),
                _norm_layer(norm, width, groups, bn_momentum),
                ACTIVATIONS[activation](),
            ]
            previous = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(previous, n_classes)
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


class ResidualBlock(nn.Module):
    """``relu(x + norm(conv(relu(norm(conv(x))))))`` with 3×3 convolutions of constant width."""

    def __init__(self, width: int, norm: str, groups: int, bn_momentum: float):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=norm == "none"),
            _norm_layer(norm, width, groups, bn_momentum),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=norm == "none"),
            _norm_layer(norm, width, groups, bn_momentum),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class SmallResNet(nn.Module):
    """A stem convolution (normalisation, ReLU), ``blocks`` residual blocks of ``width`` channels (He et al.
    2016), global average pooling and a linear head; ``norm`` as for :class:`SimpleCNN`.

    With two blocks on the 8×8 digits this is a five-convolution network with skip connections: the
    smallest BatchNorm ResNet that is deeper than :class:`SimpleCNN`.
    """

    def __init__(
        self,
        in_channels: int = 1,
        n_classes: int = 10,
        width: int = 8,
        blocks: int = 2,
        norm: str = "batch",
        groups: int = 32,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        check_number("in_channels", in_channels, low=1, integer=True)
        check_number("n_classes", n_classes, low=1, integer=True)
        check_number("width", width, low=1, high=1024, integer=True)
        check_number("blocks", blocks, low=1, high=64, integer=True)
        check_choice("norm", norm, NORMS)
        check_number("groups", groups, low=1, integer=True)
        check_number("bn_momentum", bn_momentum, low=0.0, high=1.0)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=norm == "none"),
            _norm_layer(norm, width, groups, bn_momentum),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(*[ResidualBlock(width, norm, groups, bn_momentum) for _ in range(blocks)])
        self.head = nn.Linear(width, n_classes)
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def freeze_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` of ``model`` (in place) by a :class:`FrozenBatchNorm2d` with the same
    affine parameters and running statistics; returns ``model``.

    "Train with BatchNorm for N epochs, then freeze": from then on each example is normalised with the
    statistics accumulated so far, and the loss of a batch is the mean of per-example losses.
    Parameter order (``named_parameters``) is unchanged.
    """
    for name, child in list(model.named_children()):
        if isinstance(child, nn.BatchNorm2d) and not isinstance(child, FrozenBatchNorm2d):
            frozen = FrozenBatchNorm2d(child.num_features, eps=child.eps).to(child.weight.device, child.weight.dtype)
            frozen.load_state_dict(child.state_dict())
            frozen.train(child.training)
            setattr(model, name, frozen)
        else:
            freeze_batchnorm(child)
    return model


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, inputs: torch.Tensor) -> nn.Module:
    """Set every BatchNorm's running mean/variance to the exact statistics of ``inputs``; returns ``model``.

    Each layer is calibrated on activations produced by the already-calibrated layers before it.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    was_training = model.training
    model.eval()
    for norm in norms:
        captured: list[torch.Tensor] = []
        handle = norm.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
        model(inputs)
        handle.remove()
        activations = captured[0]
        dims = [0, *range(2, activations.dim())]
        norm.running_mean.copy_(activations.mean(dim=dims))
        norm.running_var.copy_(activations.var(dim=dims, unbiased=False))
    model.train(was_training)
    return model


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All trainable parameters of ``model`` concatenated into one vector (in ``named_parameters`` order)."""
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def unflatten(model: nn.Module, vector: torch.Tensor) -> dict[str, torch.Tensor]:
    """Split a flat vector (or a batch of them, last dimension) into ``model``'s named parameter shapes,
    for ``torch.func.functional_call``."""
    named = list(model.named_parameters())
    expected = sum(p.numel() for _, p in named)
    if vector.shape[-1] != expected:
        raise ValueError(f"vector has {vector.shape[-1]} entries; the model has {expected} parameters")
    pieces = torch.split(vector, [p.numel() for _, p in named], dim=-1)
    return {name: piece.reshape(*vector.shape[:-1], *p.shape) for (name, p), piece in zip(named, pieces)}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
