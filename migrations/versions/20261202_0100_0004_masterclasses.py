"""masterclasses: bookings.trust_id optional, bookings.capacity, registrations

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:00:00

A masterclass is open to board members of many trusts: its ``trust_id`` may be NULL, it has a
``capacity`` (1-500), and its participants are ``registrations`` (registered, waitlisted, cancelled,
attended, no_show) kept in arrival order by ``position``. Existing bookings keep their trust; existing
masterclasses get the default capacity of 30. Stored booking JSON is cleared (it gains ``capacity``,
``registered_count``, ``waitlisted_count`` and ``seats_left``) and re-rendered on the next read.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

VERSION_COMMENT = 'Bumped on every change; the UPDATE is conditional on it (ETag/If-Match).'


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True,
                                      comment='Masterclasses: seats (1-500); NULL otherwise.'))
        batch_op.alter_column('trust_id', existing_type=sa.String(length=36), nullable=True,
                              comment='Required except for a masterclass open to many trusts.')
        batch_op.create_check_constraint(batch_op.f('ck_bookings_capacity'),
                                         'capacity IS NULL OR capacity BETWEEN 1 AND 500')
    op.execute("UPDATE bookings SET capacity = 30 WHERE kind = 'masterclass'")
    # Every booking's JSON now shows capacity and its counts: a new version, rendered on the next read.
    op.execute("UPDATE bookings SET version = version + 1")
    op.execute("UPDATE booking_renderings SET api_doc = NULL, api_doc_partner = NULL")

    op.create_table('registrations',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('contact_id', sa.String(length=36), nullable=False),
    sa.Column('trust_id', sa.String(length=36), nullable=False, comment="The contact's trust when registered (feeds, reports)."),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False, comment='Order of arrival in the class (waiting-list order).'),
    sa.Column('partner_id', sa.String(length=36), nullable=True, comment='The partner that made the registration, if any.'),
    sa.Column('given_name', sa.String(length=200), nullable=True, comment='The name the partner gave.'),
    sa.Column('given_email', sa.String(length=320), nullable=True, comment='The email the partner gave.'),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, comment=VERSION_COMMENT),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_registrations_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_registrations_contact_id_contacts')),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_registrations_partner_id_partners')),
    sa.ForeignKeyConstraint(['trust_id'], ['trusts.id'], name=op.f('fk_registrations_trust_id_trusts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrations')),
    sa.UniqueConstraint('booking_id', 'contact_id', name=op.f('uq_registrations_booking_id_contact_id')),
    sa.UniqueConstraint('booking_id', 'position', name=op.f('uq_registrations_booking_id_position')),
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_booking_status_position', ['booking_id', 'status', 'position'], unique=False)
        batch_op.create_index('ix_registrations_contact_status', ['contact_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_trust_id'), ['trust_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_updated_at'))
        batch_op.drop_index(batch_op.f('ix_registrations_trust_id'))
        batch_op.drop_index(batch_op.f('ix_registrations_partner_id'))
        batch_op.drop_index('ix_registrations_contact_status')
        batch_op.drop_index('ix_registrations_booking_status_position')
    op.drop_table('registrations')
    op.execute("DELETE FROM bookings WHERE trust_id IS NULL")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_bookings_capacity'), type_='check')
        batch_op.alter_column('trust_id', existing_type=sa.String(length=36), nullable=False, comment=None)
        batch_op.drop_column('capacity')
