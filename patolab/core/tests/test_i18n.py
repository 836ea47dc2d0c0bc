"""Language selection: Spanish (es-AR) for everyone, English only on request.

The browser's Accept-Language is ignored (PreferredLanguageMiddleware); the
footer switcher (Django's set_language view) is the only way to English.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import re
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import formats, translation

from patolab.jobs.models import Job

pytestmark = pytest.mark.django_db

LOGIN = "/cuentas/login/"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%|\{\}")


def choose(client: Client, language: str, next_url: str = LOGIN) -> None:
    response = client.post(
        reverse("set_language"), {"language": language, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == next_url


def test_a_browser_asking_for_english_gets_the_spanish_login_page():
    response = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.status_code == 200
    assert response["Content-Language"] == "es-ar"
    html = response.content.decode()
    assert '<html lang="es-ar">' in html
    assert "Olvidé mi contraseña" in html
    assert "Forgot" not in html


def test_django_builtin_form_errors_stay_spanish_for_an_english_browser():
    response = Client().post(
        LOGIN, {"username": "", "password": ""}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 200
    html = response.content.decode()
    # Next to each field (the summary on top repeats them).
    assert html.count("<p>Este campo es obligatorio.</p>") == 2
    assert "This field is required." not in html


def test_a_url_language_prefix_does_not_switch_the_language():
    # No i18n_patterns: a prefixed URL is simply not found, in Spanish.
    response = Client().get("/en" + LOGIN, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response["Content-Language"] == "es-ar"


def test_choosing_english_shows_the_login_page_from_the_english_catalog():
    client = Client()
    choose(client, "en")

    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response = client.get(LOGIN)
    assert response["Content-Language"] == "en"
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Forgot my password" in html
    assert "Olvidé mi contraseña" not in html


def test_choosing_english_also_switches_django_builtin_form_errors():
    client = Client()
    choose(client, "en")

    html = client.post(LOGIN, {"username": "", "password": ""}).content.decode()
    assert html.count("<p>This field is required.</p>") == 2


def test_choosing_english_translates_the_home_page_with_placeholders(
    login, pathologist
):
    client = login(pathologist)
    choose(client, "en", next_url="/")

    html = client.get("/").content.decode()
    assert f"Hello, {pathologist.display_name}" in html
    assert "Hola," not in html


def test_switching_back_to_spanish_works(login, pathologist):
    client = login(pathologist)
    choose(client, "en", next_url="/")
    choose(client, "es-ar", next_url="/")

    html = client.get("/").content.decode()
    assert f"Hola, {pathologist.display_name}" in html


@pytest.mark.parametrize("cookie", ["fr", "es", "", "en-xx-bogus"])
def test_an_unknown_language_cookie_falls_back_to_spanish(cookie):
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie

    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "es-ar"
    assert "Olvidé mi contraseña" in response.content.decode()


def test_the_language_cookie_is_matched_case_insensitively():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es_AR"
    assert client.get(LOGIN)["Content-Language"] == "es-ar"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "EN"
    assert client.get(LOGIN)["Content-Language"] == "en"


def test_responses_vary_on_cookie_since_the_language_comes_from_it():
    response = Client().get(LOGIN)
    assert "Cookie" in response["Vary"]
    assert "Accept-Language" not in response["Vary"]


def test_the_request_language_does_not_leak_into_later_code():
    client = Client()
    choose(client, "en")
    client.get(LOGIN)

    assert translation.get_language() == settings.LANGUAGE_CODE


def test_the_footer_has_a_language_switcher_posting_to_set_language(login, pathologist):
    html = login(pathologist).get("/protocolos/?page=1").content.decode()

    assert f'action="{reverse("set_language")}" method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="next" value="/protocolos/?page=1">' in html
    assert 'value="es-ar" lang="es-AR" aria-current="true" disabled>Español' in html
    assert 'value="en" lang="en">English</button>' in html


def test_dates_on_pages_are_day_month_year_in_spanish(login, pathologist):
    created = dt.datetime(
        2026, 3, 5, 14, 7, tzinfo=ZoneInfo("America/Argentina/Buenos_Aires")
    )
    job = Job.objects.create(kind="i18n.test", requested_by=pathologist)
    Job.objects.filter(pk=job.pk).update(created_at=created)

    html = login(pathologist).get(reverse("jobs:list")).content.decode()
    assert "05/03/2026 14:07" in html

    with translation.override(settings.LANGUAGE_CODE):
        assert formats.date_format(created.date(), "SHORT_DATE_FORMAT") == "05/03/2026"
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%d/%m/%Y"


# ---------------------------------------------------------------- catalogs
LOCALE = Path(settings.BASE_DIR) / "locale"


def read_catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "django.po").open("rb") as po:
        return read_po(po, abort_invalid=True)


def test_every_message_has_an_english_translation_and_none_is_fuzzy():
    catalog = read_catalog("en")
    messages = [m for m in catalog if m.id]

    assert len(messages) > 500
    assert not catalog.fuzzy
    assert [m.id for m in messages if m.fuzzy] == []
    untranslated = [
        m.id
        for m in messages
        if not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert untranslated == []


def test_english_translations_keep_their_placeholders():
    catalog = read_catalog("en")
    # Babel's checkers compare python-format placeholders of msgid and msgstr.
    assert [(m.id, errors) for m, errors in catalog.check()] == []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        for msgid, msgstr in zip(ids, strings, strict=True):
            assert sorted(PLACEHOLDER.findall(msgid)) == sorted(
                PLACEHOLDER.findall(msgstr)
            ), msgid


def test_the_spanish_catalog_is_valid_and_has_the_same_messages():
    spanish, english = read_catalog("es_AR"), read_catalog("en")

    assert not spanish.fuzzy
    assert {m.id for m in spanish if m.id} == {m.id for m in english if m.id}
    assert [m.id for m in spanish if m.id and m.fuzzy] == []


def test_compile_messages_builds_both_catalogs_that_gettext_reads(tmp_path):
    # A copy, so the repository's .mo files (read by concurrent runs) stay put.
    shutil.copytree(LOCALE, tmp_path / "locale", ignore=shutil.ignore_patterns("*.mo"))
    (tmp_path / "scripts").mkdir()
    shutil.copy(
        Path(settings.BASE_DIR) / "scripts" / "compile_messages.py",
        tmp_path / "scripts",
    )

    result = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "compile_messages.py")],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "compiled 2 message catalog(s)" in result.stdout
    english = gettext_module.translation(
        "django", localedir=tmp_path / "locale", languages=["en"]
    )
    assert english.gettext("Ingresar") == "Log in"
    assert (
        english.ngettext("%(n)s protocolo", "%(n)s protocolos", 3) == "%(n)s protocols"
    )
    spanish = gettext_module.translation(
        "django", localedir=tmp_path / "locale", languages=["es_AR"]
    )
    assert spanish.gettext("Ingresar") == "Ingresar"
