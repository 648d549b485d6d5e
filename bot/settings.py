"""Settings, read once from the environment and ``.env``; every one is in ``.env.example``."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# An SQLite file in the working directory: the local demo and a first try need no server.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./lyttepost.db"


class Settings(BaseSettings):
    """Lyttepost's configuration. Frozen: read once at start, passed down explicitly."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"
    # Members' message texts and names in the log (python-telegram-bot logs whole updates
    # at DEBUG). Off: they are masked. Secrets and invitation codes are masked regardless.
    log_message_texts: bool = False
    # text: one readable line per record; json: one JSON object per line (time, level,
    # logger, message, and the chat/contact/round/event ids at hand), for log collectors.
    # Redacted the same way either way.
    log_format: str = "text"
    timezone: str = "Europe/Oslo"

    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    # How long a send waits for Telegram's answer. Telegram can be slow to answer a send it
    # has already delivered; giving up early means sending it again. Well above the 25 s
    # seen in practice and the 60 s Telegram gives a webhook to answer; at most 180 s, so a
    # send in flight is never mistaken for one abandoned by a crash (outbox.CLAIM_TIMEOUT).
    telegram_send_timeout_seconds: float = Field(default=75.0, ge=5, le=180)

    # Microsoft Teams (Azure Bot / Entra app registration). Empty app id: local mode.
    microsoft_app_id: str = ""
    microsoft_app_password: str = ""
    microsoft_app_type: str = "MultiTenant"
    microsoft_app_tenant_id: str = ""
    teams_enabled: bool = False
    # Without MICROSOFT_APP_ID nobody is authenticated: only allowed on a loopback HTTP_HOST,
    # or with this set to say it is a local test on purpose.
    teams_local_test: bool = False
    # Where the Bot Framework publishes its signing keys (tests point it at a stand-in),
    # where Entra hands out the bot's token, and how long either may take per request.
    teams_openid_metadata_url: str = (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    microsoft_login_url: str = "https://login.microsoftonline.com"
    teams_auth_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Entra tenant ids (comma-separated) whose users may talk to the bot; empty: any tenant.
    teams_allowed_tenants: str = ""
    # Teams bot limits: 7 per second, 8 per 2 s, 60 per 30 s per conversation; ~50/s per
    # app and tenant (so the overall rate here applies per tenant).
    teams_send_rate_per_second: float = Field(default=30.0, gt=0)
    teams_chat_rate_per_second: float = Field(default=1.0, gt=0)
    teams_chat_burst: int = Field(default=5, ge=1)  # 5 + 1/s: 6 per s, 7 per 2 s, 35 per 30 s
    # Where members' apps can reach Lyttepost's web app (links to report files for Teams),
    # and the key that signs those links. Empty: no file links.
    public_base_url: str = ""
    file_link_secret: str = ""

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)

    # /metrics (Prometheus) is served only when asked for. METRICS_TOKEN: on the main port,
    # to requests with "Authorization: Bearer <token>" (and on METRICS_PORT too, if set).
    # METRICS_PORT: a separate listener on METRICS_HOST serving /metrics alone. 0: none.
    metrics_token: str = ""
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    # KS's workspace (docs/decisions/0015). Staff sign in with Microsoft Entra ID when the
    # three ENTRA_* values are set; single-use login links work always. ENTRA_METADATA_URL
    # overrides where the OpenID configuration is read (tests point it at a stand-in).
    entra_tenant_id: str = ""
    entra_client_id: str = ""
    entra_client_secret: str = ""
    entra_metadata_url: str = ""
    # How long one request to Entra (configuration, keys, token) may take.
    entra_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # A signed-in browser is signed out after this long without a request.
    workspace_idle_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60)
    # Failed sign-ins (wrong or used links, refused Entra accounts) per address and 15 min.
    workspace_login_failures: int = Field(default=10, ge=1)

    def workspace_base_url(self) -> str:
        """Where staff reach the workspace: PUBLIC_BASE_URL, or the local address served."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = self.http_host if self.http_host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{self.http_port}"

    def entra_enabled(self) -> bool:
        """Entra sign-in is offered when the tenant, client id and secret are all set."""
        return bool(self.entra_tenant_id and self.entra_client_id and self.entra_client_secret)

    def entra_metadata(self) -> str:
        """The OpenID configuration URL of KS's Entra tenant (or the override)."""
        if self.entra_metadata_url:
            return self.entra_metadata_url
        return (
            f"https://login.microsoftonline.com/{self.entra_tenant_id}"
            "/v2.0/.well-known/openid-configuration"
        )

    invite_ttl_days: int = Field(default=60, ge=1)
    # Telegram: about 30 messages/s overall, about 1/s per chat with short bursts.
    send_rate_per_second: float = Field(default=29.5, gt=0)
    send_chat_rate_per_second: float = Field(default=1.0, gt=0)
    send_chat_burst: int = Field(default=3, ge=1)

    # The annual cycle: one process per database runs it (see README, "Several processes").
    scheduler_enabled: bool = True
    scheduler_sync_seconds: float = Field(default=10.0, gt=0)
    scheduler_lease_seconds: float = Field(default=30.0, ge=3)

    # Privacy (docs/decisions/0011): where members ask for access or erasure (an e-mail
    # address, shown by /personvern), and how many days the raw messages (inbound updates,
    # the text of sent messages) are kept once handled.
    privacy_contact: str = ""
    raw_message_retention_days: int = Field(default=30, ge=1, le=3650)

    # Texts imported in production (``lyttepost texts import``, the workspace's «Tekster og
    # språk») are written here and layered over the packaged catalogues (dialogs/locale).
    # Empty: imports write the packaged catalogues (a developer's checkout, then commit).
    texts_dir: str = ""

    def texts_directory(self) -> Path | None:
        """TEXTS_DIR as an absolute path, or None when unset."""
        return Path(self.texts_dir).expanduser().resolve() if self.texts_dir.strip() else None

    def allowed_tenants(self) -> frozenset[str]:
        """TEAMS_ALLOWED_TENANTS as a set of lower-case ids (empty: every tenant is allowed)."""
        return frozenset(
            part.strip().lower() for part in self.teams_allowed_tenants.split(",") if part.strip()
        )

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        """text or json; anything else is refused at start with what to write instead."""
        format_ = value.strip().lower()
        if format_ not in ("text", "json"):
            raise ValueError(f"LOG_FORMAT must be text or json, not {value!r}")
        return format_

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """An IANA zone name, checked at start: a typo must not surface as a traceback
        the first time a date is shown."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"TIMEZONE must be an IANA time zone such as Europe/Oslo, not {value!r}"
            ) from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        """Long enough not to be guessed, and sendable as it is in an HTTP header."""
        if value and (
            len(value) < 16 or not value.isascii() or not value.isprintable() or " " in value
        ):
            raise ValueError(
                "METRICS_TOKEN must be at least 16 printable ASCII characters without spaces"
            )
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_charset(cls, value: str) -> str:
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if value and (len(value) > 256 or not set(value) <= allowed):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -")
        return value
