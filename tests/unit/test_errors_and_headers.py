"""Error pages, the htmx error fragment, JSON errors and security headers."""

from tests.helpers import csrf_token


def test_unknown_route_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Page not found" in response.data and b"<nav" in response.data


def test_htmx_error_is_a_fragment_aimed_at_the_message_area(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#messages"
    assert b"<nav" not in response.data and b"Page not found" in response.data


def test_api_errors_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_oversized_body_is_413_with_message(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    with app.app_context():
        token = csrf_token(client, "/auth/register")
        response = client.post("/auth/register", data={"csrf_token": token, "full_name": "x" * 5000})
    assert response.status_code == 413
    assert b"larger than MoodLens accepts" in response.data


def test_unexpected_error_is_a_500_page_not_a_traceback(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("kaboom")

    response = client.get("/boom-for-test")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.data and b"kaboom" not in response.data


def test_security_headers(client):
    headers = client.get("/auth/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["Permissions-Policy"].startswith("camera=(self)")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in headers["Vary"]
    assert "Strict-Transport-Security" not in headers


def test_production_config_adds_hsts_and_secure_cookies(app_factory):
    from config import ProductionConfig

    app = app_factory(HSTS=ProductionConfig.HSTS, SESSION_COOKIE_SECURE=True, ENV_NAME="production",
                      MEDIA_ENCRYPTION_KEY="ab" * 32, AUDIT_HMAC_KEY="cd" * 32)
    response = app.test_client().get("/auth/login")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_secret_key(tmp_path):
    import pytest

    from app import create_app
    from app.security.production_secrets import MissingSecretsError
    from config import ProductionConfig

    config = type("P", (ProductionConfig,), {"SECRET_KEY": None, "INSTANCE_PATH": tmp_path,
                                             "REDIS_URL": "redis://127.0.0.1:1/0"})
    with pytest.raises(MissingSecretsError, match="SECRET_KEY is not set"):
        create_app(config)
