"""Small books built from scratch, beside the site's own build (each a few seconds): a chapter that raises
fails the build, the prewarm's executions serve the build, and notebooks keep their outputs after an
incremental build."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
HEADER = ("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n    format_version: 0.13\n"
          "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n# Page\n\n")

pytestmark = pytest.mark.site


def build(source: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "UNIQ_PROFILE": "quick"}
    return subprocess.run([str(JUPYTER_BOOK), "build", str(source), "--warningiserror", "--keep-going"],
                          cwd=source, env=env, capture_output=True, text=True, timeout=600)


def small_book(folder: Path, page: str) -> Path:
    """A one-page book in ``folder`` using the site's configuration and extensions; returns the page."""
    (folder / "book").mkdir()
    for name in ("_ext", "_static", "references.bib"):
        (folder / "book" / name).symlink_to(ROOT / "book" / name)
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: book/00_page\n")
    path = folder / "book" / "00_page.md"
    path.write_text(HEADER + page)
    return path


def test_a_chapter_that_raises_fails_the_build(tmp_path):
    small_book(tmp_path, "```{code-cell} ipython3\n1 / 0\n```\n")
    result = build(tmp_path)
    assert result.returncode != 0
    assert "ZeroDivisionError" in result.stdout + result.stderr


def test_the_build_takes_the_prewarmed_execution_instead_of_running_the_chapter_again(tmp_path):
    counter = tmp_path / "runs.txt"
    page = small_book(tmp_path, f"```{{code-cell}} ipython3\nwith open({str(counter)!r}, 'a') as f:\n"
                                "    f.write('x')\nprint('computed', 6 * 7)\n```\n")
    env = {**os.environ, "UNIQ_PROFILE": "quick", "UNIQ_CACHE_DIR": str(tmp_path / "results")}
    subprocess.run([sys.executable, str(ROOT / "book" / "_ext" / "prewarm.py"), str(page), "--build-dir",
                    str(tmp_path / "_build")], cwd=tmp_path, env=env, check=True, timeout=600)
    assert counter.read_text() == "x"
    result = build(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert counter.read_text() == "x", "the build ran the chapter again"
    html = (tmp_path / "_build" / "html" / "book" / "00_page.html").read_text()
    assert "computed 42" in html
    spec = importlib.util.spec_from_file_location("notebooks", ROOT / "book" / "_ext" / "notebooks.py")
    notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notebooks)  # the notebook Colab opens takes the outputs from the execution cache
    written = notebooks.convert(tmp_path / "_build" / "jupyter_execute" / "book" / "00_page.ipynb",
                                tmp_path / "out" / "00_page.ipynb")
    notebook = nbformat.read(written, as_version=4)
    assert "computed 42" in "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


def test_notebooks_after_an_incremental_build_keep_their_outputs(tmp_path):
    """A prose edit makes Sphinx read a page again while myst-nb takes its outputs from the execution cache;
    the notebook written for Colab must still hold them."""
    cell = "```{code-cell} ipython3\nprint('computed', 6 * 7)\n```\n"
    page = small_book(tmp_path, "First words.\n\n" + cell)
    assert build(tmp_path).returncode == 0
    page.write_text(HEADER + "Other words.\n\n" + cell)  # prose only: the code and its cache entry unchanged
    assert build(tmp_path).returncode == 0
    spec = importlib.util.spec_from_file_location("notebooks", ROOT / "book" / "_ext" / "notebooks.py")
    notebooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(notebooks)
    written = notebooks.convert(tmp_path / "_build" / "jupyter_execute" / "book" / "00_page.ipynb",
                                tmp_path / "out" / "00_page.ipynb")
    notebook = nbformat.read(written, as_version=4)
    assert "Other words." in notebook.cells[0].source
    printed = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)
    assert "computed 42" in printed
