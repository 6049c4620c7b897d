"""The external scoring engine (RULES.md §3): a bank's bought-in credit decision, scored
from the customer's CBS transactions. Lendgraph talks to it through the `ScoringEngine` port."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from domain.errors import DomainError

NO_EXCLUSION = "No Exclusion"


@dataclass(frozen=True)
class ScoringClient:
    """Lendgraph's registration with the engine (`createClient`)."""

    id: int
    token: str  # sent as the `client-token` header on scoring calls


@dataclass(frozen=True)
class ScoreReport:
    """The engine's answer to `queryScore`."""

    customer_number: str
    score: int
    limit_amount: Decimal
    exclusion: str
    exclusion_reason: str


class ScoringEngine(Protocol):
    """Raises ScoringEngineUnavailable (down, slow, 5xx, garbled) or ScoringClientRejected."""

    def register(self, url: str, name: str, username: str, password: str) -> ScoringClient: ...

    def initiate(self, customer_number: str, client_token: str) -> str:
        """Start scoring; returns the token to query the score with."""
        ...

    def query(self, token: str, client_token: str) -> ScoreReport | None:
        """The score, or None while the engine is still working on it."""
        ...


class ScoringEngineUnavailable(DomainError):
    code = "SCORING_ENGINE_UNAVAILABLE"

    def __init__(self, detail: str) -> None:
        super().__init__(f"The scoring engine could not be reached: {detail}")
        self.detail = detail


class ScoringClientRejected(DomainError):
    """The engine does not accept Lendgraph's client token (not registered, or forgotten)."""

    code = "SCORING_CLIENT_REJECTED"

    def __init__(self) -> None:
        super().__init__("The scoring engine rejected Lendgraph's client token; register again.")
