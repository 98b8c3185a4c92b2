"""invitation emails (email_messages), email_opt_out on contacts and speakers, contact feeds

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:40:00

``email_messages`` is the iMIP outbox: one row per message and person, holding the whole message and
its Message-ID, claimed by the worker like webhook deliveries. Contacts and speakers get
``email_opt_out`` (false for everyone already there). A feed may belong to one contact.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('email_messages',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('recipient_type', sa.String(length=20), nullable=False, comment='speaker or contact'),
    sa.Column('recipient_id', sa.String(length=36), nullable=False),
    sa.Column('recipient_name', sa.String(length=200), nullable=True),
    sa.Column('recipient_email', sa.String(length=320), nullable=True, comment='Null once the person is erased.'),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='request, update, cancel or reminder'),
    sa.Column('sequence', sa.Integer(), nullable=False, comment="The invite's SEQUENCE in this message."),
    sa.Column('message_id', sa.String(length=255), nullable=False, comment='Message-ID, kept across retries.'),
    sa.Column('body', sa.Text(), nullable=True, comment='The whole message as sent; null once erased.'),
    sa.Column('status', sa.String(length=20), nullable=False, comment='pending, sent, failed, expired'),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', api.db.UTCDateTime(timezone=True), nullable=True, comment="When it is due (a reminder's day)."),
    sa.Column('not_after', api.db.UTCDateTime(timezone=True), nullable=True, comment='Not sent from this time on (the session has started): then `expired`.'),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_email_messages_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_email_messages_message_id'))
    )
    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_messages_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index('ix_email_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_messages_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_messages_updated_at'), ['updated_at'], unique=False)

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True: sent no invitation emails.'))

    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.String(length=36), nullable=True, comment="A board member's own feed (scope contact)."))
        batch_op.create_index(batch_op.f('ix_feeds_contact_id'), ['contact_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_feeds_contact_id_contacts'), 'contacts', ['contact_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('speakers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_opt_out', sa.Boolean(), server_default=sa.false(), nullable=False, comment='True: sent no invitation emails.'))



def downgrade() -> None:
    with op.batch_alter_table('speakers', schema=None) as batch_op:
        batch_op.drop_column('email_opt_out')

    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_feeds_contact_id_contacts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_feeds_contact_id'))
        batch_op.drop_column('contact_id')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('email_opt_out')

    with op.batch_alter_table('email_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_messages_updated_at'))
        batch_op.drop_index(batch_op.f('ix_email_messages_recipient_id'))
        batch_op.drop_index('ix_email_messages_due')
        batch_op.drop_index(batch_op.f('ix_email_messages_booking_id'))

    op.drop_table('email_messages')
