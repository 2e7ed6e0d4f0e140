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
