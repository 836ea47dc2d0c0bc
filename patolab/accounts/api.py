from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from .services import api_token_create

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str


@router.post("/token", auth=None, response=TokenOut, url_name="auth_token")
def auth_token(request: HttpRequest, payload: TokenIn) -> dict[str, str]:
    return {
        "token": api_token_create(
            username=payload.username, password=payload.password, request=request
        )
    }
