-- Time limits (issue 13, items 3 and 6): a task timeout per job and per stage, a deadline per job and
-- a retry backoff per job. All are measured on PostgreSQL's clock: a task's attempt is timed out at
-- tasks.started_at (the claim's now()) + task_timeout_ms, a job at deadline_at, fixed by the insert's
-- now(). NULL means "none" (the worker's SLUICE_RETRY_BASE/MAX for the retry columns). A stage row
-- carries its own task_timeout_ms and its pipeline's retry columns; the deadline is the pipeline's.
-- Nullable columns without a default: no table rewrite.

ALTER TABLE jobs
    ADD COLUMN task_timeout_ms bigint,
    ADD COLUMN deadline_ms     bigint,
    ADD COLUMN deadline_at     timestamptz,
    ADD COLUMN retry_base_ms   bigint,
    ADD COLUMN retry_max_ms    bigint,
    ADD CONSTRAINT jobs_time_limits_positive CHECK (
        (task_timeout_ms IS NULL OR task_timeout_ms > 0)
        AND (deadline_ms IS NULL OR deadline_ms > 0) AND (deadline_ms IS NULL) = (deadline_at IS NULL)
        AND (retry_base_ms IS NULL OR retry_base_ms > 0)
        AND (retry_max_ms IS NULL OR retry_max_ms >= retry_base_ms));

-- The leader's deadline sweep reads only the active top-level jobs that have a deadline.
CREATE INDEX jobs_deadline_due ON jobs (deadline_at)
    WHERE deadline_at IS NOT NULL AND parent_id IS NULL
      AND status IN ('QUEUED', 'RUNNING', 'COLLECTING');
