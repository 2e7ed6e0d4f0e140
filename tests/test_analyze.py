"""uniq_core.analyze on a reader's own network: stacked steps against independent optimisers, the peer's
numbers, BatchNorm, manual recording, reports and bad input."""

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from uniq_core import lyapunov, replicas
from uniq_core.analyze import Analyzer


def _loader(n: int = 128, features: int = 12, classes: int = 3, batch: int = 32, seed: int = 0) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, features, generator=generator)
    y = torch.randint(0, classes, (n,), generator=generator)
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=False)


def _network(batchnorm: bool = False) -> nn.Module:
    torch.manual_seed(1)
    # before BatchNorm a bias has no gradient but rounding's, which Adam would scale up to full steps
    layers = [nn.Linear(12, 10, bias=not batchnorm)] + ([nn.BatchNorm1d(10)] if batchnorm else []) + [
        nn.ReLU(), nn.Linear(10, 3)]
    return nn.Sequential(*layers)


@pytest.mark.parametrize("optimizer,options,batchnorm", [
    (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}, False),
    (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}, True),
    (torch.optim.Adam, {"lr": 1e-2}, True),
    (torch.optim.AdamW, {"lr": 1e-2, "weight_decay": 1e-2}, False),
    (torch.optim.RMSprop, {"lr": 1e-3}, False),
    (torch.optim.Adagrad, {"lr": 1e-2}, False),
    (torch.optim.Adamax, {"lr": 1e-2}, False),
    (torch.optim.NAdam, {"lr": 1e-2}, False),
    (torch.optim.RAdam, {"lr": 1e-2}, False),
])
def test_one_step_on_stacked_copies_is_k_independent_optimisers(optimizer, options, batchnorm):
    model, loader, copies = _network(batchnorm), _loader(), 4
    analyzer = Analyzer(model, perturbation=0.05, n_copies=copies, device="cpu", seed=3)
    analyzer.fit(loader, F.cross_entropy, optimizer, epochs=2, **options)
    # the same copies, each with its own module and optimiser, trained one after another
    parameters, buffers = replicas._stack(copy.deepcopy(model), copies, 0.05, 3)
    for k in range(copies):
        own = copy.deepcopy(model).train()
        own.load_state_dict({**{n: t[k] for n, t in parameters.items()}, **{n: t[k] for n, t in buffers.items()}})
        step = optimizer(own.parameters(), **options)
        for _ in range(2):
            for inputs, targets in loader:
                step.zero_grad()
                F.cross_entropy(own(inputs), targets).backward()
                step.step()
        flat = torch.cat([p.detach().reshape(-1) for p in own.parameters()]).double().numpy()
        np.testing.assert_allclose(analyzer.checkpoints[-1][k], flat, rtol=1e-5, atol=1e-6)
    assert len(analyzer.checkpoints) == 3 and analyzer.epochs == [0.0, 1.0, 2.0]


def test_the_report_gives_the_peers_numbers_its_label_and_the_books_exponent(tmp_path):
    analyzer = Analyzer(_network(), perturbation=1e-2, n_copies=6, device="cpu").fit(
        _loader(), F.cross_entropy, torch.optim.SGD, epochs=3, lr=0.5)
    result = analyzer.report()
    trajectories = np.stack(analyzer.checkpoints)
    peer = lyapunov.peer_metrics(trajectories, n_epochs=3)
    assert result.convergence_ratio == peer["convergence_ratio"] and result.lyapunov == peer["lyapunov"]
    assert result.behavior == ("convergent" if peer["convergence_ratio"] < 1 else "divergent")
    # the peer tracker's path length and velocity: sums and moments of the distances between checkpoints
    steps = np.linalg.norm(np.diff(trajectories[:, 2], axis=0), axis=1)
    assert result.path_length[2] == pytest.approx(steps.sum()) and result.velocity_std[2] == pytest.approx(steps.std())
    # the book's exponent: ln(d(T)/d(0))/T per perturbed copy, with an interval over the five copies
    distance = np.linalg.norm(trajectories - trajectories[:, :1], axis=-1)
    np.testing.assert_allclose(result.exponents, np.log(distance[-1, 1:] / distance[0, 1:]) / 3)
    low, high = result.exponent_interval
    assert low < result.exponent < high and result.relative_spread.shape == (4,)
    assert "interval" in result.summary()
    report = analyzer.save(tmp_path / "html")
    text = report.read_text()
    assert "data:image/png;base64," in text and "http" not in text  # self-contained
    metrics = json.loads((tmp_path / "html" / "metrics.json").read_text())
    assert metrics["behavior"] == result.behavior and len(metrics["exponents"]) == 5
    markdown = analyzer.save(tmp_path / "md", format="markdown")
    assert markdown.name == "report.md" and (tmp_path / "md" / "distance.png").exists()
    with pytest.raises(ValueError, match="format"):
        analyzer.save(tmp_path / "x", format="pdf")


def test_manual_recording_of_a_custom_loop_gives_the_same_report_as_fit():
    model, loader = _network(), _loader()
    fitted = Analyzer(model, n_copies=4, device="cpu").fit(loader, F.cross_entropy, epochs=2, lr=0.2)
    parameters, buffers = replicas._stack(copy.deepcopy(model), 4, 1e-2, 0)
    copies = []
    for k in range(4):
        own = copy.deepcopy(model)
        own.load_state_dict({n: t[k] for n, t in parameters.items()})
        copies.append(own)
    manual = Analyzer(model, n_copies=4).record(copies)
    optimisers = [torch.optim.SGD(c.parameters(), lr=0.2) for c in copies]
    for _ in range(2):
        for inputs, targets in loader:
            for own, step in zip(copies, optimisers):
                step.zero_grad(), F.cross_entropy(own(inputs), targets).backward(), step.step()
        manual.record([c.state_dict() for c in copies])
    np.testing.assert_allclose(manual.report().exponents, fitted.report().exponents, rtol=1e-4)
    with pytest.raises(ValueError, match="n_copies"):
        manual.record(copies[:2])


def test_a_diverging_copy_is_flagged_and_left_out_and_bad_input_is_named():
    loader = _loader()

    def squared(out, targets):
        return ((out - F.one_hot(targets, 3).float()) ** 2).mean()

    # at this step size two of the copies (those perturbed to sharper places) blow up, the others train
    analyzer = Analyzer(_network(), perturbation=1.0, n_copies=6, device="cpu", seed=1)
    analyzer.fit(loader, squared, torch.optim.SGD, epochs=3, lr=2.0)
    assert analyzer.diverged.tolist() == [False, True, True, False, False, False]
    result = analyzer.report()
    assert np.isnan(result.exponents[:2]).all() and np.isfinite(result.exponents[2:]).all()
    assert np.isfinite(result.exponent) and np.isfinite(result.convergence_ratio)
    with pytest.raises(ValueError, match="no trainable parameters"):
        Analyzer(nn.ReLU())
    with pytest.raises(ValueError, match="n_copies"):
        Analyzer(_network(), n_copies=1)
    with pytest.raises(ValueError, match="LBFGS"):
        Analyzer(_network(), n_copies=2).fit(loader, F.cross_entropy, torch.optim.LBFGS, lr=0.1)
    with pytest.raises(ValueError, match="could not run on a batch"):
        Analyzer(_network(), n_copies=2).fit(_loader(features=7), F.cross_entropy, lr=0.1)
    with pytest.raises(ValueError, match="one number per batch"):
        Analyzer(_network(), n_copies=2).fit(loader, lambda out, y: F.cross_entropy(out, y, reduction="none"),
                                             lr=0.1)
    with pytest.raises(ValueError, match="at least two records"):
        Analyzer(_network(), n_copies=2).report()


def test_nan_losses_flag_the_copies_that_produce_them():
    poisoned = Analyzer(_network(), n_copies=3, device="cpu")
    poisoned.fit(_loader(), lambda out, targets: F.cross_entropy(out, targets) * float("nan"), lr=0.1)
    assert poisoned.diverged.all()
    with pytest.raises(ValueError, match="diverged"):
        poisoned.report()


def test_the_command_line_analyses_a_model_and_loader_named_by_their_factories(tmp_path, monkeypatch, capsys):
    from uniq_core import cli

    (tmp_path / "reader.py").write_text(
        "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
        "def model():\n    torch.manual_seed(0)\n    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(),"
        " torch.nn.Linear(8, 2))\n"
        "def loader():\n    g = torch.Generator().manual_seed(0)\n"
        "    return DataLoader(TensorDataset(torch.randn(64, 6, generator=g), torch.randint(0, 2, (64,), generator=g)),"
        " batch_size=16)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "report"
    assert cli.main(["analyze", "reader:model", "--data", "reader:loader", "--epochs", "2", "--copies", "4",
                     "--optimizer", "Adam", "--lr", "0.01", "--device", "cpu", "--out", str(out)]) == 0
    assert (out / "report.html").exists() and (out / "metrics.json").exists()
    assert "interval" in capsys.readouterr().out
    assert cli.main(["analyze", "reader", "--data", "reader:loader"]) == 2
    assert "MODULE:FACTORY" in capsys.readouterr().err
    assert cli.main(["analyze", "reader:model", "--data", "reader:loader", "--epochs", "1", "--copies", "3",
                     "--momentum", "0.9", "--seed", "3", "--device", "cpu", "--out", str(out)]) == 0
    assert "edge of stability 2(1 + β)/η: 38" in capsys.readouterr().out  # 2(1 + 0.9)/0.1
    assert cli.main(["analyze", "reader:model", "--data", "reader:loader", "--optimizer", "Adam",
                     "--momentum", "0.9"]) == 2
    assert "--momentum" in capsys.readouterr().err


def test_sharpness_knows_a_least_squares_hessian_and_the_edge_of_stability_follows_the_step():
    generator = torch.Generator().manual_seed(0)
    x, t = torch.randn(40, 5, generator=generator, dtype=torch.float64), torch.randn(40, 1, generator=generator,
                                                                                       dtype=torch.float64)
    loader = DataLoader(TensorDataset(x, t), batch_size=40)
    model = nn.Linear(5, 1).double()
    analyzer = Analyzer(model, n_copies=3, device="cpu").fit(loader, F.mse_loss, torch.optim.SGD, lr=0.01,
                                                             momentum=0.9)
    design = torch.cat([x, torch.ones(40, 1, dtype=torch.float64)], dim=1)
    exact = float(torch.linalg.eigvalsh(2 * design.T @ design / 40)[-1])  # the same at every point
    np.testing.assert_allclose(analyzer.sharpness, [exact, exact], rtol=1e-6)
    result = analyzer.report()
    assert result.edge_of_stability == pytest.approx(2 * 1.9 / 0.01) and "edge of stability" in result.summary()
    adam = Analyzer(model, n_copies=3, device="cpu").fit(loader, F.mse_loss, torch.optim.Adam, lr=0.01)
    assert np.isnan(adam.report().edge_of_stability)


def test_the_null_dimension_of_a_plain_sequential_is_measured_and_predicted():
    analyzer = Analyzer(_network(), n_copies=3, device="cpu").fit(_loader(), F.cross_entropy, lr=0.1)
    assert np.isnan(analyzer.report().fisher_null)  # asked for only: its cost grows as (inputs × outputs)³
    inputs = torch.cat([x for x, _ in _loader()])
    result = analyzer.report(null_inputs=inputs)
    # ReLU MLP 12-10-3 on 128 inputs (more directions seen than parameters): one rescaling per hidden unit and
    # the softmax's shift of the output biases, and whatever units the data leave unseen
    assert result.fisher_null == result.fisher_null_predicted >= 11 and result.fisher_null_basis == "symmetries"
    assert "predicted by the symmetries" in result.summary()
    few = analyzer.report(null_inputs=inputs[:3])  # 3 inputs see at most 6 directions of 163: the rank binds
    assert few.fisher_null_basis == "rank" and "too few inputs to test the symmetries" in few.summary()
    other = Analyzer(_network(batchnorm=True), n_copies=3, device="cpu").fit(_loader(), F.cross_entropy, lr=0.1)
    assert np.isnan(other.report(null_inputs=inputs).fisher_null)  # not a plain Sequential of Linear layers


@pytest.mark.parametrize("rate", [0.7, 0.0])
def test_planted_exponential_growth_is_read_back_by_every_exponent(rate):
    # recorded copies whose distance from the original grows exactly as e^{λt} (λ = 0: the null, no growth)
    rng = np.random.default_rng(0)
    model = nn.Linear(4, 3)
    centre = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy()
    directions = rng.normal(size=(6, centre.size))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    analyzer = Analyzer(model, n_copies=7)
    for epoch in range(9):
        states = [centre] + [centre + 1e-3 * np.exp(rate * epoch) * d for d in directions]
        copies = []
        for flat in states:
            weight, bias = np.split(flat, [12])
            copies.append({"weight": torch.as_tensor(weight.reshape(3, 4)), "bias": torch.as_tensor(bias)})
        analyzer.record(copies)
    result = analyzer.report()
    tolerance = {"rtol": 1e-9} if rate else {"atol": 1e-12}  # λ = 0: no bias where nothing grows
    np.testing.assert_allclose(result.exponents, rate, **tolerance)
    np.testing.assert_allclose(result.late_exponents, rate, **tolerance)
    np.testing.assert_allclose(result.rate_by_epoch, rate, **tolerance)
    assert result.exponent_interval[1] - result.exponent_interval[0] < 1e-9
    if rate > 0:
        assert len(result.finite_size_thresholds) >= 5 and (result.finite_size_censored == 0).all()
        np.testing.assert_allclose(result.finite_size_rate, rate, rtol=1e-6)
    else:  # nothing doubles: no finite-size rate is claimed
        assert not np.isfinite(result.finite_size_rate).any()


def test_a_second_fit_is_refused_unused_parameters_train_alone_and_dropout_masks_are_shared():
    loader = _loader()
    analyzer = Analyzer(_network(), n_copies=3, device="cpu").fit(loader, F.cross_entropy, lr=0.1)
    with pytest.raises(ValueError, match="already recorded"):
        analyzer.fit(loader, F.cross_entropy, lr=0.1)

    class Spare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(12, 3), nn.Linear(2, 2)

        def forward(self, x):
            return self.used(x)

    spare = Analyzer(Spare(), n_copies=3, device="cpu").fit(loader, F.cross_entropy, torch.optim.Adam, lr=0.01)
    assert not spare.diverged.any()
    # dropout: with the masks shared, a perturbation far below rounding of the run stays that small
    torch.manual_seed(0)
    dropping = nn.Sequential(nn.Linear(12, 10), nn.Dropout(0.3), nn.ReLU(), nn.Linear(10, 3))
    tiny = Analyzer(dropping, perturbation=1e-6, n_copies=6, device="cpu").fit(loader, F.cross_entropy, lr=0.1,
                                                                              epochs=2).report()
    assert tiny.distance[1:, -1].max() < 1e-3


def test_the_edge_of_stability_is_given_only_for_heavy_ball_and_intervals_need_five_copies():
    loader = _loader()
    for options in ({"momentum": 0.9, "nesterov": True}, {"momentum": 0.9, "dampening": 0.5},
                    {"weight_decay": 1e-3}):
        assert np.isnan(Analyzer(_network(), n_copies=3, device="cpu").fit(
            loader, F.cross_entropy, lr=0.1, **options).report().edge_of_stability)
    few = Analyzer(_network(), n_copies=4, device="cpu").fit(loader, F.cross_entropy, lr=0.1, epochs=2).report()
    assert np.isnan(few.exponent_interval).all() and np.isfinite(few.exponent)
    assert "no interval: 3 perturbed copies, fewer than 5" in few.summary()


def _least_squares(n: int = 200, features: int = 100):
    generator = torch.Generator().manual_seed(0)
    x, t = torch.randn(n, features, generator=generator, dtype=torch.float64), torch.randn(n, 1, generator=generator,
                                                                                          dtype=torch.float64)
    design = torch.cat([x, torch.ones(n, 1, dtype=torch.float64)], dim=1)
    curvatures = torch.linalg.eigvalsh(2 * design.T @ design / n).numpy()
    return DataLoader(TensorDataset(x, t), batch_size=n), curvatures


@pytest.mark.parametrize("momentum", [0.0, 0.5])
@pytest.mark.parametrize("where", ["inside", "beyond the edge", "tiny step"])
def test_finite_time_exponents_of_least_squares_are_the_step_matrix_s(momentum, where):
    # one batch of least squares (101 parameters): the SGD map is linear with the constant Jacobian J
    # (I − ηH, or heavy ball's 2 × 2 blocks per curvature μ of H = 2AᵀA/N), so the exponents of T steps are
    # (1/T) ln σᵢ(Jᵀ) exactly; the default k = 4 and T = 50, far fewer tangents than parameters
    loader, curvatures = _least_squares()
    edge = (2 + 2 * momentum) / curvatures.max()
    lr = {"inside": 0.5 * edge, "beyond the edge": 1.05 * edge, "tiny step": 1e-6}[where]
    features = len(curvatures)
    hessian = np.diag(curvatures)  # in H's eigenbasis: an orthogonal change of basis keeps singular values
    jacobian = np.eye(features) - lr * hessian if not momentum else np.block(
        [[np.eye(features) - lr * hessian, -lr * momentum * np.eye(features)], [hessian, momentum * np.eye(features)]])
    # a perturbation of θ with the velocity unchanged, read in θ: the θ block of the T-step product
    exact = np.log(np.linalg.svd(np.linalg.matrix_power(jacobian, 50)[:features, :features],
                                 compute_uv=False)[:4]) / 50
    analyzer = Analyzer(nn.Linear(features - 1, 1).double(), n_copies=3, device="cpu")
    analyzer.fit(loader, F.mse_loss, torch.optim.SGD, lr=lr, momentum=momentum)
    result = analyzer.report()
    # singular values below the largest by more than rounding can resolve (10⁻⁸ of it) are noise in any method
    resolved = exact >= exact[0] - np.log(1e8) / 50
    np.testing.assert_allclose(result.tangent_exponents[resolved], exact[resolved], atol=2e-4)
    if where == "beyond the edge":
        assert result.tangent_exponents[0] > 0.01  # the positive control
    if where == "tiny step":  # the null control: nothing grows, with or without momentum (θ read in θ)
        assert np.abs(result.tangent_exponents).max() < 1e-5
    if not momentum:  # gradient descent: the frozen-curvature rate bounds the top exponent (exact here: H is constant)
        assert result.tangent_exponents[0] <= result.frozen_rate + 1e-9
        np.testing.assert_allclose(result.frozen_rate, np.log(np.abs(1 - lr * curvatures)).max(), atol=1e-6)
    assert "finite-time exponents of the first 50 SGD steps" in result.summary()


def test_finite_time_exponents_are_left_out_with_their_reason():
    loader, _ = _least_squares(40, 3)
    adam = Analyzer(nn.Linear(3, 1).double(), n_copies=3, device="cpu").fit(loader, F.mse_loss, torch.optim.Adam,
                                                                           lr=0.01)
    assert adam.report().tangent_exponents.size == 0 and "not measured (defined here for SGD" in adam.report().summary()
    blown = Analyzer(nn.Linear(3, 1).double(), n_copies=3, device="cpu", perturbation=1e-3)
    blown.fit(loader, F.mse_loss, torch.optim.SGD, lr=50.0, tangent_steps=400, epochs=1)
    assert "not measured (the orbit stopped being finite at step" in blown.report().summary() or \
        blown.diverged.all()
    skipped = Analyzer(nn.Linear(3, 1).double(), n_copies=3, device="cpu").fit(loader, F.mse_loss, lr=0.1,
                                                                               tangents=0)
    assert "finite-time" not in skipped.report().summary()


def test_curvatures_are_those_of_the_deterministic_loss_whatever_the_global_seed():
    # dropout off for every curvature, as for the exponents: the eval-mode Hessian's extremes, every time
    loader = _loader()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 3))
    x, y = next(iter(loader))
    values = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        values.append(Analyzer(model, n_copies=2, device="cpu").fit(loader, F.cross_entropy, lr=0.5, tangents=0))
    exact = copy.deepcopy(model).double().eval()
    names = [n for n, _ in exact.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in exact.parameters()])
    shapes = [p.shape for p in exact.parameters()]

    def loss(theta):
        pieces = dict(zip(names, (t.reshape(s) for t, s in zip(theta.split([s.numel() for s in shapes]), shapes))))
        return F.cross_entropy(torch.func.functional_call(exact, pieces, (x.double(),)), y)

    eigenvalues = torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat)).numpy()
    for analyzer in values:
        np.testing.assert_allclose([analyzer.smallest, analyzer.sharpness[0]], eigenvalues[[0, -1]], atol=1e-5)


def test_the_tangent_map_is_deterministic_with_dropout_and_batchnorm():
    loader = _loader()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    first = Analyzer(model, n_copies=2, device="cpu").fit(loader, F.cross_entropy, lr=0.1, tangent_steps=10)
    again = Analyzer(model, n_copies=2, device="cpu").fit(loader, F.cross_entropy, lr=0.1, tangent_steps=10)
    assert np.isfinite(first.tangent_estimates).all()
    np.testing.assert_array_equal(first.tangent_estimates, again.tangent_estimates)  # no dropout draws in the map


def test_a_copy_growing_without_bound_is_flagged_and_a_diverged_original_hands_over_to_a_healthy_copy():
    model = _network()
    base = {n: p.detach().clone() for n, p in model.named_parameters()}

    def copies(scales):
        return [{n: p * s + 0.01 * k for n, p in base.items()} for k, s in enumerate(scales)]

    analyzer = Analyzer(model, n_copies=5)
    analyzer.record(copies([1, 1, 1, 1, 1])).record(copies([1, 1.1, 1e7, 1.2, 0.9]))
    assert analyzer.diverged.tolist() == [False, False, True, False, False]  # finite but 10⁷ × its size
    assert "per record" in analyzer.report().summary()  # manual records without epochs: rates per record
    orphan = Analyzer(model, n_copies=5)
    orphan.record(copies([1] * 5), epoch=0).record(copies([float("nan"), 1.1, 1, 1.2, 0.9]), epoch=1)
    result = orphan.report()
    assert result.reference == 1 and result.distance[1].tolist() == [0.0, 0.0]
    assert "measured from copy 1" in result.summary() and "per epoch" in result.summary()
    assert np.isfinite(result.exponents).sum() == 3


def test_the_peer_comparison_runs_both_packages_on_one_workload_and_names_a_missing_peer(monkeypatch):
    import sys

    from uniq_core.experiments import peer

    config = peer.PeerConfig.quick().replace(hidden=8, epochs=2, n_train=256, device="cpu", n_draws=3)
    result = peer.run(config, progress=False, use_cache=False)
    assert result.packages.tolist() == ["uniq_core", "deep-lyapunov"] and result.n_parameters == 64 * 8 + 8 + 90
    assert (result.seconds >= result.training_seconds + result.dimension_seconds).all()
    assert (result.training_seconds > 0).all() and (result.dimension_seconds > 0).all()
    assert (result.seconds_range[:, 0] <= result.seconds).all() and (result.seconds <= result.seconds_range[:, 1]).all()
    assert result.lyapunov.shape == (2, 3) and len(set(result.lyapunov[0])) == 3  # one draw of perturbations each
    # different perturbations, the same training path: its principal components agree closely
    np.testing.assert_allclose(result.convergence_ratio[0], result.convergence_ratio[1], rtol=0.05)
    np.testing.assert_allclose(result.effective_dimensionality[0], result.effective_dimensionality[1], rtol=0.05)
    assert result.table().count("\n") == 3 and "| deep-lyapunov |" in result.table() and " ± " in result.table()
    found = result.findings(config)
    assert found["peer_speedup_low"] <= found["peer_speedup_high"]
    assert found["peer_path_difference"] < 0.05 and found["peer_example_hidden"] == 128
    assert found["peer_draws"] == "3 draws" and found["peer_dimension_word"] in ("most", "part")
    assert peer.PeerConfig.standard().hidden == 128  # the published page runs the peer's example at its size
    monkeypatch.setitem(sys.modules, "deep_lyapunov", None)
    with pytest.raises(ImportError, match="pip install 'deep-lyapunov==0.1.2'"):
        peer.run(config, progress=False, use_cache=False)


def test_the_agreement_word_follows_the_spread_between_draws():
    from uniq_core.experiments import peer

    def result(ours, theirs):
        lyapunov = np.array([ours, theirs], dtype=float)
        return peer.PeerResult(
            packages=np.array(peer.PACKAGES), seconds=np.array([1.0, 3.0]), training_seconds=np.array([0.5, 1.0]),
            dimension_seconds=np.array([0.1, 1.5]), seconds_range=np.ones((2, 2)), training_range=np.ones((2, 2)),
            speedup_range=np.array([2.0, 4.0]), convergence_ratio=np.ones((2, len(ours))), lyapunov=lyapunov,
            effective_dimensionality=np.ones((2, len(ours))), behavior=np.full((2, len(ours)), "convergent"),
            exponent=np.zeros(len(ours)), diverged=0, n_parameters=10, threads=1)

    config = peer.PeerConfig.quick()
    noisy = result([0.05, -0.03, 0.12, 0.01, 0.09], [0.02, 0.10, -0.05, 0.04, 0.0])  # means 0.048, 0.022
    found = noisy.findings(config)
    assert found["peer_lyapunov_agree"] == "are not distinguishable with 5 draws"
    assert found["peer_lyapunov_gap_low"] < found["peer_lyapunov_gap"] < found["peer_lyapunov_gap_high"]
    # the Welch interval, against scipy's own
    from scipy import stats as distributions
    welch = distributions.ttest_ind([0.02, 0.10, -0.05, 0.04, 0.0], [0.05, -0.03, 0.12, 0.01, 0.09],
                                    equal_var=False).confidence_interval()
    assert (found["peer_lyapunov_gap_low"], found["peer_lyapunov_gap_high"]) == pytest.approx((welch.low, welch.high))
    apart = result([0.50, 0.51, 0.49, 0.50, 0.52], [0.10, 0.11, 0.09, 0.10, 0.12])
    assert apart.findings(config)["peer_lyapunov_agree"].startswith("differ")
    assert result([0.5], [0.1]).findings(config)["peer_lyapunov_agree"] == "cannot be compared from one draw"
    assert noisy.findings(config)["peer_dimension_share"] == pytest.approx(0.7)

def test_fit_flags_a_copy_that_grows_past_the_limit_while_finite_and_an_original_that_diverges(monkeypatch):
    from uniq_core import analyze

    loader = _loader()
    # at this step size copies 1 and 2 blow up (test above); with a low limit they are flagged while finite
    monkeypatch.setattr(analyze, "DIVERGED_GROWTH", 3.0)
    grown = Analyzer(_network(), perturbation=1.0, n_copies=6, device="cpu", seed=1)
    grown.fit(loader, lambda out, y: ((out - F.one_hot(y, 3).float()) ** 2).mean(), torch.optim.SGD, epochs=1,
              lr=2.0, tangents=0)
    assert grown.diverged[1:3].all() and not grown.diverged[0]
    assert all(np.isfinite(c[1]).all() for c in grown.checkpoints[:1])
    assert "3e+00 times the original's starting norm" in grown.report().summary()
    monkeypatch.undo()
    # a loss that is NaN for the original alone (its outputs on the first batch): the others carry on
    network = _network()
    first_inputs = next(iter(loader))[0]
    with torch.no_grad():
        reference = network(first_inputs)

    def poisoned(out, targets):
        original = (out.shape == reference.shape) and (out - reference).abs().max() < 1e-6
        return F.cross_entropy(out, targets) + torch.where(torch.as_tensor(original), float("nan"), 0.0)

    orphan = Analyzer(network, n_copies=6, device="cpu").fit(loader, poisoned, lr=0.1, epochs=2, tangents=0)
    result = orphan.report()
    assert orphan.diverged.tolist() == [True] + [False] * 5
    assert result.reference == 1 and "measured from copy 1" in result.summary()
    assert np.isfinite(result.exponent) and np.isfinite(result.exponents).sum() == 4


def test_a_perturbation_scan_shows_smooth_steps_steady_and_kinked_ones_not_and_the_peer_ratio_steady():
    from uniq_core.analyze import perturbation_scan, scan_findings, scan_table

    found = {}
    for name, activation in (("tanh", nn.Tanh), ("relu", nn.ReLU)):
        torch.manual_seed(1)
        network = nn.Sequential(nn.Linear(12, 10), activation(), nn.Linear(10, 3))
        results = perturbation_scan(network, _loader(), F.cross_entropy, sizes=(1e-2, 1e-3, 1e-4, 1e-5), n_copies=6,
                                    epochs=3, device="cpu", lr=0.5)
        found[name] = scan_findings(results)
        assert [r.perturbation for r in results] == [1e-2, 1e-3, 1e-4, 1e-5]
        assert all(r.tangent_exponents.size == 0 for r in results)
        table = scan_table(results)
        assert table.count("\n") == 5 and "| 1e-05 |" in table and "[" in table  # five perturbed copies: intervals
    # a smooth step: one exponent whatever the size; ReLU's kinks: a step that jumps, so the size matters
    assert found["tanh"]["scan_exponent_high"] - found["tanh"]["scan_exponent_low"] < 1e-3
    assert found["relu"]["scan_exponent_high"] - found["relu"]["scan_exponent_low"] > 0.1
    assert found["tanh"]["scan_separation"] == "their intervals overlap"
    assert found["relu"]["scan_separation"] in ("their intervals overlap",  # five copies: wide intervals here
                                                "their intervals do not overlap: no one value describes this run")
    # the null: the peer's convergence ratio stays where it was over three decades of perturbation, because its
    # spread runs over principal components too and so reads the shared path
    for name in found:
        assert found[name]["scan_convergence_high"] / found[name]["scan_convergence_low"] < 1.01
    with pytest.raises(ValueError, match="sizes=()"):
        perturbation_scan(_network(), _loader(), F.cross_entropy, sizes=(), lr=0.1)