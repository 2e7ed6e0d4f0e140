"""Chapter 1's glued numbers and words (``lyapunov.findings``) on tiny real runs, and the words that must flip
when the data flip."""

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from uniq_core.experiments import divergence as introduction
from uniq_core.experiments import lyapunov as chapter

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "01_lyapunov.md"


@pytest.fixture(scope="module")
def runs():
    """Real Results of the tiniest Configs that run, and the Configs, keyed as the chapter passes them."""
    tangent_config = chapter.TangentConfig(n_train=16, widths=(4,), lrs=(0.5,), k=1, warmup=1, n_steps=2,
                                           n_checkpoints=2)
    tangent = chapter.run_tangent(tangent_config, progress=False, use_cache=False)
    divergence_config = chapter.DivergenceConfig(n_train=128, epochs=2, n_seeds=2, n_replicas=3, widths=(8,))
    regime_config = chapter.RegimeConfig(n_train=128, widths=(8,), lrs=(0.1, 0.3), perturbations=(1e-3, 1e-1),
                                         epochs=1, n_replicas=3, n_seeds=2)
    finite_size_config = chapter.FiniteSizeConfig(n_train=128, widths=(8,), epochs=2, perturbations=(1e-9, 1e-3, 1e-1),
                                                  n_replicas=3, n_tangents=2, n_seeds=2)
    edge_config = chapter.EdgeConfig(n_train=16, widths=(4,), lrs=(0.5,), transient=5, warmup=1, n_steps=4,
                                     n_checkpoints=2, n_inits=2)
    architecture_config = chapter.ArchitectureConfig(n_train=128, architectures=("mlp-8", "mlp-4"), reference="mlp-8",
                                                     epochs=1, n_seeds=2, n_tangents=1)
    factors = np.array([2.0, 1.5, 1.2, 0.5])
    results = {
        "validation": {"logistic": np.array([0.69]), "henon": np.array([0.42, -1.62]),
                       "quadratic": np.log([1.5, 0.5, 0.5]), "cold": np.log(factors[:3]) - 0.1,
                       "warm": np.log(factors[:3]) + 1e-6},
        "tangent": tangent,
        "momentum": tangent,
        "divergence": chapter.run_divergence(divergence_config, progress=False, use_cache=False),
        "instability": chapter.run_instability(
            chapter.InstabilityConfig(widths=(8,), epochs=1, splits=(0.0, 0.5), n_children=2, n_independent=2),
            progress=False, use_cache=False),
        "reproducibility": introduction.run_reproducibility(introduction.Config(widths=(8,), epochs=0.5),
                                                            progress=False, use_cache=False),
        "regime": chapter.run_regime(regime_config, progress=False, use_cache=False),
        "finite_size": chapter.run_finite_size(finite_size_config, progress=False, use_cache=False),
        "edge": chapter.run_tangent(edge_config, progress=False, use_cache=False),
        "architectures": chapter.run_architectures(architecture_config, progress=False, use_cache=False),
        "finite_size_setting": chapter.run_finite_size(chapter.finite_size_at(divergence_config), progress=False,
                                                       use_cache=False),
        "finite_size_null": chapter.run_finite_size(chapter.finite_size_null_at(divergence_config), progress=False,
                                                    use_cache=False),
    }
    configs = {
        "validation": {"henon_literature": 0.41922, "quadratic_exact": np.log([1.5, 0.5, 0.5]), "warm_run": 20,
                       "warm_steps": 150, "linear_factors": factors},
        "tangent": tangent_config,
        "momentum": tangent_config.replace(momentum=0.9),
        "divergence": divergence_config,
        "regime": regime_config,
        "finite_size": finite_size_config,
        "edge": edge_config,
        "architectures": architecture_config,
    }
    return results, configs


def said(runs, **replaced):
    """``findings`` with some Results replaced (keyword = results key)."""
    results, configs = runs
    return chapter.findings({**results, **replaced}, configs)


def tangent_rows(result: chapter.TangentResult, **fields) -> chapter.TangentResult:
    """A TangentResult of ``len(fields["lrs"])`` step sizes: the one real row repeated, then ``fields`` set."""
    n = len(fields["lrs"])
    per_run = {field.name: np.repeat(getattr(result, field.name), n, axis=1 if field.name.startswith("init_") else 0)
               for field in dataclasses.fields(result) if field.name != "path_steps"}
    return dataclasses.replace(result, **{**per_run, **{name: np.asarray(value) for name, value in fields.items()}})


def test_every_glued_name_of_the_chapter_is_a_finding_and_every_value_a_number_or_a_word(runs, glue_names_of):
    values = said(runs)
    assert glue_names_of(CHAPTER) and glue_names_of(CHAPTER) <= set(values)
    for name, value in values.items():
        assert type(value) in (int, float, str), (name, type(value))


def test_validation_errors_are_distances_from_the_known_answers(runs):
    values = said(runs)
    assert values["logistic_exponent"] == pytest.approx(0.69) and values["henon_literature"] == 0.41922
    assert values["henon_sum_error"] == pytest.approx(abs(0.42 - 1.62 - np.log(0.3)))
    assert values["quadratic_error"] == pytest.approx(0.0, abs=1e-12)
    assert values["cold_error"] == pytest.approx(0.1) and values["warm_error"] == pytest.approx(1e-6)


def test_only_the_step_sizes_that_crossed_decide_whether_heavy_ball_returns_below_the_edge(runs):
    # η·λ_max / (2 + 2β) = 0.39, 0.79, 1.58: only η = 2 crosses the heavy-ball edge 3.8
    crossing = dict(lrs=[0.5, 1.0, 2.0], sharpness_start=[3.0, 3.0, 3.0], path_sharpness=np.full((3, 2), 3.0),
                    diverged=[False, False, False])
    tangent = runs[0]["tangent"]
    settles = tangent_rows(tangent, regime=["calm", "calm", "catapult"], **crossing)
    values = said(runs, momentum=settles)
    assert values["momentum_crossed_count"] == 1 and values["momentum_crossed_lr"] == "2"
    assert values["momentum_largest_ratio"] == pytest.approx(6.0 / 3.8)
    assert values["momentum_crossed_settled"] == "returns below the edge"
    # a step size that never crossed does not settle either: that must not change the word
    unsettled_below = tangent_rows(tangent, regime=["edge to the end", "calm", "catapult"], **crossing)
    assert said(runs, momentum=unsettled_below)["momentum_crossed_settled"] == "returns below the edge"
    stays = tangent_rows(tangent, regime=["calm", "calm", "edge to the end"], **crossing)
    assert said(runs, momentum=stays)["momentum_crossed_settled"] == "stays beyond the edge to the end of the run"
    two = dict(crossing, sharpness_start=[3.0, 4.0, 3.0], path_sharpness=np.full((3, 2), 4.0))  # 1.05 at η = 1
    mixed = said(runs, momentum=tangent_rows(tangent, regime=["calm", "catapult", "edge to the end"], **two))
    assert mixed["momentum_crossed_count"] == 2 and mixed["momentum_crossed_lr"] == "1, 2"
    assert mixed["momentum_crossed_settled"] == "returns below the edge at 1 of them and stays beyond it at the others"


def test_a_diverged_step_size_never_counts_as_crossing(runs):
    tangent = runs[0]["tangent"]
    fields = dict(lrs=[0.5, 2.0], sharpness_start=[3.0, 3.0], path_sharpness=np.full((2, 2), 3.0),
                  regime=["calm", "diverged"])
    healthy = said(runs, momentum=tangent_rows(tangent, diverged=[False, False], **fields))
    diverged = said(runs, momentum=tangent_rows(tangent, diverged=[False, True], **fields))
    assert healthy["momentum_crossed_count"] == 1 and diverged["momentum_crossed_count"] == 0
    assert diverged["momentum_diverged_count"] == 1 and diverged["momentum_crossed_lr"] == "none"


def test_crossing_runs_that_end_above_their_starting_loss_do_not_train(runs):
    tangent = runs[0]["tangent"]
    fields = dict(lrs=[0.5, 2.0], sharpness_start=[3.0, 3.0], path_sharpness=np.full((2, 2), 3.0),
                  regime=["calm", "catapult"], diverged=[False, False], initial_loss=[2.3, 2.3])
    trains = said(runs, momentum=tangent_rows(tangent, final_loss=[0.1, 0.5], **fields))
    fails = said(runs, momentum=tangent_rows(tangent, final_loss=[0.1, 3.0], **fields))
    assert trains["momentum_crossed_trains"] == "below the starting loss: these runs train"
    assert fails["momentum_crossed_trains"] == "above the starting loss: these runs do not train"
    assert (trains["momentum_crossed_loss"], fails["momentum_crossed_loss"]) == ("0.5", "3")


def test_the_catapult_mechanism_is_the_larger_frozen_rate_over_its_window(runs):
    tangent = runs[0]["tangent"]
    lr = 0.5  # frozen rate ln|1 - ηh|: ln 2 at h = -2, ln 0.5 at h = 1, ln 4 at h = 10, ln 1.05 at h = -0.1
    fields = dict(lrs=[lr, lr], regime=["calm", "catapult"], transient_end=[0.0, 4.0], diverged=[False, False])
    negative = said(runs, tangent=tangent_rows(
        tangent, path_sharpness=np.full((2, 2), 1.0), path_smallest=np.full((2, 2), -2.0),
        sharpest_rate=np.log([0.5, 0.5]), negative_rate_start=np.log([2.0, 2.0]), **fields))
    edge = said(runs, tangent=tangent_rows(
        tangent, path_sharpness=np.full((2, 2), 10.0), path_smallest=np.full((2, 2), -0.1),
        sharpest_rate=np.log([4.0, 4.0]), negative_rate_start=np.log([1.05, 1.05]), **fields))
    assert negative["tangent_catapult_mechanism"] == "negative curvature"
    assert edge["tangent_catapult_mechanism"] == "curvature above the edge"
    assert negative["tangent_catapult_count"] == 1 and negative["tangent_catapult_lr"] == "0.5"
    assert negative["tangent_catapult_negative_rate"] == f"{np.log(2.0) / lr:.3g}"


def test_the_tangent_is_aligned_only_when_its_curvature_is_half_of_the_most_negative(runs):
    tangent = runs[0]["tangent"]
    fields = dict(lrs=[0.5, 0.5], regime=["calm", "catapult"], path_smallest=np.full((2, 2), -0.004))
    aligned = said(runs, tangent=tangent_rows(tangent, path_rayleigh=np.full((2, 2), -0.003), **fields))
    not_aligned = said(runs, tangent=tangent_rows(tangent, path_rayleigh=np.full((2, 2), -0.001), **fields))
    unknown = said(runs, tangent=tangent_rows(tangent, path_rayleigh=np.full((2, 2), np.nan), **fields))
    assert aligned["tangent_after_catapult_alignment"] == "is aligned with"
    assert not_aligned["tangent_after_catapult_alignment"] == "is not aligned with"
    assert unknown["tangent_after_catapult_alignment"] == "undetermined"


def test_the_smallest_eigenvalue_falls_only_when_it_falls_on_every_calm_run(runs):
    tangent = runs[0]["tangent"]
    falls = said(runs, tangent=tangent_rows(tangent, lrs=[0.5, 1.0], regime=["calm", "calm"],
                                            path_smallest=[[-0.01, -0.004], [-0.02, -0.003]]))
    rises = said(runs, tangent=tangent_rows(tangent, lrs=[0.5, 1.0], regime=["calm", "calm"],
                                            path_smallest=[[-0.01, -0.004], [-0.02, -0.03]]))
    assert falls["tangent_smallest_trend"] == "falls" and falls["tangent_end_smallest"] == "-0.004 to -0.003"
    assert rises["tangent_smallest_trend"] == "does not fall on every run"
    assert rises["tangent_end_smallest"] == "-0.03 to -0.004"


def test_the_spread_grows_or_shrinks_only_by_the_books_interval_rule(runs):
    """The section's words follow the verdict's rule: an interval over at least five seeds."""
    divergence = runs[0]["divergence"]

    seeds = len(divergence.fitted_exponent)

    def with_exponents(values):
        """The run with its per-seed arrays repeated to len(values) seeds and the exponents set."""
        per_seed = {field.name: np.resize(value, (len(values),) + value.shape[1:])
                    for field in dataclasses.fields(divergence)
                    if isinstance(value := getattr(divergence, field.name), np.ndarray) and value.shape[:1] == (seeds,)
                    and field.name != "exponent_interval"}
        return dataclasses.replace(divergence, **{**per_seed, "fitted_exponent": np.asarray(values, dtype=float)})

    grows = said(runs, divergence=with_exponents([0.2, 0.21, 0.19, 0.2, 0.22]))
    assert grows["div_trend"] == "grows"
    assert grows["div_significance"] == "distinguishable from zero by the book's interval rule"
    shrinks = said(runs, divergence=with_exponents([-0.2, -0.21, -0.19, -0.2, -0.22]))
    assert shrinks["div_trend"] == "shrinks"
    few = said(runs, divergence=with_exponents([0.2, 0.21, 0.19]))
    assert few["div_trend"] == "changes" and "fewer than 5" in few["div_significance"]


def test_children_share_a_basin_only_while_every_barrier_is_within_the_tolerance(runs):
    instability = runs[0]["instability"]
    below = said(runs, instability=dataclasses.replace(instability, barrier_mean=np.array([0.001, 0.01])))
    above = said(runs, instability=dataclasses.replace(instability, barrier_mean=np.array([0.001, 0.05])))
    assert below["instability_verdict"] == "share a linearly connected basin" and below["barrier_max"] == 1.0
    assert above["instability_verdict"] == "do not always share a basin" and above["barrier_max"] == 5.0
    assert above["instability_basin"].startswith("and some pairs are separated")


def test_a_rerun_that_changes_bits_says_re_execution_is_not_reproducible(runs):
    reproducibility = runs[0]["reproducibility"]
    rerun = reproducibility.names.index("re-run")
    identical = said(runs)["repro_rerun"]
    flags = reproducibility.bitwise_identical.copy()
    flags[rerun] = not flags[rerun]
    flipped = said(runs, reproducibility=dataclasses.replace(reproducibility, bitwise_identical=flags))["repro_rerun"]
    assert {identical.split(" ")[0], flipped.split(" ")[0]} == {"reproduced", "did"}
    assert str(int(reproducibility.steps[-1])) in flipped


def test_the_verdict_box_shows_the_verdict_pages_rows(runs):
    from uniq_core.experiments import verdicts

    results = runs[0]
    box = said(runs)
    expected = verdicts.claim_findings(verdicts.row_lyapunov(results["divergence"], results["regime"],
                                                             finite_size=results["finite_size_setting"]),
                                       verdicts.row_thin_subset(results["divergence"]),
                                       verdicts.row_convergence_ratio(results["divergence"]))
    assert {name: repr(box[name]) for name in expected} == {name: repr(value) for name, value in expected.items()}


def test_the_regime_counts_follow_the_signs_of_healthy_cells(runs):
    regime = runs[0]["regime"]
    spread = np.linspace(-0.01, 0.01, regime.exponent.shape[0])[:, None, None]
    healthy = dataclasses.replace(regime, diverged_fraction=np.zeros_like(regime.diverged_fraction))
    up = said(runs, regime=dataclasses.replace(healthy, exponent=np.ones_like(regime.exponent) + spread))
    down = said(runs, regime=dataclasses.replace(healthy, exponent=-np.ones_like(regime.exponent) + spread))
    assert up["regime_positive_count"] == up["regime_cells"] == regime.diverged_fraction.size
    assert down["regime_negative_count"] == regime.diverged_fraction.size and down["regime_positive_count"] == 0
    assert up["regime_diverged_sentence"] == "No replica diverged on this grid"


def test_the_control_verdict_and_its_consequences_agree_with_the_recovered_fraction(runs):
    values = said(runs)
    recovered = abs(values["control_recovered"] - 1) < chapter.RECOVERY_TOLERANCE
    assert values["control_verdict"] == ("recovers it" if recovered else "does not recover it")
    assert values["control_consequence_short"].endswith("can be read as stable" if recovered
                                                        else "is not evidence of stability")
    assert values["control_long_steps"] == 20 * runs[1]["tangent"].n_steps
    assert values["control_truth"] == pytest.approx(np.log(1 + chapter.CONTROL_LR * 0.004))


def test_the_sign_over_initialisations_follows_the_interval_and_needs_five_of_them(runs):
    results, configs = runs
    tangent = results["tangent"]
    late = np.array([[1e-3, -1e-3, 1e-3], [1.1e-3, -1.1e-3, -1e-3], [0.9e-3, -0.9e-3, 1e-3],
                     [1.2e-3, -1.2e-3, -1e-3], [1e-3, -1e-3, 1e-3], [1.05e-3, -1.05e-3, -1e-3]])
    rows = tangent_rows(tangent, lrs=[0.5, 1.0, 2.0], regime=["calm", "calm", "calm"])
    rows = dataclasses.replace(rows, init_late=late, init_growing=np.full_like(late, 0.75),
                               init_running=np.repeat(late[..., None], 4, axis=-1))
    signs = chapter.initialisation_signs(rows)
    assert list(signs["sign"]) == ["positive", "negative", "not resolved"] and list(signs["n"]) == [6, 6, 6]
    assert signs["low"][0] > 0 and signs["high"][1] < 0
    few = dataclasses.replace(rows, init_late=late[:4])
    assert list(chapter.initialisation_signs(few)["sign"]) == ["not resolved"] * 3
    flat = np.array([True, True, False])  # resolved words keep them over the quarter; "not resolved" never settles
    assert list(chapter.determined_signs(signs, flat, True)) == [
        "finite-time positive", "below the exact floor of 0 (the estimator undershoots)", "not resolved"]
    # a positive estimate is a lower bound and needs no control; a negative one is a measured undershoot where
    # the true exponent has a floor at 0; "not resolved" needs the control
    assert list(chapter.determined_signs(signs, flat, False)) == [
        "finite-time positive", "below the exact floor of 0 (the estimator undershoots)",
        "not determined by this instrument"]
    # without a floor (squared error), a negative word needs the control and a settled sign
    assert chapter.determined_signs(signs, flat, False, floor_at_zero=False)[1] == "not determined by this instrument"
    assert chapter.determined_signs(signs, flat, True, floor_at_zero=False)[1] == "negative"
    blown = {**signs, "n": np.array([6, 6, 0])}
    assert chapter.determined_signs(blown, flat, True)[2] == "blew up at every initialisation"
    assert chapter.determined_signs(signs, ~flat, True)[0] == "not determined by this instrument"
    assert set(chapter.determined_signs(signs, flat, True)) <= set(chapter.SIGN_WORDS)
    settled, testable = chapter.settled_signs(rows)
    assert list(settled) == [True, True, False] and testable.all()  # constant running estimates
    values = said(runs, tangent=rows)  # the tiny fixture's control does not recover its rate
    assert values["tangent_inits"] == 6
    assert values["tangent_inits_signs"] == ("1 finite-time positive; 1 below the exact floor of 0 (the "
                                             "estimator undershoots); 1 not determined by this instrument")
    assert values["tangent_inits_growing"] == "0.75"
    assert values["tangent_inits_flat"].startswith("keeps its word over the last quarter at every step size")
    assert values["tangent_inits_trend"].startswith("not smaller over the last quarter")  # constant: ratio 1
    T = rows.init_running.shape[-1]
    assert values["tangent_inits_amplification"] == f"{np.exp(late[:, 0].mean() * (T - T // 2)):.3g}"


def test_a_sign_settles_only_when_the_last_quarter_agrees_with_the_last_half(runs):
    tangent = runs[0]["tangent"]
    rows = tangent_rows(tangent, lrs=[0.5, 1.0, 2.0], regime=["calm", "calm", "calm"])
    generator = np.random.default_rng(0)
    # per initialisation, ln R₁₁ over 8 steps: constant positive; positive then turning negative; pure noise
    rates = np.stack([np.stack([np.full(8, 1e-3) + 1e-5 * generator.normal(size=8),
                                np.r_[np.full(6, 3e-3), np.full(2, -1e-3)] + 1e-5 * generator.normal(size=8),
                                1e-2 * generator.normal(size=8)]) for _ in range(6)])
    running = np.cumsum(rates, axis=-1) / np.arange(1, 9)
    rows = dataclasses.replace(rows, init_running=running, init_late=rates[..., 4:].mean(axis=-1))
    np.testing.assert_allclose(chapter.late_window_rates(rows, 0.5), rows.init_late, atol=1e-15)
    np.testing.assert_allclose(chapter.late_window_rates(rows, 0.25), rates[..., 6:].mean(axis=-1), atol=1e-15)
    np.testing.assert_allclose(chapter.late_window_rates(rows, 1.0), running[..., -1], atol=1e-15)
    assert list(chapter.initialisation_signs(rows)["sign"]) == ["positive", "positive", "not resolved"]
    settled, testable = chapter.settled_signs(rows)
    assert testable.all() and list(settled) == [True, False, False]  # noise never settles
    words = chapter.determined_signs(chapter.initialisation_signs(rows), settled, False)
    assert list(words[:2]) == ["finite-time positive", "not determined by this instrument"]
    with pytest.raises(ValueError, match="fraction"):
        chapter.late_window_rates(rows, 0.0)


def test_the_decay_exponent_of_a_power_law_rate_is_recovered_and_a_persistent_part_is_not_called_zero(runs):
    # ln R₁₁ = c t^-a per step (a = 1.3, the shape of the calm runs), a constant rate, and the power law plus a
    # persistent exponent λ∞, over 6 initialisations with small multiplicative noise: late_decay recovers a, the
    # constant does not fall, and the words never say "decaying towards 0" (no fit of the rate can show that)
    tangent = runs[0]["tangent"]
    rows = tangent_rows(tangent, lrs=[0.5, 1.0, 2.0], regime=["calm", "calm", "calm"])
    generator = np.random.default_rng(1)
    t = np.arange(1, 801)
    rates = np.stack([np.stack([0.03 * t ** -1.3 * (1 + 0.01 * generator.normal(size=t.size)),
                                1e-3 * (1 + 0.01 * generator.normal(size=t.size)),
                                (0.03 * t ** -1.3 + 1e-4) * (1 + 0.01 * generator.normal(size=t.size))])
                      for _ in range(6)])
    running = np.cumsum(rates, axis=-1) / t
    rows = dataclasses.replace(rows, init_running=running, init_late=rates[..., 400:].mean(axis=-1))
    decay = chapter.late_decay(rows)
    assert decay["low"][0] < 1.3 < decay["high"][0] + 0.05 and abs(decay["mean"][0] - 1.3) < 0.05
    assert list(decay["decaying"][:2]) == [True, False] and abs(decay["mean"][1]) < 0.01
    assert decay["decaying"][2]  # a persistent exponent under a transient still fits a falling power law ...
    signs = chapter.initialisation_signs(rows)
    settled, _ = chapter.settled_signs(rows)
    words = chapter.determined_signs(signs, settled, False)
    assert list(words) == ["finite-time positive"] * 3  # ... so the words do not turn the fit into a limit
    values = chapter._decay_words(rows, np.array([True, True, True]))
    assert values["tangent_inits_decay"].startswith("η = 0.5: 1.3") and "then" in values["tangent_inits_decay_drift"]

def test_relative_spread_words_follow_its_interval(runs):
    results, _ = runs
    divergence = results["divergence"]
    six = dict(fitted_exponent=np.full(6, 0.04), norm_growth=np.full(6, 0.03))
    growing = dataclasses.replace(divergence, relative_exponent=np.array([0.01, 0.011, 0.009, 0.0105, 0.0095, 0.01]),
                                  **six)
    values = chapter._relative_spread_findings(growing)
    assert values["div_relative_trend"] == "grows" and values["div_norm_share"] == pytest.approx(75.0)
    assert values["div_horizon"] == pytest.approx(np.log(0.01 / 2.0**-24) / 0.01)
    assert "1203 epochs (from the whole-run and the late rate)" in values["div_horizon_word"]
    assert "no horizon" in chapter._relative_spread_findings(
        dataclasses.replace(growing, relative_exponent=-growing.relative_exponent, norm=float("nan")))["div_horizon_word"]
    flat = dataclasses.replace(growing, relative_exponent=np.array([0.01, -0.01, 0.005, -0.005, 0.0, 0.001]))
    assert chapter._relative_spread_findings(flat)["div_relative_trend"] == "is not resolved"
    assert {"div_relative", "div_relative_interval", "div_norm_growth"} <= set(said(runs))


def test_the_children_are_compared_with_independently_initialised_pairs(runs):
    results, _ = runs
    instability = results["instability"]
    low = dataclasses.replace(instability, barrier=np.full_like(instability.barrier, 0.001),
                              independent_barrier=np.array([0.015, 0.029]), n_test=270)
    said = chapter._instability_baseline_findings(low)
    assert said["inst_compare"] == "is below the barrier of every independently initialised pair"
    assert said["inst_independent_below_tolerance"] == 1 and said["inst_independent_barrier"] == "1.5 to 2.9"
    assert said["inst_example_points"] == pytest.approx(100 / 270) and said["inst_last_in_examples"] == pytest.approx(0.27)
    high = dataclasses.replace(low, barrier=np.full_like(instability.barrier, 0.02))
    assert chapter._instability_baseline_findings(high)["inst_compare"].startswith("is not below")


def test_the_late_bracket_is_the_measured_rate_over_the_exact_bound_of_the_second_half(runs):
    tangent = runs[0]["tangent"]
    rows = tangent_rows(tangent, lrs=[0.5, 1.0, 2.0], regime=["calm", "calm", "calm"])
    C = rows.path_steps.size
    late = np.array([[1e-3, -1e-3, 1e-3], [1.1e-3, -1.1e-3, -1e-3], [0.9e-3, -0.9e-3, 1e-3],
                     [1.2e-3, -1.2e-3, -1e-3], [1e-3, -1e-3, 1e-3], [1.05e-3, -1.05e-3, -1e-3]])
    rows = dataclasses.replace(rows, init_late=late, init_running=np.repeat(late[..., None], 4, axis=-1),
                               path_sharpness=np.full((3, C), 0.5), path_smallest=np.full((3, C), -0.004),
                               path_loss=np.full((3, C), 0.01))
    values = chapter._late_bracket(rows)  # only η = 0.5 has a positive late sign
    bound = np.log(1 + 0.5 * 0.004)
    assert values["tangent_late_bound"] == f"{bound:.3g}"
    assert values["tangent_late_bracket"] == f"{1e-3 / bound:.2g}"
    assert values["tangent_smallest_per_loss"] == "0.4"


def test_intervals_over_initialisations_are_student_t_over_the_finite_entries():
    from scipy import stats

    values = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, np.nan], [4.0, np.nan], [5.0, np.nan], [np.nan, np.nan]])
    out = chapter.intervals_over_initialisations(values)
    half = stats.t.ppf(0.975, 4) * np.sqrt(2.5) / np.sqrt(5)  # sample variance of 1..5 is 2.5
    low, high = 3.0 - half, 3.0 + half
    assert out["mean"][0] == pytest.approx(3.0) and list(out["n"]) == [5, 1]
    assert out["low"][0] == pytest.approx(low) and out["high"][0] == pytest.approx(high)
    assert out["mean"][1] == 1.0 and np.isnan(out["low"][1])  # one finite entry: no interval
