"""The French catalogue: .po files read at start, merged, with French plural forms."""

from __future__ import annotations

from api.web.i18n import duplicated_messages, messages, translator


def test_a_text_of_the_catalogue_is_french_and_english_is_the_key() -> None:
    assert translator("fr")("Worklist") == "Liste de travail"
    assert translator("en")("Worklist") == "Worklist"


def test_a_text_missing_from_the_catalogue_is_shown_in_english() -> None:
    assert translator("fr")("A text nobody translated") == "A text nobody translated"


def test_parameters_are_filled_after_translation() -> None:
    assert translator("en")("{n} of {total}", n=2, total=5) == "2 of 5"


def test_french_plural_forms_one_for_zero_and_one() -> None:
    t = translator("fr")
    forms = [t.plural("{n} overdue visit", "{n} overdue visits", n) for n in (0, 1, 2)]
    assert forms == ["0 visite en retard", "1 visite en retard", "2 visites en retard"]
    english = translator("en")
    assert english.plural("{n} overdue visit", "{n} overdue visits", 1) == "1 overdue visit"
    assert english.plural("{n} overdue visit", "{n} overdue visits", 0) == "0 overdue visits"


def test_no_text_is_translated_twice_across_the_files() -> None:
    assert duplicated_messages("fr") == {}


def test_an_unknown_language_falls_back_to_french() -> None:
    assert translator("de")("Worklist") == "Liste de travail"


def test_the_catalogue_is_not_empty_and_has_the_units_words() -> None:
    french = messages("fr")
    assert french["Sign in"] == "Se connecter"
    assert len(french) > 200
