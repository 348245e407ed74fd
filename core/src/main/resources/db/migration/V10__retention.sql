-- Retention (issue 12): finished jobs older than SLUICE_RETENTION are deleted by the leader, in
-- bounded batches. Constant default, no table rewrite.
--
-- A job's rows go in many short transactions (its tasks and events by chunks, its jobs rows last),
-- so the first transaction marks the job: from then on no requeue may reopen it (a dead-letter
-- requeue is the one path from a finished status back to an active one), and a half-deleted job
-- can never run again.
ALTER TABLE jobs ADD COLUMN deleting boolean NOT NULL DEFAULT false;

-- Finding expired jobs reads this index in finished_at order and stops after one batch: it holds
-- only finished pipelines and one-stage jobs, never stages (they go with their pipeline) nor jobs
-- still active. A job enters it in the update that finishes it, which changes status, an indexed
-- predicate already (jobs_active), so it adds no index write to a HOT update.
CREATE INDEX jobs_expiry ON jobs (finished_at)
    WHERE parent_id IS NULL AND status IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
