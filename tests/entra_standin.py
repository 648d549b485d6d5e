"""A stand-in for KS's Microsoft Entra ID tenant as a web app's OpenID provider, on loopback.

It serves what staff sign-in uses, at Entra's v2.0 paths under ``/{tenant}``:

* the OpenID configuration and the key set (JWKS);
* the authorization endpoint, which "signs in" the configured user at once (no page)
  and sends the browser back with ``code`` and ``state`` (or with ``error``);
* the token endpoint, which checks the client's credentials, the redirect URI and the
  PKCE ``code_verifier`` against the challenge sent with the authorization request, and
  answers with an ID token signed by the stand-in's RSA key (``nonce``, ``aud``,
  ``iss``, ``exp`` as Entra sets them).

Knobs: ``forge`` makes the next ID tokens wrong in one way (see FORGERIES); ``deny``
makes the authorization endpoint answer with an error; ``delay``, ``hang`` and ``fail``
make an endpoint slow, silent or failing; ``rotate_key`` publishes a new signing key.
No pytest imports: benches may use it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from jwt.algorithms import RSAAlgorithm

from tests.login_standin import hmac_token, new_rsa_key, public_pem, unsigned_token

ENDPOINTS = ("metadata", "keys", "authorize", "token")
# Ways an ID token can be wrong; each is refused by a correct relying party.
FORGERIES = (
    "wrong audience",
    "wrong issuer",
    "expired",
    "no expiry",
    "bad signature",
    "unknown key",
    "alg none",
    "HS256 with the public key",
    "no nonce",
    "other nonce",
)


def s256(verifier: str) -> str:
    """RFC 7636's S256 challenge, computed here independently of the code under test."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class Grant:
    """An authorization code handed out, and what it was handed out for."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: dict[str, Any]
    expires: float
    used: bool = False


@dataclass
class TokenCall:
    """One POST to the token endpoint (secrets kept only as "right or wrong")."""

    grant_type: str | None
    client_ok: bool
    code_known: bool
    verifier: str | None
    verifier_ok: bool
    redirect_uri: str | None
    status: int
    error: str | None = None


@dataclass
class User:
    """Who the authorization endpoint signs in (claims; None leaves one out)."""

    email: str | None = "kari.nordmann@ks.no"
    preferred_username: str | None = "kari.nordmann@ks.no"
    name: str = "Kari Nordmann"
    oid: str = field(default_factory=lambda: "0000-" + secrets.token_hex(8))


class EntraStandIn:
    """The fake tenant: discovery, keys, authorize, token."""

    def __init__(
        self,
        *,
        tenant: str = "5e6b0b8c-0000-4000-8000-00000000005e",
        client_id: str = "00000000-0000-4000-8000-0000000e0001",
        client_secret: str = "entra-stand-in-secret",
        code_lifetime: float = 600,
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.code_lifetime = code_lifetime
        self.user = User()
        self.forge: str | None = None
        self.deny: str | None = None  # e.g. "access_denied"
        self.key = new_rsa_key()
        self.kid = "entra-" + secrets.token_hex(6)
        self.port = 0
        self.requests: list[tuple[str, float]] = []
        self.authorizations: list[dict[str, str]] = []  # query of each authorize request
        self.token_calls: list[TokenCall] = []
        self.id_tokens: list[str] = []
        self._grants: dict[str, Grant] = {}
        self._delays: dict[str, float] = {}
        self._hanging: set[str] = set()
        self._failing: dict[str, int] = {}
        self._release = asyncio.Event()
        self._reached = {name: asyncio.Event() for name in ENDPOINTS}
        self._runner: web.AppRunner | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> EntraStandIn:
        app = web.Application()
        prefix = f"/{self.tenant}"
        app.router.add_get(f"{prefix}/v2.0/.well-known/openid-configuration", self._metadata)
        app.router.add_get(f"{prefix}/discovery/v2.0/keys", self._keys)
        app.router.add_get(f"{prefix}/oauth2/v2.0/authorize", self._authorize)
        app.router.add_post(f"{prefix}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EntraStandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- addresses ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.tenant}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/v2.0"

    @property
    def metadata_url(self) -> str:
        """For ENTRA_METADATA_URL."""
        return f"{self.base_url}/v2.0/.well-known/openid-configuration"

    def settings(self) -> dict[str, str]:
        """The settings that make the workspace sign staff in here."""
        return {
            "entra_tenant_id": self.tenant,
            "entra_client_id": self.client_id,
            "entra_client_secret": self.client_secret,
            "entra_metadata_url": self.metadata_url,
        }

    # --- behaviour ----------------------------------------------------------------------

    def sign_in_as(self, email: str | None, preferred_username: str | None = None) -> None:
        """The next sign-ins are this user (``preferred_username`` defaults to ``email``)."""
        self.user = User(email=email, preferred_username=preferred_username or email)

    def delay(self, seconds: float, endpoint: str | None = None) -> None:
        for name in (endpoint,) if endpoint else ENDPOINTS:
            self._delays[name] = seconds

    def hang(self, endpoint: str | None = None) -> None:
        """Never answer ``endpoint`` (None: all) until ``heal()`` or ``stop()``."""
        self._release.clear()
        self._hanging.update((endpoint,) if endpoint else ENDPOINTS)

    def fail(self, status: int, endpoint: str | None = None) -> None:
        for name in (endpoint,) if endpoint else ENDPOINTS:
            self._failing[name] = status

    def heal(self) -> None:
        self._delays.clear()
        self._hanging.clear()
        self._failing.clear()
        self._release.set()

    def rotate_key(self) -> None:
        """Sign with a new key from now on and publish only it (as Entra does, eventually)."""
        self.key = new_rsa_key()
        self.kid = "entra-" + secrets.token_hex(6)

    async def reached(self, endpoint: str) -> None:
        """Return once ``endpoint`` has been asked (at least once)."""
        await self._reached[endpoint].wait()

    def count(self, endpoint: str) -> int:
        return sum(1 for name, _ in self.requests if name == endpoint)

    # --- ID tokens ----------------------------------------------------------------------

    def claims(self, grant: Grant) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": "sub-" + grant.user["oid"],
            "oid": grant.user["oid"],
            "tid": self.tenant,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant.nonce,
            "name": grant.user["name"],
            "email": grant.user["email"],
            "preferred_username": grant.user["preferred_username"],
        }
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(self, grant: Grant) -> str:
        """The ID token for ``grant``, wrong in the way ``forge`` says (if set)."""
        claims = self.claims(grant)
        key, kid, forge = self.key, self.kid, self.forge
        if forge == "wrong audience":
            claims["aud"] = "11111111-1111-4111-8111-111111111111"
        elif forge == "wrong issuer":
            claims["iss"] = "https://login.microsoftonline.com/another-tenant/v2.0"
        elif forge == "expired":
            claims["iat"] = claims["nbf"] = claims["exp"] - 7200
            claims["exp"] -= 7200
        elif forge == "no expiry":
            del claims["exp"]
        elif forge == "bad signature":
            key = new_rsa_key()  # our kid, another key
        elif forge == "unknown key":
            key, kid = new_rsa_key(), "not-published"
        elif forge == "no nonce":
            claims.pop("nonce", None)
        elif forge == "other nonce":
            claims["nonce"] = "a-nonce-from-another-sign-in"
        header = {"kid": kid, "typ": "JWT"}
        if forge == "alg none":
            return unsigned_token(claims, header)
        if forge == "HS256 with the public key":
            return hmac_token(claims, public_pem(self.key), header)
        if forge is not None and forge not in FORGERIES:
            raise ValueError(f"unknown forgery {forge!r}")
        return jwt.encode(claims, key, algorithm="RS256", headers=header)

    # --- HTTP -----------------------------------------------------------------------------

    async def _behave(self, endpoint: str) -> web.Response | None:
        self.requests.append((endpoint, time.monotonic()))
        self._reached[endpoint].set()
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
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.base_url}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base_url}/oauth2/v2.0/token",
                "jwks_uri": f"{self.base_url}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "tenant_region_scope": "EU",
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        refused = await self._behave("keys")
        if refused is not None:
            return refused
        jwk = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update(use="sig", kid=self.kid, x5t=self.kid)
        decoy = {"kty": "EC", "use": "sig", "kid": "not-rsa", "crv": "P-256", "x": "", "y": ""}
        return web.json_response({"keys": [jwk, decoy]})

    async def _authorize(self, request: web.Request) -> web.Response:
        refused = await self._behave("authorize")
        if refused is not None:
            return refused
        query = dict(request.query)
        self.authorizations.append(query)
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect.startswith("http"):
            return web.Response(status=400, text="AADSTS700016: unknown application")
        back: dict[str, str] = {}
        if "state" in query:
            back["state"] = query["state"]
        problem = self._authorization_problem(query)
        if problem or self.deny:
            back.update(
                error=self.deny or "invalid_request",
                error_description=problem or "AADSTS65004: User declined to consent.",
            )
        else:
            code = "code-" + secrets.token_urlsafe(24)
            self._grants[code] = Grant(
                self.client_id,
                redirect,
                query["code_challenge"],
                query.get("nonce"),
                {
                    "email": self.user.email,
                    "preferred_username": self.user.preferred_username,
                    "name": self.user.name,
                    "oid": self.user.oid,
                },
                time.monotonic() + self.code_lifetime,
            )
            back["code"] = code
        raise web.HTTPFound(f"{redirect}?{urlencode(back)}")

    @staticmethod
    def _authorization_problem(query: dict[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "AADSTS700054: response_type 'code' expected"
        if "openid" not in query.get("scope", "").split():
            return "AADSTS900144: scope must include openid"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return "AADSTS501491: PKCE with S256 required by this stand-in"
        return None

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        refused = await self._behave("token")
        if refused is not None:
            return refused
        secret = form.get("client_secret")
        authorization = request.headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            pair = base64.b64decode(authorization[6:]).decode()
            client_id, _, secret = pair.partition(":")
        else:
            client_id = _text(form.get("client_id")) or ""
        client_ok = client_id == self.client_id and secret == self.client_secret
        code = _text(form.get("code")) or ""
        grant = self._grants.get(code)
        verifier = _text(form.get("code_verifier"))
        verifier_ok = bool(grant and verifier and s256(verifier) == grant.challenge)
        redirect = _text(form.get("redirect_uri"))
        call = TokenCall(
            _text(form.get("grant_type")),
            client_ok,
            grant is not None,
            verifier,
            verifier_ok,
            redirect,
            200,
        )
        self.token_calls.append(call)
        if not client_ok:
            call.status, call.error = 401, "invalid_client"
        elif call.grant_type != "authorization_code":
            call.status, call.error = 400, "unsupported_grant_type"
        elif grant is None or grant.used or grant.expires < time.monotonic():
            call.status, call.error = 400, "invalid_grant"
        elif redirect != grant.redirect_uri or not verifier_ok:
            call.status, call.error = 400, "invalid_grant"
        if grant is not None:
            grant.used = True  # a code is good for one try, right or wrong
        if call.error is not None:
            return web.json_response(
                {"error": call.error, "error_description": f"AADSTS: {call.error}"},
                status=call.status,
            )
        assert grant is not None
        token = self.id_token(grant)
        self.id_tokens.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "scope": "openid profile email",
                "expires_in": 3600,
                "access_token": "access-" + secrets.token_urlsafe(16),
                "id_token": token,
            }
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
