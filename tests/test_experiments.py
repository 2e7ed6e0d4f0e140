import dataclasses

import numpy as np
import pytest

from uniq_core import stats
from uniq_core.experiments import divergence


def test_quick_run_measures_divergence_on_real_training():
    result = divergence.run(divergence.Config(epochs=3.0, n_replicas=4), progress=False)
    assert result.distance.shape[0] == 4 and result.growth.shape == (3,)
    assert np.all(result.distance[0] == 0)  # the reference is at distance 0 from itself
    assert np.all(result.growth > 0) and result.n_diverged == 0
    low, high = result.growth_interval
    assert low <= result.growth_geometric_mean <= high
    assert np.nanmean(result.test_accuracy) > 0.8  # the network really learned the digits


def test_results_are_cached_by_config():
    config = divergence.Config(epochs=1.0, n_replicas=3)
    first = divergence.run(config, progress=False)
    again = divergence.run(config, progress=False)
    assert again.wall_time == first.wall_time  # read back, not recomputed
    restored = divergence.Result.from_dict(first.to_dict())
    np.testing.assert_array_equal(restored.distance, first.distance)


def test_diverged_replicas_do_not_enter_the_statistics():
    result = divergence.run(divergence.Config(lr=50.0, epochs=1.0, n_replicas=4), progress=False)
    assert result.n_diverged == 4
    assert np.all(np.isnan(result.growth)) and np.isnan(result.growth_geometric_mean)


def test_log_t_interval_on_known_values():
    centre, interval = stats.log_t_interval(np.array([1.0, 100.0, np.nan, -1.0]))
    assert centre == pytest.approx(10.0)
    # t(0.975, df=1) = 12.706; sd of logs = ln(100)/sqrt(2); half-width = 12.706 * sd / sqrt(2)
    half = 12.7062047 * np.log(100) / 2
    np.testing.assert_allclose(np.log(interval), np.log(10.0) + np.array([-half, half]), rtol=1e-6)


def test_t_interval_on_known_values():
    # values 1, 2, 3: mean 2, s = 1, t(0.975, df=2) = 4.302653; half-width 4.302653 / sqrt(3)
    centre, interval = stats.t_interval(np.array([1.0, 2.0, np.inf, 3.0]))
    assert centre == pytest.approx(2.0)
    np.testing.assert_allclose(interval, 2.0 + np.array([-1, 1]) * 4.3026527 / np.sqrt(3), rtol=1e-6)
    assert np.isnan(stats.t_interval(np.array([5.0]))[1]).all() and np.isnan(stats.t_interval(np.array([]))[0])


def test_profiles_are_valid():
    assert divergence.Config.quick() != divergence.Config.full()
    assert divergence.Config.for_profile() == divergence.Config.quick()  # tests run with UNIQ_PROFILE=quick


@pytest.mark.parametrize(
    "field, value",
    [
        ("dataset", "cifar10"),
        ("widths", (0,)),
        ("activation", "swish"),
        ("n_replicas", 1),
        ("perturbation", 0.0),
        ("lr", -0.1),
        ("momentum", 1.0),
        ("batch_size", 0),
        ("epochs", 0.0),
        ("independent_order", "yes"),
        ("seed", -1),
        ("device", "tpu"),
    ],
)
def test_every_bad_field_is_named(field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(divergence.Config(), **{field: value})
