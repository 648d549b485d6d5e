"""staff accounts, their tokens and web sessions, one audit log; chats may belong to staff

- staff: KS staff and admins, separate from members' contacts (role viewer/staff/admin).
- staff_tokens: hashed single-use login links, chat-binding codes and API tokens.
- staff_sessions: signed-in browsers (hashed cookie token, CSRF token, idle expiry).
- audit_log: every write from the workspace, the API, the CLI and chat commands.
- chats.staff_id: a chat bound to a staff member (admin commands, previews).
- Existing admin contacts become admin staff accounts (their e-mail, or a placeholder
  ``contact-<id>@lyttepost.invalid`` to be corrected), and their chats are bound to them.
- contacts.is_admin goes: the admin role belongs to staff accounts now.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_email")),
    )
    op.create_table(
        "staff_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_tokens_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_tokens_token_hash")),
    )
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_tokens_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_sessions_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"], unique=False)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("door", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_chats_staff_id"), ["staff_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_chats_staff_id_staff"), "staff", ["staff_id"], ["id"]
        )
    _admin_contacts_become_staff()
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("is_admin")


def _admin_contacts_become_staff() -> None:
    """Each admin contact gets an admin staff account, and its chats are bound to it."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    admins = bind.execute(
        sa.text("SELECT id, name, email FROM contacts WHERE is_admin AND erased_at IS NULL")
    ).all()
    taken: set[str] = set()
    for contact_id, name, email in admins:
        address = (email or "").strip().lower()
        if not address or address in taken:
            address = f"contact-{contact_id}@lyttepost.invalid"
        taken.add(address)
        staff_id = bind.execute(
            sa.text(
                "INSERT INTO staff (name, email, role, active, created_at) "
                "VALUES (:name, :email, 'admin', :active, :now) RETURNING id"
            ),
            {"name": name, "email": address, "active": True, "now": now},
        ).scalar_one()
        bind.execute(
            sa.text("UPDATE chats SET staff_id = :staff WHERE contact_id = :contact"),
            {"staff": staff_id, "contact": contact_id},
        )


def downgrade() -> None:
    # Contacts whose chat is bound to an active admin account get the old role back;
    # every other staff account, secret, session and audit entry has no place there.
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.get_bind().execute(
        sa.text(
            "UPDATE contacts SET is_admin = :yes WHERE id IN (SELECT chats.contact_id FROM "
            "chats JOIN staff ON staff.id = chats.staff_id "
            "WHERE staff.role = 'admin' AND staff.active)"
        ),
        {"yes": True},
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_chats_staff_id_staff"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_chats_staff_id"))
        batch_op.drop_column("staff_id")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_audit_log_staff_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))
    op.drop_table("staff_sessions")
    with op.batch_alter_table("staff_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_tokens_staff_id"))
    op.drop_table("staff_tokens")
    op.drop_table("staff")
