"""The agent console: passwords, language, signed-in sessions and one-time password links.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Frozen copies of the models' column types: this revision must not change when the models do.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
TOKEN_TABLES = ("console_sessions", "password_links")


def upgrade() -> None:
    """Add members' password and language; create console_sessions and password_links."""
    with op.batch_alter_table("members") as members:
        members.add_column(sa.Column("language", sa.String(10), nullable=True))
        members.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
    for table in TOKEN_TABLES:
        op.create_table(
            table,
            sa.Column("id", ID, nullable=False),
            sa.Column("member_id", ID, nullable=False),
            sa.Column("token_hash", sa.String(64), nullable=False),
            sa.Column("created_at", TIME, nullable=False),
            sa.Column("expires_at", TIME, nullable=False),
            sa.ForeignKeyConstraint(
                ["member_id"],
                ["members.id"],
                name=op.f(f"fk_{table}_member_id_members"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("token_hash", name=op.f(f"uq_{table}_token_hash")),
        )
        op.create_index(op.f(f"ix_{table}_member_id"), table, ["member_id"])


def downgrade() -> None:
    """Drop the console's tables and the members' password and language."""
    for table in reversed(TOKEN_TABLES):
        op.drop_index(op.f(f"ix_{table}_member_id"), table_name=table)
        op.drop_table(table)
    with op.batch_alter_table("members") as members:
        members.drop_column("password_hash")
        members.drop_column("language")
