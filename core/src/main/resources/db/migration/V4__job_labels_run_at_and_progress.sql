-- Job API semantics (issue 4): labels and a delayed start on jobs; a stage and a message beside each
-- task's progress. Every column is added with a constant default or none, so no table is rewritten.

ALTER TABLE jobs
    ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN run_at timestamptz;

ALTER TABLE tasks
    ADD COLUMN progress_stage   text,
    ADD COLUMN progress_message text,
    ADD COLUMN progress_at      timestamptz;

-- The sweeper dispatches delayed jobs once due: few rows are QUEUED with a run_at.
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'QUEUED' AND run_at IS NOT NULL;

-- A job's live progress aggregates its RUNNING tasks only (finished ones are in the job's counters),
-- so reading it costs as many rows as there are running tasks, not as many as the job has.
CREATE INDEX tasks_running_by_job ON tasks (job_id) WHERE status = 'RUNNING';
