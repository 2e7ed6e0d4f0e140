import dataclasses

import numpy as np
import pytest

import torch

from uniq_core import runtime, stats
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


def test_re_execution_is_bitwise_identical_and_non_perturbations_are_measured():
    config = divergence.Config(epochs=2.0)
    result = divergence.run_reproducibility(config, progress=False, use_cache=False)
    assert result.names == list(divergence.VARIANTS)
    rerun = result.names.index("re-run")
    # null control: deterministic re-execution on the CPU reproduces every bit of every step
    assert result.bitwise_identical[rerun] and np.all(result.distance[rerun] == 0)
    assert result.first_difference_step[rerun] == -1
    for name in ("float64", "two half-batches"):
        row = result.names.index(name)
        # every variant starts from the same bits; float64 and another reduction order change the bits
        # from the first step on, by about the float32 rounding level of the weights
        assert result.distance[row, 0] == 0 and not result.bitwise_identical[row]
        assert result.first_difference_step[row] == 1
        relative = result.distance[row, 1] / result.reference_norm[1]
        assert 1e-10 < relative < 1e-5, (name, relative)
    assert result.distance.shape == (len(divergence.VARIANTS), result.steps.size)
    # the single-perturbation control starts at the size of the float64 difference after its first step,
    # and nothing is added later: its growth is final / initial distance
    float64 = result.names.index("float64")
    assert result.control_distance[0] == pytest.approx(result.distance[float64, 1], rel=1e-9)
    assert result.control_size == pytest.approx(result.distance[float64, 1], rel=1e-12)
    assert result.control_growth == pytest.approx(result.control_distance[-1] / result.control_distance[0])


def test_single_perturbation_control_grows_like_the_tangent_map_in_the_linear_regime():
    # known answer: a perturbation of rounding size stays linear, so doubling its size doubles the distance
    # at every step (growth unchanged); the float64 trainer adds no rounding comparable to it
    import copy

    import torch

    from uniq_core import data, models, replicas, runtime

    dataset = data.load("digits", seed=0, device="cpu")
    runtime.seed_everything(0)
    model = models.MLP(dataset.n_features, (16,), dataset.n_classes, "relu").double()
    plan = replicas.make_batch_plan(dataset.x_train.shape[0], 64, 40, seed=0)[0]
    base = divergence.train_single(model, dataset, plan, lr=0.05, momentum=0.9, dtype=torch.float64)
    direction = torch.randn(base.shape[1], generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    growths = []
    for size in (1e-7, 2e-7):
        moved = copy.deepcopy(model)
        torch.nn.utils.vector_to_parameters(torch.as_tensor(base[0]) + size * direction / direction.norm(),
                                            moved.parameters())
        run = divergence.train_single(moved, dataset, plan, lr=0.05, momentum=0.9, dtype=torch.float64)
        distance = np.linalg.norm(run - base, axis=1)
        growths.append(distance[-1] / distance[0])
    assert growths[0] == pytest.approx(growths[1], rel=1e-3)


def test_half_batch_accumulation_is_the_same_update_in_exact_arithmetic():
    # known answer: in float64 the two reduction orders agree to rounding, and the plain trainer follows
    # the engine's update rule (its unperturbed replica 0)
    from uniq_core import data, models, replicas

    dataset = data.load("digits", n_train=256, seed=0)
    model = models.MLP(dataset.n_features, (16,), dataset.n_classes)
    plan = replicas.make_batch_plan(dataset.x_train.shape[0], 32, 20, seed=0)[0]
    whole = divergence.train_single(model, dataset, plan, lr=0.1, momentum=0.9, dtype=torch.float64)
    halves = divergence.train_single(model, dataset, plan, lr=0.1, momentum=0.9, dtype=torch.float64, n_chunks=2)
    np.testing.assert_allclose(halves, whole, rtol=0, atol=1e-12 * np.abs(whole).max())
    engine = replicas.train_replicas(model.double(), dataset, n_replicas=2, perturbation=0.0, lr=0.1, momentum=0.9,
                                     batch_size=32, n_steps=20, seed=0, checkpoint_every=20)
    np.testing.assert_allclose(engine.checkpoints[-1, 0], whole[-1], rtol=0, atol=1e-10 * np.abs(whole).max())


def test_reproducibility_config_keeps_its_own_cache_and_checks_threads():
    config = divergence.Config(epochs=1.0)
    assert runtime.config_key(divergence.ReproducibilityConfig.of(config)) != runtime.config_key(config)
    with pytest.raises(ValueError, match=r"^threads="):
        divergence.ReproducibilityConfig.of(config, threads=1)


def test_divergence_figure_draws_the_non_perturbations_on_the_same_axes():
    from uniq_core import plots

    config = divergence.Config(epochs=1.0, n_replicas=3)
    figure = plots.divergence_figure(divergence.run(config, progress=False),
                                     divergence.run_reproducibility(config, progress=False))
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "re-run: bitwise identical" in labels
    assert {"float64 (no perturbation)", "two half-batches (no perturbation)"} <= set(labels)


def test_wilson_interval_on_known_values():
    from uniq_core.stats import wilson_interval

    low, high = wilson_interval(0, 40)  # a rate of 0: the normal interval would be [0, 0]
    assert low == 0.0 and high == pytest.approx(0.0876, abs=5e-4)
    low, high = wilson_interval(20, 40)
    assert (low + high) / 2 == pytest.approx(0.5) and high - low == pytest.approx(0.2944, abs=2e-3)
    assert np.isnan(wilson_interval(0, 0)[0])
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(5, 4)
