"""The migrations build exactly the tables the models describe, on both databases."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.migrations import migrate
from domain.idempotency import SYSTEM_REQUESTER
from tests.conftest import BACKENDS
from tests.services import PG_ADMIN_URL, RUN_ID, require


def test_migrated_database_matches_the_models(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_applications_left_pending_before_external_scoring_are_scored_or_failed(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    migrate(url, "0011")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        product = connection.execute(
            sa.text("SELECT id FROM loan_products WHERE code = 'SCORED_MICRO'")
        ).scalar_one()
        for number, phone in (("234774784", "+254712345678"), (None, "+254712345679")):
            customer = connection.execute(
                sa.text(
                    "INSERT INTO customers (first_name, last_name, age, phone, currency, "
                    "monthly_income_minor, approved_limit_minor, status, national_id_verified, "
                    "customer_number, created_at) VALUES ('A', 'B', 30, :phone, 'KES', 100, 0, "
                    "'ACTIVE', 0, :number, '2026-11-01 10:00:00') RETURNING id"
                ),
                {"phone": phone, "number": number},
            ).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO loan_applications (customer_id, product_id, currency, "
                    "amount_minor, interest_rate, tenure, disbursement_date, status, reasons, "
                    "idempotency_key, fingerprint, created_at) VALUES (:customer, :product, "
                    "'KES', 100000, 100000, 30, '2026-11-01', 'PENDING', '[]', :key, 'f', "
                    "'2026-11-01 10:00:00')"
                ),
                {"customer": customer, "product": product, "key": f"key-{customer}-pending"},
            )

    migrate(url)

    with engine.connect() as connection:
        statuses = connection.execute(
            sa.text("SELECT customer_id, status FROM loan_applications ORDER BY customer_id")
        ).all()
        scorings = connection.execute(
            sa.text("SELECT customer_number, stage, step FROM external_scorings")
        ).all()
    engine.dispose()
    assert [status for _, status in statuses] == ["PENDING", "FAILED"]
    assert [tuple(row) for row in scorings] == [("234774784", "INITIATE", 0)]


@pytest.fixture(params=BACKENDS)
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, to migrate one step at a time."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'steps.db'}"
        return
    require(PG_ADMIN_URL, "PostgreSQL")
    name = f"lendgraph_steps_{RUN_ID}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _insert(connection: sa.Connection, table: str, **values: object) -> int:
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    statement = f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id"
    return int(connection.execute(sa.text(statement), values).scalar_one())


def _keys_used_before_0020(connection: sa.Connection) -> dict[str, int]:
    """Asha (a signed-in customer) and a walk-in customer (no user) each applied and paid
    with a key; Anil (a provider) added funds with one. Their users' ids by name."""
    at = datetime(2026, 12, 1, 10, tzinfo=UTC)
    users = {
        name: _insert(
            connection,
            "users",
            username=name,
            password_hash="x",
            role=role,
            is_active=True,
            created_at=at,
        )
        for name, role in (("asha", "CUSTOMER"), ("anil", "PROVIDER"))
    }
    product = connection.execute(
        sa.text("SELECT id FROM loan_products WHERE code = 'PERSONAL_EMI'")
    ).scalar_one()
    person = {"last_name": "B", "age": 30, "national_id_verified": False, "currency": "INR"}
    for n, user in enumerate((users["asha"], None)):
        customer = _insert(
            connection,
            "customers",
            first_name=f"C{n}",
            phone=f"+9198000000{n}",
            monthly_income_minor=100,
            approved_limit_minor=0,
            status="ACTIVE",
            user_id=user,
            created_at=at,
            **person,
        )
        key = f"customer-{n}-key"
        _insert(
            connection,
            "loan_applications",
            customer_id=customer,
            product_id=product,
            currency="INR",
            amount_minor=100000,
            interest_rate=120000,
            tenure=6,
            disbursement_date=at.date(),
            status="REJECTED",
            reasons="[]",
            idempotency_key=key,
            fingerprint="f",
            created_at=at,
        )
        loan = _insert(
            connection,
            "loans",
            number=1000 + n,
            customer_id=customer,
            currency="INR",
            principal_minor=100000,
            interest_rate=120000,
            tenure=6,
            installment_minor=17000,
            emis_paid_on_time=0,
            start_date=at.date(),
            end_date=at.date(),
            status="ACTIVE",
            origin="ORIGINATED",
            created_at=at,
        )
        payment = _insert(
            connection,
            "payments",
            loan_id=loan,
            currency="INR",
            amount_minor=100,
            principal_minor=100,
            interest_minor=0,
            paid_on=at.date(),
            idempotency_key=key,
            fingerprint="f",
            created_at=at,
        )
        _insert(  # a row referring to the payment, which SQLite's migration re-creates
            connection,
            "payment_allocations",
            payment_id=payment,
            kind="PREPAYMENT",
            principal_minor=100,
            interest_minor=0,
        )
    provider = _insert(
        connection, "providers", user_id=users["anil"], name="Anil", currency="INR", created_at=at
    )
    _insert(
        connection,
        "provider_operations",
        idempotency_key="anil-key",
        fingerprint="f",
        provider_id=provider,
        kind="ADD",
        amount_minor=100,
        available_after_minor=100,
        wallet_after_minor=0,
        created_at=at,
    )
    return users


def test_keys_used_before_0020_belong_to_the_user_whose_row_it_is(unmigrated_url: str) -> None:
    migrate(unmigrated_url, "0019")
    engine = sa.create_engine(unmigrated_url)
    try:
        with engine.begin() as connection:
            users = _keys_used_before_0020(connection)

        migrate(unmigrated_url)

        owners = {}
        with engine.begin() as connection:
            for table in ("loan_applications", "payments", "provider_operations"):
                owners[table] = dict(
                    connection.execute(  # type: ignore[arg-type]
                        sa.text(f"SELECT idempotency_key, requested_by FROM {table}")
                    ).all()
                )
            # the walk-in's payment may take asha's key: it is another requester's
            connection.execute(
                sa.text(
                    "UPDATE payments SET idempotency_key = 'customer-0-key' "
                    "WHERE requested_by = :system"
                ),
                {"system": SYSTEM_REQUESTER},
            )
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.execute(  # but not when both are asha's
                sa.text("UPDATE payments SET requested_by = :asha"), {"asha": users["asha"]}
            )
    finally:
        engine.dispose()
    customers = {"customer-0-key": users["asha"], "customer-1-key": SYSTEM_REQUESTER}
    assert owners == {
        "loan_applications": customers,
        "payments": customers,
        "provider_operations": {"anil-key": users["anil"]},
    }
