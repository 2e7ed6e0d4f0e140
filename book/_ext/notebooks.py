"""Readable notebooks for Colab: the executed chapters, with every glue role replaced by its value (as the
site formats it) and MyST-only syntax turned into plain Markdown.

``python book/_ext/notebooks.py [EXECUTED_DIR] [OUT_DIR] [--site HTML_DIR]`` reads the notebooks the book build executed
(``_build/jupyter_execute/book/NN_name.ipynb``, with the glue records myst-nb keeps beside it in
``NN_name.glue.json``) and writes ``_build/notebooks/NN_name.ipynb``:

- outputs kept; glue records (hidden outputs) dropped; saved widget views replaced by a note to run the cell
  (progress bars by their text); links between pages in HTML outputs made absolute; the cell that glues the
  page's values folded (Colab's form view);
- with ``--site``, the readable notebook also replaces the raw one the site serves for download;
- ``{glue:text}`key:fmt``` → the value formatted by myst-nb's own function;
- admonition → a blockquote with a bold title; ``{footcite}`` → author–year, with a references list where
  ``{footbibliography}`` stood; ``{download}`` → a link into the repository; other roles → their text;
- plotly figures drawn for the static site (a ``<div>`` without plotly.js) load plotly.js in Colab;
- the setup cell installs the commit that was built (``GITHUB_SHA`` where the deploy workflow sets it, else
  the checkout's ``HEAD``), runs the profile that built the page unless the reader chose one, and prints how
  long the chapter took to compute when the site was built (the prewarm's record in the results cache).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
SITE = CONFIG.get("html", {}).get("baseurl", "").rstrip("/")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
GLUE_ROLE = re.compile(r"\{glue(?::text|:|)\}`([^`]+)`")
ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")


# ------------------------------------------------------------------------------------------ glue values


def glue_values(notebook: Any) -> dict[str, dict[str, Any]]:
    """``{name: mimebundle}`` of every ``glue`` record in the executed notebook's outputs."""
    values: dict[str, dict[str, Any]] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                prefix = record.get("mime_prefix", "")
                values[record["name"]] = {key[len(prefix):]: value for key, value in output.get("data", {}).items()}
    return values


def paste(key_and_format: str, values: dict[str, dict[str, Any]]) -> str:
    """What ``{glue:text}`key:fmt``` shows on the site."""
    from myst_nb.core.variables import format_plain_text

    key, _, fmt = key_and_format.partition(":")
    if key not in values or "text/plain" not in values[key]:
        raise KeyError(f"glue key {key!r} has no text/plain value in the executed notebook")
    return format_plain_text(values[key]["text/plain"], fmt)


# ---------------------------------------------------------------------------------------- references


def bibliography() -> dict[str, dict[str, str]]:
    """``{key: {"short": "Author et al. (Year)", "full": "..."}}`` from ``book/references.bib``."""
    from pybtex.database import parse_file

    entries: dict[str, dict[str, str]] = {}
    for key, entry in parse_file(str(ROOT / "book" / "references.bib")).entries.items():
        people = entry.persons.get("author", [])
        names = [" ".join(person.last_names) for person in people]
        if len(names) > 2:
            authors = f"{names[0]} et al."
        else:
            authors = " and ".join(names) or entry.fields.get("title", key)
        year = entry.fields.get("year", "n.d.")
        fields = entry.fields
        venue = fields.get("journal") or fields.get("booktitle") or fields.get("publisher") or fields.get("howpublished", "")
        link = fields.get("url") or (f"https://doi.org/{fields['doi']}" if "doi" in fields else "")
        full = ", ".join(" ".join(p.first_names + p.middle_names + p.last_names) for p in people) or authors
        text = f"{full} ({year}). {fields.get('title', '').strip('{}')}."
        text += f" *{venue.strip('{}')}*." if venue else ""
        text += f" <{link}>" if link else ""
        entries[key] = {"authors": authors, "year": year, "full": text}
    return entries


# ------------------------------------------------------------------------------------------- markdown


def to_plain_markdown(text: str, values: dict[str, dict[str, Any]], references: dict[str, dict[str, str]],
                      cited: list[str]) -> str:
    """One MyST Markdown cell as plain Markdown (cited keys are appended to ``cited``)."""
    text = GLUE_ROLE.sub(lambda m: paste(m.group(1), values), text)
    text = re.sub(r"^(`{3,}|:{3,})\{(admonition|note|warning|tip|important|seealso|hint|attention|caution|danger)\}"
                  r"([^\n]*)\n(.*?)^\1\s*$",
                  _admonition, text, flags=re.S | re.M)

    def citation(match: re.Match[str], narrative: bool) -> str:
        keys = [key.strip() for key in match.group(1).split(",")]
        for key in keys:
            if key not in references:
                raise KeyError(f"citation {key!r} is not in book/references.bib")
            if key not in cited:
                cited.append(key)
        if narrative:
            return "; ".join(f"{references[k]['authors']} ({references[k]['year']})" for k in keys)
        return "(" + "; ".join(f"{references[k]['authors']} {references[k]['year']}" for k in keys) + ")"

    text = re.sub(r"\{footcite:t\}`([^`]+)`", lambda m: citation(m, True), text)
    text = re.sub(r"\{footcite(?::p)?\}`([^`]+)`", lambda m: citation(m, False), text)
    text = re.sub(r"^```\{footbibliography\}\s*\n```\s*$", lambda m: _reference_list(cited, references), text,
                  flags=re.M)
    text = re.sub(r"\{download\}`([^`<]*?)\s*<([^>]+)>`", lambda m: f"[{m.group(1)}]({REPOSITORY}/blob/main/book/{m.group(2)})", text)
    text = re.sub(r"\{download\}`([^`]+)`", lambda m: f"[{m.group(1)}]({REPOSITORY}/blob/main/book/{m.group(1)})", text)
    text = re.sub(r"\{doc\}`([^`<]*?)\s*<([^>]+)>`", lambda m: f"[{m.group(1)}]({SITE}/book/{Path(m.group(2)).name}.html)", text)
    text = re.sub(r"\{math\}`([^`]+)`", r"$\1$", text)
    text = ROLE.sub(lambda m: _role_text(m.group(2)), text)
    text = re.sub(r"^\([\w-]+\)=\s*$\n?", "", text, flags=re.M)
    return text


def _admonition(match: re.Match[str]) -> str:
    kind, title, body = match.group(2), match.group(3), match.group(4)
    title = title.strip() or kind.capitalize()
    lines = [line for line in body.splitlines() if not re.match(r"^:[\w-]+:", line)]
    while lines and not lines[-1].strip():
        lines.pop()
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
    return f"> **{title}**\n>\n{quoted}\n"


def _role_text(content: str) -> str:
    shown = re.sub(r"\s*<[^>]+>$", "", content).strip()
    return f"`{shown}`" if re.fullmatch(r"[\w.]+(\(\))?", shown) else shown


def _reference_list(cited: list[str], references: dict[str, dict[str, str]]) -> str:
    if not cited:
        return ""
    return "\n".join(f"- {references[key]['full']}" for key in cited) + "\n"


# ---------------------------------------------------------------------------------------------- outputs


def plotly_loader() -> str:
    from plotly.offline import get_plotlyjs_version

    return f'<script src="https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"></script>\n'


PROGRESS_BAR = re.compile(r"\d+%\|")  # tqdm's text: "epochs:  40%|████      | 4/10 [...]"
PAGE_LINK = re.compile(r"""href=(['"])(\d\d_[\w-]+\.html)""")


def clean_outputs(cell: Any) -> None:
    """Drop glue records; replace saved widget views by a note (a progress bar by its text); make links
    between pages absolute (Colab has no site around the notebook); let static plotly figures load
    plotly.js."""
    kept = []
    for output in cell.get("outputs", []):
        if output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix"):
            continue  # a hidden glue record
        data = output.get("data", {})
        if "text/html" in data:
            data["text/html"] = PAGE_LINK.sub(lambda m: f"href={m.group(1)}{SITE}/book/{m.group(2)}",
                                              "".join(data["text/html"]))
        if WIDGET_VIEW in data:
            text = "".join(data.get("text/plain", ""))
            output["data"] = {"text/plain": text if PROGRESS_BAR.search(text)
                              else "Run this cell to show the live panel."}
        elif "text/html" in data and "Plotly.newPlot" in "".join(data["text/html"]) and "cdn.plot.ly" not in "".join(data["text/html"]):
            data["text/html"] = plotly_loader() + "".join(data["text/html"])
        kept.append(output)
    cell["outputs"] = kept


# -------------------------------------------------------------------------------------------- setup cell


def built_commit() -> str:
    """The commit being published: ``GITHUB_SHA`` in the deploy workflow, else the checkout's ``HEAD``."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    completed = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"cannot name the commit to install in Colab: {completed.stderr.strip()} "
                           "(set GITHUB_SHA)")
    return completed.stdout.strip()


def _setup_cell(notebook: Any) -> Any:
    """The chapter's first code cell (the setup cell, just below the title), or ``None``."""
    return next((cell for cell in notebook.cells if cell.cell_type == "code"), None)


def built_profile(notebook: Any) -> str:
    """The profile that executed the notebook, as its setup cell printed it (``runtime.describe``)."""
    setup = _setup_cell(notebook)
    for output in setup.get("outputs", []) if setup is not None else []:
        match = re.search(r"profile (\w+)", output.get("text", ""))
        if match:
            return match.group(1)
    from uniq_core import runtime

    return runtime.profile()


def chapter_time(stem: str) -> dict[str, Any] | None:
    """How long the chapter took to compute when the site was built, from the prewarm's record in the
    results cache (``seconds``, ``cores``), or ``None`` where there is none."""
    from uniq_core import runtime

    try:
        record = json.loads((runtime.cache_dir() / "prewarm" / f"{stem}.json").read_text())
        return {"seconds": float(record["seconds"]), "cores": record.get("cores")}
    except (OSError, ValueError, KeyError):
        return None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def pin_setup(source: str, *, commit: str, profile: str, timing: dict[str, Any] | None) -> str:
    """The setup cell Colab runs: the commit ``commit`` installed, ``profile`` run unless the reader set
    ``UNIQ_PROFILE``, and a line saying which profile runs and how long the chapter took when built."""
    source = re.sub(r"(@ git\+[^\s\"')]+?)@[\w.\-/]+", lambda m: f"{m.group(1)}@{commit}", source)
    source = re.sub(r'os\.environ\.setdefault\("UNIQ_PROFILE", "\w+"\)',
                    f'os.environ.setdefault("UNIQ_PROFILE", "{profile}")', source)
    if timing is None:
        took = f"the {profile} profile, as on the site"
    else:
        cores = f", {timing['cores']} CPU cores" if timing.get("cores") else ""
        took = (f"the {profile} profile, as on the site: this chapter took about {_duration(timing['seconds'])} "
                f"to compute when the site was built (beside other chapters{cores}); a GPU runtime runs it on "
                "the GPU, not timed")
    return source.rstrip() + (f'\nif runtime.profile() == "{profile}":\n    print("Running {took}.")\n'
                              'else:\n    print(f"Running the {runtime.profile()} profile: other numbers than '
                              'the site\'s, not timed.")\n')


def with_outputs(notebook: Any, executed: Path) -> Any:
    """``notebook`` with its outputs: as written where it has any, else from myst-nb's execution cache
    (``_build/.jupyter_cache/<profile-device-source>/``, ``book/_ext/offline.py``, newest first). When Sphinx
    reads a page again whose code is unchanged (a prose edit), myst-nb takes the outputs from that cache and
    writes the page's notebook without them."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code or any(cell.get("outputs") for cell in code):
        return notebook
    from jupyter_cache import get_cache

    build = next((parent for parent in executed.parents if parent.name == "jupyter_execute"), executed.parent).parent
    root = build / ".jupyter_cache"
    caches = sorted((db.parent for db in root.glob("**/global.db")), key=lambda p: p.stat().st_mtime, reverse=True)
    for cache in caches:
        try:
            return get_cache(str(cache)).merge_match_into_notebook(notebook)[1]
        except KeyError:
            continue
    raise RuntimeError(f"{executed.name} has no outputs and no execution under {root} matches its code: "
                       "run `make book` again")


def convert(executed: Path, target: Path) -> Path:
    """Write the readable notebook for one executed chapter and return its path."""
    notebook = with_outputs(nbformat.read(executed, as_version=4), executed)
    values = glue_values(notebook)
    stored = executed.with_suffix(".glue.json")  # myst-nb moves a built page's glue records here
    if stored.exists():
        for name, output in json.loads(stored.read_text()).items():
            prefix = output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix", "")
            values.setdefault(name, {key.removeprefix(prefix): value for key, value in output.get("data", {}).items()})
    references = bibliography()
    cited: list[str] = []
    first = _setup_cell(notebook)
    if first is not None and '"google.colab" in sys.modules' in first.source:
        first.source = pin_setup(first.source, commit=built_commit(), profile=built_profile(notebook),
                                 timing=chapter_time(executed.stem))
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = to_plain_markdown(cell.source, values, references, cited)
        elif cell.cell_type == "code":
            clean_outputs(cell)
            if "remove-cell" in cell.metadata.get("tags", []):  # the page's glued values: folded in Colab
                cell.metadata["cellView"] = "form"
                cell.source = "# @title Values for the text of the page (hidden on the site)\n" + cell.source
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata.pop("accelerator", None)  # no chapter has been timed on a GPU: Colab's default runtime
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


def serve_from_site(notebook: Path, site: Path) -> list[Path]:
    """Replace every copy of the chapter's notebook that the built site serves for download (the raw
    paired notebook, glue roles and all) by the readable one; returns the files replaced."""
    replaced = []
    for served in site.rglob(notebook.name):
        served.write_bytes(notebook.read_bytes())
        replaced.append(served)
    return replaced


def main(arguments: list[str]) -> int:
    site = None
    if "--site" in arguments:
        at = arguments.index("--site")
        site, arguments = Path(arguments[at + 1]), arguments[:at] + arguments[at + 2:]
    source = Path(arguments[0]) if arguments else ROOT / "_build" / "jupyter_execute" / "book"
    out = Path(arguments[1]) if len(arguments) > 1 else ROOT / "_build" / "notebooks"
    chapters = sorted(source.glob("[0-9][0-9]_*.ipynb"))
    if not chapters:
        print(f"no executed chapters under {source}: run `make book` first", file=sys.stderr)
        return 1
    for chapter in chapters:
        written = convert(chapter, out / chapter.name)
        print(written)
        if site is not None:
            serve_from_site(written, site)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
