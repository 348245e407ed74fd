-- Per-key concurrency: a job may carry a concurrency key (say, a customer's id) and the limit of
-- tasks of that key that may run at once in its queue. The limit is resolved at submission (the
-- job's own, or SLUICE_KEY_MAX_CONCURRENCY), so a dispatch repeated after a restart puts the same
-- limit on the key's stream in Redis. A pipeline's stages inherit both from the pipeline's row.

ALTER TABLE jobs
  ADD COLUMN concurrency_key text,
  ADD COLUMN concurrency_limit int,
  ADD CONSTRAINT jobs_concurrency_limit
    CHECK ((concurrency_key IS NULL AND concurrency_limit IS NULL)
        OR (concurrency_key IS NOT NULL AND concurrency_limit BETWEEN 1 AND 1000000));
