"""Who may read /metrics: a caller with the bearer token METRICS_TOKEN, or one whose address is
in METRICS_ALLOW_CIDRS (default: this machine only). The metrics hold no patient data, but
they show how the service is used and should not be public."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Response, current_app, jsonify, request


def _token_matches() -> bool:
    expected = current_app.config.get("METRICS_TOKEN")
    scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), str(expected).encode())


def _address_allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False)
               for cidr in current_app.config.get("METRICS_ALLOW_CIDRS") or [])


def denial() -> Response | None:
    """None when the caller may read the metrics, else the 401/403 response to send."""
    if _token_matches() or _address_allowed():
        return None
    if current_app.config.get("METRICS_TOKEN"):
        response = jsonify(error="A valid bearer token is required.")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = jsonify(error="Metrics are not served to this network.")
    response.status_code = 403
    return response
