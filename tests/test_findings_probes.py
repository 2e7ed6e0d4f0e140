"""Chapter 4's glued numbers and words: ``uniq_core.experiments.probes.findings`` on Results built by hand
(shaped as the quick profile's) and on one real tiny run, with words that must flip when the data flip."""

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from uniq_core import probes
from uniq_core.experiments import probes as chapter

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "04_probes.md"
NORMS = ("none", "group", "batch", "frozen_batch")
TINY_PROBES = dict(n_train=64, channels=(4,), batch_size=16, steps=6, bisections=3, n_seeds=1, dt_range=(0.2, 3.0))
SEEDS = 2


def _probe_result() -> chapter.ProbeResult:
    """Four normalisations × two seeds; train-mode BatchNorm's energy drift above the others'."""
    grid = np.ones((len(NORMS), SEEDS))
    drift = np.array([[0.01, 0.012], [0.02, 0.022], [0.2, 0.25], [0.015, 0.016]])
    return chapter.ProbeResult(
        norms=np.array(NORMS), round_trip=1e-15 * grid, negative_dt=np.array([[0.05, 0.06], [0.04, 0.05],
                                                                              [0.07, 0.08], [0.03, 0.04]]),
        omega=1e-14 * grid, energy_drift=drift, shadow_drift=0.1 * drift,
        dt_zero=np.array([[0.5, 0.6], [0.4, 0.2], [0.3, np.inf], [0.7, 0.8]]), column_sum_change=1e-16 * grid,
        norm_identity=np.array([[np.nan, np.nan], [1e-7, 2e-7], [3e-7, 1e-7], [1e-7, 1e-7]]),
        energy=np.zeros((len(NORMS), 41)), shadow=np.zeros((len(NORMS), 41)),
        gradient_noise=0.05 * grid, initial_loss=2.3 * grid, predicted_drift=1.1 * drift,
        predicted_dt_zero=np.array([[0.55, 0.6], [0.4, 0.25], [0.33, 0.3], [0.7, 0.8]]),
        gradient_noise_end=np.array([[0.1, 0.1], [0.1, 0.1], [0.1, 0.1], [0.1, np.nan]]),
        predicted_drift_path=np.array([[1.6, 1.6], [1.6, 1.6], [1.6, 1.6], [1.6, np.nan]]) * drift,
        gradient_noise_along=np.full((len(NORMS), SEEDS, 5), 0.05))


def _sweep() -> chapter.DtSweepResult:
    """Four normalisations × five step sizes with first-order drifts and a second-order shadow."""
    dts = np.array([0.025, 0.05, 0.1, 0.2, 0.4])
    grid = np.ones((len(NORMS), len(dts)))
    return chapter.DtSweepResult(
        norms=np.array(NORMS), dts=dts, horizon=4.0, round_trip=1e-15 * grid, negative_dt=dts * grid,
        omega=1e-14 * grid, energy_drift=0.1 * dts * grid, shadow_drift=dts**2 * grid,
        orders=np.tile([1.02, 0.98, 2.1], (len(NORMS), 1)))


def _damping() -> chapter.DampingResult:
    """β = 1, 0.9, 0.8 over three lengths: rounding at β = 1, growth faster than −log β below it."""
    return chapter.DampingResult(
        betas=np.array([1.0, 0.9, 0.8]), lengths=np.array([20, 40, 80]),
        round_trip=np.array([[1e-16, 1e-16, 2e-16], [1e-13, 1e-10, 1e-5], [1e-12, 1e-8, 1e-2]]),
        growth=np.array([0.0, 0.2, 0.3]), integration=np.array([0.01, 0.02, 0.03]),
        dissipated=np.array([0.0, 0.5, 0.7]))


def _mass(slopes) -> chapter.MassResult:
    """Two masses × the seeds of ``slopes`` at one threshold and horizon, nothing censored."""
    slopes = np.asarray(slopes, dtype=float)
    n = len(slopes)
    return chapter.MassResult(masses=np.array([0.25, 4.0]), thresholds=np.array([0.01]),
                              horizon_factors=np.array([1.0]), dts=np.array([[0.1, 0.2], [0.2, 0.4]]),
                              drift=np.ones((2, n, 2, 1)), computed=np.ones((2, n, 2), dtype=bool),
                              dt_zero_by=np.ones((1, 1, 2, n)), censored_by=np.zeros((1, 1, 2, n), dtype=bool),
                              slopes_by=slopes[None, None], dt_zero=np.ones((2, n)),
                              censored=np.zeros((2, n), dtype=bool), slopes=slopes,
                              slope=float(np.nanmean(slopes)) if np.isfinite(slopes).any() else float("nan"),
                              gradient_noise=0.05 * np.ones(n), initial_loss=2.3 * np.ones(n),
                              predicted_dt_zero=1.1 * np.ones((2, n)), predicted_slopes=np.ones(n))


def _settings() -> chapter.SettingsResult:
    """Two networks × four settings × two step sizes × two seeds: every setting passes, H keeps a floor."""
    shape = (2, len(chapter.SETTINGS), 2, SEEDS)
    return chapter.SettingsResult(
        networks=np.array(chapter.NETWORKS), settings=np.array(chapter.SETTINGS), dts=np.array([0.4, 0.2]),
        steps=np.array([19, 75]), groups=np.array([8, 4]), round_trip=1e-14 * np.ones(shape),
        omega=1e-15 * np.ones(shape), energy_drift=0.05 * np.ones(shape), shadow_drift=1e-3 * np.ones(shape),
        energy_slope=0.1 * np.ones(shape[:2]), shadow_slope=2.0 * np.ones(shape[:2]),
        passes=np.ones(shape[:2], dtype=bool), negative_dt=0.5 * np.ones(shape),
        energy=np.zeros(shape + (76,)), shadow=np.zeros(shape + (76,)), energy_threshold=0.01,
        diverged=np.zeros(shape[:3], dtype=int))


def _control(ratio: float = 3.0) -> chapter.SettingsResult:
    """The positive control on the first network: ΔNEGdt ``ratio`` times the settings' frozen BatchNorm's."""
    settings = _settings()
    frozen = list(chapter.SETTINGS).index("frozen_batch")
    pick = lambda values: values[:1, frozen:frozen + 1]  # noqa: E731
    return dataclasses.replace(
        settings, networks=settings.networks[:1], settings=np.array([chapter.RUNNING_BATCH]),
        round_trip=0.3 * np.ones_like(pick(settings.round_trip)), omega=pick(settings.omega),
        energy_drift=pick(settings.energy_drift), shadow_drift=pick(settings.shadow_drift),
        energy_slope=pick(settings.energy_slope), shadow_slope=pick(settings.shadow_slope),
        passes=pick(settings.passes), negative_dt=ratio * pick(settings.negative_dt) * np.exp(
            0.01 * np.arange(SEEDS)), energy=pick(settings.energy), shadow=pick(settings.shadow),
        diverged=pick(settings.diverged))


def _dose() -> chapter.SettingsDoseResult:
    """Probes unchanged across the momenta; the running-statistics energy moves with them."""
    momenta = np.array([0.0, 0.1, 1.0])
    grid = np.ones((len(momenta), SEEDS))
    return chapter.SettingsDoseResult(bn_momenta=momenta, round_trip=1e-14 * grid, omega=1e-15 * grid,
                                      energy_drift=0.05 * grid, running_energy_drift=np.array([[0.1, 0.1],
                                                                                               [0.2, 0.2],
                                                                                               [0.4, 0.4]]),
                                      probe_spread=0.0, running_correlation=1.0,
                                      seed_correlations=np.array([1.0, 0.9]))


def _noether() -> chapter.NoetherResult:
    """Three methods × three steps × two seeds; every charge change shrinks with the step."""
    steps = np.array([0.1, 0.05, 0.025])
    change = np.stack([steps, 3 * steps, steps**0.2])[:, :, None] * np.ones((1, 1, SEEDS))
    return chapter.NoetherResult(modes=np.array(chapter.NOETHER_MODES), time_steps=steps, charge_change=change,
                                 column_sum_change=1e-16 * np.ones_like(change), order=np.array([1.0, 0.9, 0.2]),
                                 step_identity_error=1e-12)


@pytest.fixture
def results():
    return {"probes": _probe_result(), "dt_sweep": _sweep(), "dt_sweep_smooth": _sweep(),
            "oscillator": {"energy": np.array([0.0, -0.1, 0.2]), "shadow": np.array([0.0, 1e-16, -2e-16])},
            "damping": _damping(), "mass": _mass([0.4, 0.6]), "mass_resnet": _mass([0.5, 0.7]),
            "settings": _settings(), "settings_dose": _dose(), "settings_control": _control(),
            "mass_identity": chapter.MassIdentityResult(networks=np.array(chapter.NETWORKS), factors=np.array([3.0]),
                                                        energy_difference=np.array([[1e-13], [2e-13]]),
                                                        parameter_difference=np.array([[1e-14], [1e-14]])),
            "noether": _noether(), "toy": (np.array([0.1, 0.3, 0.9]), np.array([0.02, 0.02, 0.02])),
            "theory": {"dts": np.array([0.1, 0.05]), "masses": np.array([1.0]), "horizons": np.array([5.0, 20.0]),
                       "measured": np.array([[[0.49, 0.25]], [[1.96, 1.0]]]),
                       "predicted": np.array([[[0.5, 0.25]], [[2.0, 1.0]]])}}


@pytest.fixture
def configs():
    return {"probes": chapter.ProbeConfig(), "mass": chapter.MassConfig(), "settings": chapter.SettingsConfig(),
            "noether": chapter.NoetherConfig()}


def _said(results, configs, **changes):
    """``findings`` with ``changes`` (name -> (field -> value)) applied to the named Results."""
    changed = {name: dataclasses.replace(results[name], **fields) for name, fields in changes.items()}
    return chapter.findings({**results, **changed}, configs)


def _check_types(said: dict) -> None:
    for name, value in said.items():
        assert type(value) in (int, float, str), (name, type(value))


def test_every_name_the_chapter_glues_is_a_plain_number_or_word(results, configs, glue_names_of):
    said = chapter.findings(results, configs)
    assert glue_names_of(CHAPTER) - set(said) == set()
    _check_types(said)
    assert said["pr_n_norms"] == "four" and said["st_n_others"] == "three"
    assert said["pr_dt0_batch"] == "0.30"  # the seed whose crossing lies outside the bracket is left out
    assert said["pr_censored"] == 1 and said["pr_dt0_total"] == 8
    assert said["pr_batch_rank"] == "the largest" and said["pr_neg_rank"] == "the largest"
    assert said["toy_horizons"] == "5, 20, 80" and said["toy_switching"] == "0.100, 0.300, 0.900"
    assert said["st_groups_cnn_text"] == ("32 groups of 1 channel, then 32 groups of 2 channels (a group of one "
                                          "channel is InstanceNorm)")
    assert said["st_groups_resnet_text"].startswith("8 groups of 1 channel (InstanceNorm")
    assert said["no_widths"] == "64–16–10" and said["no_ratio_beta"] == pytest.approx(3.0)
    assert said["da_betas"] == "0.9, 0.8" and said["da_compare"] == "faster than"


def test_the_toy_is_computed_when_not_given(results, configs):
    said = chapter.findings({name: value for name, value in results.items() if name != "toy"}, configs)
    switching, fixed = chapter.toy_drifts()
    assert said["toy_switching"] == ", ".join(f"{v:.3f}" for v in switching)
    assert said["toy_fixed"] == ", ".join(f"{v:.3f}" for v in fixed)


def test_a_round_trip_above_rounding_is_not_reversible(results, configs):
    assert chapter.findings(results, configs)["pr_reversible"] == "returns"
    said = _said(results, configs, probes={"round_trip": np.full((len(NORMS), SEEDS), 1e-6)})
    assert said["pr_reversible"] == "does not return" and said["pr_rt_max"] == 1e-6
    assert "not reversible" in said["verdict_headline"]


def test_a_batchnorm_drift_inside_the_others_range_is_not_singled_out(results, configs):
    before = chapter.findings(results, configs)
    assert before["pr_energy_word"] == "singles out" and before["pr_separation"] == "lies outside"
    drift = results["probes"].energy_drift.copy()
    drift[NORMS.index("batch")] = [0.011, 0.021]
    said = _said(results, configs, probes={"energy_drift": drift})
    assert said["pr_energy_word"] == "does not single out" and said["pr_separation"] == "overlaps"
    assert said["pr_batch_rank"] == "within the range" and said["pr_drift_batch"] == pytest.approx(0.016)
    assert "does not single out" in said["verdict_headline"]


def test_finding_b_is_not_decided_by_probes_that_cannot_fail(results, configs):
    before = chapter.findings(results, configs)
    # two seeds cannot show the positive control's power: the instrument, not the claim, leaves it open
    assert before["claim_batchnorm_fails"] == "not resolved" and before["claim_batchnorm_fails_rule"] == "instrument_rule"
    assert "positive control" in before["claim_batchnorm_fails_interval"]
    assert before["rc_ratio"] == pytest.approx(3.0 * np.exp(0.005)) and before["rc_rt"] == 0.3
    without = chapter.findings({k: v for k, v in results.items() if k != "settings_control"}, configs)
    assert without["claim_batchnorm_fails_rule"] == "interval_rule" and "rc_ratio" not in without
    assert before["st_batch_rt_omega"] == "passes both of"
    batch = list(chapter.SETTINGS).index("batch")
    round_trip = results["settings"].round_trip.copy()
    round_trip[:, batch] = 1e-3
    said = _said(results, configs, settings={"round_trip": round_trip})
    assert said["claim_batchnorm_fails"] == "not resolved"
    assert said["st_batch_rt_omega"] == "fails at least one of" and said["st_rt_batch"] == 1e-3
    assert said["st_others_rt_omega"] == "pass both of"


def test_finding_a_is_decided_by_the_write_ups_energy_drift_not_the_shadow_account(results, configs):
    from uniq_core.experiments import verdicts

    before = chapter.findings(results, configs)
    assert before["claim_probes_pass"] == verdicts.row_probes_pass(results["settings"], configs["settings"]).verdict
    drift, curves = results["settings"].energy_drift.copy(), results["settings"].energy.copy()
    drift[:, list(chapter.SETTINGS).index("frozen_batch")] = 1.0
    curves[..., 1:] = drift[..., None]  # every run's account flat at its drift: the same D at any learning time
    said = _said(results, configs, settings={"energy_drift": drift, "energy": curves})
    assert said["claim_probes_pass"] == "fails" and said["claim_probes_pass_value"] == 1.0
    early = results["settings"].energy.copy()  # the drift read at half the learning time is below the threshold
    late = _said(results, configs, settings={"energy_drift": np.full_like(drift, 0.05), "energy": early})
    assert late["claim_probes_pass"] == "depends on time"


def test_diverged_settings_runs_are_counted_apart(results, configs):
    drift, diverged = results["settings"].energy_drift.copy(), results["settings"].diverged.copy()
    frozen_after = list(chapter.SETTINGS).index("batch_frozen_after")
    drift[1, frozen_after, 0, :] = np.nan
    diverged[1, frozen_after, 0] = 2
    round_trip = results["settings"].round_trip.copy()
    round_trip[1, frozen_after, 0, :] = np.nan
    said = _said(results, configs, settings={"energy_drift": drift, "diverged": diverged, "round_trip": round_trip})
    assert said["st_diverged"] == 2 and said["st_diverged_cells"] == "resnet, batch_frozen_after at dt = 0.4 (2 of 2)"
    assert said["st_others_rt_omega"] == "pass both of"  # a diverged run is not a failed probe


def test_a_drift_that_falls_with_dt_has_no_floor(results, configs):
    assert chapter.findings(results, configs)["st_floor_word"] == "keeps a floor"
    said = _said(results, configs, settings={"energy_slope": np.full((2, len(chapter.SETTINGS)), 0.9)})
    assert said["st_floor_word"] == "falls" and said["st_slope_min"] == 0.9


def test_probes_that_change_with_the_momentum_are_a_dose_response(results, configs):
    before = chapter.findings(results, configs)
    assert before["claim_dose_response"] == "not resolved" and before["claim_dose_response_rule"] == "instrument_rule"
    assert before["sd_source"].startswith("The probes do not read the running statistics")
    said = _said(results, configs, settings_dose={"probe_spread": 0.5, "running_correlation": 0.2})
    assert said["claim_dose_response"] == "holds" and said["sd_spread"] == 0.5
    assert said["sd_source"] == "The probes themselves respond to the momentum."
    small = _said(results, configs, settings_dose={"probe_spread": 0.01})
    assert small["claim_dose_response"] == "fails" and small["sd_source"].startswith("The probes change by less")


def test_finding_d_is_the_verdict_rows_word(results, configs):
    from uniq_core.experiments import verdicts

    said = chapter.findings(results, configs)
    assert said["claim_deeper_deviate"] == verdicts.row_deeper_deviate(results["mass"], results["mass_resnet"]).verdict
    assert said["claim_mass_scaling"] == verdicts.row_mass_scaling(results["mass"]).verdict


def test_mass_exponents_against_one_half_need_five_seeds(results, configs):
    said = chapter.findings({**results, "mass": _mass([0.1, 0.15, 0.12, 0.11, 0.14]),
                             "mass_resnet": _mass([0.8, 0.9, 0.85, 0.82, 0.88])}, configs)
    assert said["claim_mass_scaling"] == "fails" and said["claim_deeper_deviate"] == "holds"
    assert said["ma_resnet_low"] == 0.8 and said["ma_slope"] == pytest.approx(0.124)
    two = chapter.findings({**results, "mass": _mass([0.2, 0.3]), "mass_resnet": _mass([0.8, 0.9])}, configs)
    assert two["claim_mass_scaling"] == "not resolved" and two["claim_deeper_deviate"] == "not resolved"
    unmeasured = chapter.findings({**results, "mass_resnet": _mass([np.nan, np.nan])}, configs)
    assert np.isnan(unmeasured["ma_resnet_low"])


def test_the_toy_word_needs_growth_and_a_bounded_fixed_potential(results, configs):
    assert chapter.findings(results, configs)["toy_word"].startswith("grows with the horizon")
    said = chapter.findings({**results, "toy": (np.array([0.1, 0.3, 0.9]), np.array([0.2, 0.2, 0.2]))}, configs)
    assert said["toy_word"] == "does not separate the two cases" and said["toy_fixed"] == "0.200, 0.200, 0.200"


def test_orders_off_one_and_two_are_said_so(results, configs):
    before = chapter.findings(results, configs)
    assert before["sw_first_order"] == "are first order" and before["sw_shadow_word"] == "second order"
    said = _said(results, configs, dt_sweep={"orders": np.tile([1.5, 1.0, 1.2], (len(NORMS), 1))})
    assert said["sw_first_order"] == "are not all first order" and said["sw_order_neg_low"] == 1.5
    assert said["sw_shadow_word"] == "not all second order"
    assert said["sw_smooth_word"] == "second order"  # the smooth control is judged on its own sweep
    kinked = _said(results, configs, dt_sweep_smooth={"orders": np.tile([1.0, 1.0, 1.1], (len(NORMS), 1))})
    assert kinked["sw_smooth_word"] == "not all second order" and kinked["sw_smooth_low"] == 1.1


def test_a_charge_change_of_low_order_does_not_vanish(results, configs):
    before = chapter.findings(results, configs)
    assert before["no_word_gd"] == "vanishes" and before["no_word_friction"] == "does not vanish"
    said = _said(results, configs, noether={"order": np.array([0.3, 0.9, 0.2])})
    assert said["no_word_gd"] == "does not vanish" and said["no_order_gd"] == 0.3


def test_growth_slower_than_the_flat_rate_is_said_so(results, configs):
    said = _said(results, configs, damping={"growth": np.array([0.0, 0.01, 0.02])})
    assert said["da_compare"] == "slower than" and said["da_growth"] == "0.010, 0.020"
    mixed = _said(results, configs, damping={"growth": np.array([0.0, 0.01, 0.3])})
    assert mixed["da_compare"] == "not uniformly faster than"


def test_findings_on_a_real_tiny_run(results, configs):
    """A real mass search and the real oscillator through ``findings``: plain values, the same keys."""
    mass_config = chapter.MassConfig(base=chapter.ProbeConfig(**TINY_PROBES, norms=("batch",)), masses=(0.5, 2.0))
    mass = chapter.run_mass(mass_config, progress=False, use_cache=False)
    oscillator = probes.oscillator_energies(0.1, 2.0, 160)
    said = chapter.findings({**results, "mass": mass, "oscillator": oscillator}, {**configs, "mass": mass_config})
    _check_types(said)
    assert set(said) == set(chapter.findings(results, configs))
    assert said["ma_masses"] == "0.5, 2" and said["ma_norm"] == "batch" and said["ma_total"] == 6
    assert said["os_shadow"] < 1e-12 < said["os_energy"]


def test_the_other_settings_include_batchnorm_frozen_after_training(results, configs):
    round_trip = results["settings"].round_trip.copy()
    round_trip[:, list(chapter.SETTINGS).index("batch_frozen_after")] = 1e-3
    round_trip[:, list(chapter.SETTINGS).index("batch")] = 1e-2
    said = _said(results, configs, settings={"round_trip": round_trip})
    assert said["st_rt_others"] == 1e-3 and said["st_others_rt_omega"] == "do not all pass"
    assert said["claim_batchnorm_fails"] == "not resolved"  # the book's round trip does not decide it


def test_the_theory_of_the_drift_is_compared_and_its_word_flips(results, configs):
    said = chapter.findings(results, configs)
    assert said["th_dt0_word"] == "agrees within a factor 1.25"
    assert said["th_dt0_count"] == 7 and said["th_dt0_total"] == 8  # the infinite dt_zero is left out
    assert said["th_known_low"] == pytest.approx(0.98) and said["th_known_high"] == pytest.approx(1.0)
    assert said["th_known_departure"] == ("The largest departure, 0.98 times, is at T = 5 and M = 1; it shrinks with "
                                          "dt and does not fade as T grows.")
    assert said["th_known_horizons"] == "5, 20" and said["th_known_by_horizon"] == "T = 5: 0.980 to 1.000; T = 20: 0.980 to 1.000"
    assert said["th_dt0_norms"].startswith("none ") and "train-mode BatchNorm" in said["th_dt0_norms"]
    off = _said(results, configs, probes={"predicted_dt_zero": 2 * results["probes"].predicted_dt_zero})
    assert off["th_dt0_word"] == "is off by more than a factor 1.25 somewhere"
    assert off["th_dt0_high"] == pytest.approx(0.5)
    # the noise where each run ends, and the theory fed with the mean of both ends; a diverged run is left out
    assert said["th_noise_growth_low"] == said["th_noise_growth_high"] == pytest.approx(2.0)
    assert said["th_drift_path_low"] == pytest.approx(1 / 1.6) and said["th_drift_path_high"] == pytest.approx(1 / 1.6)


def test_mass_exponent_table_lists_every_threshold_and_horizon():
    slopes = np.array([[[1.0, 1.1], [0.9, np.nan]]])  # 1 threshold × 2 horizons × 2 seeds
    mass = SimpleNamespace(thresholds=np.array([0.01]), horizon_factors=np.array([0.5, 1.0]), slopes_by=slopes)
    table = chapter.mass_exponent_table(mass, SimpleNamespace(**{**vars(mass), "slopes_by": np.full_like(slopes, np.nan)}))
    assert table.splitlines()[2:] == ["| 0.01 | 0.5 × T | 1.05 [1.00, 1.10] (2 seeds) | no exponent (censored) |",
                                      "| 0.01 | 1 × T | 0.90 [0.90, 0.90] (1 seeds) | no exponent (censored) |"]


def test_the_dose_trend_needs_a_sign_test_over_enough_seeds(results, configs):
    said = chapter.findings(results, configs)
    assert said["sd_trend_word"] == "cannot be judged: 2 seeds, fewer than 5"
    falling = _said(results, configs, settings_dose={"seed_correlations": -np.array([0.9, 0.8, 1.0, 0.7, 0.9, 0.95])})
    assert falling["sd_trend_word"] == "falls with the momentum" and falling["sd_trend_p"] == pytest.approx(2 / 64)
    mixed = _said(results, configs, settings_dose={"seed_correlations": np.array([0.6, -0.5, 0.2, -0.3, 0.1])})
    assert mixed["sd_trend_word"].startswith("shows no trend") and mixed["sd_trend_low"] == -0.5
