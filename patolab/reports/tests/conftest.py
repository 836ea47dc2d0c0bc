from __future__ import annotations

from typing import Any

import pytest

from patolab.protocols.tests.factories import make_received
from patolab.reports.models import Report
from patolab.reports.services import report_create

DIAGNOSIS = "Mastocitoma cutáneo grado II (Patnaik); márgenes libres, ñandú, 3 °C."


@pytest.fixture
def received_protocol(vet_owner: Any, technician: Any) -> Any:
    return make_received(vet_owner, technician)


@pytest.fixture
def draft_report(received_protocol: Any, pathologist: Any) -> Report:
    return report_create(
        protocol=received_protocol,
        histopathologist=pathologist,
        macroscopic="Nódulo cutáneo de 2 × 1,5 cm, firme, blanquecino al corte.",
        microscopic="Proliferación de mastocitos bien diferenciados en dermis.",
        diagnosis=DIAGNOSIS,
        comments="Se sugiere control clínico en 3 meses.",
    )
