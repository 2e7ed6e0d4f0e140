"""Chapter 6's glued numbers and words: ``uniq_core.experiments.dna.findings`` on a real (tiny) run of the digits
MLP, standing in for MiniLM too (the pretrained weights are an optional extra), and on that run altered so that
each deciding word must flip."""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from uniq_core.experiments import dna as chapter

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "06_dna.md"
TINY = chapter.DnaConfig(source="digits_mlp", hidden=4, layers=1, steps=5, batch_size=4096, n_seeds=2)


@pytest.fixture(scope="module")
def digits():
    return chapter.run_dna(TINY, progress=False, use_cache=False)


@pytest.fixture(scope="module")
def transformer(digits):
    """The digits run with sentence-embedding cosines, which only a MiniLM run measures."""
    return dataclasses.replace(digits, cosine_siren=np.array([0.97, 0.95]), cosine_svd=np.array([0.99, 0.98]),
                               cosine_quantised=np.array([0.90, 0.92]),
                               cosine_nulls=np.array([[0.97, 0.95], [0.96, 0.95], [0.5, 0.4]]),
                               converged_seeds=np.ones(2, bool), converged_permuted_seeds=np.ones(2, bool),  # converged
                               r2_teachers=np.array([0.999, 0.8, 0.01]),  # and fits its known answer
                               converged_teachers=np.ones(3, bool),
                               r2_heldout_seeds=np.array([0.01, 0.02]), r2_heldout_fitted_seeds=np.array([0.1, 0.1]),
                               r2_heldout_column_mean=np.array([0.0005, 0.0004]),
                               converged_heldout_seeds=np.ones(2, bool), converged_heldout_smooth=True,
                               r2_heldout_smooth=0.45, r2_heldout_smooth_part=0.9, r2_ordered=0.2, converged_ordered=True,
                               adjacency_in_place=0.99, adjacency_ordered=0.8)


def _sweep(result):
    """A one-point sweep grid holding ``result``'s PSNRs."""
    return chapter.DnaSweepResult(hiddens=np.array([TINY.hidden]), omegas=np.array([TINY.omega0]),
                                  psnr_siren=np.array([[result.psnr_siren]]),
                                  psnr_permuted=np.array([[result.psnr_permuted]]),
                                  psnr_svd=np.array([[result.psnr_svd]]), ratio=np.array([result.ratio]))


def _entropy(trained: float = 1.40, std_trained: float = 0.2, seeds: int = 5) -> chapter.WeightEntropyResult:
    """One recipe (uniform init, no weight decay) × two layers × ``seeds``: standardised entropy ``trained``
    after training (± 0.01 over seeds) from 1.24 at initialisation, spread 0.1 → ``std_trained``."""
    shape = (1, 1, 2, seeds)
    after = trained + 0.01 * (np.arange(seeds) - (seeds - 1) / 2) * np.ones(shape)
    return chapter.WeightEntropyResult(inits=np.array(["uniform"]), weight_decays=np.array([0.0]),
                                       histogram_trained=after, histogram_init=np.full(shape, 1.24),
                                       spacing_trained=after, spacing_init=np.full(shape, 1.24),
                                       std_trained=np.full(shape, std_trained), std_init=np.full(shape, 0.1),
                                       accuracy=np.full((1, 1, seeds), 0.95))


ENTROPY = _entropy()


def said(transformer, digits=None, config=TINY, sweep=None, weight_entropy=ENTROPY):
    digits = transformer if digits is None else digits
    return chapter.findings({"minilm": transformer, "digits": digits, "sweep": sweep or _sweep(transformer),
                             "weight_entropy": weight_entropy}, {"minilm": config})


def test_every_glue_name_of_the_chapter_is_found_and_every_value_is_a_plain_number_or_word(transformer, digits,
                                                                                            glue_names_of):
    names = glue_names_of(CHAPTER)
    assert len(names) > 100
    values = said(transformer, digits)
    assert names <= set(values), sorted(names - set(values))
    for name, value in values.items():
        assert type(value) in (int, float, str), (name, type(value))
    assert values["ml_seeds"] == values["dm_seeds"] == 2 and values["cv_steps_high"] == 5
    assert values["siren_bits"] == "32/16/8" and values["planted_bandwidths"] == "1–2" and values["confidence"] == 95.0


def test_a_result_read_back_from_disk_says_the_same(tmp_path, transformer, digits):
    transformer.save(tmp_path / "minilm.npz")
    digits.save(tmp_path / "digits.npz")
    again = said(chapter.DnaResult.load(tmp_path / "minilm.npz"), chapter.DnaResult.load(tmp_path / "digits.npz"),
                 sweep=_sweep(transformer))
    before = said(transformer, digits)
    assert again.keys() == before.keys()
    for name, value in again.items():
        assert type(value) is type(before[name]), name
        assert value == before[name] or (isinstance(value, float) and math.isnan(value) and math.isnan(before[name]))


def test_the_positive_control_is_recovered_only_at_the_recovery_fraction_and_above_the_permuted_fit(transformer):
    recovered = said(dataclasses.replace(transformer, r2_smooth=0.45, planted_share=0.5, r2_permuted=0.1))
    assert recovered["pc_verdict"] == "recovers" and recovered["pc_recovered"] == pytest.approx(0.9)
    assert recovered["pc_meaning"].endswith("where one is there")
    improving = said(dataclasses.replace(transformer, r2_smooth=0.45, planted_share=0.5, r2_permuted=0.1,
                                         converged_permuted_seeds=np.array([True, False])))
    assert improving["pc_meaning"].endswith("the budget of steps as much as the weights")
    short = said(dataclasses.replace(transformer, r2_smooth=0.35, planted_share=0.5, r2_permuted=0.1))
    assert short["pc_verdict"] == "does not recover" and short["pc_recovered"] == pytest.approx(0.7)
    assert short["pc_meaning"].endswith("may be the fitter's")
    below_permuted = said(dataclasses.replace(transformer, r2_smooth=0.45, planted_share=0.5, r2_permuted=0.6))
    assert below_permuted["pc_verdict"] == "does not recover"


def test_position_words_follow_the_paired_interval(transformer):
    above = said(dataclasses.replace(transformer, position_excess=0.02, position_low=0.01, position_high=0.03))
    assert above["ml_pos_word"] == above["dm_position_word"] == above["dm_sign_word"] == "more than"
    below = said(dataclasses.replace(transformer, position_excess=-0.02, position_low=-0.03, position_high=-0.01))
    assert below["ml_pos_word"] == "no more than" and below["dm_sign_word"] == "less than"
    straddles = said(dataclasses.replace(transformer, position_excess=0.0, position_low=-0.01, position_high=0.01))
    assert straddles["dm_sign_word"] == "not resolvably more or less than" and straddles["ml_pos_word"] == "no more than"


def test_the_verdicts_position_words_are_the_manifold_rows(transformer):
    """The verdict box says what the manifold row decides: five seeds above the margin store position, five
    bounded below it do not, fewer than five leave it open."""
    permuted = np.full(5, 0.3)
    stored = said(dataclasses.replace(transformer, r2_siren_seeds=0.4 + 0.001 * np.arange(5), r2_permuted_seeds=permuted))
    assert stored["claim_manifold"] == "holds" and stored["vd_pattern"] == "more than"
    assert stored["vd_info"] == "is partly stored as a smooth function of where each weight sits"
    none = said(dataclasses.replace(transformer, r2_siren_seeds=0.3 + 0.001 * np.arange(-2, 3), r2_permuted_seeds=permuted))
    assert none["claim_manifold"] == "fails" and none["vd_pattern"] == "no more than"
    assert none["vd_info"].startswith("is not stored as a smooth function of where each weight sits, at the")
    one_seed = said(dataclasses.replace(transformer, position_low=float("nan"), position_high=float("nan"),
                                        psnr_siren_seeds=transformer.psnr_siren_seeds[:1],
                                        r2_siren_seeds=transformer.r2_siren_seeds[:1],
                                        r2_permuted_seeds=transformer.r2_permuted_seeds[:1]))
    assert one_seed["claim_manifold"] == "not resolved" and one_seed["vd_pattern"] == "not resolvably more than"
    assert one_seed["vd_info"] == "is not shown to be stored as a smooth function of where each weight sits"
    assert one_seed["ml_seeds"] == 1 and one_seed["ml_psnr_sd"] == 0.0 and one_seed["dm_r2_sd"] == 0.0


def test_the_claim_holds_only_at_its_psnr_and_its_ratio_over_five_seeds(transformer):
    five_high = np.array([44.0, 46.0, 45.0, 45.5, 44.5])
    holds = said(dataclasses.replace(transformer, psnr_siren_seeds=five_high, ratio=25.0))
    assert (holds["claim_siren_psnr"], holds["ml_gap_word"]) == ("holds", "above")
    assert holds["ml_gap_to_claim"] == pytest.approx(5.0) and holds["ml_psnr"] == pytest.approx(45.0)
    too_little_compression = said(dataclasses.replace(transformer, psnr_siren_seeds=five_high, ratio=10.0))
    assert too_little_compression["claim_siren_psnr"] == "not testable here"
    short = said(dataclasses.replace(transformer, psnr_siren_seeds=five_high - 15.0, ratio=25.0))
    assert (short["claim_siren_psnr"], short["ml_gap_word"], short["ml_gap_to_claim"]) == ("fails", "short of", 10.0)
    two = said(dataclasses.replace(transformer, psnr_siren_seeds=np.array([29.0, 31.0]), ratio=25.0))
    assert two["claim_siren_psnr"] == "not resolved"  # two seeds give values, not an interval
    improving = said(dataclasses.replace(transformer, psnr_siren_seeds=five_high - 15.0, ratio=25.0,
                                         converged_seeds=np.array([False, True])))
    assert improving["claim_siren_psnr"] == "not resolved"  # a fit still improving measures its budget


def test_the_coders_explain_more_or_less_than_the_siren(transformer):
    siren = float(np.mean(transformer.r2_siren_seeds))
    both = said(dataclasses.replace(transformer, r2_svd=siren + 0.1, r2_quantised=siren + 0.2))
    assert (both["ml_svd_word"], both["ml_quantised_word"], both["ml_both_word"]) == ("more", "more", "more")
    one = said(dataclasses.replace(transformer, r2_svd=siren - 0.1, r2_quantised=siren + 0.2))
    assert (one["ml_svd_word"], one["ml_quantised_word"], one["ml_both_word"]) == ("less", "more", "not both more")
    assert said(dataclasses.replace(transformer, quantised_in_budget=False))["ml_budget_word"].startswith("its cheapest")
    assert said(dataclasses.replace(transformer, quantised_in_budget=True))["ml_budget_word"] == "within the SIREN's budget"


def test_the_siren_sits_below_the_svd_only_at_every_one_of_its_rates(transformer):
    svd = np.interp(transformer.rd_siren_rate, transformer.rd_svd_rate, transformer.rd_svd_r2)
    below = said(dataclasses.replace(transformer, rd_siren_r2=svd - 0.01))
    assert below["rd_siren_rank"] == "below" and below["rd_siren_8bit_loss"] == pytest.approx(svd[0] - svd[-1])
    once_above = said(dataclasses.replace(transformer, rd_siren_r2=np.r_[svd[:-1] - 0.01, svd[-1] + 0.01]))
    assert once_above["rd_siren_rank"] == "not everywhere below"


def test_the_best_coder_of_the_sentence_embeddings_is_the_one_with_the_highest_mean_cosine(transformer):
    values = said(transformer)
    assert values["e2e_best"] == "the SVD" and values["e2e_siren_min"] == pytest.approx(0.95)
    swapped = said(dataclasses.replace(transformer, cosine_siren=np.array([0.999, 0.998])))
    assert swapped["e2e_best"] == "the SIREN" and swapped["e2e_siren"] == pytest.approx(0.9985)


def test_minilm_values_are_compared_with_their_nominal_initialiser(transformer, digits):
    gaussian = 0.5 * np.log(2 * np.pi * np.e)
    shown = said(dataclasses.replace(transformer, entropy_trained=gaussian - 0.01, std_trained=0.04, std_init=0.02))
    assert shown["we_minilm_raw"] == pytest.approx(np.log(2.0) - 0.01)
    grew = said(dataclasses.replace(transformer, std_trained=0.04, std_init=0.02))
    assert grew["std_word"] == "grew" and grew["std_growth"] == pytest.approx(2.0)
    assert said(dataclasses.replace(transformer, std_trained=0.01, std_init=0.02))["std_word"] == "shrank"


def test_the_scope_names_the_matrices_and_the_cross_layer_part_needs_two_layers(transformer):
    one = said(transformer)
    assert one["vd_scope"] == "MiniLM layer 0's attention.self.query matrix"
    assert one["vd_cross_layer"].endswith("its layer and type coordinates are constant")
    same_layer = ("encoder.layer.2.attention.self.query.weight", "encoder.layer.2.attention.self.key.weight")
    two_types = said(transformer, config=TINY.replace(matrices=same_layer))
    assert two_types["vd_scope"] == "2 MiniLM matrices"
    assert two_types["vd_cross_layer"] == "is untested here: the fit covers one layer, so its layer coordinate is constant"
    across = said(transformer, config=TINY.replace(matrices=chapter.MINILM_EMBEDDINGS[:1] + same_layer))
    assert across["vd_cross_layer"] == "enters through the 2 layers fitted together"
    embeddings = said(transformer, config=TINY.replace(matrices=chapter.MINILM_EMBEDDINGS[:1]))
    assert embeddings["vd_scope"] == "MiniLM's embeddings.word_embeddings.weight"


def test_the_sweep_counts_the_settings_where_the_svd_matches_or_beats_the_siren(transformer):
    sweep = chapter.DnaSweepResult(hiddens=np.array([8, 32]), omegas=np.array([1.0, 30.0]),
                                   psnr_siren=np.array([[20.0, 22.0], [25.0, 24.0]]),
                                   psnr_permuted=np.array([[19.0, 21.5], [21.0, 24.0]]),
                                   psnr_svd=np.array([[20.0, 23.0], [24.0, 23.0]]), ratio=np.array([30.0, 3.0]))
    values = said(transformer, sweep=sweep)
    assert (values["sw_excess_max"], values["sw_svd_wins"], values["sw_points"]) == (4.0, 2, 4)


def test_end_to_end_scores_are_read_against_deleting_the_matrices(transformer):
    values = said(transformer)
    assert values["e2e_null_word"] == "keeps no more than deleting the matrices does"
    assert values["e2e_mean"] == pytest.approx(0.96) and values["e2e_permuted"] == pytest.approx(0.45)
    assert values["e2e_null_gap"] == pytest.approx(0.0)
    # the share of what deletion costs that each coder wins back: (c − c_deleted) / (1 − c_deleted)
    assert values["e2e_share_siren"] == pytest.approx(0.0) and values["e2e_share_svd"] == pytest.approx(0.625)
    better = said(dataclasses.replace(transformer, cosine_siren=np.array([0.99, 0.985, 0.99]),
                                      cosine_nulls=np.array([[0.9, 0.92, 0.91], [0.9, 0.9, 0.9], [0.5, 0.4, 0.45]])))
    assert better["e2e_null_word"] == "keeps more than deleting the matrices does"
    assert {"ml_change_mean", "ml_change_zeros", "ml_change_permuted", "dm_drop_mean"} <= set(values)


def test_trained_and_initial_entropy_per_recipe_and_layer(transformer):
    values = said(transformer)
    assert values["we_seeds"] == 5 and values["we_cells"] == 2 and values["we_inits"] == "uniform"
    assert values["we_raw_higher"] == 2 and values["we_raw_low"] == pytest.approx(0.16 + np.log(2))
    assert values["we_spread_low"] == pytest.approx(np.log(2)) and values["we_std_higher"] == 2
    assert values["claim_weight_entropy"] == "fails"
    lower = said(transformer, weight_entropy=_entropy(trained=1.0, std_trained=0.1))
    assert lower["we_raw_lower"] == 2 and lower["claim_weight_entropy"] == "holds"
    table = chapter.weight_entropy_table(ENTROPY).splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| uniform | 0 | layer 1 | +0.853 | +0.160 |")


def test_weight_entropy_runs_on_independent_networks():
    config = chapter.WeightEntropyConfig(n_seeds=2, epochs=1, weight_decays=(0.0,))
    result = chapter.run_weight_entropy(config, progress=False, use_cache=False)
    assert result.histogram_trained.shape == (2, 1, 2, 2) and np.all(result.std_init > 0)
    assert result.histogram_init[0, 0, 0, 0] != result.histogram_init[0, 0, 0, 1]  # each network its own start
    np.testing.assert_allclose(result.differences("raw") - result.differences("standardised"),
                               np.log(result.std_trained / result.std_init))
    # the Gaussian recipe starts at the uniform default's standard deviation, from a Gaussian shape
    np.testing.assert_allclose(result.std_init[1], result.std_init[0], rtol=0.1)
    assert np.all(result.histogram_init[1] > result.histogram_init[0])


def test_low_rank_energy_is_compared_with_a_gaussian_matrix(transformer):
    values = said(dataclasses.replace(transformer, singular_trained=np.r_[np.ones(8), np.full(92, 0.1)],
                                      singular_random=np.ones(100)))
    assert values["ml_rank_k"] == 8 and values["ml_rank_energy_random"] == pytest.approx(0.08)
    assert values["ml_rank_energy"] == pytest.approx(8 / (8 + 92 * 0.01))


def test_the_value_coders_are_compared_with_gaussian_values_at_matched_rates(transformer):
    rates = np.array([0.5, 1.0, 2.0])
    same = said(dataclasses.replace(transformer, rd_uniform_rate=rates, rd_uniform_r2=np.array([0.3, 0.6, 0.9]),
                                    rd_uniform_gaussian_rate=rates, rd_uniform_gaussian_r2=np.array([0.3, 0.6, 0.9])))
    assert same["ml_value_word"] == "as compressible as"
    better = said(dataclasses.replace(transformer, rd_uniform_rate=rates, rd_uniform_r2=np.array([0.4, 0.65, 0.9]),
                                      rd_uniform_gaussian_rate=rates, rd_uniform_gaussian_r2=np.array([0.3, 0.6, 0.9])))
    assert better["ml_value_word"] == "more compressible than" and better["ml_value_gain"] == pytest.approx(0.1)


def test_rank_statistics_of_the_first_matrix(transformer):
    values = said(dataclasses.replace(transformer, singular_trained=np.r_[np.ones(2), np.full(8, 0.5)],
                                      singular_random=np.ones(10)))
    assert values["ml_rank50_random"] == 5 and values["ml_rank90_random"] == 9 and values["ml_pr_random"] == pytest.approx(10)
    assert values["ml_rank50"] == 2 and values["ml_rank_of"] == 10  # 1 + 1 of the total 4


def test_the_known_answer_is_said_and_gates_the_fits_of_the_weights(transformer):
    fits = said(transformer)
    assert fits["tc_word"] == "reaches" and fits["tc_r2"] == pytest.approx(0.999)
    assert fits["tc_ladder"].startswith("×1: R² 0.999; ×4: R² 0.800") and np.isfinite(fits["tc_refit"])
    weak = said(dataclasses.replace(transformer, r2_teachers=np.array([0.5, 0.2, 0.01])))
    assert weak["tc_word"] == "does not reach" and weak["claim_siren_r2"] == "not resolved"
    for key in ("claim_siren_psnr", "claim_manifold", "claim_compressible", "claim_generate"):
        assert weak[key] == "not resolved" and "measures the optimiser" in weak[f"{key}_interval"], key
    # each row keeps its own number, not the known answer's
    assert weak["claim_siren_r2_value"] == pytest.approx(np.mean(transformer.r2_siren_seeds))
    assert weak["claim_manifold_value"] == pytest.approx(np.mean(transformer.r2_siren_seeds - transformer.r2_permuted_seeds))
    rising = said(dataclasses.replace(transformer, converged_teachers=np.array([False, True, True])))
    assert rising["tc_word"] == "does not reach" and rising["claim_siren_r2"] == "not resolved"


def test_the_starting_step_size_is_said_from_one_start_and_from_several(transformer):
    one = said(transformer)
    assert "from one start (step size 0.001, batch 4096)" in one["lg_text"] and one["lg_count"] == 1
    assert "depends" not in one["lg_text"]  # one start measures nothing about the others
    several = said(dataclasses.replace(transformer, start_lr=np.array([1e-3, 1e-4, 1e-3]),
                                       start_batch=np.array([1024, 1024, 8192]),
                                       r2_starts=np.array([0.09, 0.004, 0.11]),
                                       r2_starts_permuted=np.array([0.088, 0.003, 0.109]),
                                       converged_starts=np.array([True, True, False])))
    assert several["lg_r2_low"] == pytest.approx(0.004) and several["lg_r2_high"] == pytest.approx(0.11)
    assert "lowest from step size 0.0001, batch 1024, highest from step size 0.001, batch 8192" in several["lg_text"]
    assert "depends on where it starts" in several["lg_text"] and "1 of the 3 starts" in several["lg_text"]
    close = said(dataclasses.replace(transformer, start_lr=np.array([1e-3, 3e-3]), start_batch=np.array([1024, 1024]),
                                     r2_starts=np.array([0.1, 0.095]), r2_starts_permuted=np.array([0.09, 0.09]),
                                     converged_starts=np.array([True, True])))
    assert "depends little on where it starts" in close["lg_text"]
    assert "0.004 from step size 0.0001, batch 1024" in several["claim_siren_r2_scope"]
    assert "0.001 from step size 0.0001, batch 1024" in several["claim_manifold_scope"]


def test_between_layers_is_said_or_said_to_be_unmeasured(transformer):
    assert said(transformer)["bl_text"].startswith("not measured here")
    minilm = dataclasses.replace(transformer, r2_between_layers=np.array([-0.5, -0.45, -0.6, -0.52]),
                                 correlation_between_layers=np.array([0.01, -0.02, 0.0, 0.03, 0.01]),
                                 r2_between_layers_gram=np.array([0.36, 0.5, 0.56, 0.4]),
                                 correlation_between_layers_gram=np.array([0.47, 0.6, 0.7, 0.5, 0.55]),
                                 r2_between_layers_gram_null=np.full((3, 4), -0.5))
    text = said(minilm, config=chapter.DnaConfig())["bl_text"]
    assert "attention.self.query matrix of each of the 4 interior" in text and "-0.600 to -0.450" in text
    assert "no interior layer is predicted better" in text and "every interior layer is predicted better" in text
    assert "only once the arbitrary order of each layer's units is factored out" in text
    assert "-0.500 to -0.500, so the measured values are above that null" in text
    unrelated = said(dataclasses.replace(minilm, r2_between_layers_gram=np.array([-0.5, -0.4, -0.3, -0.6])),
                     config=chapter.DnaConfig())["bl_text"]
    assert "factored out" not in unrelated and unrelated.count("no interior layer") == 2


def test_the_convergence_figure_shows_every_start_when_there_are_several(transformer):
    from uniq_core import plots

    assert len(plots.dna_convergence_figure(transformer).axes) == 2  # one start
    steps = np.array([[50, 100, 150], [50, 100, np.nan]])
    several = dataclasses.replace(transformer, start_lr=np.array([1e-3, 3e-3]), start_batch=np.array([1024, 8192]),
                                  r2_starts=np.array([0.1, 0.05]), r2_starts_permuted=np.array([0.09, 0.04]),
                                  check_steps_starts=steps, r2_running_starts=np.array([[0.0, 0.05, 0.1], [0.0, 0.05, np.nan]]))
    figure = plots.dna_convergence_figure(several)
    assert len(figure.axes) == 3 and len(figure.axes[2].lines) == 4
    assert figure.axes[2].get_legend().get_texts()[1].get_text() == "step size 0.003, batch 8192"
