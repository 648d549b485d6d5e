"""inbound_events: de-duplicate on (channel, address, update_key)

Teams activity ids are millisecond timestamps, unique only within a conversation: two
members writing in the same millisecond share an id. The unique key now includes the
conversation (``address``), so only a true redelivery is a no-op. Existing rows are
kept; they are unique under the new key because they were under the old one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbound_events_channel_update_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_inbound_events_channel_address_update_key", ["channel", "address", "update_key"]
        )


def downgrade() -> None:
    # Rows that differ only by conversation would clash under the old key: keep the first.
    op.execute(
        "DELETE FROM inbound_events WHERE id NOT IN "
        "(SELECT MIN(id) FROM inbound_events GROUP BY channel, update_key)"
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_constraint("uq_inbound_events_channel_address_update_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_inbound_events_channel_update_key", ["channel", "update_key"]
        )
