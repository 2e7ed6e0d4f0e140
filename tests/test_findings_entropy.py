"""Chapter 2's glued numbers and words come from ``entropy.findings`` on real, tiny runs."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from uniq_core.experiments import entropy

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "02_entropy.md"
TINY = dict(n_train=64, widths=(4,))
LEARNING = entropy.LearningConfig(**TINY, descent_steps=100, subspace=2, subspaces=(2, 3), steps=400, null_paths=20,
                                  n_seeds=2)


@pytest.fixture(scope="module")
def measured():
    validation_config = entropy.ValidationConfig(dts=(0.01, 0.05), n_steps=5000)
    stationary_config = entropy.EntropyConfig(**TINY, descent_steps=100, subspace=2, dimensions=(2, 3), chains=3,
                                              burn_in=0, sample_steps=100, n_seeds=2)
    stationary = entropy.run_entropy(stationary_config, progress=False, use_cache=False)
    results = {
        "validation": entropy.run_validation(validation_config, progress=False, use_cache=False),
        "stationary": stationary,
        "null": entropy.null_control(stationary, stationary_config, repetitions=3, n_bootstrap=4),
        "positive": entropy.positive_control(stationary, stationary_config),
        "training": entropy.run_training(entropy.TrainingConfig(**TINY, steps=20, checkpoints=3, subspace=2, n_seeds=2),
                                         progress=False, use_cache=False),
        "learning": entropy.run_learning(LEARNING, progress=False, use_cache=False),
        "sweep": entropy.run_sweep(entropy.SweepConfig(**TINY, descent_steps=100, subspace=2, lrs=(0.05, 0.1),
                                                       batch_sizes=(4, 16), temperatures=(0.0, 1e-3)),
                                   progress=False, use_cache=False),
    }
    return results, {"validation": validation_config, "stationary": stationary_config, "learning": LEARNING}


def said_with(measured, **changes):
    """The findings after replacing fields of a Result (``stationary__field``) or entries of a control's dict."""
    results, configs = measured
    results = dict(results)
    for name, value in changes.items():
        which, field = name.split("__")
        if isinstance(results[which], dict):
            results[which] = {**results[which], field: value}
        else:
            results[which] = dataclasses.replace(results[which], **{field: value})
    return entropy.findings(results, configs)


def test_every_name_the_chapter_glues_is_found_and_is_a_number_or_a_word(measured, glue_names_of):
    said = entropy.findings(*measured)
    assert glue_names_of(CHAPTER) <= set(said)
    assert all(type(value) in (int, float, str) for value in said.values()), said
    assert said["st_seeds"] == 2 and said["st_chains"] == 3 and said["st_transitions"] == 3 * 99
    assert said["st_decision_z"] == 1.96 and said["ou_segments"] == 20 and said["null_reps"] == 3
    assert said["pos_z"].count(",") == 1  # one z per seed
    assert said["tr_peak_step"] in (0, 10, 20) and said["st_d_large"] == 3


def test_a_decision_interval_above_zero_is_resolved_and_the_verdict_says_so(measured):
    # the section and the verdict box both follow the verdict page's row: an interval over seeds
    five = 0.5 + 0.01 * np.arange(5)
    resolved = said_with(measured, stationary__sgd_estimate=five, stationary__sgd_first_half=five,
                         stationary__sgd_second_half=five, stationary__langevin_null_holds=True,
                         stationary__decision_interval=np.array([0.25, 0.75]))
    assert resolved["st_detected"] == "resolved from zero" and resolved["st_low"] == 0.25
    assert "SGD's entropy production at a stationary minimum: holds" in resolved["claim_entropy_scope"]
    unresolved = said_with(measured, stationary__sgd_estimate=five - 0.52, stationary__sgd_first_half=five - 0.52,
                           stationary__sgd_second_half=five - 0.52, stationary__langevin_null_holds=True)
    assert unresolved["st_detected"] == "not resolved from zero"
    # the verdict is decided on learning, not on the stationary chains
    assert resolved["claim_entropy"] == unresolved["claim_entropy"]
    assert resolved["claim_entropy"] == "not testable here" and "cannot fail" in resolved["claim_entropy_interval"]


def test_a_failing_langevin_null_check_says_the_chains_cannot_decide(measured):
    said = said_with(measured, stationary__decision_interval=np.array([0.25, 0.75]),
                     stationary__langevin_null_holds=False)
    assert said["st_langevin_null"] == "fails" and said["st_detected"] == "not resolved from zero"
    assert "SGD's entropy production at a stationary minimum: not resolved" in said["claim_entropy_scope"]
    assert said_with(measured, stationary__langevin_null_holds=True)["st_langevin_null"] == "passes"


def test_a_circulation_many_errors_from_zero_is_a_visible_current(measured):
    results, _ = measured
    error = results["stationary"].sgd_circulation_error
    said = said_with(measured, stationary__sgd_circulation=-10 * error)
    assert said["cur_sgd_z"] == pytest.approx(10.0)
    assert said["cur_word"] == "as much as" and said["cur_visible"] == "visible"
    quiet = said_with(measured, stationary__sgd_circulation=0.5 * error)
    assert quiet["cur_sgd_z"] == pytest.approx(0.5)
    assert quiet["cur_word"] == "within" and quiet["cur_visible"] == "not visible"


def test_rotated_noise_with_a_higher_rate_means_the_noise_is_aligned(measured):
    results, _ = measured
    exact = results["stationary"].sgd_exact
    raised = said_with(measured, stationary__rotated_exact=4 * exact)
    assert raised["st_rotated_ratio"] == pytest.approx(4.0) and raised["st_rotated_word"] == "raises"
    assert raised["st_aligned_word"] == "aligned with the curvature more than random orientations"
    lowered = said_with(measured, stationary__rotated_exact=exact / 4)
    assert lowered["st_rotated_ratio"] == pytest.approx(0.25) and lowered["st_rotated_word"] == "lowers"
    assert lowered["st_aligned_word"].startswith("not better aligned")


def test_a_local_rate_that_tracks_the_sharpness_is_said_to_follow_it(measured):
    results, _ = measured
    rate = np.array([[1e-4, 3e-3, 1e-3], [2e-4, 5e-3, 2e-3]])
    follows = said_with(measured, training__sgd_rate=rate, training__sgd_rate_mean=np.exp(np.log(rate).mean(0)),
                        training__sharpness=np.log(rate) + 20)
    assert follows["tr_correlation"] == pytest.approx(1.0)
    assert follows["tr_follow_word"] == "is not shown to follow"  # two seeds: values only, no interval
    assert "fewer than 5" in follows["tr_follow_interval"]
    assert follows["tr_peak_word"] == "at the same checkpoint as" and follows["tr_end_word"] == "below"
    assert follows["tr_peak_step"] == int(results["training"].steps[1])
    opposite = said_with(measured, training__sgd_rate=rate, training__sgd_rate_mean=np.exp(np.log(rate).mean(0)),
                         training__sharpness=20 - np.log(rate))
    assert opposite["tr_correlation"] == pytest.approx(-1.0) and opposite["tr_follow_word"] == "is not shown to follow"
    assert opposite["tr_peak_word"] == "at a different checkpoint from"


def test_a_diverged_checkpoint_is_left_out_of_the_correlation(measured):
    rate = np.array([[1e-4, 3e-3, 1e-3], [2e-4, 5e-3, np.nan]])
    sharpness = np.log(np.nan_to_num(rate, nan=1.0)) + 20
    said = said_with(measured, training__sgd_rate=rate, training__sharpness=sharpness,
                     training__sgd_rate_mean=np.array([1.4e-4, 3.9e-3, 1e-3]))
    assert said["tr_correlation"] == pytest.approx(1.0)
    assert said["tr_positive"] == "positive at every checkpoint of every seed" and said["tr_min"] == 1e-4
    clamped = said_with(measured, training__sgd_rate=np.where(np.isnan(rate), 0.0, rate), training__sharpness=sharpness,
                        training__sgd_rate_mean=np.array([1.4e-4, 3.9e-3, 1e-3]))
    assert clamped["tr_positive"].startswith("zero at some checkpoint") and clamped["tr_min"] == 0.0
    assert math.isfinite(clamped["tr_correlation"])


def test_an_estimate_far_from_its_target_disagrees_in_the_validation_and_the_positive_control(measured):
    results, _ = measured
    validation, positive = results["validation"], results["positive"]
    said = said_with(measured, validation__path_expected=validation.path + 10 * validation.path_error,
                     positive__estimate=positive["exact"] + 10 * positive["error"])
    assert said["ou_expected_z"] == pytest.approx(10.0) and said["ou_expected_verdict"] == "disagrees"
    assert said["pos_word"] == "does not recover" and said["pos_z"] == "10.0, 10.0"
    assert said["pos_z_max"] == pytest.approx(10.0)
    agree = said_with(measured, validation__path_expected=validation.path + 0.5 * validation.path_error,
                      positive__estimate=positive["exact"] + 0.5 * positive["error"])
    assert agree["ou_expected_verdict"] == "agrees" and agree["pos_word"] == "recovers"


def test_a_rate_falling_with_the_step_size_is_said_to_fall(measured):
    results, _ = measured
    rate = results["sweep"].sgd_rate.copy()
    rate[0] = np.array([[2e-3, 1e-3], [2e-3, 1e-3]])
    said = said_with(measured, sweep__sgd_rate=rate)
    assert said["sw_step_trend"] == "falls" and said["sw_step_ratio"] == pytest.approx(0.5)
    assert said["sw_time_ratio"] == pytest.approx(4.0) and said["sw_time_trend"] == "varies by a factor"
    rate[0] = np.array([[1e-3, 2e-3], [1e-3, 2e-3]])
    grows = said_with(measured, sweep__sgd_rate=rate)
    assert grows["sw_step_trend"] == "grows" and grows["sw_time_trend"] == "stays within a factor"
    assert grows["sw_time_ratio"] == pytest.approx(1.0)


def test_the_rate_follows_the_sharpness_only_with_an_interval_over_five_seeds(measured):
    rng = np.random.default_rng(0)
    sharpness = rng.uniform(1, 5, size=(6, 5))
    rate = np.exp(sharpness + rng.normal(0, 0.3, size=(6, 5)))
    training = dataclasses.replace(measured[0]["training"], sgd_rate=rate, sharpness=sharpness,
                                   sgd_rate_mean=np.exp(np.log(rate).mean(0)))
    assert entropy.per_seed_correlations(training) == pytest.approx(
        [np.corrcoef(np.log(r), h)[0, 1] for r, h in zip(rate, sharpness)])
    said = entropy._follow_findings(training)
    assert said["tr_follow_word"] == "rises and falls with" and "t-interval over 6 seeds" in said["tr_follow_interval"]
    against = entropy._follow_findings(dataclasses.replace(training, sharpness=-sharpness))
    assert against["tr_follow_word"] == "moves against"


def test_the_rate_by_dimension_is_summarised_by_its_slope_and_its_last_step(measured):
    stationary = measured[0]["stationary"]
    dims = np.array([2, 4, 8, 16])
    linear = dataclasses.replace(stationary, dimensions=dims, rate_by_dimension=np.tile(1e-3 * dims, (2, 1)))
    said = entropy._dimension_findings(linear)
    assert said["st_rate_slope"] == pytest.approx(1.0) and said["st_per_direction_word"] == "is roughly independent of d"
    assert said["st_rate_last_step"] == pytest.approx(2.0) and said["st_rate_limit_word"].startswith("is still growing")
    flat = dataclasses.replace(linear, rate_by_dimension=np.tile([1e-3, 2e-3, 2.05e-3, 2.06e-3], (2, 1)))
    assert entropy._dimension_findings(flat)["st_rate_limit_word"].startswith("levels off")


def test_learning_contraction_is_shown_and_decides_nothing(measured):
    training = measured[0]["training"]
    steps = np.array([0.0, 10.0, 100.0])
    rng = np.random.default_rng(1)
    contraction = 0.5 + 0.01 * rng.standard_normal((6, 3))
    run = dataclasses.replace(training, steps=steps, contraction=contraction, data_contraction=contraction - 0.4)
    np.testing.assert_allclose(entropy.learning_contraction(run),
                               [np.trapezoid(row, steps) / 100 for row in contraction])
    from uniq_core.experiments import verdicts

    # positive over six seeds, and still no verdict: the instrument cannot come out otherwise
    row = verdicts.row_entropy(measured[0]["stationary"], None, run)
    assert row.verdict == "not testable here" and row.rule == "untestable_rule"
    assert "learning transient is not measured" in row.regime
    said = entropy._contraction_findings(run)
    assert said["lc_sign_word"].startswith("contracts volume") and said["lc_run"] == pytest.approx(
        np.mean(entropy.learning_contraction(run)))
    assert thermo_contraction_known_answer()


def thermo_contraction_known_answer() -> bool:
    from uniq_core import thermo

    value = thermo.phase_space_contraction(np.array([1.0, -2.0, 30.0]), 0.1)
    return value == pytest.approx(-(np.log(0.9) + np.log(1.2) + np.log(2.0)))


def test_the_tur_bound_comes_from_the_first_seeds_chains(measured):
    stationary = measured[0]["stationary"]
    said = entropy._tur_findings(stationary)
    currents = entropy.circulation_currents(stationary)
    assert said["cur_tur_chains"] == currents.size and said["cur_tur"] >= 0
    plane = np.zeros((4, 11, 2))
    plane[:, :, 0] = np.cos(np.linspace(0, 2 * np.pi, 11))
    plane[:, :, 1] = np.sin(np.linspace(0, 2 * np.pi, 11))
    plane[1:] *= np.array([1.1, 0.9, 1.05])[:, None, None]  # four anticlockwise loops of different sizes
    looping = entropy._tur_findings(dataclasses.replace(stationary, sgd_plane=plane))
    assert looping["cur_tur_chains"] == 4 and looping["cur_tur"] > 0.1


def test_the_default_burn_in_spans_several_relaxation_times_of_the_slowest_directions():
    from uniq_core.experiments import entropy

    config = entropy.EntropyConfig.quick()
    relaxation = 1 / (config.lr * config.weight_decay)
    assert config.burn_in >= entropy.BURN_IN_RELAXATIONS * relaxation
    assert entropy.EntropyConfig.full().burn_in >= entropy.BURN_IN_RELAXATIONS * relaxation


def test_learning_itself_is_split_into_relaxation_and_housekeeping_and_decides_nothing(measured):
    results, configs = measured
    learning = results["learning"]
    said = entropy.findings(results, configs)
    # the parts add up per seed and subspace; the reversible control has no housekeeping
    np.testing.assert_allclose(learning.sgd_total, learning.sgd_excess + learning.sgd_housekeeping, rtol=1e-8)
    np.testing.assert_allclose(learning.langevin_housekeeping, 0.0, atol=1e-8 * learning.langevin_total.max())
    assert (learning.sgd_housekeeping > 0).all() and (learning.langevin_excess > 0).all()
    # from the stationary spread the relaxation, by the pair route (total − housekeeping), is the
    # displacement's KL once the chain has relaxed; the horizon is where the housekeeping catches it up
    assert said["le_excess_theory_gap"] < 0.05 and said["le_horizon"] > 0
    assert (learning.sgd_housekeeping_early < learning.sgd_housekeeping).all()
    assert said["le_seeds"] == 2 and "fewer than 5" in said["le_housekeeping_interval"]
    assert 0 < said["le_share"] < 100 and "2 directions" in said["le_by_subspace"]
    # the real run starts where the chain's mean starts; the chain's own paths set the deviation's scale
    np.testing.assert_allclose(learning.real_distance[:, 0], learning.model_distance[:, 0], rtol=1e-9)
    assert (learning.null_deviation > 0).all() and said["le_beyond"] in (0, 1, 2)
    assert said["claim_entropy"] == "not testable here" and "cannot fail" in said["claim_entropy_interval"]
    assert "depends on its choices" in said["claim_entropy_robustness"]
    assert said["claim_entropy_value"] == said["le_sgd_housekeeping"]
    close = said_with(measured, learning__model_deviation=learning.null_deviation / 2)
    assert close["le_beyond"] == 0 and close["le_model_word"].startswith("stays within")


def test_initial_variance_is_the_default_initialisations():
    import torch

    from uniq_core import models

    draws = []
    for seed in range(400):
        torch.manual_seed(seed)
        draws.append(models.flat_parameters(models.MLP(8, (4,), 3)).numpy())
    expected = entropy.initial_variance(models.MLP(8, (4,), 3))
    assert expected.shape == draws[0].shape
    np.testing.assert_allclose(np.var(draws, axis=0).mean(), expected.mean(), rtol=0.05)
    np.testing.assert_allclose(np.var(draws, axis=0)[-3:].mean(), 1 / 12, rtol=0.15)  # last biases: fan-in 4
    with pytest.raises(ValueError, match="nn.Linear layers only"):
        entropy.initial_variance(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 2)))


def test_learning_config_names_bad_input():
    with pytest.raises(ValueError, match="subspace=4 must be one of"):
        entropy.LearningConfig(subspace=4, subspaces=(8, 16))
    with pytest.raises(ValueError, match="below n_train"):
        entropy.LearningConfig(n_train=64, subspace=16, subspaces=(16, 64))
