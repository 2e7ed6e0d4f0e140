"""The verdict table: one row per claim of the source write-ups, each decided by a rule on chapter Results.

Every row reads the same Results the chapters show: :func:`source_configs` builds exactly the Configs the
chapters use, and :func:`run` calls the chapters' ``run_*`` functions through the results cache, so in a
book build (chapters execute in order) nothing is recomputed. Each claim has one small row function
(``row_lyapunov(...) -> Row``) that reads the fields it needs and applies one of the decision rules below;
the verdict word is never typed by hand.

Decision rules (one per kind of evidence):

- :func:`interval_verdict`: an interval that excludes the null value in the claimed direction → "holds";
  in the opposite direction → "fails"; containing it → "not resolved".
- :func:`contains_verdict`: a claimed exact value → "holds" if the interval contains it, "fails" if not.
- :func:`regime_verdict`: per-setting verdicts → "holds" if all hold, "holds only in a regime" if some do,
  "fails" if none holds and some fail, else "not resolved".
- permutation tests use chapter 3's own rule (Holm-adjusted p-values below the level); its Configs refuse a
  design whose smallest achievable p-value cannot reach the level; no rejection leaves the claim not resolved.
- :func:`threshold_verdict`: a number judged against a fixed tolerance (the chapter's).
- :func:`count_verdict`: a count per seed → "holds" if above zero on every finite seed, "fails" if zero on
  every one, else (or with fewer than two finite seeds) "not resolved".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from uniq_core import runtime, stats
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number

HOLDS = "holds"
FAILS = "fails"
REGIME = "holds only in a regime"
NOT_TESTABLE = "not testable here"
UNRESOLVED = "not resolved"
VERDICTS = (HOLDS, FAILS, REGIME, NOT_TESTABLE, UNRESOLVED)

#: The claims of the source write-ups, in table order: (key, source, claim as stated).
CLAIMS: tuple[tuple[str, str, str], ...] = (
    ("lyapunov", "uniq-nets", "Training has positive Lyapunov exponents: exponential sensitivity to initial "
     "conditions."),
    ("entropy", "uniq-nets", "Training is irreversible, with strictly positive entropy production."),
    ("topology", "uniq-nets", "Different trajectories occupy distinct topological classes."),
    ("reproducibility", "uniq-nets", "Each trained network is unique with probability one, and exact "
     "reproducibility is impossible."),
    ("probes_pass", "geometric-training-invariants", "GroupNorm and calibrate-then-freeze BatchNorm pass all "
     "three probes at small Δt."),
    ("batchnorm_fails", "geometric-training-invariants", "Train-mode BatchNorm fails reversibility and "
     "Ω-invariance."),
    ("dose_response", "geometric-training-invariants", "BN running-statistics momentum gives a dose-response."),
    ("mass_scaling", "geometric-training-invariants", "dt_zero ∝ √M for SimpleCNN."),
    ("deeper_deviate", "geometric-training-invariants", "Deeper networks deviate from dt_zero ∝ √M."),
    ("degenerate", "unified singular information geometry", "The Fisher–Rao pullback is degenerate."),
    ("gauge", "unified singular information geometry", "Its null directions are the symmetries (gauge "
     "directions)."),
    ("effective_rank", "unified singular information geometry", "The effective rank measures the "
     "task-relevant directions."),
    ("thin_subset", "unified singular information geometry", "Training explores a thin subset."),
    ("siren_psnr", "DNA", "A SIREN reconstructs trained weights at more than 40 dB PSNR with 22× compression."),
    ("manifold", "DNA", "Weights lie on a low-dimensional manifold."),
    ("weight_entropy", "DNA", "Trained weights have lower entropy than random ones."),
    ("convergence_ratio", "deep-lyapunov", "A convergence ratio below 1 means stable, reproducible training, "
     "and its Lyapunov estimate agrees."),
)

#: The chapter's tolerance for a dose-response: the largest relative change of a probe over the momenta.
DOSE_RESPONSE_THRESHOLD = 0.1
#: Relative energy difference below which two runs are the same map up to rounding.
IDENTITY_TOLERANCE = 1e-8
#: The relative error within which an effective rank recovers a planted count.
PLANTED_TOLERANCE = 0.1
#: The smallest excess of R² over the permuted control that would show a positional pattern in weights.
PATTERN_MARGIN = 0.01
#: The exponent of the claimed mass scaling dt_zero ∝ M^{1/2}.
MASS_EXPONENT = 0.5


# ------------------------------------------------------------------------------------------ decision rules


def interval_verdict(low: float, high: float, null: float = 0.0, direction: int = 1, margin: float = 0.0) -> str:
    """The verdict on "the quantity exceeds ``null``" (``direction=+1``) or "falls below it" (−1).

    "holds" when the interval ``[low, high]`` excludes ``null`` on the claimed side; "fails" when it
    excludes ``null`` shifted by ``margin`` (the smallest effect that would matter, ≥ 0) towards the claimed
    side, i.e. when any effect is bounded below that size; "not resolved" otherwise or when the interval is
    not finite. With ``margin=0`` it fails only when the interval lies on the other side of ``null``.
    """
    if direction not in (1, -1):
        raise ValueError(f"direction={direction!r} is not allowed; allowed values: 1, -1")
    check_number("margin", margin, low=0.0)
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNRESOLVED
    low, high = min(low, high), max(low, high)
    if direction == 1:
        return HOLDS if low > null else FAILS if high < null + margin else UNRESOLVED
    return HOLDS if high < null else FAILS if low > null - margin else UNRESOLVED


def contains_verdict(low: float, high: float, claimed: float) -> str:
    """"holds" when ``[low, high]`` contains the ``claimed`` value, "fails" when not, "not resolved" when the
    interval is not finite."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNRESOLVED
    return HOLDS if min(low, high) <= claimed <= max(low, high) else FAILS


def regime_verdict(verdicts: Sequence[str]) -> str:
    """Combine per-setting verdicts: all "holds" → "holds"; some → "holds only in a regime"; none and at
    least one "fails" → "fails"; otherwise "not resolved"."""
    verdicts = list(verdicts)
    if not verdicts:
        return NOT_TESTABLE
    holding = sum(v == HOLDS for v in verdicts)
    if holding == len(verdicts):
        return HOLDS
    if holding > 0:
        return REGIME
    return FAILS if any(v == FAILS for v in verdicts) else UNRESOLVED


def threshold_verdict(value: float, threshold: float, *, claimed: str = "above") -> str:
    """"holds" when ``value`` lies strictly on the ``claimed`` side ("above" or "below") of ``threshold``,
    "fails" otherwise, "not resolved" when it is not finite."""
    check_choice("claimed", claimed, ("above", "below"))
    if not np.isfinite(value):
        return UNRESOLVED
    return HOLDS if (value > threshold if claimed == "above" else value < threshold) else FAILS


# --------------------------------------------------------------------------------------------- one row


@dataclass(frozen=True)
class Row:
    """One claim with its verdict, the deciding number and its interval, where it applies, and what would
    change it. ``interval_kind`` says what the interval is (e.g. a 95% t-interval over seeds)."""

    key: str
    verdict: str
    quantity: str
    value: float
    low: float = float("nan")
    high: float = float("nan")
    interval_kind: str = ""
    regime: str = ""
    link: str = ""
    change: str = ""

    def __post_init__(self) -> None:
        check_choice("verdict", self.verdict, VERDICTS)
        check_choice("key", self.key, [key for key, _, _ in CLAIMS])


def _by_verdict(verdict: str, sentences: dict[str, str], otherwise: str) -> str:
    """The sentence on what would change ``verdict``: ``sentences[verdict]``, else ``otherwise``."""
    return sentences.get(verdict, otherwise)


def _g(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.3g}"


# ---------------------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Config(ConfigBase):
    """Which profile's chapter Configs to read, the significance level of permutation tests, and the
    ``device`` every chapter Config that has one runs on (set on it, or on a sweep's ``base``)."""

    profile: str = "quick"
    significance: float = 0.05
    device: str = "auto"

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, runtime.PROFILES)
        check_number("significance", self.significance, low=0.0, high=0.5, low_inclusive=False)
        check_choice("device", self.device, runtime.DEVICES)

    @classmethod
    def quick(cls) -> "Config":
        return cls(profile="quick")

    @classmethod
    def full(cls) -> "Config":
        return cls(profile="full")


def _profiled(config_type: type, profile: str) -> Any:
    return config_type.quick() if profile == "quick" else config_type.full()


# One function per source: exactly the Config its chapter builds.


def intro_config(profile: str):
    """Introduction: ``divergence.Config.for_profile()`` (its reproducibility run)."""
    from uniq_core.experiments import divergence

    return _profiled(divergence.Config, profile)


def lyapunov_configs(profile: str) -> dict[str, Any]:
    """Chapter 1: the finite-perturbation divergence and the regime map."""
    from uniq_core.experiments import lyapunov

    return {"divergence": _profiled(lyapunov.DivergenceConfig, profile),
            "regime": _profiled(lyapunov.RegimeConfig, profile)}


def entropy_configs(profile: str) -> dict[str, Any]:
    """Chapter 2: the stationary measurement at a minimum."""
    from uniq_core.experiments import entropy

    return {"stationary": _profiled(entropy.EntropyConfig, profile)}


def topology_configs(profile: str) -> dict[str, Any]:
    """Chapter 3: the trajectories and the sweep over perturbation and width."""
    from uniq_core.experiments import topology

    trajectories = _profiled(topology.TopologyConfig, profile)
    return {"trajectories": trajectories, "independent": trajectories.replace(independent_order=True),
            "sweep": _profiled(topology.TopologySweepConfig, profile)}


def probes_configs(profile: str) -> dict[str, Any]:
    """Chapter 4: the paper's settings, their BN-momentum dose, the mass identity and the mass scaling."""
    from uniq_core.experiments import probes

    return {"settings": _profiled(probes.SettingsConfig, profile),
            "settings_dose": _profiled(probes.SettingsDoseConfig, profile),
            "identity": _profiled(probes.MassIdentityConfig, profile),
            "mass": _profiled(probes.MassConfig, profile),
            "mass_resnet": probes.resnet_mass_config(_profiled(probes.MassConfig, profile))}


def fisher_configs(profile: str) -> dict[str, Any]:
    """Chapter 5: the null-dimension check at initialisation and the trained network."""
    from uniq_core.experiments import fisher

    return {"check": _profiled(fisher.NullCheckConfig, profile), "training": _profiled(fisher.FisherConfig, profile)}


def dna_configs(profile: str) -> dict[str, Any]:
    """Chapter 6: MiniLM at the claimed ratio and the digits MLP (the same Config in both profiles)."""
    from uniq_core.experiments import dna

    return {"minilm": _profiled(dna.DnaConfig, profile),
            "digits": dna.DnaConfig(source="digits_mlp", hidden=16, layers=2, n_seeds=3)}


def source_configs(profile: str) -> dict[str, dict[str, Any]]:
    """Every chapter Config the table reads, by chapter."""
    return {"intro": {"reproducibility": intro_config(profile)}, "lyapunov": lyapunov_configs(profile),
            "entropy": entropy_configs(profile), "topology": topology_configs(profile),
            "probes": probes_configs(profile), "fisher": fisher_configs(profile), "dna": dna_configs(profile)}


def _runner(chapter: str, name: str) -> Callable[..., Any]:
    from uniq_core.experiments import divergence, dna, entropy, fisher, lyapunov, probes, topology

    return {
        ("intro", "reproducibility"): divergence.run_reproducibility,
        ("lyapunov", "divergence"): lyapunov.run_divergence, ("lyapunov", "regime"): lyapunov.run_regime,
        ("entropy", "stationary"): entropy.run_entropy,
        ("topology", "trajectories"): topology.run_topology,
        ("topology", "independent"): topology.run_topology, ("topology", "sweep"): topology.run_topology_sweep,
        ("probes", "settings"): probes.run_settings, ("probes", "settings_dose"): probes.run_settings_dose,
        ("probes", "identity"): probes.run_mass_identity, ("probes", "mass"): probes.run_mass,
        ("probes", "mass_resnet"): probes.run_mass,
        ("fisher", "check"): fisher.run_null_check, ("fisher", "training"): fisher.run_fisher,
        ("dna", "minilm"): dna.run_dna, ("dna", "digits"): dna.run_dna,
    }[(chapter, name)]


# ------------------------------------------------------------------------------------------- row functions
# Each reads the fields of its chapter's Results that decide one claim.


def row_lyapunov(divergence, regime, significance: float = 0.05) -> Row:
    """Finite-perturbation exponent per epoch (chapter 1), and where on the regime map it is positive.

    The map's cells without any diverged replica are a family of tests, decided by one rule: a t-test over
    seeds per cell with Holm's correction over the cells (:func:`uniq_core.experiments.lyapunov.positive_cells`),
    so the family's chance of one false "positive" stays below ``significance``.
    """
    from uniq_core.experiments.lyapunov import positive_cells

    sign = positive_cells(regime, 1 - significance)["sign"]
    finite = np.isfinite(sign)
    cells = [{1.0: HOLDS, -1.0: FAILS}.get(float(value), UNRESOLVED) for value in sign[finite]]
    positive = finite & (sign == 1)
    main = interval_verdict(*divergence.exponent_interval)
    verdict = regime_verdict([main, *cells])
    where = (f"positive in {int(positive.sum())} of {int(finite.sum())} settings of the map (corrected), at step sizes "
             f"{_g(regime.lrs[positive.any(axis=1)].min())} to {_g(regime.lrs[positive.any(axis=1)].max())}"
             if positive.any() else f"positive in none of the {int(finite.sum())} settings of the map")
    return Row("lyapunov", verdict, "exponent of the replicas' spread, per epoch", divergence.exponent_mean,
               *divergence.exponent_interval, "95% t-interval over seeds", where, "01_lyapunov.html#verdict",
               _by_verdict(verdict, {
                   REGIME: "An interval above zero at every setting of the map would make it hold everywhere; "
                           "intervals below zero everywhere would make it fail.",
                   HOLDS: "An interval containing or below zero at any setting of the map would restrict it to a "
                          "regime."},
                   "An interval above zero at some setting of the map would make it hold in that regime."))


def row_entropy(stationary) -> Row:
    """SGD entropy production at a minimum against zero (chapter 2), with the Langevin offset as a systematic
    error; the Langevin null check must pass for the verdict to rest on the instrument."""
    low, high = stationary.decision_interval
    sgd = interval_verdict(low, high)
    langevin_reversible = float(np.max(np.abs(stationary.langevin_exact))) < 1e-3 * abs(stationary.sgd_exact_mean)
    if not bool(stationary.langevin_null_holds):
        sgd = UNRESOLVED if sgd == HOLDS else sgd
    verdict = REGIME if sgd == HOLDS and langevin_reversible else sgd
    return Row("entropy", verdict, "entropy production of SGD at a minimum, nats per step", stationary.sgd_pooled,
               low, high, "pooled over seeds: 1.96 s.e. plus |Langevin offset| as systematic error",
               "minibatch SGD (anisotropic noise); Langevin dynamics is reversible" if langevin_reversible
               else "minibatch SGD and Langevin alike", "02_entropy.html#verdict",
               _by_verdict(verdict, {
                   REGIME: "A positive rate for Langevin (isotropic-noise) dynamics would make it hold generally; "
                           "an SGD interval containing zero would leave it unresolved.",
                   HOLDS: "A Langevin rate indistinguishable from zero would restrict it to minibatch SGD."},
                   "An SGD interval above zero, with a Langevin control consistent with zero, would make it hold "
                   "for minibatch SGD."))


def row_topology(trajectories, independent, sweep) -> Row:
    """Permutation tests of persistence diagrams (chapter 3), with the chapter's one decision rule: Holm-adjusted
    p-values below the level, over both spaces and both data orders; then the perturbation × width sweep,
    Holm-adjusted over its grid."""
    from uniq_core.experiments import topology

    adjusted, rejected = topology.holm_decisions([trajectories, independent])
    sweep_adjusted = np.fmin(np.asarray(sweep.weight_p_holm, dtype=float), np.asarray(sweep.function_p_holm, dtype=float))
    sweep_rejected = np.nan_to_num(sweep_adjusted, nan=1.0) < float(sweep.level)
    # a permutation test that does not reject, with no positive control on real trajectories, shows nothing
    verdict = HOLDS if rejected.any() else REGIME if sweep_rejected.any() else UNRESOLVED
    n_sweep = 2 * int(np.isfinite(sweep_adjusted).sum())
    if sweep_rejected.any():
        where = (f"distinguishable in the sweep from perturbation {_g(sweep.perturbations[sweep_rejected.any(axis=0)].min())}"
                 f" on (Holm over {n_sweep} tests, level {_g(float(sweep.level))})")
    else:
        where = f"no setting of the sweep is distinguishable (Holm over {n_sweep} tests, level {_g(float(sweep.level))})"
    return Row("topology", verdict, "smallest Holm-adjusted permutation p-value (weight or function space, both "
               "data orders)", float(np.nanmin(adjusted)),
               interval_kind=f"Holm over {adjusted.size} tests, level {_g(float(trajectories.level))}", regime=where,
               link="03_topology.html#are-training-trajectories-topologically-distinct",
               change=_by_verdict(verdict, {
                   HOLDS: "Adjusted p-values above the level in a repeat with more runs would make it fail."},
                   "Adjusted p-values below the level for runs from one initialisation, in a test that can reject, "
                   "would make it hold there."))


def row_reproducibility(reproducibility) -> Row:
    """Bit-for-bit re-execution of the introduction's run (CPU, fixed seed)."""
    rerun = list(reproducibility.names).index("re-run")
    identical = bool(reproducibility.bitwise_identical[rerun])
    steps = float(reproducibility.steps[-1])
    return Row("reproducibility", FAILS if identical else HOLDS, "training steps re-executed bit for bit",
               steps if identical else float(max(reproducibility.first_difference_step[rerun], 0)),
               interval_kind="exact count", regime="CPU, fixed seed and thread count; weights differ under any "
               "perturbation, as any continuous random variable does", link="00_intro.html#a-first-measurement-perturbed-replicas",
               change="A re-execution that differs in its bits on the same machine, seed and threads would make "
                      "it hold." if identical else "A bit-identical re-execution on the same machine, seed and threads "
                      "would make it fail.")


def _settings_indices(settings, names: Sequence[str]) -> list[int]:
    settings_names = list(settings.settings)
    return [settings_names.index(name) for name in names if name in settings_names]


def row_probes_pass(settings, settings_config) -> Row:
    """Chapter 4, finding (a): GroupNorm and frozen BatchNorm pass all three probes at the smallest step."""
    claimed = _settings_indices(settings, ("group", "frozen_batch"))
    smallest = int(np.argmin(settings.dts))
    drift = np.nanmean(settings.shadow_drift[:, :, smallest], axis=-1)[:, claimed]
    verdict = HOLDS if bool(settings.passes[:, claimed].all()) else FAILS
    return Row("probes_pass", verdict, f"largest shadow-account energy drift (threshold {_g(settings_config.energy_threshold)})",
               float(np.nanmax(drift)), float(np.nanmin(drift)), float(np.nanmax(drift)), "range over networks and both settings",
               f"Δt = {_g(float(settings.dts[smallest]))}, SimpleCNN and ResNet", "04_probes.html#the-paper-s-settings",
               _by_verdict(verdict, {HOLDS: "A probe above its tolerance for either setting at the smallest step "
                                            "would make it fail."},
                           "Every probe of both settings below its tolerance at the smallest step would make it hold."))


def row_batchnorm_fails(settings, settings_config) -> Row:
    """Chapter 4, finding (b): train-mode BatchNorm fails the round trip or Ω while the others pass both."""
    claimed = _settings_indices(settings, ("group", "frozen_batch"))
    batch = list(settings.settings).index("batch")
    batch_fails = bool(((settings.round_trip[:, batch] >= settings_config.round_trip_tolerance)
                        | (settings.omega[:, batch] >= settings_config.omega_tolerance)).any())
    others_pass = bool(((settings.round_trip[:, claimed] < settings_config.round_trip_tolerance)
                        & (settings.omega[:, claimed] < settings_config.omega_tolerance)).all())
    if batch_fails and not others_pass:  # the others fail too: the failure is not train-mode BatchNorm's
        shown = np.asarray(settings.round_trip[:, claimed], dtype=float)
        quantity = "return error of GroupNorm and frozen BatchNorm"
    else:
        shown = np.asarray(settings.round_trip[:, batch], dtype=float)
        quantity = "train-mode BatchNorm return error"
    return Row("batchnorm_fails", HOLDS if batch_fails and others_pass else FAILS,
               f"{quantity} (tolerance {_g(settings_config.round_trip_tolerance)})",
               float(np.nanmin(shown)), float(np.nanmin(shown)), float(np.nanmax(shown)),
               "smallest, and range over networks and settings", "the paper's settings",
               "04_probes.html#the-paper-s-settings",
               "GroupNorm or frozen BatchNorm failing the same probe would make it fail." if batch_fails and others_pass
               else "A return or Ω error of train-mode BatchNorm above tolerance, with the other settings below, "
                    "would make it hold.")


def row_dose_response(settings_dose) -> Row:
    """Chapter 4, finding (c): the largest relative change of the probes over the BN momenta."""
    verdict = threshold_verdict(settings_dose.probe_spread, DOSE_RESPONSE_THRESHOLD)
    return Row("dose_response", verdict,
               f"largest relative change of a probe over the momenta (threshold {_g(DOSE_RESPONSE_THRESHOLD)})",
               float(settings_dose.probe_spread), interval_kind="largest over networks and seeds",
               regime="train-mode BatchNorm; a response appears only in an energy defined with the running statistics",
               link="04_probes.html#the-paper-s-settings",
               change="Probes that change by more than the threshold as the momentum varies would make it hold."
               if verdict != HOLDS else "Probes that change by less than the threshold would make it fail.")


def _slope_range(mass) -> tuple[float, float]:
    slopes = np.asarray(mass.slopes, dtype=float)
    finite = slopes[np.isfinite(slopes)]
    return (float(finite.min()), float(finite.max())) if finite.size else (float("nan"), float("nan"))


def row_mass_scaling(mass) -> Row:
    """Chapter 4: the fitted exponent of dt_zero against the mass at a fixed physical horizon, against the
    claimed 1/2: "holds" when the range of the per-seed exponents contains it (censored dt_zero left out)."""
    low, high = _slope_range(mass)
    return Row("mass_scaling", contains_verdict(low, high, MASS_EXPONENT),
               "fitted exponent of dt_zero against M (claim: 1/2)", float(mass.slope), low, high,
               "range over seeds; dt_zero at the end of its bracket left out", "SimpleCNN, fixed physical horizon",
               "04_probes.html#mass-scaling",
               "Per-seed exponents that all exclude one half would make it fail; ones that straddle it would make "
               "it hold.")


def row_deeper_deviate(mass, resnet_mass) -> Row:
    """Chapter 4: whether the ResNet's mass exponent at a fixed physical horizon differs from the SimpleCNN's:
    "holds" when their per-seed ranges do not overlap, "fails" when they do."""
    low, high = _slope_range(resnet_mass)
    cnn_low, cnn_high = _slope_range(mass)
    if not all(np.isfinite([low, high, cnn_low, cnn_high])):
        verdict = UNRESOLVED
    else:
        verdict = HOLDS if high < cnn_low or low > cnn_high else FAILS
    return Row("deeper_deviate", verdict, f"ResNet's exponent of dt_zero against M (SimpleCNN: {_g(cnn_low)} to "
               f"{_g(cnn_high)})", float(resnet_mass.slope), low, high, "range over seeds",
               "fixed physical horizon", "04_probes.html#mass-scaling",
               "Per-seed ranges of the two exponents that overlap would make it fail; disjoint ones would make it "
               "hold.")


def count_verdict(counts: np.ndarray) -> str:
    """A count measured per seed: "holds" when it is above zero on every finite seed, "fails" when it is
    zero on every one, "not resolved" when the seeds disagree or fewer than two are finite (a diverged seed,
    NaN, is left out; seeds are repetitions, not regimes)."""
    counts = np.asarray(counts, dtype=float)
    counts = counts[np.isfinite(counts)]
    if len(counts) < 2:
        return UNRESOLVED
    return HOLDS if np.all(counts > 0) else FAILS if np.all(counts == 0) else UNRESOLVED


def row_degenerate(training) -> Row:
    """Chapter 5: null dimension of the trained network's Fisher metric, per seed (:func:`count_verdict`).
    The architecture's symmetries are null for every input, so with any symmetry the count is above zero by
    construction; the row says how far above."""
    mean, (low, high) = stats.t_interval(training.null_dimension[:, -1])
    return Row("degenerate", count_verdict(training.null_dimension[:, -1]), "null dimension of the Fisher metric "
               "after training", mean, float(low), float(high), "95% t-interval over seeds",
               f"the {training.architecture} network on the digits", "05_fisher.html#a-network-trained-on-the-digits",
               f"Nothing that keeps the architecture: its {training.predicted_null} symmetry directions are null for "
               "every input. A network without continuous symmetries and a probe that sees every parameter would.")


def row_gauge(check, training) -> Row:
    """Chapter 5: whether the null directions are mostly symmetries. Two settings through
    :func:`regime_verdict`: at initialisation on random inputs in general position (the measured null
    dimension equals the symmetry count in every case: "holds", else "fails"), and after training on the
    digits (the 95% t-interval over seeds of the share symmetries / null dimension against one half). The
    instrument must count at least the symmetries on every trained seed; if it does not, "not resolved"."""
    known = check.predicted >= 0
    at_init = HOLDS if np.all(check.predicted[known] == check.measured[known]) else FAILS
    nulls = np.asarray(training.null_dimension[:, -1], dtype=float)
    share = training.predicted_null / nulls
    mean, (low, high) = stats.t_interval(share)
    finite = nulls[np.isfinite(nulls)]
    if len(finite) == 0 or np.any(finite < training.predicted_null):
        verdict = UNRESOLVED  # fewer null directions than exact symmetries: the count is broken
    else:
        verdict = regime_verdict([at_init, interval_verdict(float(low), float(high), null=0.5)])
    from_data = float(np.nanmean((training.explained_null_data[:, -1] - training.predicted_null) / nulls))  # per seed
    regime = ("random inputs in general position at initialisation; on the digits "
              f"{from_data:.0%} of the trained null space comes from the data" if verdict == REGIME
              else "at initialisation and after training")
    return Row("gauge", verdict, "share of the trained null space that symmetries explain", mean, float(low),
               float(high), "95% t-interval over seeds", regime, "05_fisher.html#a-network-trained-on-the-digits",
               "Inputs in general position after training (not the digits, whose constant pixels alone leave "
               "directions unseen) would show whether training keeps the null space to the symmetries.")


def row_effective_rank(check) -> Row:
    """Chapter 5: an effective rank is a count of directions only if it recovers a planted count; which
    directions are task-relevant nothing in the book measures, so the claim is not testable here. The number
    is the participation ratio's largest relative error on the planted spectra (the best of the three)."""
    errors = {name: float(np.max(np.abs(np.asarray(values, dtype=float) / check.planted_count - 1)))
              for name, values in (("participation ratio", check.planted_participation),
                                   ("entropy rank", check.planted_entropy), ("MacKay count", check.planted_mackay))}
    recovering = [name for name, error in errors.items() if error < PLANTED_TOLERANCE]
    tails = np.asarray(check.planted_tails, dtype=float)
    return Row("effective_rank", NOT_TESTABLE, "largest relative error of the participation ratio on a planted count",
               errors["participation ratio"], float(min(errors.values())), float(max(errors.values())),
               "range over the three measures and the tail levels",
               (f"{', '.join(recovering) or 'no measure'} recovers a planted count within {_g(PLANTED_TOLERANCE)} for "
                f"tails {_g(float(tails.min()))} to {_g(float(tails.max()))}; task relevance is not measured"),
               "05_fisher.html#the-measures-validated-on-known-answers",
               "A measure that counts the directions a teacher network's task depends on would make it testable.")


def row_thin_subset(training) -> Row:
    """Chapter 5 measures the metric's concentration, not the set training visits: the claim is not testable
    here; the participation ratio after training is shown as the nearest measurement."""
    return Row("thin_subset", NOT_TESTABLE, "participation ratio of the Fisher spectrum (nearest measurement)",
               float(training.participation_mean[-1]), *map(float, training.participation_interval[:, -1]),
               "95% t-interval over seeds", "no measure of the set of parameters training visits",
               "05_fisher.html#a-network-trained-on-the-digits",
               "A dimension estimate of many runs' trajectories against random walks of the same length would "
               "make it testable.")


def row_siren_psnr(minilm, claimed_psnr: float, claimed_ratio: float) -> Row:
    """Chapter 6: SIREN PSNR on MiniLM over seeds, at the claimed compression (else not testable)."""
    mean, interval = stats.t_interval(minilm.psnr_siren_seeds)
    low, high = (interval if np.all(np.isfinite(interval)) else (mean, mean))
    verdict = NOT_TESTABLE if minilm.ratio < claimed_ratio else interval_verdict(float(low), float(high), claimed_psnr)
    return Row("siren_psnr", verdict, f"SIREN PSNR on MiniLM, dB (claim: {_g(claimed_psnr)})", mean, float(low),
               float(high), "95% t-interval over seeds", f"{_g(minilm.ratio)}× compression", "06_dna.html#the-pretrained-transformer",
               "A fit above the claimed PSNR over seeds at the claimed compression would make it hold.")


def row_manifold(minilm) -> Row:
    """Chapter 6: R² of the SIREN on the weights minus R² on its own permutation of them, paired per seed; an excess
    bounded below :data:`PATTERN_MARGIN` fails the claim."""
    excess = np.asarray(minilm.r2_siren_seeds, dtype=float) - np.asarray(minilm.r2_permuted_seeds, dtype=float)
    mean, interval = stats.t_interval(excess)
    low, high = (interval if np.all(np.isfinite(interval)) else (mean, mean))
    return Row("manifold", interval_verdict(float(low), float(high), margin=PATTERN_MARGIN),
               f"R² of the SIREN minus R² on permuted weights (smallest that matters: {_g(PATTERN_MARGIN)})",
               mean, float(low), float(high), "95% t-interval over seeds", "MiniLM matrices at the claimed ratio",
               "06_dna.html#the-pretrained-transformer",
               "A SIREN that explains more of the weights than of the same weights shuffled would make it hold.")


def row_weight_entropy(minilm, digits) -> Row:
    """Chapter 6: entropy of trained weights minus that of their initialisation, MiniLM and the digits MLP,
    each judged on its gap ± 2 bootstrap standard errors (an order only where that excludes 0)."""
    models = (minilm, digits)
    differences = [float(m.entropy_trained - m.entropy_init) for m in models]
    errors = [2 * float(np.hypot(m.entropy_trained_se, m.entropy_init_se)) for m in models]
    verdict = regime_verdict([interval_verdict(d - e, d + e, direction=-1) for d, e in zip(differences, errors)])
    return Row("weight_entropy", verdict, "entropy of MiniLM's trained weights minus their initialisation's, nats",
               differences[0], min(differences), max(differences), "range over MiniLM and the digits MLP",
               "Miller–Madow histogram entropy, gap ± 2 bootstrap SE", "06_dna.html#entropy-of-trained-and-initial-weights",
               "Trained weights below their own initialisation's entropy at the same bin width would make it hold.")


def row_convergence_ratio(divergence) -> Row:
    """deep-lyapunov's convergence ratio on chapter 1's runs, against the sign of the measured exponent."""
    from uniq_core.experiments import lyapunov

    mean, interval = stats.t_interval(divergence.peer_convergence_ratio)
    says_stable = bool(np.nanmax(divergence.peer_convergence_ratio) < 1)
    exponent = interval_verdict(*divergence.exponent_interval)
    disagreements = lyapunov.peer_sign_disagreements(divergence)
    if disagreements or (says_stable and exponent == HOLDS) or (not says_stable and exponent == FAILS):
        verdict = FAILS
    elif exponent == UNRESOLVED:
        verdict = UNRESOLVED
    else:
        verdict = HOLDS
    return Row("convergence_ratio", verdict, "deep-lyapunov convergence ratio", mean, *map(float, interval),
               "95% t-interval over seeds", f"chapter 1's replicas; its Lyapunov estimate disagrees in sign on "
               f"{disagreements} seed(s)", "01_lyapunov.html#finite-perturbations-replicas-trained-side-by-side",
               "A ratio whose side of 1 matches the sign of the measured exponent on every seed would make it hold.")


# --------------------------------------------------------------------------------------------- the run


@dataclass
class Result(ResultBase):
    """One entry per claim, in :data:`CLAIMS` order."""

    keys: np.ndarray
    sources: np.ndarray
    claims: np.ndarray
    verdicts: np.ndarray
    quantities: np.ndarray
    values: np.ndarray
    lows: np.ndarray
    highs: np.ndarray
    interval_kinds: np.ndarray
    regimes: np.ndarray
    links: np.ndarray
    changes: np.ndarray
    profile: str


def collect(rows: Sequence[Row], profile: str = "quick") -> Result:
    """A Result from one Row per claim, in :data:`CLAIMS` order; raises ``ValueError`` if a claim has no row
    or two."""
    by_key = {}
    for row in rows:
        if row.key in by_key:
            raise ValueError(f"rows has two rows for claim {row.key!r}")
        by_key[row.key] = row
    missing = [key for key, _, _ in CLAIMS if key not in by_key]
    if missing:
        raise ValueError(f"rows has no row for claim(s) {missing}")
    ordered = [by_key[key] for key, _, _ in CLAIMS]

    def strings(values: Sequence[str]) -> np.ndarray:
        return np.asarray(list(values), dtype=str)

    return Result(
        keys=strings(r.key for r in ordered), sources=strings(s for _, s, _ in CLAIMS),
        claims=strings(c for _, _, c in CLAIMS), verdicts=strings(r.verdict for r in ordered),
        quantities=strings(r.quantity for r in ordered), values=np.array([r.value for r in ordered], dtype=float),
        lows=np.array([r.low for r in ordered], dtype=float), highs=np.array([r.high for r in ordered], dtype=float),
        interval_kinds=strings(r.interval_kind for r in ordered), regimes=strings(r.regime for r in ordered),
        links=strings(r.link for r in ordered), changes=strings(r.change for r in ordered), profile=profile,
    )


def _on_device(config: Any, device: str) -> Any:
    """``config`` with its ``device`` (or its ``base`` Config's) set to ``device``; unchanged without one."""
    if hasattr(config, "device"):
        return config.replace(device=device)
    if hasattr(getattr(config, "base", None), "device"):
        return config.replace(base=config.base.replace(device=device))
    return config


def run(config: Config, *, progress: bool = True, use_cache: bool = True) -> Result:
    """The verdict on every claim, from the chapters' Results read through the results cache.

    Runs (or reads back) each chapter's measurement with exactly the chapter's Config, then applies each
    claim's row function.
    """
    configs = {chapter: {name: _on_device(c, config.device) for name, c in named.items()}
               for chapter, named in source_configs(config.profile).items()}
    results: dict[tuple[str, str], Any] = {}
    for chapter, named in configs.items():
        for name, chapter_config in named.items():
            results[chapter, name] = _runner(chapter, name)(chapter_config, progress=progress, use_cache=use_cache)
    return collect(rows_from(results, configs, config.significance), config.profile)


def rows_from(results: dict[tuple[str, str], Any], configs: dict[str, dict[str, Any]], significance: float) -> list[Row]:
    """Every claim's row from the chapters' Results, keyed by (chapter, name) as in :func:`source_configs`."""
    from uniq_core.experiments import dna

    return [
        row_lyapunov(results["lyapunov", "divergence"], results["lyapunov", "regime"], significance),
        row_entropy(results["entropy", "stationary"]),
        row_topology(results["topology", "trajectories"], results["topology", "independent"],
                     results["topology", "sweep"]),
        row_reproducibility(results["intro", "reproducibility"]),
        row_probes_pass(results["probes", "settings"], configs["probes"]["settings"]),
        row_batchnorm_fails(results["probes", "settings"], configs["probes"]["settings"]),
        row_dose_response(results["probes", "settings_dose"]),
        row_mass_scaling(results["probes", "mass"]),
        row_deeper_deviate(results["probes", "mass"], results["probes", "mass_resnet"]),
        row_degenerate(results["fisher", "training"]),
        row_gauge(results["fisher", "check"], results["fisher", "training"]),
        row_effective_rank(results["fisher", "check"]),
        row_thin_subset(results["fisher", "training"]),
        row_siren_psnr(results["dna", "minilm"], dna.CLAIMED_PSNR, dna.CLAIMED_RATIO),
        row_manifold(results["dna", "minilm"]),
        row_weight_entropy(results["dna", "minilm"], results["dna", "digits"]),
        row_convergence_ratio(results["lyapunov", "divergence"]),
    ]
