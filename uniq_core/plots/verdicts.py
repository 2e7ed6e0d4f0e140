"""The verdict table: HTML for the page (links to the measuring sections) and Markdown for a terminal."""

from __future__ import annotations

import html
import re

import numpy as np

from uniq_core.experiments.verdicts import Result, number_text


def verdict_table_html(result: Result) -> str:
    """The verdict table as HTML, one row per claim: the source and its words (quoted) with how the book
    measures them; the verdict with the rule that decided it and how it fares under its arbitrary choices; the
    deciding number with its interval, what the interval is, and the thresholds used; the scope (model, data,
    units, profile) and where it applies; a link to the section that measures it."""
    head = ("<div class='verdict-table-wrap'><table class='verdict-table'><thead><tr><th>Claim</th><th>Verdict</th>"
            "<th>Deciding number [interval]</th><th>Scope</th><th>Measured in</th></tr></thead><tbody>")
    body = []
    for i in range(len(result.keys)):
        page = str(result.links[i]).split(".html")[0]
        e = lambda name: html.escape(str(getattr(result, name)[i]))  # noqa: E731
        body.append(
            "<tr>"
            f"<td data-label='Claim'><small>{e('sources')}</small><br/>“{e('quotes')}”"
            f"<br/><small><em>Measured as:</em> {e('operationalisations')}</small></td>"
            f"<td data-label='Verdict'><strong>{e('verdicts')}</strong><br/><small>rule: {e('rules')}; {e('robustness')}</small></td>"
            f"<td data-label='Deciding number'>{e('quantities')}"
            + (f": {html.escape(number_text(result.values[i], result.lows[i], result.highs[i], str(result.interval_kinds[i])))}"
               if np.isfinite(result.values[i]) else "") +
            f"<br/><small>{e('interval_kinds')}; {e('thresholds')}</small></td>"
            f"<td data-label='Scope'><small>{e('scopes')}</small><br/>{e('regimes')}</td>"
            f"<td data-label='Measured in'><a href='{e('links')}'>{html.escape(page)}</a></td>"
            "</tr>")
    return head + "".join(body) + "</tbody></table></div>"


def verdict_rules_html() -> str:
    """The decision rules, as the verdict page lists them: each rule's name and the first paragraph of its
    docstring (:func:`uniq_core.rules.rule_text`), so the page and the code cannot disagree."""
    from uniq_core import rules

    def inline(text: str) -> str:  # the docstrings' reStructuredText emphasis and literals, as HTML
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))
        return re.sub(r"``(.+?)``", r"<code>\1</code>", text)

    items = "".join(f"<li><code>{html.escape(name)}</code>: {inline(rules.rule_text(name))}</li>"
                    for name in rules.RULES)
    return f"<ul class='verdict-rules'>{items}</ul>"


def verdict_table_markdown(result: Result) -> str:
    """The verdict table as Markdown (for a terminal or a report)."""
    lines = ["| Claim | Verdict | Deciding number [interval] | Where it applies | Measured in |",
             "|---|---|---|---|---|"]
    for i in range(len(result.keys)):
        lines.append(f"| {result.sources[i]}: “{result.quotes[i]}” | **{result.verdicts[i]}** ({result.rules[i]}) | "
                     f"{result.quantities[i]}: "
                     f"{number_text(result.values[i], result.lows[i], result.highs[i], str(result.interval_kinds[i]))} ({result.interval_kinds[i]}) | "
                     f"{result.regimes[i]} | {result.links[i]} |")
    return "\n".join(lines)


def verdict_changes_html(result: Result) -> str:
    """One sentence per row on what evidence would change its verdict, as an HTML list."""
    items = "".join(f"<li><em>{html.escape(str(result.claims[i]))}</em> ({html.escape(str(result.verdicts[i]))}): "
                    f"{html.escape(str(result.changes[i]))}</li>" for i in range(len(result.keys)))
    return f"<ul>{items}</ul>"
