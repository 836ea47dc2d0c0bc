from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

from conftest import free_port


@dataclass
class ScriptedSmtp:
    """A real aiosmtpd server whose RCPT/DATA replies the test chooses."""

    port: int
    rcpt_reply: str = "250 OK"
    data_reply: str = "250 OK"
    messages: list[Message] = field(default_factory=list)
    controller: Any = None

    def start(self) -> ScriptedSmtp:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_RCPT(self, srv, session, envelope, address, options):
                if server.rcpt_reply.startswith("250"):
                    envelope.rcpt_tos.append(address)
                return server.rcpt_reply

            async def handle_DATA(self, srv, session, envelope):
                if server.data_reply.startswith("250"):
                    server.messages.append(message_from_bytes(envelope.content))
                return server.data_reply

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self


@pytest.fixture
def scripted_smtp(settings: Any) -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp(port=free_port()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.controller.stop()
