"""Where a build's time went: every experiment computed into a results cache, slowest first.

``python benchmarks/build_timings.py [CACHE_DIR]`` reads ``<cache>/timings.jsonl`` (one line per computed
Result, written by :func:`uniq_core.runtime.cached`; the default cache is ``.uniq_cache``) and prints one JSON
line: per Config type, the number of Results computed, their total and largest seconds, and the share of the
total. Computations that ran side by side (``book/_ext/prewarm.py`` runs two chapters at once) are summed,
so the total is CPU-side work, not wall time; and a Result computed inside another's computation (the
architecture comparison runs finite-size experiments) counts in both.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def summarise(lines: list[dict]) -> dict:
    """Per Config type (``experiment.Config``): ``count``, ``seconds`` (total), ``largest``, ``share``;
    slowest first, with the grand total."""
    groups: dict[str, list[float]] = defaultdict(list)
    for line in lines:
        groups[f"{line['experiment']}.{line['config']}"].append(float(line["seconds"]))
    total = sum(sum(values) for values in groups.values())
    rows = {name: {"count": len(values), "seconds": round(sum(values), 1), "largest": round(max(values), 1),
                   "share": round(sum(values) / total, 3) if total else 0.0}
            for name, values in sorted(groups.items(), key=lambda item: -sum(item[1]))}
    profiles = sorted({line.get("profile", "?") for line in lines})
    return {"experiments": rows, "total_seconds": round(total, 1), "profiles": profiles}


def main(argv: list[str]) -> int:
    cache = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / ".uniq_cache"
    path = cache / "timings.jsonl"
    if not path.exists():
        print(f"no timings at {path}: build the book (make book) or run experiments with this cache first",
              file=sys.stderr)
        return 1
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    print(json.dumps(summarise(lines)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
