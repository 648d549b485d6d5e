"""annual cycle: round plans, reminders, pauses, invitees, history, scheduler lease

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "round_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_events_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_events")),
    )
    with op.batch_alter_table("round_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_events_round_id"), ["round_id"], unique=False)

    op.create_table(
        "round_invitees",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_round_invitees_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_round_invitees_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_invitees_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("round_id", "contact_id", name=op.f("pk_round_invitees")),
    )
    with op.batch_alter_table("round_invitees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_round_invitees_organisation_id"), ["organisation_id"], unique=False
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_round_id"), ["round_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_round_id_rounds"), "rounds", ["round_id"], ["id"]
        )

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    # Server defaults fill the rows of rounds made before this revision.
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_key", sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column("reminder_rules", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("quiet_rules", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch_op.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("last_reminder_for", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("closed_notices_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_unique_constraint(batch_op.f("uq_rounds_plan_key"), ["plan_key"])


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_rounds_plan_key"), type_="unique")
        for column in (
            "version", "updated_at", "closed_notices_at", "last_reminder_for",
            "cancelled_at", "paused_at", "quiet_rules", "reminder_rules", "plan_key",
        ):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_round_id_rounds"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_round_id"))
        batch_op.drop_column("round_id")
    with op.batch_alter_table("round_invitees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_invitees_organisation_id"))
    op.drop_table("round_invitees")
    with op.batch_alter_table("round_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_events_round_id"))
    op.drop_table("round_events")
    op.drop_table("leases")
