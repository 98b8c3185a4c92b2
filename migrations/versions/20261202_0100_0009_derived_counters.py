"""the counters kept with every write in one table: derived_counters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:00:00

``report_months`` (a row per report month) and ``data_state`` (one row) become rows of one table,
``derived_counters``, so a write moves all of its counters in one statement (``api.derived.counters``):
months keep their key "YYYY-MM", ``changed`` and ``built``; the data state becomes the row "data_state",
its ``version`` the row's ``changed``.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('derived_counters',
    sa.Column('key', sa.String(length=20), nullable=False, comment='"data_state", or a Europe/London report month "YYYY-MM".'),
    sa.Column('changed', sa.Integer(), nullable=False, comment='Moved by every commit that changes what the counter watches.'),
    sa.Column('built', sa.Integer(), nullable=False, comment="Report months: `changed` when the month's roll-up rows were built."),
    sa.Column('changed_at', api.db.UTCDateTime(timezone=True), nullable=True, comment='When `changed` last moved.'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_derived_counters'))
    )
    op.execute("INSERT INTO derived_counters (key, changed, built, changed_at) "
               "SELECT month, changed, built, NULL FROM report_months")
    op.execute("INSERT INTO derived_counters (key, changed, built, changed_at) "
               "SELECT 'data_state', version, 0, changed_at FROM data_state WHERE id = 1")
    op.drop_table('report_months')
    op.drop_table('data_state')


def downgrade() -> None:
    op.create_table('data_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_state'))
    )
    op.create_table('report_months',
    sa.Column('month', sa.String(length=7), nullable=False, comment='Europe/London month, "YYYY-MM".'),
    sa.Column('changed', sa.Integer(), nullable=False, comment='Bumped by every write touching the month.'),
    sa.Column('built', sa.Integer(), nullable=False, comment='`changed` when the roll-up rows were built.'),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_report_months'))
    )
    op.execute("INSERT INTO data_state (id, version, changed_at) "
               "SELECT 1, changed, COALESCE(changed_at, CURRENT_TIMESTAMP) FROM derived_counters WHERE key = 'data_state'")
    op.execute("INSERT INTO report_months (month, changed, built) "
               "SELECT key, changed, built FROM derived_counters WHERE key <> 'data_state'")
    op.drop_table('derived_counters')
