"""external scorings remember failed transaction reads (lastError names the CBS)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 18:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('external_scorings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transactions_failed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('transactions_failure', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('external_scorings', schema=None) as batch_op:
        batch_op.drop_column('transactions_failure')
        batch_op.drop_column('transactions_failed_at')
