"""Figures of chapter 5: pullback-metric spectra, null directions and representations."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE, _css


def null_check_figure(result: Any) -> plt.Figure:
    """Measured against symmetry-predicted null dimensions, per architecture and output metric."""
    figure, axis = plt.subplots(figsize=(8, 3.6))
    rows = np.arange(len(result.labels))
    for column, (name, colour) in enumerate([("logits", PALETTE(0.25)), ("softmax", PALETTE(0.7))]):
        offset = (column - 0.5) * 0.36
        axis.barh(rows + offset, result.measured[:, column], 0.34, color=colour, alpha=0.55, label=f"{name}: measured")
        known = result.predicted[:, column] >= 0
        axis.plot(result.predicted[known, column], rows[known] + offset, "k|", ms=14, mew=2,
                  label="predicted by the symmetries" if column == 0 else None)
    axis.set_yticks(rows, [f"{label} (P={p})" for label, p in zip(result.labels, result.parameters)], fontsize=8)
    axis.invert_yaxis()
    axis.set_xlabel("null dimension of the pullback metric")
    axis.legend(fontsize=8, loc="upper right")
    figure.tight_layout()
    plt.close(figure)
    return figure


def teacher_student_figure(result: Any) -> plt.Figure:
    """Per effective rank, its value on the trained student's Fisher as a multiple of the task-relevant
    count (first k), on inputs aligned with the relevant directions, on isotropic inputs and on isotropic
    inputs with random labels (one point per teacher), with the relevant count (1) and the count of
    directions isotropic inputs excite marked."""
    from uniq_core.experiments.fisher import CONDITIONS, MEASURES

    figure, axis = plt.subplots(figsize=(8, 3.6))
    names = {"participation": "participation ratio", "entropy": "entropy rank", "mackay": "MacKay count"}
    colours = (PALETTE(0.25), PALETTE(0.7), PALETTE(0.95))
    for row, measure in enumerate(MEASURES):
        for column, (condition, colour) in enumerate(zip(CONDITIONS, colours)):
            values = result.ratio(measure, condition)
            y = row + (column - 1) * 0.22
            axis.plot(values, np.full(len(values), y), "o", color=colour, alpha=0.7, ms=5,
                      label=f"{condition}" if row == 0 else None)
    axis.axvline(1.0, color="k", lw=0.8, ls="--", label="task-relevant count")
    axis.axvline(result.data_count / result.relevant_counts[0], color="grey", lw=0.8, ls=":",
                 label="directions isotropic inputs excite")
    axis.set_yticks(range(len(MEASURES)), [names[m] for m in MEASURES])
    axis.invert_yaxis()
    axis.set_xscale("log")
    axis.set_xlabel("effective rank of the student's Fisher / task-relevant count")
    axis.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    figure.tight_layout()
    plt.close(figure)
    return figure


def fisher_spectrum_figure(result: Any, seed: int = 0) -> plt.Figure:
    """Normalised Fisher spectra along training (one seed), and effective ranks over seeds."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    count = len(result.steps)
    for c in range(count):
        left.plot(np.arange(1, result.spectra.shape[-1] + 1), np.maximum(result.spectra[seed, c], 1e-18),
                  color=PALETTE(c / max(count - 1, 1)), lw=1.2, label=f"step {int(result.steps[c])}")
    left.axvline(result.parameters - np.nanmedian(result.null_dimension[seed]), color="k", ls="--", lw=0.8)
    left.set_yscale("log")
    left.set_xscale("log")
    left.set_ylim(1e-18, 2)
    left.set_xlabel("eigenvalue index")
    left.set_ylabel("λ / λ_max")
    left.set_title(f"Fisher spectrum, P = {result.parameters} (dashed: null space)", fontsize=10)
    left.legend(fontsize=7)
    for values, name, colour in [(result.participation, "participation ratio", PALETTE(0.1)),
                                 (result.entropy_rank, "entropy effective rank", PALETTE(0.5)),
                                 (result.mackay, "MacKay, prior 1e-3·λ_max", PALETTE(0.85))]:
        mean = np.nanmean(values, axis=0)
        right.plot(result.steps, mean, "o-", color=colour, label=name)
        right.fill_between(result.steps, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=colour, alpha=0.2)
    right.set_yscale("log")
    right.set_xlabel("training step")
    right.set_title("effective dimension (band: range over seeds)", fontsize=10)
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def representation_figure(result: Any) -> plt.Figure:
    """Per hidden layer, rank and participation ratio of the pulled-back metric, before and after training."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    layers = np.arange(1, len(result.widths) + 1)
    for values, axis in [((result.rank_start, result.rank_end), left),
                         ((result.participation_start, result.participation_end), right)]:
        for data_, name, colour in [(values[0], "at initialisation", "#9ab"), (values[1], "after training", "#3b6ea8")]:
            for row in data_:
                axis.plot(layers, row, color=colour, alpha=0.35, lw=1)
            axis.plot(layers, data_.mean(axis=0), "o-", color=colour, lw=2, label=name)
        axis.set_xticks(layers)
        axis.set_xlabel("hidden layer")
        axis.legend(fontsize=8)
    left.plot(layers, result.widths, "k:", label="width")
    left.axhline(result.ceiling, color="#c0392b", ls="--", lw=0.8, label="K − 1")
    left.legend(fontsize=8)
    left.set_title("rank of the layer metric")
    right.set_title("participation ratio of the layer metric")
    figure.tight_layout()
    plt.close(figure)
    return figure


def fisher_sweep_traces(result: Any, index: int) -> list[go.Scatter]:
    """Normalised spectra at each checkpoint for one architecture of a Fisher sweep."""
    count = len(result.steps)
    size = int(result.parameters[index])
    keep = np.unique(np.geomspace(1, size, 400).astype(int)) - 1  # log-spaced indices: a light page
    return [
        go.Scatter(x=keep + 1, y=np.maximum(result.spectra[index, c, keep], 1e-18), mode="lines",
                   name=f"step {int(result.steps[c])}", line=dict(color=_css(PALETTE(c / max(count - 1, 1)))))
        for c in range(count)
    ]


def fisher_training_figure(result: Any) -> plt.Figure:
    """MacKay's count against the prior precision, the null dimension with dead units along training, and
    the overlap of successive null subspaces (first seed) against random subspaces of the same sizes."""
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 3.6))
    for c, name in [(0, "at initialisation"), (len(result.steps) - 1, "after training")]:
        curve = result.mackay_curve[:, c]
        colour = PALETTE(0.15 if c == 0 else 0.8)
        left.plot(result.priors, np.nanmean(curve, axis=0), "o-", ms=3, color=colour, label=name)
        left.fill_between(result.priors, np.nanmin(curve, axis=0), np.nanmax(curve, axis=0), color=colour, alpha=0.2)
        left.axhline(result.parameters - np.nanmean(result.null_dimension[:, c]), color=colour, ls=":", lw=1)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("prior precision α (per probe input)")
    left.set_ylabel("Σ λ / (λ + α), λ of F / N")
    left.set_title("MacKay's count (dotted: rank of F)", fontsize=10)
    left.legend(fontsize=8)
    middle.plot(result.steps, np.nanmean(result.null_dimension, axis=0), "o-", color=PALETTE(0.1), label="null dimension")
    middle.plot(result.steps, np.nanmean(result.explained_null, axis=0), "s--", color=PALETTE(0.5),
                label="symmetries + data-limited")
    middle.set_xlabel("training step")
    middle.set_ylabel("null directions")
    twin = middle.twinx()
    twin.plot(result.steps, np.nanmean(result.dead_units, axis=0), "^:", color="#c0392b", label="dead units")
    twin.set_ylabel("dead ReLU units", color="#c0392b")
    twin.set_ylim(-0.05, max(1.0, float(np.nanmax(result.dead_units))) * 1.1)
    lines = middle.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    middle.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=7)
    middle.set_title("null dimension and dead units (mean over seeds)", fontsize=10)
    right.plot(result.steps[1:], result.null_overlap[0, 1:], "o-", color=PALETTE(0.3), label="mean cos² of principal angles")
    right.plot(result.steps[1:], result.null_overlap_chance[0, 1:], "k:", label="random subspaces")
    moved = result.null_angles_moved[0, 1:] / np.maximum(result.null_dimension[0, 1:], 1)
    right.plot(result.steps[1:], moved, "s--", color=PALETTE(0.75), label="share of angles above 10°")
    right.set_ylim(0, 1.05)
    right.set_xlabel("training step")
    right.set_title("null subspace against the previous checkpoint", fontsize=10)
    right.legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure
