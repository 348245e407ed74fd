-- Pipelines (issue 10): a job may be a graph of stages. Each stage is what a job was until now (a type,
-- a payload, tasks, an exactly-once fan-in and a collector), so a stage is a row of this table with
-- its own version, status, counters and the same CHECK on them, whose parent_id names its pipeline.
-- The pipeline's own row (stage_count > 0) has no tasks: it carries the submission (idempotency key,
-- tenant quota, labels), the sum of its stages' counters, and the job's status and result.
-- A one-stage job is one row, as before (parent_id NULL, stage_count 0): it is its own stage "main".
-- Columns are added with constant defaults or none: no table rewrite.

ALTER TABLE jobs
    ADD COLUMN parent_id   uuid REFERENCES jobs (id) ON DELETE CASCADE,
    ADD COLUMN stage_name  text,
    ADD COLUMN stage_idx   smallint,
    ADD COLUMN depends_on  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN stage_count smallint NOT NULL DEFAULT 0,
    ADD COLUMN started_at  timestamptz;

-- A stage waits (WAITING, no tasks yet) until every stage it depends on has SUCCEEDED.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_known;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_known
    CHECK (status IN ('WAITING', 'QUEUED', 'RUNNING', 'COLLECTING', 'SUCCEEDED', 'FAILED', 'CANCELLED'));
ALTER TABLE jobs ADD CONSTRAINT jobs_stage_named
    CHECK ((parent_id IS NULL) = (stage_name IS NULL) AND (parent_id IS NULL) = (stage_idx IS NULL));
ALTER TABLE jobs ADD CONSTRAINT jobs_waiting_only_stages
    CHECK (status <> 'WAITING' OR parent_id IS NOT NULL);

CREATE UNIQUE INDEX jobs_stage_of_pipeline ON jobs (parent_id, stage_idx) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX jobs_stage_name_in_pipeline ON jobs (parent_id, stage_name) WHERE parent_id IS NOT NULL;

-- The job list and the tenant quota count pipelines and one-stage jobs, never a pipeline's stages.
DROP INDEX jobs_created;
CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC) WHERE parent_id IS NULL;

DROP TRIGGER jobs_tenant_usage ON jobs;
CREATE TRIGGER jobs_tenant_usage
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.parent_id IS NULL)
    EXECUTE FUNCTION tenant_usage_follow_job_status();

