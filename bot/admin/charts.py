"""PNG charts of a funnel report (matplotlib, Agg, no pyplot state: safe in server threads).

Charts draw only what the report holds, so they inherit its k ≥ 5 suppression: a hidden cell
is drawn as an empty hatched bar marked "<5", never as a number.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.analytics import STAGE_LABELS, K

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bot.analytics import Report

BLUE = "#1f5fa8"
ORANGE = "#e07b00"
GREY = "#b8b8b8"
SHADE = "#fff1d6"
CHARTS = ("funnel", "dropoff", "daily")

TITLES: dict[str, dict[str, str]] = {
    "nl": {
        "funnel": "Funnel: mensen per stap",
        "dropoff": "Waar haken mensen af? (laatste vraag die ze zagen)",
        "daily": "Binnengekomen per dag",
        "people": "mensen",
        "hidden": f"<{K}: verborgen (minder dan {K} mensen)",
        "weeks": "campagneweek",
        "empty": "Nog geen gegevens",
    },
    "en": {
        "funnel": "Funnel: people per step",
        "dropoff": "Where do people drop off? (last question they saw)",
        "daily": "Entries per day",
        "people": "people",
        "hidden": f"<{K}: hidden (fewer than {K} people)",
        "weeks": "campaign week",
        "empty": "No data yet",
    },
}


def _t(lang: str, key: str) -> str:
    return TITLES.get(lang, TITLES["nl"])[key]


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=10)


def _hidden_bar(ax: Axes, y: float, width: float, horizontal: bool = True) -> None:
    kwargs: dict[str, Any] = {"color": "white", "edgecolor": GREY, "hatch": "///"}
    if horizontal:
        ax.barh(y, width, **kwargs)
        ax.text(width, y, f"  <{K}", va="center", ha="left", fontsize=10, color="#666666")
    else:
        ax.bar(y, width, **kwargs)


def draw_funnel(ax: Axes, report: Report, lang: str = "nl") -> None:
    labels = STAGE_LABELS.get(lang, STAGE_LABELS["nl"])
    names = [labels[name] for name, _ in report.stages]
    counts = [n for _, n in report.stages]
    top = max([n for n in counts if n is not None] or [K])
    entries = report.entries
    ys = list(range(len(names)))[::-1]
    for y, n in zip(ys, counts, strict=True):
        if n is None:
            _hidden_bar(ax, y, top * 0.04)
            continue
        ax.barh(y, n, color=BLUE)
        pct = f" ({100 * n / entries:.0f}%)" if entries else ""
        ax.text(n, y, f"  {n}{pct}", va="center", ha="left", fontsize=10)
    ax.set_yticks(ys, names)
    ax.set_xlim(0, top * 1.25)
    ax.set_xlabel(_t(lang, "people"))
    ax.set_title(_t(lang, "funnel"), loc="left", fontsize=12, fontweight="bold")
    _style(ax)


def draw_dropoff(ax: Axes, report: Report, lang: str = "nl") -> None:
    rows = [q for q in report.drop_off if q.shown is not None or q.left is not None]
    rows = rows or report.drop_off
    values = [q.left for q in rows]
    top = max([v for v in values if v is not None] or [K])
    ys = list(range(len(rows)))[::-1]
    for y, v in zip(ys, values, strict=True):
        if v is None:
            _hidden_bar(ax, y, top * 0.04)
        else:
            ax.barh(y, v, color=ORANGE)
            ax.text(v, y, f"  {v}", va="center", ha="left", fontsize=9)
    ax.set_yticks(ys, [f"{q.position}. {q.label}" for q in rows], fontsize=8)
    ax.set_xlim(0, top * 1.2)
    ax.set_xlabel(_t(lang, "people"))
    ax.set_title(_t(lang, "dropoff"), loc="left", fontsize=12, fontweight="bold")
    _style(ax)


def draw_daily(ax: Axes, report: Report, lang: str = "nl") -> None:
    import matplotlib.dates as mdates

    ax.set_title(_t(lang, "daily"), loc="left", fontsize=12, fontweight="bold")
    _style(ax)
    if not report.daily:
        ax.text(0.5, 0.5, _t(lang, "empty"), ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    for i, (start, end) in enumerate(report.campaign_weeks):
        ax.axvspan(
            start - timedelta(hours=12),  # type: ignore[arg-type]
            end + timedelta(hours=12),  # type: ignore[arg-type]
            color=SHADE,
            zorder=0,
            label=_t(lang, "weeks") if i == 0 else None,
        )
    shown = [(d, n) for d, n in report.daily if n is not None]
    # Dates go through matplotlib's unit converter; numpy 2.4's stubs reject them, 2.5's accept.
    hidden: Any = [d for d, n in report.daily if n is None]
    top = max([n for _, n in shown] or [K])
    if shown:
        days: Any = [d for d, _ in shown]
        ax.bar(days, [n for _, n in shown], color=BLUE, width=0.8, zorder=2)
    if hidden:
        ax.bar(
            hidden,
            [top * 0.03] * len(hidden),
            color="white",
            edgecolor=GREY,
            hatch="///",
            width=0.8,
            zorder=2,
            label=_t(lang, "hidden"),
        )
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel(_t(lang, "people"))
    locator = mdates.AutoDateLocator(minticks=3, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if hidden or report.campaign_weeks:
        ax.legend(loc="upper left", fontsize=8, frameon=False)


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def chart_png(report: Report, kind: str, lang: str = "nl") -> bytes:
    """One chart (funnel, dropoff or daily) for the dashboard."""
    from matplotlib.figure import Figure

    if kind not in CHARTS:
        raise ValueError(f"unknown chart {kind!r}")
    height = {"funnel": 3.6, "dropoff": 0.28 * max(len(report.drop_off), 6) + 1.2, "daily": 3.4}
    fig = Figure(figsize=(9, height[kind]), layout="constrained")
    ax = fig.add_subplot()
    {"funnel": draw_funnel, "dropoff": draw_dropoff, "daily": draw_daily}[kind](ax, report, lang)
    return _png(fig)


def report_png(report: Report, lang: str = "nl", title: str = "") -> bytes:
    """All three charts on one page (`report funnel --format png`)."""
    from matplotlib.figure import Figure

    drop_h = 0.28 * max(len(report.drop_off), 6) + 1.0
    fig = Figure(figsize=(10, 3.6 + drop_h + 3.4), layout="constrained")
    grid = fig.add_gridspec(3, 1, height_ratios=[3.6, drop_h, 3.4])
    draw_funnel(fig.add_subplot(grid[0]), report, lang)
    draw_dropoff(fig.add_subplot(grid[1]), report, lang)
    draw_daily(fig.add_subplot(grid[2]), report, lang)
    note = f"k ≥ {K}" + (f" · {report.generated_at:%Y-%m-%d %H:%M} UTC")
    fig.suptitle(f"{title}  ({note})" if title else note, fontsize=13)
    return _png(fig)
