"""languages

- contacts.language: the language a contact chose with /sprak (None: their organisation's).
- chats.language_hint: the language the chat app reports (Telegram ``language_code``,
  Teams ``locale``), kept as a suggestion, never used silently.
- publications.translations: a broadcast's or notice's text per language besides bokmål.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=2), nullable=True))
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language_hint", sa.String(length=20), nullable=True))
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("translations", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_column("translations")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_column("language_hint")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("language")
