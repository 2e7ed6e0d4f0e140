"""The verdict table: decision rules on synthetic numbers, Config validation, one row per claim.

The whole pipeline re-runs every chapter, so it is not run here; each row function is checked on small
synthetic Results with the fields it reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from uniq_core import plots
from uniq_core.experiments import verdicts as v

ROOT = Path(__file__).resolve().parents[1]
NAN = float("nan")


# ------------------------------------------------------------------------------------------ decision rules


@pytest.mark.parametrize(
    "low, high, null, direction, expected",
    [
        (0.1, 0.3, 0.0, 1, v.HOLDS),  # excludes zero above: a positive effect
        (-0.3, -0.1, 0.0, 1, v.FAILS),  # excludes zero on the other side
        (-0.1, 0.2, 0.0, 1, v.UNRESOLVED),  # contains the null
        (-0.3, -0.1, 0.0, -1, v.HOLDS),  # a claimed decrease
        (41.0, 43.0, 40.0, 1, v.HOLDS),  # a level other than zero
        (30.0, 35.0, 40.0, 1, v.FAILS),
        (NAN, 1.0, 0.0, 1, v.UNRESOLVED),  # no interval, no verdict
        (0.0, 0.3, 0.0, 1, v.UNRESOLVED),  # touching the null is not excluding it
    ],
)
def test_interval_verdict(low, high, null, direction, expected):
    assert v.interval_verdict(low, high, null, direction) == expected


def test_interval_verdict_margin_bounds_an_effect_too_small_to_matter():
    assert v.interval_verdict(-0.005, 0.004, margin=0.01) == v.FAILS  # any effect is below the margin
    assert v.interval_verdict(-0.005, 0.02, margin=0.01) == v.UNRESOLVED
    assert v.interval_verdict(0.001, 0.004, margin=0.01) == v.HOLDS  # above the null: holds, however small
    assert v.interval_verdict(-0.004, 0.005, direction=-1, margin=0.01) == v.FAILS
    with pytest.raises(ValueError, match="margin"):
        v.interval_verdict(0.0, 1.0, margin=-1.0)


def test_interval_verdict_rejects_a_bad_direction():
    with pytest.raises(ValueError, match="direction"):
        v.interval_verdict(0.0, 1.0, direction=0)


def test_contains_verdict():
    assert v.contains_verdict(0.45, 0.55, 0.5) == v.HOLDS
    assert v.contains_verdict(0.6, 0.7, 0.5) == v.FAILS
    assert v.contains_verdict(NAN, NAN, 0.5) == v.UNRESOLVED


@pytest.mark.parametrize(
    "words, expected",
    [
        ([v.HOLDS, v.HOLDS], v.HOLDS),
        ([v.HOLDS, v.FAILS, v.UNRESOLVED], v.REGIME),
        ([v.FAILS, v.UNRESOLVED], v.FAILS),
        ([v.UNRESOLVED, v.UNRESOLVED], v.UNRESOLVED),
        ([], v.NOT_TESTABLE),
    ],
)
def test_regime_verdict(words, expected):
    assert v.regime_verdict(words) == expected


def test_threshold_verdict():
    assert v.threshold_verdict(0.2, 0.1) == v.HOLDS
    assert v.threshold_verdict(0.05, 0.1) == v.FAILS
    assert v.threshold_verdict(-1.0, 0.0, claimed="below") == v.HOLDS
    assert v.threshold_verdict(NAN, 0.0) == v.UNRESOLVED
    with pytest.raises(ValueError, match="claimed"):
        v.threshold_verdict(1.0, 0.0, claimed="sideways")


def test_count_verdict_over_seeds():
    assert v.count_verdict(np.array([3, 4, 5])) == v.HOLDS
    assert v.count_verdict(np.zeros(3)) == v.FAILS
    assert v.count_verdict(np.array([0, 4, 5])) == v.UNRESOLVED  # seeds disagree: repetitions, not regimes
    assert v.count_verdict(np.array([NAN, 4, 5])) == v.HOLDS  # a diverged seed is left out
    assert v.count_verdict(np.array([NAN, NAN, 5])) == v.UNRESOLVED  # one finite seed decides nothing
    assert v.count_verdict(np.array([])) == v.UNRESOLVED


def test_config_profiles_and_validation():
    assert v.Config.quick().profile == "quick" and v.Config.full().profile == "full"
    with pytest.raises(ValueError, match="profile"):
        v.Config(profile="huge")
    for bad in (0.0, 0.6, float("nan"), "0.05"):
        with pytest.raises(ValueError, match="significance"):
            v.Config(significance=bad)


def test_source_configs_are_the_chapters():
    from uniq_core.experiments import dna, fisher, lyapunov

    quick = v.source_configs("quick")
    assert quick["lyapunov"]["divergence"] == lyapunov.DivergenceConfig.quick()
    assert quick["fisher"]["training"] == fisher.FisherConfig.quick()
    assert quick["dna"]["minilm"] == dna.DnaConfig.quick()
    assert v.source_configs("full")["dna"]["minilm"] == dna.DnaConfig.full()
    # every (chapter, name) has a runner
    for chapter, named in quick.items():
        for name in named:
            assert callable(v._runner(chapter, name))


def test_the_chapter_uses_the_same_configs():
    """The chapters build their Configs as the table does (a drift here would mean different numbers)."""
    text = {name: (ROOT / "book" / f"{name}.md").read_text() for name in ("01_lyapunov", "05_fisher", "06_dna")}
    assert "chapter.DivergenceConfig.for_profile()" in text["01_lyapunov"]
    assert "chapter.RegimeConfig.for_profile()" in text["01_lyapunov"]
    assert "chapter.FisherConfig.for_profile()" in text["05_fisher"]
    assert 'chapter.DnaConfig(source="digits_mlp", hidden=16, layers=2, n_seeds=3)' in text["06_dna"]


# ------------------------------------------------------------------------------------- one row per claim


def test_every_claim_of_the_write_ups_has_a_row_function():
    keys = [key for key, _, _ in v.CLAIMS]
    assert len(keys) == len(set(keys)) == 17
    for key in keys:
        assert callable(getattr(v, f"row_{key}")), key
    sources = {source for _, source, _ in v.CLAIMS}
    assert sources == {"uniq-nets", "geometric-training-invariants", "unified singular information geometry",
                       "DNA", "deep-lyapunov"}


def _row(key: str, verdict: str = v.HOLDS) -> v.Row:
    return v.Row(key, verdict, "a number", 1.0, 0.5, 1.5, "95% t-interval over seeds", "everywhere", "x.html#y", "z")


def test_collect_orders_rows_and_needs_every_claim():
    rows = [_row(key) for key, _, _ in reversed(v.CLAIMS)]
    result = v.collect(rows)
    assert list(result.keys) == [key for key, _, _ in v.CLAIMS]
    assert result.verdicts.dtype.kind == "U" and result.values.dtype == float
    with pytest.raises(ValueError, match="no row"):
        v.collect(rows[1:])
    with pytest.raises(ValueError, match="two rows"):
        v.collect(rows + rows[:1])
    with pytest.raises(ValueError, match="verdict"):
        _row("lyapunov", "maybe")
    round_trip = v.Result.from_dict(result.to_dict())
    assert list(round_trip.claims) == list(result.claims)


def test_tables_show_every_claim():
    result = v.collect([_row(key) for key, _, _ in v.CLAIMS])
    html = plots.verdict_table_html(result)
    assert html.count("<tr>") == len(v.CLAIMS) + 1
    assert "1 [0.5, 1.5]" in html
    assert plots.verdict_changes_html(result).count("<li>") == len(v.CLAIMS)
    assert plots.verdict_table_markdown(result).count("\n") == len(v.CLAIMS) + 1
    assert plots.number_text(2.0, NAN, NAN) == "2"


# ------------------------------------------------------------------------------- row functions on synthetic


def _regime(per_seed: np.ndarray) -> SimpleNamespace:
    """A regime map (seeds × step sizes × perturbations) with the chapter's fields."""
    return SimpleNamespace(lrs=np.geomspace(0.1, 3.0, per_seed.shape[1]), exponent=per_seed, exponent_mean=per_seed.mean(axis=0),
                           diverged_fraction=np.zeros(per_seed.shape[1:]))


def test_row_lyapunov_regime_and_holds():
    rng = np.random.default_rng(0)
    per_seed = np.empty((6, 2, 2))
    per_seed[:, 0] = rng.normal(0.0, 0.05, (6, 2))  # small step: no growth
    per_seed[:, 1] = 0.3 + rng.normal(0.0, 0.01, (6, 2))  # large step: clear growth
    positive = SimpleNamespace(exponent_mean=0.2, exponent_interval=np.array([0.1, 0.3]))
    row = v.row_lyapunov(positive, _regime(per_seed))
    assert row.verdict == v.REGIME and "at step sizes 3 to 3" in row.regime
    assert v.row_lyapunov(positive, _regime(0.3 + rng.normal(0.0, 0.01, (6, 2, 2)))).verdict == v.HOLDS
    negative = SimpleNamespace(exponent_mean=-0.2, exponent_interval=np.array([-0.3, -0.1]))
    assert v.row_lyapunov(negative, _regime(-0.3 + rng.normal(0.0, 0.01, (6, 2, 2)))).verdict == v.FAILS


def test_row_lyapunov_corrects_the_map_for_its_number_of_cells():
    """Null control: no growth anywhere; over repetitions, a corrected map rarely shows any positive cell."""
    rng = np.random.default_rng(1)
    zero = SimpleNamespace(exponent_mean=0.0, exponent_interval=np.array([-0.1, 0.1]))
    false_positive = ["positive in none" not in v.row_lyapunov(zero, _regime(rng.normal(0.0, 0.05, (3, 5, 3)))).regime
                      for _ in range(400)]
    assert np.mean(false_positive) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)


def test_row_entropy_is_a_regime_when_langevin_is_reversible():
    stationary = SimpleNamespace(sgd_pooled=1e-3, decision_interval=np.array([5e-4, 2e-3]), sgd_exact_mean=1e-3,
                                 langevin_exact=np.array([1e-12, -1e-12]), langevin_null_holds=True)
    assert v.row_entropy(stationary).verdict == v.REGIME
    stationary.langevin_exact = np.array([1e-3])
    assert v.row_entropy(stationary).verdict == v.HOLDS
    stationary.langevin_null_holds = False  # a failed null check on the real dynamics: nothing rests on it
    assert v.row_entropy(stationary).verdict == v.UNRESOLVED
    stationary.langevin_null_holds = True
    stationary.decision_interval = np.array([-1e-4, 2e-3])
    assert v.row_entropy(stationary).verdict == v.UNRESOLVED


def test_row_topology_uses_the_chapters_holm_rule():
    def measurement(weight, function):
        return SimpleNamespace(weight_p_value=weight, function_p_value=function, level=0.05)

    adjusted = np.array([[0.5, 0.01], [0.7, 0.01]])  # widths × perturbations: the large perturbation differs
    sweep = SimpleNamespace(perturbations=np.array([1e-3, 1.0]), weight_p_holm=adjusted, function_p_holm=adjusted,
                            level=0.05)
    same, other_order = measurement(0.4, 0.6), measurement(0.3, 0.2)
    row = v.row_topology(same, other_order, sweep)
    assert row.verdict == v.REGIME and "from perturbation 1 on" in row.regime
    # 0.01 raw is 0.04 after Holm over four tests: below the level, so the claim holds
    assert v.row_topology(measurement(0.01, 0.3), other_order, sweep).verdict == v.HOLDS
    # 0.02 raw is 0.08 after Holm: not below the level
    flat = SimpleNamespace(perturbations=sweep.perturbations, weight_p_holm=np.full((2, 2), 0.5),
                           function_p_holm=np.full((2, 2), 0.5), level=0.05)
    assert v.row_topology(measurement(0.02, 0.3), other_order, flat).verdict == v.UNRESOLVED


def test_row_reproducibility():
    result = SimpleNamespace(variants="re-run|float64", steps=np.array([0, 10, 20]),
                             bitwise_identical=np.array([True, False]), first_difference_step=np.array([-1, 3]))
    result.names = result.variants.split("|")
    assert v.row_reproducibility(result).verdict == v.FAILS
    result.bitwise_identical = np.array([False, False])
    assert v.row_reproducibility(result).verdict == v.HOLDS


def _settings(batch_round_trip: float, passes: bool) -> tuple[SimpleNamespace, SimpleNamespace]:
    names = ("none", "batch", "group", "frozen_batch")
    round_trip = np.full((2, 4), 1e-9)
    round_trip[:, 1] = batch_round_trip
    settings = SimpleNamespace(settings=names, dts=np.array([0.1, 0.01]), round_trip=round_trip,
                               omega=np.full((2, 4), 1e-12), shadow_drift=np.full((2, 4, 2, 3), 1e-3),
                               passes=np.full((2, 4), passes))
    config = SimpleNamespace(round_trip_tolerance=1e-6, omega_tolerance=1e-8, energy_threshold=0.01)
    return settings, config


def test_rows_of_the_probe_findings():
    settings, config = _settings(1e-3, True)
    assert v.row_probes_pass(settings, config).verdict == v.HOLDS
    assert v.row_batchnorm_fails(settings, config).verdict == v.HOLDS
    settings, config = _settings(1e-9, False)
    assert v.row_probes_pass(settings, config).verdict == v.FAILS
    assert v.row_batchnorm_fails(settings, config).verdict == v.FAILS
    assert v.row_dose_response(SimpleNamespace(probe_spread=1e-6)).verdict == v.FAILS
    assert v.row_dose_response(SimpleNamespace(probe_spread=0.5)).verdict == v.HOLDS
    cnn = SimpleNamespace(slope=0.5, slopes=np.array([0.49, 0.51]))
    assert v.row_mass_scaling(cnn).verdict == v.HOLDS
    assert v.row_mass_scaling(SimpleNamespace(slope=0.8, slopes=np.array([0.7, 0.9]))).verdict == v.FAILS
    assert v.row_mass_scaling(SimpleNamespace(slope=np.nan, slopes=np.array([np.nan, np.nan]))).verdict == v.UNRESOLVED
    assert v.row_deeper_deviate(cnn, SimpleNamespace(slope=0.5, slopes=np.array([0.45, 0.55]))).verdict == v.FAILS
    assert v.row_deeper_deviate(cnn, SimpleNamespace(slope=0.8, slopes=np.array([0.7, 0.9]))).verdict == v.HOLDS


def _training(null_end, predicted_null=10, participation=(5.0, 6.0, 40.0)):
    seeds = len(null_end)
    return SimpleNamespace(null_dimension=np.c_[np.zeros(seeds), null_end], predicted_null=predicted_null,
                           explained_null_data=np.c_[np.zeros(seeds), 0.8 * np.asarray(null_end)],
                           participation=np.full((seeds, 2), participation[0]) + np.arange(seeds)[:, None] * 0.1,
                           entropy_rank=np.full((seeds, 2), participation[1]),
                           mackay=np.full((seeds, 2), participation[2]), architecture="64–16–10",
                           participation_mean=np.array([3.0, 5.0]), participation_interval=np.array([[2.0, 4.0], [4.0, 6.0]]))


def test_rows_of_the_fisher_claims():
    check = SimpleNamespace(predicted=np.array([10, 20, -1]), measured=np.array([10, 20, 3]))
    training = _training(np.array([100.0, 110.0, 105.0]))
    assert v.row_degenerate(training).verdict == v.HOLDS
    assert v.row_degenerate(_training(np.zeros(3))).verdict == v.FAILS
    assert v.row_gauge(check, training).verdict == v.REGIME  # symmetries ≈ 10% of the null space
    assert v.row_gauge(check, _training(np.array([10.0, 11.0, 10.5]))).verdict == v.HOLDS
    broken = SimpleNamespace(predicted=np.array([10]), measured=np.array([12]))
    assert v.row_gauge(broken, training).verdict == v.FAILS
    assert v.row_gauge(broken, _training(np.array([10.0, 11.0, 10.5]))).verdict == v.REGIME
    # fewer null directions than exact symmetries: the count is broken, not the claim
    assert v.row_gauge(check, _training(np.array([5.0, 6.0, 7.0]))).verdict == v.UNRESOLVED
    # one finite seed gives no interval: not resolved, never a verdict from a point estimate
    assert v.row_gauge(check, _training(np.array([10.5, np.nan, np.nan]))).verdict == v.REGIME  # holds at init only
    assert np.isnan(v.row_gauge(check, _training(np.array([10.5, np.nan, np.nan]))).low)
    # a count per seed: seeds are repetitions; a diverged (NaN) seed is left out
    assert v.row_degenerate(_training(np.array([0.0, 5.0, 6.0]))).verdict == v.UNRESOLVED
    assert v.row_degenerate(_training(np.array([np.nan, 5.0, 6.0]))).verdict == v.HOLDS
    assert v.row_degenerate(_training(np.array([np.nan, np.nan, 6.0]))).verdict == v.UNRESOLVED
    planted = SimpleNamespace(planted_count=18, planted_tails=np.array([1e-6, 1e-2]),
                              planted_participation=np.array([18.0, 19.6]), planted_entropy=np.array([18.0, 22.9]),
                              planted_mackay=np.array([18.1, 91.6]))
    row = v.row_effective_rank(planted)
    assert row.verdict == v.NOT_TESTABLE and row.regime.startswith("participation ratio recovers")
    assert row.value == pytest.approx(1.6 / 18)
    assert v.row_thin_subset(training).verdict == v.NOT_TESTABLE


def test_rows_of_the_dna_claims():
    minilm = SimpleNamespace(psnr_siren_seeds=np.array([30.0, 31.0, 30.5]), ratio=22.0, r2_siren_seeds=np.array(
        [0.300, 0.301, 0.299]), r2_permuted=0.30, r2_permuted_seeds=np.full(3, 0.30), entropy_trained=1.2,
        entropy_init=1.0, entropy_trained_se=0.01, entropy_init_se=0.01)
    assert v.row_siren_psnr(minilm, 40.0, 22.0).verdict == v.FAILS
    assert v.row_siren_psnr(SimpleNamespace(**{**vars(minilm), "ratio": 10.0}), 40.0, 22.0).verdict == v.NOT_TESTABLE
    high = SimpleNamespace(**{**vars(minilm), "psnr_siren_seeds": np.array([45.0, 46.0, 45.5])})
    assert v.row_siren_psnr(high, 40.0, 22.0).verdict == v.HOLDS
    assert v.row_manifold(minilm).verdict == v.FAILS  # the excess is bounded below the margin
    wide = SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": np.array([0.2, 0.45, 0.3])})
    assert v.row_manifold(wide).verdict == v.UNRESOLVED
    better = SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": np.array([0.6, 0.62, 0.61])})
    assert v.row_manifold(better).verdict == v.HOLDS
    se = dict(entropy_trained_se=0.01, entropy_init_se=0.01)
    digits = SimpleNamespace(entropy_trained=0.5, entropy_init=1.0, **se)
    assert v.row_weight_entropy(minilm, digits).verdict == v.REGIME
    assert v.row_weight_entropy(minilm, SimpleNamespace(entropy_trained=2.0, entropy_init=1.0, **se)).verdict == v.FAILS
    within = SimpleNamespace(entropy_trained=1.01, entropy_init=1.0, **se)  # gap inside 2 standard errors
    assert v.row_weight_entropy(within, within).verdict == v.UNRESOLVED


def test_row_convergence_ratio():
    # the peer's ratio says "stable" while the measured exponent is positive: the claim fails
    divergence = SimpleNamespace(peer_convergence_ratio=np.array([0.8, 0.9, 0.85]),
                                 exponent_interval=np.array([0.1, 0.2]), fitted_exponent=np.array([0.1, 0.2, 0.15]),
                                 peer_lyapunov=np.array([0.1, 0.2, 0.15]))
    assert v.row_convergence_ratio(divergence).verdict == v.FAILS
    divergence.exponent_interval = np.array([-0.2, -0.1])
    divergence.fitted_exponent = divergence.peer_lyapunov = np.array([-0.1, -0.2, -0.15])
    assert v.row_convergence_ratio(divergence).verdict == v.HOLDS


def test_the_page_glues_every_row_and_links_to_existing_chapters():
    page = (ROOT / "book" / "07_verdicts.md").read_text()
    assert "verdicts.run(config)" in page and "verdict_table_html" in page
    for link in re.findall(r"\{doc\}`([^`]+)`", page):
        assert (ROOT / "book" / f"{link}.md").exists(), link
    source = Path(v.__file__).read_text()
    for page_name in set(re.findall(r'"(\d\d_\w+)\.html#', source)):
        assert (ROOT / "book" / f"{page_name}.md").exists(), page_name
