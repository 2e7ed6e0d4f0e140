"""The Config/Result pattern: validated frozen configurations and plain, serialisable results."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Iterable, TypeVar

import numpy as np

C = TypeVar("C", bound="ConfigBase")
T = TypeVar("T", bound="ResultBase")


# ------------------------------------------------------------------------------------------ validation


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    integer: bool = False,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raise ``ValueError`` naming ``name``, ``value`` and the allowed range unless ``value`` lies in it."""
    kind = "an integer" if integer else "a number"
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if integer:
        is_number = is_number and float(value).is_integer()
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    allowed = f"{kind} in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    if not is_number or not math.isfinite(float(value)):
        raise ValueError(f"{name}={value!r} is not allowed; expected {allowed}")
    ok = True
    if low is not None:
        ok &= value >= low if low_inclusive else value > low
    if high is not None:
        ok &= value <= high if high_inclusive else value < high
    if not ok:
        raise ValueError(f"{name}={value!r} is out of range; allowed: {allowed}")


def check_numbers(name: str, values: Any, **bounds: Any) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``values`` is a non-empty sequence whose every entry
    passes :func:`check_number` with ``bounds`` (a grid of a sweep, say)."""
    if len(values) == 0:
        raise ValueError(f"{name}={tuple(values)!r} is empty; give at least one value")
    for value in values:
        check_number(name, value, **bounds)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise ``ValueError`` naming ``name``, ``value`` and the allowed values unless ``value`` is one."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name}={value!r} is not allowed; allowed values: {', '.join(map(repr, choices))}")


def check_widths(name: str, value: Any, *, low: int = 1, high: int = 4096) -> None:
    """Raise ``ValueError`` unless ``value`` is a tuple of integers in ``[low, high]``."""
    if not isinstance(value, tuple) or not all(isinstance(w, int) and low <= w <= high for w in value):
        raise ValueError(f"{name}={value!r} is not allowed; expected a tuple of integers in [{low}, {high}]")


#: Independent units (seeds, initialisations, parent networks, independent pairs) behind every per-unit
#: interval in the ``standard`` profile, the one the site is published with.
STANDARD_UNITS = 8
#: The Config fields that count independent units.
UNIT_FIELDS = ("n_seeds", "n_inits", "n_parents", "n_independent")


class ConfigBase:
    """Mixin for frozen dataclass Configs: ``to_dict``, ``replace`` (which re-validates) and
    ``for_profile`` (``quick()``, ``standard()`` or ``full()`` by the active profile). Each Config defines
    ``quick()`` and ``full()``; ``standard()`` defaults to ``quick()`` with at least :data:`STANDARD_UNITS`
    independent units in every field of :data:`UNIT_FIELDS`, and a Config overrides it where the standard
    profile needs more than more units (longer runs, more chains)."""

    @classmethod
    def standard(cls: type[C]) -> C:
        """The published site's profile: :meth:`quick` with every unit count raised to :data:`STANDARD_UNITS`."""
        quick = cls.quick()  # type: ignore[attr-defined]
        changes = {name: max(getattr(quick, name), STANDARD_UNITS) for name in UNIT_FIELDS if hasattr(quick, name)}
        return quick.replace(**changes) if changes else quick

    @classmethod
    def for_profile(cls: type[C]) -> C:
        """``cls.quick()``, ``cls.standard()`` or ``cls.full()`` according to :func:`uniq_core.runtime.profile`."""
        from uniq_core import runtime

        return getattr(cls, runtime.profile())()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def replace(self: C, **changes: Any) -> C:
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


# --------------------------------------------------------------------------------------------- results


class ResultBase:
    """Mixin for Result dataclasses whose fields are numpy arrays, numbers, booleans or strings.

    ``to_dict``/``from_dict`` round-trip exactly; ``save``/``load`` use ``.npz`` without pickles.
    """

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        missing = names - set(data)
        if missing:
            raise ValueError(f"{cls.__name__}.from_dict: missing fields {sorted(missing)}")
        return cls(**{name: data[name] for name in names})

    def save(self, path: str | Path) -> None:
        arrays: dict[str, np.ndarray] = {}
        kinds: dict[str, str] = {}
        for name, value in self.to_dict().items():
            if isinstance(value, np.ndarray):
                kinds[name] = "array"
            elif isinstance(value, (bool, np.bool_)):
                kinds[name] = "bool"
            elif isinstance(value, (int, np.integer)):
                kinds[name] = "int"
            elif isinstance(value, (float, np.floating)):
                kinds[name] = "float"
            elif isinstance(value, str):
                kinds[name] = "str"
            else:
                raise TypeError(f"{type(self).__name__}.{name} has type {type(value).__name__}; not serialisable")
            arrays[name] = np.asarray(value)
        arrays["__kinds__"] = np.asarray(json.dumps(kinds))
        with open(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls: type[T], path: str | Path) -> T:
        with np.load(path, allow_pickle=False) as stored:
            kinds = json.loads(str(stored["__kinds__"]))
            cast = {"array": np.asarray, "bool": bool, "int": int, "float": float, "str": str}
            data = {name: cast[kind](stored[name]) for name, kind in kinds.items()}
        return cls.from_dict(data)
