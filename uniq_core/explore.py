"""Live exploration: a widget panel bound to a Config's fields, and parameter sweeps for static figures."""

from __future__ import annotations

import dataclasses
import functools
import math
from concurrent.futures import Executor
from typing import Any, Callable, Iterable

import ipywidgets as widgets
from IPython.display import display

from uniq_core import runtime
from uniq_core.plots.common import static_site

LIVE_NOTE = "<small>Move the controls and press <b>Run</b>; results are cached, so a value already run is instant.</small>"
STATIC_NOTE = (
    "<small>This panel runs in a live session. On this static page its controls are shown as they start; "
    "open the chapter in Colab (or Jupyter) to run it, or explore the precomputed sweep on this page.</small>"
)
NOTEBOOKS_URL = "https://colab.research.google.com/github/{org}/{repo}/blob/notebooks/{notebook}.ipynb"


def colab_link(notebook: str | None) -> str:
    """The Colab address of a chapter's readable notebook (``notebook`` like ``"00_intro"``), from the
    repository URL in ``_config.yml``; the repository itself when the chapter is not named."""
    url = repository_url()
    if notebook is None:
        return url
    org, repo = url.rstrip("/").split("/")[-2:]
    return NOTEBOOKS_URL.format(org=org, repo=repo, notebook=notebook)


def repository_url() -> str:
    """``repository.url`` of the book's ``_config.yml`` (the one place a publisher sets it)."""
    import yaml

    config = runtime.cache_dir().parent / "_config.yml"
    if config.exists():
        return str(yaml.safe_load(config.read_text())["repository"]["url"])
    return "https://github.com/uniq-book/uniq"


def _control(field: str, spec: Any, default: Any) -> widgets.ValueWidget:
    """Build one control: ``(low, high, step)`` slider, ``("log", low, high)`` log slider, a list of
    options (dropdown), or a ready widget. Booleans get a checkbox when ``spec`` is ``bool``."""
    style = {"description_width": "initial"}
    if isinstance(spec, widgets.ValueWidget):
        spec.value = default
        return spec
    if spec is bool:
        return widgets.Checkbox(value=bool(default), description=field, style=style)
    if isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "log":
        _, low, high = spec
        return widgets.FloatLogSlider(
            value=default, base=10, min=math.log10(low), max=math.log10(high), step=0.25,
            description=field, readout_format=".1e", style=style, continuous_update=False,
        )
    if isinstance(spec, tuple) and len(spec) == 3:
        low, high, step = spec
        kind = widgets.IntSlider if all(isinstance(v, int) for v in (low, high, step, default)) else widgets.FloatSlider
        return kind(value=default, min=low, max=high, step=step, description=field, style=style,
                    continuous_update=False)
    if isinstance(spec, list):
        options = [(str(option), option) for option in spec]
        if default not in spec:
            options.insert(0, (str(default), default))
        return widgets.Dropdown(options=options, value=default, description=field, style=style)
    raise ValueError(
        f"controls[{field!r}]={spec!r} is not a control; allowed: (low, high, step), ('log', low, high), "
        "a list of options, bool, or an ipywidgets widget"
    )


class Panel:
    """Controls bound to Config fields, a Run button, a status line and an output area.

    Pressing Run builds a Config from the controls (its validation errors are shown in the panel, with
    the field and the allowed values), calls ``run(config, progress=True)`` (its progress bar appears in
    the output area) and passes the Result to ``show``.
    """

    def __init__(
        self,
        run: Callable[..., Any],
        config: Any,
        controls: dict[str, Any],
        show: Callable[[Any], Any] | None = None,
        *,
        title: str = "",
        notebook: str | None = None,
    ):
        fields = {f.name for f in dataclasses.fields(config)}
        unknown = sorted(set(controls) - fields)
        if unknown:
            raise ValueError(f"controls name unknown Config fields {unknown}; fields: {sorted(fields)}")
        self.run_function = run
        self.base_config = config
        self.show = show
        self.controls = {field: _control(field, spec, getattr(config, field)) for field, spec in controls.items()}
        self.button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.status = widgets.HTML()
        self.output = widgets.Output()
        self.last_result: Any = None
        self.button.on_click(lambda _button: self.run())
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.static = static_site()
        if self.static:  # nothing can run on a static page: say where it can
            for control in self.controls.values():
                control.disabled = True
            action: widgets.Widget = widgets.HTML(
                f"<a href='{colab_link(notebook)}' target='_blank' rel='noopener'>Open in Colab to run</a>")
        else:
            action = widgets.HBox([self.button, self.status])
        self.widget = widgets.VBox(
            [*header, widgets.HTML(STATIC_NOTE if self.static else LIVE_NOTE), *self.controls.values(),
             action, self.output]
        )

    def config(self) -> Any:
        """The Config the controls describe (raises ``ValueError`` for invalid values)."""
        return dataclasses.replace(self.base_config, **{f: c.value for f, c in self.controls.items()})

    def run(self) -> Any:
        """Validate, run and show; returns the Result, or ``None`` when the controls are invalid."""
        try:
            config = self.config()
        except ValueError as error:
            self.status.value = f"<span style='color:#b00020'>Invalid input: {error}</span>"
            return None
        self.button.disabled = True
        self.status.value = "running…"
        self.output.clear_output()
        failure: Exception | None = None
        # In a kernel, ipywidgets' Output.__exit__ prints an exception raised inside it and swallows it, so
        # the run's own error is caught here, inside, and reported after the block
        with self.output:
            try:
                result = self.run_function(config, progress=True)
                if self.show is not None:
                    figure = self.show(result)
                    if figure is not None:
                        display(figure)
            except Exception as error:
                failure = error
        self.button.disabled = False
        if failure is not None:  # shown in the panel rather than lost in a callback, then raised to the caller
            self.status.value = f"<span style='color:#b00020'>{type(failure).__name__}: {failure}</span>"
            raise failure
        self.status.value = "done"
        self.last_result = result
        return result

    def _ipython_display_(self) -> None:  # ipywidgets 7 displays this way, 8 through the mimebundle
        display(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def explore(
    run: Callable[..., Any],
    config: Any,
    controls: dict[str, Any],
    show: Callable[[Any], Any] | None = None,
    *,
    title: str = "",
    notebook: str | None = None,
) -> Panel:
    """A live panel for ``run`` starting from ``config``; ``controls`` maps Config fields to control specs.
    ``notebook`` (the chapter, like ``"00_intro"``) names the Colab notebook a static page links to.

    Example: ``explore(divergence.run, config, {"perturbation": ("log", 1e-6, 1e-1), "lr": (0.01, 0.5,
    0.01), "independent_order": bool}, show=plots.divergence_figure)``.
    """
    return Panel(run, config, controls, show, title=title, notebook=notebook)


def sweep(
    run: Callable[..., Any],
    config: Any,
    field: str,
    values: Iterable[Any],
    *,
    progress: bool = True,
    executor: Executor | None = None,
) -> dict[Any, Any]:
    """Run ``config`` with ``field`` set to each of ``values``; returns ``{value: Result}`` in order.

    Each run goes through ``run``'s cache, so a repeated sweep is read back from disk. With an
    ``executor`` (any :class:`concurrent.futures.Executor`: a process pool, or a Dask cluster's
    ``distributed.Client(address).get_executor()``), the runs are submitted to it and may run at once;
    workers that share the file system also share the results cache.
    """
    values = list(values)
    configs = [config.replace(**{field: value}) for value in values]  # validated here, before any run
    results = runtime.map_runs(functools.partial(run, progress=False), configs, executor=executor,
                               description=f"sweep over {field}", progress=progress)
    return dict(zip(values, results))
