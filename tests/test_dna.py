"""Weight coordinates, SIREN, quality measures and baselines against exact answers."""

import numpy as np
import pytest
import torch

from uniq_core import dna


def test_weight_grid_round_trips_exactly_and_lies_in_the_cube():
    rng = np.random.default_rng(0)
    matrices = {"a": rng.standard_normal((5, 7)), "b": rng.standard_normal((3, 2))}
    grid = dna.weight_grid(matrices, layers={"a": 0, "b": 1}, types={"a": 0, "b": 1})
    assert grid.coordinates.shape == (41, 4) and np.all(np.abs(grid.coordinates) <= 1)
    assert grid.values.min() == -1 and grid.values.max() == 1
    rebuilt = grid.matrices()
    for name in matrices:
        np.testing.assert_allclose(rebuilt[name], matrices[name], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="empty"):
        dna.weight_grid({})
    with pytest.raises(ValueError, match="non-finite"):
        dna.weight_grid({"a": np.array([[np.nan, 1.0]])})
    with pytest.raises(ValueError, match="equal"):
        dna.weight_grid({"a": np.ones((2, 2))})


def test_psnr_r2_and_compression():
    original = np.array([0.0, 1.0, 2.0, 3.0])
    assert dna.psnr(original, original) == np.inf
    assert dna.psnr(original, original + 0.1) == pytest.approx(20 * np.log10(3) - 10 * np.log10(0.01))
    assert dna.psnr(original + 100, original + 100.1) == pytest.approx(dna.psnr(original, original + 0.1))
    assert dna.r_squared(original, np.full(4, original.mean())) == pytest.approx(0.0)
    assert dna.compression_ratio(1000, 50) == 20
    with pytest.raises(ValueError, match="shapes differ"):
        dna.psnr(original, original[:2])


def test_svd_baseline_respects_the_budget_and_is_exact_at_full_rank():
    rng = np.random.default_rng(1)
    low_rank = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 30))
    exact = dna.svd_baseline(low_rank, 2 * (20 + 30 + 1))
    np.testing.assert_allclose(exact, low_rank, atol=1e-10)
    rank_one = dna.svd_baseline(low_rank, 2 * (20 + 30 + 1) - 1)
    assert np.linalg.matrix_rank(rank_one) == 1
    assert np.all(dna.svd_baseline(low_rank, 10) == 0)


def test_quantise_and_bits():
    values = np.linspace(0, 1, 101)
    assert len(np.unique(dna.quantise(values, 2))) == 4
    assert np.max(np.abs(dna.quantise(values, 8) - values)) <= 0.5 / 255 + 1e-12
    assert dna.bits_for_budget(1000, 125) == 4 and dna.bits_for_budget(1000, 1) == 1


def test_entropy_of_known_distributions():
    rng = np.random.default_rng(2)
    assert dna.histogram_entropy(rng.standard_normal(400_000)) == pytest.approx(0.5 * np.log(2 * np.pi * np.e), abs=0.01)
    assert dna.histogram_entropy(rng.uniform(size=400_000)) == pytest.approx(np.log(2 * np.sqrt(3)), abs=0.01)


def test_radial_power_of_a_smooth_and_a_noisy_matrix():
    x = np.linspace(0, 1, 64)
    smooth = np.outer(np.sin(2 * np.pi * x), np.cos(2 * np.pi * x))
    noisy = np.random.default_rng(3).standard_normal((64, 64))
    _, smooth_power = dna.radial_power(smooth)
    _, noise_power = dna.radial_power(noisy)
    assert smooth_power[0] / np.nanmean(smooth_power[5:]) > 1e3
    assert noise_power[0] / np.nanmean(noise_power[5:]) < 10


def test_siren_initialisation_and_a_fit_of_a_smooth_pattern():
    siren = dna.Siren(hidden=32, layers=2, omega0=30.0)
    assert siren.linears[0].weight.abs().max() <= 1 / 4
    assert siren.linears[1].weight.abs().max() <= np.sqrt(6 / 32) / 30
    multi = dna.Siren(hidden=8, frequencies="multi", omega0=30.0)
    assert float(multi.first_omega[0]) == pytest.approx(1.0) and float(multi.first_omega[-1]) == pytest.approx(30.0)
    x = np.linspace(-1, 1, 32)
    smooth = {"w": np.outer(np.sin(3 * x), np.cos(2 * x))}
    grid = dna.weight_grid(smooth)
    _, reconstruction, loss = dna.fit_siren(grid, hidden=32, layers=2, omega0=10.0, steps=600, lr=3e-3)
    assert dna.psnr(smooth["w"], grid.matrices(reconstruction)["w"]) > 30  # a smooth pattern is easy
    assert loss[-1] < loss[0]
    with pytest.raises(ValueError, match="frequencies="):
        dna.Siren(frequencies="many")


def test_a_fit_until_flat_is_adam_until_its_first_halving_and_stops_only_on_a_flat_running_r2():
    import torch

    rng = np.random.default_rng(0)
    grid = dna.weight_grid({"a": rng.standard_normal((20, 30)), "b": rng.standard_normal((30, 10))})
    # before any halving, the same steps as torch's Adam at a constant step size from the same seed
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    model = dna.Siren(16, 3, 30.0, in_features=4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.as_tensor(grid.coordinates), torch.as_tensor(grid.values, dtype=torch.float32)
    for _ in range(40):
        index = torch.randint(0, len(y), (256,), generator=generator)
        loss = torch.mean((model(x[index]) - y[index]) ** 2)
        optimiser.zero_grad(), loss.backward(), optimiser.step()
    short = dna.fit_until_flat(grid, seed=3, hidden=16, layers=3, batch_size=256, max_steps=40, check_every=1000)
    with torch.no_grad():
        np.testing.assert_array_equal(short.reconstruction, model(x).double().numpy())
    assert not short.converged and list(short.check_steps) == [40]  # a fit stopped by its cap has not converged
    # a smooth target: the step size is halved on plateaus and the fit stops flat, well before its cap
    t = np.linspace(-1, 1, 24)
    smooth = dna.weight_grid({"w": np.outer(np.sin(3 * t), np.cos(2 * t))})
    fit = dna.fit_until_flat(smooth, seed=0, hidden=24, layers=2, omega0=10.0, lr=3e-3, batch_size=256,
                             max_steps=20_000, check_every=50)
    assert fit.converged and fit.steps < 20_000 and fit.r2_running[-1] > 0.99
    assert fit.lr_running[-1] == pytest.approx(3e-3 / 2 ** dna.PLATEAU_HALVINGS) and np.all(np.diff(fit.lr_running) <= 0)
    assert fit.r2_running[-1] == pytest.approx(dna.r_squared(smooth.values, fit.reconstruction), abs=1e-6)
    assert len(fit.loss) == fit.steps and np.isfinite(fit.loss).all()
    with pytest.raises(ValueError, match="max_steps"):
        dna.fit_until_flat(smooth, max_steps=0)


@pytest.mark.parametrize("layers,frequencies", [(1, "single"), (3, "single"), (3, "multi")])
def test_the_written_out_backward_pass_equals_autograd(layers, frequencies, monkeypatch):
    rng = np.random.default_rng(1)
    grid = dna.weight_grid({"a": rng.standard_normal((20, 30))})
    x, y = torch.as_tensor(grid.coordinates[:200]), torch.as_tensor(grid.values[:200], dtype=torch.float32)
    torch.manual_seed(0)
    model = dna.Siren(12, layers, 30.0, frequencies)
    loss = dna.siren_loss_and_gradients(model, x, y)
    written = [p.grad.clone() for p in model.parameters()]
    reference = dna._autograd_loss_and_gradients(model, x, y)
    assert float(loss) == pytest.approx(float(reference), rel=1e-6)
    for mine, theirs in zip(written, (p.grad for p in model.parameters())):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-7 * float(theirs.abs().max()))
    # whole fits (Adam steps, halvings, the cosine schedule) through either pass end alike
    fast = dna.fit_until_flat(grid, seed=2, hidden=12, layers=layers, frequencies=frequencies, batch_size=64,
                              max_steps=120, check_every=20)
    _, fast_short, _ = dna.fit_siren(grid, hidden=12, layers=layers, frequencies=frequencies, steps=60, batch_size=64)
    monkeypatch.setattr(dna, "siren_loss_and_gradients", dna._autograd_loss_and_gradients)
    slow = dna.fit_until_flat(grid, seed=2, hidden=12, layers=layers, frequencies=frequencies, batch_size=64,
                              max_steps=120, check_every=20)
    _, slow_short, _ = dna.fit_siren(grid, hidden=12, layers=layers, frequencies=frequencies, steps=60, batch_size=64)
    np.testing.assert_allclose(fast.reconstruction, slow.reconstruction, atol=1e-5)
    np.testing.assert_allclose(fast.r2_running, slow.r2_running, atol=1e-5)
    np.testing.assert_allclose(fast_short, slow_short, atol=1e-5)


def test_minilm_weights_come_from_the_wheel():
    weights = dna.load_minilm(["encoder.layer.0.attention.self.query.weight"])
    assert weights["encoder.layer.0.attention.self.query.weight"].shape == (384, 384)
    with pytest.raises(ValueError, match="unknown MiniLM"):
        dna.load_minilm(["encoder.layer.9.nothing"])


def test_lloyd_max_recovers_the_gaussian_optimum_at_one_and_two_bits():
    x = np.random.default_rng(4).standard_normal(1_000_000)
    for levels, known in dna.LLOYD_MAX_GAUSSIAN_MSE.items():  # Max (1960), unit variance
        codebook, codes = dna.lloyd_max(x, levels)
        assert len(codebook) == levels
        assert np.mean((codebook[codes] - x) ** 2) == pytest.approx(known, abs=0.002)
    np.testing.assert_allclose(dna.lloyd_max(x, 2)[0], [-np.sqrt(2 / np.pi), np.sqrt(2 / np.pi)], atol=0.003)


def test_entropy_coded_rate_counts_the_codes_and_the_codebook():
    assert dna.empirical_entropy_bits(np.array([0, 1, 0, 1])) == pytest.approx(1.0)
    assert dna.empirical_entropy_bits(np.array([0, 0, 0, 1])) == pytest.approx(0.8112781, abs=1e-6)
    values = np.repeat([0.0, 1.0, 2.0, 3.0], 250)  # four equiprobable values: 2 bits, exact reconstruction
    reconstruction, rate = dna.entropy_coded_quantiser(values, 4, codebook_bits=32)
    np.testing.assert_allclose(reconstruction, values)
    assert rate == pytest.approx(2.0 + 4 * 32 / 1000 + 3 / 2 * np.log2(1000) / 1000)  # codes, codebook, table


def test_quantised_svd_and_stored_siren_count_their_bits():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((20, 2)) @ rng.standard_normal((2, 30))
    exact, bits = dna.svd_quantised(W, 2, 32)
    np.testing.assert_allclose(exact, W, atol=1e-10)
    assert bits == 2 * (20 + 30) * 32 + 4 * 32
    coarse, bits8 = dna.svd_quantised(W, 2, 8)
    assert bits8 == 2 * (20 + 30) * 8 + 4 * 32 and 0 < np.abs(coarse - W).max() < 0.1 * np.abs(W).max()
    siren = dna.Siren(hidden=8, layers=2)
    n = dna.count_parameters(siren)
    assert n == dna.siren_size(8, 2)
    assert dna.stored_parameters(siren, 32)[1] == 32 * n and dna.stored_parameters(siren, 16)[1] == 16 * n
    assert dna.stored_parameters(siren, 8)[1] == 8 * n + 64 * len(list(siren.parameters()))
    hidden = dna.hidden_for_ratio(384 * 384, 22.0, 3)
    assert 384 * 384 / dna.siren_size(hidden, 3) >= 22.0 > 384 * 384 / dna.siren_size(hidden + 1, 3)


def test_rate_distortion_bounds_on_a_gaussian_source():
    x = np.random.default_rng(6).standard_normal(400_000)
    entropy = dna.histogram_entropy(x)
    rates = np.array([1.0, 2.0])
    np.testing.assert_allclose(dna.gaussian_rate_distortion(1.0, rates), [0.25, 0.0625])
    # for a Gaussian the Shannon lower bound and the Gaussian D(R) coincide
    np.testing.assert_allclose(dna.shannon_lower_bound(1.0, entropy, rates), [0.25, 0.0625], rtol=0.02)
    for levels in (2, 4, 8, 16):  # no quantiser beats the bound
        reconstruction, rate = dna.entropy_coded_quantiser(x, levels)
        assert np.mean((reconstruction - x) ** 2) >= dna.shannon_lower_bound(1.0, entropy, rate) * 0.98
    for step in (0.5, 0.1):  # entropy-coded uniform: within 0.254 bit of the bound at high rate
        reconstruction, rate = dna.uniform_entropy_coded(x, step)
        distortion = np.mean((reconstruction - x) ** 2)
        assert distortion == pytest.approx(step**2 / 12, rel=0.05)
        bound_rate = 0.5 * np.log2(dna.shannon_lower_bound(1.0, entropy, 0.0) / distortion)
        assert 0.2 < rate - bound_rate < 0.3
    curve = dna.psnr_curve(np.full(50, 0.01))
    np.testing.assert_allclose(curve, 20 * np.log10(2) + 20)


def test_wordpiece_tokenizer_matches_the_wheels_tokenizer():
    from uniq_core import minilm

    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(minilm.model_directory() / "tokenizer.json"))
    ours = minilm.WordPieceTokenizer()
    for text in list(minilm.SENTENCES) + ["Héllo, wörld! naïve café — 東京 test-case (x2) 3.14 don't",
                                          "antidisestablishmentarianism\tand\u00a0tabs"]:
        encoded = reference.encode(text)
        assert ours(text) == [i for i, m in zip(encoded.ids, encoded.attention_mask) if m], text


def test_sentence_embeddings_match_sentence_transformers():
    from uniq_core import minilm

    sentence_transformers = pytest.importorskip("sentence_transformers")
    ours = minilm.sentence_embeddings(minilm.SENTENCES[:8])
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-12)
    model = sentence_transformers.SentenceTransformer(str(minilm.model_directory()), device="cpu")
    theirs = model.encode(list(minilm.SENTENCES[:8]), convert_to_numpy=True)
    np.testing.assert_allclose(ours, theirs, atol=minilm.MATCH_TOLERANCE)
    np.testing.assert_allclose(minilm.cosine_similarities(ours, ours), 1.0)


def test_smooth_field_is_fitted_above_40_db_and_its_permutation_is_not():
    field = dna.smooth_field((96, 96))
    grid = dna.weight_grid({"field": field})
    _, fit, loss = dna.fit_siren(grid, hidden=24, layers=3, steps=300, batch_size=4096)
    assert dna.psnr(field.ravel(), grid.denormalise(fit)) >= 40  # positive control
    curve = dna.psnr_curve(loss)
    assert curve[-1] > curve[50] > curve[0]  # convergence: the running PSNR rises and is recorded per step
    shuffled = np.random.default_rng(7).permutation(grid.values)
    _, shuffled_fit, _ = dna.fit_siren(grid, shuffled, hidden=24, layers=3, steps=300, batch_size=4096)
    # the same values without spatial order: no more than memorising a share ~ parameters / points
    assert dna.r_squared(shuffled, shuffled_fit) < 2 * dna.siren_size(24, 3) / grid.size


def test_the_memoryless_shannon_bound_is_beaten_by_a_coder_that_uses_structure():
    """The Shannon lower bound from one weight's value distribution binds only coders that treat weights as
    independent: a rank-4 matrix plus small noise is coded by its rank-4 SVD far below it."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((384, 4)) @ rng.standard_normal((4, 384)) / 2 + 0.05 * rng.standard_normal((384, 384))
    reconstruction, bits = dna.svd_quantised(W, 4, 8)
    rate = bits / W.size
    mse = float(np.mean((W - reconstruction) ** 2))
    bound = float(dna.shannon_lower_bound(W.var(), dna.histogram_entropy(W), np.array([rate]))[0])
    assert rate < 0.2 and mse < 0.01 < 0.5 < bound


def test_miller_madow_removes_the_histogram_entropy_bias_at_the_digits_size():
    """At n = 2368 (the digits MLP's weights) the plug-in histogram entropy is biased by about −0.03 nats on
    a Gaussian; the Miller–Madow correction brings the bias within 0.01, Gaussian and uniform."""
    rng = np.random.default_rng(4)
    n = 2368
    for sample, truth in ((lambda: rng.standard_normal(n), 0.5 * np.log(2 * np.pi * np.e)),
                          (lambda: rng.uniform(size=n), np.log(2 * np.sqrt(3)))):
        draws = [sample() for _ in range(100)]
        corrected = np.mean([dna.histogram_entropy(x) for x in draws]) - truth
        plug_in = np.mean([dna.histogram_entropy(x, miller_madow=False) for x in draws]) - truth
        assert abs(corrected) < 0.01 and plug_in < corrected
    spread = np.std([dna.histogram_entropy(rng.standard_normal(n)) for _ in range(100)], ddof=1)
    standard_error = dna.entropy_standard_error(rng.standard_normal(n), n_boot=100)
    assert 0.5 * spread < standard_error < 3 * spread  # the bootstrap is of the right size (conservative)


def test_probability_table_and_r2_from_psnr():
    codes = np.repeat(np.arange(4), 256)
    assert dna.probability_table_bits(codes) == pytest.approx(3 / 2 * 10 / 1024)
    rng = np.random.default_rng(5)
    original = rng.standard_normal(1000)
    reconstructed = original + 0.3 * rng.standard_normal(1000)
    constant = dna.psnr(original, np.full(1000, original.mean()))
    assert dna.r_squared_from_psnr(dna.psnr(original, reconstructed), constant) == pytest.approx(
        dna.r_squared(original, reconstructed))


def test_planted_field_has_the_planted_share_and_the_paired_rule_has_its_size():
    smooth = dna.smooth_field((64, 64), seed=1, frequencies=(7.5, 15.0))
    noise = np.random.default_rng(6).laplace(size=64 * 64)
    field = dna.planted_field(smooth, noise, 0.5)
    part = np.sqrt(0.5) * (smooth - smooth.mean()) / smooth.std()
    assert dna.r_squared(field.ravel(), part.ravel()) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="^frequencies"):
        dna.smooth_field((8, 8), frequencies=(3.0, 1.0))
    # the paired t rule: about 5% false "more than" under the null, and power against a real excess
    rng = np.random.default_rng(7)
    null = [dna.excess_word(dna.paired_excess(rng.normal(0.3, 0.01, 3), rng.normal(0.3, 0.01, 3))[1])
            for _ in range(2000)]
    assert 0.01 < np.mean([word == "more than" for word in null]) < 0.05  # one side of a 95% interval: 2.5%
    signal = [dna.excess_word(dna.paired_excess(rng.normal(0.36, 0.01, 3), rng.normal(0.3, 0.01, 3))[1])
              for _ in range(200)]
    assert np.mean([word == "more than" for word in signal]) > 0.9
    with pytest.raises(ValueError, match="pair up"):
        dna.paired_excess(np.zeros(3), np.zeros(2))


def _paired_fits(matrix: np.ndarray, seeds=(0, 1, 2)) -> tuple[np.ndarray, np.ndarray]:
    grid = dna.weight_grid({"w": matrix})
    fitted, controls = [], []
    for seed in seeds:
        fitted.append(dna.r_squared(grid.values, dna.fit_siren(grid, hidden=16, layers=2, steps=200, lr=3e-3,
                                                              seed=seed)[1]))
        permuted = np.random.default_rng([9, seed]).permutation(grid.values)
        controls.append(dna.r_squared(permuted, dna.fit_siren(grid, permuted, hidden=16, layers=2, steps=200,
                                                              lr=3e-3, seed=seed)[1]))
    return np.array(fitted), np.array(controls)


def test_the_position_rule_says_no_more_on_iid_weights_and_more_on_a_planted_signal():
    rng = np.random.default_rng(8)
    iid = rng.standard_normal((32, 32))
    assert dna.excess_word(dna.paired_excess(*_paired_fits(iid))[1]) == "no more than"
    planted = dna.planted_field(dna.smooth_field((32, 32), seed=2), rng.standard_normal((32, 32)), 0.5)
    assert dna.excess_word(dna.paired_excess(*_paired_fits(planted))[1]) == "more than"


def test_row_and_column_permutation_keeps_rows_and_columns_and_the_pixel_axes():
    rng = np.random.default_rng(10)
    W, images = rng.standard_normal((6, 9)), rng.standard_normal((4, 3, 3))
    out = dna.permute_rows_and_columns({"W": W, "images": images}, np.random.default_rng(0))
    np.testing.assert_allclose(np.sort(out["W"].sum(1)), np.sort(W.sum(1)))
    np.testing.assert_allclose(np.sort(out["W"].sum(0)), np.sort(W.sum(0)))
    assert not np.array_equal(out["W"], W)
    order = [int(np.flatnonzero(np.all(images == unit, axis=(1, 2)))[0]) for unit in out["images"]]
    assert sorted(order) == list(range(4))  # whole 3×3 images moved, none altered


def test_the_permutation_null_stays_inside_each_matrix():
    small, large = np.arange(6.0).reshape(2, 3), 100 + np.arange(8.0).reshape(2, 4)
    grid = dna.weight_grid({"small": small, "large": large})
    permuted = grid.matrices(dna.permute_within(grid, np.random.default_rng(0)))
    np.testing.assert_allclose(np.sort(permuted["small"].ravel()), small.ravel())
    np.testing.assert_allclose(np.sort(permuted["large"].ravel()), large.ravel())
    assert not np.array_equal(permuted["large"], large)


@pytest.mark.parametrize("name, draw, exact", [
    ("gaussian", lambda r, n: r.standard_normal(n), 0.5 * np.log(2 * np.pi * np.e)),
    ("uniform", lambda r, n: r.uniform(-1, 1, n), np.log(2 * np.sqrt(3))),
    ("laplace", lambda r, n: r.laplace(size=n), 1 + np.log(2 / np.sqrt(2))),
])
def test_both_entropy_estimators_know_light_and_heavy_tailed_shapes(name, draw, exact):
    """At the size of the digits MLP's first layer, each estimator's bias on a standardised shape; their
    difference is what the entropy verdict is recomputed against."""
    estimates = {estimator: np.mean([estimator(draw(np.random.default_rng(seed), 2048)) for seed in range(8)])
                 for estimator in (dna.histogram_entropy, dna.spacing_entropy)}
    for value in estimates.values():
        assert abs(value - exact) < 0.03, (name, value, exact)


def test_the_spacing_estimator_has_no_bias_between_two_samples_of_one_shape_and_ignores_scale():
    """The null case of the entropy verdict: two independent samples of the same distribution differ by
    nothing on average, and the standardised estimate does not move with the scale."""
    for draw in (lambda r, n: r.standard_normal(n), lambda r, n: r.uniform(-1, 1, n), lambda r, n: r.laplace(size=n)):
        differences = [dna.spacing_entropy(draw(np.random.default_rng([seed, 0]), 2048))
                       - dna.spacing_entropy(draw(np.random.default_rng([seed, 1]), 2048)) for seed in range(12)]
        assert abs(np.mean(differences)) < 3 * np.std(differences, ddof=1) / np.sqrt(len(differences)) + 1e-3
    values = np.random.default_rng(0).standard_normal(1000)
    assert dna.spacing_entropy(7.5 * values + 3.0) == pytest.approx(dna.spacing_entropy(values), abs=1e-12)
    with pytest.raises(ValueError, match="at least 4"):
        dna.spacing_entropy(np.ones(3))


def test_held_out_rows_are_whole_rows_and_a_smooth_field_is_generated_where_it_was_not_fitted():
    t = np.linspace(-1, 1, 24)
    smooth = dna.weight_grid({"w": np.outer(np.sin(3 * t), np.cos(2 * t))})
    mask = dna.held_out_rows(smooth, 0.25, np.random.default_rng(0))
    rows = mask.reshape(24, 24)
    assert rows.sum() == 6 * 24 and np.all(rows.all(axis=1) | ~rows.any(axis=1))  # whole rows only
    fit = dna.fit_until_flat(smooth, seed=0, hidden=24, layers=2, omega0=10.0, lr=3e-3, batch_size=256,
                             max_steps=6000, check_every=50, fit_on=np.flatnonzero(~mask))
    assert fit.reconstruction.shape == (smooth.size,)
    assert dna.r_squared(smooth.values[mask], fit.reconstruction[mask]) > 0.9  # generated, not memorised
    with pytest.raises(ValueError, match="fit_on"):
        dna.fit_until_flat(smooth, fit_on=np.array([], dtype=int), max_steps=1)


def test_similarity_order_recovers_a_shuffled_smooth_order_and_two_nn_knows_a_plane():
    rng = np.random.default_rng(0)
    t = np.linspace(-1, 1, 40)
    smooth = np.outer(t, np.ones(8)) + 0.01 * rng.standard_normal((40, 8))
    shuffled = smooth[rng.permutation(40)]
    order = dna.similarity_order(shuffled)
    assert sorted(order) == list(range(40))  # a permutation
    ordered = shuffled[order]
    # the chain starts at an end of the line and walks along it: adjacent rows are close again
    assert dna.adjacent_distance_ratio(ordered) < 0.05 < 0.5 < dna.adjacent_distance_ratio(shuffled)
    both = dna.similarity_ordered({"w": shuffled, "cube": rng.standard_normal((5, 2, 2))})
    assert both["w"].shape == (40, 8) and sorted(both["w"].ravel()) == sorted(shuffled.ravel())
    plane = rng.standard_normal((2000, 2)) @ rng.standard_normal((2, 50))
    assert dna.two_nn_dimension(plane) == pytest.approx(2.0, rel=0.1)
    assert dna.two_nn_dimension(rng.standard_normal((2000, 8))) == pytest.approx(8.0, rel=0.15)


def test_a_teacher_siren_is_represented_exactly_at_its_size_and_the_fitter_recovers_it():
    rng = np.random.default_rng(0)
    grid = dna.weight_grid({"w": rng.standard_normal((24, 24))})
    values = dna.teacher_values(grid, hidden=12, layers=2, omega0=10.0, seed=3)
    assert values.mean() == pytest.approx(grid.values.mean()) and values.std() == pytest.approx(grid.values.std())
    # the shift and scale fold into the output layer of the same SIREN: the target is exactly representable
    torch.manual_seed(3)
    student = dna.Siren(12, 2, 10.0, in_features=grid.coordinates.shape[1])
    x = torch.as_tensor(grid.coordinates)
    with torch.no_grad():
        raw = student(x).double().numpy()
        scale = values.std() / raw.std()
        student.output.bias.copy_((student.output.bias - raw.mean()) * scale + values.mean())
        student.output.weight.mul_(scale)
        assert dna.r_squared(values, student(x).double().numpy()) > 1 - 1e-6
    fit = dna.fit_until_flat(grid, values, seed=0, hidden=12, layers=2, omega0=10.0, lr=3e-3, batch_size=256,
                             max_steps=6000, check_every=50)
    assert dna.r_squared(values, fit.reconstruction) >= 0.95  # from another seed's start


def test_layer_interpolation_knows_a_linear_field_and_unrelated_layers():
    rng = np.random.default_rng(0)
    base, slope = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    linear = [base + k * slope for k in range(4)]
    r2, correlation = dna.layer_interpolation(linear)
    np.testing.assert_allclose(r2, 1.0)
    unrelated = [rng.standard_normal((200, 300)) for _ in range(4)]
    r2, correlation = dna.layer_interpolation(unrelated)
    # independent layers of equal variance: the neighbours' mean adds half a variance of error
    np.testing.assert_allclose(r2, -0.5, atol=0.02)
    np.testing.assert_allclose(correlation, 0.0, atol=0.02)
    with pytest.raises(ValueError, match="at least 3"):
        dna.layer_interpolation(unrelated[:2])


def test_layer_interpolation_of_gram_matrices_ignores_the_order_of_each_layers_units():
    rng = np.random.default_rng(1)
    shared = rng.standard_normal((64, 16))
    # every layer: the same row space up to its own row permutation and a little noise
    stack = [rng.permutation(shared) + 0.1 * rng.standard_normal((64, 16)) for _ in range(4)]
    raw, _ = dna.layer_interpolation(stack)
    gram, correlation = dna.layer_interpolation(stack, gram=True)
    assert raw.max() < 0 < 0.9 < gram.min() and correlation.min() > 0.9
    # independent layers, even with a column scale they share: the off-diagonal carries nothing across layers
    scale = np.exp(0.5 * rng.standard_normal(40))
    independent = [rng.standard_normal((400, 40)) * scale for _ in range(4)]
    np.testing.assert_allclose(dna.layer_interpolation(independent, gram=True)[0], -0.5, atol=0.25)
