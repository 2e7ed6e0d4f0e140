"""One experiment per chapter, each a ``Config -> run(config) -> Result`` triple.

- :mod:`uniq_core.experiments.divergence`: perturbed replicas of one network drift apart (introduction).
"""
