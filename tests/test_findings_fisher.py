"""Chapter 5's ``findings``: every glued name of the chapter, plain values, and words that follow the data."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from uniq_core.experiments import fisher as chapter
from uniq_core.experiments import verdicts

CHAPTER = Path(__file__).resolve().parents[1] / "book" / "05_fisher.md"
SMALL = dict(n_train=64, widths=(4,), epochs=2, batch_size=32, probe_size=20)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Real Results of the four runs at the tiniest Configs, in a private cache (the sweep caches its runs)."""
    configs = {
        "null_check": chapter.NullCheckConfig(architectures=(("relu", (5,)), ("tanh", (6, 5))), n_inputs=100,
                                              planted_dim=12, planted_k=3),
        "training": chapter.FisherConfig(**SMALL, checkpoints=3, n_seeds=2, priors=(1e-4, 1.0, 100.0)),
        "representations": chapter.RepresentationConfig(**{**SMALL, "widths": (12, 12)}, n_seeds=2),
        "teacher": chapter.TeacherStudentConfig(d=6, ks=(2, 1), n_train=128, probe_size=64, steps=50, n_seeds=2),
        "sweep": chapter.FisherSweepConfig(
            base=chapter.FisherConfig(**SMALL, checkpoints=2, n_seeds=1, tracked_seeds=0),
            architectures=(("relu", (3,)), ("tanh", (3,)))),
    }
    runners = {"null_check": chapter.run_null_check, "training": chapter.run_fisher,
               "representations": chapter.run_representations, "sweep": chapter.run_fisher_sweep,
               "teacher": chapter.run_teacher_student}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("UNIQ_CACHE_DIR", str(tmp_path_factory.mktemp("uniq_cache")))
        results = {key: runners[key](config, progress=False, use_cache=False) for key, config in configs.items()}
    return results, configs


def _findings(runs, **replaced):
    """``findings`` with some Results replaced, e.g. ``training=new_training``."""
    results, configs = runs
    return chapter.findings({**results, **replaced}, configs)


def test_every_glued_name_is_found_and_every_value_is_a_plain_number_or_word(runs, glue_names_of):
    said = _findings(runs)
    names = glue_names_of(CHAPTER)
    assert len(names) > 100
    assert names <= set(said), sorted(names - set(said))
    for name, value in said.items():
        assert type(value) in (int, float, str), (name, type(value))


def test_the_verdict_words_are_the_verdict_rows(runs):
    results, _ = runs
    said = _findings(runs)
    check, training = results["null_check"], results["training"]
    assert said["claim_degenerate"] == verdicts.row_degenerate(training).verdict
    assert said["claim_gauge"] == verdicts.row_gauge(check, training).verdict
    assert said["claim_effective_rank"] == verdicts.row_effective_rank(results["teacher"]).verdict
    assert said["pl_tolerance"] == verdicts.PLANTED_TOLERANCE
    assert said["nc_agree"] == said["nc_cases"] == 4


def _seeds(training, nulls_end, **replaced):
    """``training`` with every count per seed tiled to ``len(nulls_end)`` seeds (enough for any verdict rule)
    and those seeds' trained null dimensions set to ``nulls_end``."""
    n = len(nulls_end)
    tiled = {name: np.resize(getattr(training, name), (n, training.null_dimension.shape[1])).astype(float)
             for name in ("null_dimension", "explained_null", "explained_null_data")}
    tiled["null_dimension"][:, -1] = nulls_end
    return dataclasses.replace(training, **tiled, **replaced)


def test_the_gauge_verdict_and_share_flip_when_the_null_space_outgrows_the_symmetries(runs):
    check, training = runs[0]["null_check"], runs[0]["training"]
    symmetries = training.predicted_null
    gauge = _seeds(training, [symmetries] * 6)  # only symmetries are null after training, on every seed
    data = _seeds(training, [4 * symmetries, 5 * symmetries] * 3)  # shares of 1/4 and 1/5
    only, mostly_data = _findings(runs, training=gauge), _findings(runs, training=data)
    assert only["claim_gauge"] == verdicts.row_gauge(check, gauge).verdict
    assert mostly_data["claim_gauge"] == verdicts.row_gauge(check, data).verdict
    assert only["claim_gauge"] != mostly_data["claim_gauge"]
    assert only["fi_symmetric_share"] == pytest.approx(1.0) and mostly_data["fi_symmetric_share"] == pytest.approx(0.225)
    assert only["fi_null_end"] == symmetries and mostly_data["fi_null_end"] == pytest.approx(4.5 * symmetries)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_the_degenerate_verdict_flips_when_no_seed_has_a_null_direction(runs):
    training = runs[0]["training"]
    some, none = _seeds(training, [3, 4, 5, 3, 4, 5]), _seeds(training, [0] * 6)
    degenerate, regular = _findings(runs, training=some), _findings(runs, training=none)
    assert degenerate["claim_degenerate"] == verdicts.row_degenerate(some).verdict
    assert regular["claim_degenerate"] == verdicts.row_degenerate(none).verdict
    assert degenerate["claim_degenerate"] != regular["claim_degenerate"]
    assert (degenerate["fi_null_end"], regular["fi_null_end"]) == (4.0, 0.0)


def test_the_recovering_measures_are_named_only_when_they_stay_within_the_tolerance(runs):
    check = runs[0]["null_check"]
    count = check.planted_count
    exact = np.full(len(check.planted_tails), float(count))
    every = _findings(runs, null_check=dataclasses.replace(
        check, planted_participation=exact, planted_entropy=exact, planted_mackay=exact))
    assert every["pl_recovers"] == "the participation ratio and the entropy rank and MacKay's count"
    off = exact * (1 + 2 * verdicts.PLANTED_TOLERANCE)
    none = _findings(runs, null_check=dataclasses.replace(
        check, planted_participation=off, planted_entropy=off, planted_mackay=off))
    assert none["pl_recovers"] == "none of the three"
    assert none["pl_pr_high"] == pytest.approx(count * (1 + 2 * verdicts.PLANTED_TOLERANCE))


def test_the_participation_trend_follows_its_interval_over_seeds(runs):
    training = runs[0]["training"]
    rising = training.participation.copy()
    rising[:, 0], rising[:, -1] = [10.0, 11.0], [20.0, 22.0]
    up = _findings(runs, training=dataclasses.replace(training, participation=rising))
    assert (up["fi_pr_trend"], up["fi_pr_from"]) == ("raises", "up from")
    down = _findings(runs, training=dataclasses.replace(training, participation=rising[:, ::-1].copy()))
    assert (down["fi_pr_trend"], down["fi_pr_from"]) == ("lowers", "down from")
    mixed = rising.copy()
    mixed[:, -1] = [20.0, 1.0]  # one seed up, one down: the interval spans zero
    flat = _findings(runs, training=dataclasses.replace(training, participation=mixed))
    assert (flat["fi_pr_trend"], flat["fi_pr_from"]) == ("does not change, beyond the spread over seeds,", "against")


def test_the_null_subspace_is_judged_by_its_symmetry_free_part_interval_by_interval(runs):
    training = runs[0]["training"]
    null = training.null_dimension[0, 1:]
    free, symmetric = training.free_angles_moved.copy(), training.symmetry_angles_moved.copy()

    def said(first: float, late: float, generators: float = 10.0):
        free[0, 1:], symmetric[0, 1:] = late * null, generators
        free[0, 1] = first * null[0]
        return _findings(runs, training=dataclasses.replace(training, free_angles_moved=free,
                                                            symmetry_angles_moved=symmetric))
    early = said(0.2, 0.0)
    assert early["nt_moves"] == "turns early in training, then settles" and early["nt_tracked"] == 1
    assert early["nt_free_first_share"] == pytest.approx(0.2) and early["nt_free_late_share"] == 0.0
    assert early["nt_geometry"].startswith("Part of that turning") and early["nt_sym_moved_max"] == 10.0
    assert said(0.01, 0.01)["nt_moves"] == "moves little beyond its symmetry generators"
    assert said(0.2, 0.2)["nt_moves"] == "keeps turning"
    assert said(0.0, 0.0, generators=0.0)["nt_geometry"].startswith("None of that turning")


def test_the_data_limit_binds_only_above_the_symmetries(runs):
    training = runs[0]["training"]
    bound = _findings(runs, training=dataclasses.replace(training, expected_null=training.predicted_null + 1))
    free = _findings(runs, training=dataclasses.replace(training, expected_null=training.predicted_null))
    assert (bound["fi_binds"], free["fi_binds"]) == ("binds", "does not bind")


def test_the_tolerance_words_follow_the_fixed_tolerance_counts(runs):
    training = runs[0]["training"]
    same = np.repeat(training.null_dimension[..., None], len(training.rtols), axis=-1).astype(float)
    steady = _findings(runs, training=dataclasses.replace(training, null_by_rtol=same))
    assert steady["fi_tolerance"] == "does not change"
    assert steady["fi_loose_extra"] == "no trained eigenvalue lies between the tolerances"
    loose = same.copy()
    loose[:, -1, -1] += 3
    changing = _findings(runs, training=dataclasses.replace(training, null_by_rtol=loose))
    assert changing["fi_tolerance"] == "changes" and changing["fi_null_rtol_high"] == steady["fi_null_rtol_high"] + 3
    assert changing["fi_loose_extra"].startswith("trained networks also have 3 small non-zero eigenvalues")


def test_the_remainder_before_training_says_where_the_gap_comes_from(runs):
    training = runs[0]["training"]
    nulls = training.null_dimension.copy()
    nulls[:, 0] = training.explained_null[:, 0]
    none = _findings(runs, training=dataclasses.replace(training, null_dimension=nulls))
    assert none["fi_unexplained_start"] == 0.0 and none["fi_gap_origin"].startswith("none is present")
    nulls[:, 0] += 2
    some = _findings(runs, training=dataclasses.replace(training, null_dimension=nulls))
    assert some["fi_unexplained_start"] == 2.0 and some["fi_gap_origin"].startswith("the gap is present")


def test_the_dying_unit_and_the_representation_words(runs):
    check, representations = runs[0]["null_check"], runs[0]["representations"]
    assert _findings(runs)["nc_inside"] == "stays inside"
    turned = _findings(runs, null_check=dataclasses.replace(check, death_angle=30.0))
    assert turned["nc_inside"] == "does not stay inside" and turned["nc_death_angle"] == 30.0
    said = _findings(runs)
    assert said["re_exact"] == "equals" and said["re_last_rank"] == representations.ceiling == 9
    ranks = representations.rank_end.copy()
    ranks[:, -1] -= 1
    short = _findings(runs, representations=dataclasses.replace(representations, rank_end=ranks))
    assert short["re_exact"] == "differs from" and short["re_redundant"] == pytest.approx(1 - 8 / 12)
