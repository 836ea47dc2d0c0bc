"""Compile locale/*.po to .mo without needing GNU gettext (uses Babel)."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

root = Path(__file__).resolve().parent.parent
count = 0
for po_path in sorted(root.glob("locale/*/LC_MESSAGES/*.po")):
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    with po_path.with_suffix(".mo").open("wb") as mo_file:
        write_mo(mo_file, catalog)
    count += 1
print(f"compiled {count} message catalog(s)")
