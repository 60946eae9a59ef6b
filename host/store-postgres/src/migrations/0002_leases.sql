-- Who reads which catalog source when several replicas share the database:
-- the replica holding an unexpired lease. Holders renew theirs; a dead
-- replica's expire and pass to whoever asks next.
CREATE TABLE catalog_leases (
    source_key text PRIMARY KEY,
    replica    text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX catalog_leases_replica ON catalog_leases (replica);
