-- Per-token (tenant) quota of active jobs. The submission checks and increments active_jobs in one
-- statement (a compare-and-set on the row) as the last step of its transaction; this trigger gives
-- the slot back whenever a job leaves QUEUED/RUNNING/COLLECTING, whichever path moves it, and takes
-- it again when an operator reopens a finished job (a dead-letter requeue), so the count never leaks.

CREATE TABLE tenant_usage (
    tenant       text    PRIMARY KEY,
    active_jobs  integer NOT NULL DEFAULT 0,
    version      bigint  NOT NULL DEFAULT 1,
    CONSTRAINT tenant_usage_not_negative CHECK (active_jobs >= 0)
);

INSERT INTO tenant_usage (tenant, active_jobs)
SELECT tenant, count(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING', 'COLLECTING') GROUP BY tenant;

CREATE FUNCTION tenant_usage_follow_job_status() RETURNS trigger AS $$
DECLARE
    was_active boolean := OLD.status IN ('QUEUED', 'RUNNING', 'COLLECTING');
    is_active  boolean := NEW.status IN ('QUEUED', 'RUNNING', 'COLLECTING');
BEGIN
    IF was_active AND NOT is_active THEN
        -- GREATEST: a job written straight to the table (a test fixture) was never counted.
        UPDATE tenant_usage SET active_jobs = GREATEST(active_jobs - 1, 0), version = version + 1
         WHERE tenant = NEW.tenant;
    ELSIF is_active AND NOT was_active THEN
        INSERT INTO tenant_usage AS u (tenant, active_jobs) VALUES (NEW.tenant, 1)
        ON CONFLICT (tenant) DO UPDATE SET active_jobs = u.active_jobs + 1, version = u.version + 1;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER jobs_tenant_usage
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION tenant_usage_follow_job_status();
