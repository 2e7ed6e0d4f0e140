"""The introduction's glued numbers and words come from ``divergence.findings`` on real, tiny runs."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from uniq_core.experiments import divergence

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "00_intro.md"


@pytest.fixture(scope="module")
def measured():
    config = divergence.Config(epochs=1.0, n_replicas=3)
    results = {"divergence": divergence.run(config, progress=False, use_cache=False),
               "reproducibility": divergence.run_reproducibility(config, progress=False, use_cache=False)}
    return results, {"divergence": config}


def said_with(measured, **changes):
    """The findings after replacing fields of the two Results (``divergence__field`` / ``reproducibility__field``)."""
    results, configs = measured
    results = dict(results)
    for name, value in changes.items():
        which, field = name.split("__")
        results[which] = dataclasses.replace(results[which], **{field: value})
    return divergence.findings(results, configs)


def test_every_name_the_chapter_glues_is_found_and_is_a_number_or_a_word(measured, glue_names_of):
    said = divergence.findings(*measured)
    assert glue_names_of(CHAPTER) <= set(said)
    assert all(type(value) in (int, float, str) for value in said.values()), said
    assert said["demo_replicas"] == 2 and said["repro_threads"] == 2


def test_a_shrinking_perturbation_is_said_to_shrink(measured):
    said = said_with(measured, divergence__growth_geometric_mean=0.5)
    assert said["demo_growth"] == 0.5
    assert said["demo_farther"] == "closer to" and said["demo_grew"] == "The perturbation shrank"
    grown = said_with(measured, divergence__growth_geometric_mean=5.0)
    assert grown["demo_farther"] == "farther from" and grown["demo_grew"] == "The perturbation grew"


def test_a_re_run_that_changes_the_bits_says_re_execution_is_not_reproducible(measured):
    results, _ = measured
    before = divergence.findings(*measured)
    assert before["repro_heading"] == "Re-execution is reproducible; rounding is a perturbation."
    assert before["repro_determinism"] == "determinism is not what fails"
    identical = results["reproducibility"].bitwise_identical.copy()
    identical[results["reproducibility"].names.index("re-run")] = False
    said = said_with(measured, reproducibility__bitwise_identical=identical)
    assert said["repro_heading"] == "Even re-execution is not reproducible here."
    assert said["repro_determinism"] == "here even determinism fails"
    assert said["repro_rerun"] == "did not reproduce the parameters bit for bit over the"


def test_a_variant_that_never_differs_is_said_to_be_the_same_at_every_step(measured):
    results, _ = measured
    reproducibility = results["reproducibility"]
    row = reproducibility.names.index("two half-batches")
    assert divergence.findings(*measured)["repro_halves_clause"].startswith("growing ")
    first = reproducibility.first_difference_step.copy()
    first[row] = -1
    identical = reproducibility.bitwise_identical.copy()
    identical[row] = True
    said = said_with(measured, reproducibility__first_difference_step=first,
                     reproducibility__bitwise_identical=identical)
    assert said["repro_halves_clause"] == "bit for bit the same at every step"
    assert said["repro_halves_changed"] == "did not change"
    assert math.isnan(said["repro_halves_first"]) and said["repro_halves_start"] == 0.0


def test_a_control_that_grows_as_much_as_float64_says_amplification(measured):
    before = divergence.findings(*measured)
    float64_growth = before["repro_float64_growth"]
    assert before["repro_buildup_ratio"] == pytest.approx(float64_growth / before["repro_control_growth"])
    said = said_with(measured, reproducibility__control_growth=float64_growth)
    assert said["repro_buildup_ratio"] == pytest.approx(1.0)
    assert said["repro_buildup_word"] == "most of it is amplification"
    slow = said_with(measured, reproducibility__control_growth=float64_growth / 10)
    assert slow["repro_buildup_word"] == "most of it is the build-up of new rounding errors, not amplification"


def test_the_control_is_compared_with_the_deliberate_perturbation(measured):
    results, _ = measured
    control = results["reproducibility"].control_growth
    assert said_with(measured, divergence__growth_geometric_mean=2 * control)["repro_control_compare"] == "less"
    assert said_with(measured, divergence__growth_geometric_mean=control / 2)["repro_control_compare"] == "more"


def test_a_float64_difference_larger_than_the_perturbation_is_only_a_fraction(measured):
    results, _ = measured
    reproducibility = results["reproducibility"]
    assert divergence.findings(*measured)["repro_still"] == "still"
    distance = reproducibility.distance.copy()
    distance[reproducibility.names.index("float64"), -1] = 1e3
    said = said_with(measured, reproducibility__distance=distance)
    assert said["repro_still"] == "only" and said["repro_float64_below"] < 1


def test_all_replicas_diverged_gives_nan_accuracies_not_an_error(measured):
    results, _ = measured
    nan = np.full_like(results["divergence"].test_accuracy, np.nan)
    said = said_with(measured, divergence__test_accuracy=nan)
    assert math.isnan(said["demo_accuracy_mean"]) and math.isnan(said["demo_accuracy_spread"])
