import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import probes as chapter

SMALL = dict(n_train=64, channels=(4,), batch_size=16, steps=6, bisections=3, n_seeds=1)


def test_probes_on_each_normalisation():
    result = chapter.run_probes(chapter.ProbeConfig(**SMALL), progress=False)
    assert result.round_trip.shape == (4, 1) and result.energy.shape == (4, 7)
    assert np.nanmax(result.omega) < 1e-10  # every per-step force is a gradient
    assert np.nanmax(result.column_sum_change) < 1e-10  # softmax output: column sums are conserved
    norms = list(result.norms)
    assert np.isnan(result.norm_identity[norms.index("none")]).all()
    assert result.norm_identity[norms.index("group"), 0] < 1e-6  # scale invariance up to the norm's epsilon
    assert np.all(result.dt_zero > 0)


def test_mass_scaling_is_exactly_one_half():
    result = chapter.run_mass(chapter.MassConfig(base=chapter.ProbeConfig(**SMALL, norms=("none",)),
                                                 masses=(0.5, 2.0)), progress=False)
    assert result.slope == pytest.approx(0.5, abs=1e-6)


def test_dose_and_dt_sweep_shapes():
    base = chapter.ProbeConfig(**SMALL, norms=("batch",))
    dose = chapter.run_dose(chapter.DoseConfig(base=base, bn_momenta=(0.0, 1.0)), progress=False)
    assert dose.energy_drift.shape == (2, 1)
    sweep = chapter.run_dt_sweep(chapter.DtSweepConfig(base=base, dts=(0.05, 0.1)), progress=False)
    assert sweep.round_trip.shape == (1, 2)


def test_a_blowing_up_run_gives_nan_not_an_error():
    result = chapter.run_dt_sweep(chapter.DtSweepConfig(base=chapter.ProbeConfig(**SMALL, norms=("none",)),
                                                        dts=(90.0,)), progress=False)
    assert np.isnan(result.energy_drift[0, 0]) and np.isnan(result.round_trip[0, 0])


@pytest.mark.parametrize("field, value", [("norms", ("layer",)), ("dt", 0.0), ("beta", 1.5), ("mass", -1.0),
                                          ("norms", ())])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.ProbeConfig(), **{field: value})
