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


def theory_figure(result: Any, known: dict[str, np.ndarray], *, factor: float = 1.25) -> plt.Figure:
    """The drift's one-line theory D = dt T tr Σ_g/(2M U_0): its known answer (the energy probe's tail
    statistic against dt on the potential with known gradient noise, per mass and horizon) and measured against predicted dt_zero for every
    normalisation and seed (the band: within ``factor``)."""
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    axis = axes[0]
    predicted, measured = np.asarray(known["predicted"]), np.asarray(known["measured"])  # horizons × masses × dts
    markers = "o^sDv"
    for h, horizon in enumerate(known["horizons"]):
        for j, m in enumerate(known["masses"]):
            colour = PALETTE(j / max(len(known["masses"]) - 1, 1))
            axis.plot(known["dts"], predicted[h, j], "-", color=colour, lw=0.9,
                      label=f"theory, M = {m:g}" if h == 0 else None)
            axis.plot(known["dts"], measured[h, j], markers[h % len(markers)], color=colour, ms=4,
                      label=f"measured, T = {horizon:g}" if j == 0 else None)
    axis.set(xscale="log", yscale="log", xlabel="dt", ylabel="drift (the probe's tail statistic)",
             title="Known answer: tr Σ_g = 1, three horizons")
    _plain_log(axis)
    axis.legend(fontsize=7)
    axis = axes[1]
    markers = {"none": "o", "group": "s", "batch": "D", "frozen_batch": "^"}
    for i, norm in enumerate(result.norms):
        axis.scatter(np.asarray(result.predicted_dt_zero)[i], np.asarray(result.dt_zero)[i],
                     marker=markers.get(str(norm), "o"), color=PALETTE(i / 4), s=26, label=str(norm))
    _identity_band(axis, [result.dt_zero, result.predicted_dt_zero], factor)
    axis.set(xscale="log", yscale="log", xlabel="dt_zero predicted", ylabel="dt_zero measured",
             title="Theory against measurement, per seed")
    _plain_log(axis)
    axis.legend(fontsize=7)
    figure.tight_layout()
    plt.close(figure)
    return figure


def _plain_log(axis: plt.Axes, which: str = "xy") -> None:
    """Log axes labelled with plain numbers at 1, 2 and 5 times the powers of ten, no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for name in which:
        scale = axis.xaxis if name == "x" else axis.yaxis
        scale.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        scale.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        scale.set_minor_formatter(NullFormatter())


def _identity_band(axis: plt.Axes, arrays: list, factor: float) -> None:
    values = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in arrays])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        line = np.geomspace(values.min() / 1.5, values.max() * 1.5, 20)
        axis.plot(line, line, "k-", lw=1)
        axis.fill_between(line, line / factor, line * factor, color="0.85", zorder=0, label=f"within ×{factor:g}")


def mass_figure(mass: Any, mass_resnet: Any, *, factor: float = 1.25) -> plt.Figure:
    """dt_zero against the mass per seed for both networks at the chapter's threshold and horizon, with the
    claim's slope 1/2 and the theory's 1 through their centre; measured against predicted dt_zero; and the
    mass exponent against the threshold at each horizon (mean and range over seeds)."""
    figure, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    axis = axes[0]
    for k, (name, res, marker) in enumerate((("SimpleCNN", mass, "o"), ("ResNet", mass_resnet, "s"))):
        dt0 = np.where(np.asarray(res.censored, dtype=bool), np.nan, np.asarray(res.dt_zero, dtype=float))
        for s in range(dt0.shape[1]):
            axis.plot(res.masses, dt0[:, s], marker, color=PALETTE(k / 1.5), ms=4, alpha=0.7,
                      label=name if s == 0 else None)
    dt0 = np.where(np.asarray(mass.censored, dtype=bool), np.nan, np.asarray(mass.dt_zero, dtype=float))
    if np.isfinite(dt0).any():
        centre = np.exp(np.nanmean(np.log(dt0)))
        middle = np.exp(np.mean(np.log(mass.masses)))
        grid = np.geomspace(mass.masses.min(), mass.masses.max(), 50)
        axis.plot(grid, centre * (grid / middle) ** 0.5, "k:", lw=1, label="slope 1/2 (claim)")
        axis.plot(grid, centre * (grid / middle), "k-", lw=1, label="slope 1 (theory)")
    axis.set(xscale="log", yscale="log", xlabel="mass M", ylabel="dt_zero", title="dt_zero against the mass")
    _plain_log(axis)
    axis.set_xticks(np.asarray(mass.masses, dtype=float), [f"{m:g}" for m in mass.masses])
    axis.legend(fontsize=7)
    axis = axes[1]
    for k, (name, res, marker) in enumerate((("SimpleCNN", mass, "o"), ("ResNet", mass_resnet, "s"))):
        ok = ~np.asarray(res.censored, dtype=bool)
        axis.scatter(np.asarray(res.predicted_dt_zero)[ok], np.asarray(res.dt_zero)[ok], marker=marker,
                     color=PALETTE(k / 1.5), s=22, label=name)
    _identity_band(axis, [mass.dt_zero, mass.predicted_dt_zero, mass_resnet.dt_zero, mass_resnet.predicted_dt_zero],
                   factor)
    axis.set(xscale="log", yscale="log", xlabel="dt_zero predicted", ylabel="dt_zero measured",
             title="Theory against measurement, every mass")
    _plain_log(axis)
    axis.legend(fontsize=7)
    axis = axes[2]
    for k, (name, res) in enumerate((("SimpleCNN", mass), ("ResNet", mass_resnet))):
        for b, horizon in enumerate(res.horizon_factors):
            slopes = np.asarray(res.slopes_by, dtype=float)[:, b]
            finite = [row[np.isfinite(row)] for row in slopes]
            mean = np.array([row.mean() if row.size else np.nan for row in finite])
            low = np.array([row.min() if row.size else np.nan for row in finite])
            high = np.array([row.max() if row.size else np.nan for row in finite])
            x = np.asarray(res.thresholds, dtype=float) * (1 + 0.06 * (2 * k + b - 1.5))
            axis.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o-" if k == 0 else "s--", capsize=3,
                          color=PALETTE((2 * k + b) / 3), label=f"{name}, horizon {horizon:g} × T")
    axis.axhline(0.5, color="k", ls=":", lw=1, label="claim: 1/2")
    axis.axhline(1.0, color="k", ls="-", lw=1, label="theory: 1")
    axis.set(xscale="log", xlabel="threshold on the drift", ylabel="exponent of dt_zero in M",
             title="Mass exponent (range over seeds)")
    axis.set_xticks(np.asarray(mass.thresholds, dtype=float), [f"{t:g}" for t in mass.thresholds])
    axis.minorticks_off()
    axis.legend(fontsize=7)
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
    """The paper's settings, per network × setting: the exact round trip and Ω (every seed and step size),
    the write-up's ΔNEGdt against dt, the drifts of H and of the shadow account against dt (means over
    seeds), and the write-up's acceptance rate of the energy probe (the share of steps under its threshold)."""
    from uniq_core.experiments.probes import acceptance

    figure, axes = plt.subplots(2, 3, figsize=(16, 7.6))
    axes = axes.ravel()
    labels = [f"{n}\n{s}" for n in result.networks for s in result.settings]
    n_settings = len(result.settings)
    for axis, values, title in [(axes[0], result.round_trip, "exact round-trip error"),
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
    rates = acceptance(result)
    curves = [(axes[2], result.negative_dt, "ΔNEGdt round trip (of the path)", True),
              (axes[3], result.energy_drift, "energy drift D of H", True),
              (axes[4], result.shadow_drift, "shadow-account drift", True),
              (axes[5], None, f"steps with |Σδ| under {result.energy_threshold:g}", False)]
    for axis, values, title, log in curves:
        for a, network in enumerate(result.networks):
            for b, setting in enumerate(result.settings):
                y = (np.asarray(rates["step_rate"])[a, b] if values is None
                     else np.nanmean(np.where(np.isfinite(values[a, b]), values[a, b], np.nan), axis=-1))
                axis.plot(result.dts, y, "o" + styles[a % 3], color=PALETTE(b / max(n_settings - 1, 1)),
                          label=f"{network}, {setting}")
        axis.set_xscale("log")
        if log:
            axis.set_yscale("log")
        else:
            axis.set_ylim(-0.05, 1.05)
        axis.set_xlabel("dt (fixed learning time)")
        axis.set_title(title, fontsize=10)
    if result.energy_threshold:
        axes[3].axhline(result.energy_threshold, color="k", lw=0.8, ls=":")
    axes[5].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
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
