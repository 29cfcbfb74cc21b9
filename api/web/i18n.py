"""French and English for the web interface: English text is the key, French its translation.

The French catalogue is a set of gettext ``.po`` files under ``api/web/locale/fr/LC_MESSAGES/``, one per area of
the interface, so each can be reviewed by a translator with ordinary tools. They are read and compiled in memory
at start (nothing to build on a fresh machine) and merged into one catalogue; plural forms follow the file's
``Plural-Forms`` header (French: one form for 0 and 1, another above). A text missing from the catalogue is shown
in English rather than hidden; the test suite checks that every text the interface asks for has its French.
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from io import BytesIO
from pathlib import Path

from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = {"fr": "fr_FR", "en": "en_GB"}
"""Dates and numbers as the unit writes them: 02/03/2026 09:00 and 1 234,5 in French; day first in English too."""


def _catalogues(lang: str) -> list[tuple[Path, Catalog]]:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    found = []
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            found.append((path, read_po(handle, locale=lang)))
    return found


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    """Every .po file of one language, compiled in memory and merged (English: no catalogue)."""
    merged: Translations | None = None
    for _path, catalogue in _catalogues(lang):
        compiled = BytesIO()
        write_mo(compiled, catalogue)
        compiled.seek(0)
        one = Translations(compiled)
        merged = one if merged is None else merged.merge(one)
    return merged if merged is not None else gettext.NullTranslations()


def messages(lang: str) -> dict[str, str]:
    """The singular texts of one language's catalogue, English key to translation (for checks and tests).

    Texts with a context (a step name, a state, a rule code…) are not here: see ``context_messages``.
    """
    found: dict[str, str] = {}
    for _path, catalogue in _catalogues(lang):
        for message in catalogue:
            if message.context is not None:
                continue
            if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
                found[message.id] = message.string
    return found


def context_messages(lang: str, context: str) -> dict[str, str]:
    """The texts of one context (``step``, ``state``, ``rule``…), English key or code to translation."""
    found: dict[str, str] = {}
    for _path, catalogue in _catalogues(lang):
        for message in catalogue:
            if message.context != context or not isinstance(message.id, str) or not message.id:
                continue
            if isinstance(message.string, str) and message.string:
                found[message.id] = message.string
    return found


def plural_messages(lang: str) -> dict[str, tuple[str, ...]]:
    """The plural texts of one language's catalogue, English singular to its forms (for checks and tests)."""
    found: dict[str, tuple[str, ...]] = {}
    for _path, catalogue in _catalogues(lang):
        for message in catalogue:
            forms = message.string
            if isinstance(message.id, tuple | list) and isinstance(forms, tuple | list) and all(forms):
                found[message.id[0]] = tuple(forms)
    return found


def duplicated_messages(lang: str) -> dict[str, list[str]]:
    """Texts translated in more than one .po file, with the files: merging would hide one of them."""
    seen: dict[str, list[str]] = {}
    for path, catalogue in _catalogues(lang):
        for message in catalogue:
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key:
                # The same English word may mean two things: a state "stored" and a bag "stored" are told apart by
                # their context, and only the same text in the same context is a duplicate.
                shown = key if message.context is None else f"{message.context}|{key}"
                seen.setdefault(shown, []).append(path.name)
    return {key: files for key, files in seen.items() if len(files) > 1}


EVENT_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]+\b")
"""A word that may be an event type's name ("Thawed", "BedsideCheckPerformed"); only known names are replaced."""


class Translator:
    """``t(text, **params)`` and ``t.plural(singular, plural, n, **params)`` for one language.

    Parameters are filled in after translation (``str.format``), so a translator may move them in the sentence.
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._gettext = _translations(lang) if lang != "en" else gettext.NullTranslations()

    def __call__(self, text: str, /, **params: object) -> str:
        translated = self._gettext.gettext(text)
        return translated.format(**params) if params else translated

    def plural(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        translated = self._gettext.ngettext(singular, plural, n)
        return translated.format(n=n, **params)

    def has(self, text: str) -> bool:
        """Whether the catalogue holds this text (English always does)."""
        return self.lang == "en" or text in _known(self.lang)

    def ctx(self, context: str, text: str, /, default: str | None = None, **params: object) -> str:
        """A text of one context: the same English word may need two French words ("none" → aucun, aucune).

        Untranslated (or English), ``default`` when given, else the text itself.
        """
        translated = self._gettext.pgettext(context, text)
        if translated == text and default is not None:
            translated = default
        return translated.format(**params) if params else translated

    # -- the domain's vocabulary: the codes the ledger stores, shown as the unit says them ----------------------

    def step(self, name: str | None) -> str:
        """An event type ("BedsideCheckPerformed" → "Contrôle au lit du patient"); English keeps the code."""
        return "—" if not name else self.ctx("step", name)

    def description(self, text: str) -> str:
        """A step's description (the spec's English sentence is the key)."""
        return self.ctx("step description", text)

    def state(self, state: str | None) -> str:
        """A product's or shipment's state ("qc_out_of_spec")."""
        return "—" if not state else self.ctx("state", state)

    def role(self, role: str | None) -> str:
        """A role ("qp" → "Personne qualifiée")."""
        return "—" if not role else self.ctx("role", role)

    def choice(self, value: str) -> str:
        """One option of a list box ("water_bath" → "Bain-marie")."""
        return self.ctx("choice", value)

    def deadline(self, kind: str | None) -> str:
        """A running window ("thaw_to_infusion")."""
        return "—" if not kind else self.ctx("deadline", kind)

    def hold(self, kind: str) -> str:
        """A hold on a product ("suspension", "quarantine")."""
        return self.ctx("hold", kind)

    def field(self, name: str, label: str | None = None) -> str:
        """A form field's label, by the payload field's name; English keeps the label derived from the name."""
        return self.ctx("field", name, default=label or name)

    def next_step(self, text: str | None) -> str:
        """A "next step" text ("ProductDestroyed or ProductReturned", "ShipmentDispatched (to_pharmacy)")."""
        if not text:
            return "—"
        if self.lang == "en":
            return text
        shown = EVENT_NAME.sub(lambda match: self.step(match.group(0)), text)
        shown = shown.replace(" or ", f" {self('or')} ")
        return re.sub(r"\(([a-z_ ]+)\)", lambda match: f"({self._option(match.group(1))})", shown)

    def _option(self, text: str) -> str:
        return self.choice(text) if "_" in text else self(text)

    def names(self, text: str) -> str:
        """A ledger text with its event names put in this language (the rest of the sentence is kept)."""
        if self.lang == "en":
            return text
        return EVENT_NAME.sub(lambda match: self.step(match.group(0)), text)

    def rule(self, code: str | None, field: str | None = None) -> str | None:
        """What a rule code means, with the field at fault; None in English or when no translation exists.

        The ledger's own detail is English; a French page or a French API client gets this sentence instead.
        """
        if self.lang == "en" or not code:
            return None
        translated = self._gettext.pgettext("rule", code)
        if translated == code:
            return None
        where = self.field_path(field) if field else self("the request")
        return translated.format(field=where)

    def field_path(self, path: str) -> str:
        """A field path as a person reads it: "payload.bag_id" → "« ID de la poche » (payload.bag_id)"."""
        last = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
        label = self.ctx("field", last)
        return f"« {label} » ({path})" if label != last else path


@functools.cache
def _known(lang: str) -> Mapping[str, str]:
    return messages(lang)


def language(cookie: str | None, accept: str | None) -> str:
    """The chosen language (cookie first), else the browser's first known one, else French."""
    if cookie in LANGUAGES:
        return str(cookie)
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def asked(accept: str | None) -> str | None:
    """The first known language an ``Accept-Language`` header asks for, or None when it asks for none we know.

    The HTTP API answers in English unless French is asked for (its clients predate the French catalogue); the web
    pages, made for the unit, default to French instead (``language``).
    """
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return None


def translator(lang: str) -> Translator:
    """``t(text)`` for one language."""
    return Translator(lang if lang in LANGUAGES else DEFAULT)


def when(moment: datetime | str | None, zone: tzinfo, lang: str) -> str:
    """An instant in the site's zone, to the minute, as people there write it ("02/03/2026 09:00"); "—" if none.

    A stored instant is UTC with microseconds; a person reads the wall clock of their site, and seconds only add noise.
    """
    if moment is None or moment == "":
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    locale = LOCALES.get(lang, LOCALES[DEFAULT])
    return format_datetime(moment.astimezone(zone), "short", tzinfo=zone, locale=locale)


def number(value: float | int | None, lang: str) -> str:
    """A figure with the language's decimal sign and grouping ("1 234,5" in French)."""
    if value is None:
        return "—"
    return format_decimal(value, locale=LOCALES.get(lang, LOCALES[DEFAULT]))
