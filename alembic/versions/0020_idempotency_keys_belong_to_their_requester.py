"""idempotency keys belong to their requester (unique per user, not across users)

Each row made by an idempotent request (loan applications, payments, provider fund moves)
gets `requested_by`, the id of the user who sent the request (0: the system, which
`domain.idempotency.SYSTEM_REQUESTER` names), and its key becomes unique per requester.

Who sent the earlier requests was never stored, so existing rows are credited to the user
the row belongs to: the customer's user for applications and payments (most are their own
requests), the provider's user for fund moves, else 0 (imported customers without a user).
A key staff used for someone before this migration is theirs no more: staff retrying such a
request after the upgrade would not get the first result, but a new request.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OWNERS = {
    'loan_applications': (
        "SELECT c.user_id FROM customers c WHERE c.id = loan_applications.customer_id"
    ),
    'payments': (
        "SELECT c.user_id FROM loans l JOIN customers c ON c.id = l.customer_id "
        "WHERE l.id = payments.loan_id"
    ),
    'provider_operations': (
        "SELECT p.user_id FROM providers p WHERE p.id = provider_operations.provider_id"
    ),
}


def upgrade() -> None:
    for table, owner in OWNERS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('requested_by', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET requested_by = COALESCE(({owner}), 0)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('requested_by', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(f'uq_{table}_idempotency_key', type_='unique')
            batch_op.create_unique_constraint(
                f'uq_{table}_requested_by_key', ['requested_by', 'idempotency_key']
            )


def downgrade() -> None:
    # Fails if two users used the same key meanwhile: keys were global before.
    for table in reversed(list(OWNERS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_requested_by_key', type_='unique')
            batch_op.create_unique_constraint(f'uq_{table}_idempotency_key', ['idempotency_key'])
            batch_op.drop_column('requested_by')
