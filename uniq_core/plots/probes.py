"""Figures of chapter 4: quasi-symplectic probes, BatchNorm momentum and mass scaling."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE


def probes_figure(result: Any, *, threshold: float | None = None) -> plt.Figure:
    """Round trip, energy drift and dt_zero per normalisation (one point per seed), and energy traces."""
    figure, axes = plt.subplots(1, 4, figsize=(15, 3.6))
    positions = np.arange(len(result.norms))
    for axis, values, title in [(axes[0], result.round_trip, "round-trip error"),
                                (axes[1], result.energy_drift, "energy drift"),
                                (axes[2], result.dt_zero, "dt_zero (energy drift)")]:
        for i, row in enumerate(values):
            axis.scatter(np.full(len(row), i) + np.linspace(-0.1, 0.1, len(row)), row, color=PALETTE(i / 4), s=22)
        axis.set_xticks(positions, [str(n) for n in result.norms], fontsize=8, rotation=20)
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
    if threshold is not None:
        axes[1].axhline(threshold, color="k", ls="--", lw=0.8, label="threshold")
        axes[1].legend(fontsize=8)
    for i, trace in enumerate(result.energy):
        axes[3].plot(trace - trace[0], color=PALETTE(i / 4), label=str(result.norms[i]))
    axes[3].set_xlabel("step")
    axes[3].set_title("H_t − H_0 (first seed)", fontsize=10)
    axes[3].legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def dose_figure(result: Any) -> plt.Figure:
    """Probes of train-mode BatchNorm against its running-statistics momentum (0 drawn at the left edge)."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    x = np.arange(len(result.bn_momenta))
    for axis, values, title in [(left, result.energy_drift, "energy drift"), (right, result.round_trip,
                                                                                "round-trip error")]:
        for column in values.T:
            axis.plot(x, column, "o", color="#9ab", ms=4)
        axis.plot(x, np.nanmean(values, axis=1), "o-", color="#3b6ea8", label="mean over seeds")
        axis.set_xticks(x, [f"{m:g}" for m in result.bn_momenta])
        axis.set_xlabel("BatchNorm running-statistics momentum")
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def mass_figure(result: Any) -> plt.Figure:
    """dt_zero against the mass on log-log axes, per seed, with the fitted and the predicted (½) slopes."""
    figure, axis = plt.subplots(figsize=(6, 3.6))
    for s, column in enumerate(result.dt_zero.T):
        axis.plot(result.masses, column, "o", color=PALETTE(s / max(result.dt_zero.shape[1] - 1, 1)), label=f"seed {s}")
    centre = np.exp(np.nanmean(np.log(result.dt_zero)))
    middle = np.exp(np.mean(np.log(result.masses)))
    grid = np.geomspace(result.masses.min(), result.masses.max(), 50)
    axis.plot(grid, centre * (grid / middle) ** result.slope, "k-", lw=1,
              label=f"fit: slope {result.slope:.2f} [{result.slope_interval[0]:.2f}, {result.slope_interval[1]:.2f}]")
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
    """The three probes against dt for one normalisation."""
    return [go.Scatter(x=result.dts, y=getattr(result, name)[norm_index], mode="lines+markers", name=label)
            for name, label in [("round_trip", "round-trip error"), ("energy_drift", "energy drift"),
                                ("omega", "Ω-invariance error")]]


def settings_figure(result: Any) -> plt.Figure:
    """The paper's settings: round trip and Ω per network × setting (all seeds and step sizes), and the
    energy-balance and remainder drifts against dt (mean over seeds), one line per network × setting."""
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
    for axis, values, title in [(axes[2], result.energy_drift, "energy-balance drift"),
                                (axes[3], result.remainder_drift, "remainder drift (less the full kick)")]:
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
