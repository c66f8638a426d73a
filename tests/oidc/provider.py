"""Start the real OpenID provider (tests/oidc/provider.mjs, npm `oidc-provider`) and drive it over
HTTP the way a browser would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
PASSWORD = "correct horse"
SECRET = "test-client-secret"


@dataclass
class Provider:
    issuer: str
    accounts_file: Path

    def set_accounts(self, accounts: dict) -> None:
        self.accounts_file.write_text(json.dumps(accounts))


def clients(redirect_uri: str = "http://localhost/sso/callback") -> list[dict]:
    web = {"client_secret": SECRET, "redirect_uris": [redirect_uri],
           "post_logout_redirect_uris": [urljoin(redirect_uri, "/auth/login")]}
    return [{"client_id": "moodlens", **web}, {"client_id": "another-app", **web},
            {"client_id": "short-lived", **web}]


@contextmanager
def running_provider(tmp: Path, client_list: list[dict] | None = None):
    if shutil.which("node") is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("needs Node and `npm ci` (the oidc-provider devDependency)")
    accounts = tmp / "accounts.json"
    accounts.write_text("{}")
    config = tmp / "provider.json"
    config.write_text(json.dumps({"port": 0, "accountsFile": str(accounts),
                                  "clients": client_list or clients()}))
    log = open(tmp / "provider.log", "w+")
    process = subprocess.Popen(["node", str(SCRIPT), str(config)], cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        issuer = None
        while issuer is None:
            log.seek(0)
            for line in log.read().splitlines():
                if line.startswith("listening "):
                    issuer = line.split()[1]
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError("the OpenID provider did not start:\n" + log.read())
            time.sleep(0.1)
        yield Provider(issuer=issuer, accounts_file=accounts)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def sign_in_at_provider(authorize_url: str, login: str, redirect_prefix: str,
                        browser: requests.Session | None = None) -> str:
    """Follow the provider's pages from the authorization URL, sign in as `login`, and return the
    URL it sends the browser back to (starting with `redirect_prefix`)."""
    browser = browser or requests.Session()
    url = authorize_url
    for _ in range(10):
        if url.startswith(redirect_prefix):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "/interaction/" in url:
            response = browser.post(urljoin(url, urlparse(url).path + "/login"),
                                    data={"login": login, "password": PASSWORD},
                                    allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        url = urljoin(url, response.headers["Location"])
    raise AssertionError("the provider never redirected back")


def obtain_tokens(provider: Provider, client_id: str, login: str,
                  redirect_uri: str = "http://localhost/sso/callback") -> dict:
    """The code flow with PKCE and a nonce, as a plain client: returns the token response + nonce."""
    metadata = requests.get(provider.issuer + "/.well-known/openid-configuration", timeout=10).json()
    verifier, nonce, state = (secrets.token_urlsafe(48), secrets.token_urlsafe(16),
                              secrets.token_urlsafe(16))
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = metadata["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
        "scope": "openid email profile", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    back = sign_in_at_provider(authorize, login, redirect_uri)
    code = parse_qs(urlparse(back).query)["code"][0]
    tokens = requests.post(metadata["token_endpoint"], auth=(client_id, SECRET), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier}).json()
    return {**tokens, "nonce": nonce}
