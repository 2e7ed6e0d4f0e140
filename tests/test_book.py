"""The book's sources: pairing with notebooks, the Colab setup cell, the table of contents, references."""

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def test_there_are_chapters():
    assert CHAPTERS, "no chapters under book/"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_markdown_and_notebook_are_in_sync(chapter):
    notebook_path = chapter.with_suffix(".ipynb")
    assert notebook_path.exists(), f"{chapter.name} has no paired notebook; run `make sync`"
    from_markdown = jupytext.read(chapter)
    notebook = nbformat.read(notebook_path, as_version=4)
    def cells(nb):
        return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]
    assert cells(from_markdown) == cells(notebook), f"{chapter.name} and its .ipynb differ; run `make sync`"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_first_cell_installs_from_the_configured_repository_in_colab(chapter):
    first = jupytext.read(chapter).cells[0]
    assert first.cell_type == "code"
    assert '"google.colab" in sys.modules' in first.source
    assert f"git+{CONFIG['repository']['url']}" in first.source


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapters_end_with_their_references(chapter):
    text = chapter.read_text()
    assert text.rstrip().endswith("```{footbibliography}\n```".rstrip())


def test_table_of_contents_files_exist():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for name in files:
        assert (ROOT / f"{name}.md").exists(), name
    for chapter in CHAPTERS:
        assert str(chapter.relative_to(ROOT).with_suffix("")) in files, f"{chapter.name} is not in _toc.yml"


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text()))
    for page in (ROOT / "book").rglob("*.md"):
        for group in re.findall(r"\{foot(?:cite|cite:t|cite:p)\}`([^`]+)`", page.read_text()):
            for key in group.split(","):
                assert key.strip() in keys, f"{page.name} cites unknown key {key}"


def test_requirements_pin_torch_and_pyproject_stays_loose():
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", requirements, re.M)
    assert '"torch>=' in (ROOT / "pyproject.toml").read_text()
