-- Bounded collection (issue 8): each start of a job's collector counts here, in the transaction that
-- takes the collection gate, so a collector that keeps failing, hanging or killing its coordinator
-- fails the job after SLUICE_COLLECT_ATTEMPTS however often coordinators restart. The last failure
-- is kept to name it in the job's error. Constant defaults: no table rewrite.

ALTER TABLE jobs
    ADD COLUMN collect_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN collect_error    text;
