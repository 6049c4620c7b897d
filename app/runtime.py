"""Wiring for one process: database, broker, event hub, outbox dispatch, embedded worker."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import dramatiq
import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from app.attempt_limits import AttemptLimiter
from app.db import make_engine, make_session_factory
from app.events import EventHub, make_event_hub
from app.settings import Settings
from app.sign_in_check import RevokingPublisher, SignInCheck
from domain import registry  # noqa: F401 - every table is known before the first query
from domain.billing.calendar import business_date
from domain.billing.runs import request_close, resume_stalled_runs
from domain.core_banking import CoreBanking
from domain.customers import Customer
from domain.errors import DomainError
from domain.outbox import (
    OutboxMessage,
    ProcessedMessage,
    count_pending,
    emit_job,
    requeue_lost_jobs,
)
from domain.scoring.progress import resume_stalled
from domain.sign_in import purge_expired
from domain.tables import utcnow
from domain.unit_of_work import UnitOfWork
from integrations.cbs.client import SoapCoreBanking
from integrations.email import SmtpEmailSender
from integrations.scoring_engine import HttpScoringEngine
from workers import runtime as worker_runtime
from workers.actors import load_actor_modules
from workers.broker import setup_broker
from workers.completion import longer_waits
from workers.outbox import BrokerUnavailable, OutboxDispatcher, events_since
from workers.scheduler import Job, LeaderLock, run_scheduler

log = structlog.get_logger(__name__)


def _email_sender(settings: Settings) -> SmtpEmailSender | None:
    if not settings.smtp_host:
        return None
    return SmtpEmailSender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    events: EventHub
    broker: dramatiq.Broker
    dispatcher: OutboxDispatcher
    jobs: worker_runtime.WorkerRuntime
    sign_ins: SignInCheck
    core_banking: CoreBanking | None = None
    scoring_engine: HttpScoringEngine | None = None
    attempts: AttemptLimiter | None = None
    _worker: dramatiq.Worker | None = None
    _scheduler: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        # Each request thread, signed-in or signing in, holds one connection at most.
        pool_size = settings.worker_threads + settings.sign_in_threads
        engine = make_engine(settings.database_url, pool_size=pool_size)
        session_factory = make_session_factory(engine)
        load_actor_modules(settings.actor_modules)
        events = make_event_hub(
            settings.redis_url,
            settings.queue_namespace,
            history=functools.partial(events_since, session_factory),
        )
        sign_ins = SignInCheck(settings.sign_in_cache_seconds)
        broker = setup_broker(settings.redis_url, settings.queue_namespace)
        dispatcher = OutboxDispatcher(
            session_factory,
            broker,
            RevokingPublisher(events, sign_ins),
            relay_after=timedelta(seconds=settings.outbox_relay_seconds),
        )
        core_banking = (
            SoapCoreBanking(
                settings.cbs_url,
                settings.cbs_username,
                settings.cbs_password,
                timeout=settings.cbs_timeout_seconds,
                paths=(settings.cbs_customer_path, settings.cbs_transactions_path),
            )
            if settings.cbs_url
            else None
        )
        scoring_engine = (
            HttpScoringEngine(settings.scoring_engine_url, timeout=settings.scoring_timeout_seconds)
            if settings.scoring_engine_url
            else None
        )
        jobs = worker_runtime.WorkerRuntime(
            session_factory,
            dispatcher.dispatch,
            scoring_engine=scoring_engine,
            core_banking=core_banking,
            retry_policy=settings.retry_policy(),
            billing_chunk_size=settings.billing_chunk_size,
            email_sender=_email_sender(settings),
        )
        worker_runtime.install(jobs)
        return cls(
            settings,
            engine,
            session_factory,
            events,
            broker,
            dispatcher,
            jobs,
            sign_ins,
            core_banking,
            scoring_engine,
            AttemptLimiter.per_address_and_username(
                settings.rate_limit_per_address,
                settings.rate_limit_per_username,
                settings.redis_url,
                settings.queue_namespace,
            ),
        )

    def make_current(self) -> None:
        """Actors in this process run against this runtime (the last one built, by default)."""
        worker_runtime.install(self.jobs)

    def scheduled_jobs(self) -> list[Job]:
        return [
            ("outbox-relay", self.dispatcher.relay, self.settings.outbox_relay_seconds),
            ("purge-sign-in-records", self.purge_sign_in_records, 3600),
            ("resume-external-scoring", self.resume_external_scoring, 30),
            ("close-business-day", self.close_yesterday, self.settings.billing_check_seconds),
            ("resume-billing-runs", self.resume_billing_runs, self.settings.billing_resume_seconds),
            ("requeue-lost-jobs", self.requeue_lost_jobs, 60),
        ]

    def requeue_lost_jobs(self) -> int:
        """Send again every job no worker finished within JOB_LOST_AFTER_SECONDS (lost inside
        Redis or with a killed worker): e-mails, imports, scores... under the same message id."""
        lost_after = timedelta(seconds=self.settings.job_lost_after_seconds)
        with self.session_factory() as session:
            lost = requeue_lost_jobs(
                session, lost_after, utcnow(), longer_waits(self.broker, lost_after)
            )
            session.commit()
        if lost:
            log.warning("lost_jobs_requeued", message_ids=lost)
            self.dispatcher.dispatch(lost)
        return len(lost)

    def resume_billing_runs(self) -> int:
        """Queue again the chunks of a close that stopped moving (their jobs were lost)."""
        idle_for = timedelta(seconds=self.settings.billing_resume_seconds)
        with self.session_factory() as session:
            uow = UnitOfWork(session, self.dispatcher.dispatch)
            with uow.transaction():
                resumed = resume_stalled_runs(session, utcnow(), idle_for)
                uow.commit()
        if resumed:
            log.info("billing_chunks_resumed", chunks=resumed)
        return resumed

    def close_yesterday(self) -> int:
        """The daily close: once a business day is over, close it (and any day skipped)."""
        with self.session_factory() as session:
            uow = UnitOfWork(session, self.dispatcher.dispatch)
            with uow.transaction():
                yesterday = business_date(session, utcnow()) - timedelta(days=1)
                try:
                    runs = request_close(session, yesterday, utcnow())
                except DomainError as refused:  # e.g. staff already closed a later day
                    log.info("daily_close_skipped", reason=refused.message)
                    return 0
                uow.commit()
        return len(runs)

    def resume_external_scoring(self) -> int:
        """Queue again the scoring steps whose job was lost (RULES.md §3: nothing is lost)."""
        with self.session_factory() as session:
            uow = UnitOfWork(session, self.dispatcher.dispatch)
            with uow.transaction():
                resumed = resume_stalled(session, self.settings.retry_policy(), utcnow())
                uow.commit()
        if resumed:
            log.info("external_scoring_resumed", steps=resumed)
        return resumed

    def purge_sign_in_records(self) -> int:
        with self.session_factory() as session:
            purged = purge_expired(session, self.settings.sign_in_policy(), utcnow())
            session.commit()
        return purged

    def start_worker(self, threads: int = 2) -> dramatiq.Worker:
        self._worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
        self._worker.start()
        return self._worker

    def start_scheduler(self) -> None:
        self._scheduler = threading.Thread(
            target=run_scheduler,
            args=(LeaderLock(self.engine), self.scheduled_jobs(), self._stop),
            kwargs={"backoff_cap": self.settings.recovery_backoff_max_seconds},
            name="scheduler",
            daemon=True,
        )
        self._scheduler.start()

    def run_pending_jobs(self, timeout_seconds: int = 600) -> int:
        """Embedded mode outside `serve` (CLI commands): run every queued job, now.

        With Redis the worker processes do this; a CLI process only dispatches."""
        if not self.settings.embedded_broker:
            try:
                return self.dispatcher.relay(limit=10_000, older_than=timedelta(0))
            except BrokerUnavailable as error:
                log.warning("jobs_left_for_the_relay", error=repr(error))
                return 0
        worker = self._worker or self.start_worker(threads=2)
        processed_before = self._processed_count()
        while True:
            self.dispatcher.relay(limit=1000, older_than=timedelta(0))
            for queue in self.broker.get_declared_queues():
                self.broker.join(queue, timeout=timeout_seconds * 1000)
            worker.join()
            with self.session_factory() as session:
                if count_pending(session) == 0:
                    break
        return self._processed_count() - processed_before

    def _processed_count(self) -> int:
        with self.session_factory() as session:
            return session.exec(select(func.count()).select_from(ProcessedMessage)).one()

    def seed_if_empty(self) -> bool:
        """First start with LENDGRAPH_SEED_DIR: queue the import of its files, once."""
        folder = self.settings.seed_dir
        if folder is None or not self.settings.seed_on_start:
            return False
        with self.session_factory() as session:
            if session.exec(select(func.count()).select_from(Customer)).one() > 0:
                return False
            queued = select(OutboxMessage.id).where(OutboxMessage.name == "seed_from_folder")
            if session.exec(queued).first() is not None:
                return False  # another process (or an earlier start) already queued it
            uow = UnitOfWork(session, self.dispatcher.dispatch)
            emit_job(session, "seed_from_folder", folder=str(folder.resolve()))
            uow.commit()
        log.info("seeding_queued", folder=str(folder))
        return True

    def start_embedded(self) -> None:
        """In embedded mode the worker and scheduler live inside the API process."""
        if self.settings.embedded_broker and self.settings.embedded_worker:
            self.start_worker()
        if self.settings.embedded_broker and self.settings.embedded_scheduler:
            self.start_scheduler()

    def close(self) -> None:
        self._stop.set()
        if self._worker is not None:
            self._worker.stop()
        if self._scheduler is not None:
            self._scheduler.join(timeout=10)
        self.broker.close()
        if self.scoring_engine is not None:
            self.scoring_engine.close()
        self.engine.dispose()
