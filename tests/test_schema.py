import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from uniq_core.schema import ResultBase, check_choice, check_number, check_widths


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        (-1, dict(low=0), r"lr=-1 is out of range; allowed: a number in \[0, inf\]"),
        (0.0, dict(low=0, low_inclusive=False), r"lr=0.0 is out of range; allowed: a number in \(0, inf\]"),
        (1.5, dict(low=0, integer=True), r"lr=1.5 is not allowed; expected an integer"),
        (float("nan"), dict(), r"lr=nan is not allowed"),
        ("1", dict(), r"lr='1' is not allowed"),
        (True, dict(), r"lr=True is not allowed"),
    ],
)
def test_check_number_names_field_value_and_range(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_number("lr", value, **kwargs)


def test_check_number_accepts_values_in_range():
    check_number("n", 3, low=1, high=3, integer=True)
    check_number("x", np.float32(0.5), low=0.0, high=1.0)


def test_check_choice_and_widths():
    with pytest.raises(ValueError, match=r"norm='layer' is not allowed; allowed values: 'none', 'batch'"):
        check_choice("norm", "layer", ("none", "batch"))
    with pytest.raises(ValueError, match=r"widths=\[64\] is not allowed"):
        check_widths("widths", [64])
    check_widths("widths", (64, 32))


@dataclasses.dataclass
class Sample(ResultBase):
    values: np.ndarray
    score: float
    count: int
    flag: bool
    label: str


@settings(max_examples=25, deadline=None)
@given(
    values=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4)),
    score=st.floats(allow_nan=True),
    count=st.integers(-(2**40), 2**40),
    flag=st.booleans(),
    label=st.text(max_size=20),
)
def test_result_round_trips_through_dict_and_disk(tmp_path_factory, values, score, count, flag, label):
    sample = Sample(values, score, count, flag, label)
    path = tmp_path_factory.mktemp("result") / "sample.npz"
    sample.save(path)
    for restored in (Sample.from_dict(sample.to_dict()), Sample.load(path)):
        np.testing.assert_array_equal(restored.values, values)
        assert restored.score == score or (np.isnan(score) and np.isnan(restored.score))
        assert (restored.count, restored.flag, restored.label) == (count, flag, label)
        assert type(restored.count) is int and type(restored.flag) is bool


def test_from_dict_reports_missing_fields():
    with pytest.raises(ValueError, match="missing fields"):
        Sample.from_dict({"values": np.zeros(1)})


def test_check_numbers_names_the_field_for_empty_and_out_of_range_grids():
    from uniq_core.schema import check_numbers

    check_numbers("lrs", (0.1, 1.0), low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"^lrs=\(\) is empty"):
        check_numbers("lrs", ())
    with pytest.raises(ValueError, match=r"^lrs=0\.0 is out of range"):
        check_numbers("lrs", (0.1, 0.0), low=0.0, low_inclusive=False)
