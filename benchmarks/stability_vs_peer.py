"""Benchmark: uniq_core vs deep-lyapunov's StabilityAnalyzer on the same stability workload, end to end.

Workload: MLP 64-128-10 on the first 1500 standardised digits; the original and 8 perturbed copies
(perturbation 0.01); 10 epochs of SGD, lr 0.1, batch 64; checkpoints every epoch; then each tool's metrics
(for deep-lyapunov its convergence ratio, Lyapunov estimate and effective dimensionality; for uniq_core
ours; the peer's three by its definitions on our checkpoints are printed too, computed after the timing). A plain sequential PyTorch loop training the
9 copies (no analysis) is timed too. Each contender runs in its own process, so peak RSS is its own.

Targets (2 CPU cores): ≥ 30× faster than deep-lyapunov end to end, ≥ 5× faster than the plain sequential
loop, peak memory ≤ 500 MB. Needs `pip install -r benchmarks/requirements.txt` (deep-lyapunov).
Usage: python benchmarks/stability_vs_peer.py [--device cpu]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from torch.nn import functional as F

N_TRAIN, WIDTH, COPIES, PERTURBATION, EPOCHS, LR, BATCH = 1500, 128, 9, 0.01, 10, 0.1, 64


def workload(device: str):
    from uniq_core import data, models

    dataset = data.load("digits", n_train=N_TRAIN, test_fraction=0.15, device=device)
    torch.manual_seed(0)
    return dataset, models.MLP(64, (WIDTH,), 10).to(device)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_ours(device: str) -> dict:
    from uniq_core import replicas
    from uniq_core.experiments.lyapunov import measure_divergence

    dataset, model = workload(device)
    started = time.perf_counter()
    per_epoch = N_TRAIN // BATCH
    record = replicas.train_replicas(
        model, dataset, n_replicas=COPIES, perturbation=PERTURBATION, lr=LR, batch_size=BATCH,
        n_steps=EPOCHS * per_epoch, record_every=per_epoch, checkpoint_every=per_epoch, device=device,
    )
    metrics = measure_divergence(record, per_epoch, EPOCHS, include_peer=False)
    seconds = time.perf_counter() - started
    # the peer's three numbers by its definitions, on our checkpoints (outside the timed region)
    return {"seconds": seconds, "metrics": measure_divergence(record, per_epoch, EPOCHS)}


def run_sequential(device: str) -> dict:
    import copy

    from uniq_core import replicas

    dataset, model = workload(device)
    started = time.perf_counter()
    plan = replicas.make_batch_plan(N_TRAIN, BATCH, EPOCHS * (N_TRAIN // BATCH), seed=0)
    for _ in range(COPIES):
        copy_ = copy.deepcopy(model)
        optimiser = torch.optim.SGD(copy_.parameters(), lr=LR)
        for index in plan[0]:
            optimiser.zero_grad(set_to_none=True)
            F.cross_entropy(copy_(dataset.x_train[index]), dataset.y_train[index]).backward()
            optimiser.step()
    return {"seconds": time.perf_counter() - started}


def run_peer(device: str) -> dict:
    from deep_lyapunov import StabilityAnalyzer
    from torch.utils.data import DataLoader, TensorDataset

    dataset, model = workload(device)
    loader = DataLoader(TensorDataset(dataset.x_train, dataset.y_train), batch_size=BATCH, shuffle=True)

    def train(network, data_loader, epochs):
        optimiser = torch.optim.SGD(network.parameters(), lr=LR)
        losses = []
        for _ in range(epochs):
            for inputs, labels in data_loader:
                optimiser.zero_grad()
                loss = F.cross_entropy(network(inputs), labels)
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
        return {"loss": losses}

    started = time.perf_counter()
    analyzer = StabilityAnalyzer(model, perturbation_scale=PERTURBATION, n_trajectories=COPIES, device=device)
    results = analyzer.analyze(train, loader, n_epochs=EPOCHS)
    return {
        "seconds": time.perf_counter() - started,
        "metrics": {
            "convergence_ratio": results.convergence_ratio,
            "lyapunov": results.lyapunov,
            "effective_dimensionality": results.effective_dimensionality,
            "behavior": results.behavior,
        },
    }


CONTENDERS = {"ours": run_ours, "sequential": run_sequential, "peer": run_peer}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--skip-peer", action="store_true", help="when deep-lyapunov is not installed")
    arguments = parser.parse_args()
    if arguments.only:  # child process: run one contender, report time, metrics and peak RSS
        torch.set_num_threads(torch.get_num_threads())
        result = CONTENDERS[arguments.only](arguments.device)
        result["peak_rss_mb"] = round(peak_mb(), 1)
        print(json.dumps(result, default=float))
        return
    names = [n for n in ("ours", "sequential", "peer") if not (n == "peer" and arguments.skip_peer)]
    report: dict = {"benchmark": "stability_vs_peer", "device": arguments.device, "threads": torch.get_num_threads(),
                    "workload": f"MLP 64-{WIDTH}-10, {N_TRAIN} digits, {COPIES} copies, {EPOCHS} epochs, "
                                f"SGD lr {LR}, batch {BATCH}, perturbation {PERTURBATION}"}
    for name in names:
        output = subprocess.run([sys.executable, __file__, "--only", name, "--device", arguments.device],
                                capture_output=True, text=True, check=True).stdout
        report[name] = json.loads(output.strip().splitlines()[-1])
        print(f"{name}: {report[name]['seconds']:.2f} s, peak RSS {report[name]['peak_rss_mb']:.0f} MB", flush=True)
    ours = report["ours"]["seconds"]
    report["speedup_vs_sequential"] = round(report["sequential"]["seconds"] / ours, 2)
    if "peer" in report:
        report["speedup"] = round(report["peer"]["seconds"] / ours, 1)
    report["targets"] = {"speedup": 30, "speedup_vs_sequential": 5, "peak_rss_mb": 500}
    print(json.dumps(report, default=float))


if __name__ == "__main__":
    main()
