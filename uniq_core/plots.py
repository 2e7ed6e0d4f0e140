"""Figures: matplotlib for static plots, plotly for sweeps with a slider that work on the static site."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

PALETTE = plt.get_cmap("viridis")


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
