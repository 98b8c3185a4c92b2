"""booking requests without a time (preferred_windows), change requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00

A partner's booking request may have no time yet: ``bookings.starts_at``/``ends_at`` become nullable (both or
neither, CHECK ``timed``) and ``preferred_windows`` holds the windows it asked for. ``change_requests`` holds a
partner's requests to change a booking it can no longer edit, and the programme team's answer.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_windows', sa.JSON(), nullable=True, comment="A partner's request: [{from, to}] (UTC text) it would like the session within."))
        batch_op.alter_column('starts_at', existing_type=api.db.UTCDateTime(timezone=True), nullable=True,
                              comment='NULL for a partner\'s request that has no time yet (see preferred_windows).')
        batch_op.alter_column('ends_at', existing_type=api.db.UTCDateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(op.f('ck_bookings_timed'), '(starts_at IS NULL) = (ends_at IS NULL)')
    op.create_table('change_requests',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=True, comment='The booking\'s partner, copied so lists scope in one query.'),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('starts_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ends_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('video_url', sa.String(length=1000), nullable=True),
    sa.Column('fields_named', sa.String(length=200), nullable=False, comment='Comma-separated booking fields the request changes (a named null clears).'),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True, comment="The programme team's answer."),
    sa.Column('resolved_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, comment='Bumped on every change; the UPDATE is conditional on it (ETag/If-Match).'),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_change_requests_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_change_requests_partner_id_partners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests'))
    )
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_requests_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_requests_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_requests_updated_at'))
        batch_op.drop_index(batch_op.f('ix_change_requests_status'))
        batch_op.drop_index(batch_op.f('ix_change_requests_partner_id'))
        batch_op.drop_index(batch_op.f('ix_change_requests_booking_id'))
    op.drop_table('change_requests')
    op.execute("DELETE FROM bookings WHERE starts_at IS NULL")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bookings_timed'), type_='check')
        batch_op.alter_column('ends_at', existing_type=api.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.alter_column('starts_at', existing_type=api.db.UTCDateTime(timezone=True), nullable=False,
                              comment=None)
        batch_op.drop_column('preferred_windows')
