"""Figures: matplotlib for static plots, plotly for sweeps with a slider that work on the static site."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

PALETTE = plt.get_cmap("viridis")


def _css(colour: tuple[float, ...]) -> str:
    """A matplotlib RGBA tuple (0–1) as a CSS ``rgb()`` string for plotly."""
    return "rgb({}, {}, {})".format(*(int(round(255 * c)) for c in colour[:3]))


def static_site() -> bool:
    """True while the book is being built into the static site (``UNIQ_STATIC_SITE=1``)."""
    return os.environ.get("UNIQ_STATIC_SITE", "") == "1"


def show(figure: go.Figure) -> Any:
    """Display a plotly figure: a ``<div>`` drawn by the site's own plotly.js when building the static
    site; the notebook's renderer (Jupyter, Colab) otherwise."""
    if static_site():
        from IPython.display import HTML, display

        html = figure.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        display(HTML(html))
        return None
    figure.show()
    return None


def sweep_figure(
    values: Iterable[Any],
    traces_for: Callable[[Any], list[go.BaseTraceType]],
    *,
    parameter: str,
    title: str = "",
    label: Callable[[Any], str] = str,
    layout: dict[str, Any] | None = None,
) -> go.Figure:
    """One figure, one slider over ``values``: moving it shows the traces of that value.

    ``traces_for(value)`` returns the traces drawn for one value (all values should give the same
    number of traces for a steady legend). The first value is shown at load.
    """
    values = list(values)
    if not values:
        raise ValueError("values is empty; a sweep needs at least one value")
    figure = go.Figure()
    owners: list[int] = []
    for position, value in enumerate(values):
        for trace in traces_for(value):
            trace.visible = position == 0
            figure.add_trace(trace)
            owners.append(position)
    steps = [
        dict(
            method="update",
            label=label(value),
            args=[{"visible": [owner == position for owner in owners]}],
        )
        for position, value in enumerate(values)
    ]
    figure.update_layout(
        title=title,
        sliders=[dict(active=0, currentvalue={"prefix": f"{parameter} = "}, pad={"t": 40}, steps=steps)],
        template="plotly_white",
        margin=dict(l=60, r=20, t=60, b=40),
        **(layout or {}),
    )
    return figure


# ------------------------------------------------------------------------------------ per-experiment


def divergence_traces(result: Any) -> list[go.Scatter]:
    """Distance to the reference over epochs, one line per perturbed replica (a divergence Result)."""
    count = result.distance.shape[0] - 1
    return [
        go.Scatter(
            x=result.epochs,
            y=result.distance[k],
            mode="lines",
            line=dict(color=f"rgba{tuple(int(255 * c) for c in PALETTE(k / max(count, 1))[:3]) + (0.85,)}"),
            name=f"replica {k}",
            showlegend=False,
        )
        for k in range(1, count + 1)
    ]


def divergence_figure(result: Any) -> plt.Figure:
    """Distance of each perturbed replica from the reference (log scale) and the replicas' test accuracy."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2.2, 1]})
    count = result.distance.shape[0] - 1
    for k in range(1, count + 1):
        left.plot(result.epochs, result.distance[k], color=PALETTE(k / max(count, 1)), lw=1.2)
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel(r"$\|\theta_k - \theta_0\|$")
    left.set_title("distance of each perturbed replica from the reference")
    accuracy = result.test_accuracy
    healthy = np.isfinite(accuracy)
    right.bar(np.arange(len(accuracy))[healthy], 100 * accuracy[healthy], color="#3b6ea8")
    right.set_ylim(max(0.0, 100 * np.nanmin(accuracy) - 5) if healthy.any() else 0, 100)
    right.set_xlabel("replica (0 = reference)")
    right.set_ylabel("test accuracy (%)")
    right.set_title(f"diverged: {result.n_diverged}")
    figure.tight_layout()
    plt.close(figure)
    return figure


def glue(name: str, value: Any) -> None:
    """Record ``value`` under ``name`` for the book's ``{glue:text}`` roles (numpy scalars become Python
    numbers). Outside a book build (plain Jupyter, Colab) without myst-nb, nothing is recorded."""
    if isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as record
    except ImportError:
        return
    record(name, value, display=False)


# ------------------------------------------------------------------------------ chapter 1: chaos


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
    """Top tangent exponents against the step size, beside the sharpness and the edge of stability 2/η."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    ok = ~result.diverged
    for i in range(result.exponents.shape[1]):
        left.plot(result.lrs[ok], result.exponents[ok, i], "o-", color=PALETTE(i / max(result.exponents.shape[1], 1)),
                  label=f"λ{i + 1}")
    if (~ok).any():
        left.plot(result.lrs[~ok], result.exponents[~ok, 0], "x", color="#b00020", ms=9, label="loss blew up")
    left.axhline(0, color="grey", lw=0.8)
    left.set_xscale("log")
    left.set_xlabel("step size η")
    left.set_ylabel("exponent per step")
    left.set_title("top Lyapunov exponents of the training map")
    left.legend(fontsize=8)
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


def regime_traces(result: Any, column: int) -> list[go.Scatter]:
    """Exponent and divergence fraction against the step size, for one perturbation scale."""
    return [
        go.Scatter(x=result.lrs, y=result.exponent[:, column], mode="lines+markers", name="fitted exponent / epoch"),
        go.Bar(x=result.lrs, y=result.diverged_fraction[:, column], name="fraction diverged", yaxis="y2",
               opacity=0.35, marker_color="#b00020"),
    ]


# ------------------------------------------------------------------------- chapter 2: irreversibility


def validation_figure(result: Any) -> plt.Figure:
    """Rotational OU process: exact rate, AR(1) pair rate and path estimate against the sampling interval."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.axhline(result.exact, color="k", ls="--", lw=1, label="exact 2ω²/a")
    left.plot(result.dts, result.pair, "s-", color=PALETTE(0.3), label="exact pair rate of the sampled chain")
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
    """Per seed: exact linearised rates and the estimates from simulated chains, SGD beside Langevin."""
    figure, axis = plt.subplots(figsize=(8, 3.6))
    seeds = np.arange(len(result.sgd_exact))
    for offset, (name, colour, exact, path, error, kl) in enumerate([
        ("SGD", "#c0392b", result.sgd_exact, result.sgd_path, result.sgd_path_error, result.sgd_estimate),
        ("Langevin", "#2e6da4", result.langevin_exact, result.langevin_path, result.langevin_path_error,
         result.langevin_estimate),
    ]):
        x = seeds + (offset - 0.5) * 0.3
        axis.plot(x - 0.06, exact, "D", color=colour, mfc="white", label=f"{name}: exact, linearised")
        axis.errorbar(x, path, yerr=2 * error, fmt="o", color=colour, capsize=3, label=f"{name}: path estimate ± 2 s.e.")
        axis.plot(x + 0.06, kl, "^", color=colour, alpha=0.6, label=f"{name}: fitted-chain KL")
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


def entropy_sweep_traces(result: Any, temperature_index: int) -> list[go.Scatter]:
    """Exact linearised SGD entropy production against the step size, one line per batch size."""
    return [
        go.Scatter(x=result.lrs, y=result.sgd_rate[temperature_index, j], mode="lines+markers",
                   name=f"batch {int(batch)}", line=dict(color=_css(PALETTE(j / max(len(result.batch_sizes) - 1, 1)))))
        for j, batch in enumerate(result.batch_sizes)
    ]


# ---------------------------------------------------------------------------- chapter 3: topology


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
        ("weight", result.weight_within, result.weight_between, result.weight_p_value),
        ("function", result.function_within, result.function_between, result.function_p_value),
    ]):
        scale = np.nanmean(between)
        for offset, values, colour, label in [(-0.17, within, "#2e6da4", "within a run"),
                                              (0.17, np.nanmean(between, axis=1), "#c0392b", "between runs")]:
            x = position + offset + rng.uniform(-0.05, 0.05, len(values))
            axes[2].scatter(x, values / scale, s=16, color=colour, label=label if position == 0 else None)
        axes[2].text(position, 0.02, f"p = {p_value:.2f}", ha="center",
                     transform=axes[2].get_xaxis_transform())
    axes[2].set_xticks([0, 1], ["weight space", "function space"])
    axes[2].set_ylabel("W1(H0) + W1(H1), / mean between")
    axes[2].set_title("halves of one run vs halves of two runs")
    axes[2].legend(fontsize=8)
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
    """Permutation-test p-values (weight and function space) and test disagreement against the perturbation."""
    return [
        go.Scatter(x=result.perturbations, y=result.weight_p_value[width_index], mode="lines+markers",
                   name="p-value, weight space"),
        go.Scatter(x=result.perturbations, y=result.function_p_value[width_index], mode="lines+markers",
                   name="p-value, function space"),
        go.Scatter(x=result.perturbations, y=100 * result.disagreement[width_index], mode="lines+markers",
                   name="test disagreement between runs (%)", yaxis="y2", line=dict(dash="dot")),
    ]


# ------------------------------------------------------------------------ chapter 5: Fisher geometry


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


# ---------------------------------------------------------------------------------- chapter 6: DNA


def dna_figure(result: Any, title: str = "") -> plt.Figure:
    """PSNR and R² of the SIREN, its controls and the baselines at one budget; singular values; power."""
    figure, axes = plt.subplots(1, 3, figsize=(13.5, 3.7))
    names = ["SIREN", "SIREN on\npermuted", "SIREN on\nGaussian", "SVD", f"quantised\n{result.quantised_bits} bit",
             "constant"]
    values = [result.psnr_siren, result.psnr_permuted, result.psnr_random, result.psnr_svd, result.psnr_quantised,
              result.psnr_constant]
    colours = ["#c0392b", "#e8a39b", "#e8a39b", "#2e6da4", "#7fa7cf", "#999999"]
    axes[0].bar(range(len(names)), values, color=colours)
    axes[0].axhline(40, color="k", ls="--", lw=0.8, label="claimed 40 dB")
    for position, r2 in enumerate([result.r2_siren, result.r2_permuted, result.r2_random, result.r2_svd]):
        axes[0].text(position, values[position] + 0.5, f"R²={r2:.2f}", ha="center", fontsize=7)
    axes[0].set_xticks(range(len(names)), names, fontsize=7)
    axes[0].set_ylabel("PSNR (dB)")
    axes[0].set_title(title or f"{result.n_weights} weights, {result.n_params} numbers ({result.ratio:.1f}×)",
                      fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].plot(result.singular_trained, color="#c0392b", label="trained")
    axes[1].plot(result.singular_random, color="#999999", label="Gaussian, same shape")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("index")
    axes[1].set_title("singular values / largest (first matrix)", fontsize=10)
    axes[1].legend(fontsize=8)
    axes[2].plot(result.power_frequency, result.power_trained, color="#c0392b", label="trained")
    axes[2].plot(result.power_frequency, result.power_permuted, color="#999999", label="entries permuted")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("spatial frequency (cycles per entry)")
    axes[2].set_title("radial 2-D power spectrum (first matrix)", fontsize=10)
    axes[2].legend(fontsize=8)
    figure.tight_layout()
    plt.close(figure)
    return figure


def dna_sweep_traces(result: Any, hidden_index: int) -> list[go.Scatter]:
    """PSNR against ω0 for one SIREN width: on the weights, on their permutation, and the SVD baseline."""
    return [
        go.Scatter(x=result.omegas, y=result.psnr_siren[hidden_index], mode="lines+markers", name="SIREN, weights"),
        go.Scatter(x=result.omegas, y=result.psnr_permuted[hidden_index], mode="lines+markers",
                   name="SIREN, permuted weights"),
        go.Scatter(x=result.omegas, y=result.psnr_svd[hidden_index], mode="lines", name="SVD, same budget",
                   line=dict(dash="dash")),
    ]


# ------------------------------------------------------------------------- chapter 4: probes


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
