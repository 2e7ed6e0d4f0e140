"""CUDA against CPU: each chapter's quick configurations give the same summary numbers on both devices,
within the tolerances stated here (float32 reductions differ in order between devices, and chaotic
quantities amplify that; the summaries must not). Runs only where a CUDA GPU is present: `pytest -m gpu`."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from uniq_core import cli

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")]

# (relative, absolute) tolerance on every scalar float of a Result; per experiment where it differs.
DEFAULT_TOLERANCE = (0.25, 1e-3)
TOLERANCES: dict[str, tuple[float, float]] = {}
SKIP_FIELDS = {"wall_time", "seconds", "elapsed"}


#: experiments compared through others: the verdicts re-run every chapter's Config
COMPARED_ELSEWHERE = {"verdicts"}


def _device_experiments():
    for name, experiment in cli.experiments().items():
        if name in COMPARED_ELSEWHERE:
            continue
        if "device" in {f.name for f in dataclasses.fields(experiment.config_type)}:
            yield pytest.param(experiment, id=name)


@pytest.mark.parametrize("experiment", list(_device_experiments()))
def test_cuda_agrees_with_cpu_on_quick_configs(experiment):
    config = experiment.config_type.quick()
    on_cpu = experiment.run(config.replace(device="cpu"), progress=False, use_cache=False).to_dict()
    on_cuda = experiment.run(config.replace(device="cuda"), progress=False, use_cache=False).to_dict()
    relative, absolute = TOLERANCES.get(experiment.name, DEFAULT_TOLERANCE)
    for name, value in on_cpu.items():
        if name in SKIP_FIELDS:
            continue
        other = on_cuda[name]
        if isinstance(value, np.ndarray):
            assert np.shape(other) == value.shape, name
        elif isinstance(value, float) and math.isfinite(value):
            assert math.isclose(other, value, rel_tol=relative, abs_tol=absolute), f"{name}: cuda {other} cpu {value}"
        elif isinstance(value, (bool, str)):
            assert other == value, name
