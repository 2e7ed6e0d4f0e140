"""Headless runs (``python -m uniq_core``) and sweeps on an executor, a Dask cluster included."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from uniq_core import cli, explore, runtime
from uniq_core.experiments import dna, entropy

SMALL = ["n_steps=2000", "dts=(0.1, 0.2)"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("UNIQ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("UNIQ_PROFILE", "quick")
    return tmp_path / "cache"


def test_every_chapter_experiment_is_listed():
    known = cli.experiments()
    for name in ("divergence", "lyapunov.tangent", "entropy.validation", "topology", "probes", "fisher", "dna"):
        assert name in known, name
    for experiment in known.values():
        assert hasattr(experiment.config_type, "quick") and hasattr(experiment.config_type, "full")


def test_list_prints_fields_and_defaults(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "entropy.validation  (ValidationConfig)" in out
    assert "    n_steps = 100000" in out


def test_run_applies_settings_and_prints_one_json_line(cache, capsys):
    assert cli.main(["run", "entropy.validation", "--json", *[f"--set={s}" for s in SMALL]]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["experiment"] == "entropy.validation"
    assert record["profile"] == "quick" and record["device"] == "cpu"  # what ran, resolved
    assert record["config"]["n_steps"] == 2000 and record["config"]["dts"] == [0.1, 0.2]
    direct = entropy.run_validation(entropy.ValidationConfig(n_steps=2000, dts=(0.1, 0.2)), progress=False)
    np.testing.assert_allclose(record["result"]["path"], direct.path)
    assert any(cache.iterdir())  # the run went through the results cache


def test_version_and_a_missing_gpu_are_one_line_each(capsys):
    import uniq_core

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"uniq_core {uniq_core.__version__}"
    if torch.cuda.is_available():
        return
    assert cli.main(["run", "divergence", "--device", "cuda"]) == 2  # as every other bad value: exit 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: device='cuda'") and "no CUDA GPU" in err and len(err.splitlines()) == 1


def test_settings_are_typed_and_reach_a_nested_config():
    config = cli.apply_settings(dna.DnaSweepConfig(), ["base.steps=10", "hiddens=8"])
    assert config.base.steps == 10 and config.hiddens == (8,)
    config = cli.apply_settings(entropy.ValidationConfig(), ["a=2", "dts=0.1"])
    assert config.a == 2.0 and isinstance(config.a, float) and config.dts == (0.1,)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["run", "entropy.validation", "--set", "n_steps=10"], "n_steps=10"),
        (["run", "entropy.validation", "--set", "colour=red"], "'colour' is not a field"),
        (["run", "nothing"], "experiment='nothing' is not known"),
        (["run", "entropy.validation", "--device", "cpu"], "has no device field"),
    ],
)
def test_bad_input_is_a_clear_error_and_a_nonzero_exit(arguments, message, capsys):
    assert cli.main(arguments) == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_exits_nonzero_on_a_bad_value():
    completed = subprocess.run([sys.executable, "-m", "uniq_core", "run", "divergence", "--set", "lr=-1"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "lr=-1" in completed.stderr and "allowed" in completed.stderr


def test_sweep_on_an_executor_equals_the_sweep_in_process(cache):
    config = entropy.ValidationConfig(n_steps=2000, dts=(0.1,))
    in_process = explore.sweep(entropy.run_validation, config, "seed", [0, 1], progress=False)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = explore.sweep(entropy.run_validation, config, "seed", [0, 1], progress=False, executor=pool)
    assert list(pooled) == [0, 1]
    for seed in (0, 1):
        np.testing.assert_array_equal(pooled[seed].path, in_process[seed].path)


def test_sweep_and_cli_on_a_dask_cluster_with_two_workers(tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("distributed")
    config = entropy.ValidationConfig(n_steps=2000, dts=(0.1,))
    monkeypatch.setenv("UNIQ_CACHE_DIR", str(tmp_path / "in-process"))
    in_process = explore.sweep(entropy.run_validation, config, "seed", [0, 1], progress=False)
    monkeypatch.setenv("UNIQ_CACHE_DIR", str(tmp_path / "cluster"))  # the workers inherit this cache
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        remote = explore.sweep(entropy.run_validation, config, "seed", [0, 1], progress=False,
                               executor=client.get_executor())
        assert cli.main(["run", "entropy.validation", "--json", "--scheduler", cluster.scheduler_address,
                         *[f"--set={s}" for s in ["n_steps=2000", "dts=(0.1,)", "seed=1"]]]) == 0
    for seed in (0, 1):
        for name, value in in_process[seed].to_dict().items():
            np.testing.assert_array_equal(remote[seed].to_dict()[name], value, err_msg=name)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    np.testing.assert_allclose(record["result"]["path"], in_process[1].path)
    assert len(list((tmp_path / "cluster").glob("*.npz"))) == 2  # the results landed in the shared cache


def test_device_sets_a_sweeps_base_config():
    from uniq_core.experiments import fisher

    config = fisher.FisherSweepConfig.quick()
    assert cli._device_field("fisher.sweep", config) == "base.device"
    assert cli.apply_settings(config, ["base.device=cpu"]).base.device == "cpu"


def test_every_config_that_trains_a_network_has_a_device_that_defaults_to_auto():
    # entropy.validation samples an exact OU process and fisher.null_check measures metrics at initialisation
    # (NumPy and float64 on the CPU); verdicts sets its chapters' devices through its own field
    # and topology.calibration computes persistence of random walks (NumPy and gudhi)
    on_the_cpu = {"entropy.validation", "fisher.null_check", "topology.calibration"}
    for name, experiment in cli.experiments().items():
        for profile in runtime.PROFILES:
            config = getattr(experiment.config_type, profile)()
            if name in on_the_cpu:
                with pytest.raises(ValueError, match="has no device field"):
                    cli._device_field(name, config)
                continue
            field = cli._device_field(name, config)
            value = config.device if field == "device" else config.base.device
            assert value == "auto", f"{name}.{profile}() runs on {value!r}, not 'auto'"


def test_a_grid_experiment_spreads_its_cells_over_an_executor_with_the_same_result(cache):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from uniq_core.experiments import lyapunov

    config = lyapunov.RegimeConfig.quick().replace(lrs=(0.1, 0.3), perturbations=(1e-3,), epochs=1, n_seeds=2,
                                                  n_train=256, device="cpu")
    in_process = lyapunov.run_regime(config, progress=False, use_cache=False)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pooled = lyapunov.run_regime(config, progress=False, use_cache=False, executor=pool)
    for name, value in in_process.to_dict().items():
        np.testing.assert_array_equal(pooled.to_dict()[name], value, err_msg=name)


def test_the_grid_experiments_take_an_executor():
    import inspect

    grids = [name for name, experiment in cli.experiments().items()
             if "executor" in inspect.signature(experiment.run).parameters]
    assert {"lyapunov.regime", "topology.sweep", "dna.sweep", "fisher.sweep"} <= set(grids)


def test_a_bad_device_is_a_clear_error_in_every_config_that_has_one():
    for name, experiment in cli.experiments().items():
        config = experiment.config_type.quick()
        if hasattr(config, "device"):
            with pytest.raises(ValueError, match="device='tpu'.*allowed values"):
                config.replace(device="tpu")


def test_csv_tables_are_written_for_an_experiment_that_has_them(cache, tmp_path, capsys):
    settings = ["n_train=64", "batch_size=16", "channels=(4,)", "resnet_width=2", "dts=(0.4, 0.2)", "horizon=2.0",
                "n_seeds=1", "freeze_epochs=1", "networks=('simple_cnn',)", "settings=('batch', 'group')"]
    out = tmp_path / "tables"
    assert cli.main(["run", "probes.settings", f"--csv={out}", *[f"--set={s}" for s in settings]]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["accept_rtvol_settings.csv", "merged_curves_settings.csv",
                                                     "summary_settings.csv"]
    assert cli.main(["run", "entropy.validation", f"--csv={out}", *[f"--set={s}" for s in SMALL]]) == 2
    assert "has no tables; allowed for: probes.settings" in capsys.readouterr().err
