-- Every coordinator and worker process, and every long-running loop inside it, heartbeats here.

CREATE TABLE nodes (
    id            text        PRIMARY KEY,
    kind          text        NOT NULL,
    version       bigint      NOT NULL DEFAULT 1,
    status        text        NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    info          jsonb,
    CONSTRAINT nodes_kind_known CHECK (kind IN ('coordinator', 'worker')),
    CONSTRAINT nodes_status_known CHECK (status IN ('UP', 'DRAINING', 'STOPPED', 'DEAD'))
);

CREATE TABLE listeners (
    node_id       text        NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    version       bigint      NOT NULL DEFAULT 1,
    state         text        NOT NULL,
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    restarts      integer     NOT NULL DEFAULT 0,
    last_error    text,
    PRIMARY KEY (node_id, name)
);
