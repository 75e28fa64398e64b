"""call summaries: the after-call summary of a call, without personal data (issue 16, item 4)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_summaries",
        sa.Column(
            "record_id",
            sa.String(32),
            sa.ForeignKey("call_records.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("texts", sa.JSON, nullable=False),
        sa.Column("saved_by", sa.String(80), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("menu_version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_summaries")
