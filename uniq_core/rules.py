"""The decision rules that turn measured numbers into a verdict word, written once.

Every verdict of the book comes from exactly one rule of :data:`RULES`; the verdict page lists the rules from
their docstrings (the first paragraph of each), so the page and the code cannot disagree. Each rule is tested
on synthetic data with a known answer (``tests/test_rules.py``): its rate of false verdicts under a null, its
power on a planted effect, and "not resolved" on an underpowered case.

Words:

- ``holds`` / ``fails``: decided on every setting measured;
- ``holds only in a regime``: holds on some settings *and* fails on others;
- ``holds where resolved; not resolved elsewhere`` (and the same with ``fails``): decided one way on some
  settings, undecided on the rest; never called a regime;
- ``not resolved``: the data cannot decide (an interval containing the null, too few independent units, an
  instrument that has not shown it can fail);
- ``not testable here``: no chapter measures the claim's quantity, or the claim cannot fail as worded;
- ``depends on <choice>``: the word changes when an arbitrary choice behind it (a threshold, a margin, a
  confidence level) takes another reasonable value (:func:`robust`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from uniq_core import grammar, stats
from uniq_core.schema import check_choice, check_number

HOLDS = "holds"
FAILS = "fails"
REGIME = "holds only in a regime"
HOLDS_WHERE_RESOLVED = "holds where resolved; not resolved elsewhere"
FAILS_WHERE_RESOLVED = "fails where resolved; not resolved elsewhere"
UNRESOLVED = "not resolved"
NOT_TESTABLE = "not testable here"
DEPENDS = "depends on"
WORDS = (HOLDS, FAILS, REGIME, HOLDS_WHERE_RESOLVED, FAILS_WHERE_RESOLVED, UNRESOLVED, NOT_TESTABLE)

#: The fewest independent units (seeds, initialisations) from which an interval may decide a verdict.
MIN_UNITS = 5
#: The confidence level of every interval that decides a verdict.
CONFIDENCE = 0.95


def is_word(word: str) -> bool:
    """Whether ``word`` is a verdict word: one of :data:`WORDS` or ``"depends on <choice>"``."""
    return word in WORDS or (word.startswith(DEPENDS + " ") and len(word) > len(DEPENDS) + 1)


@dataclass(frozen=True)
class Decision:
    """A verdict word with the number that decided it: ``value``, its interval ``[low, high]`` (NaN where
    there is none), ``n_units`` independent units behind it, ``interval_kind`` (what the interval is),
    ``rule`` (a name in :data:`RULES`) and ``thresholds`` (every margin, threshold and tolerance the rule
    used, in words). ``robustness`` says how the word fares under other values of its arbitrary choices."""

    word: str
    value: float
    low: float = float("nan")
    high: float = float("nan")
    n_units: int = 0
    interval_kind: str = ""
    rule: str = ""
    thresholds: str = ""
    robustness: str = ""

    def __post_init__(self) -> None:
        if not is_word(self.word):
            raise ValueError(f"word={self.word!r} is not allowed; allowed values: {', '.join(WORDS)}, "
                             f"or '{DEPENDS} <choice>'")
        if self.rule and self.rule not in RULES:
            raise ValueError(f"rule={self.rule!r} is not allowed; allowed values: {', '.join(RULES)}")


RULES: dict[str, Callable[..., Any]] = {}


def _rule(function: Callable[..., Any]) -> Callable[..., Any]:
    RULES[function.__name__] = function
    return function


def rule_text(name: str) -> str:
    """The first paragraph of rule ``name``'s docstring, on one line: what the verdict page shows."""
    check_choice("name", name, tuple(RULES))
    first = (RULES[name].__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def _g(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.3g}"


# ------------------------------------------------------------------------------------------------ rules


@_rule
def interval_rule(values: Sequence[float], *, null: float = 0.0, direction: int = 1, margin: float = 0.0,
                  confidence: float = CONFIDENCE, unit: str = "seeds") -> Decision:
    """An effect claimed in one direction, measured once per independent unit: the Student-t interval of the
    mean over the finite units. It **holds** when the interval excludes the null value on the claimed side;
    it **fails** when the interval lies entirely on the other side of the null shifted towards the claim by
    the stated margin (margin 0: the other side of the null); otherwise it is **not resolved**. With fewer
    than 5 finite units there is no interval and no decision: the values are shown.

    ``direction`` +1 claims "above ``null``", −1 "below". Non-finite units (a diverged seed) are left out and
    counted in ``n_units`` only when finite. The size is the t-test's: a wrong word in at most 2.5% of
    repetitions for roughly normal units; for strongly skewed units at 5–8 units it can reach about 8%
    (``tests/test_rules.py`` measures it).
    """
    if direction not in (1, -1):
        raise ValueError(f"direction={direction!r} is not allowed; allowed values: 1, -1")
    check_number("margin", margin, low=0.0)
    check_number("confidence", confidence, low=0.5, high=1.0, high_inclusive=False)
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    side = "above" if direction == 1 else "below"
    thresholds = f"claim: {side} {_g(null)}; margin {_g(margin)}; {confidence:.0%} level; at least {MIN_UNITS} {unit}"
    mean = float(finite.mean()) if finite.size else float("nan")
    if finite.size < MIN_UNITS:
        return Decision(UNRESOLVED, mean, n_units=int(finite.size),
                        interval_kind=_too_few(finite, unit, confidence), rule="interval_rule", thresholds=thresholds)
    _, (low, high) = stats.t_interval(finite, confidence)
    word = _interval_word(float(low), float(high), null, direction, margin)
    return Decision(word, mean, float(low), float(high), int(finite.size),
                    f"{confidence:.0%} t-interval over {finite.size} {unit}", "interval_rule", thresholds)


def _too_few(finite: np.ndarray, unit: str, confidence: float) -> str:
    """What a row says instead of an interval when it has fewer than :data:`MIN_UNITS` units: the values,
    and the t-interval they would give, which does not decide."""
    values = ", ".join(_g(v) for v in finite)
    named = unit[:-1] if finite.size == 1 and unit.endswith("s") else unit
    text = f"no decision: {finite.size} {named}, fewer than {MIN_UNITS} (values {values}"
    if finite.size >= 2:
        _, (low, high) = stats.t_interval(finite, confidence)
        text += f"; their {confidence:.0%} t-interval would be [{_g(float(low))}, {_g(float(high))}]"
    return text + ")"


def _interval_word(low: float, high: float, null: float, direction: int, margin: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return UNRESOLVED
    if direction == 1:
        return HOLDS if low > null else FAILS if high < null + margin else UNRESOLVED
    return HOLDS if high < null else FAILS if low > null - margin else UNRESOLVED


@_rule
def value_rule(values: Sequence[float], *, claimed: float, tolerance: float, confidence: float = CONFIDENCE,
               unit: str = "seeds") -> Decision:
    """A claimed value (an exponent of 1/2) within a stated tolerance, as an equivalence test: the Student-t
    interval of the mean over at least 5 finite units. It **holds** when the interval lies inside the claimed
    value ± the tolerance, **fails** when it lies entirely outside that band, and is **not resolved**
    otherwise (an interval that overlaps the band's edge) or with fewer than 5 units."""
    check_number("tolerance", tolerance, low=0.0, low_inclusive=False)
    values = np.asarray(values, dtype=float).ravel()
    finite = values[np.isfinite(values)]
    thresholds = f"claim: {_g(claimed)} ± {_g(tolerance)}; {confidence:.0%} level; at least {MIN_UNITS} {unit}"
    mean = float(finite.mean()) if finite.size else float("nan")
    if finite.size < MIN_UNITS:
        return Decision(UNRESOLVED, mean, n_units=int(finite.size), interval_kind=_too_few(finite, unit, confidence),
                        rule="value_rule", thresholds=thresholds)
    _, (low, high) = stats.t_interval(finite, confidence)
    low, high = float(low), float(high)
    band_low, band_high = claimed - tolerance, claimed + tolerance
    if band_low <= low and high <= band_high:
        word = HOLDS
    elif high < band_low or low > band_high:
        word = FAILS
    else:
        word = UNRESOLVED
    return Decision(word, mean, low, high, int(finite.size), f"{confidence:.0%} t-interval over {finite.size} {unit}",
                    "value_rule", thresholds)


@_rule
def threshold_rule(value: float, *, threshold: float, claimed: str = "above", what: str = "") -> Decision:
    """A number without sampling error across units (a deterministic probe, or the largest or smallest value
    over every unit when the claim is about every unit), judged against a stated threshold: it **holds** when
    the number lies strictly on the claimed side, **fails** when it does not, and is **not resolved** when it
    is not finite."""
    check_choice("claimed", claimed, ("above", "below"))
    if not np.isfinite(value):
        word = UNRESOLVED
    else:
        word = HOLDS if (value > threshold if claimed == "above" else value < threshold) else FAILS
    return Decision(word, float(value), interval_kind=what or "a single number", rule="threshold_rule",
                    thresholds=f"claim: {claimed} {_g(threshold)}")


@_rule
def counterexample_rule(counterexamples: int, n_units: int, *, what: str) -> Decision:
    """A universal claim (true of every unit, or with probability one) **fails** on a counterexample: a unit
    on which the claimed property is absent beyond that unit's own error, however few units were measured. With
    none among at least 5 units it is not contradicted but, being universal, not proven: **not resolved**."""
    counterexamples, n_units = int(counterexamples), int(n_units)
    word = FAILS if counterexamples > 0 else UNRESOLVED
    return Decision(word, float(counterexamples), n_units=n_units,
                    interval_kind=f"{grammar.plural(counterexamples, 'counterexample')} among {n_units} {what}",
                    rule="counterexample_rule", thresholds="any counterexample fails a universal claim")


@_rule
def grid_rule(words: Sequence[str]) -> str:
    """Per-setting verdicts combined: **holds** (or **fails**) when every setting does; **holds only in a
    regime** when some settings hold and others fail; **holds where resolved; not resolved elsewhere** (or the
    same with fails) when settings that are decided all go one way and the rest are not resolved; **not
    resolved** when none is decided. Not resolved is never counted as failing. Each setting's word must
    come from a test corrected for the number of settings (the regime map uses Holm's correction); with two
    settings at the 95% level, a null grid gives a claiming word in at most about 10% of repetitions
    (``tests/test_rules.py``)."""
    words = list(words)
    if not words:
        return NOT_TESTABLE
    holding = sum(w == HOLDS for w in words)
    failing = sum(w == FAILS for w in words)
    if holding == len(words):
        return HOLDS
    if failing == len(words):
        return FAILS
    if holding and failing:
        return REGIME
    if holding:
        return HOLDS_WHERE_RESOLVED
    if failing:
        return FAILS_WHERE_RESOLVED
    return UNRESOLVED


@_rule
def instrument_rule(reason: str, value: float = float("nan")) -> Decision:
    """An instrument that has not shown it can fail, or whose test has not shown its size on data shaped like
    the real data, decides nothing: the claim is **not resolved**, whatever the instrument reports, and the row
    says what is missing."""
    return Decision(UNRESOLVED, float(value), interval_kind=reason, rule="instrument_rule")


@_rule
def untestable_rule(measurement: str) -> Decision:
    """A claim whose quantity no chapter measures, or that cannot fail as worded (ill-posed, or true by the
    definition of its terms), is **not testable here**; the row says why, and which measurement or restatement
    would test it."""
    return Decision(NOT_TESTABLE, float("nan"), interval_kind=measurement, rule="untestable_rule")


@_rule
def robust(decide: Callable[..., Decision], choices: Mapping[str, Sequence[Any]], **defaults: Any) -> Decision:
    """Every verdict is recomputed under other values of the arbitrary choices behind it (a threshold, a margin,
    a confidence level; at least two alternatives each). When the word changes with a choice, the verdict is
    **depends on** that choice, with the values; otherwise the word stands and the row lists the values tried
    (or, where too few units left every alternative not resolved, says the robustness was not assessed).

    ``decide(**defaults)`` gives the verdict; ``choices`` maps each keyword of ``decide`` to its alternative
    values.
    """
    base = decide(**defaults)
    changed: list[str] = []
    tried: list[str] = []
    for name, alternatives in choices.items():
        alternatives = list(alternatives)
        if len(alternatives) < 2:
            raise ValueError(f"choices[{name!r}] has {len(alternatives)} alternative(s); at least 2 are needed")
        words = {alternative: decide(**{**defaults, name: alternative}).word for alternative in alternatives}
        default = defaults.get(name)
        listed = ", ".join(_g(a) if isinstance(a, (int, float)) else str(a) for a in alternatives if a != default)
        default_text = _g(default) if isinstance(default, (int, float)) else str(default)
        if any(word != base.word for word in words.values()):
            changed.append(name)
            detail = "; ".join(f"{words[a]} at {_g(a) if isinstance(a, (int, float)) else a}" for a in alternatives
                               if a != default)
            tried.append(f"{name} {default_text}: {base.word}; {detail}")
        else:
            tried.append(f"{name} {default_text} (also {listed})")
    if not changed and base.word == UNRESOLVED and 0 < base.n_units < MIN_UNITS and not np.isfinite(base.low):
        return replace(base, robustness=f"not assessed: with fewer than {MIN_UNITS} units every alternative is "
                                        "not resolved too")
    if changed:
        return replace(base, word=f"{DEPENDS} {' and '.join(changed)}",
                       robustness="depends: " + " | ".join(tried))
    return replace(base, robustness="same word under " + "; ".join(tried) if tried else "no arbitrary choice")


def series_slopes(series: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    """Least-squares slope of each row of ``series`` (units × times) against ``times`` (default 0, 1, …):
    the per-unit rate that :func:`interval_rule` judges for a claim about a trend (a growing log-distance).
    Rows with a non-finite value give NaN."""
    series = np.atleast_2d(np.asarray(series, dtype=float))
    times = np.arange(series.shape[1], dtype=float) if times is None else np.asarray(times, dtype=float)
    centred = times - times.mean()
    slopes = (series - series.mean(axis=1, keepdims=True)) @ centred / float(centred @ centred)
    slopes[~np.all(np.isfinite(series), axis=1)] = np.nan
    return slopes
