"""The readable notebooks Colab opens: glue values filled in as on the site, plain Markdown, outputs kept."""

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("notebooks", ROOT / "book" / "_ext" / "notebooks.py")
notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(notebooks)

MYST_MARKERS = ("{glue", "```{", ":::{", "{footcite", "{download}", "{footbibliography}")


def glue_output(name, text):
    return nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})


def executed_notebook():
    code = nbformat.v4.new_code_cell("glue('rate', 0.012345); glue('verdict', 'holds')")
    code.outputs = [glue_output("rate", "0.012345"), glue_output("verdict", "'holds'"),
                    nbformat.v4.new_output("display_data", data={"text/plain": "<Figure>", "image/png": "iVBOR"}),
                    nbformat.v4.new_output("display_data", data={
                        "application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "VBox()"}),
                    nbformat.v4.new_output("display_data", data={
                        "text/html": "<div id='f'></div><script>Plotly.newPlot('f', [])</script>"})]
    markdown = nbformat.v4.new_markdown_cell(
        "(sec-verdict)=\n"
        "The rate is {glue:text}`rate:.3f` per step, and the claim {glue:text}`verdict` "
        "{footcite}`greydanus2020scaling`; see {footcite:t}`frankle2020linear`. Get {download}`the notebook "
        "<00_intro.ipynb>`; {func}`uniq_core.thermo.ar1_entropy_estimate`.\n\n"
        "```{admonition} Verdict\n:class: tip\nIt {glue:text}`verdict`.\n\nSecond paragraph.\n```\n\n"
        "## References\n\n```{footbibliography}\n```\n")
    return nbformat.v4.new_notebook(cells=[code, markdown])


def test_glue_myst_and_outputs_become_plain(tmp_path):
    source = tmp_path / "in" / "01_x.ipynb"
    source.parent.mkdir()
    nbformat.write(executed_notebook(), source)
    assert notebooks.main([str(source.parent), str(tmp_path / "out")]) == 0
    result = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4)
    text = result.cells[1].source
    for marker in MYST_MARKERS:
        assert marker not in text, marker
    assert "The rate is 0.012 per step, and the claim holds (Greydanus 2020)" in text
    assert "Frankle et al. (2020)" in text
    assert "> **Verdict**\n>\n> It holds.\n>\n> Second paragraph." in text
    assert "- Sam Greydanus (2020). Scaling down Deep Learning." in text
    assert f"[the notebook]({notebooks.REPOSITORY}/blob/main/book/00_intro.ipynb)" in text
    assert "`uniq_core.thermo.ar1_entropy_estimate`" in text and "(sec-verdict)=" not in text
    outputs = result.cells[0].outputs
    assert len(outputs) == 3  # the glue records are gone, the figure stays
    assert outputs[0].data["image/png"] == "iVBOR"
    assert "Run this cell" in outputs[1].data["text/plain"]
    assert outputs[2].data["text/html"].startswith('<script src="https://cdn.plot.ly/plotly-')


def test_a_missing_glue_value_is_an_error():
    with pytest.raises(KeyError, match="nothing"):
        notebooks.to_plain_markdown("{glue:text}`nothing`", {}, {}, [])


def test_no_executed_chapters_is_a_clear_failure(tmp_path, capsys):
    assert notebooks.main([str(tmp_path), str(tmp_path / "out")]) == 1
    assert "make book" in capsys.readouterr().err


def test_glue_records_kept_beside_a_built_page_are_read(tmp_path):
    import json

    notebook = executed_notebook()
    notebook.cells[0].outputs = notebook.cells[0].outputs[2:]  # the build moved the records out of the cells
    source = tmp_path / "in" / "01_x.ipynb"
    source.parent.mkdir()
    nbformat.write(notebook, source)
    records = {"rate": glue_output("rate", "0.012345"), "verdict": glue_output("verdict", "'holds'")}
    source.with_suffix(".glue.json").write_text(json.dumps(records))
    assert notebooks.main([str(source.parent), str(tmp_path / "out")]) == 0
    text = nbformat.read(tmp_path / "out" / "01_x.ipynb", as_version=4).cells[1].source
    assert "The rate is 0.012 per step, and the claim holds" in text


def test_the_setup_cell_pins_the_built_commit_and_profile_and_says_how_long_the_chapter_took():
    spec = importlib.util.spec_from_file_location("setup_cell", ROOT / "book" / "_ext" / "setup_cell.py")
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)
    source = nbformat.v4.new_code_cell(setup.setup_cell("06_dna")[len("```{code-cell} ipython3\n:tags: [hide-input]\n\n"):-3]).source
    commit = "0123456789abcdef0123456789abcdef01234567"
    pinned = notebooks.pin_setup(source, commit=commit, profile="quick", timing={"seconds": 754.0, "cores": 2})
    assert f"uniq-core[weights] @ git+https://github.com/uniq-book/uniq@{commit}" in pinned
    assert pinned.count(f"@{commit}") == 2 and "@main" not in pinned  # the comment names it too
    assert 'os.environ.setdefault("UNIQ_PROFILE", "quick")' in pinned
    assert "about 13 min to compute when the site was built (beside other chapters, 2 CPU cores)" in pinned
    compile(pinned, "setup", "exec")
    untimed = notebooks.pin_setup(source, commit=commit, profile="standard", timing=None)
    assert "the standard profile, as on the site" in untimed and "min" not in untimed.split("print(runtime")[1]


def test_the_built_profile_is_read_from_the_setup_cells_output():
    notebook = executed_notebook()
    notebook.cells.insert(0, nbformat.v4.new_code_cell("print(runtime.describe())"))
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                        text="uniq_core 0.4.1 · profile standard · device cpu\n")]
    assert notebooks.built_profile(notebook) == "standard"


def test_progress_bars_keep_their_text_links_become_absolute_and_glue_cells_fold(tmp_path):
    notebook = executed_notebook()
    code = notebook.cells[0]
    code.outputs += [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "y"},
        "text/plain": "epochs: 100%|██████████| 10/10 [00:02<00:00,  4.1it/s]"}),
        nbformat.v4.new_output("display_data", data={"text/html": "<a href='01_lyapunov.html#verdict'>chapter 1</a>"})]
    glue_cell = nbformat.v4.new_code_cell("glue_all(findings)", metadata={"tags": ["remove-cell"]})
    notebook.cells.append(glue_cell)
    executed = tmp_path / "00_intro.ipynb"
    nbformat.write(notebook, executed)
    written = nbformat.read(notebooks.convert(executed, tmp_path / "out" / "00_intro.ipynb"), as_version=4)
    texts = [o["data"].get("text/plain", "") for o in written.cells[0].outputs if "data" in o]
    assert any("10/10" in t for t in texts) and "Run this cell to show the live panel." in texts
    html = "".join(o["data"]["text/html"] for o in written.cells[0].outputs if "text/html" in o.get("data", {}))
    assert f"href='{notebooks.SITE}/book/01_lyapunov.html#verdict'" in html
    folded = written.cells[-1]
    assert folded.metadata["cellView"] == "form" and folded.source.startswith("# @title")
    site = tmp_path / "html" / "_downloads" / "abc"
    site.mkdir(parents=True)
    (site / "00_intro.ipynb").write_text("{glue:text}`raw`")
    assert notebooks.serve_from_site(tmp_path / "out" / "00_intro.ipynb", tmp_path / "html") == [site / "00_intro.ipynb"]
    assert "{glue" not in (site / "00_intro.ipynb").read_text()
