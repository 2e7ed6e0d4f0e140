"""Benchmark: K replicas trained in one batched step vs one after another, and achieved FLOP/s.

Workloads, on the digits with SGD + momentum and K replicas:
- "target": MLP 64-256-256-10, minibatch 256 (the workload the targets name);
- "small": MLP 64-128-10, minibatch 64 (the size of the book's chapters, where per-step overhead dominates).
- batched: uniq_core.replicas.train_replicas (torch.func.vmap over stacked parameters);
- sequential: the plain PyTorch loop (nn.Module, loss.backward(), torch.optim.SGD) for each replica in turn;
- the engine's own replica-by-replica mode (same arithmetic as batched) for reference.
Achieved FLOP/s counts the matrix products of forward and backward passes (3 × forward) and is compared
with the machine's measured float32 matrix-multiply rate (best of repeated 2048² products).

Targets: batched ≥ 5× faster than sequential for K = 16 on 2 CPU cores; ≥ 40% of the measured matmul rate
(for the target workload). Note that batching cannot beat sequential training by more than
(batched FLOP/s) / (sequential FLOP/s): where the sequential loop is already compute-bound, the speed-up
is bounded by how far below the matmul rate it runs; the report prints both rates.
Usage: python benchmarks/replicas.py [--replicas 16] [--steps 60] [--device auto]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time

import torch
from torch.nn import functional as F

from uniq_core import data, models, replicas, runtime

WORKLOADS = {"target": ((256, 256), 256), "small": ((128,), 64)}


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, size: int = 2048, repeats: int = 10) -> float:
    """Best observed float32 FLOP/s of a size×size matrix product."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats):
        synchronise(device)
        start = time.perf_counter()
        a @ b
        synchronise(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def flops_per_step(n_replicas: int, sizes: tuple[int, ...], batch: int) -> float:
    forward = sum(2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return 3.0 * forward * n_replicas


def sequential(model, dataset, n_replicas: int, n_steps: int, device: torch.device, batch: int) -> float:
    """Plain PyTorch: each replica trained on its own, one after another (same data order)."""
    plan = replicas.make_batch_plan(dataset.x_train.shape[0], batch, n_steps, seed=0).to(device)
    x, y = dataset.x_train.to(device), dataset.y_train.to(device)
    synchronise(device)
    start = time.perf_counter()
    for _ in range(n_replicas):
        copy_ = copy.deepcopy(model).to(device)
        optimiser = torch.optim.SGD(copy_.parameters(), lr=0.05, momentum=0.9)
        for step in range(n_steps):
            index = plan[0, step]
            optimiser.zero_grad(set_to_none=True)
            F.cross_entropy(copy_(x[index]), y[index]).backward()
            optimiser.step()
    synchronise(device)
    return time.perf_counter() - start


def engine(model, dataset, n_replicas: int, n_steps: int, device: torch.device, batch: int, mode: str) -> float:
    synchronise(device)
    start = time.perf_counter()
    replicas.train_replicas(
        model, dataset, n_replicas=n_replicas, perturbation=1e-3, lr=0.05, momentum=0.9, batch_size=batch,
        n_steps=n_steps, record_every=n_steps, mode=mode, device=device,
    )
    synchronise(device)
    return time.perf_counter() - start


def measure(name: str, dataset, K: int, T: int, device: torch.device, repeats: int, peak: float) -> dict:
    widths, batch = WORKLOADS[name]
    torch.manual_seed(0)
    model = models.MLP(dataset.n_features, widths, dataset.n_classes).to(device)
    engine(model, dataset, K, 3, device, batch, "vmap")  # warm-up: first-call costs of torch.func
    sequential(model, dataset, 1, 3, device, batch)
    best = lambda timing: min(timing() for _ in range(repeats))  # noqa: E731
    batched_s = best(lambda: engine(model, dataset, K, T, device, batch, "vmap"))
    looped_s = best(lambda: engine(model, dataset, K, T, device, batch, "loop"))
    sequential_s = best(lambda: sequential(model, dataset, K, T, device, batch))
    work = flops_per_step(K, (dataset.n_features, *widths, dataset.n_classes), batch) * T
    result = {
        "model": f"MLP {'-'.join(map(str, (dataset.n_features, *widths, dataset.n_classes)))}, batch {batch}",
        "batched_s": round(batched_s, 4),
        "engine_loop_s": round(looped_s, 4),
        "sequential_s": round(sequential_s, 4),
        "speedup_vs_sequential": round(sequential_s / batched_s, 2),
        "batched_gflops": round(work / batched_s / 1e9, 2),
        "sequential_gflops": round(work / sequential_s / 1e9, 2),
        "fraction_of_matmul": round(work / batched_s / peak, 3),
    }
    print(f"{name}: {result['model']} · batched {batched_s:.3f}s · engine loop {looped_s:.3f}s · "
          f"sequential {sequential_s:.3f}s · x{result['speedup_vs_sequential']} · "
          f"{result['batched_gflops']} GFLOP/s ({100 * result['fraction_of_matmul']:.0f}% of matmul)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=16)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many timings")
    arguments = parser.parse_args()
    device = runtime.device(arguments.device)
    dataset = data.load("digits", device=device)
    peak = matmul_rate(device)
    report = {
        "benchmark": "replicas",
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "replicas": arguments.replicas,
        "steps": arguments.steps,
        "matmul_gflops": round(peak / 1e9, 2),
        "workloads": {
            name: measure(name, dataset, arguments.replicas, arguments.steps, device, arguments.repeats, peak)
            for name in WORKLOADS
        },
        "targets": {"speedup_vs_sequential": 5.0, "fraction_of_matmul": 0.40},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
