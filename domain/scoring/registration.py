"""Lendgraph's registration with the external scoring engine (RULES.md §3): the client token
the engine gave us, and the HTTP Basic credentials the engine uses to pull transactions back
(only their argon2 hash is kept; they are checked in constant time)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Field, Session, SQLModel

from domain.passwords import hash_password, verify_password
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
    row.password_hash = hash_password(credentials.password)
    session.add(row)
    session.flush()
    return row


def current_registration(session: Session) -> ScoringRegistration | None:
    return session.get(ScoringRegistration, SINGLETON)


def engine_may_read(session: Session, username: str, password: str) -> bool:
    """True only for the registered credentials. The password hash is verified even when the
    username is wrong or nothing is registered, so a wrong guess costs the same time."""
    row = current_registration(session)
    name_matches = row is not None and hmac.compare_digest(row.username.encode(), username.encode())
    password_matches = verify_password(row.password_hash if row else None, password)
    return name_matches and password_matches
