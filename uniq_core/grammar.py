"""Computed words: the one place a count chooses its noun's and its verb's number in glued text."""

from __future__ import annotations

import numbers

#: Plurals that adding an "s" gets wrong, for the nouns the book counts.
IRREGULAR = {"copy": "copies", "matrix": "matrices", "axis": "axes", "index": "indices", "analysis": "analyses",
             "hypothesis": "hypotheses", "replica": "replicas", "counterexample": "counterexamples"}


def _check(count) -> int | float:
    if isinstance(count, bool) or not isinstance(count, numbers.Real):
        raise TypeError(f"count={count!r} must be a number")
    return count


def noun(count, singular: str, plural: str | None = None) -> str:
    """``singular`` for a count of one, else its plural (``plural``, :data:`IRREGULAR`, or an added "s"; a
    multi-word noun changes its last word: "step size" → "step sizes")."""
    if _check(count) == 1:
        return singular
    if plural is not None:
        return plural
    head, _, last = singular.rpartition(" ")
    last = IRREGULAR.get(last, last + "s")
    return f"{head} {last}" if head else last


def plural(count, singular: str, plural: str | None = None) -> str:
    """The count with its noun in the right number: ``plural(1, "seed")`` → "1 seed", ``plural(3, "step
    size")`` → "3 step sizes", ``plural(2, "copy")`` → "2 copies"."""
    return f"{_check(count):g} {noun(count, singular, plural)}" if isinstance(count, float) else \
        f"{count} {noun(count, singular, plural)}"


def agree(count, singular: str, plural: str) -> str:
    """The verb that agrees with ``count`` things: ``agree(1, "stays", "stay")`` → "stays"."""
    return singular if _check(count) == 1 else plural
