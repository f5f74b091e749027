"""Read models of the projections (case summary, unit board, cadre archive).

Every row here is a pure function of events in the log (see
``store.projections``): the tables can be dropped and rebuilt at any time. No
foreign keys to the directory, on purpose: a rebuild must not depend on
anything but the log.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE case_summary (
            stream_id                 text PRIMARY KEY,
            case_id                   text NOT NULL UNIQUE,
            status                    text NOT NULL,
            light                     text NOT NULL,
            deadline                  date,
            original_deadline         date,
            escalation_level          integer NOT NULL,
            highest_escalation_level  integer NOT NULL,
            overdue                   boolean NOT NULL,
            unit_id                   text NOT NULL,
            cadre_id                  text NOT NULL,
            source                    text NOT NULL,
            sources                   text[] NOT NULL,
            category                  text,
            kind                      text,
            title                     text NOT NULL,
            description               text NOT NULL,
            extensions_granted        integer NOT NULL,
            reopen_count              integer NOT NULL,
            recorded_at               timestamptz NOT NULL,
            opened_at                 timestamptz,
            closed_at                 timestamptz,
            last_activity             timestamptz NOT NULL,
            version                   integer NOT NULL
        );
        CREATE INDEX case_summary_unit ON case_summary (unit_id, status);
        CREATE INDEX case_summary_deadline
            ON case_summary ((COALESCE(deadline, DATE '9999-12-31')), case_id);
        CREATE INDEX case_summary_activity ON case_summary (last_activity, case_id);
        CREATE INDEX case_summary_opened
            ON case_summary ((COALESCE(opened_at, recorded_at)), case_id);
        CREATE INDEX case_summary_cadre ON case_summary (cadre_id);

        -- One row per case as the unit board counts it; unit_board sums them.
        CREATE TABLE unit_board_cases (
            stream_id         text PRIMARY KEY,
            unit_id           text NOT NULL,
            light             text NOT NULL,
            status            text NOT NULL,
            escalation_level  integer NOT NULL,
            closed            boolean NOT NULL,
            closed_on_time    boolean NOT NULL
        );
        CREATE INDEX unit_board_cases_unit ON unit_board_cases (unit_id);

        CREATE TABLE unit_board (
            unit_id          text PRIMARY KEY,
            cases            integer NOT NULL,
            active           integer NOT NULL,
            green            integer NOT NULL,
            yellow           integer NOT NULL,
            red              integer NOT NULL,
            grey             integer NOT NULL,
            red_level_0      integer NOT NULL,
            red_level_1      integer NOT NULL,
            red_level_2      integer NOT NULL,
            red_level_3      integer NOT NULL,
            red_level_4      integer NOT NULL,
            closed           integer NOT NULL,
            closed_on_time   integer NOT NULL,
            on_time_rate     text
        );

        -- Which cadres each case stream names; a cadre's archive folds these streams.
        CREATE TABLE cadre_archive_links (
            stream_id  text NOT NULL,
            cadre_id   text NOT NULL,
            PRIMARY KEY (cadre_id, stream_id)
        );
        CREATE INDEX cadre_archive_links_stream ON cadre_archive_links (stream_id);

        -- The CadreArchive JSON of the domain fold, exactly as it serialises it.
        CREATE TABLE cadre_archive (
            cadre_id  text NOT NULL,
            period    text NOT NULL,
            as_of     timestamptz NOT NULL,
            document  text NOT NULL,
            PRIMARY KEY (cadre_id, period)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS cadre_archive;
        DROP TABLE IF EXISTS cadre_archive_links;
        DROP TABLE IF EXISTS unit_board;
        DROP TABLE IF EXISTS unit_board_cases;
        DROP TABLE IF EXISTS case_summary;
        DELETE FROM checkpoints
            WHERE projection IN ('case_summary', 'unit_board', 'cadre_archive');
        """
    )
