"""The built site: the quick-profile build succeeds, and every page works offline in headless Chromium."""

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.site


def build(source: Path, *, prewarm: bool = False) -> subprocess.CompletedProcess:
    """``make book``'s two steps: (with ``prewarm``) the chapters side by side, then the build."""
    env = {**os.environ, "UNIQ_PROFILE": "quick"}
    env.pop("UNIQ_CACHE_DIR", None)  # the book keeps its own results cache
    if prewarm:
        subprocess.run([sys.executable, str(ROOT / "book" / "_ext" / "prewarm.py")], cwd=source, env=env,
                       check=True, timeout=3000)
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(source), "--warningiserror", "--keep-going"],
        cwd=source, env=env, capture_output=True, text=True, timeout=3000,
    )


@pytest.fixture(scope="module")
def site() -> Path:
    result = build(ROOT, prewarm=True)
    assert result.returncode == 0, f"book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    return ROOT / "_build" / "html"


@pytest.fixture(scope="module")
def server(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (make test installs it)")
def test_every_page_loads_offline_without_errors(site, server):
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts)
    assert "book/00_intro.html" in pages
    problems = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        for name in pages:
            page = browser.new_page()
            outside, errors = [], []

            def route(request_route, outside=outside):
                url = request_route.request.url
                if url.startswith(server) or url.startswith("data:") or url.startswith("blob:"):
                    request_route.continue_()
                else:
                    outside.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.on("console", lambda message, errors=errors: message.type == "error" and errors.append(message.text))
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.on("response", lambda response, errors=errors: response.status >= 400
                    and not response.url.endswith("favicon.ico") and errors.append(f"{response.status} {response.url}"))
            page.goto(server + name, wait_until="networkidle")
            page.wait_for_timeout(500)
            figures = page.locator(".plotly-graph-div").count()
            drawn = page.locator(".plotly-graph-div .main-svg").count()
            html = page.content()
            if figures and drawn < figures:
                problems.append(f"{name}: {figures - drawn} plotly figure(s) not drawn")
            if "application/vnd.jupyter.widget-state+json" in html and page.locator(".jupyter-widgets").count() == 0:
                try:  # the widget manager renders asynchronously; on a loaded machine it can take seconds
                    page.wait_for_selector(".jupyter-widgets", timeout=15_000)
                except Exception:
                    problems.append(f"{name}: widget state present but no widget rendered")
            if outside:
                problems.append(f"{name}: requests leaving localhost: {outside}")
            if errors:
                problems.append(f"{name}: console errors: {errors}")
            page.close()
        browser.close()
    assert not problems, "\n".join(problems)


def test_intro_shows_figures_widget_and_sweep(site):
    html = (site / "book" / "00_intro.html").read_text()
    assert "plotly-graph-div" in html  # the static sweep
    assert "application/vnd.jupyter.widget-state+json" in html  # the live panel, rendered from state
    assert "colab.research.google.com/github/" in html and "00_intro.ipynb" in html
    assert "_static/vendor/mathjax/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "cdnjs" not in html


@pytest.fixture(scope="module")
def readable_notebooks(site, tmp_path_factory) -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks", ROOT / "book" / "_ext" / "notebooks.py")
    notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notebooks)
    out = tmp_path_factory.mktemp("notebooks")
    assert notebooks.main([str(ROOT / "_build" / "jupyter_execute" / "book"), str(out), "--site", str(site)]) == 0
    return out


def test_the_site_serves_the_readable_notebooks_for_download(readable_notebooks, site):
    served = sorted(site.rglob("01_lyapunov.ipynb"))
    assert served, "the chapter's notebook is offered for download"
    for path in served:
        assert "{glue" not in path.read_text() and path.read_bytes() == (readable_notebooks / path.name).read_bytes()


def test_every_chapter_has_a_readable_notebook(readable_notebooks):
    import nbformat

    chapters = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.md"))
    assert sorted(p.stem for p in readable_notebooks.glob("*.ipynb")) == chapters
    for path in readable_notebooks.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
        for marker in ("{glue", "```{", ":::{", "{footcite", "{download}"):
            assert marker not in markdown, f"{path.name} holds {marker}"
        assert any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), f"{path.name} lost its outputs"


def test_every_setup_cell_installs_a_commit_of_this_repository_and_the_profile_that_built_it(readable_notebooks):
    import re

    import nbformat

    for path in sorted(readable_notebooks.glob("*.ipynb")):
        setup = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code").source
        refs = set(re.findall(r"@ git\+\S+?@([0-9a-f]{40})", setup))
        assert len(refs) == 1, f"{path.name}: {setup[:300]}"
        resolves = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{refs.pop()}^{{commit}}"])
        assert resolves.returncode == 0, f"{path.name} installs a commit this repository does not have"
        assert 'os.environ.setdefault("UNIQ_PROFILE", "quick")' in setup and "Running" in setup


def test_every_page_has_the_books_stylesheet_with_a_dark_theme_for_figures(site):
    css = (site / "_static" / "uniq.css").read_text()
    for rule in ('html[data-theme="dark"] .js-plotly-plot', 'html[data-theme="dark"] .cell_output img',
                 ".verdict-table td::before"):
        assert rule in css
    for page in sorted((site / "book").glob("*.html")):
        assert "uniq.css" in page.read_text(), page.name


def test_plotly_js_is_loaded_only_where_a_plotly_figure_is_drawn(site):
    for page in sorted((site / "book").glob("*.html")):
        html = page.read_text()
        draws = "Plotly.newPlot" in html or "plotly-graph-div" in html
        assert ("plotly.min.js" in html) == draws, page.name
    assert "plotly.min.js" not in (site / "book" / "07_verdicts.html").read_text()


def test_colab_buttons_open_the_readable_notebooks(site):
    html = (site / "book" / "01_lyapunov.html").read_text()
    assert "colab.research.google.com/github/uniq-book/uniq/blob/notebooks/01_lyapunov.ipynb" in html


def test_setup_and_first_experiment_cells_run_in_a_fresh_environment(readable_notebooks, tmp_path):
    """A fresh virtual environment with uniq_core installed from the checkout (not editable) and a fresh
    kernel: the intro notebook's setup cell and first experiment cell execute."""
    import json
    import site as site_module

    import nbformat
    from nbclient import NotebookClient

    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    python = environment / "bin" / "python"
    packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    # the pinned dependencies come from the project's environment; uniq_core itself is installed fresh
    (packages / "dependencies.pth").write_text("\n".join(site_module.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(packages), str(ROOT)], check=True, cwd=tmp_path, timeout=600)
    probe = subprocess.run([str(python), "-c", "import uniq_core; print(uniq_core.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(packages) in probe  # the installed copy, not the checkout
    kernels = tmp_path / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python"}))
    notebook = nbformat.read(readable_notebooks / "00_intro.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    notebook.cells = code[:2]
    for cell in notebook.cells:
        cell.outputs = []
    os.environ["JUPYTER_PATH"] = str(tmp_path)
    try:
        NotebookClient(notebook, kernel_name="fresh", timeout=900, resources={"metadata": {"path": str(ROOT)}},
                       env={**os.environ, "UNIQ_PROFILE": "quick", "PYTHONPATH": ""}).execute()
    finally:
        os.environ.pop("JUPYTER_PATH", None)
    printed = "".join(o.get("text", "") for o in notebook.cells[0].outputs)
    assert "uniq_core" in printed and "profile quick" in printed  # cells: the code cells, setup first
    assert not any(o.output_type == "error" for cell in notebook.cells for o in cell.outputs)


def _glued(site: Path, stem: str) -> dict:
    """The glued values of one built page, as myst-nb records them beside the executed notebook."""
    import json

    stored = site.parent / "jupyter_execute" / "book" / f"{stem}.glue.json"
    values = {}
    for name, output in json.loads(stored.read_text()).items():
        data = output.get("data", {})
        plain = next((value for key, value in data.items() if key.endswith("text/plain")), None)
        values[name] = plain
    return values


def test_every_chapter_verdict_is_the_verdict_page_row(site):
    """One claim, one verdict: each ``claim_<key>`` a chapter's verdict box shows equals the verdict page's row."""
    table = _glued(site, "07_verdicts")
    compared = 0
    for chapter in sorted((ROOT / "book").glob("0[0-6]_*.md")):
        for name, value in _glued(site, chapter.stem).items():
            key = name.removeprefix("claim_")
            if name.startswith("claim_") and f"vd_{key}_verdict" in table:
                assert value == table[f"vd_{key}_verdict"], f"{chapter.stem}: {key} {value} ≠ {table[f'vd_{key}_verdict']}"
                compared += 1
    assert compared == len([name for name in table if name.endswith("_verdict")])
