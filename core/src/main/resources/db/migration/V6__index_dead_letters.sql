-- The dashboard lists dead-lettered (FAILED) tasks across all jobs, newest first. Few rows are FAILED, so
-- a partial index keeps that read cheap and adds no work to the updates of tasks in any other state.
CREATE INDEX tasks_dead_letters ON tasks (finished_at DESC, job_id, seq) WHERE status = 'FAILED';
