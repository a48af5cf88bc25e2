"""Accounts, segments, outbox, processed messages, jobs, build history, refresh runs.

Revision ID: 0001
Revises:
"""

from sql_script import run

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


UPGRADE = """
    CREATE TABLE accounts (
        id            uuid PRIMARY KEY,
        name          text NOT NULL,
        time_zone     text NOT NULL DEFAULT 'UTC',
        plan          text NOT NULL DEFAULT 'standard',
        refresh_cron  text NOT NULL DEFAULT '0 8 * * *',
        created_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE segments (
        id               uuid PRIMARY KEY,
        account_id       uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        name             text NOT NULL,
        description      text,
        object_type      text NOT NULL,
        rules            jsonb,
        rules_version    integer NOT NULL DEFAULT 1,
        is_custom        boolean NOT NULL DEFAULT true,
        status           text NOT NULL DEFAULT 'active'
                         CHECK (status IN ('active', 'archived')),
        build_status     text NOT NULL DEFAULT 'pending'
                         CHECK (build_status IN ('pending', 'in_progress', 'done', 'failed',
                                                 'canceled')),
        built_at         timestamptz,
        built_version    integer,
        member_count     bigint,
        bytes_billed     bigint,
        last_error       text,
        created_by       text NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX segments_account_idx ON segments (account_id, created_at DESC);
    CREATE UNIQUE INDEX segments_active_name_uq ON segments (account_id, lower(name))
        WHERE status = 'active';

    -- Parent embeds child, kept in the same transaction as the parent's rules.
    CREATE TABLE segment_embeddings (
        parent_id  uuid NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
        child_id   uuid NOT NULL REFERENCES segments (id) ON DELETE RESTRICT,
        PRIMARY KEY (parent_id, child_id)
    );
    CREATE INDEX segment_embeddings_child_idx ON segment_embeddings (child_id);

    CREATE TABLE outbox (
        seq           bigserial PRIMARY KEY,
        id            uuid NOT NULL UNIQUE,
        topic         text NOT NULL,
        key           text NOT NULL,
        message_type  text NOT NULL,
        payload       jsonb NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        published_at  timestamptz
    );
    CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;

    CREATE TABLE processed_messages (
        consumer      text NOT NULL,
        message_id    uuid NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, message_id)
    );

    CREATE TABLE jobs (
        id              text PRIMARY KEY,
        account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        segment_id      uuid NOT NULL,
        mode            text NOT NULL,
        rules_version   integer NOT NULL,
        target_table    text NOT NULL,
        status          text NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'done', 'failed', 'canceled')),
        correlation_id  uuid NOT NULL,
        run_id          uuid,
        submitted_at    timestamptz NOT NULL DEFAULT now(),
        finished_at     timestamptz,
        polls           integer NOT NULL DEFAULT 0,
        next_poll_at    timestamptz NOT NULL DEFAULT now(),
        deadline_at     timestamptz NOT NULL,
        member_count    bigint,
        bytes_billed    bigint,
        error           text
    );
    CREATE INDEX jobs_running_idx ON jobs (next_poll_at) WHERE status = 'running';
    CREATE INDEX jobs_segment_idx ON jobs (segment_id, submitted_at DESC);

    CREATE TABLE build_history (
        id             bigserial PRIMARY KEY,
        segment_id     uuid NOT NULL,
        account_id     uuid NOT NULL,
        job_id         text NOT NULL UNIQUE,
        status         text NOT NULL,
        rules_version  integer NOT NULL,
        member_count   bigint,
        duration_ms    bigint,
        error          text,
        finished_at    timestamptz NOT NULL
    );
    CREATE INDEX build_history_segment_idx ON build_history (segment_id, finished_at);

    CREATE TABLE refresh_runs (
        id             uuid PRIMARY KEY,
        account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        scheduled_for  timestamptz NOT NULL,
        trigger        text NOT NULL,
        started_at     timestamptz NOT NULL DEFAULT now(),
        segment_count  integer NOT NULL,
        UNIQUE (account_id, scheduled_for, trigger)
    );
"""

DOWNGRADE = """
DROP TABLE refresh_runs, build_history, jobs, processed_messages, outbox,
    segment_embeddings, segments, accounts;
"""


def upgrade() -> None:
    run(UPGRADE)


def downgrade() -> None:
    run(DOWNGRADE)
