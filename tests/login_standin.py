"""A stand-in for Microsoft's sign-in endpoints a Teams bot depends on, on loopback.

* ``login.botframework.com``: the OpenID metadata document and the key set (JWKS,
  each key with its ``endorsements``: the channels it may vouch for) that incoming
  tokens are checked against. ``mint()`` signs tokens with the stand-in's own RSA key,
  as the Bot Connector signs what it sends a bot, and can forge the shapes an attacker
  would try (another algorithm, another key, another issuer).
* ``login.microsoftonline.com``: the OAuth token endpoint where the bot gets its own
  token (client credentials) for calling the Bot Connector.

Any endpoint can be made slow (``delay``) or to never answer (``hang``), which is what
the freeze tests need. No pytest imports: benches may use it.

Usage::

    async with LoginStandIn() as login:
        env = login.bot_env()  # TEAMS_ENABLED, the app's credentials, these addresses
        headers = {"Authorization": login.authorization(app_id, service_url)}
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
# The Bot Framework Emulator's issuer (its Entra tenant): valid for the Emulator only.
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
# Channels Microsoft's keys are endorsed for (the real list is longer).
ENDORSEMENTS = ("msteams", "skype", "webchat", "directline", "slack", "telegram", "email")
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
ENDPOINTS = ("metadata", "keys", "token")


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned_token(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    """A JWT with ``alg: none`` and no signature (the oldest forgery there is)."""
    head = {"alg": "none", "typ": "JWT", **(header or {})}
    return f"{_b64url(_json(head))}.{_b64url(_json(claims))}."


def hmac_token(claims: dict[str, Any], secret: bytes, header: dict[str, Any] | None = None) -> str:
    """A JWT "signed" with HS256 and a shared secret (PyJWT refuses to make one with a
    public key as the secret, which is exactly the algorithm-confusion forgery)."""
    head = {"alg": "HS256", "typ": "JWT", **(header or {})}
    signing_input = f"{_b64url(_json(head))}.{_b64url(_json(claims))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class TokenRequest:
    """One POST to the token endpoint (the secret is kept only as "right or wrong")."""

    tenant: str
    grant_type: str | None
    client_id: str | None
    secret_ok: bool
    scope: str | None
    status: int
    at: float


class LoginStandIn:
    """The fake sign-in service: metadata, key set, token endpoint, and token minting."""

    def __init__(
        self,
        *,
        app_id: str = "00000000-0000-4000-8000-00000000b075",
        app_password: str = "stand-in-secret",
        endorsements: tuple[str, ...] = ENDORSEMENTS,
        token_lifetime: int = 3599,
    ) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.endorsements = list(endorsements)
        self.token_lifetime = token_lifetime
        self.key = new_rsa_key()
        self.kid = "standin-" + hashlib.sha256(public_pem(self.key)).hexdigest()[:16]
        self.port = 0
        self.requests: list[tuple[str, float]] = []  # (endpoint, when) of every request
        self.token_requests: list[TokenRequest] = []
        self.issued: list[str] = []  # bot tokens handed out, in order
        self._delays: dict[str, float] = {}
        self._hanging: set[str] = set()
        self._failing: dict[str, int] = {}
        self._release = asyncio.Event()
        self._counter = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> LoginStandIn:
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._release.set()  # hanging requests end, so the server can shut down
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> LoginStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- addresses ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        """For TEAMS_OPENID_METADATA_URL."""
        return self.base_url + METADATA_PATH

    @property
    def login_url(self) -> str:
        """For MICROSOFT_LOGIN_URL (the token endpoint is ``{login_url}/{tenant}/oauth2/v2.0/token``)."""
        return self.base_url

    def bot_env(self) -> dict[str, str]:
        """The settings that make a Lyttepost process a Teams bot signing in here."""
        return {
            "TEAMS_ENABLED": "true",
            "MICROSOFT_APP_ID": self.app_id,
            "MICROSOFT_APP_PASSWORD": self.app_password,
            "TEAMS_OPENID_METADATA_URL": self.metadata_url,
            "MICROSOFT_LOGIN_URL": self.login_url,
        }

    # --- behaviour ----------------------------------------------------------------------

    def delay(self, seconds: float, endpoint: str | None = None) -> None:
        """Answer ``endpoint`` (metadata, keys, token; None: all) ``seconds`` late."""
        for name in (endpoint,) if endpoint else ENDPOINTS:
            self._delays[name] = seconds

    def hang(self, endpoint: str | None = None) -> None:
        """Never answer ``endpoint`` (None: all) until ``heal()`` or ``stop()``."""
        self._release.clear()
        self._hanging.update((endpoint,) if endpoint else ENDPOINTS)

    def fail(self, status: int, endpoint: str | None = None) -> None:
        """Answer ``status`` on ``endpoint`` (None: all) until ``heal()``."""
        for name in (endpoint,) if endpoint else ENDPOINTS:
            self._failing[name] = status

    def heal(self) -> None:
        """Answer promptly again; requests left hanging are answered now."""
        self._delays.clear()
        self._hanging.clear()
        self._failing.clear()
        self._release.set()

    def count(self, endpoint: str) -> int:
        return sum(1 for name, _ in self.requests if name == endpoint)

    # --- tokens the Bot Connector would send ---------------------------------------------

    def claims(
        self, audience: str | None = None, service_url: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """What a Bot Connector token says: issuer, audience, times, serviceurl."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "aud": audience if audience is not None else self.app_id,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + 3600,
        }
        if service_url is not None:
            claims["serviceurl"] = service_url
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(
        self,
        audience: str | None = None,
        service_url: str | None = None,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        **extra: Any,
    ) -> str:
        """A token signed like the Bot Connector's (the stand-in's key, RS256) unless told
        otherwise; ``extra`` claims override (``iss=...``, ``exp=...``; None removes one)."""
        return jwt.encode(
            self.claims(audience, service_url, **extra),
            key or self.key,
            algorithm=algorithm,
            headers={"kid": kid or self.kid, "typ": "JWT"},
        )

    def authorization(
        self, audience: str | None = None, service_url: str | None = None, **extra: Any
    ) -> str:
        """``Bearer <token>`` for an Authorization header."""
        return "Bearer " + self.mint(audience, service_url, **extra)

    # --- HTTP -----------------------------------------------------------------------------

    async def _behave(self, endpoint: str) -> web.Response | None:
        self.requests.append((endpoint, time.monotonic()))
        if endpoint in self._hanging:
            await self._release.wait()
        delay = self._delays.get(endpoint)
        if delay:
            await asyncio.sleep(delay)
        status = self._failing.get(endpoint)
        if status:
            return web.json_response({"error": "temporarily_unavailable"}, status=status)
        return None

    async def _metadata(self, request: web.Request) -> web.Response:
        refused = await self._behave("metadata")
        if refused is not None:
            return refused
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.base_url + KEYS_PATH,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        refused = await self._behave("keys")
        if refused is not None:
            return refused
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update(use="sig", kid=self.kid, endorsements=list(self.endorsements))
        decoy = {"kty": "EC", "use": "sig", "kid": "not-rsa", "crv": "P-256", "x": "", "y": ""}
        return web.json_response({"keys": [jwk, decoy]})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()  # read first: a client that gives up closes the stream
        refused = await self._behave("token")
        if refused is not None:
            return refused
        secret_ok = form.get("client_secret") == self.app_password
        client_ok = form.get("client_id") == self.app_id
        grant_ok = form.get("grant_type") == "client_credentials"
        status = 200 if secret_ok and client_ok and grant_ok else 401
        self.token_requests.append(
            TokenRequest(
                request.match_info["tenant"],
                _text(form.get("grant_type")),
                _text(form.get("client_id")),
                secret_ok,
                _text(form.get("scope")),
                status,
                time.monotonic(),
            )
        )
        if status != 200:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret.",
                },
                status=401,
            )
        token = f"bot-token-{next(self._counter)}"
        self.issued.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def forgeries(login: LoginStandIn, app_id: str, service_url: str) -> dict[str, str]:
    """Tokens an attacker can make for a request to ``app_id`` from ``service_url``, each
    with one property wrong (and a few that are not tokens at all)."""
    claims = login.claims(app_id, service_url)
    other_key = new_rsa_key()
    now = int(time.time())
    return {
        "alg none": unsigned_token(claims, {"kid": login.kid}),
        # HS256 "signed" with the public key: the classic algorithm confusion.
        "HS256": hmac_token(claims, public_pem(login.key), {"kid": login.kid}),
        "unknown key id": login.mint(app_id, service_url, key=other_key, kid="not-published"),
        "our kid, another key": login.mint(app_id, service_url, key=other_key),
        # Signed with a real channel key, but claiming the Emulator's issuer.
        "emulator issuer": login.mint(app_id, service_url, iss=EMULATOR_ISSUER),
        "other audience": login.mint("11111111-1111-4111-8111-111111111111", service_url),
        "expired": login.mint(app_id, service_url, exp=now - 600),
        "no expiry": login.mint(app_id, service_url, exp=None),
        "other serviceUrl": login.mint(app_id, "https://evil.example/"),
        "no serviceurl": login.mint(app_id, None),
        "RS512": login.mint(app_id, service_url, algorithm="RS512"),
        "garbage": "not.a.jwt",
        "non-ascii": "eyJhbGciOiJSUzI1NiJ9.æøå.x",
    }
