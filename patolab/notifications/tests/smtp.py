"""A scripted real SMTP server for delivery tests (unit and integration)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any


@dataclass
class ScriptedSmtp:
    """A real aiosmtpd server whose RCPT/DATA replies the test chooses."""

    port: int
    rcpt_reply: str = "250 OK"
    data_reply: str = "250 OK"
    messages: list[Message] = field(default_factory=list)
    # EHLO greetings received: one per SMTP connection a client opened.
    greetings: int = 0
    controller: Any = None

    def start(self) -> ScriptedSmtp:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_EHLO(self, srv, session, envelope, hostname, responses):
                server.greetings += 1
                session.host_name = hostname
                return responses

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

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def point_django_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "patolab.notifications.backends.PooledSmtpBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
