import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import dna as chapter


def test_digits_mlp_with_controls_and_baselines():
    result = chapter.run_dna(chapter.DnaConfig(source="digits_mlp", hidden=8, layers=2, steps=50, batch_size=2048),
                             progress=False)
    assert result.n_weights == 64 * 32 + 32 * 10 and result.ratio == pytest.approx(result.n_weights / result.n_params)
    for value in (result.psnr_siren, result.psnr_permuted, result.psnr_svd, result.psnr_constant):
        assert np.isfinite(value)
    assert 0.5 < result.accuracy <= 1
    assert result.singular_trained[0] == 1.0 and len(result.loss) == 50


def test_minilm_matrix_functional_check():
    config = chapter.DnaConfig(hidden=8, layers=1, steps=20, batch_size=4096)
    result = chapter.run_dna(config, progress=False)
    assert result.n_weights == 384 * 384
    assert 0 < result.functional_siren and 0 < result.functional_svd <= 1.0 + 1e-9
    assert np.isnan(result.accuracy)


@pytest.mark.parametrize("field, value", [("source", "bert"), ("hidden", 0), ("omega0", 0.0), ("matrices", ()),
                                          ("frequencies", "all")])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(chapter.DnaConfig(), **{field: value})
