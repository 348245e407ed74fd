-- A pipeline's stage may carry a callback of its own (issue 14): its job_callbacks row names the
-- stage's row, and the trigger of V14 fires for it like for any job. Its delivery says which
-- stage of which pipeline it is: the event is 'stage.<status>' and the body carries the stage's
-- name and its pipeline's id beside the same job fields.

CREATE OR REPLACE FUNCTION webhook_outbox_follow_job_status() RETURNS trigger AS $$
DECLARE
    event text := CASE WHEN NEW.parent_id IS NULL THEN 'job.' ELSE 'stage.' END
                  || lower(NEW.status);
BEGIN
    INSERT INTO webhook_outbox (job_id, tenant, url, event, body)
    SELECT NEW.id, NEW.tenant, cb.url, event,
           jsonb_build_object(
               'event', event,
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
                   'result', CASE WHEN pg_column_size(NEW.result) <= 65536 THEN NEW.result END)
               || CASE WHEN NEW.parent_id IS NULL THEN '{}'::jsonb
                       ELSE jsonb_build_object('pipelineId', NEW.parent_id,
                                               'stage', NEW.stage_name) END)
      FROM job_callbacks cb
     WHERE cb.job_id = NEW.id
       AND cb.events && ARRAY['finished', lower(NEW.status)];
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
