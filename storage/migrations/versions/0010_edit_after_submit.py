"""changing a submitted response: a per-round setting, a draft, and submitted versions

- rounds.allow_edit_after_submit: whether a submitted response can be opened again and
  changed while the round is open (default true).
- responses.draft: the engine state of a submitted response opened again; the submitted
  state and answers stay in force until it is sent in again.
- response_versions: every submission's answers, numbered per response, with who sent
  it in. Responses submitted before this migration get their submission as version 1.

Revision ID: 0010
Revises: 0008 (the coordinator re-chains this onto 0009 when merging)
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        batch.add_column(
            sa.Column(
                "allow_edit_after_submit", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )
    with op.batch_alter_table("responses") as batch:
        batch.add_column(sa.Column("draft", sa.JSON(), nullable=True))
    versions = op.create_table(
        "response_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_response_versions_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_versions_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_versions")),
        sa.UniqueConstraint(
            "response_id", "number", name=op.f("uq_response_versions_response_id_number")
        ),
    )
    responses = sa.table(
        "responses",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("state", sa.JSON()),
        sa.column("submitted_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("contact_id", sa.Integer()),
    )
    rows = op.get_bind().execute(
        sa.select(
            responses.c.id,
            responses.c.state,
            responses.c.submitted_at,
            responses.c.updated_at,
            responses.c.contact_id,
        ).where(responses.c.status == "submitted")
    )
    first: list[dict[str, Any]] = [
        {
            "response_id": row.id,
            "number": 1,
            "answers": (row.state or {}).get("answers", {}),
            "submitted_at": row.submitted_at or row.updated_at,
            "contact_id": row.contact_id,
        }
        for row in rows
    ]
    if first:
        op.bulk_insert(versions, first)


def downgrade() -> None:
    op.drop_table("response_versions")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("draft")
    with op.batch_alter_table("rounds") as batch:
        batch.drop_column("allow_edit_after_submit")
