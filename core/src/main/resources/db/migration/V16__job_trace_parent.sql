-- Traces (issue 14): the W3C traceparent of a job's span (a pipeline's stage rows: of the stage's
-- span), written before the job is dispatched, so every task's span on a worker and the collector's
-- span join the job's trace, however often Redis is rebuilt or a sweeper re-dispatches or retries
-- a task. NULL when tracing was off at submit.
ALTER TABLE jobs ADD COLUMN trace_parent text;
