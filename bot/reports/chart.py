"""The usage chart: captured spend in a PNG, with the total and the team pool's cap.

Over time (a day, week or month): stacked bars per time bucket and user, the running total as
a line and the pool's cap, when it covers the same period, as a dashed line. For all time
(no window to draw along) one labelled horizontal bar per user, the cap as a dashed line.

Matplotlib draws off screen (the Agg backend) and the drawing is CPU and file work, so callers
run `render_chart` in a thread (`asyncio.to_thread`). Amounts stay integer nano-dollars: the
bars are drawn from them (so a sub-cent spend is not floored away to nothing), and each axis
label is the tick turned back into nano-dollars and shown as people see money (`str(Money)`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.money import Money
from bot.ports import Entry, EntryKind
from bot.reports.usage import POOL

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_SERIES = 8  # users drawn separately in the chart; the rest add up as "others"


@dataclass(frozen=True, slots=True)
class ChartWindow:
    """What the chart covers: `over_time` False draws totals per user, with no time axis."""

    since: datetime
    until: datetime
    tz: ZoneInfo
    over_time: bool = True


def tick_label(nanos: float) -> str:
    """An axis tick (matplotlib's float, in nano-dollars) as people see money: "$0.0025"."""
    return str(Money(int(Decimal(float(nanos)).to_integral_value())))


def _text(words: str) -> str:
    """Dollar signs as themselves: two in one text would start matplotlib's math mode."""
    return words.replace("$", r"\$")


def _buckets(since: datetime, until: datetime) -> timedelta:
    span = until - since
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    if span <= timedelta(days=92):
        return timedelta(days=1)
    return timedelta(days=7)


def render_chart(
    entries: Iterable[Entry],
    *,
    window: ChartWindow,
    title: str,
    path: Path,
    names: Mapping[str, str] | None = None,
    cap: Money | None = None,
) -> Path:
    """The chart of captured spend as a PNG at `path` (blocking: run it in a thread)."""
    figure = draw_chart(entries, window=window, title=title, names=names, cap=cap)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def draw_chart(
    entries: Iterable[Entry],
    *,
    window: ChartWindow,
    title: str,
    names: Mapping[str, str] | None = None,
    cap: Money | None = None,
) -> Figure:
    """The chart's figure; `cap`: the team pool's cap for this same period, drawn as a line.
    Matplotlib is imported here, with the Agg backend, never on a screen."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    captured = [  # all time (no time axis) takes every capture, however recent
        e
        for e in entries
        if e.kind is EntryKind.CAPTURE
        and (not window.over_time or window.since <= e.effective_at < window.until)
    ]
    total = Money(sum(e.amount.nanos for e in captured))
    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.add_subplot()
    money_axis = axes.yaxis if window.over_time else axes.xaxis
    money_axis.set_major_formatter(FuncFormatter(lambda value, _pos: tick_label(value)))
    of_cap = f" of the {cap} pool cap" if cap is not None else ""
    axes.set_title(_text(f"{title}: {total} spent{of_cap}"))
    if not captured:
        axes.text(0.5, 0.5, "no spend in this period", ha="center", transform=axes.transAxes)
        axes.set_xticks([])
        axes.set_yticks([])
    elif window.over_time:
        _over_time(axes, captured, window, names or {}, cap)
        figure.autofmt_xdate()
    else:
        _per_user(axes, captured, names or {}, cap)
    figure.tight_layout()
    return figure


def _over_time(
    axes: Axes,
    captured: list[Entry],
    window: ChartWindow,
    names: Mapping[str, str],
    cap: Money | None,
) -> None:
    since, until, tz = window.since, window.until, window.tz
    step = _buckets(since, until)
    count = max(1, -(-(until - since) // step))
    spend: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for e in captured:
        spend[e.user_id or POOL][int((e.effective_at - since) // step)] += e.amount.nanos
    ranked = sorted(spend, key=lambda u: -sum(spend[u]))
    series = {_text(names.get(u, u)): spend[u] for u in ranked[:MAX_SERIES]}
    if len(ranked) > MAX_SERIES:
        series["others"] = [sum(spend[u][i] for u in ranked[MAX_SERIES:]) for i in range(count)]
    starts = [(since + i * step).astimezone(tz).replace(tzinfo=None) for i in range(count)]
    width = step / timedelta(days=1) * 0.9  # bar width in days, matplotlib's date unit
    bottom = [0] * count
    for label, values in series.items():
        # matplotlib converts datetimes through its date units, which its stubs do not know of.
        axes.bar(starts, values, width=width, bottom=bottom, label=label, align="edge")  # type: ignore[arg-type]
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ends = [start + step for start in starts]
    axes.step(ends, list(accumulate(bottom)), where="pre", color="black", label="total so far")  # type: ignore[arg-type]
    if cap is not None:
        axes.axhline(cap.nanos, color="red", linestyle="--", label=_text(f"pool cap {cap}"))
    axes.set_ylabel("spent")
    axes.set_xlabel(f"time ({tz.key})")
    axes.legend(loc="upper left", fontsize="small")


def _per_user(
    axes: Axes, captured: list[Entry], names: Mapping[str, str], cap: Money | None
) -> None:
    spend: dict[str, int] = defaultdict(int)
    for e in captured:
        spend[names.get(e.user_id or POOL, e.user_id or POOL)] += e.amount.nanos
    ranked = sorted(spend.items(), key=lambda item: item[1])  # the biggest drawn on top
    if len(ranked) > MAX_SERIES:
        rest = ranked[: len(ranked) - MAX_SERIES]
        ranked = [("others", sum(nanos for _, nanos in rest)), *ranked[len(rest) :]]
    bars = axes.barh([_text(who) for who, _ in ranked], [nanos for _, nanos in ranked])
    axes.bar_label(bars, labels=[_text(str(Money(nanos))) for _, nanos in ranked], padding=3)
    if cap is not None:
        axes.axvline(cap.nanos, color="red", linestyle="--", label=_text(f"pool cap {cap}"))
        axes.legend(loc="lower right", fontsize="small")
    axes.set_xlabel("spent, all time")
    axes.margins(x=0.15)  # room for the amounts at the bars' ends
