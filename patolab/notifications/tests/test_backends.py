"""The workers' SMTP backend against a real SMTP server (aiosmtpd): messages
keep their exact bytes, connections are reused, a dead or failed connection
is replaced without losing the message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection

from patolab.notifications import backends
from patolab.notifications.backends import POOL, message_bytes

from .smtp import ScriptedSmtp


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    POOL.clear()
    yield
    POOL.clear()


def _message(subject: str = "Informe HP 26/0001 listo") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body="Estimada Dra. Núñez:\n\nAdjuntamos el informe.\r\nSaludos.\n",
        from_email="Laboratorio <lab@patolab.test>",
        to=["vet@clinica.test"],
        connection=get_connection(),
    )
    message.attach_alternative("<p>Adjuntamos el <b>informe</b>.</p>", "text/html")
    message.attach("informe.pdf", bytes(range(256)) * 200, "application/pdf")
    return message


def test_message_bytes_are_what_django_writes():
    built = _message().message()
    assert message_bytes(built) == built.as_bytes(linesep="\r\n")


def test_one_connection_serves_consecutive_messages(scripted_smtp: ScriptedSmtp):
    for n in range(3):
        assert _message(f"Informe {n}").send() == 1
    assert [m["Subject"] for m in scripted_smtp.messages] == [
        "Informe 0",
        "Informe 1",
        "Informe 2",
    ]
    assert scripted_smtp.greetings == 1
    attachment = scripted_smtp.messages[0].get_payload()[1]
    assert attachment.get_payload(decode=True) == bytes(range(256)) * 200


def test_a_dead_kept_connection_is_replaced(scripted_smtp: ScriptedSmtp, monkeypatch):
    monkeypatch.setattr(backends, "CHECK_AFTER_SECONDS", 0.0)
    assert _message("Antes").send() == 1
    scripted_smtp.stop()
    scripted_smtp.start()  # same port: the kept connection is gone
    assert _message("Luego").send() == 1
    assert [m["Subject"] for m in scripted_smtp.messages] == ["Antes", "Luego"]


def test_a_connection_closed_within_the_second_fails_before_sending_and_is_dropped(
    scripted_smtp: ScriptedSmtp,
):
    """Reused without a NOOP: the message fails (a transient error for the
    delivery service, which retries), nothing was sent, the next one goes
    through a new connection."""
    import smtplib

    assert _message("Antes").send() == 1
    scripted_smtp.stop()
    scripted_smtp.start()
    with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
        _message("Perdido").send()
    assert _message("Luego").send() == 1
    assert [m["Subject"] for m in scripted_smtp.messages] == ["Antes", "Luego"]


def test_a_connection_that_saw_an_error_is_not_kept(scripted_smtp: ScriptedSmtp):
    scripted_smtp.rcpt_reply = "550 5.1.1 Usuario inexistente"
    with pytest.raises(Exception, match="Usuario inexistente"):
        _message().send()
    scripted_smtp.rcpt_reply = "250 OK"
    assert _message().send() == 1
    assert scripted_smtp.greetings == 2
    assert len(scripted_smtp.messages) == 1


def test_idle_connections_are_not_reused_past_the_limit(
    scripted_smtp: ScriptedSmtp, settings
):
    settings.EMAIL_POOL_IDLE_SECONDS = 0
    assert _message().send() == 1
    assert _message().send() == 1
    assert scripted_smtp.greetings == 2
