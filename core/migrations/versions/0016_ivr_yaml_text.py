"""the administrator's YAML text beside the IVR draft and each version (issue 19, item 2): the
YAML view keeps its comments; none kept: the document is rendered

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("ivr_draft", "ivr_versions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("yaml_text", sa.Text, nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+ too): recreating ivr_versions, as a
    # batch would on SQLite, fails while ivr_activations' foreign key points at its rows.
    for table in ("ivr_draft", "ivr_versions"):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("yaml_text")
