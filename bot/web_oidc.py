"""Staff sign in with Microsoft Entra ID: OpenID Connect, authorization code flow with PKCE.

``GET /logg-inn/entra`` sends the browser to KS's tenant; ``GET /logg-inn/entra/svar``
takes it back, exchanges the code (with the PKCE verifier and the client secret) for an
ID token, checks the token (signature against the tenant's published keys, issuer,
audience, expiry, nonce) and lets in the *active* staff account with the token's e-mail
address. What "signed in" and "refused" look like is the workspace's business
(``on_signed_in``, ``on_refused``): this module never opens a session. See
docs/decisions/0016.

Every call to Microsoft is made with aiohttp under a hard deadline, so a slow or hanging
Entra costs the one sign-in a refusal after ``timeout`` seconds and holds up nothing
else. The OpenID configuration and the signing keys are fetched when first needed and
cached for a day; a token naming a key we do not know makes one more fetch, at most
every five minutes.

Authlib's httpx client warns on import that it is deprecated (it wants ``httpx2``), so
Authlib is used where it needs no transport: the PKCE challenge, the authorization URL,
the token request and the ID token's claim checks (``CodeIDToken``); joserfc, which
Authlib builds on, checks the signature.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import ipaddress
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from authlib.oauth2.rfc6749.parameters import (  # type: ignore[import-untyped]
    prepare_grant_uri,
    prepare_token_request,
)
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from bot.settings import Settings
from services import staff_access
from services.staff import EMAIL, StaffView, active_by_email, normalise_email, view
from storage.sessions import Sessions

log = logging.getLogger(__name__)

START_PATH = "/logg-inn/entra"
CALLBACK_PATH = "/logg-inn/entra/svar"
COOKIE_NAME = "lyttepost_entra"
SCOPE = "openid profile email"
ALGORITHMS = ("RS256",)  # what Entra signs ID tokens with; nothing else is accepted
DEFAULT_TIMEOUT_SECONDS = 10.0
PENDING_SECONDS = 10 * 60  # how long a started sign-in may take (Entra's codes live 10 min)
MAX_PENDING = 3  # sign-ins started in other tabs of the same browser stay valid
CLOCK_SKEW_SECONDS = 2 * 60
CACHE_SECONDS = 24 * 3600  # the OpenID configuration and the key set
UNKNOWN_KEY_REFRESH_SECONDS = 5 * 60

# What the browser is shown (the workspace renders it); bokmål.
UNAVAILABLE = (
    "Innlogging med Microsoft er ikke tilgjengelig akkurat nå. Prøv igjen om litt, "
    "eller be en administrator om en innloggingslenke."
)
CANCELLED = "Innloggingen hos Microsoft ble avbrutt, så du er ikke logget inn. Du kan prøve igjen når du vil."
MICROSOFT_ERROR = "Microsoft kunne ikke logge deg inn (feilkode {code}). Prøv igjen, eller kontakt en administrator."
START_AGAIN = (
    "Innloggingen kunne ikke fullføres: den er for gammel, eller den ble startet i en annen "
    "nettleser. Start innloggingen på nytt."
)
NOT_CONFIRMED = (
    "Vi kunne ikke bekrefte innloggingen fra Microsoft. Start på nytt; skjer det igjen, "
    "kontakt en administrator."
)
NO_EMAIL = (
    "Microsoft-kontoen din oppgir ingen e-postadresse, så vi finner ikke kontoen din i "
    "Lyttepost. Kontakt en administrator."
)
NO_ACCOUNT = (
    "{email} har ingen aktiv konto i Lyttepost. Er du logget inn hos Microsoft med feil "
    "konto, kan du logge ut der og prøve igjen; ellers kan en administrator gi deg tilgang."
)
BLOCKED = "For mange mislykkede innlogginger fra din adresse. Prøv igjen om {minutes} minutter."

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in did not happen: ``message`` for the browser (bokmål, plain text, to
    be escaped by the template), the HTTP ``status`` to answer with, and for 429 the
    seconds until the address may try again (also sent as ``Retry-After``)."""

    message: str
    status: int
    retry_after: int | None = None


SignedInHandler = Callable[[web.Request, StaffView], Awaitable[web.StreamResponse]]
RefusedHandler = Callable[[web.Request, Refusal], Awaitable[web.StreamResponse]]


def remote_address(request: web.Request) -> str:
    """The peer's IP address. Behind a reverse proxy this is the proxy's: pass a function
    that trusts its X-Forwarded-For instead (every sign-in would share one limit)."""
    return request.remote or "unknown"


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --- the sign-ins under way, in an encrypted cookie --------------------------------------


@dataclass(frozen=True)
class Pending:
    """One sign-in started in this browser: what the callback must match and prove."""

    state: str
    nonce: str
    verifier: str
    started: float  # Unix time


def cookie_secure(base_url: str) -> bool:
    """Cookies are Secure unless the workspace is served over plain HTTP on loopback."""
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


class StateCookie:
    """The state, nonce and PKCE verifier of the sign-ins under way, kept in the browser.

    Encrypted and authenticated (Fernet) under a key derived from ENTRA_CLIENT_SECRET, so
    any process of the deployment can read it (no shared store, no new setting), nobody
    can read or forge it, and it dies after PENDING_SECONDS. HttpOnly, SameSite=Lax (the
    redirect back from Microsoft is a top-level GET, which Lax lets through), limited to
    the sign-in's own paths.
    """

    def __init__(self, client_secret: str, *, secure: bool) -> None:
        key = HKDF(
            algorithm=SHA256(), length=32, salt=None, info=b"lyttepost entra sign-in state v1"
        ).derive(client_secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.secure = secure

    def read(self, request: web.Request, now: float) -> list[Pending]:
        """The sign-ins under way (expired ones dropped); none for a missing or bad cookie."""
        value = request.cookies.get(COOKIE_NAME)
        if not value:
            return []
        try:
            entries = json.loads(self._fernet.decrypt(value.encode(), ttl=PENDING_SECONDS))
            pending = [Pending(str(s), str(n), str(v), float(t)) for s, n, v, t in entries]
        except (InvalidToken, ValueError, TypeError):
            return []
        return [p for p in pending if 0 <= now - p.started < PENDING_SECONDS]

    def write(self, response: web.StreamResponse, pending: list[Pending]) -> None:
        """Keep ``pending`` in the browser, or drop the cookie when nothing is under way."""
        if pending:
            entries = [[p.state, p.nonce, p.verifier, p.started] for p in pending[-MAX_PENDING:]]
            response.set_cookie(
                COOKIE_NAME,
                self._fernet.encrypt(json.dumps(entries).encode()).decode(),
                max_age=PENDING_SECONDS,
                path=START_PATH,
                secure=self.secure,
                httponly=True,
                samesite="Lax",
            )
        else:
            response.del_cookie(
                COOKIE_NAME, path=START_PATH, secure=self.secure, httponly=True, samesite="Lax"
            )


# --- the provider ------------------------------------------------------------------------


class ProviderUnavailable(Exception):
    """Entra did not answer in time or not usefully: nobody's fault, not counted."""


class SignInRejected(Exception):
    """The sign-in is refused; the message says why, for the log (no secrets)."""


@dataclass(frozen=True)
class ProviderMetadata:
    """What the tenant's OpenID configuration says that a sign-in needs."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _safe(value: object, limit: int = 60) -> str:
    """A value from outside, fit for a log line or a page: short and plain."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "?", str(value))[:limit]


class EntraProvider:
    """KS's Entra tenant as seen by the workspace: configuration, keys, code exchange.

    Fetches of the configuration and of the keys are shared by concurrent sign-ins (one
    in flight at a time, ``asyncio.shield``: a sign-in that gives up does not cancel it
    for the others).
    """

    def __init__(
        self,
        metadata_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metadata_url = metadata_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = -math.inf
        self._keys: dict[str, RSAKey] = {}
        self._keys_at = -math.inf
        self._looked_for_unknown_at = -math.inf
        self._inflight: dict[str, asyncio.Task[Any]] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        for task in self._inflight.values():
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _shared(self, name: str, fetch: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._inflight.get(name)
        if task is None or task.done():
            task = asyncio.create_task(fetch())
            # A fetch outlived by every caller still has its outcome read (no warning).
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._inflight[name] = task
        result: T = await asyncio.shield(task)
        return result

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._client().get(url) as response:
                if response.status != 200:
                    raise ProviderUnavailable(f"{what}: HTTP {response.status}")
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise ProviderUnavailable(f"{what}: {type(error).__name__}") from None
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{what}: not a JSON object")
        return document

    async def metadata(self) -> ProviderMetadata:
        """The tenant's OpenID configuration (cached; a stale copy beats none)."""
        if self._metadata is not None and time.monotonic() - self._metadata_at < CACHE_SECONDS:
            return self._metadata
        try:
            return await self._shared("metadata", self._fetch_metadata)
        except ProviderUnavailable:
            if self._metadata is not None:
                return self._metadata
            raise

    async def _fetch_metadata(self) -> ProviderMetadata:
        document = await self._get_json(self.metadata_url, "OpenID configuration")
        fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        values = [document.get(name) for name in fields]
        strings = [value for value in values if isinstance(value, str) and value]
        if len(strings) != len(fields):
            raise ProviderUnavailable("OpenID configuration: a required field is missing")
        metadata = ProviderMetadata(*strings)
        if "{tenantid}" in metadata.issuer:
            log.error(
                "workspace: ENTRA_TENANT_ID must be KS's own tenant, not common or "
                "organizations: no ID token can match issuer %s",
                metadata.issuer,
            )
        self._metadata, self._metadata_at = metadata, time.monotonic()
        return metadata

    async def signing_key(self, key_id: str) -> RSAKey | None:
        """The tenant's key with this id, or None when the key set has none such.

        The keys are read when first needed and after a day; a token naming a key we do
        not know (Microsoft may have published a new one) reads them again at most every
        UNKNOWN_KEY_REFRESH_SECONDS, so made-up key ids cannot make us hammer Microsoft."""
        now = time.monotonic()
        key = self._keys.get(key_id)
        unknown = key is None and now - self._looked_for_unknown_at >= UNKNOWN_KEY_REFRESH_SECONDS
        if not self._keys or now - self._keys_at >= CACHE_SECONDS or unknown:
            if unknown and self._keys:
                self._looked_for_unknown_at = now
            try:
                await self._shared("keys", self._fetch_keys)
            except ProviderUnavailable:
                if not self._keys:
                    raise
            key = self._keys.get(key_id)
        return key

    async def _fetch_keys(self) -> None:
        metadata = await self.metadata()
        document = await self._get_json(metadata.jwks_uri, "signing keys")
        entries = document.get("keys")
        keys: dict[str, RSAKey] = {}
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
                continue
            try:
                keys[kid] = RSAKey.import_key(entry)
            except (JoseError, ValueError, TypeError):
                log.warning("workspace: skipping an unreadable Entra signing key (%s)", _safe(kid))
        if not keys:
            raise ProviderUnavailable("signing keys: no usable RSA key")
        self._keys, self._keys_at = keys, time.monotonic()

    def authorization_url(self, metadata: ProviderMetadata, pending: Pending, redirect: str) -> str:
        """Where the browser signs in: code flow, PKCE S256, our state and nonce."""
        url: str = prepare_grant_uri(
            metadata.authorization_endpoint,
            self.client_id,
            "code",
            redirect,
            SCOPE,
            pending.state,
            code_challenge=create_s256_code_challenge(pending.verifier),
            code_challenge_method="S256",
            nonce=pending.nonce,
            response_mode="query",
        )
        return url

    async def exchange(
        self, metadata: ProviderMetadata, code: str, verifier: str, redirect: str
    ) -> dict[str, Any]:
        """The token endpoint's answer for ``code``; ``SignInRejected`` when it refuses."""
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=redirect,
            client_id=self.client_id,
            client_secret=self._client_secret,
            code_verifier=verifier,
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        try:
            async with self._client().post(
                metadata.token_endpoint, data=body, headers=headers
            ) as response:
                status = response.status
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ProviderUnavailable(f"token endpoint: {type(error).__name__}") from None
        if status >= 500 or not isinstance(answer, dict):
            raise ProviderUnavailable(f"token endpoint: HTTP {status}")
        if status != 200:
            raise SignInRejected(
                f"the token endpoint refused the code (HTTP {status} {_safe(answer.get('error'))})"
            )
        return answer

    async def verify(self, id_token: object, nonce: str, access_token: object) -> dict[str, Any]:
        """The claims of an ID token that passes every check; ``SignInRejected`` otherwise."""
        if not isinstance(id_token, str) or not id_token.isascii():
            raise SignInRejected("the token endpoint gave no ID token")
        try:
            header = jws.extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError) as error:
            raise SignInRejected(f"the ID token is not a JWS ({type(error).__name__})") from None
        algorithm, key_id = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise SignInRejected(f"ID token algorithm {_safe(algorithm, 20)!r} is not accepted")
        if not isinstance(key_id, str) or not key_id:
            raise SignInRejected("the ID token names no signing key")
        key = await self.signing_key(key_id)
        if key is None:
            raise SignInRejected("the ID token names an unknown signing key")
        metadata = await self.metadata()
        try:
            token = jwt.decode(id_token, key, algorithms=list(ALGORITHMS))
            claims = CodeIDToken(
                token.claims,
                token.header,
                options={
                    "iss": {"essential": True, "value": metadata.issuer},
                    "aud": {"essential": True, "value": self.client_id},
                    "nonce": {"essential": True, "value": nonce},
                },
                params={
                    "nonce": nonce,
                    "client_id": self.client_id,
                    "access_token": access_token if isinstance(access_token, str) else None,
                },
            )
            claims.validate(now=int(self._clock()), leeway=CLOCK_SKEW_SECONDS)
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise SignInRejected(f"invalid ID token ({type(error).__name__}: {error})") from None
        return dict(claims)


def email_of(claims: dict[str, Any]) -> str | None:
    """The account's address: ``email``, else ``preferred_username`` (Entra's UPN)."""
    for name in ("email", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and EMAIL.match(normalise_email(value)):
            return normalise_email(value)
    return None


# --- the routes ----------------------------------------------------------------------------


class EntraSignIn:
    """The two routes' handlers, with what they share."""

    def __init__(
        self,
        settings: Settings,
        sessions: Sessions,
        on_signed_in: SignedInHandler,
        on_refused: RefusedHandler,
        *,
        timeout: float,
        client_address: Callable[[web.Request], str],
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.on_signed_in = on_signed_in
        self.on_refused = on_refused
        self.timeout = timeout
        self.client_address = client_address
        self.clock = clock
        self.failure_limit = settings.workspace_login_failures
        base_url = settings.workspace_base_url()
        self.redirect_uri = base_url + CALLBACK_PATH
        self.provider = EntraProvider(
            settings.entra_metadata(),
            settings.entra_client_id,
            settings.entra_client_secret,
            timeout=timeout,
            clock=lambda: self.clock().timestamp(),
        )
        self.cookie = StateCookie(settings.entra_client_secret, secure=cookie_secure(base_url))
        if self.cookie.secure and urlsplit(base_url).scheme == "http":
            log.warning(
                "workspace: %s is plain HTTP on a public address: browsers drop the sign-in's "
                "Secure cookie there, so Entra sign-in cannot complete; serve it over HTTPS",
                base_url,
            )

    async def _blocked(self, address: str) -> Refusal | None:
        now = self.clock()
        async with self.sessions.begin() as session:
            until = await staff_access.login_blocked(session, address, now, self.failure_limit)
        if until is None:
            return None
        seconds = max(1, math.ceil((until - now).total_seconds()))
        log.warning("workspace: Entra sign-in from %s refused: too many failures", address)
        return Refusal(BLOCKED.format(minutes=max(1, math.ceil(seconds / 60))), 429, seconds)

    async def _failed(self, address: str, why: str, refusal: Refusal, *, counts: bool) -> Refusal:
        log.warning("workspace: Entra sign-in from %s refused: %s", address, why)
        if counts:
            async with self.sessions.begin() as session:
                await staff_access.record_login_failure(session, address, self.clock())
        return refusal

    async def start(self, request: web.Request) -> web.StreamResponse:
        """Send the browser to Microsoft with a fresh state, nonce and PKCE challenge."""
        address = self.client_address(request)
        refusal = await self._blocked(address)
        if refusal is None:
            try:
                async with asyncio.timeout(self.timeout):
                    metadata = await self.provider.metadata()
            except (ProviderUnavailable, TimeoutError) as error:
                why = str(error) or f"no answer within {self.timeout:g} s"
                refusal = await self._failed(
                    address, f"Entra unavailable ({why})", Refusal(UNAVAILABLE, 503), counts=False
                )
        if refusal is not None:
            return await self._refuse(request, refusal)
        now = self.clock().timestamp()
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            started=now,
        )
        url = self.provider.authorization_url(metadata, pending, self.redirect_uri)
        response = web.Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})
        self.cookie.write(response, [*self.cookie.read(request, now), pending])
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        """Microsoft's answer: the account is let in, or the browser is told why not."""
        under_way = self.cookie.read(request, self.clock().timestamp())
        state = request.query.get("state", "")
        match = next(
            (
                p
                for p in under_way
                if state and hmac.compare_digest(p.state.encode(), state.encode("utf-8", "replace"))
            ),
            None,
        )
        address = self.client_address(request)
        outcome = await self._complete(request, address, match)
        try:
            response = (
                await self.on_signed_in(request, outcome)
                if isinstance(outcome, StaffView)
                else await self._refuse(request, outcome)
            )
        except web.HTTPException as raised:
            self._forget(raised, under_way, match)
            raise
        self._forget(response, under_way, match)
        return response

    def _forget(
        self, response: web.StreamResponse, under_way: list[Pending], used: Pending | None
    ) -> None:
        """A state is good for one answer; sign-ins in other tabs stay under way."""
        if not response.prepared:
            self.cookie.write(response, [p for p in under_way if p is not used])

    async def _complete(
        self, request: web.Request, address: str, pending: Pending | None
    ) -> StaffView | Refusal:
        blocked = await self._blocked(address)
        if blocked is not None:
            return blocked
        query = request.query
        error = query.get("error")
        if error is not None:
            if error == "access_denied":
                return await self._failed(
                    address, "cancelled at Microsoft", Refusal(CANCELLED, 403), counts=False
                )
            message = MICROSOFT_ERROR.format(code=_safe(error, 40))
            return await self._failed(
                address,
                f"Microsoft answered {_safe(error, 40)}",
                Refusal(message, 403),
                counts=False,
            )
        if pending is None:
            why = "the state is not one this browser started" if query.get("state") else "no state"
            return await self._failed(address, why, Refusal(START_AGAIN, 400), counts=True)
        code = query.get("code")
        if not code:
            return await self._failed(
                address, "no code in the answer", Refusal(NOT_CONFIRMED, 400), counts=True
            )
        try:
            async with asyncio.timeout(self.timeout):
                metadata = await self.provider.metadata()
                answer = await self.provider.exchange(
                    metadata, code, pending.verifier, self.redirect_uri
                )
                claims = await self.provider.verify(
                    answer.get("id_token"), pending.nonce, answer.get("access_token")
                )
        except (ProviderUnavailable, TimeoutError) as error:
            why = str(error) or f"no answer within {self.timeout:g} s"
            return await self._failed(
                address, f"Entra unavailable ({why})", Refusal(UNAVAILABLE, 503), counts=False
            )
        except SignInRejected as error:
            return await self._failed(address, str(error), Refusal(NOT_CONFIRMED, 403), counts=True)
        email = email_of(claims)
        if email is None:
            return await self._failed(
                address, "the ID token has no e-mail address", Refusal(NO_EMAIL, 403), counts=True
            )
        async with self.sessions.begin() as session:
            staff = await active_by_email(session, email)
            account = view(staff) if staff is not None else None
        if account is None:
            return await self._failed(
                address,
                f"no active staff account for {email}",
                Refusal(NO_ACCOUNT.format(email=email), 403),
                counts=True,
            )
        log.info("workspace: staff %s signed in with Entra ID from %s", account.id, address)
        return account

    async def _refuse(self, request: web.Request, refusal: Refusal) -> web.StreamResponse:
        response = await self.on_refused(request, refusal)
        if refusal.retry_after is not None and not response.prepared:
            response.headers.setdefault("Retry-After", str(refusal.retry_after))
        return response

    async def close(self, app: web.Application) -> None:
        await self.provider.close()


def add_oidc_routes(
    app: web.Application,
    settings: Settings,
    sessions: Sessions,
    on_signed_in: SignedInHandler,
    on_refused: RefusedHandler,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    client_address: Callable[[web.Request], str] = remote_address,
    clock: Callable[[], datetime] = _utc_now,
) -> None:
    """Serve GET /logg-inn/entra (start) and GET /logg-inn/entra/svar (Microsoft's answer).

    Call it only when ``settings.entra_enabled()``. ``on_signed_in`` gets the active
    account and opens the session; ``on_refused`` renders the refusal with its status.
    Both must *return* an unprepared response (or raise an ``HTTPException``): the
    sign-in's cookie is updated on it. Failed sign-ins count towards
    WORKSPACE_LOGIN_FAILURES per ``client_address`` in 15 minutes.
    """
    if not settings.entra_enabled():
        raise ValueError(
            "Entra sign-in needs ENTRA_TENANT_ID, ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET"
        )
    sign_in = EntraSignIn(
        settings,
        sessions,
        on_signed_in,
        on_refused,
        timeout=timeout,
        client_address=client_address,
        clock=clock,
    )
    app.router.add_get(START_PATH, sign_in.start)
    app.router.add_get(CALLBACK_PATH, sign_in.callback)
    app.on_cleanup.append(sign_in.close)
