"""The usage chart: captured spend per time bucket and user, stacked bars in a PNG.

Matplotlib draws off screen (the Agg backend) and the drawing is CPU and file work, so callers
run `render_chart` in a thread (`asyncio.to_thread`). Amounts stay integer nano-dollars: the
bars are drawn from them (so a sub-cent spend is not floored away to nothing), and each axis
label is the tick turned back into nano-dollars and shown as people see money (`str(Money)`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.money import Money
from bot.ports import Entry, EntryKind
from bot.reports.usage import POOL

MAX_SERIES = 8  # users drawn separately in the chart; the rest add up as "others"


def tick_label(nanos: float) -> str:
    """An axis tick (matplotlib's float, in nano-dollars) as people see money: "$0.0025"."""
    return str(Money(int(Decimal(float(nanos)).to_integral_value())))


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
    since: datetime,
    until: datetime,
    tz: ZoneInfo,
    title: str,
    path: Path,
    names: Mapping[str, str] | None = None,
) -> Path:
    """A stacked bar chart of captured spend per time bucket and user; writes a PNG (blocking:
    run it in a thread). Matplotlib is imported here, with the Agg backend, never on a screen."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    names = names or {}
    step = _buckets(since, until)
    count = max(1, -(-(until - since) // step))
    spend: dict[str, list[int]] = defaultdict(lambda: [0] * count)
    for e in entries:
        if e.kind is EntryKind.CAPTURE and since <= e.effective_at < until:
            spend[e.user_id or POOL][int((e.effective_at - since) // step)] += e.amount.nanos
    ranked = sorted(spend, key=lambda u: -sum(spend[u]))
    series = {names.get(u, u): spend[u] for u in ranked[:MAX_SERIES]}
    if len(ranked) > MAX_SERIES:
        series["others"] = [sum(spend[u][i] for u in ranked[MAX_SERIES:]) for i in range(count)]

    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.add_subplot()
    starts = [(since + i * step).astimezone(tz).replace(tzinfo=None) for i in range(count)]
    width = step / timedelta(days=1) * 0.9  # bar width in days, matplotlib's date unit
    bottom = [0] * count
    for label, values in series.items():
        # matplotlib converts datetimes through its date units, which its stubs do not know of.
        axes.bar(starts, values, width=width, bottom=bottom, label=label, align="edge")  # type: ignore[arg-type]
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: tick_label(value)))
    axes.set_title(title)
    axes.set_ylabel("spent")
    axes.set_xlabel(f"time ({tz.key})")
    if series:
        axes.legend(loc="upper left", fontsize="small")
    else:
        axes.text(0.5, 0.5, "no spend in this period", ha="center", transform=axes.transAxes)
    figure.autofmt_xdate()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path
