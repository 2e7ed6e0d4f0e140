"""Benchmark: the spectrum of the Fisher pullback metric of a ~100k-parameter MLP on a few hundred inputs.

Workload: MLP 64-300-256-10 (ReLU, 99,126 parameters, float64) on the first N standardised digits,
softmax (Fisher–Rao) output metric. Contenders, each in its own process so peak RSS is its own:
- ``gram``: uniq_core.fisher.fisher_spectrum, which assembles the N·K × N·K Gram matrix layer by layer;
- ``jacobian``: the per-example Jacobian J (N·K × P) materialised with torch.func.jacrev, then the same
  Gram matrix A Aᵀ and its eigenvalues (the direct route the Gram form avoids);
- the P × P metric itself would need P² = 9.7e9 numbers (77 GB in float64) and is not attempted.

Target: seconds and well under 1 GB on CPU for N = 300. Usage: python benchmarks/fisher_gram.py
[--inputs 300]. Prints one JSON line last.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import torch

WIDTHS = (300, 256)


def workload(n: int):
    from uniq_core import data, models

    dataset = data.load("digits", n_train=1000, seed=0, device="cpu")
    torch.manual_seed(0)
    model = models.MLP(64, WIDTHS, 10).double()
    return model, dataset.x_train[:n].double()


def run(method: str, n: int) -> dict:
    from uniq_core import fisher

    model, x = workload(n)
    started = time.perf_counter()
    if method == "gram":
        spectrum = fisher.fisher_spectrum(model, x, output="softmax")
    else:
        J = fisher.jacobian(model, x)
        A = torch.einsum("nij,njp->nip", fisher._factors(model(x), "softmax"), J).reshape(-1, J.shape[-1])
        spectrum = np.linalg.eigvalsh((A @ A.T).detach().numpy())[::-1]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "top": float(spectrum[0]), "parameters": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=300)
    parser.add_argument("--method", choices=["gram", "jacobian"])
    args = parser.parse_args()
    if args.method:
        print(json.dumps(run(args.method, args.inputs)))
        return
    results = {}
    for method in ("gram", "jacobian"):
        out = subprocess.run([sys.executable, __file__, "--method", method, "--inputs", str(args.inputs)],
                             capture_output=True, text=True)
        results[method] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else \
            {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
        print(method, results[method], flush=True)
    if "top" in results["gram"] and "top" in results["jacobian"]:
        results["top_relative_difference"] = abs(results["gram"]["top"] / results["jacobian"]["top"] - 1)
    print(json.dumps({"inputs": args.inputs, **results}))


if __name__ == "__main__":
    main()
