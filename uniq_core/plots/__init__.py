"""Figures: matplotlib for static plots, plotly for sweeps with a slider that work on the static site.

One module per chapter (``common`` holds what they share); every figure function a chapter module defines
is also ``uniq_core.plots.NAME``.
"""

import inspect as _inspect

from uniq_core.plots import divergence, dna, entropy, fisher, lyapunov, probes, topology, verdicts
from uniq_core.plots.common import PALETTE, glue, glue_all, show, static_site, sweep_figure

CHAPTER_MODULES = (divergence, lyapunov, entropy, topology, probes, fisher, dna, verdicts)

__all__ = ["PALETTE", "glue", "glue_all", "show", "static_site", "sweep_figure"]
for _module in CHAPTER_MODULES:
    for _name, _function in _inspect.getmembers(_module, _inspect.isfunction):
        if _function.__module__ == _module.__name__ and not _name.startswith("_"):
            globals()[_name] = _function
            __all__.append(_name)
