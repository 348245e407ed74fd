-- The leader epoch. Redisson's lock picks one leader at a time, but its token lives in Redis and
-- restarts at 1 when Redis loses its data, so the fence every leader-only write checks lives here.

CREATE TABLE coordinator_leader (
    id           integer     PRIMARY KEY CHECK (id = 1),
    epoch        bigint      NOT NULL,
    node_id      text,
    redis_token  bigint,
    lease_until  timestamptz NOT NULL,
    version      bigint      NOT NULL DEFAULT 1
);

INSERT INTO coordinator_leader (id, epoch, node_id, lease_until) VALUES (1, 0, NULL, '-infinity');
