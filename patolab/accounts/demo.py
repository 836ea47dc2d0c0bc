"""Demo users: one per role plus veterinarians (password `patolab-demo`)."""

from __future__ import annotations

from typing import Any

from .models import Role, User, Veterinarian
from .services import user_create, veterinarian_create

DEMO_PASSWORD = "patolab-demo"  # noqa: S105 - demo only

STAFF = [
    ("admin", Role.ADMIN, "Laura", "Giménez", True),
    ("recepcion", Role.LAB_STAFF, "Martín", "Sosa", False),
    ("patologo", Role.HISTOPATHOLOGIST, "Carolina", "Benítez", False),
]

VETS = [
    ("veterinario", "Juan Pablo Fernández", "MP 4521", "La Plata"),
    ("veterinario2", "María Eugenia López", "MP 3876", "City Bell"),
    ("vet_rodriguez", "Diego Rodríguez", "MP 5102", "Berisso"),
    ("vet_martinez", "Sofía Martínez", "MP 2290", "Ensenada"),
    ("vet_gomez", "Lucía Gómez", "MP 6011", "Gonnet"),
    ("vet_diaz", "Federico Díaz", "MP 4733", "Brandsen"),
    ("vet_perez", "Valeria Pérez", "MP 5588", "Magdalena"),
    ("vet_romero", "Nicolás Romero", "MP 3140", "Chascomús"),
    ("vet_acosta", "Florencia Acosta", "MP 6204", "Cañuelas"),
    ("vet_torres", "Ramiro Torres", "MP 2875", "San Vicente"),
]


def seed(stdout: Any) -> None:
    for username, role, first, last, superuser in STAFF:
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                email=f"{username}@patolab.local",
                first_name=first,
                last_name=last,
                is_superuser=superuser,
            )
    for index, (username, name, license_number, locality) in enumerate(VETS):
        if not Veterinarian.objects.filter(user__username=username).exists():
            veterinarian_create(
                username=username,
                password=DEMO_PASSWORD,
                full_name=name,
                email=f"{username}@veterinaria.local",
                license_number=license_number,
                phone=f"+54 221 4{index:02d}-{1000 + index * 37}",
                locality=locality,
                address=f"Calle {7 + index} N° {400 + index * 13}",
            )
    stdout.write(f"Demo users ready (password: {DEMO_PASSWORD})")
