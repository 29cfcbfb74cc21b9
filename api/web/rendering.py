"""Templates: one Jinja2 environment, with the language, the signed-in person and the CSRF token in reach.

Autoescaping is on (Jinja2Templates sets it for .html): a payload text typed by a
user is shown, never run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

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


def render(request: Request, template: str, values: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """A page in the person's language."""
    lang = language(request.cookies.get("lang"), request.headers.get("accept-language"))
    principal = getattr(request.state, "principal", None)
    context = {"t": translator(lang), "lang": lang, "principal": principal, **values}
    if principal is not None and "csrf" not in context:
        from api.rest.context import context_of
        from api.web.session import csrf_for

        context["csrf"] = csrf_for(context_of(request), principal.session)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)
