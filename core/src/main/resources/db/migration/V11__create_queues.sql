-- Operator control of queues (issue 13): a paused queue accepts jobs, but no worker starts a task of it.
-- A row exists only for a queue an operator paused or resumed; a queue without one runs.
-- The version increases with every pause and resume, so the copy in Redis is written only by a newer one.
CREATE TABLE queues (
    name        text        PRIMARY KEY,
    paused      boolean     NOT NULL,
    paused_at   timestamptz,
    paused_by   text,
    version     bigint      NOT NULL DEFAULT 1,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT queues_paused_has_time CHECK (paused = (paused_at IS NOT NULL))
);

-- The claim's check, a lookup per claimed row's queue, reads only paused rows.
CREATE INDEX queues_paused ON queues (name) WHERE paused;
