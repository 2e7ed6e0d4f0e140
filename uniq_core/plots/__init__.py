"""Figures: matplotlib for static plots, plotly for sweeps with a slider that work on the static site.

One module per chapter (``common`` holds what they share); every figure is also ``uniq_core.plots.NAME``.
"""

from uniq_core.plots.common import PALETTE, glue, show, static_site, sweep_figure
from uniq_core.plots.divergence import divergence_traces, divergence_figure
from uniq_core.plots.lyapunov import spread_figure, tangent_figure, instability_figure, regime_traces
from uniq_core.plots.entropy import validation_figure, dimension_figure, stationary_figure, current_figure, training_entropy_figure, entropy_sweep_traces
from uniq_core.plots.topology import persistence_figure, trajectory_topology_figure, symmetry_figure, topology_sweep_traces
from uniq_core.plots.probes import probes_figure, dose_figure, mass_figure, probe_sweep_traces, energy_figure, damping_figure
from uniq_core.plots.fisher import null_check_figure, fisher_spectrum_figure, representation_figure, fisher_sweep_traces
from uniq_core.plots.dna import dna_figure, dna_sweep_traces

__all__ = [
    "PALETTE",
    "glue",
    "show",
    "static_site",
    "sweep_figure",
    "divergence_traces",
    "divergence_figure",
    "spread_figure",
    "tangent_figure",
    "instability_figure",
    "regime_traces",
    "validation_figure",
    "dimension_figure",
    "stationary_figure",
    "current_figure",
    "training_entropy_figure",
    "entropy_sweep_traces",
    "persistence_figure",
    "trajectory_topology_figure",
    "symmetry_figure",
    "topology_sweep_traces",
    "probes_figure",
    "dose_figure",
    "mass_figure",
    "probe_sweep_traces",
    "energy_figure",
    "damping_figure",
    "null_check_figure",
    "fisher_spectrum_figure",
    "representation_figure",
    "fisher_sweep_traces",
    "dna_figure",
    "dna_sweep_traces",
]
