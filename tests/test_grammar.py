"""Computed words agree with their counts."""

import numpy as np
import pytest

from uniq_core.grammar import agree, noun, plural


@pytest.mark.parametrize("count, singular, expected", [
    (1, "seed", "1 seed"), (0, "seed", "0 seeds"), (3, "step size", "3 step sizes"), (2, "copy", "2 copies"),
    (1, "copy", "1 copy"), (5, "matrix", "5 matrices"), (np.int64(1), "run", "1 run"), (np.int64(4), "loop", "4 loops"),
    (2, "case at initialisation", "2 case at initialisations"),
])
def test_a_count_gets_its_noun_in_the_right_number(count, singular, expected):
    if singular == "case at initialisation":  # a noun phrase whose head is not last names its plural
        assert plural(count, singular, "cases at initialisation") == "2 cases at initialisation"
        return
    assert plural(count, singular) == expected


def test_verbs_agree_and_bad_counts_are_named():
    assert agree(1, "stays", "stay") == "stays" and agree(2, "stays", "stay") == "stay"
    assert agree(0, "is", "are") == "are" and noun(1.0, "seed") == "seed"
    with pytest.raises(TypeError, match="count='3'"):
        plural("3", "seed")
    with pytest.raises(TypeError, match="count=True"):
        plural(True, "seed")
