-- The running set's index gains seq. A completion, a renewal and a hand-back find their task row by
-- (job_id, seq) with status = 'RUNNING', and the planner takes this partial index for it, because
-- its predicate matches. Keyed by job_id alone, each lookup read every entry of the job: all its
-- running tasks and every entry of a task that had already left the running set but was not yet
-- vacuumed away (each claim and completion of a task adds one). For one job of 60,000 tasks that
-- made a completion batch cost 408 ms and a renewal up to 4 s by the end (BENCHMARKS.md): the work
-- grew with the job's size, the whole job quadratic in it. Keyed by (job_id, seq), a lookup reads the
-- entries of its own task only. Every other reader (the sweeper's expired leases, a dead node's
-- tasks, the dashboard) reads by job_id or the whole set, which the leading column still serves.

CREATE INDEX tasks_running_by_job_seq ON tasks (job_id, seq) WHERE status = 'RUNNING';
DROP INDEX tasks_running_by_job;
ALTER INDEX tasks_running_by_job_seq RENAME TO tasks_running_by_job;
