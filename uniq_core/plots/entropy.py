"""Figures of chapter 2: entropy production, stationary chains, currents and sweeps."""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE, _css


def validation_figure(result: Any) -> plt.Figure:
    """Rotational OU process: exact rate, AR(1) pair rate and path estimate against the sampling interval."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.axhline(result.exact, color="k", ls="--", lw=1, label="exact 2ω²/a")
    left.plot(result.dts, result.pair, "s-", color=PALETTE(0.3), label="exact pair rate of the sampled chain")
    left.plot(result.dts, result.euler, "v:", color=PALETTE(0.55), label="exact rate of the Euler chain")
    left.plot(result.dts, result.path_expected, "x--", color=PALETTE(0.9), label="exact limit of the path estimate")
    left.errorbar(result.dts, result.path, yerr=2 * result.path_error, fmt="o", color=PALETTE(0.75), capsize=3,
                  label="path estimate ± 2 s.e.")
    left.set_xscale("log")
    left.set_xlabel("sampling interval dt")
    left.set_ylabel("entropy production per unit time")
    left.set_title("entropy production")
    left.legend(fontsize=8)
    right.axhline(result.circulation_exact, color="k", ls="--", lw=1, label="exact ½[(AΣ)₁₂ − (AΣ)₂₁]")
    right.errorbar(result.dts, result.circulation, yerr=2 * result.circulation_error, fmt="o", color=PALETTE(0.75),
                   capsize=3, label="estimate ± 2 s.e.")
    right.set_xscale("log")
    right.set_xlabel("sampling interval dt")
    right.set_ylabel("signed area per unit time")
    right.set_title("circulation ½⟨x ∧ ẋ⟩")
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def dimension_figure(result: Any) -> plt.Figure:
    """Exact linearised SGD entropy production in the top-d stable Hessian directions, one line per seed."""
    figure, axis = plt.subplots(figsize=(6.5, 3.4))
    for seed, rates in enumerate(result.rate_by_dimension):
        axis.plot(result.dimensions, rates, "o-", color=PALETTE(seed / max(len(result.rate_by_dimension) - 1, 1)),
                  label=f"seed {seed}")
    axis.set_xscale("log", base=2)
    axis.set_yscale("log")
    axis.set_xlabel("number d of top stable Hessian directions observed")
    axis.set_ylabel("nats per step")
    axis.set_title("linearised SGD: entropy production seen in d directions")
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def stationary_figure(result: Any) -> plt.Figure:
    """Per seed: exact linearised rates, the cross-chain estimate ± 2 jackknife s.e. and the plug-in KL of the
    simulated chains, SGD beside Langevin."""
    figure, axis = plt.subplots(figsize=(8, 3.6))
    seeds = np.arange(len(result.sgd_exact))
    for offset, (name, colour, exact, path, error, kl) in enumerate([
        ("SGD", "#c0392b", result.sgd_exact, result.sgd_estimate, result.sgd_estimate_error, result.sgd_plugin),
        ("Langevin", "#2e6da4", result.langevin_exact, result.langevin_estimate, result.langevin_estimate_error,
         result.langevin_plugin),
    ]):
        x = seeds + (offset - 0.5) * 0.3
        axis.plot(x - 0.06, exact, "D", color=colour, mfc="white", label=f"{name}: exact, linearised")
        axis.errorbar(x, path, yerr=2 * error, fmt="o", color=colour, capsize=3, label=f"{name}: cross-chain estimate ± 2 s.e.")
        axis.plot(x + 0.06, kl, "^", color=colour, alpha=0.6, label=f"{name}: plug-in KL (biased)")
    axis.axhline(0, color="grey", lw=0.8)
    axis.set_xticks(seeds, [f"seed {s}" for s in seeds])
    axis.set_ylabel("nats per step")
    axis.set_title("entropy production at a minimum, top stable Hessian directions")
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    plt.close(figure)
    return figure


def current_figure(result: Any, *, bins: int = 8, min_count: int = 150) -> plt.Figure:
    """Mean local velocity in the top PCA plane of the samples: SGD beside the Langevin control."""
    from uniq_core import thermo

    figure, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
    for axis, plane, name, circulation, error in [
        (axes[0], result.sgd_plane, "SGD", result.sgd_circulation[0], result.sgd_circulation_error[0]),
        (axes[1], result.langevin_plane, "Langevin", result.langevin_circulation[0],
         result.langevin_circulation_error[0]),
    ]:
        plane = plane[np.isfinite(plane).all(axis=(1, 2))]
        if len(plane) == 0:
            axis.set_title(f"{name}: every chain diverged", fontsize=10)
            continue
        field = thermo.velocity_field(plane, 1.0, bins=bins, min_count=min_count)
        gx, gy = np.meshgrid(field["x"], field["y"], indexing="ij")
        axis.hist2d(plane[..., 0].ravel(), plane[..., 1].ravel(), bins=40, cmap="Greys")
        axis.quiver(gx, gy, field["u"], field["v"], color="#c0392b" if name == "SGD" else "#2e6da4",
                    angles="xy", scale_units="xy", scale=None)
        axis.set_title(f"{name}: circulation {circulation:+.2e} ± {error:.1e} per step", fontsize=10)
        axis.set_xlabel("principal component 1")
    axes[0].set_ylabel("principal component 2")
    figure.tight_layout()
    plt.close(figure)
    return figure


def training_entropy_figure(result: Any) -> plt.Figure:
    """Local linearised entropy production along training (mean and interval over seeds) and sharpness."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    steps = np.maximum(result.steps, 1)
    for seed, rates in enumerate(result.sgd_rate):
        left.plot(steps, rates, color="#e8a39b", lw=1)
    left.plot(steps, result.sgd_rate_mean, "o-", color="#c0392b", label="SGD, geometric mean over seeds")
    left.fill_between(steps, result.sgd_rate_interval[0], result.sgd_rate_interval[1],
                      color="#c0392b", alpha=0.15, label="95% interval")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("training step (0 drawn at 1)")
    left.set_ylabel("nats per step")
    left.set_title("local linearised entropy production")
    left.legend(fontsize=8)
    for seed, (sharpness, accuracy) in enumerate(zip(result.sharpness, result.accuracy)):
        colour = PALETTE(seed / max(len(result.sharpness) - 1, 1))
        right.plot(steps, sharpness, "o-", color=colour, label=f"seed {seed}: sharpness")
        right.plot(steps, accuracy, "s:", color=colour, alpha=0.6, label=f"seed {seed}: train accuracy")
    right.set_xscale("log")
    right.set_xlabel("training step (0 drawn at 1)")
    right.set_title("sharpness and accuracy")
    right.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    plt.close(figure)
    return figure


def learning_entropy_figure(result: Any) -> plt.Figure:
    """Entropy production of learning itself in the linearised chains: per step, SGD's total, excess and
    housekeeping parts and the reversible Langevin control (median over seeds, each seed faint); and the
    linear chain's mean path against the real SGD run, projected on the same directions."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = np.arange(1, result.sgd_total_rate.shape[1] + 1)
    series = (("SGD total", result.sgd_total_rate, "#c0392b", "-"),
              ("SGD excess (relaxation)", result.sgd_excess_rate, "#e67e22", "--"),
              ("SGD housekeeping", result.sgd_housekeeping_rate, "#8e44ad", "-"),
              ("Langevin total (all excess)", result.langevin_total_rate, "#2471a3", ":"))
    for label, rates, colour, style in series:
        positive = np.where(rates > 0, rates, np.nan)  # the relaxation ends at rounding: nothing left to draw
        for row in positive:
            left.plot(steps, row, color=colour, lw=0.5, alpha=0.25)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns once every seed has relaxed
            left.plot(steps, np.nanmedian(positive, axis=0), style, color=colour, lw=2, label=label)
    column = list(result.subspaces).index(int(result.subspace))
    left.axhline(float(np.median(np.asarray(result.sgd_stationary_rate)[:, column])), color="grey", lw=1, ls="--",
                 label="SGD housekeeping at stationarity (median)")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("step of the linearised chain")
    left.set_ylabel("nats per step")
    left.set_title("learning from initialisation, linearised chain")
    left.legend(fontsize=7)
    checkpoints = np.maximum(result.checkpoints, 1)
    for seed, (model, real) in enumerate(zip(result.model_distance, result.real_distance)):
        colour = PALETTE(seed / max(len(result.model_distance) - 1, 1))
        right.plot(checkpoints, real, "o-", color=colour, lw=1, label="real SGD run" if seed == 0 else None)
        right.plot(checkpoints, np.maximum(model, 1e-6), ":", color=colour, lw=1,
                   label="linear chain's mean (floored at 1e-6)" if seed == 0 else None)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("training step (0 drawn at 1)")
    right.set_ylabel("distance to the minimum, top stable directions")
    right.set_title("does the linear chain follow the run?")
    right.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def entropy_sweep_traces(result: Any, temperature_index: int) -> list[go.Scatter]:
    """Exact linearised SGD entropy production against the step size, one line per batch size."""
    return [
        go.Scatter(x=result.lrs, y=result.sgd_rate[temperature_index, j], mode="lines+markers",
                   name=f"batch {int(batch)}", line=dict(color=_css(PALETTE(j / max(len(result.batch_sizes) - 1, 1)))))
        for j, batch in enumerate(result.batch_sizes)
    ]
