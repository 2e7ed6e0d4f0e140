"""Fill the results cache by running the chapters side by side, before the book build reads it.

``python book/_ext/prewarm.py [--jobs N] [CHAPTER.md ...]`` executes every chapter (``book/NN_*.md`` by
default) in its own kernel, ``N`` at a time (default: one per CPU core, each kernel with
``cores // N`` threads; beyond the quick profile, the units of a chapter's long experiments on a pool of one
process per core, :func:`uniq_core.runtime.unit_pool`). Every ``run(config)`` a chapter makes stores its
Result in the results cache (:func:`uniq_core.runtime.cache_dir`), so the book build that follows executes
each chapter against a warm cache: the same cells, the same code path, the same Results, in a fraction of the time. The
verdict page and the introduction, which mostly read the chapters' Results, run after the others.

Each executed chapter is also stored in the book build's notebook execution cache (myst-nb's jupyter-cache,
the folder ``book/_ext/offline.py`` chooses for this profile, device and source), with the site's settings
(``UNIQ_STATIC_SITE=1``, the chapter's folder as working directory): the build then takes its outputs from
there instead of running the chapter a second time. A chapter that fails here is reported and skipped: the
book build runs it again and reports the error where it belongs. A chapter already run here with the same code cells, profile and ``uniq_core`` source
is skipped (a stamp in ``<cache>/prewarm/``). Prints how long each chapter took.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAST = ("00_", "07_")  # pages that mostly read other chapters' Results: run once those are cached
#: Beyond the quick profile, chapters never run against this cache start in this order, longest first in
#: the standard build (benchmarks/RESULTS.md): the longest chapter must not be the last to start.
LONGEST_FIRST = ("06_", "04_", "05_", "01_", "02_", "03_")


def _stamp_path(chapter: Path) -> tuple[Path, str]:
    """Where the stamp of ``chapter`` lives, and the key it must hold to count as done."""
    import jupytext

    from uniq_core import runtime

    notebook = jupytext.read(chapter)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    text = json.dumps({"code": code, "profile": runtime.profile(), "source": runtime.source_hash()})
    return runtime.cache_dir() / "prewarm" / f"{chapter.stem}.json", hashlib.sha256(text.encode()).hexdigest()


def _previous_seconds(chapter: Path) -> float:
    """Seconds the chapter took when last run here (any key), to start the longest first; 0 if never."""
    from uniq_core import runtime

    try:
        return float(json.loads((runtime.cache_dir() / "prewarm" / f"{chapter.stem}.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        return 0.0


def _rank(chapter: Path) -> int:
    """Place of ``chapter`` in :data:`LONGEST_FIRST` (after all of them when absent)."""
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if chapter.name.startswith(prefix)), len(LONGEST_FIRST))


def execution_cache(build: Path) -> Path:
    """The book build's notebook execution cache for this profile, device and source under ``build``."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import offline

    return offline._execution_cache(build / ".jupyter_cache")


def store(notebook, chapter: Path, seconds: float, build: Path) -> None:
    """Put the executed ``notebook`` into the build's execution cache (one process at a time)."""
    import fcntl

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    folder = execution_cache(build)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".prewarm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        get_cache(str(folder)).cache_notebook_bundle(
            CacheBundleIn(notebook, str(chapter), data={"execution_seconds": seconds}), check_validity=False,
            overwrite=True)


def execute(chapter: Path, threads: int, timeout: int, workers: int = 1,
            build: Path | None = None) -> tuple[str, float, str | None]:
    """Run ``chapter`` top to bottom in a fresh kernel (working directory: its folder, as the book build
    runs it), its experiments' independent units on ``workers`` processes (``UNIQ_WORKERS``), and store it in
    the execution cache of the book built into ``build`` (default ``_build``). Returns (name, seconds,
    error or None)."""
    import jupytext
    import nbclient

    stamp, key = _stamp_path(chapter)
    try:
        if json.loads(stamp.read_text()).get("key") == key:
            return chapter.stem, 0.0, None
    except (OSError, ValueError):
        pass
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)  # inherited by the kernel
    os.environ["UNIQ_WORKERS"] = str(workers)
    os.environ["UNIQ_STATIC_SITE"] = "1"  # as the book build runs it: its outputs are the site's
    notebook = jupytext.read(chapter)
    started = time.perf_counter()
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(chapter.parent)}}).execute()
    except Exception as error:  # reported; the book build runs the chapter again and shows it in place
        return chapter.stem, time.perf_counter() - started, f"{type(error).__name__}: {str(error)[-400:]}"
    seconds = time.perf_counter() - started
    store(notebook, chapter, seconds, build or ROOT / "_build")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"key": key, "seconds": round(seconds, 1), "cores": os.cpu_count()}))
    return chapter.stem, seconds, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapters to run (default: book/NN_*.md)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="kernels at a time")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cell")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "_build",
                        help="the book's build folder, whose notebook execution cache receives the chapters")
    arguments = parser.parse_args(argv)
    if arguments.jobs < 1:
        parser.error(f"--jobs={arguments.jobs} is not allowed; expected a whole number of at least 1")
    sys.path.insert(0, str(ROOT))
    chapters = [c.resolve() for c in arguments.chapters] or sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
    threads = max(1, (os.cpu_count() or 1) // arguments.jobs)
    # beyond the quick profile a chapter's long experiments spread their units over every core, so that the
    # chapter still running when the others are done does not leave cores idle (Results do not change)
    from uniq_core import runtime

    quick = runtime.profile() == "quick"
    workers = 1 if quick else (os.cpu_count() or 1)
    first = [c for c in chapters if not c.name.startswith(LAST)]
    first.sort(key=lambda c: (_previous_seconds(c), 0 if quick else -_rank(c)), reverse=True)
    later = [c for c in chapters if c.name.startswith(LAST)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=arguments.jobs) as pool:
        for group in (first, later):
            futures = [pool.submit(execute, chapter, threads, arguments.timeout, workers, arguments.build_dir.resolve())
                       for chapter in group]
            for future in as_completed(futures):
                name, seconds, error = future.result()
                print(f"prewarm: {name} {'cached' if seconds == 0 and error is None else f'{seconds:.0f} s'}"
                      + (f" — failed, left to the book build: {error}" if error else ""), flush=True)
    print(f"prewarm: {len(chapters)} chapters, {arguments.jobs} at a time, {time.perf_counter() - started:.0f} s",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
