"""The label renderer read back like a printer would print it."""

from __future__ import annotations

from datetime import date

import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from patolab.core.pdf import formatted
from patolab.core.pdf.fonts import BOLD
from patolab.core.pdf.qr import QUIET_ZONE_MODULES, qr_modules
from patolab.labels import render
from patolab.labels.render import (
    DOT,
    ELLIPSIS,
    LABEL_HEIGHT,
    PRINTER_DPI,
    LabelData,
    qr_layout,
    qr_origin,
    render_labels,
)

from .pdfcheck import PRINTER_SCALE, decode_qr, pdf_pages, render_pages

URL = "http://127.0.0.1:8000/protocolos/1234/"
LONG_NAME = "Firulais Bartolomé de los Santos Gutiérrez y Martínez Ñandubay"


def item(**overrides: object) -> LabelData:
    data = {
        "protocol_number": "HP 26/1234",
        "animal_name": "Ñandú",
        "species": "Canino",
        "received_on": date(2026, 11, 28),
        "containers": 3,
        "url": URL,
    }
    data.update(overrides)
    return LabelData(**data)  # type: ignore[arg-type]


def test_pages_are_39_by_20_mm_one_per_container() -> None:
    pdf = render_labels([item(containers=3), item(containers=2, url=URL + "x")])
    pages = pdf_pages(pdf)
    assert len(pages) == 5
    for width, height, _text in pages:
        assert width == pytest.approx(110.55, abs=0.01)
        assert height == pytest.approx(56.69, abs=0.01)


def test_each_page_prints_number_animal_date_and_container_count() -> None:
    pages = pdf_pages(render_labels([item(containers=2)]))
    for n, (_w, _h, text) in enumerate(pages, start=1):
        assert "HP 26/1234" in text
        assert "Ñandú" in text
        assert "Canino" in text
        assert "28/11/2026" in text
        assert f"{n}/2" in text


def test_long_protocol_number_is_shrunk_never_truncated() -> None:
    for number in ("HP 26/1234", "HP 26/123456", "CT 26/99999"):
        text = pdf_pages(render_labels([item(protocol_number=number, containers=1)]))[
            0
        ][2]
        assert number in text


def test_long_animal_name_takes_two_lines_then_an_ellipsis() -> None:
    text = pdf_pages(render_labels([item(animal_name=LONG_NAME, containers=1)]))[0][2]
    lines = text.splitlines()
    first = lines.index("Firulais")
    assert lines[first + 1].startswith("Bartolomé")
    assert lines[first + 1].endswith(ELLIPSIS)
    assert "HP 26/1234" in text
    assert "Canino" in text


def test_a_name_that_fits_in_two_lines_is_printed_whole() -> None:
    text = pdf_pages(
        render_labels([item(animal_name="Firulais Bartolomé", containers=1)])
    )[0][2]
    assert "Firulais\nBartolomé\n" in text
    assert ELLIPSIS not in text


def test_the_date_says_it_is_the_reception_date() -> None:
    text = pdf_pages(render_labels([item(containers=1)]))[0][2]
    assert "Rec. 28/11/2026" in text


@pytest.mark.parametrize("name", ["Ñandú", LONG_NAME, "W" * 60])
def test_text_keeps_2_mm_from_the_label_edges(name: str) -> None:
    data = item(protocol_number="HP 26/123456", animal_name=name, containers=12)
    x, _y = qr_origin(qr_layout(data.url))
    image = render_pages(render_labels([data]), scale=600 / 72)[0]
    s = 600 / 72
    band = round(2 * mm * s) - 1
    _width, height = image.size
    text_right = round(x * s)  # the QR (with its own quiet zone) starts here
    pixels = image.load()
    dark = [
        (px, py)
        for px in range(text_right)
        for py in range(height)
        if (px < band or py < band or py >= height - band) and pixels[px, py] < 128
    ]
    assert dark == []
    # Not vacuous: there is text just inside the margin.
    assert any(pixels[px, band + 2] < 128 for px in range(band, text_right))


def test_every_page_qr_decodes_to_the_protocol_url_at_203_dpi() -> None:
    other = "https://patolab.fcv.unlp.edu.ar/protocolos/123456/"
    pdf = render_labels([item(containers=2), item(containers=1, url=other)])
    images = render_pages(pdf)
    assert [decode_qr(image) for image in images] == [[URL], [URL], [other]]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/protocolos/1/",
        "http://127.0.0.1:8000/protocolos/1234567/",
        "https://patolab.fcv.unlp.edu.ar/protocolos/123456/",
    ],
)
def test_qr_module_is_at_least_0_4_mm_with_quiet_zone_inside_the_label(
    url: str,
) -> None:
    layout = qr_layout(url)
    modules = qr_modules(url, level=layout.level)
    total = modules + 2 * QUIET_ZONE_MODULES
    assert layout.modules == modules
    assert layout.side == pytest.approx(total * layout.module)
    assert layout.side <= LABEL_HEIGHT
    assert layout.module >= 0.4 * mm
    # At 203 dpi a module spans at least ~3 printer dots.
    assert layout.module / (25.4 * mm / PRINTER_DPI) >= 3.0


def test_common_urls_get_modules_of_whole_printer_dots() -> None:
    layout = qr_layout("http://127.0.0.1:8000/protocolos/1234/")
    assert layout.module_dots == pytest.approx(round(layout.module_dots))
    assert layout.module == pytest.approx(4 * DOT)


def test_quiet_zone_stays_blank_so_text_never_touches_the_qr() -> None:
    data = item(
        protocol_number="HP 26/123456", animal_name="W" * 60, species="Otro" * 20
    )
    layout = qr_layout(data.url)
    x, y = qr_origin(layout)
    image = render_pages(render_labels([data]))[0]
    s = PRINTER_SCALE
    left, right = round(x * s) + 1, round((x + layout.side) * s) - 1
    top = round((LABEL_HEIGHT - y - layout.side) * s) + 1
    bottom = round((LABEL_HEIGHT - y) * s) - 1
    inner = QUIET_ZONE_MODULES * layout.module * s - 2
    pixels = image.load()
    dark = [
        (px, py)
        for px in range(left, right)
        for py in range(top, bottom)
        if (
            px < left + inner
            or px > right - inner
            or py < top + inner
            or py > bottom - inner
        )
        and pixels[px, py] < 128
    ]
    assert dark == []
    # And the QR itself is there (the ring test is not vacuous).
    assert decode_qr(image) == [data.url]


def test_protocol_number_font_fits_the_text_column() -> None:
    from patolab.labels.render import GAP, TEXT_MARGIN, fit_size

    x, _y = qr_origin(qr_layout(URL))
    width = x - GAP - TEXT_MARGIN
    size = fit_size("HP 26/123456", BOLD, width, 11)
    assert size < 11
    assert pdfmetrics.stringWidth("HP 26/123456", BOLD, size) <= width


def test_same_data_renders_the_same_bytes() -> None:
    assert render_labels([item()]) == render_labels([item()])


def test_objects_formatted_once_per_process_give_reportlabs_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Font objects, Info, catalog, page tree and pages are formatted once per
    process and reused at the object numbers of the next document (they shift
    with the page count); a document comes out as from an empty cache, and as
    ReportLab formats it without the cache."""
    render_labels([item(containers=1)])
    several = [item(containers=3), item(animal_name="Zoë Ωmega 猫", containers=2)]
    warm = render_labels(several)
    formatted.cache_clear()
    assert render_labels(several) == warm
    monkeypatch.setattr(render, "format_once", lambda canvas: None)
    assert render_labels(several) == warm


def mixed_batch() -> list[LabelData]:
    return [item(containers=2), item(animal_name=LONG_NAME, url=URL + "9/")]


def test_same_labels_give_the_same_bytes_in_a_fresh_process() -> None:
    """This process has every per-process cache warm (font streams, formatted
    PDF objects, QR tables, claimed glyphs); a fresh worker process renders
    the same bytes (stored labels are found again by their SHA-256)."""
    import hashlib

    from patolab.core.tests.processes import sha256_in_fresh_process

    render_labels(mixed_batch())
    here = hashlib.sha256(render_labels(mixed_batch())).hexdigest()
    other = sha256_in_fresh_process(
        "from patolab.labels.tests.test_render import mixed_batch, render_labels",
        "render_labels(mixed_batch())",
    )
    assert other == here


def test_a_label_page_is_small_with_its_font_embedded() -> None:
    single = render_labels([item(animal_name=LONG_NAME, containers=1)])
    assert len(single) <= 12 * 1024
    assert b"/FontFile2" in single
