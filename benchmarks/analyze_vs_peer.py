"""Benchmark: uniq_core.analyze.Analyzer against deep-lyapunov's StabilityAnalyzer on the same model and loader.

Workloads (offline data: scikit-learn's 8 × 8 digits, 1,500 of them):
- "mlp": the peer's README example, an MLP with 128 hidden units (64-128-10), SGD lr 0.1, batch 64;
- "cnn": a small CNN with BatchNorm (two 3 × 3 convolutions of 8 and 16 channels), Adam lr 1e-3, batch 64.
Both: 5 copies (the original and 4 perturbed), perturbation 0.01, 10 epochs, one checkpoint per epoch; each
contender in its own process (so its peak RSS is its own), the same DataLoader order (no shuffling); the
peer calls the training function once per epoch, so it keeps one optimiser per copy across those calls.
Reports wall time (and the part spent training: our ``fit``'s passes over the loader, without its
sharpness measurements and with no tangent exponents, which the peer does not compute; the peer's calls of
the training function),
peak RSS and the three numbers each package gives (the peer's from its own analyzer; ours from
``Analyzer.report()``, which computes the peer's by its definitions), plus our exponent with its interval.
Needs deep-lyapunov (``pip install -r benchmarks/requirements.txt``).
Usage: python benchmarks/analyze_vs_peer.py [--workload mlp|cnn ...]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

N_TRAIN, COPIES, PERTURBATION, EPOCHS, BATCH = 1500, 5, 0.01, 10, 64
WORKLOADS = {"mlp": ("SGD", 0.1), "cnn": ("Adam", 1e-3)}


def workload(name: str):
    from torch.utils.data import DataLoader, TensorDataset

    from uniq_core import data

    dataset = data.load("digits", n_train=N_TRAIN, test_fraction=0.15)
    torch.manual_seed(0)
    if name == "mlp":
        model, x = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)), dataset.x_train
    else:
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                              nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
        x = dataset.x_train.reshape(-1, 1, 8, 8)
    loader = DataLoader(TensorDataset(x, dataset.y_train), batch_size=BATCH, shuffle=False)
    optimizer, lr = WORKLOADS[name]
    return model, loader, getattr(torch.optim, optimizer), lr


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(name: str) -> dict:
    from uniq_core.analyze import Analyzer

    model, loader, optimizer, lr = workload(name)
    started = time.perf_counter()
    analyzer = Analyzer(model, perturbation=PERTURBATION, n_copies=COPIES, device="cpu")
    analyzer.fit(loader, F.cross_entropy, optimizer, epochs=EPOCHS, lr=lr, tangents=0)  # the peer has no tangents
    result = analyzer.report()
    seconds = time.perf_counter() - started
    # training: the passes over the loader alone (fit also measures sharpness at the start and the end)
    return {"seconds": seconds, "training_seconds": analyzer.seconds["training"], "metrics": {
        "convergence_ratio": result.convergence_ratio, "lyapunov": result.lyapunov,
        "effective_dimensionality": result.effective_dimensionality, "behavior": result.behavior,
        "exponent": result.exponent, "exponent_interval": result.exponent_interval.tolist(),
        "diverged": int(result.diverged.sum())}}


def run_peer(name: str) -> dict:
    from deep_lyapunov import StabilityAnalyzer

    from uniq_core.experiments.peer import training_function

    model, loader, optimizer, lr = workload(name)
    train, spent = training_function(optimizer, lr)  # one optimiser per copy, kept across the peer's calls

    started = time.perf_counter()
    analyzer = StabilityAnalyzer(model, perturbation_scale=PERTURBATION, n_trajectories=COPIES, device="cpu",
                                 verbose=False)
    results = analyzer.analyze(train, loader, n_epochs=EPOCHS)
    return {"seconds": time.perf_counter() - started, "training_seconds": spent[0], "metrics": {
        "convergence_ratio": results.convergence_ratio, "lyapunov": results.lyapunov,
        "effective_dimensionality": results.effective_dimensionality, "behavior": results.behavior}}


CONTENDERS = {"ours": run_ours, "peer": run_peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--only", nargs=2, metavar=("CONTENDER", "WORKLOAD"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.only:  # child process: one contender on one workload
        result = CONTENDERS[arguments.only[0]](arguments.only[1])
        result["peak_rss_mb"] = round(peak_mb(), 1)
        print(json.dumps(result, default=float))
        return
    report: dict = {"benchmark": "analyze_vs_peer", "threads": torch.get_num_threads(),
                    "setting": f"{N_TRAIN} digits, {COPIES} copies, perturbation {PERTURBATION}, {EPOCHS} epochs, "
                               f"batch {BATCH}"}
    for name in arguments.workload or list(WORKLOADS):
        row = {"optimizer": f"{WORKLOADS[name][0]} lr {WORKLOADS[name][1]}"}
        for contender in CONTENDERS:
            output = subprocess.run([sys.executable, __file__, "--only", contender, name], capture_output=True,
                                    text=True, check=True).stdout
            row[contender] = json.loads(output.strip().splitlines()[-1])
            print(f"{name} {contender}: {row[contender]['seconds']:.2f} s (training "
                  f"{row[contender]['training_seconds']:.2f} s), peak RSS "
                  f"{row[contender]['peak_rss_mb']:.0f} MB", flush=True)
        row["speedup"] = round(row["peer"]["seconds"] / row["ours"]["seconds"], 1)
        row["training_speedup"] = round(row["peer"]["training_seconds"] / row["ours"]["training_seconds"], 2)
        report[name] = row
    print(json.dumps(report, default=float))


if __name__ == "__main__":
    main()
