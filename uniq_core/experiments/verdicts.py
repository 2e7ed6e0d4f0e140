"""The claim registry and the verdict table: each claim of the source write-ups, quoted, decided by one rule.

Each :class:`Claim` carries the write-up's words verbatim (``quote``, from ``shared/seeds``), how the book
measures them (``operationalisation``, saying where the book narrows or changes the question), the ``scope``
(model, data, tensors) and the row function that decides it. Row functions read the chapters' Results
(exactly the Configs the chapters use, :func:`source_configs`, through the results cache) and apply the rules
of :mod:`uniq_core.rules`, each recomputed under its arbitrary choices (:func:`uniq_core.rules.robust`). The
chapters' verdict admonitions call the same row functions, so a chapter and the table cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np

from uniq_core import lyapunov as lyapunov_measures
from uniq_core import grammar, rules, runtime, stats
from uniq_core.rules import (FAILS, FAILS_WHERE_RESOLVED, HOLDS, HOLDS_WHERE_RESOLVED, NOT_TESTABLE, REGIME,
                             UNRESOLVED, Decision)
from uniq_core.schema import ConfigBase, ResultBase, check_choice, check_number

VERDICTS = rules.WORDS

#: The chapter's tolerance for a dose-response: the largest relative change of a probe over the momenta.
DOSE_RESPONSE_THRESHOLD = 0.1
#: Relative energy difference below which two runs are the same map up to rounding.
IDENTITY_TOLERANCE = 1e-8
#: The relative error within which an effective rank recovers a planted count.
PLANTED_TOLERANCE = 0.1
#: The smallest excess of R² over the permuted control that would show a positional pattern in weights.
PATTERN_MARGIN = 0.01
#: The share of the planted field's smooth variance the generation test must recover on held-out rows.
RECOVERY_FRACTION_GENERATED = 0.5
#: The exponent of the claimed mass scaling dt_zero ∝ M^{1/2}, and the tolerance within which it holds.
MASS_EXPONENT = 0.5
MASS_TOLERANCE = 0.1
#: The largest difference of mass exponents that counts as "no deviation" for deeper networks.
DEVIATION_MARGIN = 0.1
#: How much larger (relative) train-mode BatchNorm's ΔNEGdt must be than the other settings' to "fail" it.
BATCHNORM_MARGIN = 0.25
#: Share of the null space above which it is "mostly" symmetry.
MOSTLY = 0.5
#: The write-up's R² for its SIREN fit, and its multi-scale gain in dB (centre, half-width of 5–10 dB).
CLAIMED_R2 = 0.99
MULTISCALE_GAIN = (7.5, 2.5)
#: Alternative confidence levels every interval rule is recomputed at.
CONFIDENCES = (0.9, 0.99)


# ---------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Claim:
    """One claim of a source write-up: ``source`` (project) and ``seed`` (its text in ``shared/seeds``),
    ``quote`` (verbatim, without the write-up's Markdown emphasis), ``operationalisation`` (which measured quantity answers it and why; where the book
    narrows or changes the question it says so), ``scope`` (model, data, tensors; the write-up's own model
    where another stands in) and ``link`` (the section that measures it). The seeds and profile of a row are
    on its :class:`Verdict`."""

    key: str
    source: str
    seed: str
    quote: str
    operationalisation: str
    scope: str
    link: str


CLAIM_REGISTRY: tuple[Claim, ...] = (
    Claim("lyapunov", "uniq-nets", "000_a5cfc4e1f6a8e3d7.txt",
          "Gradient-based training exhibits positive Lyapunov exponents, causing exponential sensitivity to "
          "initial conditions.",
          "The whole-run growth rate of a random infinitesimal difference at initialisation (tangent vectors "
          "pushed exactly through the minibatch SGD map; a lower bound on the top finite-time exponent), "
          "relative to the weights' norm (the norm's own growth is not separation), per seed, with the exponential "
          "part of a fit a + λt + p ln t (growth that only decelerates shows no positive exponent); recomputed on "
          "the absolute spread and on the second half of the run. The replicas' finite-perturbation rate and the "
          "regime map are reported beside it, not as alternatives: a finite size measures something else.",
          "MLP on the digits (chapter 1's divergence run and regime map), minibatch SGD",
          "01_lyapunov.html#verdict"),
    Claim("entropy", "uniq-nets", "000_a5cfc4e1f6a8e3d7.txt",
          "The learning process is a thermodynamically irreversible non-equilibrium process with strictly "
          "positive entropy production.",
          "The claim is about learning: the entropy production of SGD along the run from initialisation. As "
          "worded it cannot fail: plain SGD's path measures are singular (a step is a deterministic map of its "
          "batch), so its entropy production is infinite; under a Gaussian noise model the excess (relaxation) "
          "part is positive for any chain started away from its stationary law, reversible or not, and the "
          "housekeeping (non-equilibrium) part whenever the noise does not commute with the curvature. So it is "
          "not testable here; shown: the size of each part in the linearised chain run from each seed's "
          "initialisation, with the reversible Langevin control and the model's distance from a real run, and "
          "the model-free cross-chain estimate of SGD at a stationary minimum (a narrower question).",
          "MLP on the digits: the top stable Hessian directions at each seed's minimum, from initialisation "
          "(chapter 2)",
          "02_entropy.html#verdict"),
    Claim("topology", "uniq-nets", "000_a5cfc4e1f6a8e3d7.txt",
          "Different training trajectories occupy distinct topological equivalence classes in parameter space.",
          "As stated the claim is ill-posed: a path is contractible, so every trajectory is in the same homotopy "
          "class. What can be tested instead is whether the shapes of trajectories (persistence landscapes) "
          "differ between two training conditions, with independent whole runs as the units of a two-sample "
          "permutation test; the chapter builds that test and shows its size and power on random walks, but its "
          "runs are not independent units, and a rejection would not be a topological class either.",
          "MLPs on the digits (chapter 3), weight and function space",
          "03_topology.html#are-training-trajectories-topologically-distinct"),
    Claim("reproducibility", "uniq-nets", "000_a5cfc4e1f6a8e3d7.txt",
          "These results collectively imply that each trained neural network is structurally unique with "
          "probability one, establishing inherent limits to exact reproducibility in deep learning.",
          "Unique as functions: among runs from one initialisation that differ only by a small perturbation of "
          "each tensor, a run whose outputs equal the unperturbed reference's to rounding on every test input "
          "would be a counterexample; any continuous perturbation makes outputs differ, so a \"holds\" says "
          "little, and the argmax disagreement is shown beside it. In weight space the claim is true of any "
          "continuous random variable and says nothing. Whether a re-execution is bit-identical on the same "
          "machine is its own statement, reported beside it; how fast a difference grows (the limits to "
          "reproducibility) is the subject of chapter 1.",
          "MLP on the digits (chapter 3's runs; re-execution in the introduction)",
          "03_topology.html#are-training-trajectories-topologically-distinct"),
    Claim("probes_pass", "geometric-training-invariants", "001_cbbd13e0c24cc86f.txt",
          "GroupNorm and calibrate-then-freeze BatchNorm satisfy all probes at small Δt",
          "The energy drift D of the energy balance, per network and setting, below the book's threshold of 0.01 "
          "(the write-up names D but gives no number) on every seed at the smallest step (other steps tried). The book's round trip and Ω cannot fail for "
          "gradient forces on a fixed batch schedule and the shadow account only checks that forces are "
          "gradients: they are reported, not used.",
          "SimpleCNN and a small ResNet on the digits (chapter 4); write-up: ResNet-18, GroupNorm 32 groups, "
          "freeze after epoch 200",
          "04_probes.html#the-paper-s-settings"),
    Claim("batchnorm_fails", "geometric-training-invariants", "001_cbbd13e0c24cc86f.txt",
          "Standard BatchNorm (train mode) systematically fails, breaking local reversibility and Ω-invariance",
          "The write-up's reversibility probe ΔNEGdt (the same map run back with −dt), which can fail for every "
          "setting: train-mode BatchNorm's against the other settings', as a log ratio paired by seed at the "
          "smallest step, per network; it holds when train-mode BatchNorm returns worse by more than a stated "
          "margin on every network. Ω and the book's exact round trip hold by construction for gradient forces "
          "on a fixed batch schedule, train-mode BatchNorm's included: they are reported, not used.",
          "SimpleCNN and a small ResNet on the digits (chapter 4)",
          "04_probes.html#the-paper-s-settings"),
    Claim("dose_response", "geometric-training-invariants", "001_cbbd13e0c24cc86f.txt",
          "Causal intervention: Sweeping BN running-statistics momentum produces a clean dose-response curve",
          "The largest relative change of any of the three probes of train-mode BatchNorm across the running-"
          "statistics momenta, against a stated threshold; exactly zero means the probes do not read the "
          "running statistics and cannot respond.",
          "SimpleCNN and a small ResNet on the digits, train-mode BatchNorm (chapter 4)",
          "04_probes.html#the-paper-s-settings"),
    Claim("mass_scaling", "geometric-training-invariants", "001_cbbd13e0c24cc86f.txt",
          "Mass scaling: SimpleCNN follows expected dt_zero ∝ √M relationship",
          "The exponent of dt_zero against the mass M at a fixed physical horizon, per seed, against 1/2. Over a "
          "fixed number of steps dt_zero ∝ √M is an identity of the heavy-ball map (every probe is a function of "
          "dt/√M), a check that cannot fail; it is shown in the chapter, not used as the verdict.",
          "SimpleCNN on the digits, train-mode BatchNorm (chapter 4)",
          "04_probes.html#mass-scaling"),
    Claim("deeper_deviate", "geometric-training-invariants", "001_cbbd13e0c24cc86f.txt",
          "deeper architectures deviate",
          "The ResNet's mass exponent minus the SimpleCNN's, paired by seed, at a fixed physical horizon: the "
          "claim holds when the interval lies outside ± the stated margin and fails when it lies inside it.",
          "a small ResNet against the SimpleCNN on the digits (chapter 4); write-up: ResNet-18",
          "04_probes.html#mass-scaling"),
    Claim("degenerate", "unified singular information geometry", "002_2b31ea2ab7e2cbd5.txt",
          "Pulling back the Fisher–Rao metric along these maps endows both $\\Theta$ and the $M_\\ell$ with "
          "*degenerate* Riemannian metrics",
          "The null dimension of the parameter-space Fisher metric J^T G J of the trained network on the probe "
          "inputs, per seed (a count without sampling error; the smallest over seeds decides, at the spectral "
          "gap and at fixed tolerances). With continuous symmetries it is above zero by construction.",
          "MLP on the digits (chapter 5), parameter space only (layer representations are not measured)",
          "05_fisher.html#a-network-trained-on-the-digits"),
    Claim("gauge", "unified singular information geometry", "002_2b31ea2ab7e2cbd5.txt",
          "These null directions are the deep-learning analogue of gauge directions or flat directions in a "
          "potential",
          "Narrowed: with its 'or flat directions' the claim holds by definition (every null direction leaves "
          "the realised map unchanged on the probe inputs); the row tests the narrower reading, whether the "
          "null space is made of gauge directions proper (symmetries of the architecture, null for every input) or of directions flat "
          "only on the data: the share of the trained null space the symmetries explain, per seed, above one "
          "half. The known answer at initialisation (measured null dimension = symmetry count on random "
          "inputs) checks the instrument.",
          "MLPs at initialisation (random inputs) and trained on the digits (chapter 5)",
          "05_fisher.html#a-network-trained-on-the-digits"),
    Claim("effective_rank", "unified singular information geometry", "002_2b31ea2ab7e2cbd5.txt",
          "its eigenvalue spectrum or “effective rank” measures how many independent task-relevant directions "
          "survive after quotienting out null directions",
          "A teacher–student task with a known relevant subspace: labels drawn from a teacher whose logits use "
          "k of d input directions, a linear softmax student trained on them, and its Fisher's effective rank "
          "on inputs that vary in all d directions against inputs aligned with the k relevant ones (where "
          "the count of task-relevant directions is recovered). A measure of task-relevant directions does "
          "not move when directions the task ignores are excited: the ratio of the two is 1.",
          "teacher–student task, linear softmax student (chapter 5); planted spectra check the measures",
          "05_fisher.html#task-relevant-directions-a-teacher-and-a-student"),
    Claim("thin_subset", "unified singular information geometry", "002_2b31ea2ab7e2cbd5.txt",
          "Training trajectories also appear to explore only a thin subset of parameter space.",
          "The effective dimensionality (participation ratio of windows of checkpoints) of the trajectories of "
          "chapter 1's replicas, per seed, against that of an isotropic random walk sampled at the same "
          "checkpoints (near 2.5 in any dimension). Below it, the path is dominated by one direction (drift): "
          "thin as a path, which is what one run can show; a set of many runs would need a dimension estimate "
          "of its own.",
          "MLP on the digits, minibatch SGD (chapter 1's divergence run)",
          "01_lyapunov.html#finite-perturbations-replicas-trained-side-by-side"),
    Claim("siren_psnr", "DNA", "004_cb9203b1bf485335.txt",
          "Achieves 22x compression with >40 dB PSNR reconstruction",
          "PSNR of a SIREN fitted to a pretrained transformer's weight matrix at the claimed 22× parameter "
          "ratio, per fitting seed, against 40 dB.",
          "the first query matrix (encoder.layer.0.attention.self.query) of all-MiniLM-L6-v2, standing in for TinyBERT-4L-312D, in the quick and standard profiles; every 2-D tensor in the full profile (chapter 6)",
          "06_dna.html#the-pretrained-transformer"),
    Claim("manifold", "DNA", "004_cb9203b1bf485335.txt",
          "Neural network weights are not random points in space - they lie on low-dimensional manifolds with "
          "discoverable geometric structure.",
          "Narrowed to a smooth positional pattern: the R² of the SIREN on the weights minus its R² on the same "
          "weights permuted, paired per seed, against a stated margin. Low-rank linear structure is measured in "
          "chapter 6 separately.",
          "the first query matrix (encoder.layer.0.attention.self.query) of all-MiniLM-L6-v2, standing in for TinyBERT-4L-312D, in the quick and standard profiles; every 2-D tensor in the full profile (chapter 6)",
          "06_dna.html#the-pretrained-transformer"),
    Claim("weight_entropy", "DNA", "004_cb9203b1bf485335.txt",
          "Entropy Reduction: Trained weights have lower entropy than random",
          "Entropy of each trained network's weight values minus that of the same network's initial values, "
          "over independently initialised and trained digits MLPs (the units of the interval), of the values "
          "themselves and of their standardised shape (the verdict is recomputed on both). MiniLM, one "
          "network without its real initialisation, is shown against its nominal initialiser on the row; its "
          "standardised entropy cannot exceed that Gaussian's, so it does not decide.",
          "MLPs trained on the digits (chapter 6); all-MiniLM-L6-v2 against its nominal initialiser, shown",
          "06_dna.html#entropy-of-trained-and-initial-weights"),
    Claim("siren_r2", "DNA", "004_cb9203b1bf485335.txt",
          "> 0.99: Near-perfect fit",
          "R² of the SIREN fit of a pretrained transformer's weight matrix at the claimed 22× ratio, per fitting "
          "seed, above 0.99 (the write-up reports R² 0.995 for its TinyBERT fit and places it in this band).",
          "the first query matrix (encoder.layer.0.attention.self.query) of all-MiniLM-L6-v2, standing in for TinyBERT-4L-312D, in the quick and standard profiles; every 2-D tensor in the full profile (chapter 6)",
          "06_dna.html#the-pretrained-transformer"),
    Claim("multiscale", "DNA", "004_cb9203b1bf485335.txt",
          "Best reconstruction quality (+5-10 dB PSNR)",
          "PSNR of the multi-scale SIREN minus the single-scale one on the same matrix and budget, against the "
          "claimed gain of 5 to 10 dB (7.5 ± 2.5 dB). The write-up's gain compares a hierarchical model about "
          "three times the size of the basic one; here both have the same budget.",
          "the first query matrix (encoder.layer.0.attention.self.query) of all-MiniLM-L6-v2, standing in for TinyBERT-4L-312D, in the quick and standard profiles; every 2-D tensor in the full profile (chapter 6); one multi-scale fit in the standard profile",
          "06_dna.html#the-pretrained-transformer"),
    Claim("compressible", "DNA", "004_cb9203b1bf485335.txt",
          "Kolmogorov Complexity: Pattern-based representation is more compressible",
          "The SIREN's R² minus the best of the SVD and the Lloyd–Max quantiser at the same number of bits, per "
          "fitting seed, above 0: the pattern-based code explains more of the weights than value- or rank-based "
          "codes of the same size.",
          "all-MiniLM-L6-v2 standing in for TinyBERT-4L-312D (chapter 6)",
          "06_dna.html#the-pretrained-transformer"),
    Claim("generate", "DNA", "004_cb9203b1bf485335.txt",
          "Generate ANY weight from coordinates",
          "Weights generated by a SIREN at coordinates it was not fitted on: whole rows (hidden units) held "
          "out of the fit, and the R² of the generated values against the true weights there, per fitting seed, "
          "above a small margin; the same test on a planted smooth field is its positive control.",
          "all-MiniLM-L6-v2 standing in for TinyBERT-4L-312D (chapter 6)",
          "06_dna.html#the-pretrained-transformer"),
    Claim("convergence_ratio", "deep-lyapunov", "003_185370dfd885f97c.txt",
          "Do weight trajectories come together (< 1) or spread apart (> 1)?",
          "deep-lyapunov's convergence ratio on chapter 1's replicas: its side of 1 must agree with the sign of "
          "its own Lyapunov estimate and of the book's exponent on every seed; a seed where it does not is a "
          "counterexample.",
          "MLP on the digits, minibatch SGD (chapter 1's divergence run)",
          "01_lyapunov.html#finite-perturbations-replicas-trained-side-by-side"),
)

CLAIMS_BY_KEY = {claim.key: claim for claim in CLAIM_REGISTRY}
#: The claims in table order: (key, source, quote), for code that needs only these.
CLAIMS: tuple[tuple[str, str, str], ...] = tuple((c.key, c.source, c.quote) for c in CLAIM_REGISTRY)


@dataclass(frozen=True)
class Verdict:
    """One claim's verdict: the ``verdict`` word, the deciding ``quantity`` and its ``value`` with interval
    ``[low, high]`` and what the interval is (``interval_kind``), ``n_units`` independent units behind it,
    the ``rule`` that decided it, every threshold it used (``thresholds``), how it fares under the arbitrary
    choices (``robustness``), where it applies (``regime``), the ``link`` to the measurement and what would
    change it (``change``)."""

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
    rule: str = ""
    thresholds: str = ""
    robustness: str = ""
    n_units: int = 0

    def __post_init__(self) -> None:
        if not rules.is_word(self.verdict):
            raise ValueError(f"verdict={self.verdict!r} is not allowed; allowed values: {', '.join(VERDICTS)}, "
                             "or 'depends on <choice>'")
        check_choice("key", self.key, list(CLAIMS_BY_KEY))

    @property
    def word(self) -> str:
        return self.verdict


Row = Verdict


def _verdict(key: str, decision: Decision, quantity: str, regime: str, change: str, *, rule: str = "") -> Verdict:
    """A :class:`Verdict` for claim ``key`` from a rule's :class:`~uniq_core.rules.Decision`."""
    return Verdict(key, decision.word, quantity, decision.value, decision.low, decision.high,
                   decision.interval_kind, regime, CLAIMS_BY_KEY[key].link, change, rule or decision.rule,
                   decision.thresholds, decision.robustness, decision.n_units)


def _by_verdict(verdict: str, sentences: dict[str, str], otherwise: str) -> str:
    """The sentence on what would change ``verdict``: ``sentences[verdict]``, else ``otherwise``."""
    return sentences.get(verdict, otherwise)


_g = rules._g  # numbers in a row's texts are written as in the rules' own thresholds


def joined(values, form: str = "g", separator: str = ", ") -> str:
    """``values`` formatted with ``form`` and joined by ``separator``: lists of settings in glued text."""
    return separator.join(format(float(value) if form.endswith("g") else value, form) for value in values)


def number_text(value: float, low: float, high: float, kind: str = "") -> str:
    """``value`` with its interval, ``0.123 [0.1, 0.15]``; or, when ``kind`` says the two ends are a range,
    with the range, ``0.123 (range 0.1 to 0.15)``, or where the value is one end of it (the smallest or
    the largest decides) with the other end, ``0.1 (the smallest; the largest 0.15)``; the ends are left
    out when not finite."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return _g(value)
    if "range" in kind and "interval" not in kind:
        if _g(value) == _g(low) != _g(high):
            return f"{_g(value)} (the smallest; the largest {_g(high)})"
        if _g(value) == _g(high) != _g(low):
            return f"{_g(value)} (the largest; the smallest {_g(low)})"
        return f"{_g(value)} (range {_g(low)} to {_g(high)})"
    return f"{_g(value)} [{_g(low)}, {_g(high)}]"


def _seeds_text(values: np.ndarray) -> str:
    values = np.asarray(values, dtype=float).ravel()
    return ", ".join(_g(v) for v in values)



# ------------------------------------------------------------------------------------------- row functions
# Each reads the fields of its chapter's Results that decide one claim, applies one rule of uniq_core.rules,
# and recomputes it under the arbitrary choices behind it.


def row_lyapunov(divergence, regime, significance: float = 0.05, finite_size=None) -> Verdict:
    """The growth rate per epoch of a difference at initialisation (chapter 1), relative to the weights' norm
    (where measured; absolute otherwise), with :func:`~uniq_core.rules.interval_rule` over seeds. With
    ``finite_size`` (a :class:`~uniq_core.experiments.lyapunov.FiniteSizeResult` at the divergence run's
    setting) the deciding rate is that of random infinitesimal differences (the tangents of the SGD map,
    :func:`~uniq_core.experiments.lyapunov.tangent_exponents`), a lower bound on the top exponent: it never
    fails from it, and it holds only where the exponential part of a fit a + λt + p ln t holds too; the
    replicas' finite rate is reported beside it. Either is recomputed on the absolute spread and on the second
    half of the run (a rate that is not constant flips there). The regime map's cells (a t-test over seeds per cell, Holm-corrected over
    cells, only where a cell has at least ``MIN_UNITS`` seeds) enter the finite absolute recomputation,
    combined by :func:`~uniq_core.rules.grid_rule`."""
    from uniq_core.experiments.lyapunov import positive_cells, tangent_exponents

    seeds_per_cell = int(np.asarray(regime.exponent).shape[0])

    def cell_words(level: float) -> list[str]:
        if seeds_per_cell < rules.MIN_UNITS:
            return []
        sign = positive_cells(regime, 1 - level)["sign"]
        return [{1.0: HOLDS, -1.0: FAILS}.get(float(v), UNRESOLVED) for v in sign[np.isfinite(sign)]]

    from uniq_core.experiments.lyapunov import early_and_late_exponents, late_relative_exponents

    relative = "relative to the weights' norm"
    infinitesimal, finite_label = "infinitesimal (tangents)", "finite (the replicas' perturbation)"
    measured_relative = np.isfinite(np.asarray(getattr(divergence, "relative_exponent", np.nan), dtype=float)).any()
    rates = {("absolute", "whole run", finite_label): divergence.fitted_exponent}
    if hasattr(divergence, "spread") and hasattr(divergence, "epochs"):
        rates["absolute", "second half", finite_label] = early_and_late_exponents(divergence)[1]
    if measured_relative:
        rates[relative, "whole run", finite_label] = divergence.relative_exponent
        if all(hasattr(divergence, name) for name in ("spread", "epochs", "norm")):
            rates[relative, "second half", finite_label] = late_relative_exponents(divergence)
    if finite_size is not None:
        for spread_name in ("absolute", relative):
            for window_name in ("whole run", "second half"):
                rates[spread_name, window_name, infinitesimal] = tangent_exponents(
                    finite_size, relative=spread_name == relative, window=window_name)
    default_spread = relative if measured_relative or finite_size is not None else "absolute"
    if finite_size is not None:
        from uniq_core.experiments.lyapunov import tangent_growth_shape

        exponential_part = {spread_name: np.asarray(tangent_growth_shape(finite_size, relative=spread_name == relative)
                                                    ["rate"], dtype=float) for spread_name in ("absolute", relative)}
    default_size = infinitesimal if finite_size is not None else finite_label

    def decide(confidence: float = rules.CONFIDENCE, level: float = significance, spread: str = default_spread,
               window: str = "whole run", size: str = default_size) -> Decision:
        if (spread, window, size) not in rates:
            return rules.instrument_rule(f"the {spread} rate over the {window} at the {size} size is not measured")
        main = rules.interval_rule(rates[spread, window, size], confidence=confidence)
        if size == infinitesimal and main.word == FAILS:
            # a random direction's growth is a lower bound on the top finite-time exponent
            main = replace(main, word=UNRESOLVED, interval_kind=main.interval_kind + "; a random direction's growth "
                           "only bounds the top exponent from below, so a negative rate does not rule a positive one out")
        if size == infinitesimal and main.word == HOLDS:
            part = rules.interval_rule(exponential_part[spread], confidence=confidence)
            if part.word != HOLDS:  # growth that only decelerates shows no positive exponent
                main = replace(main, word=UNRESOLVED, interval_kind=main.interval_kind + "; the exponential part "
                               f"λ of a fit a + λt + p ln t is {part.word} ({part.value:+.4g} per epoch), and a "
                               "whole-run rate of decelerating growth falls to 0 with the window")
        # the regime map measures the absolute spread of finite perturbations
        cells = cell_words(level) if spread == "absolute" and size == finite_label else []
        return replace(main, word=rules.grid_rule([main.word, *cells]))

    spreads = tuple(dict.fromkeys(key[0] for key in rates))
    choices = {"confidence": CONFIDENCES,
               **({"spread": (relative, "absolute")} if len(spreads) > 1 else {}),
               **({"window": ("whole run", "second half")} if (default_spread, "second half", default_size) in rates
                  else {}),
               **({"level": (0.01, 0.1)} if seeds_per_cell >= rules.MIN_UNITS and finite_size is None else {})}
    decision = rules.robust(decide, choices, confidence=rules.CONFIDENCE, level=significance, spread=default_spread,
                            window="whole run", size=default_size)
    setting = ("the divergence run's setting (its random tangents)" if finite_size is not None
               else "divergence run only")
    sign = positive_cells(regime, 1 - significance)["sign"] if seeds_per_cell >= 2 else np.array([np.nan])
    finite = np.isfinite(sign)
    positive = finite & (sign == 1)
    if finite_size is not None:
        spread_name = relative if (relative, "whole run", finite_label) in rates else "absolute"
        finite_values = np.asarray(rates[spread_name, "whole run", finite_label], dtype=float)
        finite_rate = float(np.mean(finite_values[np.isfinite(finite_values)])) if np.isfinite(finite_values).any() \
            else float("nan")
        where = (f"{setting}; beside it, not deciding: the replicas' finite perturbation grows at "
                 f"{finite_rate:+.4g} per epoch ({'relative to the weights' if spread_name == relative else 'absolute'}), "
                 "and the regime map measures finite "
                 "absolute spreads")
    elif seeds_per_cell < rules.MIN_UNITS:
        where = (f"{setting}: the regime map has {grammar.plural(seeds_per_cell, 'seed')} per cell, fewer than "
                 f"{rules.MIN_UNITS}, so its cells decide nothing")
    elif measured_relative or finite_size is not None:
        where = (f"{setting}: the regime map measures the absolute spread of finite perturbations, so its cells "
                 "enter only that recomputation")
    elif positive.any():
        where = (f"positive in {int(positive.sum())} of {int(finite.sum())} cells of the map (Holm), at step sizes "
                 f"{_g(regime.lrs[positive.any(axis=1)].min())} to {_g(regime.lrs[positive.any(axis=1)].max())}")
    else:
        where = f"positive in none of the {int(finite.sum())} cells of the map (Holm)"
    if finite_size is not None:
        quantity = ("whole-run growth rate of a random infinitesimal difference (tangents of the SGD map) relative "
                    "to the weights' norm, per epoch")
    elif measured_relative:
        quantity = "exponent of the replicas' spread relative to the weights' norm, per epoch"
    else:
        quantity = "exponent of the replicas' spread, per epoch"
    change = ("An interval over seeds above zero, with an exponential part above zero too, would make it hold; a "
              "random direction bounds the top exponent only from below, so only a Benettin spectrum of the SGD "
              "map relative to the weights below zero could make it fail." if finite_size is not None else
              "An interval over seeds above zero at every setting would make it hold; below zero, fail.")
    return _verdict("lyapunov", decision, quantity, where, change)


def stationary_entropy_decision(stationary) -> Decision:
    """SGD entropy production at a stationary minimum (chapter 2): the cross-chain estimate per seed, judged
    over seeds by :func:`~uniq_core.rules.interval_rule` and recomputed on each half of the chains (a burn-in
    choice); a Langevin null control that fails leaves it not resolved
    (:func:`~uniq_core.rules.instrument_rule`)."""
    segments = {"whole chains": stationary.sgd_estimate, "first half": stationary.sgd_first_half,
                "second half": stationary.sgd_second_half}

    def decide(segment: str = "whole chains", confidence: float = rules.CONFIDENCE) -> Decision:
        if not bool(stationary.langevin_null_holds):
            return rules.instrument_rule("the Langevin null control is not consistent with zero",
                                         float(stationary.sgd_pooled))
        return rules.interval_rule(segments[segment], confidence=confidence)

    return rules.robust(decide, {"segment": ("first half", "second half"), "confidence": CONFIDENCES},
                        segment="whole chains", confidence=rules.CONFIDENCE)


def row_entropy(stationary, config=None, training=None, learning=None, learning_config=None) -> Verdict:
    """The claim is about learning, and as worded it cannot fail. Plain minibatch SGD's path measures are
    singular (each step is a deterministic map of its batch, so the reverse of a step has probability zero):
    its entropy production along the run is +∞. Under a Gaussian noise model, the linearised chain's
    housekeeping (non-equilibrium) part is positive whenever the minibatch noise does not commute with the
    curvature, and its excess (relaxation) part is positive for any chain that starts away from its
    stationary law, reversible or not. So the claim is **not testable here** as a property of networks
    (:func:`~uniq_core.rules.untestable_rule`); the row shows what the model measures of its size
    (:func:`~uniq_core.experiments.entropy.run_learning`): SGD's housekeeping over the run, the share of the
    total, the Langevin control, the model's distance from a real run, and the stationary estimate at a
    minimum (:func:`stationary_entropy_decision`), the answer to a narrower question. Without the learning
    Result the row says the learning run is not measured."""
    stationary_decision = stationary_entropy_decision(stationary)
    beside = (f"SGD's entropy production at a stationary minimum: {stationary_decision.word} "
              f"({stationary_decision.interval_kind})")
    if learning is None:
        decision = rules.robust(lambda: replace(rules.untestable_rule(
            "entropy production along the learning run is not measured; the stationary estimate at a minimum "
            "answers a narrower question"), value=float(stationary_decision.value)), {})
        return _verdict("entropy", decision, "SGD's entropy production at a stationary minimum (shown, not "
                        "deciding), nats per step", f"{beside}; the learning transient is not measured",
                        "An estimate of SGD's entropy production along the run, with a Langevin control that reads "
                        "only its relaxation, above zero over at least five seeds would make it hold.")
    from uniq_core.experiments import entropy

    learning_config = learning_config or entropy.LearningConfig.for_profile()
    summary = entropy.learning_summary(learning, learning_config)
    reason = ("cannot fail as worded: plain SGD's path measures are singular (a reverse step has probability "
              "zero), so its entropy production is +∞; under a Gaussian noise model the housekeeping part is "
              "positive whenever the minibatch noise does not commute with the curvature, and the excess part for "
              "any chain started away from its stationary law; the number shown is the model's housekeeping over "
              f"the run, mean over {summary['seeds']} seeds")
    resolved = summary["seeds"] >= rules.MIN_UNITS
    low, high = summary["housekeeping_interval"] if resolved else (np.nan, np.nan)
    decision = rules.robust(lambda: replace(rules.untestable_rule(reason), value=float(summary["housekeeping_mean"]),
                                            low=float(low), high=float(high), n_units=int(summary["seeds"])), {})
    sizes = "; ".join(f"{int(d)} directions {_g(float(np.mean(entropy.learning_summary(learning, learning_config, int(d))['housekeeping'])))}"
                      for d in learning.subspaces)
    decision = replace(decision, robustness=(
        f"the word cannot change; the size shown depends on its choices: the directions observed ({sizes} nats), "
        f"the horizon (first tenth of the run {_g(float(np.mean(summary['early'])))}, ten times the run "
        f"{_g(float(np.mean(summary['late'])))}), where Σ_g is taken (at the initialisation "
        f"{_g(float(np.mean(summary['initial_noise'])))}) and the initial spread (the initialisation's "
        f"{_g(float(np.mean(summary['initial_spread'])))})"))
    beyond = int(np.sum(summary["deviation"] > summary["null_deviation"]))
    regime = (f"a model, not the run: the linearised chain at each seed's minimum (Gaussian, state-independent "
              f"noise η²Σ_g/B with Σ_g at the minimum), started at that seed's initialisation projected on the top "
              f"{learning_config.subspace} stable directions with the chain's stationary spread; MLP "
              f"{learning_config.widths} on {learning_config.dataset} (n = {learning_config.n_train}), η = "
              f"{learning_config.lr:g}, B = {learning_config.batch_size}, {learning_config.steps} steps, "
              f"{summary['seeds']} seeds (the write-up names no model or setting); SGD's total "
              f"{_g(float(np.mean(summary['total'])))} nats, {100 * float(np.mean(summary['share'])):.2g}% of it "
              f"housekeeping (mean per-seed share; set by the horizon, by B/η² and by the projection); the "
              f"reversible Langevin control: total {_g(float(np.mean(summary['langevin_total'])))} nats, all "
              f"excess; a real SGD run from the same initialisation departs from the chain by more than the "
              f"chain's own paths on {beyond} of {summary['seeds']} seeds; {beside}")
    return _verdict("entropy", decision, "none decides (the claim cannot fail as worded); shown: SGD's housekeeping "
                    "(non-equilibrium) entropy production over the learning run in the linearised Gaussian chain, "
                    "nats", regime,
                    "Nothing measurable as worded: the claim would have to name a size (for example a housekeeping "
                    "share of the entropy production over a stated horizon and noise model) to become testable.")


def row_topology(trajectories) -> Verdict:
    """Chapter 3: "distinct topological equivalence classes" is ill-posed (a path is contractible: every
    trajectory is in one homotopy class), so the claim is not testable as stated
    (:func:`~uniq_core.rules.untestable_rule`) and no rejection can make it hold. What the book tests
    instead, the two-sample test of whole runs on persistence landscapes, is in the chapter with its size and
    power; the chapter's runs are not independent units (they share an initialisation, and in one group a data
    order), so no comparison of them stands in for the claim."""
    from uniq_core.experiments import topology

    runs = len(topology.run_diagrams(trajectories, "weight")) - 1
    decision = rules.robust(lambda: rules.untestable_rule(
        "ill-posed as stated; a two-sample comparison of trajectory shapes needs independent runs as units, and "
        "the chapter's runs share an initialisation (and, in one group, a data order)"), {})
    return _verdict("topology", decision, "none: no number can decide a claim about classes of contractible paths",
                    f"a path is contractible, so every trajectory is in one topological class; {runs} perturbed runs "
                    f"per group, not independent units",
                    "Nothing measurable: the claim would first have to be restated (for example as a difference "
                    "between the distributions of trajectory shapes of independent runs under two conditions).")


#: Two networks compute one function on the test set, to rounding, when no softmax output differs by more.
SAME_FUNCTION_TOLERANCE = 1e-6


def row_reproducibility(trajectories, reproducibility=None, independent=None) -> Verdict:
    """"Structurally unique with probability one", as functions (chapter 3): a universal claim, judged by
    :func:`~uniq_core.rules.counterexample_rule`. A counterexample is a run perturbed at initialisation whose
    softmax outputs equal the unperturbed reference's to rounding (:data:`SAME_FUNCTION_TOLERANCE`) on every
    test input; recomputed with "same function" read as the same argmax prediction on every test input (the
    notion decides the word), and on runs with their own data orders where given. Any continuous perturbation makes
    outputs differ, so "holds" is expected and says little; the argmax disagreement is shown beside it. The
    introduction's bit-for-bit re-execution is its own statement, reported beside it, not the verdict."""
    reexecution = ""
    if reproducibility is not None:
        rerun = list(reproducibility.names).index("re-run")
        reexecution = ("; a re-execution on the same CPU, seed and threads is bit-identical (exact reproducibility "
                       "holds there)" if bool(reproducibility.bitwise_identical[rerun]) else
                       "; a re-execution on the same CPU, seed and threads differs in its bits")
    orders = {"one data order": trajectories, **({"own data orders": independent} if independent is not None else {})}

    softmax, argmax = f"softmax outputs to {SAME_FUNCTION_TOLERANCE:g}", "argmax predictions"

    def decide(order: str = "one data order", same_function: str = softmax) -> Decision:
        difference = np.asarray(getattr(orders[order], "output_difference", np.nan), dtype=float).ravel()[1:]
        difference = difference[np.isfinite(difference)]
        if not difference.size:
            return rules.instrument_rule("output differences were not recorded")
        if same_function == softmax:
            same = int(np.sum(difference <= SAME_FUNCTION_TOLERANCE))
        else:
            disagreement = np.asarray(orders[order].disagreement, dtype=float)[0, 1:]
            same = int(np.sum(disagreement[np.isfinite(disagreement)] == 0))
        return replace(rules.counterexample_rule(same, int(difference.size),
                                                 what=f"perturbed runs equal to the reference in their {same_function} "
                                                      "on every test input"),
                       value=float(np.min(difference)))

    choices = {"same_function": (softmax, argmax), **({"order": tuple(orders)} if len(orders) > 1 else {})}
    decision = rules.robust(decide, choices, order="one data order", same_function=softmax)
    per_run = np.asarray(trajectories.disagreement, dtype=float)[0, 1:]
    finite = per_run[np.isfinite(per_run)]
    return _verdict("reproducibility", decision,
                    "smallest largest-difference of a perturbed run's softmax outputs from the reference's",
                    f"runs from one initialisation perturbed at initialisation; expected of any continuous "
                    f"perturbation, so it says little; in argmax predictions they disagree with the reference on "
                    f"{100 * float(finite.mean()):.2g}% of test inputs on average, {int(np.sum(finite == 0))} of "
                    f"{finite.size} on none{reexecution}",
                    "A perturbed run computing the reference's function to rounding would be a counterexample.")


def _settings_indices(settings, names: Sequence[str]) -> list[int]:
    settings_names = list(settings.settings)
    return [settings_names.index(name) for name in names if name in settings_names]


def _largest(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def _smallest(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmin(values)) if np.isfinite(values).any() else float("nan")


def row_probes_pass(settings, settings_config) -> Verdict:
    """Chapter 4, finding (a): the write-up's energy drift D per network and setting (GroupNorm, frozen
    BatchNorm), its largest value over seeds against the write-up's threshold
    (:func:`~uniq_core.rules.threshold_rule`), combined over the cells by :func:`~uniq_core.rules.grid_rule`.
    The round trip and Ω, which cannot fail for gradient forces on a fixed batch schedule, are reported, not
    used; a diverged run (NaN) leaves its cell not resolved. Recomputed at other thresholds, step sizes and at
    half the learning time (the drift's floor grows with it), from the runs' energy curves."""
    claimed = _settings_indices(settings, ("group", "frozen_batch"))
    dts = np.asarray(settings.dts, dtype=float)
    order = np.argsort(dts)
    energy = np.asarray(settings.energy_drift, dtype=float)[:, claimed]  # networks × settings × dts × seeds
    shadow = np.asarray(settings.shadow_drift, dtype=float)[:, claimed, order[0]]
    negative = np.asarray(getattr(settings, "negative_dt", np.full(shadow.shape, np.nan)), dtype=float)[:, claimed,
                                                                                                      order[0]]

    def decide(threshold: float = settings_config.energy_threshold, dt: float = float(dts[order[0]]),
               time: float = 1.0) -> Decision:
        drift = energy if time == 1.0 else drift_at_time(settings, time)[:, claimed]
        at_step = drift[:, :, int(np.argmin(np.abs(dts - dt)))]
        cells = [rules.threshold_rule(float(np.max(cell)) if np.all(np.isfinite(cell)) else float("nan"),
                                      threshold=threshold, claimed="below").word
                 for cell in at_step.reshape(-1, at_step.shape[-1])]
        return Decision(rules.grid_rule(cells), _largest(at_step), _smallest(at_step), _largest(at_step),
                        int(np.isfinite(at_step).sum()),
                        f"range over networks, both settings and seeds at Δt = {_g(dt)}; "
                        f"{cells.count(HOLDS)} of {len(cells)} network × setting cells below", "grid_rule",
                        f"energy drift below {_g(threshold)} on every seed of a cell")

    threshold = settings_config.energy_threshold
    choices = {"threshold": (threshold / 2, threshold * 2)}
    if len(dts) >= 3:
        choices["dt"] = (float(dts[order[1]]), float(dts[order[2]]))
    if hasattr(settings, "energy"):
        choices["time"] = (0.5, 1.0)  # the learning time, as a share of the runs': the floor grows with it
    decision = rules.robust(decide, choices, threshold=threshold, dt=float(dts[order[0]]), time=1.0)
    return _verdict("probes_pass", decision, "largest energy drift D at the smallest step",
                    f"SimpleCNN and ResNet; round trip and Ω below tolerance by construction; ΔNEGdt "
                    f"{_g(_smallest(negative))} to {_g(_largest(negative))} of the path (at β < 1 the −dt map "
                    f"returns to no setting's start, so it is compared between settings in (b), not thresholded); "
                    f"the shadow account drifts {_g(_smallest(shadow))} to {_g(_largest(shadow))} (a check that "
                    f"forces are gradients)",
                    "Every cell's drift below the threshold would make it hold; every cell's above, fail.")


#: The settings train-mode BatchNorm's ΔNEGdt is compared with: those that start from the same initial state
#: (BatchNorm frozen after training starts from a trained network, and its runs diverge at larger steps).
BATCHNORM_COMPARATORS = ("group", "frozen_batch")


def batchnorm_excess(settings, comparator: str, dt: float | None = None) -> np.ndarray:
    """Per network × seed, log(train-mode BatchNorm's ΔNEGdt / ``comparator``'s ΔNEGdt) at step ``dt``
    (default the smallest), paired by seed: above 0 where train-mode BatchNorm returns worse. NaN where a run
    diverged."""
    names = list(settings.settings)
    dts = np.asarray(settings.dts, dtype=float)
    j = int(np.argmin(dts)) if dt is None else int(np.argmin(np.abs(dts - dt)))
    negative = np.asarray(settings.negative_dt, dtype=float)[:, :, j]  # networks × settings × seeds
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(negative[:, names.index("batch")]) - np.log(negative[:, names.index(comparator)])


def control_excess(settings, control, dt: float | None = None) -> np.ndarray:
    """Per seed, log(ΔNEGdt of the running-statistics force (the positive control's only setting) / ΔNEGdt of
    frozen BatchNorm on the same network, seeds and minibatches) at step ``dt`` (default the smallest): above
    0 where the probe sees a force that reads the path's history return worse."""
    dts = np.asarray(settings.dts, dtype=float)
    j = int(np.argmin(dts)) if dt is None else int(np.argmin(np.abs(dts - dt)))
    network = list(settings.networks).index(str(control.networks[0]))
    frozen = np.asarray(settings.negative_dt, dtype=float)[network, list(settings.settings).index("frozen_batch"), j]
    running = np.asarray(control.negative_dt, dtype=float)[0, 0, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(running) - np.log(frozen)


def drift_at_time(settings, share: float) -> np.ndarray:
    """The energy drift D of every run read at ``share`` of its learning time (the tail median of the
    cumulative account up to that step, from the Result's ``energy`` curves): networks × settings × dts ×
    seeds, NaN where the run diverged."""
    from uniq_core import probes

    curves = np.asarray(settings.energy, dtype=float)
    out = np.full(curves.shape[:-1], np.nan)
    for j, steps in enumerate(np.asarray(settings.steps, dtype=int)):
        end = max(2, int(round(share * steps)))
        for index in np.ndindex(curves.shape[0], curves.shape[1], curves.shape[3]):
            a, b, seed = index
            curve = curves[a, b, j, seed, : end + 1]
            out[a, b, j, seed] = probes.tail_drift(curve, 1.0) if np.isfinite(curve).all() else np.nan
    return out


def row_batchnorm_fails(settings, settings_config, control=None) -> Verdict:
    """Chapter 4, finding (b), decided by the write-up's reversibility probe, ΔNEGdt, which can fail for any
    setting: train-mode BatchNorm "systematically fails" where its ΔNEGdt exceeds each comparator's
    (:data:`BATCHNORM_COMPARATORS`, settings that start from the same state) by more than the stated margin,
    on every network; it fails where it stays below that margin (:func:`batchnorm_excess`, the log ratio
    paired by seed; per network × comparator cell the interval rule at a level corrected for the number of
    cells, combined by :func:`~uniq_core.rules.grid_rule`). At β < 1 the −dt map damps on the way back too
    and returns to no setting's start, so the ratio asks only whether train-mode BatchNorm returns worse. The
    exact reversal and Ω hold to rounding for train-mode BatchNorm as for every gradient force: they are
    reported as what they are, the map as built is reversible and symplectic. The positive control
    (``control``, :func:`uniq_core.experiments.probes.control_config`): a force that reads the running
    statistics, which each call updates, so that it differs on the way back; the same ratio against frozen
    BatchNorm (:func:`control_excess`) must lie above the margin, or the probe has shown no power and the row
    is not resolved (:func:`~uniq_core.rules.instrument_rule`)."""
    names = list(settings.settings)
    batch = names.index("batch")
    comparators = [c for c in BATCHNORM_COMPARATORS if c in names]
    dts = np.asarray(settings.dts, dtype=float)
    order = np.argsort(dts)
    omega = np.asarray(settings.omega, dtype=float)[:, batch]
    round_trip = np.asarray(settings.round_trip, dtype=float)[:, batch]
    n_cells = len(settings.networks) * len(comparators)

    def decide(margin: float = BATCHNORM_MARGIN, dt: float = float(dts[order[0]]),
               confidence: float = rules.CONFIDENCE) -> Decision:
        level = 1 - (1 - confidence) / max(n_cells, 1)
        if control is not None:
            power = rules.interval_rule(control_excess(settings, control, dt), null=float(np.log1p(margin)),
                                        direction=1, confidence=level)
            if power.word != rules.HOLDS:
                return rules.instrument_rule(
                    f"positive control: a force that reads the running statistics returns ΔNEGdt "
                    f"{np.exp(power.value):.2f} [{np.exp(power.low):.2f}, {np.exp(power.high):.2f}] times frozen "
                    f"BatchNorm's at Δt = {_g(dt)}, not above {_g(1 + margin)}: the probe shows no power",
                    float(np.exp(power.value)))
        cells = []
        for comparator in comparators:
            excess = batchnorm_excess(settings, comparator, dt)
            for network, row in zip(settings.networks, excess):
                cells.append((f"{network} against {comparator}",
                              rules.interval_rule(row, null=float(np.log1p(margin)), direction=1, confidence=level)))
        means = np.array([d.value for _, d in cells], dtype=float)
        text = "; ".join(f"{label} {np.exp(d.value):.2f}" + (f" [{np.exp(d.low):.2f}, {np.exp(d.high):.2f}]"
                                                              if np.isfinite(d.low) else "") + f" {d.word}"
                         for label, d in cells)
        return Decision(rules.grid_rule([d.word for _, d in cells]),
                        float(np.exp(np.nanmedian(means))) if np.isfinite(means).any() else float("nan"),
                        n_units=min(d.n_units for _, d in cells),
                        interval_kind=f"ratio train-mode BatchNorm / comparator at Δt = {_g(dt)}, per network × "
                                      f"comparator a {level:.1%} t-interval over seeds: {text}",
                        rule="interval_rule",
                        thresholds=f"claim: ratio above {_g(1 + margin)} in every cell (holds when its interval is "
                                   f"above, fails when below); at least {rules.MIN_UNITS} seeds per cell")

    choices = {"margin": (0.1, 0.5), "confidence": CONFIDENCES}
    if len(dts) >= 3:
        choices["dt"] = (float(dts[order[1]]), float(dts[order[2]]))
    decision = rules.robust(decide, choices, margin=BATCHNORM_MARGIN, dt=float(dts[order[0]]),
                            confidence=rules.CONFIDENCE)
    return _verdict("batchnorm_fails", decision,
                    "train-mode BatchNorm's ΔNEGdt over the comparator's (median over cells)",
                    f"SimpleCNN and a small ResNet, β = {_g(float(getattr(settings_config, 'beta', float('nan'))))}, "
                    f"against GroupNorm and calibrated frozen BatchNorm (write-up: ResNet-18); at β < 1 the −dt map "
                    f"returns to no setting's start; train-mode BatchNorm's exact return error "
                    f"{_g(_smallest(round_trip))} to {_g(_largest(round_trip))} and Ω error {_g(_smallest(omega))} "
                    f"to {_g(_largest(omega))}, rounding: as built, the map is reversible and symplectic",
                    "An interval above the margin in every network × comparator cell would make it hold.")


def row_dose_response(settings_dose) -> Verdict:
    """Chapter 4, finding (c): the largest relative change of a probe over the BN momenta against a stated
    threshold (:func:`~uniq_core.rules.threshold_rule`); when the change is exactly zero the probes do not read
    the running statistics at all, and decide nothing (:func:`~uniq_core.rules.instrument_rule`)."""
    spread = float(settings_dose.probe_spread)
    if spread == 0.0:
        decision = rules.robust(lambda: rules.instrument_rule(
            "train-mode probes do not read the running statistics: they cannot respond to their momentum", spread), {})
    else:
        decision = rules.robust(lambda threshold=DOSE_RESPONSE_THRESHOLD: rules.threshold_rule(
            spread, threshold=threshold, what="largest over networks and seeds"),
            {"threshold": (0.05, 0.2)}, threshold=DOSE_RESPONSE_THRESHOLD)
    return _verdict("dose_response", decision, "largest relative change of a probe over the momenta",
                    "train-mode BatchNorm", "Probes that read the running statistics and change by more than the "
                    "threshold as the momentum varies would make it hold.")


def _mass_settings(mass) -> tuple[dict[str, tuple[float, float]], str]:
    """Every (threshold, horizon factor) pair a mass Result measured, labelled "threshold D at f·T", and the
    chapter's label (its middle threshold at factor 1). A Result without a grid has only the chapter's."""
    thresholds = [float(t) for t in np.asarray(getattr(mass, "thresholds", []), dtype=float)]
    factors = [float(f) for f in np.asarray(getattr(mass, "horizon_factors", []), dtype=float)]
    if not thresholds:
        return {"chapter's": (float("nan"), 1.0)}, "chapter's"
    settings = {f"{_g(t)} at {_g(f)}·T": (t, f) for t in thresholds for f in factors}
    return settings, f"{_g(thresholds[len(thresholds) // 2])} at 1·T"


def _mass_slopes_at(mass, setting: tuple[float, float]) -> np.ndarray:
    """Per-seed exponents at one (threshold, horizon factor); the chapter's when the Result has no grid."""
    if not hasattr(mass, "slopes_by"):
        return np.asarray(mass.slopes, dtype=float)
    threshold, horizon = setting
    a = int(np.argmin(np.abs(np.asarray(mass.thresholds, dtype=float) - threshold)))
    b = int(np.argmin(np.abs(np.asarray(mass.horizon_factors, dtype=float) - horizon)))
    return np.asarray(mass.slopes_by, dtype=float)[a, b]


def row_mass_scaling(mass) -> Verdict:
    """Chapter 4: per-seed exponents of dt_zero against M at a fixed physical horizon, against the claimed
    1/2 within a stated tolerance (:func:`~uniq_core.rules.value_rule`; censored dt_zero left out), recomputed
    at every threshold × horizon pair measured (jointly, not one at a time). Over a fixed number of steps
    the exponent is 1/2 by an identity of the map, which cannot fail; the row names both protocols and the
    one-line theory's exponent, 1 for any network where the runs are long
    (:func:`uniq_core.probes.switching_drift`)."""
    settings, default = _mass_settings(mass)

    def decide(tolerance: float = MASS_TOLERANCE, confidence: float = rules.CONFIDENCE, **rest: str) -> Decision:
        return rules.value_rule(_mass_slopes_at(mass, settings[rest.get("threshold and horizon", default)]),
                                claimed=MASS_EXPONENT, tolerance=tolerance, confidence=confidence)

    choices = {"tolerance": (0.05, 0.2), "confidence": CONFIDENCES}
    if len(settings) >= 2:
        choices["threshold and horizon"] = tuple(settings)
    decision = rules.robust(decide, choices, tolerance=MASS_TOLERANCE, confidence=rules.CONFIDENCE,
                            **{"threshold and horizon": default})
    theory = np.asarray(getattr(mass, "predicted_slopes", []), dtype=float)
    return _verdict("mass_scaling", decision, "exponent of dt_zero against M at a fixed physical horizon (claim: 1/2)",
                    f"SimpleCNN, masses {_seeds_text(getattr(mass, 'masses', []))}, per-seed exponents "
                    f"{_seeds_text(mass.slopes)} (dt_zero reached in fewer than a dozen steps censored); over a "
                    "fixed number of steps 1/2 is an identity of the map (cannot fail); the drift's one-line "
                    "theory predicts 1 for any network over long runs"
                    + (f" ({_seeds_text(theory)} from tr Σ_g at θ_0)" if theory.size else ""),
                    "An interval over at least five seeds within the tolerance of 1/2 would make it hold; one "
                    "excluding 1/2, fail.")


def row_deeper_deviate(mass, resnet_mass) -> Verdict:
    """Chapter 4: the ResNet's exponent minus the SimpleCNN's, paired by seed. "Deviate" holds when the
    difference's interval lies outside ± the stated margin and fails when it lies inside: the value rule on
    the difference (claimed 0), with its words swapped (:func:`~uniq_core.rules.value_rule`); recomputed at
    every threshold × horizon pair measured. The one-line theory predicts no deviation (exponent 1 for both)."""
    swap = {HOLDS: FAILS, FAILS: HOLDS}
    settings, default = _mass_settings(mass)

    def difference(setting: str) -> np.ndarray:
        deep, shallow = _mass_slopes_at(resnet_mass, settings[setting]), _mass_slopes_at(mass, settings[setting])
        count = min(len(deep), len(shallow))
        return deep[:count] - shallow[:count]

    def decide(margin: float = DEVIATION_MARGIN, confidence: float = rules.CONFIDENCE, **rest: str) -> Decision:
        same = rules.value_rule(difference(rest.get("threshold and horizon", default)), claimed=0.0,
                                tolerance=margin, confidence=confidence)
        return replace(same, word=swap.get(same.word, same.word),
                       thresholds=f"deviation: interval outside ± {_g(margin)}; none: inside it; "
                                  f"{confidence:.0%} level; at least {rules.MIN_UNITS} seeds")

    choices = {"margin": (0.05, 0.2), "confidence": CONFIDENCES}
    if len(settings) >= 2:
        choices["threshold and horizon"] = tuple(settings)
    decision = rules.robust(decide, choices, margin=DEVIATION_MARGIN, confidence=rules.CONFIDENCE,
                            **{"threshold and horizon": default})
    deep = np.asarray(resnet_mass.slopes, dtype=float)
    shallow = np.asarray(mass.slopes, dtype=float)
    return _verdict("deeper_deviate", decision, "ResNet's mass exponent minus SimpleCNN's, paired by seed",
                    f"fixed physical horizon; small ResNet {_seeds_text(deep)}, SimpleCNN {_seeds_text(shallow)}; the one-line theory predicts "
                    "exponent 1 for both, no deviation; write-up: ResNet-18",
                    "An interval over at least five seeds excluding 0 would make it hold.")


def row_degenerate(training) -> Verdict:
    """Chapter 5: the null dimension of the trained network's Fisher metric is a count without sampling error
    per seed; the claim is about every seed, so the smallest count over seeds is judged against zero
    (:func:`~uniq_core.rules.threshold_rule`) and recomputed at the fixed tolerances the chapter also counts
    at. With any continuous symmetry the count is above zero by construction; the row says so."""
    counts = np.asarray(training.null_dimension, dtype=float)[:, -1]
    by_rtol = np.asarray(getattr(training, "null_by_rtol", np.full((len(counts), 1, 0), np.nan)), dtype=float)
    rtols = list(np.asarray(getattr(training, "rtols", []), dtype=float))

    def decide(tolerance: str = "gap") -> Decision:
        values = counts if tolerance == "gap" else by_rtol[:, -1, rtols.index(float(tolerance))]
        finite = values[np.isfinite(values)]
        decision = rules.threshold_rule(float(finite.min()) if finite.size else float("nan"), threshold=0.0,
                                        what=f"smallest over {finite.size} seeds")
        return replace(decision, value=float(np.mean(finite)) if finite.size else float("nan"),
                       low=_smallest(values), high=_largest(values), n_units=int(finite.size),
                       interval_kind=f"range over {finite.size} seeds; the smallest decides")

    choices = {"tolerance": tuple(str(r) for r in (rtols[0], rtols[-1]))} if len(rtols) >= 2 else {}
    decision = rules.robust(decide, choices, tolerance="gap")
    excess = counts - training.predicted_null
    construction = (f"; {training.predicted_null} of these directions are symmetries, null for every input, so "
                    f"the count is above zero by construction; beyond them {_g(_smallest(excess))} to "
                    f"{_g(_largest(excess))} per seed") if training.predicted_null > 0 else ""
    return _verdict("degenerate", decision, "null dimension of the Fisher metric after training",
                    f"the {training.architecture} network on the digits{construction}",
                    "Nothing that keeps the architecture: a network without continuous symmetries and a probe that "
                    "sees every parameter would.")


def row_gauge(check, training) -> Verdict:
    """Chapter 5: whether the trained null space is mostly gauge directions proper (symmetries of the
    architecture): the share the symmetries explain, per seed, above one half
    (:func:`~uniq_core.rules.interval_rule`). The known answer at initialisation (measured null dimension =
    symmetry count on random inputs) is the instrument's check: a mismatch there, or fewer null directions than
    exact symmetries after training, leaves it not resolved (:func:`~uniq_core.rules.instrument_rule`)."""
    known = check.predicted >= 0
    mismatches = int(np.sum(check.predicted[known] != check.measured[known]))
    nulls = np.asarray(training.null_dimension[:, -1], dtype=float)
    share = training.predicted_null / nulls
    finite = nulls[np.isfinite(nulls)]

    def decide(mostly: float = MOSTLY, confidence: float = rules.CONFIDENCE) -> Decision:
        if mismatches:
            return rules.instrument_rule("the null dimension differs from the symmetry count in "
                                         f"{grammar.plural(mismatches, 'known case')} at initialisation",
                                         float(np.nanmean(share)))
        if len(finite) == 0 or bool(np.any(finite < training.predicted_null)):
            return rules.instrument_rule("fewer null directions than exact symmetries on some seed",
                                         float(np.nanmean(share)))
        return rules.interval_rule(share, null=mostly, confidence=confidence)

    decision = rules.robust(decide, {"mostly": (0.4, 0.6), "confidence": CONFIDENCES},
                            mostly=MOSTLY, confidence=rules.CONFIDENCE)
    from_data = float(np.nanmean((training.explained_null_data[:, -1] - training.predicted_null) / nulls))
    return _verdict("gauge", decision, "share of the trained null space that symmetries explain",
                    f"instrument check: at initialisation on random inputs the null dimension equals the symmetry "
                    f"count in {int(known.sum()) - mismatches} of {int(known.sum())} cases; on the digits "
                    f"{from_data:.0%} of the trained null space comes from the data support",
                    "A share above one half over at least five seeds would make it hold.")


def row_effective_rank(teacher) -> Verdict:
    """Chapter 5: on teacher–student tasks whose labels depend on k of d input directions, per teacher,
    MacKay's count of the trained student's Fisher on isotropic inputs over the same on inputs aligned with
    the k relevant directions (:func:`~uniq_core.rules.value_rule`, claimed 1 within
    :data:`PLANTED_TOLERANCE`): a count of task-relevant directions does not change when directions the
    task ignores are excited. Decided only where the aligned inputs, the positive control, give the
    task-relevant count within the same tolerance (else :func:`~uniq_core.rules.instrument_rule`);
    recomputed at every k run and a second tolerance (:func:`~uniq_core.rules.robust`). The participation
    ratio and the entropy rank are reported, not used: they weigh unequal eigenvalues below one each and do
    not give the count even on aligned inputs."""
    ks = [int(k) for k in np.asarray(teacher.ks)]

    def decide(k: int = ks[0], tolerance: float = PLANTED_TOLERANCE) -> Decision:
        aligned = teacher.ratio("mackay", "aligned", k)
        if not abs(float(np.mean(aligned)) - 1) < tolerance:
            return rules.instrument_rule(f"positive control: on aligned inputs MacKay's count is {_g(float(np.mean(aligned)))} "
                                         f"× the task-relevant count at k = {k}, not within {_g(tolerance)}",
                                         float(np.mean(aligned)))
        return rules.value_rule(teacher.ratio("mackay", "isotropic", k) / aligned, claimed=1.0, tolerance=tolerance,
                                unit="teachers")

    choices: dict[str, tuple] = {"tolerance": (PLANTED_TOLERANCE, 0.25)}
    if len(ks) > 1:
        choices["k"] = tuple(ks)
    decision = rules.robust(decide, choices, k=ks[0], tolerance=PLANTED_TOLERANCE)
    others = ", ".join(f"{name} {_g(float(np.mean(teacher.ratio(measure, 'aligned'))))}"
                       for measure, name in (("participation", "participation ratio"), ("entropy", "entropy rank")))
    random = float(np.mean(teacher.ratio("mackay", "random labels") / teacher.ratio("mackay", "isotropic")))
    return _verdict("effective_rank", decision,
                    "MacKay count of the student's Fisher, isotropic over aligned inputs (claim: 1)",
                    f"linear softmax student of teachers using {ks[0]} of "
                    f"{int(round(teacher.data_count * (ks[0] + 1) / teacher.relevant_counts[0])) - 1} "
                    f"input directions ({int(teacher.relevant_counts[0])} of {int(teacher.data_count)} student directions); "
                    f"on aligned inputs MacKay's count is {_g(float(np.mean(teacher.ratio('mackay', 'aligned'))))} × the "
                    f"task-relevant count (the positive control; {others}); with random labels "
                    f"{_g(random)} × the teacher's",
                    "An effective rank that stays at the task-relevant count when the inputs also vary along "
                    "directions the task ignores would make it hold.")


def row_thin_subset(divergence) -> Verdict:
    """Chapter 1's trajectories: their effective dimensionality per seed against an isotropic random walk's at
    the same number of checkpoints (:func:`uniq_core.lyapunov.random_walk_effective_dimensionality`), with
    :func:`~uniq_core.rules.interval_rule` claiming "below"."""
    epochs = int(len(np.asarray(divergence.epochs)))
    walk, walk_spread = lyapunov_measures.random_walk_effective_dimensionality(max(epochs, 2))
    decision = rules.robust(lambda confidence=rules.CONFIDENCE: rules.interval_rule(
        divergence.effective_dimensionality, null=walk, direction=-1, confidence=confidence),
        {"confidence": CONFIDENCES}, confidence=rules.CONFIDENCE)
    return _verdict("thin_subset", decision, "effective dimensionality of the replicas' trajectories",
                    f"random walk at the same {epochs} checkpoints: {_g(walk)} ± {_g(walk_spread)}; parameters: "
                    f"{int(divergence.n_parameters)}",
                    "An effective dimensionality at or above a random walk's would make it fail.")


def _at_claimed_ratio(key: str, minilm, claimed_ratio: float, values: np.ndarray, claimed: float,
                      quantity: str, per_seed: str, claimed_r2: float) -> Verdict:
    """A quality of the SIREN fit per fitting seed, above a claimed level, at the claimed compression
    (:func:`~uniq_core.rules.interval_rule`); a smaller compression than claimed is not the claim, and a fit
    still improving with more steps decides nothing (:func:`_unconverged`)."""
    unconverged = _unconverged(minilm, float(np.mean(values)), claimed_r2)
    if minilm.ratio < claimed_ratio:
        decision = rules.untestable_rule(f"a fit at the claimed {_g(claimed_ratio)}× compression")
    elif unconverged is not None:
        decision = rules.robust(lambda: unconverged, {})
    else:
        decision = _screened_by_start(rules.robust(lambda confidence=rules.CONFIDENCE: rules.interval_rule(
            values, null=claimed, confidence=confidence), {"confidence": CONFIDENCES}, confidence=rules.CONFIDENCE),
            _by_start(minilm), claimed_r2, "R²")
    return _verdict(key, decision, f"{quantity} (claim: above {_g(claimed)})",
                    f"{_g(minilm.ratio)}× compression; per-seed {per_seed} {_seeds_text(values)}"
                    + _starts_text(minilm, "R²"),
                    "A fit above the claimed level over at least five seeds at the claimed compression would make "
                    "it hold.")


def _starts_text(minilm, what: str) -> str:
    """The first seed's ``what`` ("R²" or "excess") from every start of its fits (step size, batch), for a
    row's scope; empty when it was fitted from one start only."""
    from uniq_core.experiments.dna import start_labels

    values = _by_start(minilm, paired=what == "excess")
    if values.size < 2:
        return ""
    return f"; first seed's {what} by start: " + "; ".join(f"{_g(float(v))} from {label}"
                                                          for label, v in zip(start_labels(minilm), values))


def _screened_by_start(decision: Decision, by_start: np.ndarray, threshold: float, what: str) -> Decision:
    """A decided word kept only if the first seed's ``what`` from every other start of its fits lies on the
    same side of ``threshold`` (one seed per start: a screen that can only withdraw a word, never give one);
    otherwise **not resolved**: the verdict depends on where the fit starts."""
    by_start = np.asarray(by_start, dtype=float)
    if by_start.size < 2 or decision.word not in (HOLDS, FAILS):
        return decision
    against = by_start < threshold if decision.word == HOLDS else by_start >= threshold
    if not against.any():
        return replace(decision, robustness=decision.robustness + f"; the first seed's {what} from every one of "
                                                                  f"{by_start.size} starts on the same side of {_g(threshold)}")
    return replace(rules.instrument_rule(
        f"the first seed's {what} from {int(against.sum())} of {by_start.size} starts of its fits lies on the other "
        f"side of {_g(threshold)}: the verdict depends on where the fit starts", decision.value),
        robustness="the word depends on the fit's start")


def _by_start(minilm, excess_over: float | None = None, paired: bool = False) -> np.ndarray:
    """The first seed's R² from each start (empty without a grid of starts); minus ``excess_over``, or minus
    its permutation's R² from the same start when ``paired``."""
    if np.size(getattr(minilm, "start_lr", [])) < 2:
        return np.zeros(0)
    r2 = np.asarray(minilm.r2_starts, dtype=float)
    if paired:
        return r2 - np.asarray(minilm.r2_starts_permuted, dtype=float)
    return r2 - excess_over if excess_over is not None else r2


def row_siren_psnr(minilm, claimed_psnr: float, claimed_ratio: float) -> Verdict:
    """Chapter 6: SIREN PSNR on MiniLM per fitting seed at the claimed compression, above the claimed dB."""
    from uniq_core import dna

    claimed_r2 = dna.r_squared_from_psnr(claimed_psnr, float(minilm.psnr_constant))
    return _at_claimed_ratio("siren_psnr", minilm, claimed_ratio, np.asarray(minilm.psnr_siren_seeds, dtype=float),
                             claimed_psnr, "SIREN PSNR on MiniLM, dB", "PSNR (dB)", claimed_r2)


def _unconverged(minilm, value: float, level: float | None = None) -> Decision | None:
    """The instrument rule (with the row's own ``value``) when a fit of the weights or of their permutation
    stopped at the cap of steps with its running R² still rising (:func:`uniq_core.dna.fit_until_flat`): its
    R² then measures the budget of steps, not the weights; otherwise :func:`_teacher_gate` at ``level``."""
    converged = np.concatenate([np.asarray(getattr(minilm, "converged_seeds", [True]), dtype=bool),
                                np.asarray(getattr(minilm, "converged_permuted_seeds", [True]), dtype=bool)])
    if converged.all():
        return _teacher_gate(minilm, value, level)
    steps = np.asarray(getattr(minilm, "check_steps_siren", [0]), dtype=int)
    r2 = np.asarray(getattr(minilm, "r2_running_siren", [np.nan]), dtype=float)
    half = int(np.argmin(np.abs(steps - steps[-1] / 2)))
    return rules.instrument_rule(
        f"{int((~converged).sum())} of {converged.size} fits stopped at the cap of steps with R² still rising (first "
        f"seed: {_g(float(r2[half]))} at step {int(steps[half])}, {_g(float(r2[-1]))} at step {int(steps[-1])}); "
        "fits run to a flat R² would decide it", value)


def _teacher_gate(minilm, value: float, level: float | None = None) -> Decision | None:
    """The instrument rule (with the row's own ``value``) unless the fitter reaches ``level`` (at least
    :data:`~uniq_core.experiments.dna.TEACHER_R2`; a claim's own level where it is higher), and ends flat, on
    its known answer: a SIREN of its own size as initialised (:func:`uniq_core.dna.teacher_values`), which it
    represents exactly. Where it does not, its R² on the weights measures the optimiser."""
    from uniq_core.experiments.dna import TEACHER_R2

    level = TEACHER_R2 if level is None or not np.isfinite(level) else max(TEACHER_R2, float(level))
    r2 = float(np.asarray(minilm.r2_teachers, dtype=float)[0])
    flat = bool(np.asarray(minilm.converged_teachers, dtype=bool)[0])
    if r2 >= level and flat:
        return None
    return rules.instrument_rule(
        f"on a SIREN of its own size as initialised, which it represents exactly, the fitter reaches R² {_g(r2)}"
        + ("" if flat else " with R² still rising") + f", against the {_g(level)} it must reach: its R² on the "
        "weights measures the optimiser", value)


def row_manifold(minilm) -> Verdict:
    """Chapter 6: R² of the SIREN on the weights minus R² on its own permutation of them, paired per seed
    (:func:`~uniq_core.rules.interval_rule` with the stated margin: an excess bounded below it fails). While
    the fit is still improving with more steps (:func:`_unconverged`), it decides nothing."""
    excess = np.asarray(minilm.r2_siren_seeds, dtype=float) - np.asarray(minilm.r2_permuted_seeds, dtype=float)
    unconverged = _unconverged(minilm, float(np.mean(excess)))
    if unconverged is not None:
        decision = rules.robust(lambda: unconverged, {})
    else:
        decision = rules.robust(lambda margin=PATTERN_MARGIN, confidence=rules.CONFIDENCE: rules.interval_rule(
            excess, margin=margin, confidence=confidence), {"margin": (0.005, 0.02), "confidence": CONFIDENCES},
            margin=PATTERN_MARGIN, confidence=rules.CONFIDENCE)
        decision = _screened_by_start(decision, _by_start(minilm, paired=True),
                                      PATTERN_MARGIN if decision.word == FAILS else 0.0, "excess")
    return _verdict("manifold", decision, "R² of the SIREN minus R² on permuted weights",
                    f"the configured MiniLM matrices at the claimed ratio; per-seed excess {_seeds_text(excess)}"
                    + _starts_text(minilm, "excess"),
                    "A SIREN that explains more of the weights than of the same weights shuffled would make it hold.")


def entropy_cells(weight_entropy, scale: str = "raw", estimator: str = "histogram",
                  confidence: float = rules.CONFIDENCE) -> tuple[list[str], list[Decision]]:
    """The lower-entropy claim per recipe × layer cell of a weight-entropy Result: a label and the interval
    rule over seeds (claimed below 0) at a level corrected for the number of cells."""
    values = weight_entropy.differences(scale, estimator)
    n_cells = int(np.prod(values.shape[:-1]))
    level = 1 - (1 - confidence) / n_cells
    labels, decisions = [], []
    for a, init in enumerate(weight_entropy.inits):
        for b, decay in enumerate(weight_entropy.weight_decays):
            for k in range(values.shape[2]):
                labels.append(f"{init} init, weight decay {_g(float(decay))}, layer {k + 1}")
                decisions.append(rules.interval_rule(values[a, b, k], direction=-1, confidence=level))
    return labels, decisions


def row_weight_entropy(minilm, weight_entropy) -> Verdict:
    """Chapter 6: per independently trained digits MLP, each weight matrix's entropy after training minus at
    its own initialisation, claimed below 0: the interval rule over seeds in every cell of initialisation ×
    weight decay × layer (:func:`entropy_cells`), combined by :func:`~uniq_core.rules.grid_rule`, so a claim
    that holds under some recipes and fails under others says so. Recomputed on the standardised values
    (shape alone; the values' entropy is the shape's plus log std) and with the spacing estimator. MiniLM is
    one network without its real initialisation: its values against its nominal N(0, σ_init²) initialiser are
    shown on the row, not used."""
    def decide(scale: str = "raw", estimator: str = "histogram", confidence: float = rules.CONFIDENCE) -> Decision:
        labels, decisions = entropy_cells(weight_entropy, scale, estimator, confidence)
        means = np.array([d.value for d in decisions], dtype=float)
        lower = [label for label, d in zip(labels, decisions) if d.word == HOLDS]
        higher = [label for label, d in zip(labels, decisions) if d.word == FAILS]
        return Decision(rules.grid_rule([d.word for d in decisions]), float(np.nanmedian(means)),
                        float(np.nanmin(means)), float(np.nanmax(means)), min(d.n_units for d in decisions),
                        f"median and range of the cell means over {len(labels)} recipe × layer cells; per cell a "
                        f"t-interval over seeds at {1 - (1 - confidence) / len(labels):.2%}; lower in "
                        f"{len(lower)} ({'; '.join(lower) or 'none'}), higher in {len(higher)}",
                        "interval_rule", f"claim: below 0 in every cell; at least {rules.MIN_UNITS} seeds per cell")

    from uniq_core.experiments.dna import ENTROPY_SCALES, ESTIMATORS

    decision = rules.robust(decide, {"scale": ENTROPY_SCALES, "estimator": ESTIMATORS, "confidence": CONFIDENCES},
                            scale="raw", estimator="histogram", confidence=rules.CONFIDENCE)
    gaussian = 0.5 * np.log(2 * np.pi * np.e)
    minilm_raw = (float(minilm.entropy_trained) - gaussian) + float(np.log(minilm.std_trained / minilm.std_init))
    spread = np.log(weight_entropy.std_trained / weight_entropy.std_init)
    return _verdict("weight_entropy", decision, "entropy of trained weight values minus their initialisation's, "
                    "nats, per digits-MLP layer and recipe",
                    f"digits MLPs, {weight_entropy.differences().shape[-1]} per recipe, each layer against its own "
                    f"initialisation; log of the spread's growth {_g(float(spread.min()))} to "
                    f"{_g(float(spread.max()))} nats of it; MiniLM's first matrix {_g(minilm_raw)} nats against its "
                    f"nominal Gaussian initialiser (standard deviation ×{_g(float(minilm.std_trained / minilm.std_init))};"
                    f" one network, shown, not used)",
                    "Every recipe × layer cell's interval below 0 would make it hold; every one above, fail.")


def row_siren_r2(minilm, claimed_ratio: float) -> Verdict:
    """Chapter 6: the SIREN's R² on MiniLM per fitting seed at the claimed compression, above 0.99."""
    return _at_claimed_ratio("siren_r2", minilm, claimed_ratio, np.asarray(minilm.r2_siren_seeds, dtype=float),
                             CLAIMED_R2, "SIREN R² on MiniLM", "R²", CLAIMED_R2)


def row_multiscale(minilm) -> Verdict:
    """Chapter 6: the multi-scale SIREN's PSNR gain over the single-scale fit from the same seed, against the
    claimed 5–10 dB (:func:`~uniq_core.rules.value_rule`, one paired gain per seed, confidence and tolerance
    varied); without multi-scale fits, not testable here; while one of the pair is still improving with more
    steps, not decided."""
    multi = np.asarray(getattr(minilm, "psnr_multi_seeds", [minilm.psnr_multi]), dtype=float)
    gains = multi - np.asarray(minilm.psnr_siren_seeds, dtype=float)[:len(multi)]
    converged = np.concatenate([np.asarray(getattr(minilm, "converged_multi_seeds", [True] * len(multi)), dtype=bool),
                                np.asarray(getattr(minilm, "converged_seeds", [True]), dtype=bool)[:len(multi)]])
    if not np.isfinite(gains).any():
        decision = rules.untestable_rule("multi-scale fits beside the single-scale ones (the standard profile runs them)")
    elif not converged.all():
        decision = rules.robust(lambda: rules.instrument_rule(
            f"{int((~converged).sum())} of {converged.size} paired fits stopped at the cap of steps with R² still "
            "rising; fits run to a flat R² would decide it", float(np.nanmean(gains))), {})
    elif (gate := _teacher_gate(minilm, float(np.nanmean(gains)))) is not None:
        decision = rules.robust(lambda: gate, {})
    else:
        decision = rules.robust(lambda tolerance=MULTISCALE_GAIN[1], confidence=rules.CONFIDENCE: rules.value_rule(
            gains, claimed=MULTISCALE_GAIN[0], tolerance=tolerance, confidence=confidence, unit="seeds"),
            {"tolerance": (2.0, 3.0), "confidence": CONFIDENCES}, tolerance=MULTISCALE_GAIN[1],
            confidence=rules.CONFIDENCE)
    return _verdict("multiscale", decision, "PSNR gain of the multi-scale SIREN over the single-scale one, dB",
                    f"paired by seed; per-seed gain (dB) {_seeds_text(gains)}; the multi-frequency SIREN here has "
                    "the single one's size and first-layer frequencies spread from 1 to ω0, where the write-up's "
                    "hierarchical model has separate low-, mid- and high-frequency branches and about 3× the "
                    "parameters",
                    "Gains between 5 and 10 dB over at least five seeds would make it hold.")


def row_compressible(minilm) -> Verdict:
    """Chapter 6: the SIREN's R² minus the best of the SVD and the Lloyd–Max quantiser at the same bits, per
    fitting seed, above 0 (:func:`~uniq_core.rules.interval_rule`); not decided while the fit is still
    improving (:func:`_unconverged`)."""
    best_other = max(float(minilm.r2_svd), float(minilm.r2_quantised))
    excess = np.asarray(minilm.r2_siren_seeds, dtype=float) - best_other
    unconverged = _unconverged(minilm, float(np.mean(excess)))
    decision = rules.robust(lambda: unconverged, {}) if unconverged is not None else _screened_by_start(rules.robust(
        lambda confidence=rules.CONFIDENCE: rules.interval_rule(excess, confidence=confidence),
        {"confidence": CONFIDENCES}, confidence=rules.CONFIDENCE), _by_start(minilm, excess_over=best_other), 0.0,
        "R² minus the best baseline's")
    return _verdict("compressible", decision, "SIREN R² minus the best of SVD and quantiser at the same bits",
                    f"SVD R² {_g(float(minilm.r2_svd))}, quantiser R² {_g(float(minilm.r2_quantised))}; per-seed "
                    f"excess {_seeds_text(excess)}",
                    "A SIREN that explains more than both baselines over at least five seeds would make it hold.")


def row_generate(minilm) -> Verdict:
    """Chapter 6: R² of the weights a SIREN generates on rows held out whole from its fit, per fitting seed,
    above :data:`PATTERN_MARGIN` (:func:`~uniq_core.rules.interval_rule`). Not decided while a fit is still
    improving, nor when the same test on the planted smooth field (the positive control) does not generate
    at least :data:`RECOVERY_FRACTION_GENERATED` of its smooth share: then the test has shown no power."""
    from uniq_core.experiments.dna import PLANTED_SHARE

    values = np.asarray(minilm.r2_heldout_seeds, dtype=float)
    converged = np.concatenate([np.asarray(minilm.converged_heldout_seeds, dtype=bool),
                                [bool(minilm.converged_heldout_smooth)]])
    control = float(minilm.r2_heldout_smooth)
    if not converged.all():
        decision = rules.robust(lambda: rules.instrument_rule(
            f"{int((~converged).sum())} of {converged.size} fits with rows held out stopped at the cap of steps "
            "with R² still rising; fits run to a flat R² would decide it", float(np.mean(values))), {})
    elif (gate := _teacher_gate(minilm, float(np.mean(values)))) is not None:
        decision = rules.robust(lambda: gate, {})
    elif control < RECOVERY_FRACTION_GENERATED * PLANTED_SHARE:
        decision = rules.robust(lambda: rules.instrument_rule(
            f"on held-out rows of the planted field the fit generates R² {_g(control)}, below "
            f"{_g(RECOVERY_FRACTION_GENERATED)} of its smooth share: the test has shown no power", float(np.mean(values))), {})
    else:
        decision = rules.robust(lambda margin=PATTERN_MARGIN, confidence=rules.CONFIDENCE: rules.interval_rule(
            values, null=margin, direction=1, confidence=confidence),
            {"margin": (0.005, 0.02), "confidence": CONFIDENCES}, margin=PATTERN_MARGIN, confidence=rules.CONFIDENCE)
    return _verdict("generate", decision, "R² of the weights generated on held-out rows",
                    f"{_g(100 * float(minilm.heldout_share))} % of the weights held out as whole rows; per-seed R² "
                    f"{_seeds_text(values)}; on the planted field's held-out rows {_g(control)} (positive control, "
                    "its smooth share " + _g(PLANTED_SHARE) + "); between layers not tested (one matrix)",
                    "Generated weights that explain more of the held-out rows than the margin over at least five "
                    "seeds would make it hold.")


def row_convergence_ratio(divergence) -> Verdict:
    """deep-lyapunov's convergence ratio on chapter 1's runs: a seed on which its side of 1 disagrees with the
    sign of the peer's own Lyapunov estimate, or with the sign of the book's exponent, is a counterexample
    (:func:`~uniq_core.rules.counterexample_rule`)."""
    ratio = np.asarray(divergence.peer_convergence_ratio, dtype=float)
    ratio_side = np.sign(np.log(ratio))
    own = np.sign(np.asarray(divergence.peer_lyapunov, dtype=float))
    book = np.sign(np.asarray(divergence.fitted_exponent, dtype=float))
    finite = np.isfinite(ratio_side) & np.isfinite(own) & np.isfinite(book)
    disagree = finite & ((ratio_side != own) | (ratio_side != book))
    decision = rules.robust(lambda: rules.counterexample_rule(
        int(disagree.sum()), int(finite.sum()), what="seeds whose ratio's side of 1 disagrees with an exponent's sign"), {})
    decision = replace(decision, value=float(np.nanmean(ratio)), low=_smallest(ratio), high=_largest(ratio),
                       interval_kind=decision.interval_kind + f"; ratio range over {int(finite.sum())} seeds")
    return _verdict("convergence_ratio", decision, "deep-lyapunov convergence ratio",
                    f"chapter 1's replicas; the disagreement lies in the peer's definitions (a ratio of PCA spreads "
                    f"and a log-spread slope measured differently); the peer's own exponent disagrees in sign on "
                    f"{int((finite & (ratio_side != own)).sum())} and the book's on "
                    f"{int((finite & (ratio_side != book)).sum())} of {int(finite.sum())} seeds",
                    "A ratio whose side of 1 matches the sign of both exponents on every seed would leave it "
                    "not contradicted.")

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
    def standard(cls) -> "Config":
        return cls(profile="standard")

    @classmethod
    def full(cls) -> "Config":
        return cls(profile="full")


def _profiled(config_type: type, profile: str) -> Any:
    check_choice("profile", profile, runtime.PROFILES)
    return getattr(config_type, profile)()


# One function per source: exactly the Config its chapter builds.


def intro_config(profile: str):
    """Introduction: ``divergence.Config.for_profile()`` (its reproducibility run)."""
    from uniq_core.experiments import divergence

    return _profiled(divergence.Config, profile)


def lyapunov_configs(profile: str) -> dict[str, Any]:
    """Chapter 1: the finite-perturbation divergence and the regime map."""
    from uniq_core.experiments import lyapunov

    divergence = _profiled(lyapunov.DivergenceConfig, profile)
    return {"divergence": divergence, "regime": _profiled(lyapunov.RegimeConfig, profile),
            "finite_size": lyapunov.finite_size_at(divergence)}


def entropy_configs(profile: str) -> dict[str, Any]:
    """Chapter 2: the stationary measurement at a minimum and the learning run."""
    from uniq_core.experiments import entropy

    return {"stationary": _profiled(entropy.EntropyConfig, profile),
            "training": _profiled(entropy.TrainingConfig, profile),
            "learning": _profiled(entropy.LearningConfig, profile)}


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
            "settings_control": probes.control_config(_profiled(probes.SettingsConfig, profile)),
            "settings_dose": _profiled(probes.SettingsDoseConfig, profile),
            "identity": _profiled(probes.MassIdentityConfig, profile),
            "mass": _profiled(probes.MassConfig, profile),
            "mass_resnet": probes.resnet_mass_config(_profiled(probes.MassConfig, profile))}


def fisher_configs(profile: str) -> dict[str, Any]:
    """Chapter 5: the null-dimension check at initialisation and the trained network."""
    from uniq_core.experiments import fisher

    return {"check": _profiled(fisher.NullCheckConfig, profile), "training": _profiled(fisher.FisherConfig, profile),
            "teacher": _profiled(fisher.TeacherStudentConfig, profile)}


def dna_configs(profile: str) -> dict[str, Any]:
    """Chapter 6: MiniLM at the claimed ratio and the digits MLP (the same Config in both profiles)."""
    from uniq_core.experiments import dna

    return {"minilm": _profiled(dna.DnaConfig, profile),
            "digits": dna.DIGITS,
            "weight_entropy": _profiled(dna.WeightEntropyConfig, profile)}


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
        ("lyapunov", "finite_size"): lyapunov.run_finite_size,
        ("entropy", "stationary"): entropy.run_entropy, ("entropy", "training"): entropy.run_training,
        ("entropy", "learning"): entropy.run_learning,
        ("topology", "trajectories"): topology.run_topology,
        ("topology", "independent"): topology.run_topology, ("topology", "sweep"): topology.run_topology_sweep,
        ("probes", "settings"): probes.run_settings, ("probes", "settings_dose"): probes.run_settings_dose,
        ("probes", "identity"): probes.run_mass_identity, ("probes", "mass"): probes.run_mass,
        ("probes", "mass_resnet"): probes.run_mass,
        ("probes", "settings_control"): probes.run_settings,
        ("fisher", "check"): fisher.run_null_check, ("fisher", "training"): fisher.run_fisher,
        ("fisher", "teacher"): fisher.run_teacher_student,
        ("dna", "minilm"): dna.run_dna, ("dna", "digits"): dna.run_dna,
        ("dna", "weight_entropy"): dna.run_weight_entropy,
    }[(chapter, name)]


# --------------------------------------------------------------------------------------------- the run


@dataclass
class Result(ResultBase):
    """One entry per claim, in :data:`CLAIM_REGISTRY` order: the claim's source, ``claims`` (the quote),
    seed file, operationalisation and scope, and its :class:`Verdict`'s fields; ``profile`` built it."""

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
    quotes: np.ndarray
    seeds: np.ndarray
    operationalisations: np.ndarray
    scopes: np.ndarray
    rules: np.ndarray
    thresholds: np.ndarray
    robustness: np.ndarray
    n_units: np.ndarray


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
        quotes=strings(c.quote for c in CLAIM_REGISTRY), seeds=strings(c.seed for c in CLAIM_REGISTRY),
        operationalisations=strings(c.operationalisation for c in CLAIM_REGISTRY),
        scopes=strings(f"{c.scope}; {profile} profile" for c in CLAIM_REGISTRY),
        rules=strings(r.rule for r in ordered), thresholds=strings(r.thresholds for r in ordered),
        robustness=strings(r.robustness for r in ordered), n_units=np.array([r.n_units for r in ordered], dtype=int),
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
        row_lyapunov(results["lyapunov", "divergence"], results["lyapunov", "regime"], significance,
                     finite_size=results.get(("lyapunov", "finite_size"))),
        row_entropy(results["entropy", "stationary"], configs["entropy"]["stationary"],
                    results["entropy", "training"], results.get(("entropy", "learning")),
                    configs["entropy"].get("learning")),
        row_topology(results["topology", "trajectories"]),
        row_reproducibility(results["topology", "trajectories"], results["intro", "reproducibility"],
                            independent=results["topology", "independent"]),
        row_probes_pass(results["probes", "settings"], configs["probes"]["settings"]),
        row_batchnorm_fails(results["probes", "settings"], configs["probes"]["settings"],
                            results["probes", "settings_control"]),
        row_dose_response(results["probes", "settings_dose"]),
        row_mass_scaling(results["probes", "mass"]),
        row_deeper_deviate(results["probes", "mass"], results["probes", "mass_resnet"]),
        row_degenerate(results["fisher", "training"]),
        row_gauge(results["fisher", "check"], results["fisher", "training"]),
        row_effective_rank(results["fisher", "teacher"]),
        row_thin_subset(results["lyapunov", "divergence"]),
        row_siren_psnr(results["dna", "minilm"], dna.CLAIMED_PSNR, dna.CLAIMED_RATIO),
        row_manifold(results["dna", "minilm"]),
        row_weight_entropy(results["dna", "minilm"], results["dna", "weight_entropy"]),
        row_siren_r2(results["dna", "minilm"], dna.CLAIMED_RATIO),
        row_multiscale(results["dna", "minilm"]),
        row_compressible(results["dna", "minilm"]),
        row_generate(results["dna", "minilm"]),
        row_convergence_ratio(results["lyapunov", "divergence"]),
    ]


# ------------------------------------------------------------------------------------------------ findings


def findings(result: Result, config: Config) -> dict[str, float | int | str]:
    """The verdict page's glued numbers and words: ``vd_claims``, the count of each kind of verdict
    (``vd_holds``, ``vd_fails``, ``vd_regime``, ``vd_holds_where_resolved``, ``vd_fails_where_resolved``,
    ``vd_unresolved``, ``vd_untestable``,
    ``vd_depends``) and a sentence of them (``vd_summary``), ``vd_profile``, ``vd_significance``,
    ``vd_min_units``, ``vd_confidence``, and per claim ``vd_<key>_verdict``, ``_value``, ``_low``, ``_high``."""
    words = [str(word) for word in result.verdicts]
    counts = {
        "holds": words.count(HOLDS), "fails": words.count(FAILS), "regime": words.count(REGIME),
        "holds_where_resolved": words.count(HOLDS_WHERE_RESOLVED),
        "fails_where_resolved": words.count(FAILS_WHERE_RESOLVED),
        "unresolved": words.count(UNRESOLVED), "untestable": words.count(NOT_TESTABLE),
        "depends": sum(word.startswith(rules.DEPENDS + " ") for word in words),
    }
    phrases = [(counts["holds"], "holds", "hold"), (counts["fails"], "fails", "fail"),
               (counts["regime"], "holds only in a regime", "hold only in a regime"),
               (counts["holds_where_resolved"], "holds where resolved and is not resolved elsewhere",
                "hold where resolved and are not resolved elsewhere"),
               (counts["fails_where_resolved"], "fails where resolved and is not resolved elsewhere",
                "fail where resolved and are not resolved elsewhere"),
               (counts["depends"], "depends on an arbitrary choice", "depend on an arbitrary choice"),
               (counts["unresolved"], "is not resolved by the measurements", "are not resolved by the measurements"),
               (counts["untestable"], "is not testable here", "are not testable here")]
    parts = [f"{count} {singular if count == 1 else plural}" for count, singular, plural in phrases if count]
    summary = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else "none is decided"
    out: dict[str, float | int | str] = {f"vd_{name}": int(count) for name, count in counts.items()}
    out.update(vd_claims=len(words), vd_summary=summary, vd_profile=str(result.profile),
               vd_significance=float(config.significance), vd_min_units=int(rules.MIN_UNITS),
               vd_confidence=f"{rules.CONFIDENCE:.0%}")
    for index, key in enumerate(result.keys):
        out[f"vd_{key}_verdict"] = words[index]
        out[f"vd_{key}_value"] = float(result.values[index])
        out[f"vd_{key}_low"] = float(result.lows[index])
        out[f"vd_{key}_high"] = float(result.highs[index])
    return out


def claim_findings(*verdicts: Verdict) -> dict[str, float | int | str]:
    """The glue names a chapter's verdict admonition uses for the claims it decides, from the same
    :class:`Verdict` objects the verdict page shows: ``claim_<key>`` (the word), ``claim_<key>_value``,
    ``_low``, ``_high``, ``_quantity`` (what the number is), ``_number`` (the number with its interval),
    ``_interval`` (what the interval is), ``_rule``, ``_robustness`` and ``_scope`` (where it applies)."""
    out: dict[str, float | int | str] = {}
    for verdict in verdicts:
        prefix = f"claim_{verdict.key}"
        out.update({prefix: verdict.verdict, f"{prefix}_value": float(verdict.value), f"{prefix}_low": float(verdict.low),
                    f"{prefix}_high": float(verdict.high), f"{prefix}_quantity": verdict.quantity,
                    f"{prefix}_number": number_text(verdict.value, verdict.low, verdict.high, verdict.interval_kind),
                    f"{prefix}_interval": verdict.interval_kind or "no interval",
                    f"{prefix}_rule": verdict.rule, f"{prefix}_robustness": verdict.robustness,
                    f"{prefix}_scope": verdict.regime})
    return out
