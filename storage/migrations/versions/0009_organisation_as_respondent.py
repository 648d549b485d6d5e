"""the organisation as respondent: delegates, link codes, handover and approval

- invitations.kind: 'invite' (a contact's own code), 'delegate' (registers a colleague
  answering on behalf of ``issued_by_contact_id``) or 'link' (binds another chat to the
  same contact); invitations.issued_by_contact_id: the member who asked for the code.
- contacts.delegate_for_contact_id: a delegate, and for whom they answer.
- rounds.require_approval: a delegate's submission waits for that contact's approval.
- responses.awaiting_approval_at / approved_at / approved_by_contact_id: the approval.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="invite")
        )
        batch_op.add_column(sa.Column("issued_by_contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_invitations_issued_by_contact_id_contacts",
            "contacts",
            ["issued_by_contact_id"],
            ["id"],
        )
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("delegate_for_contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_contacts_delegate_for_contact_id_contacts",
            "contacts",
            ["delegate_for_contact_id"],
            ["id"],
        )
    with op.batch_alter_table("rounds") as batch_op:
        batch_op.add_column(
            sa.Column("require_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("responses") as batch_op:
        batch_op.add_column(sa.Column("awaiting_approval_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True)))
        batch_op.add_column(sa.Column("approved_by_contact_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_responses_approved_by_contact_id_contacts",
            "contacts",
            ["approved_by_contact_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("responses") as batch_op:
        batch_op.drop_constraint("fk_responses_approved_by_contact_id_contacts", type_="foreignkey")
        batch_op.drop_column("approved_by_contact_id")
        batch_op.drop_column("approved_at")
        batch_op.drop_column("awaiting_approval_at")
    with op.batch_alter_table("rounds") as batch_op:
        batch_op.drop_column("require_approval")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_constraint("fk_contacts_delegate_for_contact_id_contacts", type_="foreignkey")
        batch_op.drop_column("delegate_for_contact_id")
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_constraint("fk_invitations_issued_by_contact_id_contacts", type_="foreignkey")
        batch_op.drop_column("issued_by_contact_id")
        batch_op.drop_column("kind")
