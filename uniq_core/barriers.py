"""Loss and error along the straight line between two parameter vectors of one architecture.

The barrier (Frankle et al. 2020) is the largest excess of the interpolated error over the linear
interpolation of the endpoint errors:  max_α [E((1−α)θ_a + αθ_b) − ((1−α)E(θ_a) + αE(θ_b))].
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from uniq_core.models import unflatten
from uniq_core.schema import check_number


def interpolation_curve(
    model: nn.Module,
    theta_a: np.ndarray | torch.Tensor,
    theta_b: np.ndarray | torch.Tensor,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    n_points: int = 11,
) -> dict[str, np.ndarray | float]:
    """Error and cross-entropy at ``n_points`` evenly spaced points from θ_a (α = 0) to θ_b (α = 1).

    Returns ``alpha``, ``error``, ``loss`` arrays and the ``error_barrier`` and ``loss_barrier`` (≥ 0 up to
    rounding when the path is flat or convex). The model is evaluated in eval mode with its buffers.
    """
    check_number("n_points", n_points, low=2, high=1001, integer=True)
    dtype = next(model.parameters()).dtype
    a = torch.as_tensor(theta_a, dtype=dtype)
    b = torch.as_tensor(theta_b, dtype=dtype)
    alpha = torch.linspace(0.0, 1.0, n_points, dtype=dtype)
    path = (1 - alpha)[:, None] * a + alpha[:, None] * b
    buffers = dict(model.named_buffers())
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = vmap(lambda p: functional_call(model, (p, buffers), (inputs.to(dtype),)))(unflatten(model, path))
    model.train(was_training)
    error = (outputs.argmax(-1) != targets).double().mean(-1).numpy()
    loss = torch.nn.functional.cross_entropy(
        outputs.transpose(1, 2), targets.expand(n_points, -1), reduction="none"
    ).mean(-1).double().numpy()
    a_values = alpha.double().numpy()

    def barrier(values: np.ndarray) -> float:
        return float(np.max(values - ((1 - a_values) * values[0] + a_values * values[-1])))

    return {"alpha": a_values, "error": error, "loss": loss,
            "error_barrier": barrier(error), "loss_barrier": barrier(loss)}
