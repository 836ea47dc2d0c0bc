"""Request middleware shared by every app."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers


def _normalize(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def language_for(request: HttpRequest) -> str:
    """The language chosen with the switcher (the `set_language` cookie) when it is
    one of settings.LANGUAGES, settings.LANGUAGE_CODE otherwise.

    Accept-Language is ignored on purpose: the lab works in Spanish, and a browser
    set to English would otherwise get Django's built-in strings (form errors,
    admin) in English mixed with our Spanish pages. English is for those who ask.
    """
    chosen = _normalize(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, ""))
    available = {_normalize(code): code for code, _name in settings.LANGUAGES}
    return available.get(chosen, settings.LANGUAGE_CODE)


class PreferredLanguageMiddleware:
    """Replaces django.middleware.locale.LocaleMiddleware: one language per request,
    from the switcher cookie only (no Accept-Language, no URL prefix)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = language_for(request)
        # override() restores the previous language afterwards, so a request never
        # leaks its language into code that runs later on the same thread.
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        # The same URL renders differently per cookie: shared caches must know.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
