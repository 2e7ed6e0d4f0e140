"""Shared test settings: quick profile, a private results cache, deterministic single-process torch."""

import os

import pytest
import torch

os.environ.setdefault("UNIQ_PROFILE", "quick")


@pytest.fixture(autouse=True)
def restore_environment():
    """Every test leaves ``os.environ`` as it found it. A Dask nanny writes its workers' variables into the
    process that starts it (``MALLOC_TRIM_THRESHOLD_``, ``OMP_NUM_THREADS``…); left there, they reach every
    later subprocess, and a malloc trim threshold of 64 KiB makes the book build's training about twice as
    slow."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets an empty results cache, so no test reads another's (or the book's) results."""
    monkeypatch.setenv("UNIQ_CACHE_DIR", str(tmp_path / "uniq_cache"))
    torch.manual_seed(0)


def _glue_names(chapter) -> set[str]:
    """The glue names a chapter's text references in ``{glue:text}`name:format``` and ``{glue}`name``` roles."""
    import re
    from pathlib import Path

    return {name.split(":")[0] for name in re.findall(r"\{glue(?::text)?\}`([^`]+)`", Path(chapter).read_text())}


@pytest.fixture
def glue_names_of():
    """``glue_names_of(path)``: the glue names a chapter references (every one must be a key of its findings)."""
    return _glue_names


@pytest.fixture(scope="session")
def unit_executor():
    """Two fresh worker processes (spawned, one thread each, as :class:`uniq_core.runtime.unit_pool` starts
    them), shared by the tests that check a Result does not depend on where its units ran."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from uniq_core import runtime

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"),
                             initializer=runtime._one_thread) as pool:
        yield pool


@pytest.fixture
def one_thread():
    """This process computes with one thread while the test runs (as each unit worker does)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _assert_same_result(a, b) -> None:
    import dataclasses

    import numpy as np

    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, (np.ndarray, float, int, np.floating)) and np.asarray(x).dtype.kind in "biuf":
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y), err_msg=field.name)
        else:
            assert str(x) == str(y), field.name


@pytest.fixture
def same_result():
    """``same_result(a, b)``: two Results hold the same values, field by field (NaN equal to NaN)."""
    return _assert_same_result

