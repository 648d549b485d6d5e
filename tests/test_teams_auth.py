"""Teams token validation and the bot's own token, against a sign-in stand-in.

What a Bot Connector token must satisfy is checked one property at a time: every
forgery an attacker could try is refused, and none of it ever waits on Microsoft in a
way that could hold up anything else.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.settings import Settings
from bot.teams_auth import (
    BotTokens,
    ChannelKeys,
    ChannelTokenValidator,
    KeysUnavailable,
    TokenRefused,
    TokenUnavailable,
    build_teams_auth,
    teams_start_problem,
    token_url,
)
from tests.login_standin import LoginStandIn, forgeries, new_rsa_key

APP_ID = "00000000-0000-4000-8000-00000000b075"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@pytest.fixture
async def login():
    async with LoginStandIn(app_id=APP_ID) as standin:
        yield standin


@pytest.fixture
async def validator(login):
    keys = ChannelKeys(login.metadata_url, timeout=2)
    assert await keys.refresh()
    yield ChannelTokenValidator(APP_ID, keys)
    await keys.close()


async def test_a_bot_connector_token_is_accepted(login, validator) -> None:
    claims = await validator.validate(
        login.authorization(APP_ID, SERVICE_URL), "msteams", SERVICE_URL
    )
    assert claims["aud"] == APP_ID and claims["serviceurl"] == SERVICE_URL
    # Five minutes of clock skew are tolerated, as botbuilder does.
    late = login.authorization(APP_ID, SERVICE_URL, exp=int(time.time()) - 200)
    assert (await validator.validate(late, "msteams", SERVICE_URL))["aud"] == APP_ID


async def test_every_forgery_is_refused(login, validator) -> None:
    for name, token in forgeries(login, APP_ID, SERVICE_URL).items():
        with pytest.raises(TokenRefused):
            await validator.validate(f"Bearer {token}", "msteams", SERVICE_URL)
            pytest.fail(f"{name} was accepted")
    good = login.mint(APP_ID, SERVICE_URL)
    for header in ("", "Bearer", f"Basic {good}", f"Bearer {good} extra", f"bearer {good}"):
        with pytest.raises(TokenRefused):
            await validator.validate(header, "msteams", SERVICE_URL)


async def test_a_key_vouches_only_for_the_channels_it_is_endorsed_for(login, validator) -> None:
    token = login.authorization(APP_ID, SERVICE_URL)
    await validator.validate(token, "webchat", SERVICE_URL)  # endorsed: the token is good
    for channel in ("emulator", "msteams2", "", None):
        with pytest.raises(TokenRefused):
            await validator.validate(token, channel, SERVICE_URL)


async def test_no_keys_means_unavailable_and_nothing_waits_on_microsoft(login) -> None:
    login.hang()
    keys = ChannelKeys(login.metadata_url, timeout=0.5)
    validator = ChannelTokenValidator(APP_ID, keys)
    background = asyncio.create_task(keys.run())
    try:
        started = time.monotonic()
        with pytest.raises(KeysUnavailable):
            await validator.validate(
                login.authorization(APP_ID, SERVICE_URL), "msteams", SERVICE_URL
            )
        assert time.monotonic() - started < 0.05  # refused at once, not after a fetch
        await asyncio.sleep(0.7)  # the background fetch timed out...
        assert not keys.ready and login.count("metadata") >= 1
        login.heal()  # ...and is tried again until Microsoft answers
        for _ in range(50):
            if keys.ready:
                break
            await asyncio.sleep(0.1)
        assert keys.ready
        await validator.validate(login.authorization(APP_ID, SERVICE_URL), "msteams", SERVICE_URL)
    finally:
        background.cancel()
        await keys.close()


async def test_an_unknown_key_id_looks_again_but_not_often(login, validator) -> None:
    fetched = login.count("keys")
    forged = login.mint(APP_ID, SERVICE_URL, key=new_rsa_key(), kid="rotated-in")
    for _ in range(5):
        with pytest.raises(TokenRefused):
            await validator.validate(f"Bearer {forged}", "msteams", SERVICE_URL)
    assert login.count("keys") == fetched + 1  # one look for the five, then rate-limited

    # A key Microsoft published after the bot fetched the set: found on that one look.
    keys = ChannelKeys(login.metadata_url, timeout=2)
    assert await keys.refresh()
    login.key, login.kid = new_rsa_key(), "rotated-in-for-real"
    try:
        rotated = ChannelTokenValidator(APP_ID, keys)
        await rotated.validate(login.authorization(APP_ID, SERVICE_URL), "msteams", SERVICE_URL)
    finally:
        await keys.close()


async def test_a_slow_key_fetch_keeps_the_old_keys(login, validator) -> None:
    login.delay(5)
    validator.keys._timeout = 0.3
    assert not await validator.keys.refresh()  # timed out, logged
    await validator.validate(login.authorization(APP_ID, SERVICE_URL), "msteams", SERVICE_URL)


async def test_the_bots_token_is_fetched_cached_and_never_waited_on_for_long(login) -> None:
    url = f"{login.login_url}/botframework.com/oauth2/v2.0/token"
    tokens = BotTokens(APP_ID, login.app_password, url, timeout=0.5)
    try:
        assert tokens.current() is None
        first = await tokens.token()
        assert first == login.issued[-1] and await tokens.token() == first  # cached
        assert 3290 < tokens.seconds_until_renewal() <= 3299  # renewed 5 min before expiry
        request = login.token_requests[-1]
        assert (request.tenant, request.grant_type, request.client_id, request.scope) == (
            "botframework.com", "client_credentials", APP_ID, "https://api.botframework.com/.default",
        )  # fmt: skip
        tokens._expires_at = 0  # expired: fetched again
        login.hang("token")
        started = time.monotonic()
        with pytest.raises(TokenUnavailable):
            await tokens.token()
        assert time.monotonic() - started < 1.5  # the timeout, not forever
    finally:
        await tokens.close()
    wrong = BotTokens(APP_ID, "wrong secret", url, timeout=2)
    login.heal()
    try:
        with pytest.raises(TokenUnavailable):
            await wrong.token()
        assert login.token_requests[-1].status == 401
    finally:
        await wrong.close()


def test_single_tenant_bots_get_their_token_from_their_own_tenant() -> None:
    multi = Settings(_env_file=None, microsoft_app_id=APP_ID)
    assert (
        token_url(multi) == "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )
    single = Settings(_env_file=None, microsoft_app_id=APP_ID, microsoft_app_type="SingleTenant",
                      microsoft_app_tenant_id="ks-tenant")  # fmt: skip
    assert token_url(single) == "https://login.microsoftonline.com/ks-tenant/oauth2/v2.0/token"
    assert build_teams_auth(single).authenticated
    assert not build_teams_auth(Settings(_env_file=None)).authenticated


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({}, False),  # local mode on loopback: the e2e tests and the Emulator
        ({"http_host": "localhost"}, False),
        ({"http_host": "::1"}, False),
        ({"http_host": "0.0.0.0"}, True),
        ({"http_host": "10.0.0.5"}, True),
        ({"http_host": "bot.example.no"}, True),
        ({"http_host": "0.0.0.0", "teams_local_test": True}, False),
        ({"http_host": "0.0.0.0", "microsoft_app_id": APP_ID}, False),
        ({"microsoft_app_id": APP_ID, "microsoft_app_type": "SingleTenant"}, True),
        ({"http_host": "0.0.0.0", "teams_enabled": False}, False),
    ],
)
def test_teams_without_credentials_on_a_public_interface_refuses_to_start(values, refused) -> None:
    settings = Settings(_env_file=None, **{"teams_enabled": True, **values})
    problem = teams_start_problem(settings)
    assert (problem is not None) == refused, problem
    if problem:
        assert "\n" not in problem


async def test_a_hanging_token_endpoint_delays_a_send_not_the_process(sessions, login) -> None:
    """botbuilder fetched the bot's token with msal (blocking) inside msrest's
    ``signed_session``, on the event loop; now a silent Entra costs one send a timeout."""
    from bot.teams import TeamsTransport
    from dialogs.messages import OutgoingMessage
    from services.delivery import TransientFailure
    from storage.files import FileStore
    from storage.orm import Chat
    from tests.teams_standin import TeamsStandIn

    async with TeamsStandIn(bot_app_id=APP_ID) as teams:
        async with sessions() as session, session.begin():
            session.add(Chat(channel="teams", address="a:1", user_id="u",
                             conversation_ref=teams.conversation_reference("a:1")))  # fmt: skip
        settings = Settings(
            _env_file=None, teams_enabled=True, microsoft_app_id=APP_ID,
            microsoft_app_password=login.app_password, microsoft_login_url=login.login_url,
            teams_openid_metadata_url=login.metadata_url, teams_auth_timeout_seconds=0.5,
        )  # fmt: skip
        auth = build_teams_auth(settings)
        transport = TeamsTransport(auth, sessions, FileStore(sessions))
        gaps: list[float] = []

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        try:
            login.hang("token")
            started = time.monotonic()
            with pytest.raises(TransientFailure):
                await transport.deliver("a:1", OutgoingMessage(text="Hei"), None)
            # It ends after about the 0.5 s timeout (a hang would never end); the bound is
            # loose because a busy CI machine once took 1.6 s with the loop running freely.
            assert 0.4 < time.monotonic() - started < 3.0
            assert max(gaps) < 0.1  # the loop ran on all the while
            assert teams.messages_for("a:1") == []
            login.heal()
            await transport.deliver("a:1", OutgoingMessage(text="Hei"), None)
            sent = teams.messages_for("a:1")[-1]
            assert sent.text == "Hei" and sent.authorization == f"Bearer {login.issued[-1]}"
        finally:
            ticking.cancel()
            await auth.close()
