-- Per-task cost (issue 11). An update that changes no indexed column (keys and partial-index
-- predicates alike) is a HOT update: no new index entry at all, if the row's page has room.
--
-- The running set was indexed twice, by job (a job's live progress) and by lease expiry (the
-- sweeper). Every lease renewal, every dead node's lease expiry and every takeover of an expired
-- lease changed lease_expires_at, an index key, so none of them was HOT; and a claim or a completion
-- (which enter and leave the running set, so cannot be HOT) paid one more index entry each. The
-- running set is now indexed by job only (tasks_running_by_job, from V4): the expired-lease scan,
-- the dashboard's per-node count and a dead node's lease expiry read all of that index, which
-- holds only the RUNNING tasks (at most the workers' slots), and filter on lease_expires_at there.
DROP INDEX tasks_running_lease;

-- Room on each page for a row's next versions: a HOT update needs it, and any update whose new
-- version fits on the old version's page dirties one page and logs only the changed middle of the
-- row. Applies to pages written from now on; no table rewrite.
ALTER TABLE tasks SET (fillfactor = 70);
