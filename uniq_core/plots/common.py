"""Shared pieces of every figure: palette, plotly display on the static site, slider sweeps, glue."""

from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go

PALETTE = plt.get_cmap("viridis")


def _css(colour: tuple[float, ...]) -> str:
    """A matplotlib RGBA tuple (0–1) as a CSS ``rgb()`` string for plotly."""
    return "rgb({}, {}, {})".format(*(int(round(255 * c)) for c in colour[:3]))


def static_site() -> bool:
    """True while the book is being built into the static site (``UNIQ_STATIC_SITE=1``)."""
    return os.environ.get("UNIQ_STATIC_SITE", "") == "1"


def show(figure: go.Figure) -> Any:
    """Display a plotly figure: a ``<div>`` drawn by the site's own plotly.js when building the static
    site; the notebook's renderer (Jupyter, Colab) otherwise."""
    if static_site():
        from IPython.display import HTML, display

        html = figure.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})
        display(HTML(html))
        return None
    figure.show()
    return None


#: Pixels below a sweep's plot for its legend (a row or two) and its slider.
SWEEP_BELOW = 260


def wrap_title(title: str, width: int = 46) -> str:
    """``title`` broken into lines of at most about ``width`` characters (plotly's ``<br>``): plotly does
    not wrap a title, and a long one runs off a phone's screen."""
    lines: list[str] = []
    for word in title.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def legend_below(axis: Any, ncol: int = 2, fontsize: int = 7) -> None:
    """A matplotlib legend under the axes, outside the data (kept in the saved figure by its tight box)."""
    axis.legend(fontsize=fontsize, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, frameon=False)


def sweep_figure(
    values: Iterable[Any],
    traces_for: Callable[[Any], list[go.BaseTraceType]],
    *,
    parameter: str,
    title: str = "",
    label: Callable[[Any], str] = str,
    layout: dict[str, Any] | None = None,
) -> go.Figure:
    """One figure, one slider over ``values``: moving it shows the traces of that value.

    ``traces_for(value)`` returns the traces drawn for one value (all values should give the same
    number of traces for a steady legend). The first value is shown at load.
    """
    values = list(values)
    if not values:
        raise ValueError("values is empty; a sweep needs at least one value")
    figure = go.Figure()
    owners: list[int] = []
    for position, value in enumerate(values):
        for trace in traces_for(value):
            trace.visible = position == 0
            figure.add_trace(trace)
            owners.append(position)
    steps = [
        dict(
            method="update",
            label=label(value),
            args=[{"visible": [owner == position for owner in owners]}],
        )
        for position, value in enumerate(values)
    ]
    extra = dict(layout or {})
    wrapped = wrap_title(title)
    top = 40 + 20 * (wrapped.count("<br>") + 1) if title else 30  # room for every line of the title
    height = extra.pop("height", 440) + SWEEP_BELOW + top - 80  # the plot keeps its height; legend, slider below
    figure.update_layout(
        title=dict(text=wrapped, font=dict(size=14), x=0, xanchor="left"),
        sliders=[dict(active=0, currentvalue={"prefix": f"{parameter} = "}, pad={"t": 10}, steps=steps,
                      y=-0.5, yanchor="top", len=1.0, x=0)],
        template="plotly_white",
        autosize=True,
        height=height,
        margin=dict(l=60, r=60 if "yaxis2" in extra else 20, t=top, b=SWEEP_BELOW),
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.2, yanchor="top"),
        **extra,
    )
    # plain numbers: dimensionless quantities get exponents, never SI prefixes (no "100μ nats")
    figure.update_xaxes(exponentformat="power", automargin=True)
    figure.update_yaxes(exponentformat="power", automargin=True)
    for name in ("yaxis2", "xaxis2"):  # an overlaid axis gets round ticks of its own, not the first axis's grid
        if name in extra and "tickmode" not in extra[name]:
            figure.layout[name].tickmode = "auto"
    return figure



def glue(name: str, value: Any) -> None:
    """Record ``value`` under ``name`` for the book's ``{glue:text}`` roles (numpy scalars become Python
    numbers). Outside a book build (plain Jupyter, Colab) without myst-nb, nothing is recorded."""
    if isinstance(value, np.generic):
        value = value.item()
    try:
        from myst_nb import glue as record
    except ImportError:
        return
    record(name, value, display=False)


def glue_all(values: Mapping[str, Any]) -> None:
    """Record every ``name: value`` of a chapter's ``findings`` dict with :func:`glue`, in one call.

    Raises ``TypeError`` naming the entry when a value is not a number or a string (the book's glue roles
    format numbers and words only)."""
    for name, value in values.items():
        if isinstance(value, np.generic):
            value = value.item()
        if not isinstance(value, (int, float, str)):
            raise TypeError(f"findings[{name!r}] is a {type(value).__name__}; glued values are numbers or strings")
        glue(name, value)
