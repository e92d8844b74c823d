"""Record what a placing request asked for, and whether an order's reservation still needs settling.

Existing orders need nothing settled: until this revision, catalog was settled before each transition.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("request_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("settlement_due", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.create_index("ix_orders_settlement_due", ["settlement_due"])


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_settlement_due")
        batch.drop_column("settlement_due")
        batch.drop_column("request_hash")
