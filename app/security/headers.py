"""HTTP security headers on every response.

The CSP allows no inline script at all (htmx and our JS are files under /static); styles
come from files too. `camera=(self)` rather than `camera=()`: the latter, a default of some
header packages, silently breaks in-page recording.
"""

from __future__ import annotations

from flask import Flask

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def register(app: Flask) -> None:
    cdn = "https://unpkg.com" if app.config.get("HTMX_CDN") else ""
    csp = CSP.replace("script-src 'self'", f"script-src 'self' {cdn}".rstrip())

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        # Pages differ for htmx requests (fragment vs. whole page) and for each user.
        headers.add("Vary", "HX-Request")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
