"""The live panels under ipywidgets 7.7.1 (Colab's own version) as well as 8: a separate environment with
ipywidgets 7.7.1 over the project's packages runs the panel logic."""

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = ROOT / ".venv-widgets7"
WIDGETS7 = ["ipywidgets==7.7.1", "widgetsnbextension==3.6.10", "jupyterlab-widgets==1.1.11", "ipython-genutils==0.2.0"]

PANEL_LOGIC = textwrap.dedent("""
    import ipywidgets
    assert ipywidgets.__version__ == "7.7.1", ipywidgets.__version__
    from uniq_core import explore
    from uniq_core.experiments import divergence

    controls = {"lr": (0.01, 0.5, 0.01), "perturbation": ("log", 1e-6, 1e-1), "dataset": ["digits", "mnist1d"],
                "independent_order": bool, "n_replicas": (2, 17, 1)}
    panel = explore.explore(lambda config, progress: config.lr, divergence.Config(), controls, notebook="00_intro")
    assert isinstance(panel.controls["perturbation"], ipywidgets.FloatLogSlider)
    panel.controls["lr"].value = 0.2
    assert panel.run() == 0.2 and "done" in panel.status.value
    panel.controls["n_replicas"].max = 2000
    panel.controls["n_replicas"].value = 2000
    assert panel.run() is None and "n_replicas=2000" in panel.status.value
    panel._ipython_display_()
    print("panel logic ok under ipywidgets", ipywidgets.__version__)
""")


@pytest.fixture(scope="module")
def python7() -> Path:
    """The environment's Python: its own ipywidgets 7.7.1 first, the project's packages behind it."""
    python = ENVIRONMENT / "bin" / "python"
    ready = ENVIRONMENT / ".ready"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(ENVIRONMENT)], check=True)
        packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                       capture_output=True, text=True, check=True).stdout.strip())
        (packages / "zz-project.pth").write_text(sysconfig.get_path("purelib") + "\n" + str(ROOT) + "\n")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(packages),
                        *WIDGETS7], check=True, timeout=600)
        ready.touch()
    return python


def test_panel_logic_under_ipywidgets_7(python7):
    completed = subprocess.run([str(python7), "-c", PANEL_LOGIC], capture_output=True, text=True, timeout=300,
                               cwd=ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "panel logic ok under ipywidgets 7.7.1" in completed.stdout


PANEL_FAILURE = textwrap.dedent("""
    import ipywidgets
    from uniq_core import explore
    from uniq_core.experiments import divergence

    def failing(config, *, progress=True):
        raise RuntimeError("CUDA was asked for, and this runtime has no GPU")

    panel = explore.explore(failing, divergence.Config(), {"lr": (0.01, 0.5, 0.01)})
    try:
        panel.run()
    except RuntimeError as error:
        print("raised:", error)
    print("status:", panel.status.value, "| widgets", ipywidgets.__version__)
""")


@pytest.mark.parametrize("version", ["7.7.1", "8"])
def test_a_failing_run_shows_its_own_error_in_a_real_kernel(version, request, tmp_path, monkeypatch):
    """In a kernel, ipywidgets' Output swallows an exception raised inside it: the panel must still show
    the run's own message, not an error of its own bookkeeping, under Colab's ipywidgets 7 and under 8."""
    import json

    import nbformat
    from nbclient import NotebookClient

    python = request.getfixturevalue("python7") if version == "7.7.1" else Path(sys.executable)
    kernels = tmp_path / "kernels" / "panel"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "panel", "language": "python"}))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PANEL_FAILURE)])
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # where the kernel above is found
    NotebookClient(notebook, kernel_name="panel", timeout=300, resources={"metadata": {"path": str(ROOT)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[0].outputs)
    assert "raised: CUDA was asked for" in printed
    assert "status: <span style='color:#b00020'>RuntimeError: CUDA was asked for" in printed
    assert "UnboundLocalError" not in printed and f"widgets {version}" in printed
