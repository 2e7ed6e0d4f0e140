"""Small models: an MLP of chosen widths/activation and a CNN with a chosen normalisation."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from uniq_core.schema import check_choice, check_number, check_widths

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "linear": nn.Identity}
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


def _norm_layer(norm: str, channels: int, groups: int, bn_momentum: float) -> nn.Module:
    if norm == "batch":
        return nn.BatchNorm2d(channels, momentum=bn_momentum)
    if norm == "frozen_batch":
        return FrozenBatchNorm2d(channels)
    if norm == "group":
        return nn.GroupNorm(min(groups, channels), channels)
    return nn.Identity()


class SimpleCNN(nn.Module):
    """Two 3×3 convolutions (each followed by a normalisation and ReLU), global average pooling, a linear head.

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
    ):
        super().__init__()
        check_number("in_channels", in_channels, low=1, integer=True)
        check_number("n_classes", n_classes, low=1, integer=True)
        check_widths("channels", tuple(channels), high=1024)
        check_choice("norm", norm, NORMS)
        check_number("groups", groups, low=1, integer=True)
        check_number("bn_momentum", bn_momentum, low=0.0, high=1.0)
        blocks: list[nn.Module] = []
        previous = in_channels
        for width in channels:
            blocks += [
                nn.Conv2d(previous, width, 3, padding=1, bias=norm == "none"),
                _norm_layer(norm, width, groups, bn_momentum),
                nn.ReLU(),
            ]
            previous = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(previous, n_classes)
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


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
