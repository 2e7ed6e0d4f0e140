"""Figures of chapter 1: Lyapunov spectra, spread, instability and the regime map."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE


def spread_figure(result: Any) -> plt.Figure:
    """Spread of the replicas about their centroid over epochs, one line per seed (log scale)."""
    figure, axis = plt.subplots(figsize=(7.5, 3.6))
    for seed, spread in enumerate(result.spread):
        label = f"seed {seed}: {result.fitted_exponent[seed]:+.3f}/epoch" if np.isfinite(result.fitted_exponent[seed]) \
            else f"seed {seed}: diverged"
        axis.plot(result.epochs, spread, color=PALETTE(seed / max(len(result.spread) - 1, 1)), lw=1.5, label=label)
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("RMS distance from centroid")
    axis.set_title("spread of perturbed replicas (fitted exponent per seed)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def tangent_figure(result: Any) -> plt.Figure:
    """Left: top tangent exponents per step against the step size, with the top exponent of the window after
    any catapult and its 3-standard-error bar. Middle: the same per unit of learning time (λ/η) beside the
    frozen rates of the sharpest and of the most negative direction at the start (ln|1 − ηλ_max|/η and
    ln(1 + η|λ_min|)/η → |λ_min|, gradient flow's own saddle rate). Right: sharpness vs the edge (2+2β)/η."""
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 3.8))
    ok = ~result.diverged
    for i in range(result.exponents.shape[1]):
        left.plot(result.lrs[ok], result.exponents[ok, i], "o-", color=PALETTE(i / max(result.exponents.shape[1], 1)),
                  label=f"λ{i + 1} (whole run)")
    window = np.isfinite(result.exponents_after[:, 0])
    left.errorbar(result.lrs[window], result.exponents_after[window, 0], yerr=3 * result.error_after[window],
                  fmt="s", color="black", capsize=3, label="top, after any catapult (±3 SE)")
    if (~ok).any():
        left.plot(result.lrs[~ok], result.exponents[~ok, 0], "x", color="#b00020", ms=9, label="loss blew up")
    middle.plot(result.lrs[ok], result.exponents[ok, 0] / result.lrs[ok], "o-", label="λ1 / η (whole run)")
    middle.errorbar(result.lrs[window], result.exponents_after[window, 0] / result.lrs[window],
                    yerr=3 * result.error_after[window] / result.lrs[window], fmt="s", color="black", capsize=3,
                    label="top after catapult / η")
    middle.plot(result.lrs, result.negative_rate_start / result.lrs, "v--", label="ln(1+η|λ_min|)/η at start")
    middle.plot(result.lrs, result.sharpest_rate / result.lrs, "^--", label="ln|1−ηλ_max|/η at start")
    for axis, unit in ((left, "per step"), (middle, "per unit learning time (÷ η)")):
        axis.axhline(0, color="grey", lw=0.8)
        axis.set_xscale("log")
        axis.set_yscale("symlog", linthresh=1e-3)
        axis.set_xlabel("step size η")
        axis.set_ylabel(f"exponent {unit}")
        axis.legend(fontsize=7)
    left.set_title("top Lyapunov exponents of the training map")
    middle.set_title("per unit of learning time")
    right.plot(result.lrs, result.sharpness_start, "o-", label="sharpness at start")
    right.plot(result.lrs[ok], result.sharpness_end[ok], "s-", label="sharpness at end")
    right.plot(result.lrs, result.threshold, "k--", label="edge of stability (2+2β)/η")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("step size η")
    right.set_title("sharpness vs the edge of stability")
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def instability_figure(result: Any) -> plt.Figure:
    """Error barrier between children split at each epoch (mean and each pair)."""
    figure, axis = plt.subplots(figsize=(6, 3.2))
    for column in range(result.barrier.shape[1]):
        axis.plot(result.splits, 100 * result.barrier[:, column], "o", color="#9ab", ms=4)
    axis.plot(result.splits, 100 * result.barrier_mean, "o-", color="#3b6ea8", label="mean over pairs")
    axis.set_xlabel("epoch at which the copies split")
    axis.set_ylabel("test-error barrier (points)")
    axis.set_title("instability to SGD noise")
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def regime_traces(result: Any, column: int, per_learning_time: bool = False) -> list[go.Scatter]:
    """Mean exponent over seeds (95% interval as error bars), each seed's exponent, and the divergence
    fraction against the step size, for one perturbation scale. With ``per_learning_time`` the exponents
    are per unit of learning time ηt (÷ η·steps per epoch), so that step sizes share one clock."""
    scale = 1.0 / (result.lrs * result.steps_per_epoch) if per_learning_time else np.ones_like(result.lrs)
    unit = "unit learning time ηt" if per_learning_time else "epoch"
    mean = result.exponent_mean[:, column] * scale
    low, high = result.exponent_interval[:, column, 0] * scale, result.exponent_interval[:, column, 1] * scale
    traces = [
        go.Scatter(x=result.lrs, y=mean, mode="lines+markers", name=f"fitted exponent / {unit} (mean over seeds)",
                   error_y=dict(type="data", symmetric=False, array=high - mean, arrayminus=mean - low)),
    ]
    for seed in range(result.exponent.shape[0]):
        traces.append(go.Scatter(x=result.lrs, y=result.exponent[seed, :, column] * scale, mode="markers",
                                 marker=dict(color="#9ab", size=5), name="one seed", showlegend=seed == 0))
    traces.append(go.Bar(x=result.lrs, y=result.diverged_fraction[:, column], name="fraction diverged",
                         yaxis="y2", opacity=0.35, marker_color="#b00020"))
    return traces


def _lr_colour(result: Any, index: int) -> Any:
    return PALETTE(index / max(len(result.lrs) - 1, 1))


def tangent_convergence_figure(result: Any, warmup: int = 0) -> plt.Figure:
    """Left: the running estimate λ̂₁(T) of the top exponent against T, one line per step size (a converged
    estimate flattens). Right: the time-resolved top exponent ln R₁₁(t) beside the frozen-Hessian prediction
    max(r(λ_max), r(λ_min)) at the checkpoints of the curvature path (symmetric-log axis)."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.8))
    steps = warmup + np.arange(1, result.running.shape[1] + 1)
    for i, lr in enumerate(result.lrs):
        colour = _lr_colour(result, i)
        tag = f"η = {lr:g}" + (" (blew up)" if result.diverged[i] else "")
        left.plot(steps, result.running[i, :, 0], color=colour, lw=1.5, label=tag)
        right.plot(steps, result.local_rates[i, :, 0], color=colour, lw=0.8, alpha=0.8)
        right.plot(warmup + result.path_steps, result.predicted_rate[i], "o", color=colour, ms=5,
                   markeredgecolor="black", markeredgewidth=0.5)
        if np.isfinite(result.transient_end[i]) and result.transient_end[i] > 0:
            right.axvline(warmup + result.transient_end[i], color=colour, ls=":", lw=1)
    for axis in (left, right):
        axis.axhline(0, color="grey", lw=0.8)
        axis.set_xlabel("training step")
    left.set_yscale("symlog", linthresh=1e-3)
    right.set_yscale("symlog", linthresh=1e-3)
    left.set_ylabel("running estimate λ̂₁(T) per step")
    left.set_title("convergence of the top exponent")
    left.legend(fontsize=7)
    right.set_ylabel("exponent per step")
    right.set_title("time-resolved ln R₁₁ (lines) vs frozen-Hessian rate (dots)")
    figure.tight_layout()
    plt.close(figure)
    return figure


def tangent_initialisations_figure(result: Any, warmup: int = 0) -> plt.Figure:
    """Left: the late top exponent (mean ln R₁₁ over the second half of the window) of every initialisation
    (dots) per step size, with the 95% t-interval over initialisations (bars) that decides its sign.
    Right: the running estimate λ̂₁(T) of every initialisation, one colour per step size (a converged
    estimate flattens and the lines of one colour meet)."""
    from uniq_core.experiments.lyapunov import initialisation_signs

    signs = initialisation_signs(result)
    late = np.atleast_2d(np.asarray(result.init_late, dtype=float))
    running = np.asarray(result.init_running, dtype=float)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.8))
    position = np.arange(len(result.lrs))
    for i, lr in enumerate(result.lrs):
        colour = _lr_colour(result, i)
        finite = np.isfinite(late[:, i])
        jitter = np.linspace(-0.15, 0.15, late.shape[0])
        left.plot(position[i] + jitter[finite], late[finite, i], "o", color=colour, ms=4, alpha=0.8)
        if np.isfinite(signs["low"][i]):
            left.errorbar(position[i] + 0.3, signs["mean"][i], color="black", capsize=4, fmt="s", ms=4,
                          yerr=[[signs["mean"][i] - signs["low"][i]], [signs["high"][i] - signs["mean"][i]]])
        left.annotate(str(signs["sign"][i]), (position[i], 1.02), xycoords=("data", "axes fraction"),
                      ha="center", fontsize=7)
        steps = warmup + np.arange(1, running.shape[-1] + 1)
        for j in range(running.shape[0]):
            right.plot(steps, running[j, i], color=colour, lw=0.9, alpha=0.7,
                       label=f"η = {lr:g}" if j == 0 else None)
    left.axhline(0, color="grey", lw=0.8)
    left.set_xticks(position, [f"{lr:g}" for lr in result.lrs])
    left.set_xlabel("step size η")
    left.set_ylabel("late top exponent per step")
    left.set_yscale("symlog", linthresh=1e-4)
    left.set_title(f"over {late.shape[0]} initialisations (bars: 95% t-interval)", fontsize=9, pad=14)
    right.axhline(0, color="grey", lw=0.8)
    right.set_yscale("symlog", linthresh=1e-4)
    right.set_xlabel("training step")
    right.set_ylabel("running estimate λ̂₁(T) per step")
    right.set_title("every initialisation's running estimate", fontsize=9)
    right.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def curvature_path_figure(result: Any, warmup: int = 0) -> plt.Figure:
    """Left: η λ_max(t) over the edge value 2 + 2β along training (above 1: beyond the edge of stability).
    Right: the most negative curvature −λ_min(t) (log scale), whose rate ln(1 + η|λ_min|) is positive at every
    step size, and |q₁ᵀHq₁| of the first tangent (crosses): a tangent aligned with that direction sits on
    the squares."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.6))
    edge_value = result.lrs * result.threshold  # 2 + 2β
    for i, lr in enumerate(result.lrs):
        colour = _lr_colour(result, i)
        steps = np.concatenate([[0], warmup + result.path_steps])
        top = np.concatenate([[result.sharpness_start[i]], result.path_sharpness[i]])
        low = np.concatenate([[result.smallest_start[i]], result.path_smallest[i]])
        left.plot(steps, lr * top / edge_value[i], "o-", color=colour, label=f"η = {lr:g}")
        right.plot(steps, np.where(low < 0, -low, np.nan), "s-", color=colour, label=f"η = {lr:g}")
        right.plot(warmup + result.path_steps, np.abs(result.path_rayleigh[i]), "x:", color=colour)
    left.axhline(1, color="black", ls="--", lw=1, label="edge of stability")
    left.set_yscale("log")
    left.set_xlabel("training step")
    left.set_ylabel("η λ_max / (2 + 2β)")
    left.set_title("sharpness against the edge")
    left.legend(fontsize=7)
    right.set_yscale("log")
    right.set_xlabel("training step")
    right.set_ylabel("−λ_min (squares); |q₁ᵀHq₁| (crosses)")
    right.set_title("negative curvature vs the first tangent's curvature")
    figure.tight_layout()
    plt.close(figure)
    return figure


def finite_size_figure(result: Any) -> plt.Figure:
    """Left: the whole-run growth rate of each initial size ε (dots: seeds; squares and bars: mean and 95%
    t-interval) against ε, with the tangents' rate (δ → 0) as a band, the weights' own norm growth dashed and
    float32 resolution marked. Right: the share of replicas kicked (a one-step jump of the distance by more
    than ×2, :func:`uniq_core.experiments.lyapunov.kicks`) and of ReLU activations flipped at the end."""
    from uniq_core.experiments.lyapunov import FLOAT32_RESOLUTION, kicks
    from uniq_core.stats import t_interval

    figure, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.8))
    sizes = np.asarray(result.perturbations, dtype=float)
    tangent_mean, tangent_interval = t_interval(result.tangent_rate)
    if np.isfinite(tangent_interval).all():
        left.axhspan(*tangent_interval, color="grey", alpha=0.25, lw=0, label="tangents (δ → 0), 95% interval")
    left.axhline(tangent_mean, color="grey", lw=1)
    left.axhline(float(np.nanmean(result.norm_rate)), color="black", ls="--", lw=0.8, label="weights' norm growth")
    for j, size in enumerate(sizes):
        colour = PALETTE(j / max(len(sizes) - 1, 1))
        values = np.asarray(result.rate[:, j], dtype=float)
        left.plot(np.full(values.shape, size), values, ".", color=colour, ms=5)
        mean, interval = t_interval(values)
        if np.isfinite(interval).all():
            left.errorbar(size * 1.4, mean, yerr=[[mean - interval[0]], [interval[1] - mean]], fmt="s", ms=4,
                          color="black", capsize=3)
    left.axvline(FLOAT32_RESOLUTION, color="black", ls=":", lw=0.8, label="float32 resolution")
    left.set_xscale("log")
    left.set_xlabel("relative size ε of the difference at the start")
    left.set_ylabel("whole-run growth rate per epoch")
    left.set_title("growth rate against the size of the difference", fontsize=9)
    left.legend(fontsize=7, loc="upper left")
    kicked = kicks(result)
    right.plot(sizes, 100 * kicked["fraction"], "o-", color="black", ms=4, label="replicas kicked")
    right.plot(sizes, 100 * np.nanmean(np.asarray(result.flips, dtype=float), axis=0), "s:", color="grey", ms=4,
               label="activations flipped at the end")
    right.set_xscale("log")
    right.set_yscale("symlog", linthresh=1e-3)
    right.set_ylim(bottom=0)
    right.set_xlabel("relative size ε at the start")
    right.set_ylabel("%")
    right.set_title("kicks at ReLU kinks", fontsize=9)
    right.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def architecture_figure(result: Any) -> plt.Figure:
    """Per architecture: the infinitesimal growth rate relative to the weights (dots: seeds; squares and bars:
    mean and 95% t-interval over seeds) and the finite perturbation's (open circles: seeds)."""
    from uniq_core.stats import t_interval

    figure, axis = plt.subplots(figsize=(8.5, 3.6))
    names = [str(name) for name in result.names]
    for a, name in enumerate(names):
        colour = PALETTE(a / max(len(names) - 1, 1))
        tangent = np.asarray(result.tangent[a], dtype=float)
        jitter = np.linspace(-0.12, 0.12, tangent.size)
        axis.plot(a + jitter, tangent, ".", color=colour, ms=6, label="tangents (δ → 0)" if a == 0 else None)
        axis.plot(a + 0.3 + jitter, np.asarray(result.finite[a], dtype=float), "o", mfc="white", color=colour, ms=4,
                  label="finite perturbation" if a == 0 else None)
        mean, interval = t_interval(tangent)
        if np.isfinite(interval).all():
            axis.errorbar(a - 0.25, mean, yerr=[[mean - interval[0]], [interval[1] - mean]], fmt="s", ms=4,
                          color="black", capsize=3)
    axis.axhline(0, color="grey", lw=0.8)
    axis.set_xticks(range(len(names)), [f"{name}\n{int(p)} params" for name, p in zip(names, result.n_parameters)],
                    fontsize=8)
    axis.set_ylabel("growth rate relative to the weights, per epoch")
    axis.set_title("which architectures amplify a difference fastest? (SGD, same batches per seed)", fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure
