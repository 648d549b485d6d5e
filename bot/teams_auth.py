"""Who may talk to the bot on Teams, and the bot's own token for talking back; never blocking.

botbuilder validates each incoming token by fetching Microsoft's OpenID metadata and
signing keys with a blocking ``requests`` call (no timeout) inside the event loop, and
gets its outgoing token from Entra the same way (msal). One slow Microsoft endpoint
then froze every channel and ``/healthz``. This module does both with aiohttp and a
hard timeout: the keys are fetched in the background and cached (refreshed daily, and
at most every few minutes when a token names a key we do not know); the bot's token is
fetched ahead of expiry. While no keys can be had, Teams requests are refused with 503
(Teams retries) and everything else runs on. See docs/decisions/0009.

What a token from the Bot Connector must satisfy (Microsoft's "Authentication with the
Bot Connector API", and what botbuilder 4.17 checks): a Bearer JWT signed with RS256 by
a key from the published key set, that key endorsed for the activity's ``channelId``,
issuer ``https://api.botframework.com``, audience our app id, not expired (5 minutes'
clock skew), and a ``serviceurl`` claim equal to the activity's ``serviceUrl``. Nothing
else is accepted: no other algorithm, no emulator-issued token.

No botbuilder here: PyJWT and aiohttp only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from bot.settings import Settings

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT_AUTHORITY = "botframework.com"  # where multi-tenant bots get their token
ALGORITHM = "RS256"  # what Microsoft's metadata lists; nothing else is accepted
CLOCK_SKEW_SECONDS = 5 * 60
KEYS_REFRESH_SECONDS = 24 * 3600  # botbuilder refreshes daily; Microsoft rotates rarely
UNKNOWN_KEY_REFRESH_SECONDS = 5 * 60  # a token naming an unknown key: look again, not often
TOKEN_REFRESH_MARGIN_SECONDS = 5 * 60  # fetch the bot's next token this long before expiry
RETRY_AFTER_SECONDS = 5  # what /api/messages tells Teams while keys are missing
MAX_BACKOFF_SECONDS = 60.0


class TokenRefused(Exception):
    """An incoming token that does not prove the request comes from the Bot Connector."""


class KeysUnavailable(Exception):
    """Microsoft's signing keys could not be had yet: tokens cannot be checked at all."""


class TokenUnavailable(Exception):
    """Entra gave the bot no token (yet) for sending."""


@dataclass(frozen=True)
class SigningKey:
    """One published key and the channels it may vouch for."""

    key: Any  # a cryptography RSA public key
    endorsements: frozenset[str]


def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


class _Fetcher:
    """One aiohttp session, created in the running loop, and one fetch in flight at a time.

    Concurrent callers share the fetch under way (``asyncio.shield``: a caller that
    gives up does not cancel it for the others).
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._inflight: asyncio.Task[bool] | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=_timeout(self._timeout))
        return self._session

    async def _once(self) -> bool:
        raise NotImplementedError

    async def refresh(self) -> bool:
        """Fetch now (or join the fetch under way); False if it failed (logged)."""
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.create_task(self._once())
        return await asyncio.shield(self._inflight)

    async def close(self) -> None:
        if self._inflight is not None and not self._inflight.done():
            self._inflight.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._inflight
        if self._session is not None:
            await self._session.close()
            self._session = None


class ChannelKeys(_Fetcher):
    """The Bot Framework's published signing keys, fetched in the background and cached."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout: float,
        refresh_seconds: float = KEYS_REFRESH_SECONDS,
        unknown_key_refresh_seconds: float = UNKNOWN_KEY_REFRESH_SECONDS,
    ) -> None:
        super().__init__(timeout)
        self.metadata_url = metadata_url
        self._refresh_seconds = refresh_seconds
        self._unknown_key_refresh_seconds = unknown_key_refresh_seconds
        self._keys: dict[str, SigningKey] | None = None
        self._looked_for_unknown_at = -math.inf

    @property
    def ready(self) -> bool:
        return self._keys is not None

    async def find(self, key_id: str) -> SigningKey | None:
        """The key with this id; None if the key set has no such key.

        Raises ``KeysUnavailable`` while no key set was ever fetched. An unknown id makes
        one fetch (Microsoft may have published a new key), at most every few minutes, so
        forged tokens naming random keys cannot make the bot hammer Microsoft.
        """
        if self._keys is None:
            raise KeysUnavailable("no signing keys yet")
        key = self._keys.get(key_id)
        now = time.monotonic()
        if key is None and now - self._looked_for_unknown_at >= self._unknown_key_refresh_seconds:
            self._looked_for_unknown_at = now
            if await self.refresh():
                key = self._keys.get(key_id)
        return key

    async def _once(self) -> bool:
        try:
            client = self._client()
            async with client.get(self.metadata_url) as response:
                response.raise_for_status()
                metadata = await response.json(content_type=None)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri:
                raise ValueError("the metadata has no jwks_uri")
            async with client.get(jwks_uri) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
            keys = _signing_keys(document)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # network, timeout, HTTP status, malformed JSON: one line
            log.warning(
                "teams: cannot fetch the Bot Framework signing keys from %s (%s)%s",
                self.metadata_url,
                type(error).__name__,
                "; keeping the ones we have" if self._keys else "; refusing Teams requests (503)",
            )
            return False
        if self._keys is None:
            log.info("teams: %s Bot Framework signing keys loaded", len(keys))
        self._keys = keys
        return True

    async def run(self) -> None:
        """Keep the keys fresh: at start, daily, and after a failure with a growing pause."""
        backoff = 1.0
        while True:
            if await self.refresh():
                backoff = 1.0
                await asyncio.sleep(self._refresh_seconds)
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def _signing_keys(document: Any) -> dict[str, SigningKey]:
    """The RSA signing keys of a JWKS document, by key id (others are skipped)."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the key set has no keys")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        try:
            public_key = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        except (jwt.PyJWKError, ValueError, TypeError):
            log.warning("teams: skipping an unreadable signing key (%s)", kid)
            continue
        endorsements = entry.get("endorsements")
        keys[kid] = SigningKey(
            public_key,
            frozenset(e for e in endorsements if isinstance(e, str))
            if isinstance(endorsements, list)
            else frozenset(),
        )
    if not keys:
        raise ValueError("the key set has no usable RSA signing key")
    return keys


class ChannelTokenValidator:
    """Checks that a request comes from the Bot Connector for this bot (see module doc)."""

    def __init__(self, app_id: str, keys: ChannelKeys) -> None:
        self.app_id = app_id
        self.keys = keys

    async def validate(
        self, authorization: str, channel_id: Any, service_url: Any
    ) -> dict[str, Any]:
        """The token's claims; raises ``TokenRefused`` (401) or ``KeysUnavailable`` (503)."""
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            raise TokenRefused("no bearer token")
        if " " in token or not token.isascii():
            raise TokenRefused("the bearer token is not a JWT")
        if not isinstance(channel_id, str) or not channel_id:
            raise TokenRefused("the activity names no channel")
        if not isinstance(service_url, str) or not service_url:
            raise TokenRefused("the activity has no serviceUrl")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"not a JWT ({type(error).__name__})") from None
        algorithm = header.get("alg")
        if algorithm != ALGORITHM:
            raise TokenRefused(f"algorithm {str(algorithm)[:20]!r} is not accepted")
        key_id = header.get("kid")
        if not isinstance(key_id, str) or not key_id:
            raise TokenRefused("the token names no signing key")
        key = await self.keys.find(key_id)
        if key is None:
            raise TokenRefused("the token names an unknown signing key")
        if channel_id not in key.endorsements:
            raise TokenRefused(f"the signing key is not endorsed for channel {channel_id[:40]!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                issuer=BOT_FRAMEWORK_ISSUER,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"invalid token ({type(error).__name__})") from None
        if claims.get("serviceurl") != service_url:
            raise TokenRefused("the token's serviceurl is not the activity's serviceUrl")
        return claims


class BotTokens(_Fetcher):
    """The bot's own access token for the Bot Connector (OAuth client credentials).

    Fetched from Entra with a timeout, cached, and renewed in the background before it
    expires, so sending never waits on Entra while a valid token is at hand.
    """

    def __init__(self, app_id: str, password: str, token_url: str, *, timeout: float) -> None:
        super().__init__(timeout)
        self.token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": app_id,
            "client_secret": password,
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        self._token: str | None = None
        self._expires_at = 0.0

    def current(self) -> str | None:
        """The cached token while it is valid (no I/O: safe to call from sync code)."""
        if self._token is not None and time.monotonic() < self._expires_at - 30:
            return self._token
        return None

    async def token(self) -> str:
        """A valid token: the cached one, or one fetched now (with the timeout)."""
        token = self.current()
        if token is None and await self.refresh():
            token = self.current()
        if token is None:
            raise TokenUnavailable("no token from Entra for the Bot Connector")
        return token

    async def _once(self) -> bool:
        try:
            async with self._client().post(self.token_url, data=self._form) as response:
                answer = await response.json(content_type=None)
                if response.status != 200 or not isinstance(answer, dict):
                    error = answer.get("error") if isinstance(answer, dict) else None
                    raise ValueError(f"HTTP {response.status} {str(error or '')[:60]}".strip())
            token = answer.get("access_token")
            lifetime = float(answer.get("expires_in", 0))
            if not isinstance(token, str) or not token or lifetime <= 60:
                raise ValueError("the answer has no usable access_token")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # network, timeout, refused credentials: one line
            log.warning(
                "teams: cannot get the bot's token from %s (%s: %s)",
                self.token_url,
                type(error).__name__,
                error,
            )
            return False
        self._token = token
        self._expires_at = time.monotonic() + lifetime
        return True

    def seconds_until_renewal(self) -> float:
        """Renew 5 minutes before expiry (halfway, for a token that lives shorter)."""
        remaining = self._expires_at - time.monotonic()
        return max(0.0, remaining - TOKEN_REFRESH_MARGIN_SECONDS, remaining / 2)

    async def run(self) -> None:
        """Keep a token at hand: at start, before each expiry, after failures with a pause."""
        backoff = 1.0
        while True:
            if await self.refresh():
                backoff = 1.0
                await asyncio.sleep(max(self.seconds_until_renewal(), 1.0))
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


@dataclass
class TeamsAuth:
    """Lyttepost's identity towards Teams; ``validator`` and ``tokens`` are None in local mode."""

    app_id: str
    validator: ChannelTokenValidator | None = None
    tokens: BotTokens | None = None

    @property
    def authenticated(self) -> bool:
        return self.validator is not None

    def background(self) -> list[Any]:
        """The coroutines that keep keys and token fresh (run them as tasks)."""
        work: list[Any] = []
        if self.validator is not None:
            work.append(self.validator.keys.run())
        if self.tokens is not None:
            work.append(self.tokens.run())
        return work

    async def close(self) -> None:
        if self.validator is not None:
            await self.validator.keys.close()
        if self.tokens is not None:
            await self.tokens.close()


def token_url(settings: Settings) -> str:
    """Entra's token endpoint for the bot: its own tenant when single-tenant."""
    single = settings.microsoft_app_type.lower() == "singletenant"
    authority = settings.microsoft_app_tenant_id if single else MULTI_TENANT_AUTHORITY
    return f"{settings.microsoft_login_url.rstrip('/')}/{authority}/oauth2/v2.0/token"


def build_teams_auth(settings: Settings) -> TeamsAuth:
    """Validation and tokens when MICROSOFT_APP_ID is set; local mode (loud warning) without."""
    if not settings.microsoft_app_id:
        log.warning(
            "teams: LOCAL MODE: MICROSOFT_APP_ID is empty, so /api/messages accepts requests "
            "WITHOUT authentication. Fine for the Bot Framework Emulator and tests, never in production."
        )
        return TeamsAuth(app_id="")
    timeout = settings.teams_auth_timeout_seconds
    keys = ChannelKeys(settings.teams_openid_metadata_url, timeout=timeout)
    tokens = None
    if settings.microsoft_app_password:
        tokens = BotTokens(
            settings.microsoft_app_id,
            settings.microsoft_app_password,
            token_url(settings),
            timeout=timeout,
        )
    else:
        log.warning("teams: MICROSOFT_APP_PASSWORD is empty: the bot can receive but not send")
    return TeamsAuth(
        app_id=settings.microsoft_app_id,
        validator=ChannelTokenValidator(settings.microsoft_app_id, keys),
        tokens=tokens,
    )


def _is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost: assume it is reachable


def teams_start_problem(settings: Settings) -> str | None:
    """Why ``lyttepost run`` must not start with these Teams settings (None: it may)."""
    if not settings.teams_enabled:
        return None
    if (
        settings.microsoft_app_id
        and settings.microsoft_app_type.lower() == "singletenant"
        and not settings.microsoft_app_tenant_id
    ):
        return (
            "MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID (the bot's Entra tenant)"
        )
    if (
        not settings.microsoft_app_id
        and not _is_loopback(settings.http_host)
        and not settings.teams_local_test
    ):
        return (
            f"TEAMS_ENABLED without MICROSOFT_APP_ID on HTTP_HOST={settings.http_host} would let "
            "anyone who reaches the port post as any member: set MICROSOFT_APP_ID and "
            "MICROSOFT_APP_PASSWORD, or HTTP_HOST=127.0.0.1, or TEAMS_LOCAL_TEST=true for a local test"
        )
    return None
