import dataclasses

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


def test_profile_default_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("UNIQ_PROFILE", raising=False)
    assert runtime.profile() == ("full" if torch.cuda.is_available() else "quick")


def test_bad_profile_names_allowed_values(monkeypatch):
    monkeypatch.setenv("UNIQ_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"UNIQ_PROFILE='fast'.*quick, full"):
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


def test_describe_names_profile_and_device():
    line = runtime.describe()
    assert "profile" in line and "device" in line
