"""Benchmark: cost of one Benettin step of the training map against one full-batch training step.

A Benettin step pushes the state and k tangent vectors through the map (k Hessian-vector products by
forward-over-reverse differentiation, batched with vmap) and re-orthonormalises them by QR. Target: at
most (k + 2) training steps per Benettin step. Workload: the chapter's MLP on 256 digits, full batch.
Usage: python benchmarks/tangent_cost.py [--k 3] [--steps 30]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from uniq_core import data, models
from uniq_core.lyapunov import lyapunov_spectrum, training_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--widths", type=int, nargs="+", default=[32])
    arguments = parser.parse_args()
    dataset = data.load("digits", n_train=256)
    torch.manual_seed(0)
    model = models.MLP(64, tuple(arguments.widths), 10).double()
    inputs, targets = dataset.x_train.double(), dataset.y_train
    report = {"benchmark": "tangent_cost", "threads": torch.get_num_threads(), "widths": arguments.widths}
    for momentum in (0.0, 0.9):
        step, state = training_map(model, inputs, targets, lr=0.5, momentum=momentum)
        lyapunov_spectrum(step, state, 2, k=arguments.k)  # warm-up
        with torch.no_grad():
            step(state)
            started = time.perf_counter()
            for _ in range(arguments.steps):
                state = step(state)
            training_step = (time.perf_counter() - started) / arguments.steps
        started = time.perf_counter()
        lyapunov_spectrum(step, state, arguments.steps, k=arguments.k)
        benettin_step = (time.perf_counter() - started) / arguments.steps
        name = "heavy_ball" if momentum else "gradient_descent"
        report[name] = {
            "training_step_ms": round(1e3 * training_step, 3),
            "benettin_step_ms": round(1e3 * benettin_step, 3),
            "ratio": round(benettin_step / training_step, 2),
            "target_ratio": arguments.k + 2,
        }
        print(f"{name}: training step {1e3 * training_step:.2f} ms · Benettin step (k={arguments.k}) "
              f"{1e3 * benettin_step:.2f} ms · ratio {benettin_step / training_step:.2f} (target ≤ {arguments.k + 2})")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
