"""Templates: one Jinja2 environment, with the language, the signed-in person and the CSRF token in reach.

Autoescaping is on (Jinja2Templates sets it for .html): a payload text typed by a
user is shown, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from api.web import i18n
from api.web.i18n import language, translator

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    return f"{sign}{days} d {hours} h" if days else f"{sign}{hours} h {minutes:02d} min"


TEMPLATES.env.filters["duration"] = _duration


@pass_context
def _when(context: Context, moment: Any) -> str:
    """``{{ moment | when }}``: the page's language, the site's zone, to the minute."""
    return i18n.when(moment, context.get("zone") or ZoneInfo("UTC"), context.get("lang") or i18n.DEFAULT)


@pass_context
def _number(context: Context, value: Any) -> str:
    """``{{ value | number }}``: the page's decimal sign and grouping."""
    return i18n.number(value, context.get("lang") or i18n.DEFAULT)


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["number"] = _number


def _zone(request: Request) -> ZoneInfo:
    """The site's time zone (UTC for an application without the ledger's context)."""
    context = getattr(request.app.state, "context", None)
    return ZoneInfo(context.settings.timezone) if context is not None else ZoneInfo("UTC")


def render(request: Request, template: str, values: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """A page in the person's language."""
    lang = language(request.cookies.get("lang"), request.headers.get("accept-language"))
    principal = getattr(request.state, "principal", None)
    context = {"t": translator(lang), "lang": lang, "zone": _zone(request), "principal": principal, **values}
    if principal is not None and "csrf" not in context:
        from api.rest.context import context_of
        from api.web.session import csrf_for

        context["csrf"] = csrf_for(context_of(request), principal.session)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)
