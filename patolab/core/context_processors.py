from django.conf import settings
from django.http import HttpRequest


def lab(request: HttpRequest) -> dict[str, object]:
    return {"LAB_NAME": settings.LAB_NAME, "SITE_URL": settings.SITE_URL}
