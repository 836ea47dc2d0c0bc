"""The strict environment parsers behind config/settings.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import (
    env_bool,
    env_int,
    env_time,
    parse_database_url,
    parse_email_url,
)


def test_database_url_postgres_is_parsed():
    db = parse_database_url("postgres://lab:s%40cret@db.example:6543/patolab")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "lab",
        "s@cret",
        "db.example",
        "6543",
        "patolab",
    )


def test_database_url_sqlite_uses_wal():
    db = parse_database_url("sqlite:////tmp/patolab-test.sqlite3")
    assert db["NAME"] == "/tmp/patolab-test.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_unknown_database_scheme_fails_loudly():
    with pytest.raises(ImproperlyConfigured):
        parse_database_url("mysql://x@y/z")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example:2525", ("mail.example", 2525, False, False, "")),
        (
            "smtp+tls://user:pw@mail.example:587",
            ("mail.example", 587, True, False, "user"),
        ),
        ("smtp+ssl://user:pw@mail.example", ("mail.example", 465, False, True, "user")),
    ],
)
def test_email_url_smtp_variants(url, expected):
    cfg = parse_email_url(url)
    assert cfg["EMAIL_BACKEND"].endswith("PooledSmtpBackend")
    assert (
        cfg["EMAIL_HOST"],
        cfg["EMAIL_PORT"],
        cfg["EMAIL_USE_TLS"],
        cfg["EMAIL_USE_SSL"],
        cfg["EMAIL_HOST_USER"],
    ) == expected


def test_email_url_console_default():
    assert parse_email_url("consolemail://")["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )


def test_malformed_booleans_and_integers_fail_loudly(monkeypatch):
    monkeypatch.setenv("PATOLAB_X", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("PATOLAB_X", default=False)
    monkeypatch.setenv("PATOLAB_X", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_int("PATOLAB_X", 1)
    monkeypatch.setenv("PATOLAB_X", "off")
    assert env_bool("PATOLAB_X", default=True) is False


def test_times_are_hh_mm_or_fail_loudly(monkeypatch):
    monkeypatch.delenv("PATOLAB_X", raising=False)
    assert env_time("PATOLAB_X", "07:00") == (7, 0)
    monkeypatch.setenv("PATOLAB_X", "23:05")
    assert env_time("PATOLAB_X", "07:00") == (23, 5)
    for bad in ("7", "24:00", "12:60", "aa:bb", "-1:30"):
        monkeypatch.setenv("PATOLAB_X", bad)
        with pytest.raises(ImproperlyConfigured):
            env_time("PATOLAB_X", "07:00")
