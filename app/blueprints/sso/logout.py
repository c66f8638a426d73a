"""The hook the password login's logout calls before it ends the session: the way on to the
identity provider's own logout, when this session came from it. Not a route: the auth blueprint
imports this module, never the SSO routes."""

from __future__ import annotations

from flask import current_app, session, url_for

from app.blueprints.sso import client

ID_TOKEN_KEY = "sso_id_token"  # noqa: S105  (a session key, not a secret)


def logout_redirect() -> str | None:
    """Called by logout before the session ends. When this session came from SSO and the provider
    offers RP-initiated logout, the local page that sends the browser on to it; else None.

    The provider is reached from a page of ours, not straight from the logout form's redirect:
    the CSP's `form-action 'self'` would stop a form submission redirected to another origin."""
    id_token = session.pop(ID_TOKEN_KEY, None)
    if id_token is None or not client.enabled():
        return None
    try:
        endpoint = client.metadata().get("end_session_endpoint")
    except client.SsoUnavailable:
        return None
    if not endpoint:
        return None
    target = client.client().create_logout_url(
        post_logout_redirect_uri=url_for("auth.login", _external=True), id_token_hint=id_token,
        client_id=current_app.config["OIDC_CLIENT_ID"])["url"]
    return url_for("sso.signed_out", next=target)
