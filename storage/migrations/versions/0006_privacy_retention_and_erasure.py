"""privacy: retention per round, erasure and deactivation of contacts, a privacy log

- rounds.retention_months (default 24) and rounds.personal_data_erased_at: after the
  retention, free text and every link from answers to a person are erased, once.
- responses.contact_id and round_invitees.contact_id become nullable: an erased contact's
  (or an expired round's) answers and invitations stay, linked to no one. round_invitees
  gets a surrogate key for that (its primary key was round + contact).
- contacts.active, deactivated_at, erased_at: deactivation and erasure (a tombstone).
- outbox.purged_at: the text of a finished message was removed after the raw retention.
- SQLite: outbox and inbound_events never reuse the ids of deleted rows (AUTOINCREMENT).
- privacy_log: who exported, erased or deactivated which contact, and when; no data.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retention_months", sa.Integer(), server_default="24", nullable=False)
        )
        batch_op.add_column(
            sa.Column("personal_data_erased_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    # On SQLite, outbox and inbound_events are rebuilt with AUTOINCREMENT: an erasure may
    # delete the newest rows while a sender or processor still holds their ids, and SQLite
    # would otherwise hand those ids to the next rows.
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table(
        "outbox", schema=None, recreate="always" if sqlite else "auto",
        table_kwargs={"sqlite_autoincrement": True},
    ) as batch_op:  # fmt: skip
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    if sqlite:
        with op.batch_alter_table(
            "inbound_events", schema=None, recreate="always",
            table_kwargs={"sqlite_autoincrement": True},
        ):  # fmt: skip
            pass
    # SQLite rebuilds the table here; env.py turns foreign keys off during migrations, so
    # dropping the old copy cannot cascade to answers.
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=True)
    _round_invitees_with_surrogate_key()
    op.create_table(
        "privacy_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_log")),
    )
    with op.batch_alter_table("privacy_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_log_at"), ["at"], unique=False)


def _round_invitees_with_surrogate_key() -> None:
    """round_invitees: an ``id`` primary key, ``contact_id`` nullable, unique (round, contact)."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_round_invitees", "round_invitees", type_="primary")
        op.execute("ALTER TABLE round_invitees ADD COLUMN id SERIAL")  # numbers existing rows
        op.create_primary_key("pk_round_invitees", "round_invitees", ["id"])
        op.alter_column("round_invitees", "contact_id", existing_type=sa.Integer(), nullable=True)
        op.create_unique_constraint(
            "uq_round_invitees_round_id_contact_id", "round_invitees", ["round_id", "contact_id"]
        )
        return
    op.create_table(
        "round_invitees_0006",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_round_invitees_contact_id_contacts"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_round_invitees_organisation_id_organisations",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name="fk_round_invitees_round_id_rounds"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_round_invitees"),
        sa.UniqueConstraint("round_id", "contact_id", name="uq_round_invitees_round_id_contact_id"),
    )
    op.execute(
        "INSERT INTO round_invitees_0006 (round_id, contact_id, organisation_id, invited_at) "
        "SELECT round_id, contact_id, organisation_id, invited_at FROM round_invitees "
        "ORDER BY invited_at, round_id, contact_id"
    )
    op.drop_table("round_invitees")
    op.rename_table("round_invitees_0006", "round_invitees")
    op.create_index(
        "ix_round_invitees_organisation_id", "round_invitees", ["organisation_id"], unique=False
    )


def downgrade() -> None:
    # Rows unlinked from their contact have no place in the old schema.
    op.execute("DELETE FROM round_invitees WHERE contact_id IS NULL")
    op.execute(
        "DELETE FROM answers WHERE response_id IN (SELECT id FROM responses WHERE contact_id IS NULL)"
    )
    op.execute("UPDATE chats SET active_response_id = NULL WHERE active_response_id IN "
               "(SELECT id FROM responses WHERE contact_id IS NULL)")  # fmt: skip
    op.execute("DELETE FROM responses WHERE contact_id IS NULL")
    with op.batch_alter_table("privacy_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_log_at"))
    op.drop_table("privacy_log")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(
            "uq_round_invitees_round_id_contact_id", "round_invitees", type_="unique"
        )
        op.drop_constraint("pk_round_invitees", "round_invitees", type_="primary")
        op.drop_column("round_invitees", "id")
        op.alter_column("round_invitees", "contact_id", existing_type=sa.Integer(), nullable=False)
        op.create_primary_key("pk_round_invitees", "round_invitees", ["round_id", "contact_id"])
    else:
        with op.batch_alter_table("round_invitees", schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint("uq_round_invitees_round_id_contact_id", type_="unique")
            batch_op.drop_column("id")
            batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_primary_key("pk_round_invitees", ["round_id", "contact_id"])
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("active")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("personal_data_erased_at")
        batch_op.drop_column("retention_months")
