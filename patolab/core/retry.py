"""The one retry delay of the project (jobs and e-mail deliveries)."""

from __future__ import annotations

import random

from django.conf import settings

RETRY_BASE_SECONDS = 2.0


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …) of a transient
    failure: exponential backoff (2 s, 4 s, 8 s…) capped by
    `CELERY_RETRY_BACKOFF_MAX`, far below the broker's visibility timeout (DESIGN
    section 8), with "equal jitter": a random value in the upper half of the
    step, so retries of many failures spread out but never come back at once."""
    cap = float(settings.CELERY_RETRY_BACKOFF_MAX)
    ceiling = min(cap, RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return round(random.uniform(ceiling / 2, ceiling), 2)  # noqa: S311 - jitter
