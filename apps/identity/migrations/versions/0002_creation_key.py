"""Remember the Idempotency-Key of the registration that opened each account.

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
    op.add_column("users", sa.Column("creation_key", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "creation_key")
