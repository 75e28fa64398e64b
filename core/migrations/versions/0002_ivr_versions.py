"""IVR versions, activations and draft; routing details on call records

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
    op.create_table(
        "ivr_versions",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("prompt_paths", sa.Text, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_table(
        "ivr_activations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, sa.ForeignKey("ivr_versions.number"), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
    )
    op.create_table(
        "ivr_draft",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("based_on", sa.Integer),
    )
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("after_hours", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("referral", sa.String(40)))
        batch.add_column(sa.Column("overflowed", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        for column in ("overflowed", "referral", "after_hours", "priority"):
            batch.drop_column(column)
    op.drop_table("ivr_draft")
    op.drop_table("ivr_activations")
    op.drop_table("ivr_versions")
