"""Where and how runs happen: profile (quick|standard|full), device, seeding and the on-disk results cache."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import random
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

import numpy as np
import torch

import uniq_core
from uniq_core import grammar

PROFILES = ("quick", "standard", "full")
#: What a Config's ``device`` field may say (:func:`device` also takes ``cuda:N`` and ``torch.device``).
DEVICES = ("auto", "cpu", "cuda")
R = TypeVar("R")
T = TypeVar("T")


def profile() -> str:
    """The active profile: ``UNIQ_PROFILE`` if set, else ``full`` with a GPU and ``quick`` without.

    ``quick`` trains real networks on real data, only smaller and shorter; tests and CI use it. ``standard``,
    the profile the site is published with, decides every interval over at least eight independent units
    on a CPU. ``full`` is GPU scale.
    """
    value = os.environ.get("UNIQ_PROFILE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "quick"
    if value not in PROFILES:
        raise ValueError(f"UNIQ_PROFILE={value!r} is not a profile; allowed values: {', '.join(PROFILES)}")
    return value


def device(name: str | torch.device | None = None) -> torch.device:
    """Resolve a device name: ``None`` or ``"auto"`` gives ``cuda`` when available, else ``cpu``.

    Raises ``ValueError`` for an unknown name and for ``cuda`` on a machine without a GPU.
    """
    if isinstance(name, torch.device):
        return name
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(name, str) or not (name == "cpu" or name == "cuda" or name.startswith("cuda:")):
        raise ValueError(f"device={name!r} is not supported; allowed values: 'auto', 'cpu', 'cuda', 'cuda:N'")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a CPU ``torch.Generator`` seeded with ``seed``.

    On the CPU, runs with a fixed seed are bit-reproducible.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def describe() -> str:
    """One line naming the profile, the device (with the GPU's name) and the library versions."""
    dev = device()
    where = f"cuda ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "cpu"
    return (
        f"uniq_core {uniq_core.__version__} · profile {profile()} · device {where} · "
        f"torch {torch.__version__} · {grammar.plural(torch.get_num_threads(), 'CPU thread')}"
    )


def progress_bar(iterable: Iterable[T], description: str, enabled: bool = True) -> Iterable[T]:
    """``iterable`` wrapped in a tqdm bar (a widget in notebooks, text elsewhere) when ``enabled``.

    While the static site is built (``UNIQ_STATIC_SITE=1``) no bar is drawn: a page must not keep the
    state of a finished progress bar."""
    if not enabled or os.environ.get("UNIQ_STATIC_SITE", "") == "1":
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, leave=False)


def map_runs(function: Callable[[T], R], items: Iterable[T], *, executor: Any = None, description: str = "runs",
             progress: bool = True) -> list[R]:
    """``[function(item) for item in items]``, in order; with an ``executor`` (any
    :class:`concurrent.futures.Executor`: a process pool, or a Dask cluster's
    ``distributed.Client(address).get_executor()``) the calls are submitted to it and may run at once.
    ``function`` must then be picklable (a module-level function or a ``functools.partial`` of one)."""
    items = list(items)
    if executor is None:
        return [function(item) for item in progress_bar(items, description, progress)]
    from concurrent.futures import as_completed

    futures = [executor.submit(function, item) for item in items]
    for _ in progress_bar(as_completed(futures), description, progress):
        pass
    return [future.result() for future in futures]


def workers() -> int:
    """Processes the independent units of one experiment may run in (``UNIQ_WORKERS``, default 1: in the
    calling process). ``book/_ext/prewarm.py`` sets it to the machine's cores, so that a chapter that runs
    alone at the end of a build still uses them all."""
    value = os.environ.get("UNIQ_WORKERS", "").strip()
    if not value:
        return 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"UNIQ_WORKERS={value!r} is not allowed; expected a whole number of at least 1")
    return int(value)


def _one_thread() -> None:
    """A unit worker's start: one thread, and no pool of its own (units do not nest)."""
    torch.set_num_threads(1)
    os.environ["UNIQ_WORKERS"] = "1"


@contextmanager
def unit_pool(executor: Any = None) -> Iterator[Any]:
    """``with unit_pool(executor) as pool:`` the executor that an experiment's independent units run on:
    ``executor`` when given (it is not shut down here), else a pool of :func:`workers` processes (each with
    one thread, started fresh: a forked torch can deadlock), else None (the calling process, one unit after
    another). Each unit seeds its own generators, so a Result does not depend on where its units ran
    (tests compare them)."""
    if executor is not None or workers() == 1 or device().type == "cuda":
        yield executor
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers(), mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """Directory of cached results: ``UNIQ_CACHE_DIR`` if set, else ``.uniq_cache`` at the repository root.

    The repository root is the nearest parent of the working directory holding ``_config.yml``;
    outside the repository, the working directory is used.
    """
    if os.environ.get("UNIQ_CACHE_DIR"):
        return Path(os.environ["UNIQ_CACHE_DIR"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "uniq_core").is_dir():
            return folder / ".uniq_cache"
    return here / ".uniq_cache"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, float) and not np.isfinite(value):
        return repr(value)
    return value


@lru_cache(maxsize=1)
def source_hash() -> str:
    """A hash of every ``.py`` file of ``uniq_core`` (path and content) as imported: an edited measure
    changes it at the next start of Python."""
    root = Path(uniq_core.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _resolve_devices(fields: dict[str, Any]) -> dict[str, Any]:
    """A Config's fields with every ``"auto"`` device, nested Configs (a sweep's ``base``) included, replaced
    by the device it means on this machine; explicit names are kept as given, so that a key for ``"cuda"``
    can be formed on a machine without one (a Dask client, say)."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "device" and value == "auto":
            out[name] = str(device("auto"))
        elif isinstance(value, dict):
            out[name] = _resolve_devices(value)
        else:
            out[name] = value
    return out


def config_key(config: Any) -> str:
    """A stable hash of a Config (its class, every field, ``"auto"`` devices resolved: ``"auto"`` and the
    device it means share results), the torch version and
    :func:`source_hash`, so that a changed measure or another device never serves an old result."""
    payload = {
        "class": f"{type(config).__module__}.{type(config).__qualname__}",
        "fields": _jsonable(_resolve_devices(config.to_dict())),
        "torch": torch.__version__,
        "source": source_hash(),
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached(compute: Callable[[], R], config: Any, result_type: type[R], *, use_cache: bool = True) -> R:
    """Return the cached Result for ``config`` if there is one, else compute, store and return it.

    Results are written as ``.npz`` files (no pickles) under :func:`cache_dir`, named by the
    experiment and :func:`config_key`. A damaged file is recomputed. Every computation appends one JSON line
    to ``<cache>/timings.jsonl`` (experiment, Config type, key, profile, seconds), so a build tells where
    its time went (``benchmarks/build_timings.py``).
    """
    if not use_cache:
        return compute()
    experiment, key = type(config).__module__.rsplit(".", 1)[-1], config_key(config)
    path = cache_dir() / f"{experiment}-{key}.npz"
    if path.exists():
        try:
            return result_type.load(path)  # type: ignore[attr-defined]
        except Exception:  # a truncated or stale file: recompute it
            path.unlink(missing_ok=True)
    started = time.perf_counter()
    result = compute()
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"experiment": experiment, "config": type(config).__name__, "key": key, "profile": profile(),
              "seconds": round(seconds, 2)}
    with open(path.parent / "timings.jsonl", "a", encoding="utf-8") as log:  # one short line: atomic append
        log.write(json.dumps(record) + "\n")
    # Each writer has its own temporary file in the same folder; os.replace is atomic, so processes that
    # compute the same key at once each leave a complete file, and the last rename wins.
    temporary = path.with_name(f"{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp.npz")
    try:
        result.save(temporary)  # type: ignore[attr-defined]
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return result
