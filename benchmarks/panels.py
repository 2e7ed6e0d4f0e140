"""First run of every chapter's live panel at its starting settings, with an empty results cache.

Prints one JSON line: {"panels": {chapter: {"seconds": s, "device": d}}}. Target: at most 10 s each on
2 CPU cores in the quick profile. ``--device cpu|cuda|auto`` sets the panels' device where they have one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--chapter", action="append", help="only these chapters (repeatable)")
    arguments = parser.parse_args()
    os.environ.setdefault("UNIQ_PROFILE", "quick")
    os.environ["UNIQ_CACHE_DIR"] = tempfile.mkdtemp(prefix="uniq-panels-")  # an empty cache
    from uniq_core import panels, runtime

    timings = {}
    for chapter, spec in panels.specs().items():
        if arguments.chapter and chapter not in arguments.chapter:
            continue
        panel = panels.panel(chapter)
        config = panel.config()
        if hasattr(config, "device"):
            panel.controls["device"].value = arguments.device
            config = panel.config()
        started = time.perf_counter()
        result = panel.run_function(config, progress=False)
        seconds = time.perf_counter() - started
        spec.show(result)
        device = str(runtime.device(config.device)) if hasattr(config, "device") else "cpu"
        timings[chapter] = {"seconds": round(seconds, 2), "device": device}
        print(f"{chapter}: {seconds:.1f} s on {device}", file=sys.stderr)
    print(json.dumps({"panels": timings}))


if __name__ == "__main__":
    main()
