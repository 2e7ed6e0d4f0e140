import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import probes as chapter

SMALL = dict(n_train=64, channels=(4,), batch_size=16, steps=6, bisections=3, n_seeds=1, dt_range=(0.2, 3.0))


def test_probes_on_each_normalisation():
    result = chapter.run_probes(chapter.ProbeConfig(**SMALL), progress=False)
    assert result.round_trip.shape == (4, 1) and result.energy.shape == (4, 7)
    # exact reversal with the minibatch forces matched step by step: rounding level for every norm,
    # train-mode BatchNorm included; ΔNEGdt does not return
    assert np.nanmax(result.round_trip) < 1e-12
    assert np.nanmin(result.negative_dt) > 1e-4
    assert np.nanmax(result.omega) < 1e-10  # every per-step force is a gradient
    assert np.nanmax(result.column_sum_change) < 1e-10  # softmax output: column sums are conserved
    assert np.all(result.shadow_drift < result.energy_drift)
    norms = list(result.norms)
    assert np.isnan(result.norm_identity[norms.index("none")]).all()
    assert result.norm_identity[norms.index("group"), 0] < 1e-6  # scale invariance up to the norm's epsilon
    assert np.all(result.dt_zero > 0)


def test_energy_drift_is_first_order_and_the_shadow_removes_it_at_a_fixed_horizon():
    base = chapter.ProbeConfig(**{**SMALL, "steps": 8, "dt": 0.1}, norms=("batch", "none"))
    sweep = chapter.run_dt_sweep(chapter.DtSweepConfig(base=base, dts=(0.05, 0.1, 0.2)), progress=False)
    assert sweep.horizon == pytest.approx(0.8)
    assert np.nanmax(sweep.round_trip) < 1e-12
    negative_dt, energy, shadow = sweep.orders.T
    assert np.all(np.abs(energy - 1) < 0.3) and np.all(np.abs(negative_dt - 1) < 0.3)
    # the shadow Hamiltonian takes out the bounded O(dt) oscillation: what is left is far smaller
    assert np.all(sweep.shadow_drift < 0.2 * sweep.energy_drift)


def test_dt_zero_is_exactly_proportional_to_root_mass_at_a_fixed_step_count():
    base = chapter.ProbeConfig(**SMALL, norms=("none",))
    # the identity behind it: the probe at (dt·√M, M) equals the probe at (dt, 1) over the same steps
    for dt in (0.3, 1.0):
        one = chapter._energy_probe(base, "none", 0, 1.0, steps=6)(dt)
        heavy = chapter._energy_probe(base, "none", 0, 4.0, steps=6)(2 * dt)
        assert heavy == pytest.approx(one, rel=1e-9)
    identity = chapter.run_mass(chapter.MassConfig(base=base, masses=(0.5, 2.0), fixed="steps"), progress=False)
    assert identity.slope == pytest.approx(0.5, abs=1e-6)
    measured = chapter.run_mass(chapter.MassConfig(base=base, masses=(0.5, 2.0)), progress=False)
    assert np.isfinite(measured.slope) and measured.dt_zero.shape == (2, 1)


def test_train_mode_energy_does_not_depend_on_the_running_statistics():
    base = chapter.ProbeConfig(**SMALL, norms=("batch",))
    dose = chapter.run_dose(chapter.DoseConfig(base=base, bn_momenta=(0.0, 1.0)), progress=False)
    assert dose.energy_drift.shape == (2, 1)
    assert dose.energy_drift[0, 0] == dose.energy_drift[1, 0]  # null: the force's potential never sees them
    assert dose.eval_energy_drift[0, 0] != dose.eval_energy_drift[1, 0]  # the evaluation-mode energy does


def test_damped_reversal_grows_with_length_and_dissipation_is_accounted():
    base = chapter.ProbeConfig(**SMALL, norms=("none",))
    result = chapter.run_damping(chapter.DampingConfig(base=base, betas=(1.0, 0.5), lengths=(10, 30)),
                                 progress=False)
    assert np.all(result.round_trip[0] < 1e-12)
    assert result.round_trip[1, -1] > 10 * result.round_trip[1, 0]
    assert result.dissipated[0] == 0.0 and result.dissipated[1] > 0


def test_a_blowing_up_run_gives_nan_not_an_error():
    result = chapter.run_dt_sweep(chapter.DtSweepConfig(base=chapter.ProbeConfig(**SMALL, norms=("none",)),
                                                        dts=(90.0,)), progress=False)
    assert np.isnan(result.energy_drift[0, 0]) and np.isnan(result.round_trip[0, 0])


@pytest.mark.parametrize("field, value", [("norms", ("layer",)), ("dt", 0.0), ("beta", 1.5), ("mass", -1.0),
                                          ("norms", ())])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.ProbeConfig(), **{field: value})


@pytest.mark.parametrize("config, field, value", [(chapter.MassConfig(), "fixed", "energy"),
                                                  (chapter.DampingConfig(), "betas", (0.0,)),
                                                  (chapter.DampingConfig(), "lengths", (10,))])
def test_bad_sweep_fields_are_named(config, field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(config, **{field: value})
