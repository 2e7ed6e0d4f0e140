
import ipywidgets as widgets
import plotly.graph_objects as go
import pytest

from uniq_core import explore, plots
from uniq_core.experiments import divergence


class Recorder:
    def __init__(self):
        self.configs = []

    def __call__(self, config, *, progress=True):
        self.configs.append(config)
        return {"lr": config.lr}


def test_panel_binds_controls_to_config_fields():
    run = Recorder()
    panel = explore.explore(
        run, divergence.Config(), {"lr": (0.01, 0.5, 0.01), "perturbation": ("log", 1e-6, 1e-1),
                                   "independent_order": bool, "device": ["cpu", "auto"], "n_replicas": (2, 16, 1)}
    )
    assert isinstance(panel.controls["lr"], widgets.FloatSlider)
    assert isinstance(panel.controls["perturbation"], widgets.FloatLogSlider)
    assert isinstance(panel.controls["independent_order"], widgets.Checkbox)
    assert isinstance(panel.controls["device"], widgets.Dropdown)
    assert isinstance(panel.controls["n_replicas"], widgets.IntSlider)
    panel.controls["lr"].value = 0.2
    panel.button.click()
    assert run.configs[-1] == divergence.Config(lr=0.2)
    assert panel.last_result == {"lr": 0.2} and panel.status.value == "done"


def test_invalid_values_are_reported_in_the_panel_not_run():
    run = Recorder()
    panel = explore.explore(run, divergence.Config(), {"lr": widgets.FloatText()})
    panel.controls["lr"].value = -1.0
    assert panel.run() is None
    assert run.configs == []
    assert "lr=-1.0" in panel.status.value and "allowed" in panel.status.value


def test_errors_during_a_run_are_shown_in_the_panel():
    def failing(config, *, progress=True):
        raise RuntimeError("out of memory")

    panel = explore.explore(failing, divergence.Config(), {})
    with pytest.raises(RuntimeError):
        panel.run()
    assert "out of memory" in panel.status.value and not panel.button.disabled


def test_unknown_controls_are_rejected():
    with pytest.raises(ValueError, match="unknown Config fields"):
        explore.explore(Recorder(), divergence.Config(), {"learning_rate": (0.0, 1.0, 0.1)})
    with pytest.raises(ValueError, match="is not a control"):
        explore.explore(Recorder(), divergence.Config(), {"lr": "fast"})


def test_sweep_runs_every_value_in_order():
    run = Recorder()
    results = explore.sweep(run, divergence.Config(), "lr", [0.1, 0.2, 0.3], progress=False)
    assert list(results) == [0.1, 0.2, 0.3]
    assert [c.lr for c in run.configs] == [0.1, 0.2, 0.3]


def test_sweep_figure_slider_shows_one_value_at_a_time():
    figure = plots.sweep_figure(
        [1, 2, 3], lambda v: [go.Scatter(x=[0, 1], y=[v, v]), go.Scatter(x=[0, 1], y=[-v, -v])], parameter="v"
    )
    assert len(figure.data) == 6
    assert [trace.visible for trace in figure.data] == [True, True, False, False, False, False]
    steps = figure.layout.sliders[0].steps
    assert [step.label for step in steps] == ["1", "2", "3"]
    assert steps[2].args[0]["visible"] == [False, False, False, False, True, True]
    with pytest.raises(ValueError, match="values is empty"):
        plots.sweep_figure([], lambda v: [], parameter="v")


def test_static_site_figures_use_the_sites_own_plotly(monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setenv("UNIQ_STATIC_SITE", "1")
    plots.show(go.Figure(go.Scatter(x=[0], y=[0])))
    html = shown[0].data
    assert "Plotly.newPlot" in html and "<script src" not in html and "cdn" not in html.lower()


def test_divergence_figure_draws_from_a_result():
    result = divergence.run(divergence.Config(epochs=1.0, n_replicas=3), progress=False)
    figure = plots.divergence_figure(result)
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 2
    assert len(plots.divergence_traces(result)) == 2


def test_static_page_panel_is_disabled_and_links_to_colab(monkeypatch):
    monkeypatch.setenv("UNIQ_STATIC_SITE", "1")
    panel = explore.explore(divergence.run, divergence.Config(), {"lr": (0.01, 0.5, 0.01)}, notebook="00_intro")
    assert all(control.disabled for control in panel.controls.values())
    html = " ".join(child.value for child in panel.widget.children if isinstance(child, widgets.HTML))
    assert "colab.research.google.com/github/uniq-book/uniq/blob/notebooks/00_intro.ipynb" in html
    assert "Open in Colab to run" in html
    assert panel.button not in panel.widget.children and "press <b>Run</b>" not in html


def test_live_panel_has_a_run_button(monkeypatch):
    monkeypatch.delenv("UNIQ_STATIC_SITE", raising=False)
    panel = explore.explore(divergence.run, divergence.Config(), {"lr": (0.01, 0.5, 0.01)})
    assert not any(control.disabled for control in panel.controls.values())
    assert any(panel.button in getattr(child, "children", ()) for child in panel.widget.children)


def test_no_progress_bar_is_drawn_while_the_static_site_is_built(monkeypatch):
    from uniq_core import runtime

    monkeypatch.setenv("UNIQ_STATIC_SITE", "1")
    values = [1, 2, 3]
    assert runtime.progress_bar(values, "steps") is values


def test_sweep_figures_put_legend_and_slider_below_wrap_titles_and_avoid_si_prefixes():
    import plotly.graph_objects as go

    from uniq_core.plots import common

    def traces(value):
        return [go.Scatter(x=[1e-3, 1e-2], y=[1e-4 * value, 2e-4], name="exponent"),
                go.Scatter(x=[1e-3, 1e-2], y=[0.1, 0.5], name="fraction diverged", yaxis="y2")]

    title = "Fitted exponent of the replicas' spread, and divergence, against the step size (per unit learning time)"
    figure = common.sweep_figure([1, 2], traces, parameter="p", title=title,
                                 layout=dict(yaxis2=dict(overlaying="y", side="right"), height=440))
    layout = figure.layout
    assert layout.legend.orientation == "h" and layout.legend.y < 0 and layout.sliders[0].y < layout.legend.y
    assert all(len(line) <= 46 for line in layout.title.text.split("<br>")) and layout.margin.t >= 100
    assert layout.yaxis.exponentformat == "power" and layout.yaxis2.exponentformat == "power"
    assert layout.yaxis2.tickmode == "auto" and layout.autosize and layout.width is None
    assert layout.height == 440 + common.SWEEP_BELOW + layout.margin.t - 80
