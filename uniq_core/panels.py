"""Each chapter's live panel: which experiment it runs, from which starting Config, with which controls.

A panel's starting Config is small on purpose: its first run, with an empty cache, finishes within about
ten seconds on two CPU cores (``benchmarks/panels.py`` measures it); readers move the sliders to go bigger.
Chapters show a panel with ``panels.panel("NN_name")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from uniq_core import explore, plots
from uniq_core.experiments import divergence, dna, entropy, fisher, lyapunov, probes, topology


@dataclass(frozen=True)
class PanelSpec:
    """What a chapter's panel runs: ``run(config)`` from ``config()``, ``controls`` bound to Config fields
    (see :func:`uniq_core.explore.explore`), and ``show(result)`` drawing the figure."""

    chapter: str
    title: str
    run: Callable[..., Any]
    config: Callable[[], Any]
    controls: dict[str, Any]
    show: Callable[[Any], Any]


def specs() -> dict[str, PanelSpec]:
    """Every chapter's panel, by chapter name (``"00_intro"`` …)."""
    panels = [
        PanelSpec(
            "00_intro", "Perturbed replicas on digits", divergence.run,
            lambda: divergence.Config.quick(),
            {"perturbation": ("log", 1e-6, 1e-1), "lr": (0.01, 0.5, 0.01), "momentum": (0.0, 0.95, 0.05),
             "epochs": (1.0, 40.0, 1.0), "independent_order": bool, "device": ["auto", "cpu", "cuda"]},
            plots.divergence_figure,
        ),
        PanelSpec(
            "01_lyapunov", "Finite-perturbation divergence on digits", lyapunov.run_divergence,
            lambda: lyapunov.DivergenceConfig.quick().replace(n_seeds=2, epochs=5),
            {"lr": (0.01, 1.0, 0.01), "perturbation": ("log", 1e-6, 1e-1), "momentum": (0.0, 0.95, 0.05),
             "epochs": (2, 40, 1), "independent_order": bool, "n_seeds": (2, 10, 1),
             "device": ["auto", "cpu", "cuda"]},
            plots.spread_figure,
        ),
        PanelSpec(
            "02_entropy", "Entropy production at a minimum", entropy.run_entropy,
            lambda: entropy.EntropyConfig.quick().replace(n_seeds=1, sample_steps=500),
            {"lr": (0.01, 0.5, 0.01), "batch_size": (1, 256, 1), "temperature": [0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
             "subspace": (2, 32, 1), "chains": (4, 128, 4), "sample_steps": (200, 5000, 100), "n_seeds": (1, 6, 1),
             "device": ["auto", "cpu", "cuda"]},
            plots.stationary_figure,
        ),
        PanelSpec(
            "03_topology", "Topology of training trajectories", topology.run_topology,
            lambda: topology.TopologyConfig.quick(),
            {"perturbation": ("log", 1e-5, 1.0), "widths": [(16,), (32,), (64,), (128,)], "epochs": (2, 60, 1),
             "independent_order": bool, "lr": (0.01, 0.5, 0.01), "device": ["auto", "cpu", "cuda"]},
            plots.trajectory_topology_figure,
        ),
        PanelSpec(
            "04_probes", "Heavy-ball probes", probes.run_probes,
            lambda: probes.ProbeConfig.quick().replace(n_seeds=1),
            # at β = 1: the ΔNEGdt probe means nothing below it. No mass slider: over a fixed number of steps
            # every probe depends on dt/√M only, so it would repeat the dt slider. No BatchNorm-momentum
            # slider: in train mode the running statistics are written, never read, so it changes nothing.
            {"dt": ("log", 0.01, 2.0), "steps": (10, 400, 10), "n_seeds": (1, 5, 1),
             "activation": ["relu", "softplus"], "device": ["auto", "cpu", "cuda"]},
            plots.probes_figure,
        ),
        PanelSpec(
            "05_fisher", "Fisher spectrum along training", fisher.run_fisher,
            lambda: fisher.FisherConfig.quick().replace(n_seeds=1, widths=(16,), probe_size=150),
            {"widths": [(16,), (32,), (64,), (32, 32), (64, 64)], "activation": ["relu", "tanh", "gelu", "linear"],
             "epochs": (1, 60, 1), "probe_size": (50, 600, 50), "output": ["softmax", "logits"],
             "n_seeds": (1, 5, 1), "device": ["auto", "cpu", "cuda"]},
            plots.fisher_spectrum_figure,
        ),
        PanelSpec(
            "06_dna", "SIREN fit of MiniLM weights", dna.run_dna,
            lambda: dna.DnaConfig.quick().replace(n_seeds=1, steps=250),
            {"matrices": [dna.MINILM_QUICK, ("encoder.layer.5.attention.self.value.weight",),
                          ("encoder.layer.0.intermediate.dense.weight",)],
             "ratio": (2.0, 100.0, 1.0), "omega0": ("log", 1.0, 100.0), "frequencies": ["single", "multi", "both"],
             "steps": (50, 20000, 50), "device": ["auto", "cpu", "cuda"]},
            plots.dna_figure,
        ),
    ]
    return {spec.chapter: spec for spec in panels}


def panel(chapter: str) -> explore.Panel:
    """The live panel of ``chapter`` (``"00_intro"`` …); on the static site it links to the chapter's
    Colab notebook instead of running."""
    known = specs()
    if chapter not in known:
        raise ValueError(f"chapter={chapter!r} has no panel; allowed values: {', '.join(known)}")
    spec = known[chapter]
    return explore.explore(spec.run, spec.config(), spec.controls, show=spec.show, title=spec.title,
                           notebook=chapter)
