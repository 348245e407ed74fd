-- Webhooks (issue 14): a job's callback, and a transactional outbox of its deliveries.
--
-- The callback is registered in the submission's transaction. Whenever a job with one reaches
-- SUCCEEDED, FAILED or CANCELLED — whichever path moves it (the completion of its last task, its
-- collector, a cancel, a deadline) — the trigger below writes the delivery into webhook_outbox in
-- that same transaction, so no terminal state commits without its delivery or the other way round.
-- The leader's relay claims due rows (fenced by its epoch and a lease), posts them, and records
-- every attempt; a row is DELIVERED only after a 2xx, so a relay killed mid-delivery leaves it
-- PENDING for the next leader: at least once, never lost.

CREATE TABLE job_callbacks (
    job_id  uuid   PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    url     text   NOT NULL,
    -- of 'finished' (any terminal state), 'succeeded', 'failed', 'cancelled'
    events  text[] NOT NULL
);

CREATE TABLE webhook_outbox (
    id               bigserial   PRIMARY KEY,
    job_id           uuid        NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    tenant           text        NOT NULL,
    url              text        NOT NULL,
    event            text        NOT NULL,
    body             jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'PENDING',
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- who holds the row while it is being sent: the leader's epoch and until when
    lease_epoch      bigint,
    lease_until      timestamptz,
    last_error       text,
    last_status_code integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    CONSTRAINT webhook_outbox_status CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED'))
);

CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_outbox_by_job ON webhook_outbox (job_id);
CREATE INDEX webhook_outbox_by_tenant ON webhook_outbox (tenant, id DESC);

CREATE TABLE webhook_attempts (
    outbox_id    bigint      NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    attempt      integer     NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text,
    duration_ms  integer     NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);

CREATE FUNCTION webhook_outbox_follow_job_status() RETURNS trigger AS $$
BEGIN
    INSERT INTO webhook_outbox (job_id, tenant, url, event, body)
    SELECT NEW.id, NEW.tenant, cb.url, 'job.' || lower(NEW.status),
           jsonb_build_object(
               'event', 'job.' || lower(NEW.status),
               'job', jsonb_build_object(
                   'id', NEW.id,
                   'type', NEW.type,
                   'queue', NEW.queue,
                   'status', NEW.status,
                   'version', NEW.version,
                   'taskCount', NEW.task_count,
                   'tasksSucceeded', NEW.tasks_succeeded,
                   'tasksFailed', NEW.tasks_failed,
                   'error', NEW.error,
                   'labels', NEW.labels,
                   'finishedAt', NEW.finished_at,
                   -- a large result stays out of the body: GET the job for it
                   'result', CASE WHEN pg_column_size(NEW.result) <= 65536 THEN NEW.result END))
      FROM job_callbacks cb
     WHERE cb.job_id = NEW.id
       AND cb.events && ARRAY['finished', lower(NEW.status)];
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_webhook_outbox
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       AND NEW.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))
    EXECUTE FUNCTION webhook_outbox_follow_job_status();
