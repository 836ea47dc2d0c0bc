"""The embedded broker wakes an idle consumer when a message is published
(a real SQLite broker file, two kombu connections, a consumer thread)."""

from __future__ import annotations

import contextlib
import threading
import time

from kombu import Connection, Exchange, Queue

from patolab.core import broker


def test_a_publish_wakes_an_idle_consumer_before_its_polling_interval(tmp_path):
    broker.install()
    url = f"sqla+sqlite:///{tmp_path / 'wake.sqlite3'}"
    queue = Queue("wake-test", Exchange("wake-test"), routing_key="wake-test")
    received: list[tuple[float, object]] = []
    with Connection(url, transport_options={"polling_interval": 30}) as consumer_conn:
        folder = broker.wake_folder(consumer_conn.transport.client.hostname)

        def on_message(body, message):
            received.append((time.monotonic(), body))
            message.ack()

        with consumer_conn.Consumer(queue, callbacks=[on_message]):

            def drain() -> None:
                with contextlib.suppress(TimeoutError):
                    consumer_conn.drain_events(timeout=60)

            thread = threading.Thread(target=drain)
            thread.start()
            time.sleep(0.5)  # the consumer has found the queue empty and waits
            assert thread.is_alive()
            assert not received
            assert len(list(folder.glob("*"))) == 1  # its wake-up socket
            with Connection(url) as producer_conn:
                sent = time.monotonic()
                producer_conn.Producer().publish(
                    {"hola": "mundo"}, exchange=queue.exchange, routing_key="wake-test",
                    declare=[queue],
                )  # fmt: skip
            thread.join(timeout=20)
    # Woken by the publish, not by its 30-second polling interval.
    assert received
    assert received[0][1] == {"hola": "mundo"}
    assert received[0][0] - sent < 10
    # The consumer's socket was removed when its connection closed.
    assert not any(
        broker.wake_folder(f"sqlite:///{tmp_path / 'wake.sqlite3'}").glob("*")
    )
