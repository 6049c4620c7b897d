"""Lendgraph's registration with the external scoring engine (RULES.md §3): the client token
the engine gave us, and the HTTP Basic credentials the engine uses to pull transactions back
(only a salted HMAC-SHA256 of the password is kept; both are compared in constant time)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from domain.scoring.external import ScoringEngine
from domain.tables import timestamp_column

SINGLETON = 1
TRANSACTIONS_PATH = "/scoring/transactions"


class ScoringRegistration(SQLModel, table=True):
    __tablename__ = "scoring_registrations"

    id: int = Field(default=SINGLETON, primary_key=True)
    engine_url: str = Field(max_length=500)
    client_id: int
    client_token: str = Field(max_length=500)
    callback_url: str = Field(max_length=500)
    username: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    registered_at: datetime = Field(sa_column=timestamp_column())


@dataclass(frozen=True)
class CallbackCredentials:
    """What the engine must send (HTTP Basic) to read a customer's transactions."""

    username: str
    password: str


def register_with_engine(
    session: Session,
    engine: ScoringEngine,
    *,
    engine_url: str,
    public_url: str,
    credentials: CallbackCredentials,
    now: datetime,
) -> ScoringRegistration:
    """Call createClient and keep the token; registering again replaces the registration."""
    callback = public_url.rstrip("/") + TRANSACTIONS_PATH
    client = engine.register(callback, "Lendgraph", credentials.username, credentials.password)
    row = session.get(ScoringRegistration, SINGLETON) or ScoringRegistration(
        engine_url=engine_url,
        client_id=client.id,
        client_token=client.token,
        callback_url=callback,
        username=credentials.username,
        password_hash="",
        registered_at=now,
    )
    row.engine_url, row.client_id, row.client_token = engine_url, client.id, client.token
    row.callback_url, row.username, row.registered_at = callback, credentials.username, now
    row.password_hash = password_digest(credentials.password, secrets.token_hex(16))
    session.add(row)
    session.flush()
    return row


def current_registration(session: Session) -> ScoringRegistration | None:
    return session.get(ScoringRegistration, SINGLETON)


def password_digest(password: str, salt: str) -> str:
    """`salt$hex`. A fast keyed hash is enough here: the password is a machine secret of 16+
    random characters (checked in production), not a person's, so it cannot be guessed
    offline; and a slow hash would let anyone load the server with wrong guesses."""
    mac = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
    return f"{salt}${mac}"


def _password_matches(stored: str, password: str) -> bool:
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored.encode(), password_digest(password, salt).encode())


def engine_may_read(session: Session, username: str, password: str) -> bool:
    """True only for the registered credentials, compared in constant time; the password is
    checked even when the username is wrong, so neither is learnt from the time taken."""
    row = current_registration(session)
    stored = row.password_hash if row is not None else password_digest("", "unregistered")
    name = row.username if row is not None else ""
    name_matches = hmac.compare_digest(name.encode(), username.encode())
    password_matches = _password_matches(stored, password)
    return row is not None and name_matches and password_matches
