"""Chapter 3's glued numbers and words come from ``topology.findings`` on real, tiny runs."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from uniq_core import topology as measures
from uniq_core.experiments import topology

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "03_topology.md"
SMALL = dict(n_train=256, widths=(8,), epochs=3, batch_size=32)


@pytest.fixture(scope="module")
def measured():
    n = 12
    angles = 2 * np.pi * np.arange(n) / n
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 200)
    noisy = np.c_[np.cos(theta), np.sin(theta)] + 0.05 * rng.standard_normal((200, 2))
    noisy_diagrams, covering = measures.persistence_with_radius(noisy, 1, max_points=60)
    trajectory_config = topology.TopologyConfig(**SMALL, n_runs=4, probe_size=8, n_permutations=99)
    symmetry_config = topology.SymmetryConfig(**SMALL, n_pairs=2, n_points=5)
    base = topology.TopologyConfig(**SMALL, n_runs=4, probe_size=8, n_permutations=199, level=0.1)
    sweep_config = topology.TopologySweepConfig(base=base, perturbations=(1e-3, 1.0), widths_grid=(4,))
    calibration_config = topology.CalibrationConfig(n_sets=3, n_runs=4, n_points=12, dimension=3, n_permutations=19)
    results = {
        "circle": measures.persistence(np.c_[np.cos(angles), np.sin(angles)], max_dim=1),
        "noisy": noisy_diagrams, "noisy_radius": covering,
        "topology": topology.run_topology(trajectory_config, progress=False, use_cache=False),
        "independent": topology.run_topology(trajectory_config.replace(independent_order=True), progress=False,
                                             use_cache=False),
        "symmetry": topology.run_symmetry(symmetry_config, progress=False, use_cache=False),
        "sweep": topology.run_topology_sweep(sweep_config, progress=False, use_cache=False),
        "calibration": topology.run_calibration(calibration_config, progress=False, use_cache=False),
    }
    configs = {"circle": {"n_points": n, "noisy_points": 200, "landmarks": 60}, "topology": trajectory_config,
               "symmetry": symmetry_config, "sweep": sweep_config, "calibration": calibration_config}
    return results, configs


def said_with(measured, which, **changes):
    """The findings after replacing fields of ``results[which]``."""
    results, configs = measured
    return topology.findings({**results, which: dataclasses.replace(results[which], **changes)}, configs)


def test_every_name_the_chapter_glues_is_found_and_is_a_number_or_a_word(measured, glue_names_of):
    said = topology.findings(*measured)
    assert glue_names_of(CHAPTER) <= set(said)
    assert all(type(value) in (int, float, str) for value in said.values()), said
    # the known answer: one H1 bar of the evenly spaced circle, at the chords of the formulas
    assert said["circle_h1_count"] == 1 and said["circle_n"] == 12 and said["noisy_points"] == "200"
    assert said["circle_birth_error"] < 1e-6 and said["circle_death_error"] < 1e-6
    assert said["tr_runs"] == 4 and said["tr_tests"] == 4 and said["tr_parameters"] == f"{64 * 8 + 8 + 8 * 10 + 10:,}"


@pytest.mark.parametrize("which, prefix, row", [("topology", "tr", 0), ("independent", "in", 1)])
def test_runs_are_distinguishable_exactly_when_a_holm_adjusted_test_rejects(measured, which, prefix, row):
    results, _ = measured
    other = "independent" if which == "topology" else "topology"
    calm = dict(weight_p_value=1.0, function_p_value=1.0)
    results = {**results, other: dataclasses.replace(results[other], **calm)}
    measured = (results, measured[1])
    said = said_with(measured, which, **calm)
    assert said[f"{prefix}_distinct"] == "does not reject" and said[f"{prefix}_weight_holm"] == 1.0
    said = said_with(measured, which, weight_p_value=0.001)
    assert said[f"{prefix}_distinct"] == "rejects"
    assert said[f"{prefix}_weight_holm"] == pytest.approx(0.004)  # Holm over four tests: 4 × the smallest p
    assert said["claim_topology"] == "not testable here"  # no rejection makes an ill-posed claim hold


def test_a_loop_in_run_zeros_diagram_means_more_than_a_line(measured):
    empty = np.zeros((0, 2))
    said = said_with(measured, "topology", weight_diagram_h1=empty, function_diagram_h1=empty)
    assert said["tr_line"] == "Its topology is that of a line, whichever run it is." and said["tr_h1_bars"] == 0
    said = said_with(measured, "topology", weight_diagram_h1=np.array([[0.1, 0.3]]), function_diagram_h1=empty)
    assert said["tr_line"] == "Loops do appear, so the diagram is more than that of a line."
    assert said["tr_h1_bars"] == 1


def test_disagreement_is_compared_with_the_error_rate(measured):
    results, _ = measured
    runs = len(results["topology"].disagreement)
    accuracy = np.full(runs, 0.9)
    rarely = np.full((runs, runs), 0.01) - 0.01 * np.eye(runs)
    said = said_with(measured, "topology", disagreement=rarely, test_accuracy=accuracy)
    assert said["tr_disagreement_vs_error"] == "below"
    assert said["tr_disagreement"] == pytest.approx(1.0) and said["tr_error"] == pytest.approx(10.0)
    said = said_with(measured, "topology", disagreement=30 * rarely, test_accuracy=accuracy)
    assert said["tr_disagreement_vs_error"] == "above" and said["tr_disagreement_max"] == pytest.approx(30.0)


@pytest.mark.parametrize("after, loss_word, basin", [
    (0.1, "falls", "Most of the loss barrier between independently trained networks is a permutation of hidden units"),
    (0.7, "falls", "Part of the loss barrier is a permutation of hidden units"),
    (1.0, "does not fall significantly", "Alignment removes no significant part of the loss barrier"),
])
def test_the_share_of_the_barrier_alignment_removes_picks_the_words(measured, after, loss_word, basin):
    before = np.array([0.5, 1.0])
    said = said_with(measured, "symmetry", loss_barrier_before=before, loss_barrier_after=after * before)
    assert said["sy_loss_word"] == loss_word and said["sy_basin"] == basin
    assert said["sy_loss_reduction"] == pytest.approx(1 - after)
    assert said["sy_loss_before"] == pytest.approx(0.75) and said["sy_loss_after"] == pytest.approx(0.75 * after)


def test_a_rejecting_setting_of_the_grid_names_its_perturbation(measured):
    results, _ = measured
    sweep = results["sweep"]
    ones = np.ones_like(sweep.weight_p_holm)
    calm = dict(weight_p_value=1.0, function_p_value=1.0)
    quiet = {**results, "topology": dataclasses.replace(results["topology"], **calm),
             "independent": dataclasses.replace(results["independent"], **calm)}
    said = said_with((quiet, measured[1]), "sweep", weight_p_holm=ones, function_p_holm=ones)
    assert said["sw_significant"] == 0 and said["sw_outcome"].startswith("No setting rejects.")
    assert said["claim_topology"] == "not testable here"
    assert said["sw_verdict"].startswith("No setting of the grid, up to a perturbation of 1,")
    assert said["sw_verdict"].endswith("makes the replicate test reject after the correction")
    holm = ones.copy()
    holm[0, 1] = 0.001
    said = said_with((quiet, measured[1]), "sweep", weight_p_holm=holm, function_p_holm=ones)
    assert said["sw_significant"] == 1 and said["sw_min_holm"] == 0.001
    assert said["sw_outcome"] == "The replicate test rejects from a perturbation of 1"
    assert said["sw_verdict"] == "Across the grid, the replicate test rejects from a perturbation of 1"
    assert said["claim_topology"] == "not testable here"


def test_uniqueness_is_decided_by_what_the_runs_compute(measured):
    results, _ = measured
    runs = len(results["topology"].disagreement)
    results, configs = measured
    zeros = {name: dataclasses.replace(results[name], output_difference=np.zeros(runs),
                                       disagreement=np.zeros((runs, runs)))
             for name in ("topology", "independent")}
    same = topology.findings({**results, **zeros}, configs)
    assert same["claim_reproducibility"] == "fails"  # every perturbed run computes the reference's function
    differ = np.zeros((runs, runs))
    differ[0, 1:] = 0.01 + 0.001 * np.arange(runs - 1)
    said = said_with(measured, "topology", disagreement=differ, output_difference=np.r_[0.0, np.full(runs - 1, 0.01)])
    assert said["claim_reproducibility"] in ("not resolved", "depends on order")
    assert said["claim_reproducibility_value"] == pytest.approx(0.01)
    assert said["tr_reference_disagreement"].startswith("1.10% of test inputs on average (per run: 1.00%, 1.10%")


def test_the_nearest_miss_names_its_space_perturbation_and_width(measured):
    results, _ = measured
    ones = np.ones_like(results["sweep"].weight_p_value)
    raw = ones.copy()
    raw[0, 0] = 0.02
    said = said_with(measured, "sweep", weight_p_holm=ones, function_p_holm=ones, weight_p_value=ones,
                     function_p_value=raw)
    assert said["sw_outcome"] == ("No setting rejects. The smallest uncorrected p-value, 0.020, is in function space "
                                  "at perturbation 0.001 and width 4; uncorrected tests would have rejected 1 of the 4")


def test_disagreement_over_the_grid_grows_or_falls(measured):
    assert said_with(measured, "sweep", disagreement=np.array([[0.01, 0.2]]))["sw_disagreement_word"] == "grows"
    said = said_with(measured, "sweep", disagreement=np.array([[0.2, 0.01]]))
    assert said["sw_disagreement_word"] == "falls" and said["sw_disagreement_small"] == pytest.approx(20.0)
    assert said_with(measured, "sweep", disagreement=np.array([[0.1, 0.1]]))["sw_disagreement_word"] == "stays"


def test_calibration_words_follow_the_rates_and_their_intervals(measured):
    said = said_with(measured, "calibration", replicate_rate=0.3, replicate_low=0.18, replicate_high=0.45,
                     null_rate=0.05, null_low=0.01, null_high=0.16, planted_rate=0.9, planted_low=0.8, planted_high=0.97)
    assert said["cal_replicate_holds"] == "does not keep" and said["cal_null_holds"] == "is consistent with"
    assert said["cal_replicate"] == "30% (95% Wilson interval 18% to 45%)"
    broken = said_with(measured, "calibration", null_rate=0.3, null_low=0.2, null_high=0.4)
    assert broken["cal_null_holds"] == "exceeds"


def test_the_two_sample_word_follows_the_holm_family(measured, monkeypatch):
    results, configs = measured
    for rejected, word in (([True, True], "rejects in both spaces"), ([True, False], "rejects in one space only"),
                           ([False, False], "does not reject")):
        monkeypatch.setattr(topology, "two_sample_family", lambda a, b, rejected=rejected: {
            "raw": np.array([0.01, 0.5]), "holm": np.array([0.02, 0.5]), "rejected": np.array(rejected)})
        assert topology.findings(results, configs)["ts_word"] == word


def test_the_symmetry_controls_separate_matching_from_any_permutation():
    def reduction(random, init, trained, loss=(0.9, (0.8, 1.0))):
        return {"random_reduction": random, "init_distance_removed": init, "trained_distance_removed": trained,
                "loss_reduction": loss, "disagreement": (0.03, np.array([0.02, 0.04]))}

    said = topology._symmetry_control_findings(reduction((0.0, np.array([-0.1, 0.1])), (0.1, np.array([0.08, 0.12])),
                                                         (0.3, np.array([0.25, 0.35]))))
    assert said["sy_random_word"] == "leaves the barrier where it was"
    assert said["sy_control_says"] == "the matching, not any permutation, lowers the barrier"
    assert said["sy_matching_compare"] == "more than" and said["sy_disagreement_interval"].startswith("3.00%")
    said = topology._symmetry_control_findings(reduction((0.85, np.array([0.82, 0.88])), (0.3, np.array([0.2, 0.4])),
                                                         (0.3, np.array([0.25, 0.35]))))
    assert said["sy_random_word"] == "changes the barrier"
    assert said["sy_control_says"] == "the control does not separate matching from any permutation"
    assert said["sy_matching_compare"] == "not distinguishably more than"
