import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from uniq_core import runtime
from uniq_core.experiments import divergence


def test_profile_reads_environment(monkeypatch):
    monkeypatch.setenv("UNIQ_PROFILE", "full")
    assert runtime.profile() == "full"
    monkeypatch.setenv("UNIQ_PROFILE", "QUICK")
    assert runtime.profile() == "quick"


def test_every_config_has_a_standard_profile_with_at_least_eight_units(monkeypatch):
    from uniq_core import cli, schema

    monkeypatch.setenv("UNIQ_PROFILE", "standard")
    for name, experiment in cli.experiments().items():
        standard, quick = experiment.config_type.standard(), experiment.config_type.quick()
        assert experiment.config_type.for_profile() == standard
        for field in schema.UNIT_FIELDS:
            if hasattr(standard, field):
                assert getattr(standard, field) >= max(schema.STANDARD_UNITS, getattr(quick, field)), (name, field)


def test_profile_default_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("UNIQ_PROFILE", raising=False)
    assert runtime.profile() == ("full" if torch.cuda.is_available() else "quick")


def test_bad_profile_names_allowed_values(monkeypatch):
    monkeypatch.setenv("UNIQ_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"UNIQ_PROFILE='fast'.*quick, standard, full"):
        runtime.profile()


def test_device_resolution():
    assert runtime.device("cpu") == torch.device("cpu")
    assert runtime.device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device='tpu'.*allowed values"):
        runtime.device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        runtime.device("cuda")


def test_seeding_is_reproducible():
    runtime.seed_everything(3)
    a = torch.randn(5)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.randn(5))


#: a device other than the one "auto" means here
_OTHER = "cpu" if torch.cuda.is_available() else "cuda"


def test_config_key_follows_the_source_the_device_and_torch(monkeypatch):
    config = divergence.Config()
    key = runtime.config_key(config)
    assert len(runtime.source_hash()) == 20
    monkeypatch.setattr(runtime, "source_hash", lambda: "an edited measure")
    assert runtime.config_key(config) != key
    monkeypatch.undo()
    monkeypatch.setattr(runtime.torch, "__version__", "0.0.0")
    assert runtime.config_key(config) != key
    monkeypatch.undo()
    monkeypatch.setattr(runtime, "device", lambda name=None: runtime.torch.device(_OTHER))
    assert runtime.config_key(config) != key  # "auto" means another device on another machine
    monkeypatch.undo()
    assert runtime.config_key(config.replace(device=str(runtime.device("auto")))) == key  # the same runs
    assert runtime.config_key(config.replace(device=_OTHER)) != key


def test_config_key_resolves_the_device_of_a_nested_base_config(monkeypatch):
    from uniq_core.experiments import fisher

    config = fisher.FisherSweepConfig.quick()
    assert config.base.device == "auto"
    key = runtime.config_key(config)
    assert runtime.config_key(config.replace(base=config.base.replace(device=str(runtime.device("auto"))))) == key
    assert runtime.config_key(config.replace(base=config.base.replace(device=_OTHER))) != key  # no GPU needed
    monkeypatch.setattr(runtime, "device", lambda name=None: runtime.torch.device(_OTHER))
    assert runtime.config_key(config) != key


def test_config_key_is_stable_and_sensitive():
    config = divergence.Config()
    assert runtime.config_key(config) == runtime.config_key(divergence.Config())
    assert runtime.config_key(config) != runtime.config_key(config.replace(lr=0.06))


def test_cache_stores_and_reuses(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return divergence.Result(
            steps=np.arange(3), epochs=np.arange(3.0), distance=np.ones((2, 3)), loss=np.ones((2, 3)),
            growth=np.array([2.0]), growth_geometric_mean=2.0, growth_interval=np.array([1.0, 3.0]),
            test_accuracy=np.array([0.9, 0.8]), n_diverged=0, wall_time=0.1,
        )

    config = divergence.Config()
    first = runtime.cached(compute, config, divergence.Result)
    second = runtime.cached(compute, config, divergence.Result)
    assert len(calls) == 1
    for field in dataclasses.fields(divergence.Result):
        np.testing.assert_array_equal(getattr(first, field.name), getattr(second, field.name))
    # A damaged cache file is recomputed, not trusted.
    (stored,) = runtime.cache_dir().glob("*.npz")
    stored.write_bytes(b"not a zip file")
    runtime.cached(compute, config, divergence.Result)
    assert len(calls) == 2
    # each computation, not each read, leaves one timing line
    lines = [json.loads(line) for line in (runtime.cache_dir() / "timings.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and lines[0]["config"] == "Config" and lines[0]["experiment"] == "divergence"
    assert lines[0]["key"] == runtime.config_key(config) and lines[0]["seconds"] >= 0


def test_processes_racing_on_one_key_all_return_the_result_and_leave_one_loadable_file(tmp_path):
    """Several processes computing the same Config with one cache: none fails, all return the same Result,
    and the stored file loads (each writer renames its own temporary file)."""
    import subprocess
    import sys

    script = (
        "import os, time\n"
        "import numpy as np\n"
        "from uniq_core import runtime\n"
        "from uniq_core.experiments import divergence\n"
        "save = divergence.Result.save\n"
        "def slow_save(self, path):\n"  # a slow disk: the writers' windows overlap
        "    save(self, path)\n"
        "    time.sleep(0.5)\n"
        "divergence.Result.save = slow_save\n"
        "def compute():\n"
        "    time.sleep(max(0.0, float(os.environ['START_AT']) - time.time()))\n"
        "    return divergence.Result(steps=np.arange(3), epochs=np.arange(3.0), distance=np.ones((2, 3)),\n"
        "        loss=np.ones((2, 3)), growth=np.array([2.0]), growth_geometric_mean=2.0,\n"
        "        growth_interval=np.array([1.0, 3.0]), test_accuracy=np.array([0.9, 0.8]), n_diverged=0, wall_time=0.1)\n"
        "result = runtime.cached(compute, divergence.Config(), divergence.Result)\n"
        "print(result.growth_geometric_mean)\n"
    )
    import time

    environment = {**os.environ, "UNIQ_CACHE_DIR": str(tmp_path), "START_AT": str(time.time() + 8.0)}
    processes = [subprocess.Popen([sys.executable, "-c", script], env=environment, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [process.communicate(timeout=300) for process in processes]
    assert all(process.returncode == 0 for process in processes), [error for _, error in outputs]
    assert {out.strip() for out, _ in outputs} == {"2.0"}
    (stored,) = tmp_path.glob("*.npz")
    assert divergence.Result.load(stored).growth_geometric_mean == 2.0


def test_describe_names_profile_and_device():
    line = runtime.describe()
    assert "profile" in line and "device" in line


def test_build_timings_sums_per_config_slowest_first(tmp_path):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "build_timings", Path(__file__).resolve().parent.parent / "benchmarks" / "build_timings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = [{"experiment": "entropy", "config": "EntropyConfig", "key": "a", "profile": "quick", "seconds": 3.0},
             {"experiment": "lyapunov", "config": "TangentConfig", "key": "b", "profile": "quick", "seconds": 1.0},
             {"experiment": "lyapunov", "config": "TangentConfig", "key": "c", "profile": "quick", "seconds": 5.0}]
    summary = module.summarise(lines)
    assert list(summary["experiments"]) == ["lyapunov.TangentConfig", "entropy.EntropyConfig"]
    assert summary["experiments"]["lyapunov.TangentConfig"] == {"count": 2, "seconds": 6.0, "largest": 5.0,
                                                                 "share": round(6 / 9, 3)}
    assert summary["total_seconds"] == 9.0 and summary["profiles"] == ["quick"]
    (tmp_path / "timings.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert module.main([str(tmp_path)]) == 0 and module.main([str(tmp_path / "empty")]) == 1


def test_unit_pool_follows_uniq_workers(monkeypatch):
    monkeypatch.delenv("UNIQ_WORKERS", raising=False)
    assert runtime.workers() == 1
    with runtime.unit_pool() as pool:
        assert pool is None  # one process: the units run here, one after another
    sentinel = object()
    with runtime.unit_pool(sentinel) as pool:
        assert pool is sentinel  # a given executor is used as it is
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("UNIQ_WORKERS", bad)
        with pytest.raises(ValueError, match="UNIQ_WORKERS"):
            runtime.workers()
    monkeypatch.setenv("UNIQ_WORKERS", "2")
    with runtime.unit_pool() as pool:
        assert pool._max_workers == 2 and pool._mp_context.get_start_method() == "spawn"
