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
    T = config.n_steps
    rates = np.diff(np.concatenate([np.zeros((config.n_inits, 2, 1)), result.init_running * np.arange(1, T + 1)],
                                   axis=-1), axis=-1)  # ln R₁₁ per step of every initialisation
    for row in range(2):
        assert set(result.mechanism_after) <= set(chapter.MECHANISMS)
        begin = int(result.transient_end[row]) + config.warmup if result.transient_end[row] > 0 else 0
        error, word = chapter.window_over_initialisations(rates[:, row], begin, T, T // 4)
        assert result.sign_after[row] == word and result.error_after[row] == pytest.approx(error)
        assert (result.mechanism_after[row] != "none") == (word == "positive")
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
    assert result.warmup_sharpness[0] > 2 / 3.0  # the warm-up's own sharpness saw the edge crossed
    short = chapter.run_tangent(config.replace(warmup=0, n_steps=2, n_checkpoints=2), progress=False)
    assert short.regime[0] == "edge to the end" and np.isnan(short.transient_end[0])
    assert np.isfinite(short.exponents_transient[0, 0]) and np.isnan(short.exponents_after[0, 0])


def test_a_window_is_positive_when_its_interval_over_initialisations_is():
    rates = np.array([[1.0, 2.0, 3.0, -50.0], [1.1, 2.0, 3.0, 50.0], [0.9, 2.0, 3.0, 0.0], [1.2, 2.0, 3.0, 0.0],
                      [0.8, 2.0, 3.0, 0.0]])  # 5 initialisations × 4 steps
    error, word = chapter.window_over_initialisations(rates, 0, 1)
    assert word == "positive" and error == pytest.approx(rates[:, 0].std(ddof=1) / np.sqrt(5))
    assert chapter.window_over_initialisations(rates, 3, 4)[1] == "not significantly positive"
    assert chapter.window_over_initialisations(-rates, 0, 3)[1] == "not significantly positive"
    assert chapter.window_over_initialisations(rates, 0, 2, minimum=3) == (pytest.approx(np.nan, nan_ok=True),
                                                                          "undetermined")
    blown = rates.copy()
    blown[1:] = np.nan  # one finite initialisation: no interval
    assert chapter.window_over_initialisations(blown, 0, 2)[1] == "undetermined"


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
    assert np.all(result.exponents_after[:, 0] <= result.bound_after + 1e-9)
    assert list(result.sign_after) == ["not significantly positive"] * 2 and list(result.mechanism_after) == ["none"] * 2


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
    config = chapter.InstabilityConfig(widths=(16,), epochs=2, splits=(0.0, 1.0), n_children=3, n_parents=2,
                                       n_independent=2)
    result = chapter.run_instability(config, progress=False)
    assert result.barrier.shape == (2, 6) and result.distance.shape == (2, 6) and result.loss_barrier.shape == (2, 6)
    assert np.all(result.barrier >= -1e-12) and np.all(result.distance > 0)
    assert result.disagreement.shape == (2, 6) and np.all((result.disagreement >= 0) & (result.disagreement <= 1))
    # per parent: the mean of its own three pairs; the two parents are different initialisations
    np.testing.assert_allclose(result.parent_barrier, result.barrier.reshape(2, 2, 3).mean(axis=2))
    assert not np.allclose(result.distance[:, :3], result.distance[:, 3:])
    assert result.independent_barrier.shape == (2,) and np.all(result.independent_disagreement > 0)
    assert result.n_test > 0
    # parent 0 is the single parent of a one-parent run: the same numbers
    single = chapter.run_instability(config.replace(n_parents=1, n_independent=0), progress=False)
    np.testing.assert_allclose(single.barrier, result.barrier[:, :3])


def test_instability_null_control_children_that_barely_move_have_no_barrier_and_agree():
    # known answer: with a vanishing step size every child stays at the parent: zero barrier, same predictions
    config = chapter.InstabilityConfig(widths=(16,), epochs=1, splits=(0.0,), n_children=3, lr=1e-9, n_parents=1,
                                       n_independent=0)
    result = chapter.run_instability(config, progress=False)
    np.testing.assert_allclose(result.barrier, 0.0, atol=1e-12)
    np.testing.assert_allclose(result.disagreement, 0.0)


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
    # per unit learning time: the same exponents divided by η · steps per epoch
    per_time = plots.regime_traces(result, 0, per_learning_time=True)[0]
    np.testing.assert_allclose(np.asarray(per_time.y),
                               result.exponent_mean[:, 0] / (result.lrs * result.steps_per_epoch))
    assert result.steps_per_epoch == 256 // 64


# ------------------------------------------------------------------ known answers for the finite-perturbation rates

import torch

from uniq_core import data, replicas, stats


class _Quadratic(torch.nn.Module):
    """A model whose cross-entropy on label 0 is exactly q(θ) = 1 + ½ Σ h_i θ_i²: logits (0, ln(e^q − 1))
    give −log softmax₀ = ln(1 + e^q − 1) = q. Gradient descent is then θ_i ← (1 − ηh_i) θ_i exactly."""

    def __init__(self, curvatures: torch.Tensor) -> None:
        super().__init__()
        # zero along the expanding directions, so the reference stays bounded while differences grow
        self.theta = torch.nn.Parameter(torch.where(curvatures > 2, 0.0, 0.1).to(curvatures.dtype))
        self.register_buffer("curvatures", curvatures)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        q = 1.0 + 0.5 * (self.curvatures * self.theta**2).sum()
        column = inputs[:, 0] * 0.0
        return torch.stack([column, column + torch.log(torch.expm1(q))], dim=-1)


def _quadratic_run(n_top: int = 10, n_parameters: int = 200, n_steps: int = 12, lr: float = 1.0):
    rng = np.random.default_rng(0)
    curvatures = np.concatenate([np.full(n_top, 2.5), rng.uniform(0.6, 1.4, n_parameters - n_top)])
    inputs = torch.zeros(16, 2, dtype=torch.float64)
    labels = torch.zeros(16, dtype=torch.int64)
    dataset = data.Dataset("quadratic", inputs, labels, inputs, labels, 2)
    record = replicas.train_replicas(
        _Quadratic(torch.tensor(curvatures)).double(), dataset, n_replicas=9, perturbation=1e-3, lr=lr,
        n_steps=n_steps, batch_size=16, seed=1, mode="loop")
    return record, float(np.log(np.max(np.abs(1 - lr * curvatures)))), n_parameters, n_steps


def test_spread_exponent_recovers_the_known_rate_within_the_alignment_bias():
    record, exact, n_parameters, n_steps = _quadratic_run()
    assert not record.diverged.any()
    fitted, _ = lyapunov.fitted_exponent(record.steps.astype(float), record.spread)
    finite_time = lyapunov.finite_time_exponent(record.spread, float(n_steps))
    # isotropic perturbations are biased low, by at most the stated bound (least squares and ratio)
    assert exact - chapter.alignment_bias(n_parameters, n_steps) <= fitted < exact
    assert exact - chapter.alignment_bias(n_parameters, n_steps, least_squares=False) <= finite_time < exact
    # once aligned, the rate is exact: the second half of the run gives ln|1 − ηh_max| per step
    late = record.steps >= n_steps / 2
    late_rate, _ = lyapunov.fitted_exponent(record.steps[late].astype(float), record.spread[late])
    assert late_rate == pytest.approx(exact, abs=2e-3)


def test_rates_convert_to_per_step_and_per_unit_learning_time():
    per_step, per_time = chapter.per_step_and_learning_time(np.array([2.0]), 20, 0.1)
    np.testing.assert_allclose(per_step, [0.1])
    np.testing.assert_allclose(per_time, [1.0])
    with pytest.raises(ValueError, match="n_parameters"):
        chapter.alignment_bias(0, 1.0)


def _synthetic_divergence(spread: np.ndarray, epochs: np.ndarray, **fields) -> chapter.DivergenceResult:
    n = spread.shape[0]
    nan = np.full(n, np.nan)
    values = dict(epochs=epochs, spread=spread, fitted_exponent=nan, exponent_mean=np.nan,
                  exponent_interval=np.array([np.nan, np.nan]), convergence_ratio=nan, finite_time_exponent=nan,
                  effective_dimensionality=nan, peer_convergence_ratio=nan, peer_lyapunov=nan,
                  peer_effective_dimensionality=nan, diverged_fraction=np.zeros(n), test_accuracy=nan, wall_time=0.0)
    return chapter.DivergenceResult(**(values | fields))


def test_early_and_late_exponents_recover_a_known_bend():
    epochs = np.linspace(0, 10, 41)
    # rate 0.5 up to epoch 5, then 0.1: exact piecewise exponentials, three seeds with different offsets
    log_spread = np.where(epochs <= 5, 0.5 * epochs, 2.5 + 0.1 * (epochs - 5))
    spread = np.exp(log_spread[None, :] + np.array([[0.0], [1.0], [-2.0]]))
    result = _synthetic_divergence(spread, epochs)
    early, late = chapter.early_and_late_exponents(result)
    np.testing.assert_allclose(early, 0.5)
    np.testing.assert_allclose(late, 0.1)
    # a paired interval: a bend that differs across seeds gives an interval below zero
    spread_noisy = spread * np.exp(np.array([[0.0], [0.02], [-0.02]]) * np.maximum(epochs - 5, 0))
    centre, interval = chapter.late_minus_early(_synthetic_divergence(spread_noisy, epochs))
    assert centre == pytest.approx(-0.4, abs=0.03) and interval[1] < 0


def test_peer_sign_disagreements_count_opposite_signs_only():
    result = _synthetic_divergence(np.ones((4, 3)), np.arange(3.0),
                                   peer_convergence_ratio=np.array([0.5, 2.0, 0.5, np.nan]),
                                   peer_lyapunov=np.array([0.1, 0.1, -0.1, 0.3]))
    assert chapter.peer_sign_disagreements(result) == 1


def _synthetic_regime(exponent: np.ndarray, diverged: np.ndarray) -> chapter.RegimeResult:
    n_seeds, n_lr, n_eps = exponent.shape
    mean = np.nanmean(exponent, axis=0) if np.isfinite(exponent).any() else np.full((n_lr, n_eps), np.nan)
    return chapter.RegimeResult(lrs=np.logspace(-2, 0, n_lr), perturbations=np.logspace(-5, -1, n_eps),
                                exponent=exponent, exponent_mean=mean, exponent_interval=np.full((n_lr, n_eps, 2), np.nan),
                                realised_perturbation=np.ones_like(exponent), diverged_fraction=diverged,
                                test_accuracy=np.zeros((n_lr, n_eps)), float64=np.zeros(n_eps, bool))


def test_regime_decision_rule_counts_only_fully_healthy_cells_and_corrects_for_many_cells():
    rng = np.random.default_rng(0)
    exponent = rng.normal(0.0, 0.1, size=(6, 3, 2))
    exponent[:, 0, 0] += 1.0                # one cell clearly above zero
    exponent[0, 2, 1] = np.nan              # one seed diverged in this cell
    diverged = np.zeros((3, 2))
    diverged[2, 1] = 1 / 6
    result = _synthetic_regime(exponent, diverged)
    decision = chapter.positive_cells(result)
    assert np.isnan(decision["sign"][2, 1])               # partly diverged: not counted as healthy
    assert chapter.healthy_cells(result).sum() == 5
    assert decision["sign"][0, 0] == 1 and np.nansum(decision["sign"] == 1) == 1


def test_divergence_onset_requires_every_larger_step_size_to_diverge():
    exponent = np.zeros((2, 4, 1))
    assert np.isnan(chapter.divergence_onset(_synthetic_regime(exponent, np.array([[0], [0.5], [0], [0.0]]))))
    assert chapter.divergence_onset(_synthetic_regime(exponent, np.array([[0], [0.5], [0], [1.0]]))) == pytest.approx(1.0)
    onset = chapter.divergence_onset(_synthetic_regime(exponent, np.array([[0], [0.5], [0.2], [1.0]])))
    assert onset == pytest.approx(np.logspace(-2, 0, 4)[1])


def test_perturbation_comparison_reports_rows_with_too_few_seeds_explicitly():
    exponent = np.zeros((3, 2, 2))
    exponent[:, 0, 0] = [0.5, 0.6, 0.55]
    exponent[1:, 1, :] = np.nan
    sizes = chapter.compare_perturbation_sizes(_synthetic_regime(exponent, np.zeros((2, 2))))
    assert sizes["words"] == ["faster", "too few seeds"]
    assert "nan" not in sizes["sentence"]


def test_holm_controls_the_family_wise_error_and_has_power():
    rng = np.random.default_rng(1)
    false_positive_families = 0
    for _ in range(400):
        _, _, sign = stats.holm_intervals(rng.normal(size=(5, 10)))
        false_positive_families += bool(np.any(sign != 0))
    # family-wise error at most 5% (binomial 400 draws: 3 standard errors above)
    assert false_positive_families / 400 < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)
    shifted = rng.normal(size=(5, 10))
    shifted[:, :3] += 5.0
    _, intervals, sign = stats.holm_intervals(shifted)
    assert np.all(sign[:3] == 1) and np.all(intervals[:3, 0] > 0)
    with pytest.raises(ValueError, match="shape"):
        stats.holm_intervals(np.zeros(3))


def test_prediction_disagreement_is_zero_for_the_same_function_and_positive_otherwise():
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(4, 3))
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach().numpy()
    inputs = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
    assert chapter.prediction_disagreement(model, theta, 2 * theta, inputs) == 0.0  # same argmax: scaled logits
    assert chapter.prediction_disagreement(model, theta, -theta, inputs) > 0.5


def test_barrier_is_positive_between_independently_initialised_networks():
    from uniq_core import barriers

    dataset = data.load("digits", seed=0, device="cpu")
    finals = []
    for seed in (0, 1):
        model = chapter._model(chapter.InstabilityConfig(widths=(32,)), dataset, seed)
        run = replicas.train_replicas(model, dataset, n_replicas=1, perturbation=0.0, lr=0.1, n_steps=300, seed=seed)
        finals.append(run.final_parameters[0])
    curve = barriers.interpolation_curve(model, finals[0], finals[1], dataset.x_test, dataset.y_test)
    assert curve["error_barrier"] > chapter.STABILITY_THRESHOLD


def test_bend_comparison_detects_a_bend_that_moves_with_the_perturbation():
    # known answer: row 0 bends more at the largest ε on every seed, row 1 the same bend at both sizes
    result = _synthetic_regime(np.zeros((4, 2, 2)), np.zeros((2, 2)))
    bend = np.zeros((4, 2, 2))
    bend[:, 0, 0] = [-0.1, -0.12, -0.09, -0.11]
    bend[:, 0, 1] = [-0.5, -0.52, -0.48, -0.5]
    bend[:, 1, :] = np.array([[-0.2, -0.21], [-0.2, -0.19], [-0.3, -0.3], [-0.1, -0.1]])
    result.bend = bend
    assert chapter.compare_bends(result)["words"] == ["more at the largest ε", "not distinguishable"]


def test_regime_records_the_bend_of_every_healthy_cell():
    config = chapter.RegimeConfig(n_train=256, widths=(16,), lrs=(0.1,), perturbations=(1e-3, 1e-1), epochs=2,
                                  n_replicas=3, n_seeds=2)
    result = chapter.run_regime(config, progress=False)
    assert result.bend.shape == (2, 1, 2) and np.all(np.isfinite(result.bend))


def test_windows_keep_the_qr_column_order():
    # column 2 grows faster on this window than column 0: the window's top is still column 0, never re-sorted
    rates = np.tile([-2e-4, -1e-4, 3e-4], (40, 1))
    means = chapter._window(rates, 0, 40, 1)
    np.testing.assert_allclose(means, [-2e-4, -1e-4, 3e-4])


def test_top_exponent_summary_of_a_known_series():
    rates = np.r_[np.full(5, 0.2), np.full(5, -0.1)]
    summary = chapter.top_exponent_summary(rates)
    assert summary["top"] == pytest.approx(0.05) and summary["late"] == pytest.approx(-0.1)
    assert summary["growing"] == pytest.approx(0.5)
    np.testing.assert_allclose(summary["running"], np.cumsum(rates) / np.arange(1, 11))
    assert np.isnan(chapter.top_exponent_summary(np.r_[rates, np.nan])["late"])


def test_tangent_exponents_over_initialisations():
    config = chapter.TangentConfig(n_train=64, widths=(8,), lrs=(0.5, 90.0), k=2, n_steps=12, n_inits=3)
    result = chapter.run_tangent(config, progress=False, use_cache=False)
    assert result.init_late.shape == (3, 2) and result.init_running.shape == (3, 2, 12)
    # row 0 is the run with the Hessian checkpoints, its QR column 0 unsorted
    assert result.init_late[0, 0] == pytest.approx(result.local_rates[0, 6:, 0].mean())
    np.testing.assert_allclose(result.init_running[0, 0], result.running[0, :, 0])
    assert len(np.unique(result.init_late[:, 0])) == 3  # other initialisations, other numbers
    assert list(result.init_diverged[:, 1]) == [True] * 3 and not result.init_diverged[:, 0].any()
    # each initialisation's run equals a run of its own, one replica at a time
    from uniq_core import data
    dataset = data.load(config.dataset, n_train=config.n_train, seed=config.seed, device="cpu")
    step, state = lyapunov.training_map(chapter._model(config, dataset, config.seed + 2).double(),
                                        dataset.x_train.double(), dataset.y_train, lr=0.5)
    tangents = lyapunov.random_tangents(state.numel(), config.k, config.seed + 2)
    state, tangents, _, _ = lyapunov.benettin_steps(step, state, tangents, config.warmup)
    alone = lyapunov.benettin_steps(step, state, tangents, config.n_steps)[3][:, 0]
    np.testing.assert_allclose(result.init_running[2, 0], np.cumsum(alone) / np.arange(1, 13), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="n_inits"):
        chapter.TangentConfig(n_inits=0)


def test_relative_spread_and_norm_growth_add_up_to_the_absolute_rate():
    config = chapter.DivergenceConfig(n_train=256, epochs=2, n_seeds=2, n_replicas=3, widths=(16,))
    result = chapter.run_divergence(config, progress=False, use_cache=False)
    assert result.relative_exponent.shape == (2,) and np.isfinite(result.norm_growth).all()
    assert result.norm.shape == result.spread.shape and np.all(result.norm > 0)
    np.testing.assert_allclose(result.relative_exponent + result.norm_growth, result.fitted_exponent, rtol=1e-9,
                               atol=1e-12)


# ------------------------------------------------------------------------------------ finite size


def test_linearised_growth_is_the_small_difference_limit_of_torch_sgd():
    """The tangent pushed through the momentum SGD map equals a finite difference of torch.optim.SGD runs
    (float64, same batches) to first order."""
    import torch

    from uniq_core import data as data_module, models, replicas as replica_module

    dataset = data_module.load("digits", n_train=128, seed=0)
    model = chapter._model(chapter.FiniteSizeConfig(widths=(8,)), dataset, 3).double()
    plan = replica_module.make_batch_plan(128, 32, 12, seed=5)[0]
    direction = chapter._tangent_directions(model, 1, seed=7)
    growth = chapter.linearised_growth(model, dataset.x_train, dataset.y_train, plan, lr=0.1, momentum=0.9,
                                       directions=direction)

    def train(theta0: torch.Tensor) -> list[torch.Tensor]:
        copy_ = copy.deepcopy(model)
        torch.nn.utils.vector_to_parameters(theta0.clone(), copy_.parameters())  # (it shares the vector's memory)
        optimiser = torch.optim.SGD(copy_.parameters(), lr=0.1, momentum=0.9)
        path = [theta0.clone()]
        for batch in plan:
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(copy_(dataset.x_train[batch].double()), dataset.y_train[batch]).backward()
            optimiser.step()
            path.append(models.flat_parameters(copy_).detach().clone())
        return path

    theta = models.flat_parameters(model).detach().double()
    h = 1e-7
    base, moved = train(theta), train(theta + h * direction[:, 0])
    finite = np.array([float(((b - a).norm() / (h * direction[:, 0].norm())).log()) for a, b in zip(base, moved)])
    np.testing.assert_allclose(growth[:, 0], finite, atol=1e-5)
    assert growth.shape == (13, 1) and growth[0, 0] == 0.0


def test_activation_signs_are_the_relu_inputs_signs():
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)).double()
    inputs = torch.randn(5, 3, dtype=torch.float64)
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    signs = chapter.activation_signs(model, theta, inputs)
    assert torch.equal(signs, model[0](inputs) > 0)
    with pytest.raises(ValueError, match="ReLU"):
        chapter.activation_signs(torch.nn.Linear(3, 2), torch.zeros(8), inputs)


def test_finite_size_run_agrees_with_its_linearisation_at_small_sizes():
    config = chapter.FiniteSizeConfig(n_train=256, widths=(16,), epochs=2, perturbations=(1e-9, 1e-1),
                                      n_replicas=3, n_tangents=2, n_seeds=2)
    result = chapter.run_finite_size(config, progress=False)
    assert result.distance.shape == (2, 2, 2, 2 * result.steps_per_epoch + 1)
    np.testing.assert_allclose(result.distance[:, 0, :, 0], 1e-9, rtol=1e-6)
    # the smallest size is linear: its rate is the tangents' up to the spread of directions
    assert np.all(np.abs(result.rate[:, 0] - result.tangent_rate) < 0.25 * np.abs(result.tangent_rate) + 0.02)
    assert np.all(result.flips[:, 0] == 0) and np.all(result.flips[:, 1] > 0)
    assert np.all(result.smallest_curvature < result.largest_curvature)
    assert result.epoch_rate.shape == (2, 2)
    values = chapter._finite_size_findings(result, config)
    assert values["fs_seeds"] == 2 and "not tested" in values["fs_small_word"]  # 2 seeds decide nothing
    assert result.n_parameters == sum(p.numel() for p in chapter._model(config, chapter.data.load("digits", n_train=256), 0).parameters())
    curves = chapter.finite_size_curves(result)
    assert curves["rate"].shape == (2, curves["thresholds"].size)


def test_finite_size_config_rejects_bad_input():
    with pytest.raises(ValueError, match="perturbations"):
        chapter.FiniteSizeConfig(perturbations=(1e-3, 1e-5))
    with pytest.raises(ValueError, match="ratio"):
        chapter.FiniteSizeConfig(ratio=1.0)
    with pytest.raises(ValueError, match="n_replicas"):
        chapter.FiniteSizeConfig(n_replicas=1)


def test_edge_config_is_a_squared_error_tangent_run_and_its_findings_read_the_band():
    config = chapter.EdgeConfig(n_train=32, widths=(4,), lrs=(0.5, 60.0), transient=5, warmup=1, n_steps=10,
                                n_checkpoints=3, n_inits=5)
    assert config.loss == "mse" and isinstance(config, chapter.TangentConfig)
    result = chapter.run_tangent(config, progress=False)
    ratio = chapter.edge_ratio(result)
    assert ratio.shape == (2, 1 + result.path_sharpness.shape[1])
    C = ratio.shape[1] - 1
    rising = np.tile(np.array([1.0, 2.0, 1.5])[:C], (2, 1))
    at_edge = dataclasses.replace(result, sharpness_start=result.threshold.copy(), path_loss=rising,
                                  path_sharpness=np.tile(result.threshold[:, None] * 1.15, (1, C)))
    values = chapter._edge_findings(at_edge, config)
    assert values["edge_count"] == 2 and values["edge_runs"] == 2 and "depends on the band" in values["edge_bands"]
    away = dataclasses.replace(at_edge, path_sharpness=at_edge.path_sharpness * 0.5)
    assert chapter._edge_findings(away, config)["edge_count"] == 0
    assert chapter._edge_findings(away, config)["edge_signs"] == "not measured: no run is at the edge"
    falling = dataclasses.replace(at_edge, path_loss=np.tile(np.array([2.0, 1.5, 1.0])[:C], (2, 1)))
    assert chapter._edge_findings(falling, config)["edge_count"] == 0  # a monotone loss is not the edge regime


def test_architectures_are_parsed_with_clear_errors():
    assert chapter.parse_architecture("mlp-64-64") == ("mlp", (64, 64))
    assert chapter.parse_architecture("cnn-8") == ("cnn", (8,))
    for bad in ("mlp", "rnn-3", "mlp-x", "cnn-0"):
        with pytest.raises(ValueError, match="architectures entry"):
            chapter.parse_architecture(bad)
    with pytest.raises(ValueError, match="reference"):
        chapter.ArchitectureConfig(architectures=("mlp-8",), reference="mlp-128")


def test_architecture_run_covers_a_cnn_and_compares_paired_by_seed(unit_executor, one_thread, same_result):
    import torch

    config = chapter.ArchitectureConfig(n_train=128, architectures=("mlp-8", "cnn-4"), reference="mlp-8", epochs=1,
                                        n_seeds=2, n_tangents=1)
    result = chapter.run_architectures(config, progress=False)
    # the same with each architecture on another process
    same_result(result, chapter.run_architectures(config, progress=False, use_cache=False, executor=unit_executor))
    assert result.tangent.shape == (2, 2) and np.isfinite(result.tangent).all()
    assert result.n_parameters[1] == sum(p.numel() for p in chapter.models.SimpleCNN(1, 10, (4,)).parameters())
    values = chapter._architecture_findings(result, config)
    assert values["arch_count"] == 2 and "cnn-4" in values["arch_sentence"]
    synthetic = dataclasses.replace(result, names=np.array(["a", "b", "c"]),
                                    tangent=np.array([[0.1, 0.11, 0.1, 0.12, 0.1], [0.3, 0.31, 0.3, 0.32, 0.3],
                                                      [0.1, 0.2, 0.0, 0.15, 0.05]]))
    comparison = chapter.compare_architectures(synthetic, "a")
    assert np.isnan(comparison["sign"][0]) and comparison["sign"][1] == 1 and comparison["sign"][2] == 0
    # activation signs through hooks agree with the CNN's own ReLUs
    model = chapter.models.SimpleCNN(1, 10, (3,)).double()
    inputs = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    expected = model.features[0](inputs) > 0
    assert torch.equal(chapter.activation_signs(model, theta, inputs), expected.flatten(1))


def test_growth_shape_separates_the_exponential_part_from_deceleration():
    epochs = np.linspace(0.0, 10.0, 201)
    safe = np.maximum(epochs, 1e-9)
    curves = np.vstack([0.3 * epochs,  # exponential
                        0.5 * np.log(safe),  # algebraic
                        0.02 * epochs + 0.3 * (1 - np.exp(-epochs)),  # exponential after a decelerating start
                        0.005 * epochs + 0.05 * np.log(safe)])
    shape = chapter.growth_shape(epochs, curves)
    np.testing.assert_allclose(shape["rate"][:2], [0.3, 0.0], atol=1e-9)
    np.testing.assert_allclose(shape["power"][:2], [0.0, 0.5], atol=1e-9)
    np.testing.assert_allclose(shape["rate"][3], 0.005, atol=1e-9)
    assert 0 < shape["rate"][2] < 0.02  # it survives a decelerating transient, which absorbs part of it


def test_kicks_count_one_step_jumps_and_where_they_land():
    from types import SimpleNamespace

    distance = np.full((1, 2, 2, 5), 1e-9)
    distance[0, 0] *= np.exp(0.01 * np.arange(5))  # smooth growth: no kick
    distance[0, 1, 0] = [1e-5, 1e-5, 3e-4, 3e-4, 3e-4]  # one jump ×30
    distance[0, 1, 1] = [1e-5, 1.1e-5, 1.2e-5, 1.3e-5, 1.4e-5]
    measured = chapter.kicks(SimpleNamespace(distance=distance))
    assert measured["fraction"].tolist() == [0.0, 0.5]
    assert np.isnan(measured["landing"][0]) and measured["landing"][1] == 3e-4


def test_the_chaos_row_never_fails_from_random_tangents_and_never_holds_on_decelerating_growth():
    from types import SimpleNamespace

    from uniq_core.experiments import verdicts

    epochs = np.linspace(0.0, 10.0, 41)
    norm = np.ones((6, 41))
    divergence = SimpleNamespace(fitted_exponent=np.full(6, 0.1), exponent_mean=0.1)
    regime = SimpleNamespace(lrs=np.array([0.1]), exponent=np.zeros((3, 1, 1)), exponent_mean=np.zeros((1, 1)),
                             diverged_fraction=np.zeros((1, 1)))
    rng = np.random.default_rng(0)

    def row(log_growth):
        log_growth = log_growth + rng.normal(0, 1e-4, (6, 2, 41))
        return verdicts.row_lyapunov(divergence, regime, finite_size=SimpleNamespace(
            epochs=epochs, tangent_log_growth=log_growth - log_growth[..., :1], norm_path=norm))

    shrinking = row(np.broadcast_to(-0.05 * epochs, (6, 2, 41)))
    assert shrinking.verdict == verdicts.UNRESOLVED and "from below" in shrinking.interval_kind
    power = row(np.broadcast_to(0.5 * np.log(np.maximum(epochs, 0.25)), (6, 2, 41)))
    assert power.value > 0 and power.verdict == verdicts.UNRESOLVED and "exponential part" in power.interval_kind
    growing = row(np.broadcast_to(0.2 * epochs, (6, 2, 41)))
    assert growing.verdict == verdicts.HOLDS
