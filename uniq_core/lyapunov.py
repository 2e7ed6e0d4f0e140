"""Lyapunov exponents of a discrete-time map by Benettin's algorithm with QR re-orthonormalisation.

For a map :math:`x_{t+1} = f(x_t)` with Jacobian :math:`J_t = Df(x_t)`, the exponents are the growth rates
of the singular values of the product :math:`J_{T-1}\\cdots J_0`. Benettin et al. (1980) evolve k tangent
vectors with the Jacobian and re-orthonormalise them by a QR factorisation every few steps,
:math:`J Q_{t} = Q_{t+1} R_{t+1}`; then

.. math::  \\lambda_i = \\frac{1}{T\\,\\Delta t} \\sum_{\\text{renormalisations}} \\ln |R_{ii}|,

with the diagonal of R made positive (sign fixing), so that the i-th exponent is the growth rate of the
i-dimensional volume spanned by the first i tangents, minus that of the first i−1.
Tangents are pushed forward with :func:`torch.func.jvp` (forward-mode derivatives, no finite differences).

References: G. Benettin, L. Galgani, A. Giorgilli, J.-M. Strelcyn, Meccanica 15, 9-20 (1980);
K. Geist, U. Parlitz, W. Lauterborn, Prog. Theor. Phys. 83, 875 (1990) on QR methods.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.func import jvp, vmap

from uniq_core.schema import check_number

Step = Callable[[torch.Tensor], torch.Tensor]


def _push_forward(step: Step, state: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next state and the images of the tangent columns (n × k) under the Jacobian of ``step`` at ``state``."""

    def image(vector: torch.Tensor) -> torch.Tensor:
        return jvp(step, (state,), (vector,))[1]

    try:
        images = vmap(image, in_dims=1, out_dims=1)(tangents)
    except Exception:  # steps that vmap cannot batch (data-dependent control flow): one column at a time
        images = torch.stack([image(tangents[:, j]) for j in range(tangents.shape[1])], dim=1)
    return step(state), images


def lyapunov_spectrum(
    step: Step,
    x0: torch.Tensor,
    n_steps: int,
    *,
    k: int | None = None,
    transient: int = 0,
    renorm_every: int = 1,
    dt: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """The top-``k`` Lyapunov exponents of ``step`` along the orbit of ``x0``, descending, per unit time.

    Parameters
    ----------
    step : maps a 1-D float64 tensor (the state) to the next state; must be differentiable by
        :func:`torch.func.jvp`.
    x0 : initial state, 1-D.
    n_steps : number of steps over which exponents are averaged (after the transient), ≥ 1.
    k : number of exponents (default: all, the state dimension).
    transient : steps run first and discarded, so the orbit and tangents settle on the attractor.
    renorm_every : QR re-orthonormalisation interval; larger intervals are cheaper but overflow
        when tangents grow by more than ~1e300 in between.
    dt : time per step; exponents are divided by it.
    seed : seed of the random orthonormal initial tangents.

    Returns
    -------
    numpy array of shape (k,), sorted descending.

    Accuracy: for a map with a well-defined spectrum, the finite-time estimate converges as O(1/T) for
    linear maps (only the initial alignment of the tangents is forgotten) and with a standard error
    σ/√T for chaotic maps (σ² the asymptotic variance of the local expansion rate); see the tests for
    tolerances derived this way.

    Raises ``ValueError`` for invalid arguments, and when the orbit or the tangents become non-finite
    (the step returned NaN/inf, or tangents overflowed: lower ``renorm_every``).
    """
    check_number("n_steps", n_steps, low=1, integer=True)
    check_number("transient", transient, low=0, integer=True)
    check_number("renorm_every", renorm_every, low=1, integer=True)
    check_number("dt", dt, low=0.0, low_inclusive=False)
    state = torch.as_tensor(x0, dtype=torch.float64)
    if state.dim() != 1 or state.numel() == 0:
        raise ValueError(f"x0 must be a non-empty 1-D tensor; got shape {tuple(state.shape)}")
    if not torch.isfinite(state).all():
        raise ValueError("x0 has non-finite entries")
    n = state.numel()
    k = n if k is None else k
    check_number("k", k, low=1, high=n, integer=True)

    with torch.no_grad():
        for t in range(transient):
            state = step(state)
            if not torch.isfinite(state).all():
                raise ValueError(f"step returned a non-finite state during the transient (step {t + 1})")

    generator = torch.Generator().manual_seed(seed)
    tangents, _ = torch.linalg.qr(torch.randn(n, k, generator=generator, dtype=torch.float64))
    log_growth = torch.zeros(k, dtype=torch.float64)
    for t in range(1, n_steps + 1):
        state, tangents = _push_forward(step, state, tangents)
        if not (torch.isfinite(state).all() and torch.isfinite(tangents).all()):
            what = "state" if not torch.isfinite(state).all() else "tangent vectors"
            raise ValueError(
                f"non-finite {what} at step {t} of {n_steps}: the step returned NaN/inf"
                + ("" if what == "state" else ", or tangents overflowed (lower renorm_every)")
            )
        if t % renorm_every == 0 or t == n_steps:
            tangents, upper = torch.linalg.qr(tangents)
            signs = torch.sign(torch.diagonal(upper))
            signs[signs == 0] = 1.0
            tangents = tangents * signs  # sign-fixed QR: diag(R) > 0
            log_growth += torch.log(torch.diagonal(upper).abs())
    exponents = (log_growth / (n_steps * dt)).numpy()
    return np.sort(exponents)[::-1].copy()
