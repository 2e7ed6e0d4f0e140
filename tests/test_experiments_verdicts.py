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

from html import escape as html_escape

from uniq_core import plots
from uniq_core.experiments import verdicts as v

ROOT = Path(__file__).resolve().parents[1]
NAN = float("nan")


# ------------------------------------------------------------------------------------------ decision rules
# The rules themselves are calibrated in tests/test_rules.py; here, that the rows use them.


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
    from uniq_core.experiments import dna

    text = {name: (ROOT / "book" / f"{name}.md").read_text() for name in ("01_lyapunov", "05_fisher", "06_dna")}
    assert "chapter.DivergenceConfig.for_profile()" in text["01_lyapunov"]
    assert "chapter.RegimeConfig.for_profile()" in text["01_lyapunov"]
    assert "chapter.FisherConfig.for_profile()" in text["05_fisher"]
    assert "chapter.TeacherStudentConfig.for_profile()" in text["05_fisher"]
    assert "chapter.DIGITS" in text["06_dna"] and v.dna_configs("quick")["digits"] is dna.DIGITS


# ------------------------------------------------------------------------------------- one row per claim


def _normalised(text: str) -> str:
    return " ".join(text.replace("*", "").split())


def test_every_quote_is_verbatim_from_its_write_up():
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("the write-ups are not beside this checkout")
    for claim in v.CLAIM_REGISTRY:
        text = _normalised((seeds / claim.seed).read_text(encoding="utf-8"))
        assert _normalised(claim.quote) in text, claim.key
        assert claim.operationalisation and claim.scope and claim.link, claim.key


def test_every_claim_of_the_write_ups_has_a_row_function():
    keys = [key for key, _, _ in v.CLAIMS]
    assert len(keys) == len(set(keys)) == 21
    for key in keys:
        assert callable(getattr(v, f"row_{key}")), key
    sources = {source for _, source, _ in v.CLAIMS}
    assert sources == {"uniq-nets", "geometric-training-invariants", "unified singular information geometry",
                       "DNA", "deep-lyapunov"}


def _row(key: str, verdict: str = v.HOLDS) -> v.Row:
    return v.Row(key, verdict, "a number", 1.0, 0.5, 1.5, "95% t-interval over seeds", "everywhere", "x.html#y", "z",
                 "interval_rule", "claim: above 0", "same word", 5)


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
    assert v.number_text(2.0, NAN, NAN) == "2"
    # an interval in brackets; a range in words, saying which end the number is where it is one
    assert v.number_text(2.0, 1.0, 3.0, "range over 8 seeds") == "2 (range 1 to 3)"
    assert v.number_text(1.0, 1.0, 3.0, "range over 8 seeds; the smallest decides") == "1 (the smallest; the largest 3)"
    assert v.number_text(3.0, 1.0, 3.0, "range over 8 seeds") == "3 (the largest; the smallest 1)"
    assert "data-label='Verdict'" in html and html.startswith("<div class='verdict-table-wrap'>")
    for quote in result.quotes:
        assert plots.verdict_table_html(result).count(html_escape(str(quote))) == 1


def test_the_page_lists_exactly_the_rules_the_rows_use():
    from uniq_core import rules

    rows = Path(v.__file__).read_text()
    used = set(re.findall(r"rules\.(\w+_rule|robust)\(", rows))
    assert used == set(rules.RULES)
    listed = plots.verdict_rules_html()
    for name in rules.RULES:
        plain = rules.rule_text(name).replace("**", "").replace("``", "")
        assert plain[:40] in re.sub(r"<[^>]+>", "", listed)
    assert "**" not in listed and "``" not in listed


# ------------------------------------------------------------------------------- row functions on synthetic


def _regime(per_seed: np.ndarray) -> SimpleNamespace:
    """A regime map (seeds × step sizes × perturbations) with the chapter's fields."""
    return SimpleNamespace(lrs=np.geomspace(0.1, 3.0, per_seed.shape[1]), exponent=per_seed, exponent_mean=per_seed.mean(axis=0),
                           diverged_fraction=np.zeros(per_seed.shape[1:]))


def _divergence(exponents) -> SimpleNamespace:
    exponents = np.asarray(exponents, dtype=float)
    return SimpleNamespace(fitted_exponent=exponents, exponent_mean=float(exponents.mean()))


def test_row_lyapunov_regime_needs_settings_that_fail_not_only_unresolved_ones():
    rng = np.random.default_rng(0)
    positive = _divergence(0.2 + rng.normal(0.0, 0.01, 6))
    per_seed = np.empty((6, 2, 2))
    per_seed[:, 0] = -0.3 + rng.normal(0.0, 0.01, (6, 2))  # small step: shrinking
    per_seed[:, 1] = 0.3 + rng.normal(0.0, 0.01, (6, 2))  # large step: clear growth
    row = v.row_lyapunov(positive, _regime(per_seed))
    assert row.verdict == v.REGIME and "at step sizes 3 to 3" in row.regime
    per_seed[:, 0] = rng.normal(0.0, 0.05, (6, 2))  # small step: no growth either way
    assert v.row_lyapunov(positive, _regime(per_seed)).verdict == v.HOLDS_WHERE_RESOLVED
    assert v.row_lyapunov(positive, _regime(0.3 + rng.normal(0.0, 0.01, (6, 2, 2)))).verdict == v.HOLDS
    negative = _divergence(-0.2 + rng.normal(0.0, 0.01, 6))
    assert v.row_lyapunov(negative, _regime(-0.3 + rng.normal(0.0, 0.01, (6, 2, 2)))).verdict == v.FAILS
    row = v.row_lyapunov(positive, _regime(0.3 + rng.normal(0.0, 0.01, (3, 2, 2))))  # a map of 3 seeds decides nothing
    assert row.verdict == v.HOLDS and "fewer than 5" in row.regime
    assert v.row_lyapunov(_divergence([0.2, 0.3, 0.25]), _regime(per_seed)).verdict != v.HOLDS  # 3 seeds
    assert row.rule == "interval_rule" and "confidence 0.95" in row.robustness
    growing_weights = SimpleNamespace(**{**vars(positive), "relative_exponent": rng.normal(0.0, 0.01, 6)})
    row = v.row_lyapunov(growing_weights, _regime(0.3 + rng.normal(0.0, 0.01, (3, 2, 2))))
    assert row.verdict == "depends on spread" and "relative to the weights' norm" in row.robustness


def test_row_lyapunov_corrects_the_map_for_its_number_of_cells():
    """Null control: no growth anywhere; over repetitions, the combined word rarely claims a sign ("depends on
    confidence" is no claim: it says the data sit at the edge of the level)."""
    rng = np.random.default_rng(1)
    words = [v.row_lyapunov(_divergence(rng.normal(0, 0.1, 6)), _regime(rng.normal(0.0, 0.05, (6, 5, 3)))).verdict
             for _ in range(200)]
    claims = (v.HOLDS, v.FAILS, v.REGIME, v.HOLDS_WHERE_RESOLVED, v.FAILS_WHERE_RESOLVED)
    assert np.mean([w in claims for w in words]) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 200)


def _stationary(per_seed, first=None, second=None, null_holds=True):
    per_seed = np.asarray(per_seed, dtype=float)
    return SimpleNamespace(sgd_estimate=per_seed, sgd_first_half=per_seed if first is None else np.asarray(first),
                           sgd_second_half=per_seed if second is None else np.asarray(second),
                           sgd_pooled=float(per_seed.mean()), langevin_null_holds=null_holds)


def test_the_stationary_entropy_decision_is_over_seeds_on_both_halves_and_needs_its_null_control():
    positive = 1e-3 + 1e-5 * np.arange(5)
    decide = v.stationary_entropy_decision
    assert decide(_stationary(positive)).word == v.HOLDS and decide(_stationary(positive)).n_units == 5
    assert decide(_stationary(positive, null_holds=False)).word == v.UNRESOLVED
    assert decide(_stationary(positive[:3])).word == v.UNRESOLVED  # three seeds: values only
    unsettled = decide(_stationary(positive, second=1e-3 * np.array([1.0, -1.0, 0.5, -0.5, 0.1])))
    assert unsettled.word == "depends on segment"  # the second half alone does not resolve it
    row = v.row_entropy(_stationary(positive))  # without the learning Result, learning is not measured
    assert row.verdict == v.NOT_TESTABLE and "at a stationary minimum: holds" in row.regime


def test_the_learning_row_is_not_testable_as_worded_and_shows_the_models_sizes():
    from uniq_core.experiments import entropy

    seeds = 6
    total = np.full((seeds, 2), 100.0)
    housekeeping = np.column_stack([np.linspace(1.0, 2.0, seeds), np.linspace(3.0, 4.0, seeds)])
    learning = SimpleNamespace(
        subspaces=np.array([8, 16]), sgd_total=total, sgd_excess=total - housekeeping, sgd_housekeeping=housekeeping,
        langevin_total=total, langevin_excess=total, langevin_housekeeping=np.zeros((seeds, 2)),
        sgd_stationary_rate=np.full((seeds, 2), 1e-3), displacement_kl=total - housekeeping,
        sgd_horizon=np.full((seeds, 2), 5e4), sgd_housekeeping_early=housekeeping / 10,
        sgd_housekeeping_initial_noise=housekeeping * 4, sgd_housekeeping_initial_spread=housekeeping * 1.1,
        model_deviation=np.full((seeds, 2), 0.8), null_deviation=np.full((seeds, 2), 0.2))
    config = entropy.LearningConfig(subspace=16, subspaces=(8, 16))
    row = v.row_entropy(_stationary(1e-3 + 1e-5 * np.arange(5)), None, None, learning, config)
    # six seeds give an interval for the size shown, but no outcome could make the claim fail
    assert row.verdict == v.NOT_TESTABLE and row.rule == "untestable_rule" and row.n_units == seeds
    assert row.low < row.value < row.high and abs(row.value - housekeeping[:, 1].mean()) < 1e-12
    assert "cannot fail as worded" in row.interval_kind and "+∞" in row.interval_kind
    # the size shown is not robust, and the row says how it moves with each choice
    assert "the word cannot change" in row.robustness and "8 directions 1.5" in row.robustness
    assert "at the initialisation 14" in row.robustness
    assert "on 6 of 6 seeds" in row.regime and "all excess" in row.regime and "a model, not the run" in row.regime
    assert "at a stationary minimum: holds" in row.regime and "name a size" in row.change


def test_row_topology_is_not_testable_and_names_why_no_comparison_of_the_runs_stands_in(monkeypatch):
    from uniq_core.experiments import topology

    monkeypatch.setattr(topology, "run_diagrams", lambda result, space: [{}] * 8)
    row = v.row_topology(SimpleNamespace(level=0.05))
    assert row.verdict == v.NOT_TESTABLE and row.rule == "untestable_rule" and "contractible" in row.regime
    assert np.isnan(row.value) and "7 perturbed runs" in row.regime and "independent" in row.interval_kind


def test_row_reproducibility_looks_for_a_run_computing_the_reference_function():
    result = SimpleNamespace(variants="re-run|float64", steps=np.array([0, 10, 20]),
                             bitwise_identical=np.array([True, False]), first_difference_step=np.array([-1, 3]))
    result.names = result.variants.split("|")
    disagreement = np.zeros((8, 8))
    disagreement[0, 1:] = [0.002, 0.0, 0.0, 0.002, 0.0, 0.002, 0.0]
    runs = SimpleNamespace(disagreement=disagreement, output_difference=np.r_[0.0, np.full(7, 0.05)])
    row = v.row_reproducibility(runs, result)
    # no run equals the reference in its outputs; four equal it in every argmax prediction: the notion decides
    assert row.verdict == "depends on same_function" and row.rule == "counterexample_rule"
    assert "bit-identical" in row.regime and "argmax predictions" in row.robustness
    assert row.value == pytest.approx(0.05) and "4 of 7 on none" in row.regime
    apart = np.zeros((8, 8))
    apart[0, 1:] = 0.002
    distinct = SimpleNamespace(disagreement=apart, output_difference=runs.output_difference)
    assert v.row_reproducibility(distinct).verdict == v.UNRESOLVED  # no counterexample either way: not proven
    equal = apart.copy()
    equal[0, 1] = 0.0  # run 1 computes the reference's function: same outputs, same predictions
    same = SimpleNamespace(disagreement=equal, output_difference=np.r_[0.0, 1e-9, np.full(6, 0.05)])
    assert v.row_reproducibility(same).verdict == v.FAILS  # one run computes the reference's function
    flips = v.row_reproducibility(distinct, independent=same)
    assert flips.verdict == "depends on order" and "own data orders" in flips.robustness
    assert "bit" not in v.row_reproducibility(runs).regime


def _settings(batch_round_trip: float, batch_omega: float, energy: float, *, seeds: int = 3,
              batch_negative: float = 1.0) -> tuple[SimpleNamespace, SimpleNamespace]:
    names = ("group", "batch", "frozen_batch", "batch_frozen_after")
    shape = (2, 4, 3, seeds)  # networks × settings × dts × seeds
    round_trip, omega = np.full(shape, 1e-9), np.full(shape, 1e-12)
    round_trip[:, 1], omega[:, 1] = batch_round_trip, batch_omega
    negative = 1.0 + 0.02 * np.random.default_rng(0).standard_normal(shape)
    negative[:, 1] *= batch_negative
    settings = SimpleNamespace(networks=np.array(["simple_cnn", "resnet"]), settings=names,
                               dts=np.array([0.1, 0.05, 0.01]), round_trip=round_trip, omega=omega,
                               negative_dt=negative, energy_drift=np.full(shape, energy),
                               shadow_drift=np.full(shape, 1e-3))
    config = SimpleNamespace(round_trip_tolerance=1e-6, omega_tolerance=1e-8, energy_threshold=0.01, beta=0.9)
    return settings, config


def test_finding_b_is_decided_by_the_write_ups_reversibility_probe_against_the_other_settings():
    settings, config = _settings(1e-14, 1e-17, 1e-3, seeds=8, batch_negative=2.0)
    worse = v.row_batchnorm_fails(settings, config)
    assert worse.verdict == v.HOLDS and worse.value == pytest.approx(2.0, rel=0.05)
    assert "rounding" in worse.regime  # the Ω half is reported, not used
    assert v.row_batchnorm_fails(*_settings(1e-14, 1e-17, 1e-3, seeds=8)).verdict == v.FAILS  # the same ΔNEGdt
    assert v.row_batchnorm_fails(*_settings(1e-14, 1e-17, 1e-3, seeds=3, batch_negative=2.0)).verdict == v.UNRESOLVED
    one = _settings(1e-14, 1e-17, 1e-3, seeds=8, batch_negative=2.0)[0]
    one.negative_dt[1, 1] = one.negative_dt[1, 0]  # worse on the SimpleCNN only: a regime
    assert v.row_batchnorm_fails(one, config).verdict == v.REGIME
    between = _settings(1e-14, 1e-17, 1e-3, seeds=8, batch_negative=1.3)[0]  # above 1.1 and below 1.5
    assert v.row_batchnorm_fails(between, config).verdict.startswith("depends on margin")
    # the positive control: a force that reads the running statistics must return worse than frozen BatchNorm
    frozen = settings.negative_dt[:1, 2:3]
    powerful = SimpleNamespace(networks=np.array(["simple_cnn"]), negative_dt=3.0 * frozen)
    assert v.row_batchnorm_fails(settings, config, powerful).verdict == v.HOLDS
    np.testing.assert_allclose(v.control_excess(settings, powerful), np.log(3.0))
    blind = SimpleNamespace(networks=np.array(["simple_cnn"]), negative_dt=1.02 * frozen)
    row = v.row_batchnorm_fails(settings, config, blind)
    assert row.verdict == v.UNRESOLVED and row.rule == "instrument_rule" and "no power" in row.interval_kind


def test_rows_of_the_probe_findings():
    settings, config = _settings(1e-3, 1e-3, 1e-3)
    assert v.row_probes_pass(settings, config).verdict == v.HOLDS
    settings, config = _settings(1e-3, 1e-12, 0.05)  # the write-up's energy probe above threshold everywhere
    assert v.row_probes_pass(settings, config).verdict == v.FAILS
    settings.energy_drift[1, 2] = 1e-3  # one network × setting cell below: a regime
    assert v.row_probes_pass(settings, config).verdict == v.REGIME
    settings, config = _settings(1e-3, 1e-12, 0.015)  # between the threshold and twice it
    assert v.row_probes_pass(settings, config).verdict.startswith("depends on threshold")
    assert v.row_dose_response(SimpleNamespace(probe_spread=0.0)).rule == "instrument_rule"  # cannot respond
    assert v.row_dose_response(SimpleNamespace(probe_spread=1e-6)).verdict == v.FAILS
    assert v.row_dose_response(SimpleNamespace(probe_spread=0.5)).verdict == v.HOLDS
    assert v.row_dose_response(SimpleNamespace(probe_spread=0.15)).verdict == "depends on threshold"


def test_rows_of_the_mass_scaling():
    rng = np.random.default_rng(2)
    half = SimpleNamespace(slopes=0.5 + rng.normal(0, 0.01, 8))
    assert v.row_mass_scaling(half).verdict == v.HOLDS
    assert v.row_mass_scaling(SimpleNamespace(slopes=0.52 + 0.001 * np.arange(-2, 3))).verdict == v.HOLDS  # within 0.1
    assert v.row_mass_scaling(SimpleNamespace(slopes=0.8 + rng.normal(0, 0.01, 8))).verdict == v.FAILS
    assert v.row_mass_scaling(SimpleNamespace(slopes=np.array([0.49, 0.51]))).verdict == v.UNRESOLVED  # 2 seeds
    assert v.row_mass_scaling(SimpleNamespace(slopes=np.full(6, np.nan))).verdict == v.UNRESOLVED
    assert v.row_deeper_deviate(half, SimpleNamespace(slopes=0.5 + rng.normal(0, 0.01, 8))).verdict == v.FAILS
    assert v.row_deeper_deviate(half, SimpleNamespace(slopes=half.slopes + 0.02)).verdict == v.FAILS  # inside the margin
    assert v.row_deeper_deviate(half, SimpleNamespace(slopes=0.9 + rng.normal(0, 0.01, 8))).verdict == v.HOLDS
    two = SimpleNamespace(slopes=np.array([0.5, 0.52]))
    assert v.row_deeper_deviate(two, SimpleNamespace(slopes=np.array([1.0, 1.1]))).verdict == v.UNRESOLVED


def _graded(by: np.ndarray) -> SimpleNamespace:
    """A mass Result measured at thresholds (0.003, 0.01, 0.03) × horizon factors (0.5, 1) × 8 seeds."""
    return SimpleNamespace(thresholds=np.array([0.003, 0.01, 0.03]), horizon_factors=np.array([0.5, 1.0]),
                           masses=np.array([0.25, 0.5, 1.0, 2.0]), slopes_by=by, slopes=by[1, 1],
                           predicted_slopes=np.ones(8))


def test_mass_rows_are_recomputed_at_every_threshold_and_horizon_measured():
    rng = np.random.default_rng(3)
    one = np.ones((3, 2, 8)) + rng.normal(0, 0.01, (3, 2, 8))
    assert v.row_mass_scaling(_graded(one)).verdict == v.FAILS  # exponent 1 everywhere: the claim's 1/2 fails
    assert "predicts 1" in v.row_mass_scaling(_graded(one)).regime and "identity" in v.row_mass_scaling(_graded(one)).regime
    short = one.copy()
    short[:, 0] = 0.5 + rng.normal(0, 0.01, (3, 8))  # 1/2 at the shorter horizon only
    assert v.row_mass_scaling(_graded(short)).verdict == "depends on threshold and horizon"  # every pair is tried
    assert v.row_deeper_deviate(_graded(one), _graded(one + 0.01)).verdict == v.FAILS
    deeper = one.copy()
    deeper[0] += 0.5  # the ResNet deviates only at the lowest threshold
    assert v.row_deeper_deviate(_graded(one), _graded(deeper)).verdict == "depends on threshold and horizon"


def _training(null_end, predicted_null=10):
    seeds = len(null_end)
    null_end = np.asarray(null_end, dtype=float)
    return SimpleNamespace(null_dimension=np.c_[np.zeros(seeds), null_end], predicted_null=predicted_null,
                           explained_null_data=np.c_[np.zeros(seeds), 0.8 * null_end], architecture="64–16–10",
                           rtols=np.array([1e-12, 1e-9, 1e-6]),
                           null_by_rtol=np.stack([np.zeros((seeds, 3)), np.c_[null_end, null_end, 2 * null_end]], 1))


def test_rows_of_the_fisher_claims():
    check = SimpleNamespace(predicted=np.array([10, 20, -1]), measured=np.array([10, 20, 3]))
    training = _training(np.array([100.0, 110.0, 105.0, 101.0, 108.0]))
    degenerate = v.row_degenerate(training)
    assert degenerate.verdict == v.HOLDS and "by construction" in degenerate.regime
    assert "tolerance" in degenerate.robustness
    assert v.row_degenerate(_training(np.zeros(5), predicted_null=0)).verdict == v.FAILS
    assert v.row_degenerate(_training(np.array([100.0, 110.0, 105.0]))).verdict == v.HOLDS  # a count on every seed
    assert v.row_degenerate(_training(np.array([0.0, 110.0, 105.0]), predicted_null=0)).verdict == v.FAILS
    assert v.row_gauge(check, training).verdict == v.FAILS  # symmetries ≈ 10% of the null space
    assert v.row_gauge(check, _training(np.array([10.0, 11.0, 10.5, 10.2, 10.8]))).verdict == v.HOLDS
    broken = SimpleNamespace(predicted=np.array([10]), measured=np.array([12]))
    row = v.row_gauge(broken, training)  # the known answer at initialisation fails: the instrument, not the claim
    assert row.verdict == v.UNRESOLVED and row.rule == "instrument_rule"
    # fewer null directions than exact symmetries: the count is broken, not the claim
    assert v.row_gauge(check, _training(np.array([5.0, 6.0, 7.0, 6.0, 5.0]))).verdict == v.UNRESOLVED
    assert v.row_gauge(check, _training(np.array([10.5, 10.0, 11.0]))).verdict == v.UNRESOLVED  # three seeds


def test_row_effective_rank_asks_whether_exciting_directions_the_task_ignores_moves_the_count():
    from uniq_core.experiments import fisher as fisher_chapter

    def teacher(isotropic, aligned, random=None):
        ranks = np.array([[isotropic, aligned, isotropic if random is None else random]], dtype=float) * 6
        shape = ranks.shape
        return fisher_chapter.TeacherStudentResult(ks=np.array([2]), relevant_counts=np.array([6]), data_count=34,
                                                   participation=0.6 * ranks, entropy=0.7 * ranks, mackay=ranks,
                                                   rank=np.full(shape, 34.0), agreement=np.ones(shape))
    moved = v.row_effective_rank(teacher([5.6, 5.7, 5.6, 5.65, 5.62], [1.0, 0.99, 0.98, 1.0, 0.99]))
    assert moved.verdict == v.FAILS and moved.rule == "value_rule" and "positive control" in moved.regime
    assert "2 of 16 input directions" in moved.regime
    still = v.row_effective_rank(teacher([1.0, 1.01, 0.99, 1.0, 1.0], [1.0, 0.99, 1.01, 1.0, 1.0]))
    assert still.verdict == v.HOLDS
    assert v.row_effective_rank(teacher([5.6, 5.7], [1.0, 0.99])).verdict == v.UNRESOLVED  # two teachers
    blind = v.row_effective_rank(teacher([5.6, 5.7, 5.6, 5.65, 5.62], [0.6, 0.61, 0.58, 0.6, 0.62]))
    assert blind.verdict == v.UNRESOLVED and blind.rule == "instrument_rule"  # the control does not count


def test_a_teacher_student_fisher_counts_what_the_data_excite():
    from uniq_core.experiments import fisher as fisher_chapter

    config = fisher_chapter.TeacherStudentConfig(d=8, ks=(2,), n_train=256, probe_size=128, steps=200, n_seeds=2)
    result = fisher_chapter.run_teacher_student(config, progress=False, use_cache=False)
    assert (int(result.relevant_counts[0]), result.data_count) == (2 * 3, 2 * 9)
    assert np.all(result.rank == result.data_count)  # the softmax Fisher's rank: (K − 1)(d + 1), for any inputs
    # aligned inputs (the positive control): MacKay's count is the task-relevant count
    np.testing.assert_allclose(result.ratio("mackay", "aligned"), 1.0, atol=0.05)
    # isotropic inputs: the label-free count of excited directions, (d + 1)/(k + 1) times the aligned one,
    # and the same with random labels, which carry no task
    ratio = result.ratio("mackay", "isotropic") / result.ratio("mackay", "aligned")
    np.testing.assert_allclose(ratio, 9 / 3, rtol=0.1)
    np.testing.assert_allclose(result.ratio("mackay", "random labels"), result.ratio("mackay", "isotropic"), rtol=0.1)
    assert np.all(result.agreement[0, :2] > 0.7)
    with pytest.raises(ValueError, match="condition="):
        result.ratio("mackay", "sideways")
    with pytest.raises(ValueError, match="k=5 was not run"):
        result.ratio("mackay", "isotropic", 5)


def test_row_thin_subset_compares_with_a_random_walk_of_the_same_length():
    def divergence(dimensionality):
        return SimpleNamespace(epochs=np.arange(20), effective_dimensionality=np.asarray(dimensionality, float),
                               n_parameters=1000)
    assert v.row_thin_subset(divergence([1.05, 1.1, 1.08, 1.09, 1.07, 1.1])).verdict == v.HOLDS
    assert v.row_thin_subset(divergence([3.0, 3.2, 3.1, 3.3, 3.0])).verdict == v.FAILS
    assert v.row_thin_subset(divergence([1.05, 1.1, 1.08])).verdict == v.UNRESOLVED


def test_rows_of_the_dna_claims():
    five = np.ones(5)
    minilm = SimpleNamespace(psnr_siren_seeds=np.array([30.0, 31.0, 30.5, 30.2, 30.8]), ratio=22.0,
                             r2_siren_seeds=0.3 + 0.001 * np.arange(-2, 3), r2_permuted_seeds=0.3 * five,
                             entropy_trained=1.2, entropy_init=1.0, entropy_trained_se=0.01, entropy_init_se=0.01,
                             n_weights=10_000, psnr_constant=23.5, r2_teachers=np.array([0.9999]),
                             converged_teachers=np.array([True]))
    assert v.row_siren_psnr(minilm, 40.0, 22.0).verdict == v.FAILS
    assert v.row_siren_psnr(SimpleNamespace(**{**vars(minilm), "ratio": 10.0}), 40.0, 22.0).verdict == v.NOT_TESTABLE
    high = SimpleNamespace(**{**vars(minilm), "psnr_siren_seeds": 45.0 + 0.2 * np.arange(5)})
    assert v.row_siren_psnr(high, 40.0, 22.0).verdict == v.HOLDS
    three = SimpleNamespace(**{**vars(minilm), "psnr_siren_seeds": np.array([20.0, 20.5, 21.0])})
    assert v.row_siren_psnr(three, 40.0, 22.0).verdict == v.UNRESOLVED  # values shown, no decision
    manifold = v.row_manifold(minilm)
    assert manifold.verdict == v.FAILS and "margin 0.01" in manifold.thresholds  # the margin is on the row
    wide = SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": np.array([0.2, 0.45, 0.3, 0.25, 0.4])})
    assert v.row_manifold(wide).verdict == v.UNRESOLVED
    better = SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": 0.6 + 0.01 * np.arange(5)})
    assert v.row_manifold(better).verdict == v.HOLDS
    from uniq_core.experiments.dna import WeightEntropyResult

    def recipes(shape_change, spread):  # two recipes × two layers × six seeds
        shape = (1, 2, 2, 6)
        trained = 1.24 + np.asarray(shape_change)[None, :, None, None] + 0.01 * (np.arange(6) - 2.5)
        return WeightEntropyResult(inits=np.array(["uniform"]), weight_decays=np.array([0.0, 0.1]),
                                   histogram_trained=trained * np.ones(shape), histogram_init=np.full(shape, 1.24),
                                   spacing_trained=trained * np.ones(shape), spacing_init=np.full(shape, 1.24),
                                   std_trained=np.asarray(spread)[None, :, None, None] * np.ones(shape),
                                   std_init=np.full(shape, 0.1), accuracy=np.ones((1, 2, 6)))

    shown = SimpleNamespace(**{**vars(minilm), "entropy_trained": 1.40, "std_trained": 0.096, "std_init": 0.02})
    wider = v.row_weight_entropy(shown, recipes([0.0, 0.0], [0.2, 0.2]))  # values spread, shape unchanged
    assert wider.verdict == "depends on scale" and wider.n_units == 6 and "×4.8" in wider.regime
    regime = v.row_weight_entropy(shown, recipes([-0.2, 0.2], [0.1, 0.1]))  # lower under one recipe, higher under the other
    assert regime.verdict == v.REGIME and "lower in 2" in regime.interval_kind
    assert v.row_weight_entropy(shown, recipes([-0.2, -0.2], [0.1, 0.1])).verdict == v.HOLDS


def test_rows_of_the_further_dna_claims():
    five = np.ones(5)
    minilm = SimpleNamespace(ratio=22.0, r2_siren_seeds=0.995 + 0.001 * np.arange(-2, 3),
                             psnr_siren_seeds=30.0 + 0.1 * np.arange(5), psnr_multi=37.5, r2_svd=0.5, r2_quantised=0.6,
                             psnr_constant=23.5, r2_teachers=np.array([0.9999]), converged_teachers=np.array([True]))
    assert v.row_siren_r2(minilm, 22.0).verdict == v.HOLDS
    assert v.row_siren_r2(SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": 0.3 * five}), 22.0).verdict == v.FAILS
    # a fitter that cannot fit a SIREN of its own size decides nothing about the weights
    weak = v.row_siren_r2(SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": 0.3 * five,
                                             "r2_teachers": np.array([0.6])}), 22.0)
    assert weak.verdict == v.UNRESOLVED and weak.rule == "instrument_rule" and "0.6" in weak.interval_kind
    assert weak.value == pytest.approx(0.3)  # the row's own number
    # the gate's level is the claim's where that is higher: 0.98 on a known answer does not license a fail at 0.99
    short = v.row_siren_r2(SimpleNamespace(**{**vars(minilm), "r2_siren_seeds": 0.3 * five,
                                              "r2_teachers": np.array([0.98])}), 22.0)
    assert short.verdict == v.UNRESOLVED and "against the 0.99 it must reach" in short.interval_kind
    assert v.row_compressible(minilm).verdict == v.HOLDS
    assert v.row_compressible(SimpleNamespace(**{**vars(minilm), "r2_svd": 0.999})).verdict == v.FAILS
    # the first seed from other starts of its fits: a screen that keeps a word or withdraws it, never gives one
    low = {**vars(minilm), "r2_siren_seeds": 0.1 + 0.001 * np.arange(5), "start_lr": np.array([1e-3, 1e-4, 3e-3]),
           "start_batch": np.array([1024, 1024, 8192]), "r2_starts": np.array([0.1, 0.004, 0.114]),
           "r2_starts_permuted": np.array([0.098, 0.003, 0.11])}
    kept = v.row_siren_r2(SimpleNamespace(**low), 22.0)
    assert kept.verdict == v.FAILS and "from every one of 3 starts on the same side of 0.99" in kept.robustness
    assert "0.004 from step size 0.0001, batch 1024" in kept.regime
    flipped = v.row_siren_r2(SimpleNamespace(**{**low, "r2_starts": np.array([0.1, 0.004, 0.995])}), 22.0)
    assert flipped.verdict == v.UNRESOLVED and "depends on where the fit starts" in flipped.interval_kind
    assert v.row_multiscale(minilm).verdict == v.UNRESOLVED  # one fit: a value, no interval
    assert v.row_multiscale(SimpleNamespace(**{**vars(minilm), "psnr_multi": np.nan})).verdict == v.NOT_TESTABLE
    # paired by seed: gains inside the claimed 5–10 dB hold, gains far below it fail, an unconverged pair waits
    paired = {**vars(minilm), "converged_multi_seeds": np.ones(5, bool), "converged_seeds": np.ones(5, bool)}
    gains = np.array([7.0, 7.4, 7.6, 8.0, 7.5])
    assert v.row_multiscale(SimpleNamespace(**{**paired, "psnr_multi_seeds": minilm.psnr_siren_seeds + gains})
                            ).verdict == v.HOLDS
    small = SimpleNamespace(**{**paired, "psnr_multi_seeds": minilm.psnr_siren_seeds + gains / 20})
    assert v.row_multiscale(small).verdict == v.FAILS and v.row_multiscale(small).n_units == 5
    waiting = SimpleNamespace(**{**vars(small), "converged_multi_seeds": np.array([True] * 4 + [False])})
    assert v.row_multiscale(waiting).verdict == v.UNRESOLVED and v.row_multiscale(waiting).rule == "instrument_rule"
    # the generation row is tested on its own below (held-out rows and their planted control)


def test_row_convergence_ratio():
    # the peer's ratio says "stable" while the exponents are positive: every seed is a counterexample
    divergence = SimpleNamespace(peer_convergence_ratio=np.array([0.8, 0.9, 0.85]),
                                 fitted_exponent=np.array([0.1, 0.2, 0.15]), peer_lyapunov=np.array([0.1, 0.2, 0.15]))
    row = v.row_convergence_ratio(divergence)
    assert row.verdict == v.FAILS and row.rule == "counterexample_rule"
    divergence.fitted_exponent = divergence.peer_lyapunov = np.array([-0.1, -0.2, -0.15])
    assert v.row_convergence_ratio(divergence).verdict == v.UNRESOLVED  # agreement on every seed: not contradicted
    divergence.peer_lyapunov = -divergence.peer_lyapunov  # the peer's own two numbers disagree
    assert v.row_convergence_ratio(divergence).verdict == v.FAILS


def test_the_page_glues_every_row_and_links_to_existing_chapters():
    page = (ROOT / "book" / "07_verdicts.md").read_text()
    assert "verdicts.run(config)" in page and "verdict_table_html" in page
    for link in re.findall(r"\{doc\}`([^`]+)`", page):
        assert (ROOT / "book" / f"{link}.md").exists(), link
    source = Path(v.__file__).read_text()
    for page_name in set(re.findall(r'"(\d\d_\w+)\.html#', source)):
        assert (ROOT / "book" / f"{page_name}.md").exists(), page_name


def test_row_lyapunov_decides_on_the_relative_spread_and_flips_with_a_slowing_rate():
    epochs = np.linspace(0, 10, 41)
    rng = np.random.default_rng(2)
    growing = 0.05 * np.minimum(epochs, 5.0)  # ln(spread / norm) grows over the first half only
    spread = np.exp(np.array([0.03 * epochs + growing + rng.normal(0, 1e-3, epochs.size) for _ in range(6)]))
    norm = np.exp(np.tile(0.03 * epochs, (6, 1)))
    relative = np.array([np.polyfit(epochs, np.log(s / n), 1)[0] for s, n in zip(spread, norm)])
    divergence = SimpleNamespace(fitted_exponent=np.array([np.polyfit(epochs, np.log(s), 1)[0] for s in spread]),
                                 exponent_mean=0.0, relative_exponent=relative, spread=spread, epochs=epochs, norm=norm)
    from uniq_core.experiments.lyapunov import late_relative_exponents

    np.testing.assert_allclose(late_relative_exponents(divergence), 0.0, atol=2e-3)
    row = v.row_lyapunov(divergence, _regime(0.3 + rng.normal(0.0, 0.01, (3, 2, 2))))
    assert row.quantity.startswith("exponent of the replicas' spread relative to the weights' norm")
    assert row.value == pytest.approx(relative.mean()) and "window" in row.verdict


def test_row_lyapunov_decides_on_the_tangents_when_they_are_measured():
    """With the finite-size result at the divergence setting, the deciding rate is the infinitesimal one
    (relative to the weights), and the replicas' finite rate is one of its recomputations."""
    from types import SimpleNamespace

    rng = np.random.default_rng(3)
    epochs = np.linspace(0.0, 10.0, 21)
    seeds = 6
    growth = 0.05 * epochs[None, None, :] + rng.normal(0, 1e-3, (seeds, 2, 21))
    growth[..., 0] = 0.0
    norm = np.exp(0.01 * epochs)[None, :].repeat(seeds, axis=0)
    finite_size = SimpleNamespace(epochs=epochs, tangent_log_growth=growth, norm_path=norm)
    negative = _divergence(list(-0.3 + rng.normal(0.0, 0.01, seeds)))
    row = v.row_lyapunov(negative, _regime(-0.3 + rng.normal(0.0, 0.01, (3, 2, 2))), finite_size=finite_size)
    assert "infinitesimal" in row.quantity
    assert abs(row.value - 0.04) < 2e-3  # 0.05 growth − 0.01 norm growth
    assert row.verdict == v.HOLDS  # steady exponential growth of the tangents, over six seeds
    assert "finite perturbation grows at" in row.regime  # the replicas' rate is reported beside it, not deciding
    from uniq_core.experiments.lyapunov import tangent_exponents

    np.testing.assert_allclose(tangent_exponents(finite_size, relative=False), 0.05, atol=2e-3)
    np.testing.assert_allclose(tangent_exponents(finite_size, window="second half"), 0.04, atol=2e-3)


def test_dna_rows_wait_for_a_converged_fit():
    five = 0.995 + 0.001 * np.arange(-2, 3)
    improving = SimpleNamespace(ratio=22.0, r2_siren_seeds=five, psnr_siren_seeds=45.0 + 0.1 * np.arange(5),
                                r2_permuted_seeds=np.zeros(5), r2_svd=0.5, r2_quantised=0.6,
                                converged_seeds=np.array([True] * 4 + [False]), converged_permuted_seeds=np.ones(5, bool),
                                check_steps_siren=np.array([250, 500, 750, 1000]),
                                r2_running_siren=np.array([0.003, 0.005, 0.008, 0.012]), psnr_constant=23.5,
                                r2_teachers=np.array([0.9999]), converged_teachers=np.array([True]))
    for row in (v.row_manifold(improving), v.row_siren_r2(improving, 22.0), v.row_siren_psnr(improving, 40.0, 22.0),
                v.row_compressible(improving)):
        assert row.verdict == v.UNRESOLVED and row.rule == "instrument_rule" and "still rising" in row.interval_kind
    flat = SimpleNamespace(**{**vars(improving), "converged_seeds": np.ones(5, bool)})
    assert v.row_siren_r2(flat, 22.0).verdict == v.HOLDS and v.row_manifold(flat).verdict == v.HOLDS


def test_row_generate_decides_on_held_out_rows_only_with_converged_fits_and_a_control_that_generates():
    five = np.ones(5, bool)
    generated = SimpleNamespace(r2_heldout_seeds=np.array([0.30, 0.31, 0.29, 0.32, 0.30]), converged_heldout_seeds=five,
                                converged_heldout_smooth=True, r2_heldout_smooth=0.45, heldout_share=0.1,
                                r2_teachers=np.array([0.9999]), converged_teachers=np.array([True]))
    assert v.row_generate(generated).verdict == v.HOLDS
    memorised = SimpleNamespace(**{**vars(generated), "r2_heldout_seeds": np.array([-0.01, -0.02, -0.015, -0.01, -0.02])})
    assert v.row_generate(memorised).verdict == v.FAILS
    powerless = SimpleNamespace(**{**vars(memorised), "r2_heldout_smooth": 0.05})
    row = v.row_generate(powerless)
    assert row.verdict == v.UNRESOLVED and row.rule == "instrument_rule" and "no power" in row.interval_kind
    rising = SimpleNamespace(**{**vars(memorised), "converged_heldout_seeds": np.array([True] * 4 + [False])})
    assert v.row_generate(rising).verdict == v.UNRESOLVED and "still rising" in v.row_generate(rising).interval_kind
