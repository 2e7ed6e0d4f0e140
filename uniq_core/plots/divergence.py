"""Figures of the introduction: perturbed replicas drifting apart."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE


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


REPRODUCIBILITY_STYLES = {
    "re-run": dict(color="black", ls="-"),
    "float64": dict(color="black", ls="--"),
    "two half-batches": dict(color="#b00020", ls=":"),
    "threads": dict(color="#555555", ls="-."),
}


def divergence_figure(result: Any, reproducibility: Any | None = None) -> plt.Figure:
    """Distance of each perturbed replica from the reference (log scale) and the replicas' test accuracy.

    With ``reproducibility`` (a ``ReproducibilityResult``), the distances of the unperturbed variants
    (float64, another reduction order, another thread count) from the float32 reference run are drawn on
    the same axes; a variant that stays bitwise identical is named in the legend (distance 0 has no place
    on a log axis).
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    count = result.distance.shape[0] - 1
    for k in range(1, count + 1):
        left.plot(result.epochs, result.distance[k], color=PALETTE(k / max(count, 1)), lw=1.2,
                  label="perturbed replicas" if k == 1 else None)
    if reproducibility is not None:
        for name, distance, identical in zip(reproducibility.names, reproducibility.distance,
                                             reproducibility.bitwise_identical):
            style = REPRODUCIBILITY_STYLES.get(name, dict(color="black", ls="-"))
            if identical:
                left.plot([], [], lw=1.6, **style, label=f"{name}: bitwise identical")
                continue
            positive = distance > 0
            left.plot(reproducibility.epochs[positive], distance[positive], lw=1.6, **style,
                      label=f"{name} (no perturbation)")
        left.legend(fontsize=7, loc="lower right")
    left.set_yscale("log")
    left.set_xlabel("epoch")
    left.set_ylabel(r"$\|\theta_k - \theta_0\|$")
    left.set_title("distance from the reference run" if reproducibility is not None
                   else "distance of each perturbed replica from the reference")
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
