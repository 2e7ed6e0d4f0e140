import copy
import dataclasses

import numpy as np
import pytest

from uniq_core import lyapunov
from uniq_core.experiments import lyapunov as chapter


def test_divergence_metrics_are_consistent_and_per_seed():
    config = chapter.DivergenceConfig(n_train=256, epochs=2, n_seeds=2, n_replicas=3, widths=(16,))
    result = chapter.run_divergence(config, progress=False)
    assert result.spread.shape[0] == 2 and result.fitted_exponent.shape == (2,)
    # our ratio and our exponent are one measurement: exponent = ln(ratio) / duration, same sign
    np.testing.assert_allclose(result.finite_time_exponent, np.log(result.convergence_ratio) / result.epochs[-1])
    assert np.all(result.effective_dimensionality >= 1.0)
    assert np.all(np.isfinite(result.peer_convergence_ratio)) and np.all(np.isfinite(result.peer_lyapunov))
    low, high = result.exponent_interval
    assert low <= result.exponent_mean <= high


def test_diverged_ensembles_are_reported_not_averaged():
    config = chapter.DivergenceConfig(n_train=256, epochs=1, n_seeds=2, n_replicas=3, widths=(16,), lr=90.0)
    result = chapter.run_divergence(config, progress=False)
    assert np.all(result.diverged_fraction == 1.0)
    assert np.all(np.isnan(result.fitted_exponent)) and np.isnan(result.exponent_mean)


def test_tangent_spectrum_against_the_edge_of_stability():
    config = chapter.TangentConfig(n_train=64, widths=(8,), lrs=(0.5, 90.0), k=2, n_steps=15)
    result = chapter.run_tangent(config, progress=False)
    assert result.exponents.shape == (2, 2)
    np.testing.assert_allclose(result.threshold, 2 / np.array([0.5, 90.0]))
    np.testing.assert_allclose(result.sharpest_rate, np.log(np.abs(1 - result.lrs * result.sharpness_start)))
    assert not result.diverged[0] and result.diverged[1]  # η = 90 is far beyond 2/sharpness
    assert result.exponents[0, 0] >= result.exponents[0, 1]
    assert result.running.shape == (2, 15, 2)
    np.testing.assert_allclose(result.running[0, -1], result.exponents[0])


def test_tangent_catapult_is_separated_from_the_regime_after_it():
    # η = 3 starts beyond the edge of stability 2/η: the sharpness collapses (a catapult) and the regime after
    # it is measured separately; η = 0.5 never crosses the edge, so it has no transient.
    config = chapter.TangentConfig(lrs=(0.5, 3.0), k=1, warmup=10, n_steps=60, n_checkpoints=7)
    result = chapter.run_tangent(config, progress=False)
    assert result.path_sharpness.shape == (2, 7) and np.all(result.path_smallest <= result.path_sharpness)
    assert result.transient_end[0] == 0 and np.isnan(result.exponents_transient[0]).all()
    assert result.sharpness_start[1] * 3.0 > 2 and result.transient_end[1] > 0
    assert result.path_sharpness[1, -1] < 2 / 3.0  # below the edge after the catapult
    assert list(result.regime) == ["calm", "catapult"]
    for row in range(2):
        assert set(result.mechanism_after) <= set(chapter.MECHANISMS)
        positive = result.exponents_after[row, 0] > chapter.SIGNIFICANCE_Z * result.error_after[row]
        assert result.sign_after[row] == ("positive" if positive else "not positive")
        assert (result.mechanism_after[row] != "none") == bool(positive)
        # exact gradient-descent bound ln max(|1 - η λ_max|, |1 - η λ_min|) over the window's checkpoints
        assert result.exponents_after[row, 0] <= result.bound_after[row] + 1e-3
    assert result.exponents_transient[1, 0] <= result.bound_transient[1] + 1e-3
    # alignment diagnostic: the first tangent's Rayleigh quotient lies within the Hessian's spectrum
    assert np.all(result.path_rayleigh <= result.path_sharpness + 1e-6)
    assert np.all(result.path_rayleigh >= result.path_smallest - 1e-6)


def test_catapult_during_the_warm_up_and_edge_to_the_end_are_their_own_classes():
    # η = 3 starts beyond the edge; with a 40-step warm-up the catapult is over before the first checkpoint:
    # still a catapult, not calm. η = 3 with 2 steps of warm-up and 4 measured steps stays beyond the edge.
    config = chapter.TangentConfig(lrs=(3.0,), k=1, warmup=40, n_steps=20, n_checkpoints=3)
    result = chapter.run_tangent(config, progress=False)
    assert result.path_sharpness[0, 0] < 2 / 3.0 < result.sharpness_start[0]
    assert result.regime[0] == "catapult" and result.transient_end[0] == 0
    short = chapter.run_tangent(config.replace(warmup=0, n_steps=2, n_checkpoints=2), progress=False)
    assert short.regime[0] == "edge to the end" and np.isnan(short.transient_end[0])
    assert np.isfinite(short.exponents_transient[0, 0]) and np.isnan(short.exponents_after[0, 0])


def test_negative_curvature_control_is_recovered_only_once_the_tangent_aligns():
    # chapter regime: P ≈ 2400, curvature -0.004, k = 3, 10 warm-up steps, 150 steps: the estimate misses
    short = chapter.negative_curvature_control(2410, 1.0, n_steps=150)
    assert short["truth"] == pytest.approx(np.log(1.004))
    assert short["recovered"] < 0.5
    # long enough to amplify the P^-1/2 component (½ ln P / ln(1 + 0.004) ≈ 1000 steps): recovered
    long = chapter.negative_curvature_control(2410, 1.0, n_steps=3000)
    assert 0.6 < long["recovered"] <= 1.0 + 1e-9


def test_null_control_linear_least_squares_below_the_edge_has_no_positive_exponent():
    # a linear model with squared error has a constant positive semi-definite Hessian: below the edge every
    # factor |1 - ηh| ≤ 1, so the top exponent is ≤ 0 (0 on flat directions) and the rule must not call it
    # positive, nor attribute it
    config = chapter.TangentConfig(n_train=128, widths=(), lrs=(0.05, 0.2), k=2, warmup=10, n_steps=80,
                                   n_checkpoints=3, loss="mse")
    result = chapter.run_tangent(config, progress=False)
    assert list(result.regime) == ["calm", "calm"]
    assert np.all(result.path_smallest > -1e-6)
    assert np.all(result.exponents_after[:, 0] <= chapter.SIGNIFICANCE_Z * result.error_after + 1e-12)
    assert np.all(result.exponents_after[:, 0] <= result.bound_after + 1e-9)
    assert list(result.sign_after) == ["not positive"] * 2 and list(result.mechanism_after) == ["none"] * 2


def test_logit_shift_directions_are_exactly_flat():
    # softmax cross-entropy with an output bias: adding one vector to every row of [W | b] of the last layer
    # shifts all logits of each example equally, so H v = 0 and the training map is the identity on v
    import torch

    from uniq_core import data, models

    dataset = data.load("digits", n_train=64, seed=0, device="cpu")
    model = models.MLP(dataset.n_features, (8,), dataset.n_classes).double()
    loss_of = lyapunov._loss_function(model, dataset.x_train.double(), dataset.y_train, "cross_entropy")
    theta = models.flat_parameters(model)
    shift = torch.randn(9, dtype=torch.float64)
    parts = [torch.zeros_like(p) for p in model.parameters()]
    parts[-2] = shift[:8].expand(dataset.n_classes, 8).clone()
    parts[-1] = shift[8].expand(dataset.n_classes).clone()
    direction = torch.cat([p.reshape(-1) for p in parts])
    product = torch.func.jvp(torch.func.grad(loss_of), (theta,), (direction,))[1]
    assert float(product.abs().max()) < 1e-12


def test_heavy_ball_tangent_reports_the_heavy_ball_edge():
    config = chapter.TangentConfig(n_train=64, widths=(8,), lrs=(0.5,), momentum=0.9, k=1, warmup=2, n_steps=4,
                                   n_checkpoints=2)
    result = chapter.run_tangent(config, progress=False)
    np.testing.assert_allclose(result.threshold, [3.8 / 0.5])
    from uniq_core.lyapunov import frozen_rate

    assert result.sharpest_rate[0] == pytest.approx(frozen_rate(result.sharpness_start[0], 0.5, 0.9))


def test_instability_barriers_have_one_value_per_pair():
    config = chapter.InstabilityConfig(widths=(16,), epochs=2, splits=(0.0, 1.0), n_children=3)
    result = chapter.run_instability(config, progress=False)
    assert result.barrier.shape == (2, 3) and result.distance.shape == (2, 3)
    assert np.all(result.barrier >= -1e-12) and np.all(result.distance > 0)


def test_regime_map_flags_divergence_and_gives_intervals_over_seeds():
    config = chapter.RegimeConfig(n_train=256, widths=(16,), lrs=(0.1, 90.0), perturbations=(1e-7, 1e-1),
                                  epochs=1, n_replicas=3, n_seeds=2)
    result = chapter.run_regime(config, progress=False)
    assert result.exponent.shape == (2, 2, 2) and result.exponent_interval.shape == (2, 2, 2)
    assert np.all(result.diverged_fraction[1] == 1.0) and np.all(np.isnan(result.exponent[:, 1]))
    assert np.all(np.isfinite(result.exponent[:, 0]))
    low, high = result.exponent_interval[0, :, 0], result.exponent_interval[0, :, 1]
    assert np.all(low <= result.exponent_mean[0]) and np.all(result.exponent_mean[0] <= high)
    # a perturbation below float32 resolution trains in float64 and reaches the weights at its nominal size
    assert result.float64.tolist() == [True, False]
    np.testing.assert_allclose(result.realised_perturbation[:, 0], 1.0, atol=1e-6)


def test_float32_distorts_a_perturbation_below_its_resolution():
    # why the regime map trains small perturbations in float64: in float32 a per-tensor relative
    # perturbation of 1e-7 is rounded to a different size, in float64 it is exact
    from uniq_core import data, models, replicas

    dataset = data.load("digits", n_train=128, seed=0)
    model = models.MLP(dataset.n_features, (16,), dataset.n_classes)
    assert 1e-7 < chapter.FLOAT64_BELOW and chapter.FLOAT32_RESOLUTION == pytest.approx(5.96e-8, rel=1e-3)
    realised = {}
    for name, network in (("float32", model), ("float64", copy.deepcopy(model).double())):
        record = replicas.train_replicas(network, dataset, n_replicas=4, perturbation=1e-7, lr=0.1, n_steps=1)
        realised[name] = record.distance[1:, 0] / (1e-7 * record.parameter_norm[0, 0])
    np.testing.assert_allclose(realised["float64"], 1.0, atol=1e-9)
    assert np.max(np.abs(realised["float32"] - 1.0)) > 1e-3


def test_perturbation_sizes_are_compared_per_step_size_with_paired_intervals():
    # known answers: row 0 smaller ε clearly faster, row 1 clearly slower, row 2 noise around 0, row 3 diverged
    exponent = np.full((4, 4, 3), np.nan)
    exponent[:, 0] = [[0.5, 0.3, 0.1], [0.52, 0.3, 0.11], [0.49, 0.3, 0.1], [0.5, 0.3, 0.09]]
    exponent[:, 1] = [[0.1, 0.2, 0.3], [0.1, 0.2, 0.31], [0.11, 0.2, 0.3], [0.1, 0.2, 0.29]]
    exponent[:, 2] = [[0.3, 0.2, 0.2], [0.1, 0.2, 0.3], [0.2, 0.2, 0.25], [0.2, 0.2, 0.15]]
    mean = np.nanmean(exponent, axis=0)
    result = chapter.RegimeResult(lrs=np.array([0.1, 0.3, 1.0, 3.0]), perturbations=np.array([1e-5, 1e-3, 1e-1]),
                                  exponent=exponent, exponent_mean=mean, exponent_interval=np.stack([mean, mean], -1),
                                  realised_perturbation=np.ones_like(exponent), diverged_fraction=np.zeros((4, 3)),
                                  test_accuracy=np.zeros((4, 3)), float64=np.zeros(3, bool))
    summary = chapter.compare_perturbation_sizes(result)
    assert summary["words"] == ["faster", "slower", "not distinguishable", "diverged"]
    assert summary["monotone"].tolist() == [True, False, False, False]
    assert "η = 0.1 faster" in summary["sentence"] and "η = 3 the replicas diverged" in summary["sentence"]


@pytest.mark.parametrize(
    "config_type, field, value",
    [
        (chapter.DivergenceConfig, "n_replicas", 2),
        (chapter.DivergenceConfig, "batch_size", 5000),
        (chapter.TangentConfig, "lrs", ()),
        (chapter.TangentConfig, "k", 0),
        (chapter.InstabilityConfig, "splits", (20.0,)),
        (chapter.RegimeConfig, "perturbations", (0.0,)),
        (chapter.RegimeConfig, "n_seeds", 1),
    ],
)
def test_bad_fields_are_named(config_type, field, value):
    with pytest.raises(ValueError, match=rf"^{field}="):
        dataclasses.replace(config_type(), **{field: value})


@pytest.mark.parametrize("config_type", [chapter.DivergenceConfig, chapter.TangentConfig,
                                         chapter.InstabilityConfig, chapter.RegimeConfig])
def test_profiles_construct_and_follow_the_environment(config_type, monkeypatch):
    assert config_type.quick() != config_type.full()
    monkeypatch.setenv("UNIQ_PROFILE", "full")
    assert config_type.for_profile() == config_type.full()
    monkeypatch.setenv("UNIQ_PROFILE", "quick")
    assert config_type.for_profile() == config_type.quick()


def _peer_numbers(trajectories: np.ndarray) -> dict[str, float]:
    """deep-lyapunov 0.1.2's own functions, called as its analyzer calls them (n_epochs = checkpoints − 1)."""
    from deep_lyapunov.metrics import (compute_convergence_ratio, compute_effective_dimensionality,
                                       compute_lyapunov_exponent, compute_spread_evolution)

    return {
        "convergence_ratio": compute_convergence_ratio(trajectories, n_components=3),
        "lyapunov": compute_lyapunov_exponent(compute_spread_evolution(trajectories, n_components=3),
                                              trajectories.shape[0] - 1),
        "effective_dimensionality": float(np.mean(compute_effective_dimensionality(trajectories))),
    }


@pytest.mark.parametrize("shape", [(11, 5, 40), (23, 4, 300), (6, 3, 12)])
def test_peer_metrics_equal_the_peer_package_on_shared_arrays(shape):
    import deep_lyapunov

    assert deep_lyapunov.__version__ == lyapunov.PEER_VERSION
    rng = np.random.default_rng(sum(shape))
    # random walks with a drift, so that the top principal components mix travel and spread
    trajectories = np.cumsum(rng.normal(size=shape) + 0.3, axis=0)
    ours = lyapunov.peer_metrics(trajectories, n_epochs=shape[0] - 1)
    theirs = _peer_numbers(trajectories)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=1e-9), key


def test_peer_metrics_equal_the_peer_package_on_a_training_run():
    from uniq_core import data, models, replicas

    dataset = data.load("digits", n_train=256, seed=0)
    model = models.MLP(dataset.n_features, (16,), dataset.n_classes)
    per_epoch = dataset.x_train.shape[0] // 32
    record = replicas.train_replicas(model, dataset, n_replicas=4, perturbation=1e-2, lr=0.1, batch_size=32,
                                     n_steps=6 * per_epoch, checkpoint_every=per_epoch, seed=0)
    ours = lyapunov.peer_metrics(record.checkpoints, n_epochs=record.checkpoints.shape[0] - 1)
    theirs = _peer_numbers(record.checkpoints)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=1e-9), key


def test_regime_traces_show_the_interval_and_every_seed():
    from uniq_core import plots

    config = chapter.RegimeConfig(n_train=256, widths=(16,), lrs=(0.1, 0.3), perturbations=(1e-3,), epochs=1,
                                  n_replicas=3, n_seeds=2)
    result = chapter.run_regime(config, progress=False)
    traces = plots.regime_traces(result, 0)
    mean = traces[0]
    np.testing.assert_allclose(np.asarray(mean.y) + np.asarray(mean.error_y.array), result.exponent_interval[:, 0, 1])
    assert sum(trace.name == "one seed" for trace in traces) == 2
