-- A finishing job no longer waits on its tenant's one usage row. Before, the trigger that gives a
-- job's quota place back updated tenant_usage in the finishing transaction, so every submission
-- (which locks that row to check the quota) and every collector commit of one tenant queued behind
-- each other's commit and WAL flush: under a stream of small jobs the row was the hottest lock in the
-- database and the p99 of submit->start was one flush queue long.
--
-- Now a finish adds 1 to one of 32 release counters of the tenant, picked by the backend's pid so
-- concurrent finishing transactions rarely share one and never wait for a submission. The usage row
-- keeps what has been admitted: active_jobs + released_folded is every admission (and reopening) so
-- far, and released_folded is a sum of the release counters that some submission has seen and
-- folded in. The true count is
--
--     active_jobs - (sum(released) - released_folded)
--
-- The counters only grow. A submission folds under the usage row's lock, which it takes anyway
-- (PostgresTenantQuota), so folds are serialised per tenant; one whose snapshot predates the last
-- fold may read a smaller sum than released_folded, and then folds nothing (GREATEST(..., 0)). A
-- release not yet committed or not yet seen leaves the count too high, never too low: a submission
-- racing a finish may be refused a place that was just coming free, but is never admitted past the
-- quota.

ALTER TABLE tenant_usage ADD COLUMN released_folded bigint NOT NULL DEFAULT 0;

CREATE TABLE tenant_usage_released (
    tenant    text     NOT NULL,
    shard     smallint NOT NULL,
    released  bigint   NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, shard)
) WITH (fillfactor = 50);

-- Each tenant's active jobs as counted; what the coordinator's quota reads, for people and tests.
CREATE VIEW tenant_active_jobs AS
SELECT u.tenant,
       GREATEST(u.active_jobs - GREATEST(coalesce(r.released, 0) - u.released_folded, 0), 0)::int
           AS active_jobs
  FROM tenant_usage u
  LEFT JOIN (SELECT tenant, sum(released) AS released FROM tenant_usage_released GROUP BY tenant) r
         ON r.tenant = u.tenant;

CREATE OR REPLACE FUNCTION tenant_usage_follow_job_status() RETURNS trigger AS $$
DECLARE
    was_active boolean := OLD.status IN ('QUEUED', 'RUNNING', 'COLLECTING');
    is_active  boolean := NEW.status IN ('QUEUED', 'RUNNING', 'COLLECTING');
BEGIN
    IF was_active AND NOT is_active THEN
        INSERT INTO tenant_usage_released AS r (tenant, shard, released)
        VALUES (NEW.tenant, pg_backend_pid() % 32, 1)
        ON CONFLICT (tenant, shard) DO UPDATE SET released = r.released + 1;
    ELSIF is_active AND NOT was_active THEN
        -- A reopened job (a dead-letter requeue), whose caller holds the usage row already.
        INSERT INTO tenant_usage AS u (tenant, active_jobs) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET active_jobs = u.active_jobs + 1, version = u.version + 1;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
