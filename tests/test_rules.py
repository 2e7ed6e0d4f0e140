"""The decision rules, calibrated on synthetic data with a known answer: false-verdict rate under a null, power
on a planted effect, and "not resolved" where the data cannot decide."""

import numpy as np
import pytest

from uniq_core import rules
from uniq_core.rules import (FAILS, FAILS_WHERE_RESOLVED, HOLDS, HOLDS_WHERE_RESOLVED, NOT_TESTABLE, REGIME,
                             UNRESOLVED)

REPETITIONS = 800


def _rate(draw, word, decide, repetitions=REPETITIONS, seed=0):
    generator = np.random.default_rng(seed)
    return np.mean([decide(draw(generator)).word == word for _ in range(repetitions)])


@pytest.mark.parametrize("n_units", [5, 8, 16])
@pytest.mark.parametrize("shape", ["normal", "right-skewed", "left-skewed"])
def test_interval_rule_wrong_words_under_a_null_stay_near_the_stated_size(n_units, shape):
    """A 95% two-sided t-interval excludes a true null on either side in 2.5% of repetitions for normal
    units; for skewed (centred lognormal, σ = 0.5) units the worse tail reaches about 8% at 5–8 units, the
    size the rule's docstring states."""
    sign = -1.0 if shape == "left-skewed" else 1.0

    def draw(g):
        if shape == "normal":
            return g.standard_normal(n_units)
        return sign * (g.lognormal(0.0, 0.5, n_units) - np.exp(0.125))

    limit = 0.025 if shape == "normal" else 0.085
    slack = 3 * np.sqrt(limit * (1 - limit) / REPETITIONS)
    for word in (HOLDS, FAILS):
        assert _rate(draw, word, rules.interval_rule) <= limit + slack, word


def test_interval_rule_false_fails_under_a_null_are_as_rare_as_false_holds():
    rate = _rate(lambda g: g.standard_normal(8), FAILS, rules.interval_rule)
    assert rate <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / REPETITIONS)


def test_interval_rule_detects_a_planted_effect_of_the_claimed_size_with_eight_units():
    """Effect of 1.5 standard deviations over 8 seeds: one-sided power of the t-test ≈ 0.93."""
    rate = _rate(lambda g: 1.5 + g.standard_normal(8), HOLDS, rules.interval_rule)
    assert rate >= 0.85


def test_interval_rule_fails_an_effect_in_the_other_direction():
    assert _rate(lambda g: -1.5 + g.standard_normal(8), FAILS, rules.interval_rule) >= 0.85


@pytest.mark.parametrize("n_units", [1, 2, 3, 4])
def test_interval_rule_cannot_decide_from_fewer_than_five_units_however_large_the_effect(n_units):
    decision = rules.interval_rule(np.full(n_units, 100.0) + np.arange(n_units))
    assert decision.word == UNRESOLVED and not np.isfinite(decision.low) and decision.n_units == n_units
    assert "fewer than 5" in decision.interval_kind


def test_interval_rule_leaves_out_diverged_units_and_states_its_margin():
    decision = rules.interval_rule([1.0, 1.1, 0.9, 1.2, np.nan, 1.0], margin=0.01)
    assert decision.n_units == 5 and decision.word == HOLDS
    assert "margin 0.01" in decision.thresholds


def test_interval_rule_with_a_margin_fails_only_an_effect_bounded_below_the_margin():
    small = np.array([0.001, 0.002, 0.0015, 0.0012, 0.0018])
    assert rules.interval_rule(small - 0.0015, margin=0.01).word == FAILS  # contains 0, bounded below 0.01
    assert rules.interval_rule(small - 0.0015, margin=0.0).word == UNRESOLVED


def test_a_sign_rule_on_series_sees_growth_decay_and_no_trend():
    """Per-unit slopes of a log-distance series, judged over units: trending series hold, decaying ones fail,
    stationary (autocorrelated) ones rarely hold."""
    generator = np.random.default_rng(1)
    times = np.arange(150.0)

    def series(rate, n_units=8):
        noise = np.zeros((n_units, len(times)))
        for t in range(1, len(times)):  # AR(1) noise: correlated in time, as training curves are
            noise[:, t] = 0.9 * noise[:, t - 1] + 0.1 * generator.standard_normal(n_units)
        return rate * times + noise

    assert rules.interval_rule(rules.series_slopes(series(2e-3))).word == HOLDS
    assert rules.interval_rule(rules.series_slopes(series(-2e-3))).word == FAILS
    false_holds = np.mean([rules.interval_rule(rules.series_slopes(series(0.0))).word == HOLDS for _ in range(300)])
    assert false_holds <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / 300)


def test_series_slopes_are_exact_on_lines_and_nan_on_a_diverged_unit():
    lines = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 0.5, 0.0, -0.5], [0.0, np.nan, 1.0, 2.0]])
    slopes = rules.series_slopes(lines)
    assert slopes[0] == pytest.approx(1.0) and slopes[1] == pytest.approx(-0.5) and np.isnan(slopes[2])


def test_value_rule_is_an_equivalence_test():
    """Holds when the interval lies inside claimed ± tolerance, fails when it lies wholly outside the band,
    not resolved when it straddles an edge: a small detectable deviation inside the tolerance still holds."""
    def rule(x):
        return rules.value_rule(x, claimed=0.5, tolerance=0.1)

    assert rule(0.52 + 0.001 * np.arange(-2, 3)).word == HOLDS  # 0.52 ± 0.001: detectably off 1/2, within 0.1
    assert _rate(lambda g: 0.5 + 0.02 * g.standard_normal(8), HOLDS, rule) >= 0.95
    assert _rate(lambda g: 0.8 + 0.02 * g.standard_normal(8), FAILS, rule) >= 0.95
    # at the edge of the band the rule calls it "holds" or "fails" in at most 2.5% of repetitions each
    at_edge = [rule(0.6 + 0.02 * g.standard_normal(8)).word for g in [np.random.default_rng(i) for i in range(400)]]
    assert np.mean([w == HOLDS for w in at_edge]) <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / 400)
    assert np.mean([w == FAILS for w in at_edge]) <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / 400)
    assert rule(np.array([0.0, 1.0, 0.5, 0.9, 0.1])).word == UNRESOLVED  # too wide to tell
    assert rule([0.5, 0.5, 0.5]).word == UNRESOLVED  # 3 units
    assert "would be" in rule([0.5, 0.51, 0.49]).interval_kind  # the values and their interval are shown


def test_counterexample_rule_fails_on_one_and_never_proves_a_universal_claim():
    assert rules.counterexample_rule(1, 3, what="seeds").word == FAILS
    assert rules.counterexample_rule(0, 50, what="seeds").word == UNRESOLVED
    assert "1 counterexample among 3 seeds" in rules.counterexample_rule(1, 3, what="seeds").interval_kind


def test_threshold_rule_on_known_cases():
    assert rules.threshold_rule(0.2, threshold=0.1).word == HOLDS
    assert rules.threshold_rule(0.05, threshold=0.1).word == FAILS
    assert rules.threshold_rule(0.05, threshold=0.1, claimed="below").word == HOLDS
    assert rules.threshold_rule(np.nan, threshold=0.1).word == UNRESOLVED
    assert "below 0.1" in rules.threshold_rule(0.05, threshold=0.1, claimed="below").thresholds


@pytest.mark.parametrize("words, combined", [
    ([HOLDS, HOLDS], HOLDS),
    ([FAILS, FAILS], FAILS),
    ([HOLDS, FAILS, UNRESOLVED], REGIME),
    ([HOLDS, UNRESOLVED, UNRESOLVED], HOLDS_WHERE_RESOLVED),
    ([FAILS, UNRESOLVED], FAILS_WHERE_RESOLVED),
    ([UNRESOLVED, UNRESOLVED], UNRESOLVED),
    ([], NOT_TESTABLE),
])
def test_grid_rule_never_counts_unresolved_as_failing(words, combined):
    assert rules.grid_rule(words) == combined


def test_grid_rule_on_a_null_grid_of_two_settings_claims_in_about_one_run_in_ten():
    """Two settings, each judged at 95% with no effect anywhere: a claiming word ("holds where resolved",
    "fails where resolved", "regime") in at most about 10% of repetitions, the size the docstring states;
    "holds only in a regime" (one holds, the other fails) almost never."""
    generator = np.random.default_rng(3)
    words = [rules.grid_rule([rules.interval_rule(generator.standard_normal(8)).word for _ in range(2)])
             for _ in range(600)]
    assert np.mean([w != UNRESOLVED for w in words]) <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / 600)
    assert np.mean([w == REGIME for w in words]) <= 0.01


def test_robust_says_depends_when_a_choice_flips_the_word_and_lists_what_was_tried():
    values = np.array([0.011, 0.012, 0.0115, 0.0118, 0.0112])

    def decide(margin=0.01):
        return rules.interval_rule(values - 0.0115, margin=margin)

    flipped = rules.robust(decide, {"margin": (0.0, 0.02)}, margin=0.01)
    assert flipped.word == "depends on margin" and "margin 0.01" in flipped.robustness
    steady = rules.robust(lambda confidence=0.95: rules.interval_rule(values, confidence=confidence),
                          {"confidence": (0.9, 0.99)}, confidence=0.95)
    assert steady.word == HOLDS and steady.robustness.startswith("same word under confidence 0.95")
    with pytest.raises(ValueError, match="at least 2"):
        rules.robust(decide, {"margin": (0.0,)}, margin=0.01)


def test_every_rule_has_a_first_paragraph_for_the_page_and_words_are_checked():
    for name in rules.RULES:
        text = rules.rule_text(name)
        assert len(text) > 60 and "\n" not in text, name
    with pytest.raises(ValueError, match="word="):
        rules.Decision("probably", 1.0)
    assert rules.is_word("depends on margin") and not rules.is_word("depends on")


def test_instrument_and_untestable_rules_say_what_is_missing():
    assert rules.instrument_rule("size not shown", 0.01).word == UNRESOLVED
    assert rules.untestable_rule("a teacher network").word == NOT_TESTABLE


def test_robust_lists_only_the_alternatives_to_the_default():
    decide = lambda spread="a": rules.Decision(rules.HOLDS, 1.0)  # noqa: E731
    text = rules.robust(decide, {"spread": ("a", "b")}, spread="a").robustness
    assert text == "same word under spread a (also b)"


def test_robustness_is_not_assessed_where_too_few_units_leave_every_alternative_unresolved():
    decide = lambda confidence=0.95: rules.interval_rule([0.1, 0.2, 0.15], confidence=confidence)  # noqa: E731
    decision = rules.robust(decide, {"confidence": (0.9, 0.99)}, confidence=0.95)
    assert decision.word == UNRESOLVED and decision.robustness.startswith("not assessed: with fewer than 5 units")
