"""The verdict table: HTML for the page (links to the measuring sections) and Markdown for a terminal."""

from __future__ import annotations

import html

import numpy as np

from uniq_core.experiments.verdicts import Result


def _number(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.3g}"


def number_text(value: float, low: float, high: float) -> str:
    """``value`` with its interval, ``0.123 [0.1, 0.15]``; the interval is left out when not finite."""
    if np.isfinite(low) and np.isfinite(high):
        return f"{_number(value)} [{_number(low)}, {_number(high)}]"
    return _number(value)


def verdict_table_html(result: Result) -> str:
    """The verdict table as HTML: claim (with its source), verdict, deciding number with its interval,
    regime, and a link to the section that measures it."""
    head = ("<table class='verdict-table'><thead><tr><th>Source</th><th>Claim</th><th>Verdict</th>"
            "<th>Deciding number [interval]</th><th>Where it applies</th><th>Measured in</th></tr></thead><tbody>")
    body = []
    for i in range(len(result.keys)):
        page = str(result.links[i]).split(".html")[0]
        body.append(
            "<tr>"
            f"<td>{html.escape(str(result.sources[i]))}</td>"
            f"<td>{html.escape(str(result.claims[i]))}</td>"
            f"<td><strong>{html.escape(str(result.verdicts[i]))}</strong></td>"
            f"<td>{html.escape(str(result.quantities[i]))}: "
            f"{html.escape(number_text(result.values[i], result.lows[i], result.highs[i]))}"
            f"<br/><small>{html.escape(str(result.interval_kinds[i]))}</small></td>"
            f"<td>{html.escape(str(result.regimes[i]))}</td>"
            f"<td><a href='{html.escape(str(result.links[i]))}'>{html.escape(page)}</a></td>"
            "</tr>")
    return head + "".join(body) + "</tbody></table>"


def verdict_table_markdown(result: Result) -> str:
    """The verdict table as Markdown (for a terminal or a report)."""
    lines = ["| Claim | Verdict | Deciding number [interval] | Where it applies | Measured in |",
             "|---|---|---|---|---|"]
    for i in range(len(result.keys)):
        lines.append(f"| {result.claims[i]} | **{result.verdicts[i]}** | {result.quantities[i]}: "
                     f"{number_text(result.values[i], result.lows[i], result.highs[i])} ({result.interval_kinds[i]}) | "
                     f"{result.regimes[i]} | {result.links[i]} |")
    return "\n".join(lines)


def verdict_changes_html(result: Result) -> str:
    """One sentence per row on what evidence would change its verdict, as an HTML list."""
    items = "".join(f"<li><em>{html.escape(str(result.claims[i]))}</em> ({html.escape(str(result.verdicts[i]))}): "
                    f"{html.escape(str(result.changes[i]))}</li>" for i in range(len(result.keys)))
    return f"<ul>{items}</ul>"
