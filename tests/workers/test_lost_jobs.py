"""Lost jobs are sent again (issue 21.3): a job no worker finished — an e-mail among them —
goes out once more under the same id, once; a job delivered twice takes effect once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from typing import Any

import dramatiq
import pytest
from aiosmtpd.controller import Controller
from dramatiq.broker import MessageProxy
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app.runtime import Runtime
from domain.customers import Customer
from domain.notifications import DELIVER_ACTOR, Notification, NotificationKind, notify
from domain.outbox import OutboxMessage
from domain.tables import utcnow
from domain.unit_of_work import UnitOfWork
from domain.users import Role, create_user
from tests.conftest import PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import free_port
from workers.completion import finished
from workers.notification_actors import deliver_notification

LOST_AFTER = 1  # JOB_LOST_AFTER_SECONDS in these tests


class Inbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.slow = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.slow)
        self.subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def runtime(database_url: str, inbox: tuple[Inbox, int]) -> Iterator[Runtime]:
    """An embedded runtime with nothing consuming jobs until a test starts its worker."""
    settings = make_settings(
        database_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=inbox[1],
        EMBEDDED_WORKER=False,
        JOB_LOST_AFTER_SECONDS=LOST_AFTER,
    )
    built = Runtime.build(settings)
    empty_all_tables(built.engine)
    try:
        yield built
    finally:
        built.close()


def _notify(runtime: Runtime, about: str, title: str) -> int:
    """Tell Asha something (she has an address), as a use case does; the notification's id."""
    with runtime.session_factory() as session:
        uow = UnitOfWork(session, runtime.dispatcher.dispatch)
        with uow.transaction():
            user_id = _asha(session)
            notify(
                session,
                user_id=user_id,
                kind=NotificationKind.PAYMENT_RECEIVED,
                about=about,
                title=title,
                body="Thank you.",
                loan_id=None,
                now=utcnow(),
            )
            uow.commit()
    return _email_job(runtime, about)[1]


def _asha(session: Any) -> int:
    found = session.exec(select(Customer.user_id).where(Customer.phone == "+919800000001"))
    user_id = found.first()
    if user_id is not None:
        return int(user_id)
    user = create_user(session, "asha", PASSWORD, Role.CUSTOMER)
    session.add(
        Customer(
            first_name="Asha",
            last_name="Rao",
            age=34,
            phone="+919800000001",
            email="asha@example.in",
            monthly_income_minor=5_000_000,
            approved_limit_minor=0,
            user_id=user.id,
        )
    )
    session.flush()
    assert user.id is not None
    return user.id


def _email_job(runtime: Runtime, about: str) -> tuple[str, int]:
    """The outbox id of the e-mail job for the notification about `about`, and its id."""
    key = f"{NotificationKind.PAYMENT_RECEIVED.value}:{about}"
    with runtime.session_factory() as session:
        wanted = session.exec(select(Notification.id).where(Notification.dedupe_key == key)).one()
        jobs = session.exec(select(OutboxMessage).where(OutboxMessage.name == DELIVER_ACTOR)).all()
    [job] = [j for j in jobs if j.payload["notification_id"] == wanted]
    assert wanted is not None
    return job.id, wanted


def _run_jobs(runtime: Runtime) -> None:
    worker = runtime._worker or runtime.start_worker(threads=2)
    runtime.broker.join("notifications", timeout=30_000)
    worker.join()


def test_an_email_job_lost_before_any_worker_got_it_is_sent_again_once(
    runtime: Runtime, inbox: tuple[Inbox, int]
) -> None:
    mail, _ = inbox
    _notify(runtime, "payment:1", "Payment received")
    runtime.broker.flush("notifications")  # the queue lost it: no worker will ever see it
    assert runtime.requeue_lost_jobs() == 0  # not yet overdue

    time.sleep(LOST_AFTER + 0.2)
    assert runtime.requeue_lost_jobs() == 1
    assert runtime.requeue_lost_jobs() == 0  # on its way again: not sent a third time
    _run_jobs(runtime)
    assert mail.subjects == ["Payment received"]

    time.sleep(LOST_AFTER + 0.2)
    assert runtime.requeue_lost_jobs() == 0  # a worker finished it: never sent again
    assert mail.subjects == ["Payment received"]


def test_an_email_job_delivered_twice_sends_one_email(
    runtime: Runtime, inbox: tuple[Inbox, int]
) -> None:
    mail, _ = inbox
    _notify(runtime, "payment:2", "Payment received")
    _run_jobs(runtime)
    message_id, _ = _email_job(runtime, "payment:2")
    actor = runtime.broker.get_actor(DELIVER_ACTOR)
    duplicate = dramatiq.Message(
        queue_name=actor.queue_name,
        actor_name=DELIVER_ACTOR,
        args=(),
        kwargs={"message_id": message_id, "notification_id": _email_job(runtime, "payment:2")[1]},
        options={},
        message_id=message_id,
    )
    runtime.broker.enqueue(duplicate)  # the broker hands the same job over again
    _run_jobs(runtime)
    assert mail.subjects == ["Payment received"]


def test_duplicates_of_an_email_job_running_at_once_send_one_email(
    runtime: Runtime, inbox: tuple[Inbox, int]
) -> None:
    mail, _ = inbox
    mail.slow = 0.5  # the first job is still talking to the mail server when the others start
    notification_id = _notify(runtime, "payment:3", "Payment received")
    runtime.broker.flush("notifications")
    message_id, _ = _email_job(runtime, "payment:3")
    start = threading.Barrier(4)

    def deliver() -> str:
        start.wait()
        try:
            deliver_notification.fn(message_id, notification_id)
        except dramatiq.Retry:
            return "retry later"
        return "done"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(lambda _: deliver(), range(4)))
    assert mail.subjects == ["Payment received"]
    assert outcomes.count("done") >= 1
    deliver_notification.fn(message_id, notification_id)  # a later retry finds it sent
    assert mail.subjects == ["Payment received"]


def _proxy(failed: bool) -> MessageProxy:
    proxy = MessageProxy(dramatiq.Message("q", "a", (), {}, {}))
    if failed:
        proxy.fail()
    return proxy


@pytest.mark.parametrize(
    ("error", "out_of_retries", "is_finished"),
    [
        (None, False, True),  # succeeded
        (ValueError("a bug"), False, False),  # Dramatiq tries it again
        (ValueError("a bug"), True, True),  # failed for good: dead-lettered, not lost
        (OperationalError("SELECT 1", {}, ConnectionRefusedError()), True, False),  # an outage
        (dramatiq.Retry("a duplicate is sending"), True, False),
    ],
)
def test_a_job_counts_as_finished_when_it_succeeded_or_failed_for_good_on_its_own(
    error: BaseException | None, out_of_retries: bool, is_finished: bool
) -> None:
    assert finished(_proxy(out_of_retries), error) is is_finished
