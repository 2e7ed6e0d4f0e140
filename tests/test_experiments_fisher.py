import dataclasses

import numpy as np
import pytest
import torch

from uniq_core import fisher, models
from uniq_core.experiments import fisher as chapter

SMALL = dict(n_train=128, widths=(6,), epochs=2, batch_size=32, probe_size=40)


def test_null_check_agrees_with_the_symmetries():
    result = chapter.run_null_check(chapter.NullCheckConfig(architectures=(("relu", (5,)), ("tanh", (6, 5))),
                                                            n_inputs=100), progress=False)
    np.testing.assert_array_equal(result.measured, result.predicted)
    assert np.all(result.gap > 1e6)
    # positive control: a unit that dies adds d_in + K null directions, the old null space inside the new
    assert result.death_jump == result.death_expected == 4 + 3 and result.death_angle < 1e-4
    # planted effective rank: K(k + 1) equal eigenvalues and a tail; at a tail of 1e-6 every measure recovers it
    assert result.planted_count == 3 * (5 + 1)
    for measure in (result.planted_participation, result.planted_entropy, result.planted_mackay):
        assert measure[0] == pytest.approx(result.planted_count, rel=0.01)
    # participation stays within 10% up to a tail of 1e-2 × λ_max; MacKay at prior 1e-3·λ_max counts the tail
    assert np.all(np.abs(result.planted_participation / result.planted_count - 1) < 0.1)
    assert result.planted_mackay[-1] > 3 * result.planted_count


def test_planted_rank_spectrum_is_exact():
    values = chapter.planted_rank_spectrum(3, 10, 1e-4, classes=2, n_inputs=50)
    assert len(values) == 2 * 11
    np.testing.assert_allclose(values[:8], 50.0, rtol=1e-10)
    np.testing.assert_allclose(values[8:], 50.0 * 1e-4, rtol=1e-8)


def test_effective_ranks_of_a_planted_split_equal_their_closed_forms_and_the_clean_tail_is_where_they_leave_it():
    from uniq_core import fisher

    for tail in (1e-6, 1e-3, 1e-2, 0.3):
        spectrum = np.concatenate([np.ones(18), np.full(81, tail)])
        theory = chapter.split_effective_ranks(18, 81, tail)
        assert theory["participation"] == pytest.approx(fisher.effective_rank(spectrum), rel=1e-12)
        assert theory["entropy"] == pytest.approx(fisher.effective_rank(spectrum, "entropy"), rel=1e-12)
        assert theory["mackay"] == pytest.approx(fisher.effective_rank(spectrum, "mackay", prior=1e-3), rel=1e-12)
        measured = chapter.planted_rank_spectrum(5, 32, tail, classes=3)
        assert fisher.effective_rank(measured) == pytest.approx(theory["participation"], rel=1e-6)
    # the participation ratio's error (a + bt)²/(a + bt²) − 1 reaches 10 % where the bisection says
    clean = chapter.largest_clean_tail(18, 81, "participation", 0.1)
    error = chapter.split_effective_ranks(18, 81, clean)["participation"] / 18 - 1
    assert error == pytest.approx(0.1, abs=1e-9) and 1e-2 < clean < 2e-2
    assert chapter.largest_clean_tail(18, 81, "mackay", 0.1) < chapter.largest_clean_tail(18, 81, "participation", 0.1)


def test_fisher_along_training():
    config = chapter.FisherConfig(**SMALL, checkpoints=3, n_seeds=2, priors=(1e-4, 1e-2, 1.0, 100.0))
    result = chapter.run_fisher(config, progress=False)
    assert result.steps[0] == 0 and len(result.steps) == 3
    assert result.spectra.shape == (2, 3, result.parameters)
    assert np.all(result.spectra[..., 0] == 1.0)
    # the measured null space contains at least the symmetries, and the data-aware count never exceeds it
    assert np.all(result.null_dimension >= result.predicted_null)
    # the count of symmetries and unseen directions is exact on this small network, before and after training
    np.testing.assert_array_equal(result.explained_null, result.null_dimension)
    # the whole training set sees at least what the probe sees
    assert np.all(result.explained_null_data <= result.explained_null)
    assert result.constant_data <= result.constant_probe
    # fixed-tolerance counts grow with the tolerance; the gap ratio is ≥ 1
    assert np.all(np.diff(result.null_by_rtol, axis=-1) >= 0) and np.all(result.null_gap >= 1)
    assert np.all(result.participation <= result.entropy_rank + 1e-9)  # PR ≤ exp(entropy) for any spectrum
    # MacKay's count falls from P − null towards 0 as the prior precision grows
    assert result.mackay_curve.shape == (2, 3, len(config.priors))
    assert np.all(np.diff(result.mackay_curve, axis=-1) <= 1e-9)
    assert np.all(result.mackay_curve[..., 0] <= result.parameters - result.null_dimension + 1e-6)
    # empirical Fisher: rank ≤ N, trace positive
    assert np.all(result.empirical_trace_ratio > 0) and np.all(result.empirical_participation <= config.probe_size)
    # null subspaces tracked for the first seed only, from the second checkpoint on
    assert np.isnan(result.null_overlap[0, 0]) and np.all(np.isnan(result.null_overlap[1]))
    assert np.all((result.null_overlap[0, 1:] >= 0) & (result.null_overlap[0, 1:] <= 1 + 1e-9))
    assert np.all(result.null_overlap[0, 1:] > result.null_overlap_chance[0, 1:])  # far from random subspaces
    assert np.all(result.dead_units >= 0)
    assert np.all((result.null_angles_moved[0, 1:] >= 0) & (result.null_angles_moved[0, 1:] <= result.null_dimension[0, 1:]))
    # K-FAC after training only: it drops null directions the exact metric has, the exact blocks lose fewer
    assert np.isnan(result.kfac_null[:, :-1]).all() and np.isfinite(result.kfac_null[:, -1]).all()
    assert np.all(result.kfac_null[:, -1] <= result.block_null[:, -1])
    assert np.all(result.block_null[:, -1] <= result.null_dimension[:, -1]) and result.rescalings == sum(SMALL["widths"])
    # the symmetry subspace's own turning, the baseline, is counted between the same checkpoints
    assert np.isnan(result.symmetry_angles_moved[0, 0]) and np.all(np.isnan(result.symmetry_angles_moved[1]))
    assert np.all((result.symmetry_angles_moved[0, 1:] >= 0)
                  & (result.symmetry_angles_moved[0, 1:] <= result.predicted_null))


def test_expected_null_dimension_is_the_symmetries_or_the_data_limit():
    torch.manual_seed(0)
    model = models.MLP(4, (5,), 3, "relu")  # P = 5·5 + 6·3 = 43; symmetries 5 (+ 6 for softmax)
    assert chapter.expected_null_dimension(model, 2, "softmax") == 43 - 2 * 2
    assert chapter.expected_null_dimension(model, 2, "logits") == 43 - 2 * 3
    assert chapter.expected_null_dimension(model, 100, "softmax") == 5 + 6
    assert chapter.expected_null_dimension(model, 100, "logits") == 5


def test_representations_reach_the_output_ceiling():
    config = chapter.RepresentationConfig(**{**SMALL, "widths": (12, 12)}, n_seeds=1)
    result = chapter.run_representations(config, progress=False)
    assert result.rank_end.shape == (1, 2) and result.ceiling == 9
    assert result.rank_end[0, -1] == 9 and result.rank_start[0, -1] == 9


def test_data_null_dimension_counts_constant_inputs_and_dead_units():
    torch.manual_seed(0)
    model = models.MLP(3, (4,), 2, "tanh").double()
    x = torch.randn(50, 3, dtype=torch.float64)
    x[:, 2] = 0.0  # a constant input: each of the 4 units has one unseen incoming direction
    assert fisher.data_null_dimension(model, x)["incoming"] == 4
    assert fisher.null_dimension(model, x, rtol=1e-9) == fisher.predicted_null_dimension(model) + 4
    relu = models.MLP(3, (4,), 2, "relu").double()
    with torch.no_grad():
        relu[1].bias[0] = -100.0  # unit 0 is dead on every input
    counts = fisher.data_null_dimension(relu, torch.randn(50, 3, dtype=torch.float64))
    assert counts["incoming"] == 4 and counts["dead"] == 1
    # its 2 outgoing weights are null too; their rescaling with the incoming ones is already a symmetry
    assert counts["outgoing"] == 2 and counts["shared"] == 1 and counts["total"] == 4 + 2 - 1


def test_gap_null_dimension_ignores_smooth_decay():
    decaying = np.logspace(0, -9, 50)
    assert fisher.gap_null_dimension(decaying) == 0
    with_null = np.concatenate([decaying, 1e-17 * np.ones(7)])
    assert fisher.gap_null_dimension(with_null) == 7


@pytest.mark.parametrize("field, value", [("probe_size", 0), ("output", "probs"), ("activation", "sigmoid"),
                                          ("checkpoints", 1), ("priors", (1.0, -1.0)), ("tracked_seeds", 9)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.FisherConfig(), **{field: value})


def test_the_seeds_give_the_same_result_on_other_processes(unit_executor, one_thread, same_result):
    config = chapter.FisherConfig(n_train=128, widths=(6,), epochs=2, batch_size=32, probe_size=20, checkpoints=3,
                                  n_seeds=2, tracked_seeds=2, device="cpu")
    same_result(chapter.run_fisher(config, progress=False, use_cache=False),
                chapter.run_fisher(config, progress=False, use_cache=False, executor=unit_executor))
