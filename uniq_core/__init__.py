"""uniq_core: measurements of uniqueness, chaos and geometry in neural-network training.

Layers (imports point downwards only):

- presentation: :mod:`uniq_core.explore` (live widgets), :mod:`uniq_core.plots` (figures, static sweeps)
- a reader's own network: :mod:`uniq_core.analyze` (the stability probes on any functional module)
- experiments: :mod:`uniq_core.experiments` (one ``Config -> run -> Result`` per chapter)
- measures: :mod:`uniq_core.lyapunov`, :mod:`uniq_core.thermo`, :mod:`uniq_core.topology`,
  :mod:`uniq_core.symmetry`, :mod:`uniq_core.fisher`, :mod:`uniq_core.dna`, :mod:`uniq_core.barriers`
- engine: :mod:`uniq_core.replicas` (K perturbed copies trained in one batched step)
- substrate: :mod:`uniq_core.models`, :mod:`uniq_core.data`, :mod:`uniq_core.runtime`
"""

__version__ = "0.4.1"
