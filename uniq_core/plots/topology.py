"""Figures of chapter 3: persistence diagrams of trajectories and alignment by symmetry."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE


def _draw_diagram(axis: plt.Axes, diagrams: dict[int, np.ndarray], title: str) -> None:
    finite = [d[np.isfinite(d[:, 1])] for d in diagrams.values() if len(d)]
    top = max([float(d[:, 1].max()) for d in finite if len(d)] + [1e-9]) * 1.1
    for dim, diagram in diagrams.items():
        if len(diagram) == 0:
            continue
        deaths = np.where(np.isfinite(diagram[:, 1]), diagram[:, 1], top)
        axis.scatter(diagram[:, 0], deaths, s=18, color=PALETTE(0.15 + 0.6 * dim), label=f"H{dim} ({len(diagram)} bars)",
                     marker="o" if dim == 0 else "^", zorder=3)
    axis.plot([0, top], [0, top], color="grey", lw=0.8)
    axis.axhline(top, color="grey", ls=":", lw=0.8)
    axis.set_xlabel("birth (edge length)")
    axis.set_ylabel("death (dotted: never)")
    axis.set_title(title)
    axis.legend(fontsize=8, loc="lower right")


def persistence_figure(points: np.ndarray, diagrams: dict[int, np.ndarray], *, title: str = "") -> plt.Figure:
    """A 2-D point cloud beside its persistence diagram."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    left.scatter(points[:, 0], points[:, 1], s=6, color=PALETTE(0.3))
    left.set_aspect("equal")
    left.set_title(title or "point cloud")
    _draw_diagram(right, diagrams, "persistence diagram")
    figure.tight_layout()
    plt.close(figure)
    return figure


def trajectory_topology_figure(result: Any) -> plt.Figure:
    """Trajectories in weight space, run 0's diagrams, and within- vs between-run diagram distances."""
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for k, points in enumerate(result.weight_points):
        axes[0].plot(points[:, 0], points[:, 1], lw=1, color=PALETTE(k / max(len(result.weight_points) - 1, 1)))
    axes[0].plot(*result.weight_points[0, 0], "ko", ms=4)
    axes[0].set_title("runs in weight space (top principal plane)")
    axes[0].set_xlabel("component 1")
    axes[0].set_ylabel("component 2")
    _draw_diagram(axes[1], {0: result.weight_diagram_h0, 1: result.weight_diagram_h1}, "run 0, weight space")
    rng = np.random.default_rng(0)
    for position, (name, within, between, p_value) in enumerate([
        ("weight", result.weight_within, result.weight_between, result.weight_p_holm),
        ("function", result.function_within, result.function_between, result.function_p_holm),
    ]):
        scale = np.nanmean(between)
        for offset, values, colour, label in [(-0.17, within, "#2e6da4", "within a run"),
                                              (0.17, np.nanmean(between, axis=1), "#c0392b", "between runs")]:
            x = position + offset + rng.uniform(-0.05, 0.05, len(values))
            axes[2].scatter(x, values / scale, s=16, color=colour, label=label if position == 0 else None)
        axes[2].text(position, 0.02, f"Holm p = {p_value:.3f}", ha="center",
                     transform=axes[2].get_xaxis_transform())
    axes[2].set_xticks([0, 1], ["weight space", "function space"])
    axes[2].set_ylabel("W1(H0) + W1(H1), / mean between")
    axes[2].set_title("replicates of one run vs of two runs")
    axes[2].legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def two_sample_figure(trajectories: Any, independent: Any, calibration: Any) -> plt.Figure:
    """Left: the rejection rate of each test on random walks (the replicate test and the two-sample test where
    nothing differs, the two-sample test on a planted larger step and on walks that share their increments),
    with Wilson intervals and the level.
    Right: the first H0 landscape layer of every perturbed run's weight-space trajectory, runs sharing one
    data order against runs with their own orders, group means in bold."""
    from uniq_core import topology
    from uniq_core.experiments.topology import run_diagrams

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
    rates = [("replicate test,\nno difference", calibration.replicate_rate, calibration.replicate_low,
              calibration.replicate_high, "#c0392b"),
             ("two-sample test,\nno difference", calibration.null_rate, calibration.null_low, calibration.null_high,
              "#2e6da4"),
             ("two-sample test,\nlarger step", calibration.planted_rate, calibration.planted_low,
              calibration.planted_high, "#5b8c3a"),
             ("two-sample test,\nshared increments", calibration.shared_rate, calibration.shared_low,
              calibration.shared_high, "#8e6bb0")]
    for position, (label, rate, low, high, colour) in enumerate(rates):
        left.bar(position, rate, color=colour, alpha=0.8)
        left.errorbar(position, rate, yerr=[[rate - low], [high - rate]], color="black", capsize=5)
    left.axhline(calibration.level, color="grey", ls="--", lw=1, label=f"level {calibration.level:g}")
    left.set_xticks(range(len(rates)), [label for label, *_ in rates], fontsize=7)
    left.set_ylim(0, 1.05)
    left.set_ylabel("share of sets rejected")
    left.set_title("size and power on random walks (95% Wilson intervals)", fontsize=9)
    left.legend(fontsize=8)
    groups = [(run_diagrams(trajectories, "weight")[1:], "#2e6da4", "one data order"),
              (run_diagrams(independent, "weight")[1:], "#c0392b", "own data orders")]
    pooled = np.concatenate([d[0][np.isfinite(d[0][:, 1])] for diagrams, *_ in groups for d in diagrams])
    grid = np.linspace(pooled[:, 0].min(), pooled[:, 1].max(), 200)
    for diagrams, colour, label in groups:
        layers = np.array([topology.landscape(d[0], grid, 1)[0] for d in diagrams])
        for layer in layers:
            right.plot(grid, layer, color=colour, lw=0.7, alpha=0.4)
        right.plot(grid, layers.mean(axis=0), color=colour, lw=2.2, label=f"{label} (mean of {len(layers)})")
    right.set_xlabel("scale (distance in weight space)")
    right.set_ylabel("first H0 landscape layer")
    right.set_title("whole runs as units: each run one landscape", fontsize=9)
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def symmetry_figure(result: Any) -> plt.Figure:
    """Loss and test error along the straight line between two networks, before and after alignment."""
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    for curves, axis, label in [((result.loss_before, result.loss_after), left, "test cross-entropy"),
                                ((result.error_before, result.error_after), middle, "test error")]:
        for values, colour, name in [(curves[0], "#c0392b", "as trained"), (curves[1], "#2e6da4", "after alignment")]:
            for row in values:
                axis.plot(result.alpha, row, color=colour, alpha=0.35, lw=1)
            axis.plot(result.alpha, values.mean(axis=0), color=colour, lw=2.2, label=name)
        axis.set_xlabel("α (0: network A, 1: network B)")
        axis.set_title(label)
        axis.legend(fontsize=8)
    pairs = np.arange(len(result.distance_before))
    right.bar(pairs - 0.18, result.distance_before, 0.36, color="#c0392b", label="as trained")
    right.bar(pairs + 0.18, result.distance_after, 0.36, color="#2e6da4", label="after alignment")
    right.set_xticks(pairs, [f"pair {p}" for p in pairs])
    right.set_ylabel("‖θ_A − θ_B‖ / ‖θ_A‖")
    right.set_title("distance between independent networks")
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def topology_sweep_traces(result: Any, width_index: int) -> list[go.Scatter]:
    """Holm-adjusted permutation-test p-values (weight and function space, corrected over the whole grid),
    the level they are judged at, and test disagreement against the perturbation."""
    return [
        go.Scatter(x=result.perturbations, y=result.weight_p_holm[width_index], mode="lines+markers",
                   name="Holm p-value, weight space"),
        go.Scatter(x=result.perturbations, y=result.function_p_holm[width_index], mode="lines+markers",
                   name="Holm p-value, function space"),
        go.Scatter(x=result.perturbations, y=np.full(len(result.perturbations), result.level), mode="lines",
                   name=f"level {result.level:g}", line=dict(color="grey", dash="dash")),
        go.Scatter(x=result.perturbations, y=100 * result.disagreement[width_index], mode="lines+markers",
                   name="test disagreement between runs (%)", yaxis="y2", line=dict(dash="dot")),
    ]
