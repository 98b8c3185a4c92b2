"""stored renderings in their own tables: booking_renderings, speaker_feed_events

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:30:00

The booking's stored texts (its JSON for two audiences, its feed VEVENT) move out of ``bookings`` into
``booking_renderings``, so the bookings heap stays narrow; each speaker's feed events are kept together in
``speaker_feed_events`` (keyed by speaker, start, booking; WITHOUT ROWID on SQLite). Both are filled from
what is stored now; a text that was never rendered stays NULL and is rendered on the next read.
"""
from alembic import op
import sqlalchemy as sa
import api.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('booking_renderings',
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('api_doc', sa.Text(), nullable=True, comment="The booking's JSON as a coordinator reads it (BookingSchema); NULL: render on the next read."),
    sa.Column('api_doc_partner', sa.Text(), nullable=True, comment='The same for its partner: without notes and attendee_ids.'),
    sa.Column('ical_vevent', sa.Text(), nullable=True, comment='The feed VEVENT (no attendees, organizer or notes); trust and programme feeds join these.'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_renderings_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('booking_id', name=op.f('pk_booking_renderings'))
    )
    op.create_table('speaker_feed_events',
    sa.Column('speaker_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', api.db.UTCDateTime(timezone=True), nullable=False, comment="The booking's start."),
    sa.Column('booking_id', sa.String(length=36), nullable=False),
    sa.Column('ends_at', api.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancelled_at', api.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('partner_id', sa.String(length=36), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('ical_vevent', sa.Text(), nullable=True, comment="The booking's feed VEVENT; NULL: render on read."),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_speaker_feed_events_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['speaker_id'], ['speakers.id'], name=op.f('fk_speaker_feed_events_speaker_id_speakers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('speaker_id', 'starts_at', 'booking_id', name=op.f('pk_speaker_feed_events')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('speaker_feed_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speaker_feed_events_booking_id'), ['booking_id'], unique=False)

    op.execute("INSERT INTO booking_renderings (booking_id, api_doc, api_doc_partner, ical_vevent) "
               "SELECT id, api_doc, api_doc_partner, ical_vevent FROM bookings")
    op.execute("INSERT INTO speaker_feed_events (speaker_id, starts_at, booking_id, ends_at, status, cancelled_at, "
               "partner_id, timezone, ical_vevent) "
               "SELECT s.speaker_id, b.starts_at, b.id, b.ends_at, b.status, b.cancelled_at, b.partner_id, b.timezone, "
               "b.ical_vevent FROM booking_speakers s JOIN bookings b ON b.id = s.booking_id")

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('api_doc_partner')
        batch_op.drop_column('api_doc')
        batch_op.drop_column('ical_vevent')


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ical_vevent', sa.Text(), nullable=True, comment='The feed VEVENT, rendered by icalendar when the booking last changed; feeds join these.'))
        batch_op.add_column(sa.Column('api_doc', sa.Text(), nullable=True, comment="The booking's JSON as a coordinator reads it (BookingSchema), rendered when it last changed; lists and GET serve this text. NULL: render on the next read."))
        batch_op.add_column(sa.Column('api_doc_partner', sa.Text(), nullable=True, comment='The same for its partner: without notes and attendee_ids.'))
    op.execute("UPDATE bookings SET "
               "ical_vevent = (SELECT r.ical_vevent FROM booking_renderings r WHERE r.booking_id = bookings.id), "
               "api_doc = (SELECT r.api_doc FROM booking_renderings r WHERE r.booking_id = bookings.id), "
               "api_doc_partner = (SELECT r.api_doc_partner FROM booking_renderings r WHERE r.booking_id = bookings.id)")
    with op.batch_alter_table('speaker_feed_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speaker_feed_events_booking_id'))
    op.drop_table('speaker_feed_events')
    op.drop_table('booking_renderings')
