"""The login throttle counts every failure even when attempts arrive at once (PostgreSQL)."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from app.db import make_engine, make_session_factory
from domain.errors import DomainError
from domain.sign_in import log_in
from domain.tables import utcnow
from domain.users import Role, create_user
from tests.conftest import make_settings
from tests.databases import empty_all_tables


def test_concurrent_wrong_passwords_lock_the_username_after_exactly_the_limit(
    postgresql_url: str,
) -> None:
    engine = make_engine(postgresql_url, pool_size=20)
    empty_all_tables(engine)
    sessions = make_session_factory(engine)
    policy = make_settings(postgresql_url).sign_in_policy()
    with sessions() as session:
        create_user(session, "asha", "correct horse battery", Role.CUSTOMER)
        session.commit()

    def attempt(_: int) -> str:
        with sessions() as session:
            try:
                log_in(session, policy, "asha", "wrong password", utcnow())
            except DomainError as error:
                if error.commit_changes:
                    session.commit()
                return error.code
            return "SIGNED_IN"

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = Counter(pool.map(attempt, range(20)))
    finally:
        engine.dispose()
    assert outcomes == Counter(
        {
            "INVALID_CREDENTIALS": policy.max_failed_logins,
            "TOO_MANY_LOGIN_ATTEMPTS": 20 - policy.max_failed_logins,
        }
    )
