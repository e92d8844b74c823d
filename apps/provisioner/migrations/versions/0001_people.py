"""People of a school: its administrators, teachers and students.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_users",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.Unicode(200), nullable=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "teachers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Unicode(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True, unique=True),
        sa.Column("subject", sa.Unicode(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "students",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.Unicode(200), nullable=False),
        sa.Column("student_number", sa.String(50), nullable=True, unique=True),
        sa.Column("grade_level", sa.Integer, nullable=True),
        sa.Column("date_of_birth", sa.Date, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("students")
    op.drop_table("teachers")
    op.drop_table("admin_users")
