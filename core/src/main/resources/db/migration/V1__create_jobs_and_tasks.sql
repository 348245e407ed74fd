-- Record plane: jobs, their tasks, and the append-only job event log.
-- Every mutable row carries a version; every update is a compare-and-set on status, version or lease_epoch.

CREATE TABLE jobs (
    id               uuid        PRIMARY KEY,
    tenant           text        NOT NULL,
    type             text        NOT NULL,
    queue            text        NOT NULL,
    status           text        NOT NULL,
    version          bigint      NOT NULL DEFAULT 1,
    payload          jsonb       NOT NULL,
    idempotency_key  text,
    request_hash     text        NOT NULL,
    priority         integer     NOT NULL DEFAULT 0,
    max_attempts     integer     NOT NULL,
    on_task_failure  text        NOT NULL DEFAULT 'fail',
    task_count       integer     NOT NULL DEFAULT 0,
    tasks_succeeded  integer     NOT NULL DEFAULT 0,
    tasks_failed     integer     NOT NULL DEFAULT 0,
    result           jsonb,
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT jobs_status_known CHECK (status IN ('QUEUED', 'RUNNING', 'COLLECTING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    CONSTRAINT jobs_on_task_failure_known CHECK (on_task_failure IN ('fail', 'continue')),
    -- G3 held by the database itself: fan-in can never count more tasks than the job has.
    CONSTRAINT jobs_counts_within_task_count CHECK (tasks_succeeded >= 0 AND tasks_failed >= 0
        AND tasks_succeeded + tasks_failed <= task_count)
);

CREATE UNIQUE INDEX jobs_tenant_idempotency_key ON jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_active ON jobs (status, updated_at) WHERE status IN ('QUEUED', 'RUNNING', 'COLLECTING');

CREATE TABLE tasks (
    job_id            uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq               integer     NOT NULL,
    status            text        NOT NULL,
    version           bigint      NOT NULL DEFAULT 1,
    attempt           integer     NOT NULL DEFAULT 0,
    -- The fence: incremented by every claim, checked by every completion. Monotonic even when Redis
    -- loses everything, because it lives here.
    lease_epoch       bigint      NOT NULL DEFAULT 0,
    worker_id         text,
    lease_expires_at  timestamptz,
    not_before        timestamptz,
    input             jsonb       NOT NULL,
    output            jsonb,
    error             text,
    progress          real        NOT NULL DEFAULT 0,
    started_at        timestamptz,
    finished_at       timestamptz,
    PRIMARY KEY (job_id, seq),
    CONSTRAINT tasks_status_known CHECK (status IN ('QUEUED', 'RUNNING', 'RETRY_WAIT', 'SUCCEEDED', 'FAILED', 'CANCELLED'))
);

CREATE INDEX tasks_running_lease ON tasks (lease_expires_at) WHERE status = 'RUNNING';
CREATE INDEX tasks_retry_due ON tasks (not_before) WHERE status = 'RETRY_WAIT';

CREATE TABLE job_events (
    id           bigserial   PRIMARY KEY,
    job_id       uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    job_version  bigint      NOT NULL,
    kind         text        NOT NULL,
    from_status  text,
    to_status    text,
    detail       jsonb,
    at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX job_events_by_job ON job_events (job_id, id);
