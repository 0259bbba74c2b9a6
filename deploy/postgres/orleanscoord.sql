-- OrleansCoord's own tables in the cluster's PostgreSQL database. Idempotent: deploy scripts and tests
-- apply it on every start.

-- The epoch of the current quorum-log grain activation. A new activation takes the next one; an append
-- from an older activation finds the epoch moved on and is refused (epoch fencing).
CREATE TABLE IF NOT EXISTS oc_epoch (
    id    integer PRIMARY KEY CHECK (id = 1),
    epoch bigint  NOT NULL
);
INSERT INTO oc_epoch (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

-- The txn log: one row per txn, the txn in OrleansCoord's jute encoding (TxnCodec).
CREATE TABLE IF NOT EXISTS oc_txnlog (
    zxid   bigint PRIMARY KEY,
    record bytea  NOT NULL
);

-- Fuzzy snapshots of the tree and session table (SnapshotCodec), each valid from its zxid on.
CREATE TABLE IF NOT EXISTS oc_snapshot (
    zxid  bigint PRIMARY KEY,
    image bytea  NOT NULL
);

-- Orleans cluster membership (PostgresMembershipTable): one version row per cluster, whose etag every
-- insert and update of a silo's row compares and bumps, and one row per silo incarnation.
CREATE TABLE IF NOT EXISTS oc_membership_version (
    cluster_id text   PRIMARY KEY,
    version    integer NOT NULL,
    etag       bigint  NOT NULL
);

CREATE TABLE IF NOT EXISTS oc_membership (
    cluster_id    text        NOT NULL,
    address       text        NOT NULL,
    port          integer     NOT NULL,
    generation    integer     NOT NULL,
    silo_name     text        NOT NULL,
    host_name     text        NOT NULL,
    status        integer     NOT NULL,
    proxy_port    integer     NOT NULL,
    suspect_times text        NOT NULL,
    start_time    timestamptz NOT NULL,
    iamalive_time timestamptz NOT NULL,
    etag          bigint      NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);
