"""Background jobs of external scoring (RULES.md §3): ask the engine, then query it until a
score decides the application. The engine is called outside any transaction; its answer is
applied only if the scoring is still at the step this job was for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import dramatiq
import structlog
from sqlmodel import Session

from domain.external_decisions import (
    ScoringStep,
    record_answer,
    record_outage,
    record_token,
    step_due,
)
from domain.scoring.external import (
    ScoringClientRejected,
    ScoringEngine,
    ScoringEngineUnavailable,
)
from domain.scoring.progress import INITIATE_ACTOR, QUERY_ACTOR, RetryPolicy, ScoringStage
from domain.scoring.registration import current_registration
from domain.tables import utcnow
from workers import runtime

log = structlog.get_logger(__name__)
T = TypeVar("T")
NOT_REGISTERED = "Lendgraph is not registered with the scoring engine (lendgraph scoring register)"


def _due(application_id: int, stage: ScoringStage, step_number: int) -> tuple[ScoringStep, str]:
    """The step to take and the client token; LookupError when this job is stale."""
    current = runtime.current()
    with current.unit_of_work() as uow:
        step = step_due(
            uow.session,
            application_id,
            stage=stage,
            step=step_number,
            policy=current.retry_policy,
            now=utcnow(),
        )
        registration = current_registration(uow.session)
        token = registration.client_token if registration is not None else ""
        uow.commit()
    if step is None:
        raise LookupError
    return step, token


def _engine() -> ScoringEngine:
    engine = runtime.current().scoring_engine
    if engine is None:
        raise ScoringEngineUnavailable("no scoring engine is configured (SCORING_ENGINE_URL)")
    return engine


def _wait_for_engine(
    step: ScoringStep, failure: ScoringEngineUnavailable | ScoringClientRejected, asked_at: datetime
) -> None:
    current = runtime.current()
    log.warning(
        "scoring_engine_unavailable", application_id=step.application_id, detail=failure.message
    )
    with current.unit_of_work() as uow:
        record_outage(uow.session, step, failure, current.retry_policy, utcnow(), asked_at=asked_at)
        uow.commit()


def _take_step(
    application_id: int,
    stage: ScoringStage,
    step: int,
    ask: Callable[[ScoringEngine, ScoringStep, str], T],
    record: Callable[[Session, ScoringStep, T, RetryPolicy, datetime], None],
) -> None:
    """Call the engine for this step (outside any transaction), then record its answer in
    one; a stale job does nothing, an outage reschedules the same step."""
    try:
        due, client_token = _due(application_id, stage, step)
    except LookupError:
        log.info("scoring_step_skipped", application_id=application_id, step=step)
        return
    asked_at = utcnow()
    try:
        if not client_token:
            raise ScoringEngineUnavailable(NOT_REGISTERED)
        answer = ask(_engine(), due, client_token)
    except (ScoringEngineUnavailable, ScoringClientRejected) as error:
        _wait_for_engine(due, error, asked_at)
        return
    current = runtime.current()
    with current.unit_of_work() as uow:
        record(uow.session, due, answer, current.retry_policy, utcnow())
        uow.commit()
    log.info("scoring_step_done", application_id=application_id, stage=stage.value, step=step)


@dramatiq.actor(actor_name=INITIATE_ACTOR, queue_name="scoring", max_retries=3)
def initiate_external_score(message_id: str, application_id: int, step: int) -> None:
    """Ask the engine to score the applicant; keep the token it returns."""
    _take_step(
        application_id,
        ScoringStage.INITIATE,
        step,
        lambda engine, due, client: engine.initiate(due.customer_number, client),
        record_token,
    )


@dramatiq.actor(actor_name=QUERY_ACTOR, queue_name="scoring", max_retries=3)
def query_external_score(message_id: str, application_id: int, step: int) -> None:
    """Ask for the score; decide on it, or try again after the backoff (FAILED at the end)."""
    _take_step(
        application_id,
        ScoringStage.QUERY,
        step,
        lambda engine, due, client: engine.query(due.token or "", client),
        record_answer,
    )
