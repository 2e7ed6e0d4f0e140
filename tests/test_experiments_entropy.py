import dataclasses

import numpy as np
import pytest

from uniq_core.experiments import entropy


def test_entropy_near_a_minimum_on_real_training():
    config = entropy.EntropyConfig(n_train=64, widths=(4,), descent_steps=400, subspace=3, chains=4,
                                    sample_steps=200)
    result = entropy.run_entropy(config, progress=False)
    assert result.hessian_eigenvalues.shape == (3,)
    assert np.all(result.hessian_eigenvalues > 0) and np.all(result.hessian_eigenvalues < 2 / config.lr)
    assert result.langevin_exact == pytest.approx(0.0, abs=1e-12)  # isotropic noise commutes with H
    assert result.sgd_exact >= 0 and 0 <= result.commutator <= 2
    assert result.sgd_estimate >= 0 and result.langevin_estimate >= 0  # KL estimates: the second law holds
    assert result.gradient_norm < 0.05  # the descent reached a neighbourhood of a minimum


@pytest.mark.parametrize("field, value", [("subspace", 0), ("batch_size", 10_000), ("weight_decay", 0.0),
                                          ("sample_steps", 10), ("chains", 0)])
def test_bad_fields_are_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(entropy.EntropyConfig(), **{field: value})
