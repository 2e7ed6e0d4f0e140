"""Sphinx extension: the site loads every script, stylesheet and font from itself, never from a CDN.

- MathJax 3, RequireJS and the Jupyter widgets HTML manager come from the npm registry at build time
  (``make vendor`` unpacks them into ``book/_static/vendor``); plotly.js comes from the plotly wheel.
- plotly.js is loaded before RequireJS so that its UMD wrapper does not register an anonymous module, and
  only on pages that draw a plotly figure.
- The widget manager's icon fonts are copied to where it requests them (beside each page using it),
  and its MathJax 2 calls are mapped onto MathJax 3 (``_static/mathjax-hub.js``).
- sphinx-thebe's scripts are dropped: live code runs in Colab or Jupyter, not through thebe.
- The Colab button opens the readable notebook that ``make notebooks`` writes and the deploy workflow
  publishes on the ``notebooks`` branch (numbers filled in, plain Markdown), not the source pair.
- Notebooks execute with ``UNIQ_STATIC_SITE=1`` (figures draw with the site's plotly.js) and the
  execution cache is kept per profile, device, torch version and package source, so a quick build never
  reuses a full one and an edited measure re-executes the chapters.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

VENDOR = Path(__file__).resolve().parent.parent / "_static" / "vendor"
REQUIRED = (
    "mathjax/tex-chtml-full.js",
    "require.js",
    "html-manager/embed-amd.js",
)


def _configure(app: Sphinx, config) -> None:
    missing = [name for name in REQUIRED if not (VENDOR / name).exists()]
    if missing:
        raise ExtensionError(
            f"offline assets missing under {VENDOR}: {', '.join(missing)}. Run `make vendor` (or `make book`)."
        )
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    target = VENDOR / "plotly.min.js"
    if not target.exists() or target.stat().st_size != plotly_js.stat().st_size:
        shutil.copyfile(plotly_js, target)

    os.environ["UNIQ_STATIC_SITE"] = "1"
    config.mathjax_path = "vendor/mathjax/tex-chtml-full.js"
    config.nb_ipywidgets_js = {
        "vendor/require.js": {},
        "vendor/html-manager/embed-amd.js": {"data-jupyter-widgets-cdn": "_static/vendor/widgets/"},
    }
    config.nb_execution_cache_path = str(_execution_cache(Path(app.outdir).parent / ".jupyter_cache"))


def _execution_cache(root: Path) -> Path:
    """The notebook execution cache of this profile, device, torch version and package source: like the
    results cache, an edited measure re-executes every chapter instead of serving old outputs. Caches of
    the same profile left by older sources are removed."""
    import torch

    from uniq_core import runtime

    profile = runtime.profile()
    folder = root / f"{profile}-{runtime.device().type}-torch{torch.__version__}-{runtime.source_hash()}"
    if root.is_dir():
        for old in root.glob(f"{profile}-*"):
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    return folder


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    kept, seen = [], set()
    for script in context.get("script_files", []):
        filename = getattr(script, "filename", str(script)) or ""
        body = getattr(script, "attributes", {}).get("body", "")
        if "thebe" in filename or "THEBE_JS_URL" in body or (filename, body) in seen:
            continue
        seen.add((filename, body))
        kept.append(script)
    context["script_files"] = kept


NOTEBOOK_BRANCH = "notebooks"


def _plotly_where_drawn(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """plotly.js (megabytes) only on pages that draw a plotly figure."""
    body = context.get("body", "")
    if "Plotly.newPlot" in body or "plotly-graph-div" in body:
        return
    context["script_files"] = [script for script in context.get("script_files", [])
                               if "plotly.min.js" not in (getattr(script, "filename", str(script)) or "")]


def _colab_opens_readable_notebooks(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            url = button.get("url", "")
            if button.get("text") == "Colab" and "/blob/" in url:
                head, _, path = url.partition("/blob/")
                button["url"] = f"{head}/blob/{NOTEBOOK_BRANCH}/{Path(path).name}"


def _widget_fonts(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    fonts = [f for f in (VENDOR / "html-manager").iterdir() if f.suffix in {".woff2", ".woff", ".ttf", ".eot", ".svg"}]
    folders = {
        page.parent
        for page in Path(app.outdir).rglob("*.html")
        if "application/vnd.jupyter.widget-state+json" in page.read_text(encoding="utf-8")
    }
    for folder in folders:
        for relative in ("@jupyter-widgets/html-manager/dist", "@jupyter-widgets"):
            (folder / relative).mkdir(parents=True, exist_ok=True)
            for font in fonts:
                shutil.copyfile(font, folder / relative / font.name)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=100)
    app.connect("html-page-context", _drop_thebe)
    app.connect("html-page-context", _plotly_where_drawn, priority=550)
    app.connect("html-page-context", _colab_opens_readable_notebooks, priority=600)
    app.connect("build-finished", _widget_fonts)
    app.add_js_file("vendor/plotly.min.js", priority=100)
    app.add_js_file("mathjax-hub.js", priority=501)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
