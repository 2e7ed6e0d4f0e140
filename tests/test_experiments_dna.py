import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import dna as chapter


def test_digits_mlp_with_controls_baselines_and_rate_distortion():
    result = chapter.run_dna(chapter.DnaConfig(source="digits_mlp", hidden=8, layers=2, steps=50, check_every=20,
                                               batch_size=2048, n_seeds=2, frequencies="both", starts=((3e-3, 512),)),
                             progress=False)
    assert result.n_weights == 64 * 32 + 32 * 10 and result.ratio == pytest.approx(result.n_weights / result.n_params)
    for value in (result.psnr_siren, result.psnr_permuted, result.psnr_svd, result.psnr_constant, result.psnr_multi,
                  result.psnr_smooth):
        assert np.isfinite(value)
    assert len(result.psnr_siren_seeds) == 2 and result.psnr_siren == result.psnr_siren_seeds[0]
    assert 0.5 < result.accuracy <= 1 and result.cosine_siren.size == 0
    assert result.singular_trained[0] == 1.0 and len(result.loss) == 50 and len(result.curve_smooth) == 50
    # paired permuted controls, one per seed, and the paired interval around their mean difference
    assert result.r2_permuted_seeds.shape == (2,) and result.r2_permuted == pytest.approx(result.r2_permuted_seeds.mean())
    assert result.position_low <= result.position_excess <= result.position_high
    assert 0 <= result.r2_rowcol < 1  # the row-and-column null is fitted too
    assert result.position_excess == pytest.approx(np.mean(result.r2_siren_seeds - result.r2_permuted_seeds))
    # every fit runs until flat or to the cap: 50 steps cannot flatten, so every fit stops at the cap unconverged;
    # the running R² is read every check_every steps and at the last step, and its last read is the final R²
    assert list(result.steps_seeds) == list(result.steps_permuted_seeds) == [50, 50]
    assert not result.converged_seeds.any() and not result.converged_permuted_seeds.any() and not chapter.all_converged(result)
    assert result.check_steps_siren[-1] == 50 and result.r2_running_siren[-1] == pytest.approx(result.r2_siren, abs=1e-6)
    assert result.r2_running_smooth[-1] == pytest.approx(result.r2_smooth, abs=1e-6)
    assert result.planted_share == chapter.PLANTED_SHARE and result.lr_running_siren[0] == 1e-3
    # the first seed's pair again from a further starting step size; the configured start is the first entry
    assert list(result.start_lr) == [1e-3, 3e-3] and list(result.start_batch) == [2048, 512]
    assert result.r2_starts[0] == pytest.approx(result.r2_siren_seeds[0])
    assert result.r2_starts_permuted[0] == pytest.approx(result.r2_permuted_seeds[0])
    assert result.r2_starts[1] != result.r2_starts[0] and result.r2_running_starts.shape[0] == 2
    assert not result.converged_starts.any()  # 50 steps: at the cap
    # multi-frequency fits paired with the first seeds, and the known-answer teacher
    assert result.psnr_multi_seeds.shape == result.converged_multi_seeds.shape == (2,)
    assert result.psnr_multi == result.psnr_multi_seeds[0] and np.isfinite(result.r2_refit)
    assert result.r2_teachers.shape == result.converged_teachers.shape == (len(chapter.TEACHER_BANDWIDTHS),)
    assert np.all(result.steps_teachers == 50) and not result.converged_teachers.any() and result.steps_refit == 50
    # generation on held-out whole rows (first seeds), its planted control, the ordered fit, intrinsic dimension
    # are the transformer's: the digits MLP skips them
    assert result.r2_heldout_seeds.shape == (0,) and np.isnan(result.r2_heldout_smooth) and np.isnan(result.r2_ordered)
    assert 0 < result.heldout_share < 0.2 and result.id_rows > 0 and result.id_rows_gaussian > 0
    assert 0 < result.weight_change < 10 and result.entropy_trained_se > 0 and result.entropy_init_se > 0
    # rate bookkeeping: the SIREN at 32/16/8 bits, the quantiser within the SIREN's 32-bit budget
    np.testing.assert_allclose(result.rd_siren_rate[:2], [32 * result.n_params / result.n_weights,
                                                          16 * result.n_params / result.n_weights])
    assert result.quantised_bits <= result.rd_siren_rate[0]
    assert np.all(np.diff(result.rd_quantiser_rate) > 0) and np.all(np.diff(result.rd_quantiser_psnr) > 0)
    # no memoryless coder (scalar quantisers of the values) beats the Shannon lower bound at its rate; coders
    # that use structure (the SVD) may: tests/test_dna.py shows one that does
    for rates, psnrs in ((result.rd_quantiser_rate, result.rd_quantiser_psnr),
                         (result.rd_uniform_rate, result.rd_uniform_psnr)):
        bound = np.interp(rates, result.rd_bound_rate, result.rd_shannon_psnr)
        assert np.all(psnrs[rates < result.rd_bound_rate[-1]] <= bound[rates < result.rd_bound_rate[-1]] + 0.2)


def test_minilm_matrix_functional_check_and_the_positive_control():
    config = chapter.DnaConfig(hidden=8, layers=1, steps=20, batch_size=4096)
    result = chapter.run_dna(config, progress=False)
    assert result.n_weights == 384 * 384
    assert 0 < result.functional_siren and 0 < result.functional_svd <= 1.0 + 1e-9
    assert np.isnan(result.accuracy) and np.isnan(result.psnr_multi)
    assert result.std_init == pytest.approx(0.02, rel=0.02)  # the nominal initialiser: N(0, 0.02²)
    assert np.isnan(result.weight_change) and isinstance(result.quantised_in_budget, bool)
    # the query matrices of the six encoder layers: four interior layers, five adjacent pairs
    assert result.r2_between_layers.shape == result.r2_between_layers_gram.shape == (4,)
    assert result.correlation_between_layers.shape == result.correlation_between_layers_gram.shape == (5,)
    assert result.r2_between_layers_gram_null.shape == (chapter.BETWEEN_NULL_DRAWS, 4)
    for cosine in (result.cosine_siren, result.cosine_svd, result.cosine_quantised):
        assert cosine.shape == (36,) and np.all(np.abs(cosine) <= 1 + 1e-12)
    # the transformer's generation fits (rows held out whole), their planted control and the ordered fit
    assert result.r2_heldout_seeds.shape == result.converged_heldout_seeds.shape == (1,)
    assert np.isfinite(result.r2_heldout_smooth) and np.isfinite(result.r2_ordered)
    assert result.heldout_share == pytest.approx(38 / 384)
    with pytest.raises(ValueError, match="^matrices="):
        chapter.run_dna(config.replace(matrices=("encoder.layer.0.attention.output.LayerNorm.weight",)), progress=False)


def test_the_ratio_sets_the_width_and_the_full_profile_covers_the_whole_model():
    assert chapter.DnaConfig.quick().ratio == chapter.CLAIMED_RATIO
    full = chapter.DnaConfig.full()
    assert "embeddings.word_embeddings.weight" in full.matrices and len(full.matrices) == 3 + 36
    assert full.frequencies == "both" and full.ratio == chapter.CLAIMED_RATIO


@pytest.mark.parametrize("field, value", [("source", "bert"), ("hidden", 0), ("omega0", 0.0), ("matrices", ()),
                                          ("frequencies", "all"), ("n_seeds", 0), ("ratio", 0.5)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.DnaConfig(), **{field: value})


def test_the_positive_control_recovers_its_planted_share():
    """A SIREN at the digits budget recovers about the planted smooth share of a target whose rest is the
    weights' own shuffled values, and explains more of it than of the shuffled weights alone."""
    result = chapter.run_dna(chapter.DnaConfig(source="digits_mlp", hidden=16, layers=2, steps=400, n_seeds=2),
                             progress=False)
    assert result.r2_smooth == pytest.approx(result.planted_share, abs=0.2)
    assert result.r2_smooth_component > 0.6 and result.r2_smooth > result.r2_permuted


def test_each_matrix_on_its_own_with_its_permuted_pair_and_the_svd():
    config = chapter.DnaMatricesConfig(steps=20, check_every=10, n_seeds=2, batch_size=512)
    result = chapter.run_dna_matrices(config, progress=False, use_cache=False)
    assert list(result.names) == list(config.matrices) and result.r2.shape == result.r2_permuted.shape == (2, 2)
    assert np.all(result.n_weights == 384 * 384) and np.all(result.n_weights / result.n_params >= config.ratio)
    assert not result.converged.any() and np.all(result.steps == 20)  # at the cap
    assert np.all((0 < result.r2_svd) & (result.r2_svd < 1))
    table = chapter.matrix_table(result)
    assert table.count("\n") == 3 and "| layer.0.attention.self.query |" in table and "0 of 2" in table
    said = chapter._matrices_findings(result, config)["mt_text"]
    assert said.startswith("This profile fits 2 of the encoder's 36 matrices") and "decides nothing" in said
    with pytest.raises(ValueError, match="matrices"):
        chapter.DnaMatricesConfig(matrices=())
    with pytest.raises(ValueError, match="not a 2-D MiniLM tensor"):
        chapter._fit_matrix((config, "embeddings.LayerNorm.weight"))


def test_every_fit_gives_the_same_result_on_other_processes(unit_executor, one_thread, same_result):
    config = chapter.DnaConfig(ratio=chapter.CLAIMED_RATIO, steps=40, check_every=20, batch_size=256, n_seeds=2,
                               frequencies="both", starts=((3e-3, 256),), device="cpu")
    same_result(chapter.run_dna(config, progress=False, use_cache=False),
                chapter.run_dna(config, progress=False, use_cache=False, executor=unit_executor))
