"""staff tags on needs and a quotable mark

- need_tags: labels staff put on a need (a free-text need answer, named by its response
  and question id), many per need, each once, with who added it and when.
- quotable_needs: needs staff marked as quotable, with who marked them and when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "need_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_need_tags_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need_tags")),
        sa.UniqueConstraint(
            "response_id",
            "question_id",
            "label",
            name=op.f("uq_need_tags_response_id_question_id_label"),
        ),
    )
    with op.batch_alter_table("need_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_tags_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_need_tags_label"), ["label"], unique=False)
    op.create_table(
        "quotable_needs",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=120), nullable=False),
        sa.Column("marked_by", sa.String(length=120), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_quotable_needs_response_id_responses"),
        ),
        sa.PrimaryKeyConstraint("response_id", "question_id", name=op.f("pk_quotable_needs")),
    )


def downgrade() -> None:
    op.drop_table("quotable_needs")
    with op.batch_alter_table("need_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_tags_label"))
        batch_op.drop_index(batch_op.f("ix_need_tags_response_id"))
    op.drop_table("need_tags")
