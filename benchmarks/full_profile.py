"""How long a profile takes on this machine: every experiment's ``full()`` Config (or ``--profile standard``'s
``standard()``), run for at most ``--limit`` seconds each on ``--device``, with an empty results cache.

An experiment that finishes gives its time. One that does not gives a lower bound (the limit) and, where
it has a progress bar with a total, an extrapolation from the outermost one (which assumes the items of that
bar cost alike): elapsed × total / done, or elapsed × total while its first item runs. Prints one JSON line {"full_profile": {name: {...}}, "profile": ..., "total": {...}}.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class _OutOfTime(BaseException):  # not caught by an experiment's own `except Exception`
    """Raised by the timer; carries the progress bars as they were (they close as it unwinds)."""

    def __init__(self, bars: list[dict]):
        super().__init__("out of time")
        self.bars = bars


def _bars() -> list[dict]:
    """The progress bars open now, outermost (earliest started) first."""
    from tqdm import tqdm

    bars = [bar for bar in list(tqdm._instances) if not getattr(bar, "disable", False)]
    bars.sort(key=lambda bar: bar.start_t)
    return [{"description": bar.desc, "done": bar.n, "total": bar.total,
             "elapsed": round(time.time() - bar.start_t, 1)} for bar in bars]


def _extrapolate(bars: list[dict], elapsed: float) -> tuple[float, str] | None:
    """From the outermost bar with a total, assuming its items cost alike: elapsed × total / done ("about"),
    or, before its first item is done, elapsed × total ("at least": the first item alone took that long).
    None when no bar has a total."""
    for bar in bars:
        if bar["total"]:
            if bar["done"] > 0:
                return elapsed * bar["total"] / bar["done"], "about"
            return elapsed * bar["total"], "at least"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--limit", type=float, default=120.0, help="seconds per experiment")
    parser.add_argument("--experiment", action="append", help="only these experiments (repeatable)")
    parser.add_argument("--profile", default="full", choices=("quick", "standard", "full"))
    arguments = parser.parse_args()
    os.environ["UNIQ_PROFILE"] = arguments.profile
    os.environ["UNIQ_CACHE_DIR"] = tempfile.mkdtemp(prefix="uniq-full-")  # an empty cache
    from uniq_core import cli

    def out_of_time(_signal, _frame):
        raise _OutOfTime(_bars())

    signal.signal(signal.SIGALRM, out_of_time)
    records = {}
    for name, experiment in cli.experiments().items():
        if arguments.experiment and name not in arguments.experiment:
            continue
        config = getattr(experiment.config_type, arguments.profile)()
        try:
            config = cli.apply_settings(config, [f"{cli._device_field(name, config)}={arguments.device}"])
        except ValueError:
            pass  # runs on the CPU
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, arguments.limit)
        try:
            experiment.run(config, progress=True)
            signal.setitimer(signal.ITIMER_REAL, 0)
            seconds = time.perf_counter() - started
            record = {"finished": True, "seconds": round(seconds, 1)}
        except _OutOfTime as stopped:
            elapsed = time.perf_counter() - started
            bars = stopped.bars
            estimate = _extrapolate(bars, elapsed)
            record = {"finished": False, "seconds": round(elapsed, 1), "bars": bars,
                      "estimate_seconds": None if estimate is None else round(estimate[0]),
                      "estimate": None if estimate is None else estimate[1]}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        records[name] = record
        print(f"{name}: {record}", file=sys.stderr)
    finished = sum(r["seconds"] for r in records.values() if r["finished"])
    lower = sum(r["seconds"] if r["finished"] else max(r["seconds"], r.get("estimate_seconds") or 0)
                for r in records.values())
    print(json.dumps({"full_profile": records, "profile": arguments.profile, "device": arguments.device,
                      "limit": arguments.limit,
                      "total": {"finished_seconds": round(finished), "lower_bound_seconds": round(lower),
                                "unfinished": [n for n, r in records.items() if not r["finished"]]}}))


if __name__ == "__main__":
    main()
