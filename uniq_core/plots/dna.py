"""Figures of chapter 6: SIREN fits of weights against baselines and controls."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import plotly.graph_objects as go


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
