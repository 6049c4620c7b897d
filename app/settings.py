"""Settings from environment variables (and an optional .env file), checked at start-up."""

from __future__ import annotations

import enum
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from limits import parse_many
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.access_tokens import TokenPolicy
from domain.scoring.progress import RetryPolicy
from domain.scoring.registration import CallbackCredentials
from domain.sign_in import SignInPolicy

DEFAULT_SECRET = "dev-only-insecure-secret-change-me-0000000"  # noqa: S105
MIN_SECRET_LENGTH = 32
DEV_CBS_PASSWORD = "cbs-dev-password"  # noqa: S105 - the local CBS simulator's default
DEV_SCORING_PASSWORD = "scoring-dev-password"  # noqa: S105
MIN_CALLBACK_PASSWORD_LENGTH = 16


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class InsecureConfiguration(ValueError):
    """Production settings that would be unsafe to run with."""


class Settings(BaseSettings):
    """Every setting, its environment variable and its default (README, Configuration)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    env: Environment = Field(Environment.DEVELOPMENT, alias="LENDGRAPH_ENV")
    database_url: str = Field("sqlite:///./var/lendgraph.db", alias="DATABASE_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    queue_namespace: str = Field("lendgraph", alias="QUEUE_NAMESPACE")
    allow_sqlite_in_production: bool = Field(False, alias="ALLOW_SQLITE_IN_PRODUCTION")

    jwt_secret: str = Field(DEFAULT_SECRET, alias="JWT_SECRET")
    jwt_issuer: str = Field("lendgraph", alias="JWT_ISSUER")
    jwt_audience: str = Field("lendgraph-api", alias="JWT_AUDIENCE")
    access_token_ttl_seconds: int = Field(900, ge=30, le=86400, alias="ACCESS_TOKEN_TTL_SECONDS")
    refresh_token_ttl_days: int = Field(30, ge=1, le=365, alias="REFRESH_TOKEN_TTL_DAYS")
    max_failed_logins: int = Field(5, ge=1, alias="MAX_FAILED_LOGINS")
    login_lockout_seconds: int = Field(300, ge=1, alias="LOGIN_LOCKOUT_SECONDS")
    # How long a process may trust what it read of a user's sign-in state: at most 2 s, so
    # a sign-out whose event is lost still holds everywhere within 5 s (README, Signing out).
    sign_in_cache_seconds: float = Field(2.0, ge=0, le=2, alias="SIGN_IN_CACHE_SECONDS")

    max_query_depth: int = Field(10, ge=2, alias="MAX_QUERY_DEPTH")
    max_aliases: int = Field(15, ge=1, alias="MAX_ALIASES")
    max_tokens: int = Field(2000, ge=50, alias="MAX_TOKENS")
    max_body_bytes: int = Field(1_000_000, ge=1024, alias="MAX_BODY_BYTES")
    worker_threads: int = Field(16, ge=1, le=256, alias="WORKER_THREADS")
    sign_in_threads: int = Field(2, ge=1, le=64, alias="SIGN_IN_THREADS")
    rate_limit_per_address: str = Field("30/minute;300/hour", alias="RATE_LIMIT_PER_ADDRESS")
    rate_limit_per_username: str = Field("10/minute;60/hour", alias="RATE_LIMIT_PER_USERNAME")
    allowed_origins: list[str] = Field(default_factory=list, alias="ALLOWED_ORIGINS")
    max_subscriptions_per_connection: int = Field(
        20, ge=1, alias="MAX_SUBSCRIPTIONS_PER_CONNECTION"
    )

    embedded_worker: bool = Field(True, alias="EMBEDDED_WORKER")
    embedded_scheduler: bool = Field(True, alias="EMBEDDED_SCHEDULER")
    outbox_relay_seconds: int = Field(5, ge=1, alias="OUTBOX_RELAY_SECONDS")
    job_lost_after_seconds: int = Field(900, ge=1, alias="JOB_LOST_AFTER_SECONDS")
    recovery_backoff_max_seconds: float = Field(
        30.0, gt=0, le=3600, alias="RECOVERY_BACKOFF_MAX_SECONDS"
    )
    seed_dir: Path | None = Field(None, alias="LENDGRAPH_SEED_DIR")
    seed_on_start: bool = Field(True, alias="SEED_ON_START")
    actor_modules: list[str] = Field(default_factory=list, alias="ACTOR_MODULES")
    graphiql_assets_url: str = Field("https://unpkg.com", alias="GRAPHIQL_ASSETS_URL")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_json: bool = Field(True, alias="LOG_JSON")
    metrics_port: int | None = Field(None, alias="METRICS_PORT")

    public_url: str = Field("http://127.0.0.1:8000", alias="PUBLIC_URL")
    cbs_url: str | None = Field("http://127.0.0.1:8093", alias="CBS_URL")
    cbs_customer_path: str = Field("/service/customer", alias="CBS_CUSTOMER_PATH")
    cbs_transactions_path: str = Field("/service/transaction-data", alias="CBS_TRANSACTIONS_PATH")
    cbs_username: str = Field("lendgraph", alias="CBS_USERNAME")
    cbs_password: str = Field(DEV_CBS_PASSWORD, alias="CBS_PASSWORD")
    cbs_timeout_seconds: float = Field(10.0, gt=0, le=120, alias="CBS_TIMEOUT_SECONDS")
    cbs_currency: str = Field("KES", alias="CBS_CURRENCY")
    scoring_engine_url: str | None = Field("http://127.0.0.1:8094", alias="SCORING_ENGINE_URL")
    scoring_timeout_seconds: float = Field(10.0, gt=0, le=120, alias="SCORING_TIMEOUT_SECONDS")
    scoring_attempts: int = Field(5, ge=1, le=20, alias="SCORING_ATTEMPTS")
    scoring_retry_base_seconds: float = Field(1.0, gt=0, le=600, alias="SCORING_RETRY_BASE_SECONDS")
    scoring_outage_max_seconds: float = Field(60.0, gt=0, alias="SCORING_OUTAGE_MAX_SECONDS")
    scoring_resume_after_seconds: float = Field(120.0, gt=0, alias="SCORING_RESUME_AFTER_SECONDS")
    scoring_callback_username: str = Field("lendgraph-scoring", alias="SCORING_CALLBACK_USERNAME")
    scoring_callback_password: str = Field(DEV_SCORING_PASSWORD, alias="SCORING_CALLBACK_PASSWORD")

    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(25, ge=1, le=65535, alias="SMTP_PORT")
    smtp_from: str = Field("lendgraph@localhost", alias="SMTP_FROM")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: str | None = Field(None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(False, alias="SMTP_STARTTLS")
    billing_chunk_size: int = Field(1000, ge=1, le=100_000, alias="BILLING_CHUNK_SIZE")
    billing_resume_seconds: int = Field(30, ge=1, alias="BILLING_RESUME_SECONDS")
    billing_check_seconds: int = Field(3600, ge=10, alias="BILLING_CHECK_SECONDS")

    demo_username: str = Field("staff", alias="DEMO_STAFF_USERNAME")
    demo_password: str = Field("lendgraph-demo-staff", alias="DEMO_STAFF_PASSWORD")

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_broker(self) -> bool:
        return not self.redis_url

    @field_validator("rate_limit_per_address", "rate_limit_per_username")
    @classmethod
    def _rate_limits_parse(cls, value: str) -> str:
        """`limits` notation: `N/second|minute|hour|day`, several joined by `;`."""
        parse_many(value)  # raises ValueError on anything else
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if not self.is_production:
            return self
        if self.jwt_secret == DEFAULT_SECRET or len(self.jwt_secret) < MIN_SECRET_LENGTH:
            raise InsecureConfiguration(
                f"JWT_SECRET must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters in production (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)."
            )
        if (
            self.scoring_callback_password == DEV_SCORING_PASSWORD
            or len(self.scoring_callback_password) < MIN_CALLBACK_PASSWORD_LENGTH
        ):
            raise InsecureConfiguration(
                "SCORING_CALLBACK_PASSWORD must be set to a random value of at least "
                f"{MIN_CALLBACK_PASSWORD_LENGTH} characters in production: the scoring engine "
                "reads customers' transactions with it."
            )
        if self.cbs_url and self.cbs_password == DEV_CBS_PASSWORD:
            raise InsecureConfiguration(
                "CBS_PASSWORD is the simulator's development password; set the core banking "
                "system's credentials (or unset CBS_URL) in production."
            )
        if self.is_sqlite and not self.allow_sqlite_in_production:
            raise InsecureConfiguration(
                "DATABASE_URL points at SQLite; production needs PostgreSQL "
                "(set ALLOW_SQLITE_IN_PRODUCTION=true to run a single-process demo anyway)."
            )
        return self

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split(":///", 1)[1])

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.scoring_attempts,
            base=timedelta(seconds=self.scoring_retry_base_seconds),
            outage_cap=timedelta(seconds=self.scoring_outage_max_seconds),
            stalled_after=timedelta(seconds=self.scoring_resume_after_seconds),
            lease=timedelta(seconds=3 * self.scoring_timeout_seconds + 5),
        )

    def callback_credentials(self) -> CallbackCredentials:
        return CallbackCredentials(self.scoring_callback_username, self.scoring_callback_password)

    def sign_in_policy(self) -> SignInPolicy:
        return SignInPolicy(
            access=TokenPolicy(
                secret=self.jwt_secret,
                issuer=self.jwt_issuer,
                audience=self.jwt_audience,
                ttl=timedelta(seconds=self.access_token_ttl_seconds),
            ),
            refresh_ttl=timedelta(days=self.refresh_token_ttl_days),
            max_failed_logins=self.max_failed_logins,
            failure_window=timedelta(seconds=self.login_lockout_seconds),
            lockout=timedelta(seconds=self.login_lockout_seconds),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
