import dataclasses

import numpy as np
import pytest
import torch

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
    # the theory's input read along the run: its prediction lies between those of the smallest and the
    # largest noise read (the prediction is linear in tr Σ_g)
    along = result.gradient_noise_along / result.gradient_noise[..., None]
    assert along.shape == (4, 1, chapter.NOISE_CHECKPOINTS) and np.all(along[..., 0] == 1)
    assert np.all(result.gradient_noise_end == result.gradient_noise_along[..., -1])
    ratio = result.predicted_drift_path / result.predicted_drift
    assert np.all(along.min(axis=-1) - 1e-9 <= ratio) and np.all(ratio <= along.max(axis=-1) + 1e-9)


def test_energy_drift_is_first_order_and_the_shadow_removes_it_at_a_fixed_horizon():
    base = chapter.ProbeConfig(**{**SMALL, "steps": 8, "dt": 0.1}, norms=("batch", "none"))
    sweep = chapter.run_dt_sweep(chapter.DtSweepConfig(base=base, dts=(0.05, 0.1, 0.2)), progress=False)
    assert sweep.horizon == pytest.approx(0.8)
    assert np.nanmax(sweep.round_trip) < 1e-12
    negative_dt, energy, shadow = sweep.orders.T
    assert np.all(np.abs(energy - 1) < 0.3) and np.all(np.abs(negative_dt - 1) < 0.3)
    # the shadow Hamiltonian takes out the bounded O(dt) oscillation: what is left is far smaller
    assert np.all(sweep.shadow_drift < 0.2 * sweep.energy_drift)


def test_the_dt_sweep_on_an_executor_equals_the_sweep_in_process():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    base = chapter.ProbeConfig(**{**SMALL, "steps": 4, "dt": 0.1}, norms=("none",))
    config = chapter.DtSweepConfig(base=base, dts=(0.1, 0.2))
    alone = chapter.run_dt_sweep(config, progress=False, use_cache=False)
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        spread = chapter.run_dt_sweep(config, progress=False, use_cache=False, executor=pool)
    for field in dataclasses.fields(alone):
        np.testing.assert_array_equal(getattr(alone, field.name), getattr(spread, field.name))


def test_dt_zero_is_exactly_proportional_to_root_mass_at_a_fixed_step_count():
    base = chapter.ProbeConfig(**SMALL, norms=("none",))
    # the identity behind it: the probe at (dt·√M, M) equals the probe at (dt, 1) over the same steps
    for dt in (0.3, 1.0):
        one = chapter._energy_probe(base, "none", 0, 1.0, steps=6)(dt)
        heavy = chapter._energy_probe(base, "none", 0, 4.0, steps=6)(2 * dt)
        assert heavy == pytest.approx(one, rel=1e-9)
    identity = chapter.run_mass(chapter.MassConfig(base=base, masses=(0.5, 2.0), fixed="steps"), progress=False)
    assert identity.slope == pytest.approx(0.5, abs=1e-6)
    measured = chapter.run_mass(chapter.MassConfig(base=base.replace(steps=60), masses=(0.5, 2.0)), progress=False)
    assert np.isfinite(measured.slope) and measured.dt_zero.shape == (2, 1)
    assert measured.dt_zero_by.shape == (3, 2, 2, 1) and measured.slopes_by.shape == (3, 2, 1)
    assert measured.predicted_dt_zero.shape == (2, 1) and measured.gradient_noise[0] > 0


def test_mass_grid_covers_both_laws_and_scales_with_root_mass():
    config = chapter.MassConfig()
    low, high = config.base.dt_range
    for mass in (0.25, 1.0, 4.0):
        grid = config.grid_for(mass)
        assert grid[0] <= low * min(np.sqrt(mass), mass) / 3
        assert grid[-1] >= high * max(np.sqrt(mass), mass) * (1 - 1e-12)
        # the same points as the unit-mass grid times √M, so a probe of dt/√M crosses at √M times the dt
        steps = np.log(grid / (low * np.sqrt(mass))) / np.log((high / low) ** (1 / (config.grid - 1)))
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)


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


TINY_SETTINGS = dict(n_train=64, batch_size=16, channels=(4,), resnet_width=2, dts=(0.4, 0.2), horizon=2.0,
                     n_seeds=1, freeze_epochs=1)


def test_paper_settings_grid_every_force_is_a_gradient():
    config = chapter.SettingsConfig(**TINY_SETTINGS)
    result = chapter.run_settings(config, progress=False, use_cache=False)
    assert result.round_trip.shape == (2, 4, 2, 1) and result.passes.shape == (2, 4)
    assert list(result.steps) == [chapter.steps_for_horizon(dt, 1.0, 0.9, 2.0) for dt in (0.4, 0.2)]
    assert np.nanmax(result.omega) < 1e-10  # conformally symplectic (factor β) for every setting
    assert np.isfinite(result.energy_drift).all() and np.isfinite(result.energy_slope).all()
    assert np.isfinite(result.shadow_drift).all() and np.isfinite(result.shadow_slope).all()
    assert list(result.groups) == [4, 2]  # widest divisor of the channel counts up to 32
    assert np.isfinite(result.negative_dt).all() and result.energy.shape == (2, 4, 2, 1, int(max(result.steps)) + 1)
    # the curves end where the drift is read: the accounts of the longest run are complete, the shorter padded
    assert np.isfinite(result.energy[:, :, 1]).all() and np.isnan(result.energy[:, :, 0, :, -1]).all()


def test_settings_tables_and_acceptance(tmp_path):
    config = chapter.SettingsConfig(**TINY_SETTINGS)
    result = chapter.run_settings(config, progress=False)
    rates = chapter.acceptance(result, threshold=np.inf)
    assert (rates["run_rate"] == 1).all() and (rates["step_rate"] == 1).all()  # everything under an infinite bar
    assert (chapter.acceptance(result, threshold=1e-300)["run_rate"] == 0).all()
    # a planted rate on five seeds: in every cell the first four runs lie under the bar at every step, the
    # fifth over it from its first step on; one of the four diverged (NaN) and is not accepted
    from types import SimpleNamespace
    runs, steps = 5, 7
    drift = np.full((2, 4, 2, runs), 0.5)
    drift[..., -1] = 2.0
    drift[0, 0, 0, 0] = np.nan
    energy = np.full((2, 4, 2, runs, steps + 1), 0.5)
    energy[..., -1, :] = 2.0
    energy[..., 0] = 0.0  # the accounts start at zero; the first entry is not a step
    planted = chapter.acceptance(SimpleNamespace(energy_drift=drift, energy=energy, energy_threshold=1.0))
    expected = np.full((2, 4, 2), runs - 1)
    expected[0, 0, 0] -= 1
    np.testing.assert_array_equal(planted["accepted"], expected)
    np.testing.assert_allclose(planted["step_rate"], (runs - 1) / runs)
    assert np.all(planted["run_low"] <= planted["run_rate"]) and np.all(planted["run_rate"] <= planted["run_high"])
    tables = result.tables()
    assert set(tables) == {"summary_settings", "merged_curves_settings", "accept_rtvol_settings"}
    assert len(tables["summary_settings"]) == len(tables["accept_rtvol_settings"]) == 2 * 4 * 2
    assert len(tables["merged_curves_settings"]) == 2 * 4 * sum(int(n) + 1 for n in result.steps)
    row = tables["summary_settings"][0]
    assert row["network"] == "simple_cnn" and row["energy_drift_mean"] == result.energy_drift[0, 0, 0, 0]
    from uniq_core import cli
    written = cli.write_tables(tables, tmp_path / "csv")
    assert sorted(p.rsplit("/", 1)[-1] for p in written) == sorted(f"{name}.csv" for name in tables)
    header = (tmp_path / "csv" / "accept_rtvol_settings.csv").read_text().splitlines()[0]
    assert header.startswith("network,setting,dt,steps,accepted_runs,runs,run_rate")


def test_a_diverged_settings_run_enters_no_statistic():
    system = chapter._SettingSystem(chapter.SettingsConfig(**TINY_SETTINGS), "simple_cnn", "group", 0)
    record = chapter._setting_run(system, 40.0, 1.0, 0.9, 6, 0)
    assert all(np.isnan(record[name]) for name in ("round_trip", "negative_dt", "omega", "energy_drift"))
    assert np.isnan(record["energy"]).all()


def test_setting_passes_rule():
    config = chapter.SettingsConfig(**TINY_SETTINGS)
    ones = np.ones((1, 2, 1))
    good = chapter.setting_passes(config, 1e-12 * ones, 1e-12 * ones, np.array([[[1.0], [1e-3]]]))
    assert good.tolist() == [True]  # energy judged at the smallest dt only
    for bad in [(1e-3 * ones, 1e-12 * ones, 1e-3 * ones), (1e-12 * ones, 1e-3 * ones, 1e-3 * ones),
                (1e-12 * ones, 1e-12 * ones, np.array([[[1e-3], [np.nan]]]))]:
        assert chapter.setting_passes(config, *bad).tolist() == [False]


def test_train_mode_batchnorm_probes_do_not_depend_on_the_running_statistics_momentum():
    """In train mode the force never reads the running statistics: the probes are identical at every
    momentum; only an energy defined with the running statistics moves."""
    dose = chapter.run_settings_dose(chapter.SettingsDoseConfig(base=chapter.SettingsConfig(**TINY_SETTINGS),
                                                                bn_momenta=(0.0, 0.5, 1.0)),
                                     progress=False, use_cache=False)
    assert dose.probe_spread == 0.0
    assert np.ptp(dose.running_energy_drift) > 0


def test_probes_depend_on_dt_and_mass_only_through_dt_over_root_mass_for_both_networks():
    result = chapter.run_mass_identity(chapter.MassIdentityConfig(base=chapter.SettingsConfig(**TINY_SETTINGS),
                                                                  factors=(3.0,)), progress=False, use_cache=False)
    assert result.energy_difference.shape == (2, 1)
    assert np.all(result.energy_difference < 1e-8) and np.all(result.parameter_difference < 1e-10)


@pytest.mark.parametrize("field, value", [("settings", ("layer",)), ("networks", ()), ("beta", 1.0),
                                          ("dts", (0.0,)), ("freeze_epochs", 0), ("groups", 0)])
def test_settings_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.SettingsConfig(), **{field: value})


@pytest.mark.parametrize("field, value", [("time_steps", (0.1, 0.05)), ("beta", 1.0), ("friction", 100.0)])
def test_noether_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.NoetherConfig(), **{field: value})


class _LinearForces:
    """Minibatch potentials L_t(θ) = c_t·θ + q‖θ‖²/2 + k‖θ‖⁴/4: for q = k = 0 the Taylor remainder is zero,
    so the integration error of heavy ball is exactly −dt²‖c_t‖²/2M per step (the full kick); the shadow
    account (trapezoid remainder) is exact for any quadratic. ``mismatch`` makes the energy read minibatch
    t + 1's potential while the force is minibatch t's gradient: the negative control."""

    def __init__(self, quadratic=0.0, quartic=0.0, mismatch=False):
        generator = torch.Generator().manual_seed(0)
        self.c = torch.randn(6, 5, generator=generator, dtype=torch.float64)
        self.theta0 = torch.randn(5, generator=generator, dtype=torch.float64) + 3.0
        self.quadratic, self.quartic, self.mismatch = quadratic, quartic, mismatch
        self.x, self.batch_size = torch.zeros(12), 2

    def use_plan(self, steps, seed):
        pass

    def loss(self, theta, t):
        r2 = theta @ theta
        return self.c[t % 6] @ theta + 0.5 * self.quadratic * r2 + 0.25 * self.quartic * r2 * r2

    def gradient(self, theta, t):
        return self.c[t % 6] + self.quadratic * theta + self.quartic * (theta @ theta) * theta

    def force(self, t):
        def gradient(theta):
            self.last_loss = float(self.loss(theta, t + int(self.mismatch)))
            return self.gradient(theta, t)
        return gradient

    def pure_force(self, t):
        return lambda theta: self.gradient(theta, t + int(self.mismatch))

    def batch_potential(self, theta, t):
        return float(self.loss(theta, t + int(self.mismatch)))

    def loss_and_gradient(self, theta, t):
        return self.batch_potential(theta, t), self.gradient(theta, t + int(self.mismatch))


def test_energy_accounts_of_the_settings_are_exact_for_linear_and_quadratic_potentials():
    system = _LinearForces()
    dt, mass, beta, steps = 0.3, 2.0, 0.8, 12
    record = chapter._setting_run(system, dt, mass, beta, steps, 0)
    kick = np.concatenate([[0.0], np.cumsum([dt * dt * float(system.c[t % 6].pow(2).sum()) / (2 * mass)
                                             for t in range(steps)])])
    tail = kick[-max(1, len(kick) // 4):]
    scale = abs(float(system.c[0] @ system.theta0))
    assert record["energy_drift"] == pytest.approx(np.median(tail) / scale, rel=1e-10)
    assert record["shadow_drift"] < 1e-13  # no curvature: the kick term cancels in the shadow account
    assert record["omega"] < 1e-12
    quadratic = chapter._setting_run(_LinearForces(quadratic=0.5), dt, mass, beta, steps, 0)
    assert quadratic["shadow_drift"] < 1e-12  # the trapezoid remainder vanishes for any quadratic
    assert np.isnan(chapter._setting_run(_LinearForces(quadratic=-1e4), dt, mass, beta, steps, 0)["energy_drift"])


def test_shadow_account_vanishes_with_dt_for_gradients_but_not_for_a_mismatched_potential():
    """Positive control: a quartic potential leaves an O(Δθ³) remainder per step, so at a fixed learning time
    the shadow drift falls with dt; negative control: when the force is not the gradient of the potential
    the energy reads, the drift stays of order one."""
    mass, beta, horizon = 1.0, 0.9, 1.0
    def drifts(**kwargs):
        out = []
        for dt in (0.1, 0.05, 0.025):
            steps = chapter.steps_for_horizon(dt, mass, beta, horizon)
            out.append(chapter._setting_run(_LinearForces(quartic=0.01, **kwargs), dt, mass, beta, steps, 0)["shadow_drift"])
        return np.array(out)
    curved = drifts()
    assert curved[0] > 1e-8 and curved[-1] < curved[0] / 8  # present, and vanishing as dt → 0
    mismatched = drifts(mismatch=True)
    assert mismatched.min() > 100 * curved.max() and mismatched[-1] > mismatched[0] / 2  # no vanishing


@pytest.mark.parametrize("config, field, value", [(chapter.MassConfig(), "fixed", "energy"),
                                                  (chapter.MassConfig(), "thresholds", (0.5,)),
                                                  (chapter.MassConfig(), "horizon_factors", (2.0,)),
                                                  (chapter.DampingConfig(), "betas", (0.0,)),
                                                  (chapter.DampingConfig(), "lengths", (10,))])
def test_bad_sweep_fields_are_named(config, field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(config, **{field: value})


def test_censored_dt_zero_is_left_out_of_the_mass_fit():
    """A threshold every run already exceeds puts every dt_zero at the low end of its grid: a bound that
    would set the exponent by the grid; they are flagged and the exponent is NaN instead."""
    base = chapter.ProbeConfig(norms=("batch",), n_seeds=1, steps=4, n_train=64, channels=(2, 2), batch_size=16,
                               threshold=1e-30, bisections=1)
    config = chapter.MassConfig(base=base, masses=(1.0, 4.0), thresholds=(1e-30,), horizon_factors=(1.0,), grid=4)
    result = chapter.run_mass(config, progress=False, use_cache=False)
    assert result.censored.all()
    assert np.allclose(result.dt_zero[:, 0], [config.grid_for(1.0)[0], config.grid_for(4.0)[0]])
    assert np.isnan(result.slope)


def test_mass_runs_on_the_resnet():
    base = chapter.ProbeConfig(norms=("batch",), n_seeds=1, steps=4, n_train=64, batch_size=16, bisections=1)
    result = chapter.run_mass(chapter.MassConfig(base=base, masses=(1.0, 4.0), network="resnet", resnet_width=2,
                                                 resnet_blocks=1, grid=4), progress=False, use_cache=False)
    assert result.dt_zero.shape == (2, 1) and result.censored.shape == (2, 1)


def test_orders_are_fitted_over_the_smallest_step_sizes():
    assert list(chapter.fitted_steps(np.array([0.025, 0.05, 0.1, 0.2, 0.4]))) == [0, 1, 2]
    assert list(chapter.fitted_steps(np.array([1.6, 0.8, 0.4, 0.2, 0.1, 0.05, 0.02]))) == [3, 4, 5, 6]
    dts = np.array([0.025, 0.05, 0.1, 0.2, 0.4])
    values = np.where(dts < 0.15, dts, 1.0)  # first order where the runs are long, garbage at the largest
    fit = chapter.fitted_steps(dts)
    assert chapter._order(dts[fit], values[fit]) == pytest.approx(1.0)


def test_a_force_that_reads_the_running_statistics_is_not_reversible_and_its_control_config_pairs_by_seed():
    config = chapter.SettingsConfig(**{**TINY_SETTINGS, "networks": ("simple_cnn",)})
    control = chapter.control_config(config)
    assert control.settings == (chapter.RUNNING_BATCH,) and control.networks == ("simple_cnn",)
    assert control.replace(settings=config.settings) == config  # only the setting differs
    both = chapter.run_settings(config.replace(settings=(chapter.RUNNING_BATCH, "frozen_batch")), progress=False,
                                use_cache=False)
    # frozen BatchNorm returns to rounding; the force that updates its statistics on the way back does not
    assert np.all(both.round_trip[0, 1] < 1e-9) and np.all(both.round_trip[0, 0] > 1e-6)
    with pytest.raises(ValueError, match="settings="):
        chapter.SettingsConfig(settings=("sideways",))


def test_settings_and_mass_give_the_same_result_with_their_units_on_other_processes(unit_executor, one_thread,
                                                                                     same_result):
    settings = dataclasses.replace(chapter.SettingsConfig.quick(), n_seeds=2, dts=(0.2,), networks=("simple_cnn",),
                                   settings=("batch",), device="cpu")
    same_result(chapter.run_settings(settings, progress=False, use_cache=False),
                chapter.run_settings(settings, progress=False, use_cache=False, executor=unit_executor))
    mass = chapter.MassConfig.quick()
    mass = mass.replace(base=mass.base.replace(n_seeds=2, device="cpu"), masses=(0.5, 1.0), grid=3)
    same_result(chapter.run_mass(mass, progress=False, use_cache=False),
                chapter.run_mass(mass, progress=False, use_cache=False, executor=unit_executor))
