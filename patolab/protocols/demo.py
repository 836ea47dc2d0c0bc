"""Demo protocols: ~200 across both types and every status over the last ~60
days, built through the services (numbers, codes and history stay consistent)
with e-mails muted (`notify=False`). Idempotent: does nothing if protocols exist."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from patolab.accounts.models import User, Veterinarian

from .models import Protocol, ProtocolStatus, ProtocolStatusHistory
from .services import (
    protocol_create,
    protocol_receive,
    protocol_reject,
    protocol_transition,
)
from .services.numbering import temporary_code_next

S = ProtocolStatus
TOTAL = 200

ANIMALS: dict[str, tuple[list[str], list[str]]] = {
    "Canino": (
        [
            "Mestizo",
            "Labrador Retriever",
            "Golden Retriever",
            "Ovejero Alemán",
            "Caniche",
            "Boxer",
            "Bulldog Francés",
            "Beagle",
            "Dogo Argentino",
            "Cocker Spaniel",
            "Yorkshire Terrier",
            "Rottweiler",
        ],
        [
            "Luna",
            "Toby",
            "Rocco",
            "Kira",
            "Simón",
            "Lola",
            "Max",
            "Nina",
            "Bruno",
            "Mora",
            "Coco",
            "Tango",
            "Negro",
            "Frida",
            "Manchita",
        ],
    ),
    "Felino": (
        ["Común europeo", "Siamés", "Persa", "Maine Coon", "Mestizo"],
        [
            "Michi",
            "Tom",
            "Pelusa",
            "Felipe",
            "Mía",
            "Garfield",
            "Olivia",
            "Salem",
            "Catalina",
        ],
    ),
    "Bovino": (
        ["Aberdeen Angus", "Hereford", "Holando Argentino", "Brangus"],
        ["Caravana 1423", "Caravana 0871", "Caravana 2210", "Vaca 55", "Ternero 12"],
    ),
    "Equino": (
        ["Criollo", "Sangre Pura de Carrera", "Cuarto de Milla", "Petiso"],
        ["Tordillo", "Malacara", "Zaino", "Pampa", "Moro"],
    ),
    "Ovino": (["Corriedale", "Merino", "Hampshire Down"], ["Oveja 31", "Carnero 4"]),
    "Caprino": (["Criolla", "Anglo Nubian", "Saanen"], ["Cabra 8", "Chivo 2"]),
    "Porcino": (["Landrace", "Large White", "Cruza"], ["Cerda 17", "Lechón 5"]),
    "Aviar": (
        ["Ponedora Hy-Line", "Parrillero Cobb", "Loro hablador"],
        ["Lote 3", "Pepe"],
    ),
}
SPECIES_WEIGHTS = {
    "Canino": 55,
    "Felino": 25,
    "Bovino": 7,
    "Equino": 5,
    "Ovino": 3,
    "Caprino": 2,
    "Porcino": 2,
    "Aviar": 1,
}
OWNERS = [
    "Marta Gómez",
    "Jorge Álvarez",
    "Carla Benítez",
    "Héctor Ruiz",
    "Silvina Paz",
    "Estancia La Esperanza",
    "Tambo San José",
    "Graciela Ferreyra",
    "Pablo Suárez",
    "Noelia Castro",
    "Raúl Medina",
    "Cabaña El Ombú",
    "Analía Quiroga",
    "Iván Herrera",
]
HISTO_CASES = [
    (
        "Nódulo cutáneo",
        "Mastocitoma",
        "Nódulo dérmico de 2 cm en flanco izquierdo, de crecimiento rápido en el último mes.",
    ),
    (
        "Cadena mamaria",
        "Tumor mamario",
        "Mastectomía regional por nódulos múltiples en glándulas M4 y M5.",
    ),
    (
        "Bazo",
        "Hemangiosarcoma / hiperplasia nodular",
        "Esplenectomía por masa esplénica hallada en ecografía; hemoabdomen leve.",
    ),
    (
        "Linfonodo poplíteo",
        "Linfoma",
        "Linfadenomegalia generalizada, pérdida de peso y decaimiento.",
    ),
    (
        "Biopsia de piel",
        "Dermatitis crónica",
        "Lesiones alopécicas y costrosas de 3 meses de evolución sin respuesta a tratamiento.",
    ),
    (
        "Hígado (biopsia)",
        "Hepatopatía",
        "Aumento de ALT y FAS; hepatomegalia en ecografía.",
    ),
    (
        "Mucosa oral",
        "Epulis / melanoma",
        "Masa gingival pigmentada en maxilar superior.",
    ),
    (
        "Pulmón",
        "Neumonía intersticial",
        "Necropsia: animal con disnea progresiva; pulmones que no colapsan.",
    ),
    (
        "Testículo",
        "Sertolioma",
        "Criptorquidia derecha; testículo retenido aumentado de tamaño.",
    ),
    (
        "Útero y ovarios",
        "Piometra",
        "Ovariohisterectomía de urgencia por descarga vaginal purulenta.",
    ),
    (
        "Intestino delgado",
        "Enteritis / neoplasia intestinal",
        "Diarrea crónica y engrosamiento de pared intestinal en ecografía.",
    ),
]
CYTO_CASES = [
    (
        "PAAF",
        "Nódulo subcutáneo en tórax",
        "Lipoma",
        "Masa blanda, móvil, de crecimiento lento.",
    ),
    (
        "PAAF",
        "Linfonodo submandibular",
        "Linfoma / linfadenitis reactiva",
        "Linfadenomegalia submandibular bilateral.",
    ),
    (
        "hisopado",
        "Conducto auditivo externo",
        "Otitis por Malassezia",
        "Prurito ótico y secreción ceruminosa oscura.",
    ),
    (
        "impronta",
        "Úlcera cutánea en miembro anterior",
        "Carcinoma de células escamosas",
        "Lesión ulcerada que no cicatriza en zona despigmentada.",
    ),
    (
        "raspado",
        "Lesión alopécica periocular",
        "Demodicosis",
        "Alopecia y eritema periocular en animal joven.",
    ),
    (
        "lavado",
        "Lavado broncoalveolar",
        "Bronquitis eosinofílica",
        "Tos crónica; radiografía con patrón bronquial.",
    ),
    (
        "PAAF",
        "Masa mamaria",
        "Tumor mamario",
        "Nódulo firme de 1,5 cm en glándula mamaria M3.",
    ),
    (
        "otro",
        "Líquido abdominal",
        "Efusión abdominal",
        "Distensión abdominal; abdominocentesis.",
    ),
]
AGES = [
    "3 meses",
    "8 meses",
    "1 año",
    "2 años",
    "4 años",
    "6 años",
    "7 años",
    "9 años",
    "11 años",
    "13 años",
]
REJECTIONS = [
    "Frasco roto durante el transporte; sin material evaluable.",
    "Muestra sin formol, autolisis avanzada.",
    "Protocolo sin identificación del animal en el frasco.",
    "Portaobjetos sin rotular y sin fijar.",
]
DISCREPANCIES = [
    "Llegó un frasco menos que lo declarado.",
    "Se recibió un portaobjetos adicional sin rotular.",
    "Uno de los frascos llegó vacío.",
]
# (status, weight, submitted this many days ago: min, max)
PLAN = [
    (S.SUBMITTED, 12, 0, 8),
    (S.RECEIVED, 8, 1, 10),
    (S.PROCESSING, 10, 2, 16),
    (S.READY, 10, 4, 22),
    (S.REPORT_SENT, 49, 6, 60),
    (S.REJECTED, 5, 1, 60),
    (S.CANCELLED, 4, 1, 60),
]


def _working_time(rng: random.Random, moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    return local.replace(
        hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=0, microsecond=0
    )


def _business_hours(rng: random.Random, moment: datetime) -> datetime:
    """Move a moment forward into the lab's opening hours (8 to 18 h local)."""
    local = timezone.localtime(moment)
    if local.hour >= 18:
        local = (local + timedelta(days=1)).replace(hour=8, minute=rng.randint(0, 59))
    elif local.hour < 8:
        local = local.replace(hour=8, minute=rng.randint(0, 59))
    return local


def _protocol_data(rng: random.Random, kind: str, sub: datetime) -> dict[str, Any]:
    species = rng.choices(
        list(SPECIES_WEIGHTS), weights=list(SPECIES_WEIGHTS.values())
    )[0]
    breeds, names = ANIMALS[species]
    data: dict[str, Any] = {
        "analysis_type": kind,
        "species": species,
        "breed": rng.choice(breeds),
        "sex": rng.choice(["male", "female", "female", "unknown"]),
        "age": rng.choice(AGES),
        "animal_name": rng.choice(names),
        "owner_name": rng.choice(OWNERS),
        "sampling_date": timezone.localdate(sub) - timedelta(days=rng.randint(0, 2)),
        "academic_interest": rng.random() < 0.3,
    }
    if kind == "histopathology":
        material, dx, history = rng.choice(HISTO_CASES)
        data.update(
            material_submitted=material,
            presumptive_diagnosis=dx,
            clinical_history=history,
            sample_description=f"{material} fijado en formol.",
            containers=rng.choice([1, 1, 1, 2, 2, 3]),
        )
    else:
        technique, site, dx, history = rng.choice(CYTO_CASES)
        data.update(
            technique=technique,
            sampling_site=site,
            presumptive_diagnosis=dx,
            clinical_history=history,
            slides=rng.choice([2, 2, 3, 4]),
        )
    return data


def _stamp_last_history(protocol: Protocol, when: datetime) -> None:
    # History rows get `auto_now_add`; back-date the one just written.
    row = protocol.history.order_by("-id").first()
    if row is not None:
        ProtocolStatusHistory.objects.filter(pk=row.pk).update(changed_at=when)


def seed(stdout: Any) -> None:
    if Protocol.objects.exists():
        stdout.write("Demo protocols already present.")
        return
    vets = list(Veterinarian.objects.select_related("user").order_by("pk"))
    staff = User.objects.filter(username="recepcion").first()
    pathologist = User.objects.filter(username="patologo").first() or staff
    if not vets or staff is None:
        stdout.write("Demo protocols skipped: run the accounts demo first.")
        return
    rng = random.Random(20260)  # noqa: S311 - deterministic demo data
    now = timezone.now()
    latest = now - timedelta(minutes=30)
    vet_weights = [
        6
        if v.user.username == "veterinario"
        else 3
        if v.user.username == "veterinario2"
        else 1
        for v in vets
    ]

    plans = []
    for _ in range(TOTAL - 3):
        status, _w, lo, hi = rng.choices(PLAN, weights=[p[1] for p in PLAN])[0]
        sub = _working_time(rng, now - timedelta(days=rng.uniform(lo, hi)))
        sub = min(sub, latest)
        kind = "histopathology" if rng.random() < 0.6 else "cytology"
        vet = rng.choices(vets, weights=vet_weights)[0]
        plans.append((sub, status, kind, vet))
    plans.sort(key=lambda p: p[0])

    events: list[tuple[datetime, int, str, Protocol]] = []
    for sub, status, kind, vet in plans:
        protocol = protocol_create(
            veterinarian=vet,
            created_by=vet.user,
            notify=False,
            submitted_at=sub,
            **_protocol_data(rng, kind, sub),
        )
        _stamp_last_history(protocol, sub)
        if status == S.SUBMITTED:
            continue
        t = sub + timedelta(hours=rng.uniform(4, 60))
        if status == S.REJECTED:
            events.append(
                (min(_business_hours(rng, t), latest), 0, S.REJECTED, protocol)
            )
            continue
        if status == S.CANCELLED:
            events.append(
                (min(_business_hours(rng, t), latest), 0, S.CANCELLED, protocol)
            )
            continue
        chain = [S.RECEIVED, S.PROCESSING, S.READY, S.REPORT_SENT]
        turnaround = 7 if kind == "histopathology" else 3
        gaps = {
            S.RECEIVED: 0,
            S.PROCESSING: rng.uniform(2, 30),
            S.READY: rng.uniform(12, turnaround * 24 * 1.2),
            S.REPORT_SENT: rng.uniform(2, 40),
        }
        for step in chain[: chain.index(status) + 1]:
            t = min(_business_hours(rng, t + timedelta(hours=gaps[step])), latest)
            events.append((t, chain.index(step), step, protocol))

    # Apply in time order so protocol numbers follow reception order.
    events.sort(key=lambda e: (e[0], e[1], e[3].pk))
    for when, _order, step, protocol in events:
        if step == S.RECEIVED:
            declared = protocol.declared_count
            differs = rng.random() < 0.06
            protocol_receive(
                protocol=protocol,
                received_by=staff,
                sample_condition=rng.choices(
                    ["optimal", "acceptable", "suboptimal"], weights=[70, 22, 8]
                )[0],
                containers=declared + 1 if differs else declared,
                discrepancies=rng.choice(DISCREPANCIES) if differs else "",
                notes=rng.choice(
                    ["", "", "", "Recipiente bien rotulado.", "Llegó refrigerado."]
                ),
                notify=False,
                received_at=when,
                # Render now: `make run` starts with every demo label ready
                # and no backlog in front of the first user's work.
                render_labels=True,
            )
        elif step == S.REJECTED:
            protocol_reject(
                protocol=protocol,
                rejected_by=staff,
                reason=rng.choice(REJECTIONS),
                notify=False,
            )
        elif step == S.REPORT_SENT:
            protocol_transition(protocol=protocol, to_status=step, user=pathologist)
            Protocol.objects.filter(pk=protocol.pk).update(report_sent_at=when)
        else:
            note = {
                S.PROCESSING: "Procesamiento de rutina.",
                S.CANCELLED: "Cancelado a pedido del veterinario/a.",
            }.get(step, "")
            protocol_transition(
                protocol=protocol, to_status=step, user=staff, note=note
            )
        _stamp_last_history(protocol, when)

    # A few drafts (saved but not yet submitted): no history until submission.
    for vet in vets[:3]:
        data = _protocol_data(rng, "histopathology", latest)
        Protocol.objects.create(
            veterinarian=vet,
            created_by=vet.user,
            status=S.DRAFT,
            temporary_code=temporary_code_next(
                analysis_type="histopathology", day=timezone.localdate(latest)
            ),
            submitted_at=None,
            **data,
        )
    counts = dict((s, Protocol.objects.filter(status=s).count()) for s in S.values)
    stdout.write(f"Demo protocols ready: {Protocol.objects.count()} {counts}")
