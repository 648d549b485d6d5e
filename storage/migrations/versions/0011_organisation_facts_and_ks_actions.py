"""organisation facts and KS actions

- organisations.population, kostra_group, region (peer groups) and language (nb, nn, se).
- ks_actions with the areas and needs they answer, staff's assessment against the ten
  priority criteria, a plan for spreading results, and which organisation was told of
  which change (at most once each).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ks_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("responsible_unit", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ks_actions")),
    )
    with op.batch_alter_table("ks_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ks_actions_status"), ["status"], unique=False)

    op.create_table(
        "action_criteria",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("assessed_by", sa.String(length=120), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["ks_actions.id"], name=op.f("fk_action_criteria_action_id_ks_actions")
        ),
        sa.PrimaryKeyConstraint("action_id", "criterion", name=op.f("pk_action_criteria")),
    )
    op.create_table(
        "action_disseminations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("responsible_staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["ks_actions.id"],
            name=op.f("fk_action_disseminations_action_id_ks_actions"),
        ),
        sa.ForeignKeyConstraint(
            ["responsible_staff_id"],
            ["staff.id"],
            name=op.f("fk_action_disseminations_responsible_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_disseminations")),
    )
    with op.batch_alter_table("action_disseminations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_disseminations_action_id"), ["action_id"], unique=False
        )

    op.create_table(
        "action_notices",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=40), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["ks_actions.id"], name=op.f("fk_action_notices_action_id_ks_actions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_action_notices_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "action_id", "organisation_id", "change", name=op.f("pk_action_notices")
        ),
    )
    op.create_table(
        "action_areas",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["ks_actions.id"], name=op.f("fk_action_areas_action_id_ks_actions")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_action_areas_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("action_id", "round_id", "area", name=op.f("pk_action_areas")),
    )
    op.create_table(
        "action_needs",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=120), nullable=False),
        sa.Column("linked_by", sa.String(length=120), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["ks_actions.id"], name=op.f("fk_action_needs_action_id_ks_actions")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_action_needs_response_id_responses")
        ),
        sa.PrimaryKeyConstraint(
            "action_id", "response_id", "question_id", name=op.f("pk_action_needs")
        ),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("population", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("kostra_group", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=60), nullable=True))
        batch_op.add_column(
            sa.Column("language", sa.String(length=2), server_default="nb", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("language")
        batch_op.drop_column("region")
        batch_op.drop_column("kostra_group")
        batch_op.drop_column("population")

    op.drop_table("action_needs")
    op.drop_table("action_areas")
    op.drop_table("action_notices")
    with op.batch_alter_table("action_disseminations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_disseminations_action_id"))

    op.drop_table("action_disseminations")
    op.drop_table("action_criteria")
    with op.batch_alter_table("ks_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ks_actions_status"))

    op.drop_table("ks_actions")
