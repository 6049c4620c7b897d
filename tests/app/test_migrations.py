"""The migrations build exactly the tables the models describe, on both databases."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from app.migrations import migrate


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
