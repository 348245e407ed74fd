-- Schedules (issue 13): a job submitted at each fire time of a cron expression or a fixed period.
-- A fire is a row of schedule_fires, unique per (schedule, fire time) and committed in the same
-- transaction as the job it submits, so no fire time can have two jobs, whatever two leaders do.
CREATE TABLE schedules (
    id           uuid PRIMARY KEY,
    tenant       text        NOT NULL,
    name         text        NOT NULL,
    cron         text,
    every_ms     bigint,
    timezone     text        NOT NULL,
    job          jsonb       NOT NULL,
    overlap      text        NOT NULL,
    catch_up     text        NOT NULL,
    paused       boolean     NOT NULL DEFAULT false,
    -- Changes with the schedule's definition (PATCH), not with its fires: If-Match races a user,
    -- not the leader's loop.
    version      bigint      NOT NULL DEFAULT 1,
    next_fire_at timestamptz NOT NULL,
    last_fire_at timestamptz,
    last_job_id  uuid,
    fires        bigint      NOT NULL DEFAULT 0,
    skipped      bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedules_name_per_tenant UNIQUE (tenant, name),
    CONSTRAINT schedules_cron_or_every CHECK ((cron IS NULL) <> (every_ms IS NULL)),
    CONSTRAINT schedules_every_at_least_1s CHECK (every_ms IS NULL OR every_ms >= 1000),
    CONSTRAINT schedules_overlap CHECK (overlap IN ('skip', 'allow', 'cancelPrevious')),
    CONSTRAINT schedules_catch_up CHECK (catch_up IN ('none', 'one'))
);

-- The leader's scan for due schedules reads only the unpaused ones, soonest first.
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE NOT paused;

CREATE TABLE schedule_fires (
    schedule_id uuid        NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_time   timestamptz NOT NULL,
    -- submitted: job_id names the job; skipped: the previous job was unfinished (overlap skip).
    outcome     text        NOT NULL CHECK (outcome IN ('submitted', 'skipped')),
    job_id      uuid,
    -- The leader epoch that fired it, for the record.
    epoch       bigint      NOT NULL,
    fired_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT schedule_fires_once UNIQUE (schedule_id, fire_time),
    CONSTRAINT schedule_fires_job CHECK ((outcome = 'submitted') = (job_id IS NOT NULL))
);

-- Pruning old fires reads them oldest first.
CREATE INDEX schedule_fires_fired_at ON schedule_fires (fired_at);
