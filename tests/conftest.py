"""Shared test settings: quick profile, a private results cache, deterministic single-process torch."""

import os

import pytest
import torch

os.environ.setdefault("UNIQ_PROFILE", "quick")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets an empty results cache, so no test reads another's (or the book's) results."""
    monkeypatch.setenv("UNIQ_CACHE_DIR", str(tmp_path / "uniq_cache"))
    torch.manual_seed(0)
