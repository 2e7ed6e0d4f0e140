"""Project files: the deploy workflow is a valid GitHub workflow, licences, citation and changelog agree."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

import uniq_core

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"


def test_deploy_workflow_is_valid_against_the_github_workflow_schema():
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    completed = subprocess.run([checker, "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_deploy_workflow_builds_with_the_readme_commands_and_publishes_site_and_notebooks():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    commands = [step.get("run", "") for step in workflow["jobs"]["build"]["steps"]]
    assert "make book" in commands and "make notebooks" in commands
    assert workflow["jobs"]["build"]["env"]["UNIQ_PROFILE"] == "standard"  # the published profile
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    branches = [step["with"].get("publish_branch") for job in workflow["jobs"].values() for step in job["steps"]
                if "with" in step]
    assert "notebooks" in branches


def test_licences_citation_and_changelog_agree_with_the_package():
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY 4.0" in licence
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == uniq_core.__version__
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert citation["repository-code"] == config["repository"]["url"]
    assert citation["url"] == config["html"]["baseurl"].rstrip("/") + "/"
    assert f"## {uniq_core.__version__}" in (ROOT / "CHANGELOG.md").read_text()


def test_the_wheel_names_its_authors_and_urls_and_every_release_has_a_date():
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert project["authors"] and all(author.get("name") for author in project["authors"])
    assert project["urls"]["Source"] == config["repository"]["url"]
    assert project["urls"]["Homepage"] == config["html"]["baseurl"].rstrip("/") + "/"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert [author["name"] for author in citation["authors"]] == [author["name"] for author in project["authors"]]
    releases = re.findall(r"^## (\d+\.\d+\.\d+)(.*)$", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    assert releases and all(re.fullmatch(r" — \d{4}-\d{2}-\d{2}", rest) for _, rest in releases), releases
    assert str(citation["date-released"]) == dict(releases)[uniq_core.__version__].removeprefix(" — ")
