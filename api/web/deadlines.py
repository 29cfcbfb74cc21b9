"""A running deadline as a nurse reads it: the clock time it expires at the site, the time left, and how loud.

"Thaw to infusion: expires 6 Dec 23:30 · 12 min left · soon": the clock time in the site's zone (the wall clock
of the unit, whatever the server's zone), in the reader's language, never with seconds; the level from the
catalogue's thresholds (domain/deadline_urgency.py), said in words as well as colour ("soon", "urgent",
"overdue"), since a colour alone says nothing to a colour-blind reader or on a grey printout.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from jinja2 import pass_context
from jinja2.runtime import Context

from api.web.i18n import Translator
from api.web.rendering import TEMPLATES
from domain.catalogue import Catalogue
from domain.deadline_urgency import Urgency, urgency
from ledger.clock import parse_instant

KIND_LABELS = {"thaw_to_infusion": "Thaw to infusion", "fresh_shipping_window": "Fresh cells shipping window"}
"""English names of the clocks (the French are the domain's vocabulary, context "deadline")."""
LEVEL_WORDS = {Urgency.AMBER: "soon", Urgency.RED: "urgent", Urgency.OVERDUE: "overdue"}
LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@functools.cache
def _locale(lang: str) -> Locale:
    """Parsed once: Babel would otherwise parse the locale name at every date a page shows."""
    return Locale.parse(LOCALES.get(lang, "fr_FR"))


def time_left(seconds: float, t: Translator) -> str:
    """A span as people say it: "12 min", "1 h 05", "2 d 3 h" (French: "2 j 3 h"); whole minutes, no sign."""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return t("{days} d {hours} h", days=days, hours=hours)
    if hours:
        return t("{hours} h {minutes:02d}", hours=hours, minutes=minutes)
    return t("{minutes} min", minutes=minutes)


def clock_time(moment: datetime, tz: ZoneInfo, lang: str) -> tuple[str, str]:
    """The wall-clock day and time at the site, to the minute: ("6 déc.", "23:30") / ("6 Dec", "23:30")."""
    locale = _locale(lang)
    return (
        format_datetime(moment, "d MMM", tzinfo=tz, locale=locale),
        format_datetime(moment, "HH:mm", tzinfo=tz, locale=locale),
    )


def _capitalised(text: str) -> str:
    """The first letter up (the vocabulary's "délai …" opens a cell), the rest as written."""
    return text[:1].upper() + text[1:]


def shown_deadline(
    deadline: dict[str, Any], product_code: str, catalogue: Catalogue, tz: ZoneInfo, t: Translator
) -> dict[str, Any]:
    """What the page shows of one deadline of the status (``kind``, ``deadline_at``, ``seconds_left``)."""
    kind = str(deadline["kind"])
    seconds = float(deadline["seconds_left"])
    entry = catalogue.get(product_code) if product_code in catalogue else None
    level = urgency(kind, seconds, entry)
    moment = parse_instant(str(deadline["deadline_at"]))
    left = time_left(seconds, t)
    day, time = clock_time(moment, tz, t.lang)
    return {
        "kind": kind,
        "label": _capitalised(t.ctx("deadline", kind, default=KIND_LABELS.get(kind, kind))),
        "level": str(level),
        "word": t(LEVEL_WORDS[level]) if level in LEVEL_WORDS else None,
        "iso": moment.astimezone(tz).isoformat(timespec="minutes"),
        "expires": t(
            "expired {day} at {time}" if level is Urgency.OVERDUE else "expires {day} at {time}", day=day, time=time
        ),
        "left": t("{left} ago", left=left) if level is Urgency.OVERDUE else t("{left} left", left=left),
    }


LEVELS = tuple(Urgency)


def loudest(shown: list[dict[str, Any]]) -> str | None:
    """The most alarming level among a product's deadlines, for its row's colour; None without a deadline."""
    levels = [Urgency(item["level"]) for item in shown]
    return str(max(levels, key=LEVELS.index)) if levels else None


@pass_context
def _shown_in_template(context: Context, deadline: dict[str, Any], product_code: str) -> dict[str, Any]:
    """For a template that has a status but no prepared deadline (the product page)."""
    from api.rest.context import context_of
    from api.web.views import zone

    ctx = context_of(context["request"])
    return shown_deadline(deadline, product_code, ctx.ledger.catalogue, zone(ctx), context["t"])


TEMPLATES.env.globals["shown_deadline"] = _shown_in_template
