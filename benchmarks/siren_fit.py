"""Benchmark: one SIREN fit of chapter 6, step by step, through autograd and through the written-out pass.

Workload: the first MiniLM query matrix (384 × 384) at the claim's budget (hidden 55, 3 layers, 22.7×),
minibatches of 1,024, the running R² on every coordinate read every 250 steps, as ``DnaConfig.standard()``
fits it. Two paths from the same seed: the reference (``loss.backward()``, torch's single-tensor Adam, whole-
grid checks in chunks of 65,536) and the fitter's own (:func:`uniq_core.dna.siren_loss_and_gradients`,
multi-tensor Adam, :data:`uniq_core.dna.RECONSTRUCTION_CHUNK`). Reports milliseconds per step of each, the
speed-up and the largest difference between their reconstructions.
Usage: python benchmarks/siren_fit.py [--steps 1000]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from uniq_core import dna


class _SingleTensorAdam(torch.optim.Adam):
    """torch's Adam as it runs by default on a CPU (one tensor at a time)."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **{**kwargs, "foreach": False})


def _fit(grid: dna.WeightGrid, hidden: int, steps: int, reference: bool) -> tuple[float, dna.SirenFit]:
    patched = (dna.siren_loss_and_gradients, torch.optim.Adam, dna.RECONSTRUCTION_CHUNK)
    if reference:
        dna.siren_loss_and_gradients = dna._autograd_loss_and_gradients
        torch.optim.Adam = _SingleTensorAdam
        dna.RECONSTRUCTION_CHUNK = 65536
    try:
        started = time.perf_counter()
        fit = dna.fit_until_flat(grid, seed=0, hidden=hidden, layers=3, lr=1e-3, batch_size=1024,
                                 max_steps=steps, check_every=250)
        return time.perf_counter() - started, fit
    finally:
        dna.siren_loss_and_gradients, torch.optim.Adam, dna.RECONSTRUCTION_CHUNK = patched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    arguments = parser.parse_args()
    name = "encoder.layer.0.attention.self.query.weight"
    grid = dna.weight_grid(dna.load_minilm([name]))
    hidden = dna.hidden_for_ratio(grid.size, 22.7, 3)
    _fit(grid, hidden, 20, reference=False)  # warm-up
    reference_seconds, reference = _fit(grid, hidden, arguments.steps, reference=True)
    seconds, fit = _fit(grid, hidden, arguments.steps, reference=False)
    report = {"benchmark": "siren_fit", "threads": torch.get_num_threads(), "matrix": name, "hidden": hidden,
              "steps": arguments.steps, "batch_size": 1024,
              "reference_ms_per_step": round(1e3 * reference_seconds / arguments.steps, 3),
              "ms_per_step": round(1e3 * seconds / arguments.steps, 3),
              "speed_up": round(reference_seconds / seconds, 2),
              "largest_difference": float(abs(fit.reconstruction - reference.reconstruction).max()),
              "r2": float(fit.r2_running[-1])}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
