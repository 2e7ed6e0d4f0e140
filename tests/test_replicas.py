import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from uniq_core import data, models, replicas


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", n_train=512, n_test=200)


def plain_sgd(model, dataset, *, lr, momentum, weight_decay, n_steps, batch_size, seed):
    """The ordinary PyTorch loop: nn.Module, loss.backward(), torch.optim.SGD."""
    model = copy.deepcopy(model)
    optimiser = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    plan = replicas.make_batch_plan(dataset.x_train.shape[0], batch_size, n_steps, seed=seed)
    dtype = next(model.parameters()).dtype
    for step in range(n_steps):
        index = plan[0, step]
        optimiser.zero_grad()
        F.cross_entropy(model(dataset.x_train[index].to(dtype)), dataset.y_train[index]).backward()
        optimiser.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_single_replica_equals_ordinary_training_loop(digits, dtype, tolerance):
    torch.manual_seed(0)
    model = models.MLP(64, (32, 32), 10).to(dtype)
    settings = dict(lr=0.1, momentum=0.9, weight_decay=1e-3, n_steps=40, batch_size=32, seed=5)
    expected = plain_sgd(model, digits, **settings)
    run = replicas.train_replicas(model, digits, n_replicas=1, perturbation=0.0, **settings)
    np.testing.assert_allclose(run.final_parameters[0], expected, atol=tolerance, rtol=0)


@pytest.mark.parametrize("norm", ["none", "batch", "group"])
def test_vmap_and_loop_give_the_same_numbers(digits, norm):
    """Batched training equals replica-by-replica training, train-mode BatchNorm included."""
    torch.manual_seed(0)
    model = models.SimpleCNN(norm=norm, channels=(4, 8)).double()
    images = digits.as_images()
    settings = dict(n_replicas=3, perturbation=1e-2, lr=0.05, momentum=0.5, n_steps=15, batch_size=32,
                    independent_order=True, seed=1)
    batched = replicas.train_replicas(model, images, mode="vmap", **settings)
    looped = replicas.train_replicas(model, images, mode="loop", **settings)
    np.testing.assert_allclose(batched.final_parameters, looped.final_parameters, atol=1e-10, rtol=0)
    np.testing.assert_allclose(batched.loss, looped.loss, atol=1e-10, rtol=0)
    np.testing.assert_allclose(batched.test_accuracy, looped.test_accuracy)


def test_perturbation_has_the_requested_relative_size():
    generator = torch.Generator().manual_seed(0)
    tensors = {"a": torch.randn(30, 20, dtype=torch.float64), "b": torch.randn(7, dtype=torch.float64)}
    original = {k: v.clone() for k, v in tensors.items()}
    replicas.perturb_(tensors, 1e-3, generator)
    for name in tensors:
        size = (tensors[name] - original[name]).norm() / original[name].norm()
        assert size.item() == pytest.approx(1e-3, rel=1e-9)


def test_engine_starts_replicas_at_the_requested_distance(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (32,), 10).double()
    run = replicas.train_replicas(model, digits, n_replicas=4, perturbation=1e-4, lr=0.1, n_steps=2)
    # every tensor moved by 1e-4 of its norm in a random direction: the total distance is 1e-4 * ||θ||
    norm = run.parameter_norm[0, 0]
    assert run.distance[0, 0] == 0
    np.testing.assert_allclose(run.distance[1:, 0], 1e-4 * norm, rtol=1e-6)


def test_reference_replica_is_unperturbed_and_identical_to_a_single_run(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10)
    single = replicas.train_replicas(model, digits, n_replicas=1, perturbation=0.1, lr=0.1, n_steps=10)
    many = replicas.train_replicas(model, digits, n_replicas=3, perturbation=0.1, lr=0.1, n_steps=10)
    np.testing.assert_allclose(many.final_parameters[0], single.final_parameters[0], atol=1e-6)


def test_shared_order_without_perturbation_keeps_replicas_identical(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10)
    shared = replicas.train_replicas(model, digits, n_replicas=3, perturbation=0.0, lr=0.1, n_steps=20)
    assert np.all(shared.distance == 0)
    noisy = replicas.train_replicas(model, digits, n_replicas=3, perturbation=0.0, lr=0.1, n_steps=20,
                                    independent_order=True)
    assert np.all(noisy.distance[1:, -1] > 0)


def test_batch_plan_visits_every_sample_once_per_epoch():
    plan = replicas.make_batch_plan(100, 10, 25, seed=3, n_orders=2)
    assert plan.shape == (2, 25, 10)
    for order in range(2):
        for epoch in range(2):
            assert sorted(plan[order, 10 * epoch : 10 * (epoch + 1)].flatten().tolist()) == list(range(100))
    assert not torch.equal(plan[0], plan[1])
    assert torch.equal(plan, replicas.make_batch_plan(100, 10, 25, seed=3, n_orders=2))


def test_a_diverging_replica_is_flagged_and_isolated(digits):
    """NaN injected into replica 2 stops it; the other replicas are exactly as without the injection."""
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10)

    def poison(step, parameters):
        if step == 5:
            next(iter(parameters.values()))[2].fill_(float("nan"))

    settings = dict(n_replicas=4, perturbation=1e-3, lr=0.1, n_steps=12)
    clean = replicas.train_replicas(model, digits, **settings)
    poisoned = replicas.train_replicas(model, digits, callback=poison, **settings)
    assert poisoned.diverged.tolist() == [False, False, True, False]
    assert poisoned.diverged_at.tolist() == [-1, -1, 6, -1]
    assert np.isnan(poisoned.test_accuracy[2]) and np.all(np.isnan(poisoned.loss[2, 7:]))
    keep = [0, 1, 3]
    np.testing.assert_array_equal(poisoned.final_parameters[keep], clean.final_parameters[keep])
    np.testing.assert_array_equal(poisoned.test_accuracy[keep], clean.test_accuracy[keep])


def test_blow_up_is_flagged(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10)
    run = replicas.train_replicas(model, digits, n_replicas=3, perturbation=1e-3, lr=500.0, n_steps=30)
    assert run.diverged.all() and np.all(run.diverged_at > 0)
    assert not run.healthy.any()


def test_records_have_documented_shapes(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10)
    run = replicas.train_replicas(model, digits, n_replicas=3, perturbation=1e-3, lr=0.1, n_steps=10,
                                  record_every=4, sketch_dim=5)
    assert run.steps.tolist() == [0, 4, 8, 10]
    assert run.loss.shape == run.distance.shape == run.parameter_norm.shape == (3, 4)
    assert run.sketch.shape == (3, 4, 5)
    assert run.final_parameters.shape == (3, models.count_parameters(model))
    assert np.all(np.isfinite(run.loss))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(n_replicas=0), "n_replicas"),
        (dict(perturbation=-1.0), "perturbation"),
        (dict(lr=0.0), "lr"),
        (dict(n_steps=0), "n_steps"),
        (dict(momentum=1.0), "momentum"),
        (dict(mode="jit"), "mode"),
        (dict(batch_size=10**6), "batch_size"),
    ],
)
def test_bad_arguments_name_the_field(digits, kwargs, field):
    settings = dict(n_replicas=2, perturbation=1e-3, lr=0.1, n_steps=3) | kwargs
    with pytest.raises(ValueError, match=field):
        replicas.train_replicas(models.MLP(64, (8,), 10), digits, **settings)


def test_spread_and_checkpoints(digits):
    torch.manual_seed(0)
    model = models.MLP(64, (16,), 10).double()
    run = replicas.train_replicas(model, digits, n_replicas=4, perturbation=1e-2, lr=0.1, n_steps=10,
                                  checkpoint_every=4)
    assert run.checkpoint_steps.tolist() == [0, 4, 8, 10]
    assert run.checkpoints.shape == (4, 4, run.final_parameters.shape[1])
    np.testing.assert_array_equal(run.checkpoints[-1], run.final_parameters)
    # spread = RMS distance from the centroid, checked against the stored parameters
    for column, step in ((0, 0), (-1, 10)):
        points = run.checkpoints[0 if step == 0 else -1]
        expected = np.sqrt(((points - points.mean(0)) ** 2).sum(1).mean())
        assert run.spread[column] == pytest.approx(expected, rel=1e-9)
    off = replicas.train_replicas(model, digits, n_replicas=2, perturbation=1e-2, lr=0.1, n_steps=3)
    assert off.checkpoints.shape[0] == 0 and off.checkpoint_steps.size == 0
