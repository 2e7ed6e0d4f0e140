"""Figures of chapter 4: quasi-symplectic probes, energy against dt, damping, BatchNorm momentum, mass."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE


def _per_norm(axis: plt.Axes, norms: np.ndarray, values: np.ndarray, title: str) -> None:
    for i, row in enumerate(values):
        axis.scatter(np.full(len(row), i) + np.linspace(-0.1, 0.1, len(row)), row, color=PALETTE(i / 4), s=22)
    axis.set_xticks(np.arange(len(norms)), [str(n) for n in norms], fontsize=8, rotation=20)
    axis.set_yscale("log")
    axis.set_title(title, fontsize=10)


def probes_figure(result: Any, *, threshold: float | None = None) -> plt.Figure:
    """Exact and ΔNEGdt round trips, energy drift, dt_zero per normalisation (one point per seed), and the
    cumulative integration error of H and of the shadow Hamiltonian (first seed)."""
    figure, axes = plt.subplots(1, 5, figsize=(18, 3.6))
    _per_norm(axes[0], result.norms, result.round_trip, "exact round trip")
    _per_norm(axes[1], result.norms, result.negative_dt, "ΔNEGdt round trip")
    _per_norm(axes[2], result.norms, result.energy_drift, "energy drift (integration error)")
    _per_norm(axes[3], result.norms, result.dt_zero, "dt_zero (energy drift, fixed T·dt)")
    if threshold is not None:
        axes[2].axhline(threshold, color="k", ls="--", lw=0.8, label="threshold")
        axes[2].legend(fontsize=8)
    for i, (energy, shadow) in enumerate(zip(result.energy, result.shadow)):
        axes[4].plot(energy, color=PALETTE(i / 4), label=f"H, {result.norms[i]}")
        axes[4].plot(shadow, color=PALETTE(i / 4), ls=":")
    axes[4].set_xlabel("step")
    axes[4].set_title("integration error / H_0 (dotted: shadow H̃)", fontsize=10)
    axes[4].legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def energy_figure(sweep: Any, oscillator: dict[str, np.ndarray]) -> plt.Figure:
    """Left: H and the shadow H̃ of symplectic Euler on a harmonic oscillator. Middle and right: energy
    drift, shadow drift and the two round trips against dt at a fixed physical horizon, per normalisation."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    axes[0].plot(oscillator["energy"], label="H − H_0")
    axes[0].plot(oscillator["shadow"], label="H̃ − H̃_0")
    axes[0].set_xlabel("step")
    axes[0].set_title("harmonic oscillator", fontsize=10)
    axes[0].legend(fontsize=8)
    for i, norm in enumerate(sweep.norms):
        colour = PALETTE(i / 4)
        axes[1].plot(sweep.dts, sweep.energy_drift[i], "o-", color=colour, label=f"H, {norm}")
        axes[1].plot(sweep.dts, sweep.shadow_drift[i], "s:", color=colour)
        axes[2].plot(sweep.dts, sweep.negative_dt[i], "o-", color=colour, label=f"ΔNEGdt, {norm}")
        axes[2].plot(sweep.dts, sweep.round_trip[i], "s:", color=colour)
    axes[1].set_title(f"energy drift at T·dt = {sweep.horizon:g} (dotted: shadow)", fontsize=10)
    axes[2].set_title("round trip (dotted: exact reversal)", fontsize=10)
    for axis in axes[1:]:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("dt")
        axis.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def damping_figure(result: Any) -> plt.Figure:
    """Exact-reversal error against the run length for each β, with the bound ε·β^−T (ε: float64 rounding)."""
    figure, axis = plt.subplots(figsize=(6, 3.6))
    epsilon = np.finfo(np.float64).eps
    for i, beta in enumerate(result.betas):
        colour = PALETTE(i / max(len(result.betas) - 1, 1))
        axis.plot(result.lengths, result.round_trip[i], "o-", color=colour, label=f"β = {beta:g}")
        axis.plot(result.lengths, epsilon * beta ** (-result.lengths.astype(float)), ":", color=colour)
    axis.set_yscale("log")
    axis.set_xlabel("steps T")
    axis.set_ylabel("exact round-trip error")
    axis.set_title("dotted: ε·β^−T", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def dose_figure(result: Any) -> plt.Figure:
    """Energy drift (both definitions) and round trip of train-mode BatchNorm against its running-statistics
    momentum (0 drawn at the left edge)."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    x = np.arange(len(result.bn_momenta))
    for axis, series, title in [
        (left, [(result.energy_drift, "force's potential", "#3b6ea8"),
                (result.eval_energy_drift, "eval mode, running statistics", "#c0504d")], "energy drift"),
        (right, [(result.round_trip, "exact reversal", "#3b6ea8")], "round-trip error"),
    ]:
        for values, label, colour in series:
            for column in values.T:
                axis.plot(x, column, "o", color=colour, alpha=0.4, ms=4)
            axis.plot(x, np.nanmean(values, axis=1), "o-", color=colour, label=f"{label} (mean over seeds)")
        axis.set_xticks(x, [f"{m:g}" for m in result.bn_momenta])
        axis.set_xlabel("BatchNorm running-statistics momentum")
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def mass_figure(result: Any) -> plt.Figure:
    """dt_zero against the mass on log-log axes, per seed, with the fitted and the ½ slopes."""
    figure, axis = plt.subplots(figsize=(6, 3.6))
    for s, column in enumerate(result.dt_zero.T):
        axis.plot(result.masses, column, "o", color=PALETTE(s / max(result.dt_zero.shape[1] - 1, 1)), label=f"seed {s}")
    centre = np.exp(np.nanmean(np.log(result.dt_zero)))
    middle = np.exp(np.mean(np.log(result.masses)))
    grid = np.geomspace(result.masses.min(), result.masses.max(), 50)
    axis.plot(grid, centre * (grid / middle) ** result.slope, "k-", lw=1, label=f"fit: mean slope {result.slope:.2f}")
    axis.plot(grid, centre * (grid / middle) ** 0.5, "k:", lw=1, label="slope 1/2")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("mass M")
    axis.set_ylabel("dt_zero")
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def probe_sweep_traces(result: Any, norm_index: int) -> list[go.Scatter]:
    """The probes against dt (fixed physical horizon) for one normalisation."""
    return [go.Scatter(x=result.dts, y=getattr(result, name)[norm_index], mode="lines+markers", name=label)
            for name, label in [("round_trip", "exact round trip"), ("negative_dt", "ΔNEGdt round trip"),
                                ("energy_drift", "energy drift"), ("shadow_drift", "shadow energy drift"),
                                ("omega", "Ω-invariance error")]]


def settings_figure(result: Any) -> plt.Figure:
    """The paper's settings: round trip and Ω per network × setting (all seeds and step sizes), and the
    drifts of H and of the shadow account against dt (mean over seeds), one line per network × setting."""
    figure, axes = plt.subplots(1, 4, figsize=(18, 3.8))
    labels = [f"{n}\n{s}" for n in result.networks for s in result.settings]
    n_settings = len(result.settings)
    for axis, values, title in [(axes[0], result.round_trip, "round-trip error"),
                                (axes[1], result.omega, "Ω-invariance error")]:
        for a in range(len(result.networks)):
            for b in range(n_settings):
                row = values[a, b].ravel()
                x = a * n_settings + b + np.linspace(-0.15, 0.15, len(row))
                axis.scatter(x, np.maximum(row, 1e-20), color=PALETTE(b / max(n_settings - 1, 1)), s=14)
        axis.set_xticks(np.arange(len(labels)), labels, fontsize=6, rotation=60)
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
    styles = ["-", "--", ":"]
    for axis, values, title in [(axes[2], result.energy_drift, "integration error of H"),
                                (axes[3], result.shadow_drift, "shadow-account drift")]:
        for a, network in enumerate(result.networks):
            for b, setting in enumerate(result.settings):
                axis.plot(result.dts, np.nanmean(values[a, b], axis=-1), "o" + styles[a % 3],
                          color=PALETTE(b / max(n_settings - 1, 1)), label=f"{network}, {setting}")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("dt (fixed learning time)")
        axis.set_title(title, fontsize=10)
    axes[3].legend(fontsize=6)
    figure.tight_layout()
    plt.close(figure)
    return figure


def settings_dose_figure(result: Any) -> plt.Figure:
    """Train-mode BatchNorm against its running-statistics momentum: the work-balance energy drift (the
    probe) and the drift of the running-statistics energy (mean over seeds)."""
    figure, axis = plt.subplots(figsize=(6.5, 3.6))
    x = np.arange(len(result.bn_momenta))
    axis.plot(x, np.nanmean(result.energy_drift, axis=1), "o-", color="#3b6ea8", label="energy balance (probe)")
    axis.plot(x, np.nanmean(result.running_energy_drift, axis=1), "s--", color="#c0504d",
              label="running-statistics energy")
    axis.set_xticks(x, [f"{m:g}" for m in result.bn_momenta])
    axis.set_xlabel("BatchNorm running-statistics momentum")
    axis.set_yscale("log")
    axis.set_ylabel("drift")
    axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def noether_figure(result: Any) -> plt.Figure:
    """Change of the ReLU rescaling charges against the time step (log-log, mean and seeds) for each
    training mode, with an order-1 reference, and the change of the softmax column sums."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for m, mode in enumerate(result.modes):
        colour = PALETTE(m / max(len(result.modes) - 1, 1))
        for column in result.charge_change[m].T:
            left.plot(result.time_steps, column, ".", color=colour, alpha=0.5)
        left.plot(result.time_steps, np.nanmean(result.charge_change[m], axis=-1), "o-", color=colour,
                  label=f"{mode} (order {result.order[m]:.2f})")
        right.plot(result.time_steps, np.maximum(np.nanmax(result.column_sum_change[m], axis=-1), 1e-20), "o-",
                   color=colour, label=str(mode))
    reference = np.nanmean(result.charge_change[0], axis=-1)
    left.plot(result.time_steps, reference[0] * result.time_steps / result.time_steps[0], "k:", lw=1,
              label="order 1")
    for axis, title in [(left, "ReLU rescaling charges: max |ΔQ| / scale"),
                        (right, "softmax column sums: max |Δ|")]:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("time step")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure
