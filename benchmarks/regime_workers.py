"""The regime map (chapter 1, quick profile) in-process and on a local Dask cluster of 1 and 2 worker
processes (one thread each), each with an empty results cache. Prints one JSON line:
{"regime_workers": {"cells": n, "in_process": s, "workers": {"1": s, "2": s}, "same_result": bool}}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    os.environ.setdefault("UNIQ_PROFILE", "quick")
    os.environ["OMP_NUM_THREADS"] = "1"  # one thread per process, inherited by the workers
    import numpy as np
    import torch
    from distributed import Client, LocalCluster

    from uniq_core.experiments import lyapunov

    torch.set_num_threads(1)
    config = lyapunov.RegimeConfig.quick().replace(device="cpu")
    cells = config.n_seeds * len(config.lrs) * len(config.perturbations)
    timings: dict[str, object] = {"cells": cells}
    started = time.perf_counter()
    reference = lyapunov.run_regime(config, progress=False, use_cache=False)
    timings["in_process"] = round(time.perf_counter() - started, 2)
    same = True
    workers = {}
    for n in (1, 2):
        os.environ["UNIQ_CACHE_DIR"] = tempfile.mkdtemp(prefix="uniq-regime-")
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.run(lambda: __import__("torch").set_num_threads(1))
            started = time.perf_counter()
            result = lyapunov.run_regime(config, progress=False, use_cache=False, executor=client.get_executor())
            workers[str(n)] = round(time.perf_counter() - started, 2)
        same &= all(np.array_equal(result.to_dict()[k], v, equal_nan=True) if isinstance(v, np.ndarray) else
                    result.to_dict()[k] == v for k, v in reference.to_dict().items())
    timings["workers"] = workers
    timings["same_result"] = bool(same)
    print(json.dumps({"regime_workers": timings}))


if __name__ == "__main__":
    main()
