"""The Authlib OpenID Connect client: discovery, the code flow with PKCE, state and nonce, and
ID-token validation against the issuer's JWKS.

`state` (with the nonce and the PKCE verifier) is kept in Redis, not only in the signed session
cookie: a callback is accepted once, and replaying an old cookie with an old callback URL finds
nothing. The discovery document is read at start-up; when the issuer does not answer, the error
is logged and reading is retried at the next SSO sign-in, while password login keeps working.
"""

from __future__ import annotations

import logging

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError

log = logging.getLogger(__name__)

CLIENT_NAME = "hospital"
STATE_TTL_SECONDS = 600
# Everything that can go wrong between the browser coming back and a validated ID token.
FLOW_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError)


class SsoUnavailable(Exception):
    """The provider cannot be used right now (discovery failed, misconfigured issuer)."""


class RedisStateCache:
    """The cache interface Authlib uses for state data, on MoodLens's Redis."""

    def __init__(self, app: Flask):
        self.app = app

    def _redis(self):
        return self.app.extensions["moodlens_redis"]

    def get(self, key: str):
        value = self._redis().get("moodlens:oidc:" + key)
        return value.decode() if value is not None else None

    def set(self, key: str, value: str, expires_in: int | None = None) -> None:
        self._redis().set("moodlens:oidc:" + key, value, ex=expires_in or STATE_TTL_SECONDS)

    def delete(self, key: str) -> None:
        self._redis().delete("moodlens:oidc:" + key)


def enabled(app: Flask | None = None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def register(app: Flask) -> None:
    if not enabled(app):
        return
    oauth = OAuth(app, cache=RedisStateCache(app))
    oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": app.config["OIDC_TIMEOUT_SECONDS"]},
    )
    app.extensions["moodlens_oidc"] = oauth
    try:
        with app.app_context():
            metadata()
    except SsoUnavailable as error:
        log.error("SSO: %s Password login keeps working; SSO is retried at the next attempt.", error)


def client():
    return current_app.extensions["moodlens_oidc"].create_client(CLIENT_NAME)


def metadata() -> dict:
    """The issuer's discovery document, read once and checked to name the configured issuer."""
    remote = client()
    issuer = current_app.config["OIDC_ISSUER"]
    try:
        document = remote.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise SsoUnavailable(f"cannot read the discovery document of {issuer}: {error}") from error
    if document.get("issuer", "").rstrip("/") != issuer:
        remote.server_metadata.clear()
        raise SsoUnavailable(f"the discovery document at {issuer} names another issuer "
                             f"({document.get('issuer')!r}); check OIDC_ISSUER.")
    return document


def validate_id_token(id_token: str, nonce: str, access_token: str | None = None) -> dict:
    """Validate an ID token as the callback does (signature against the JWKS, issuer, audience,
    expiry with OIDC_CLOCK_SKEW_SECONDS of leeway, nonce, at_hash); returns its claims."""
    token = {"id_token": id_token}
    if access_token:
        token["access_token"] = access_token
    return dict(client().parse_id_token(token, nonce=nonce,
                                        leeway=current_app.config["OIDC_CLOCK_SKEW_SECONDS"]))
