"""DRF authentication by API token: `Authorization: Token KEY` (DESIGN.md section 6).

Listed first in REST_FRAMEWORK's authentication classes, so an unauthenticated API request gets
401 with `WWW-Authenticate: Token` (session authentication is tried second, for signed-in pages
calling the API; it enforces CSRF on unsafe methods).

Every refused key gets the same 401 message, whether it is unknown, revoked, expired or belongs
to an inactive user, so the answer tells a guesser nothing. Each refusal is audited as
"sign_in_failed" with the reason and, for a known token, its id: never the key or any part of it.
If that record cannot be written, AuditUnavailable propagates and the request gets a 503.
"""

from __future__ import annotations

from typing import Any, NoReturn

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from complexcases.accounts.models import ApiToken
from complexcases.accounts.tokens import api_token_check
from complexcases.core.audit import audit_record
from complexcases.core.models import AuditAction, AuditOutcome

KEYWORD = "Token"
REFUSED_MESSAGE = "Invalid or expired token."
# secrets.token_urlsafe(32) gives 43 characters; anything far longer is not a key.
MAX_KEY_LENGTH = 200


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Token KEY` -> (user, ApiToken). No header, or another scheme -> None."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2 or len(parts[1]) > MAX_KEY_LENGTH:
            self._refuse(request, "malformed", None)
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            self._refuse(request, "malformed", None)
        check = api_token_check(key)
        if not check.accepted or check.token is None:
            self._refuse(request, check.reason, check.token)
        return check.token.user, check.token

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD

    def _refuse(self, request: Request, reason: str, token: ApiToken | None) -> NoReturn:
        details: dict[str, Any] = {"reason": reason, "method": "api_token"}
        if token is not None:
            details["token_id"] = token.pk
            details["attempted_username"] = token.user.username
        audit_record(
            actor=None,
            action=AuditAction.SIGN_IN_FAILED,
            outcome=AuditOutcome.FAILED,
            object_type="api_token",
            object_id=token.pk if token is not None else "",
            request=request._request,
            details=details,
        )
        raise AuthenticationFailed(REFUSED_MESSAGE)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (drf-spectacular) describes TokenAuthentication."""

    target_class = "complexcases.accounts.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        definition = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=KEYWORD
        )
        definition["description"] = (
            "`Authorization: Token KEY`, with a key from `python manage.py issue_api_token USERNAME`."
        )
        return definition
