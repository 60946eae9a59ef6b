-- The catalog: what `CatalogStore` keeps. One change set is one transaction.

CREATE TABLE catalog_entities (
    -- `kind:namespace/name`, lowercase.
    entity_ref text PRIMARY KEY,
    uid        text NOT NULL,
    -- The key of the source that emitted it.
    source     text NOT NULL,
    -- The entity JSON as served, in the portal's packed form.
    body       bytea NOT NULL,
    -- A JSON array of status items, or empty.
    errors     bytea NOT NULL
);
CREATE INDEX catalog_entities_source ON catalog_entities (source);

CREATE TABLE catalog_sources (
    key    text PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE TABLE catalog_locations (
    id     text PRIMARY KEY,
    type   text NOT NULL,
    target text NOT NULL
);

-- One row per committed change set, in commit order (commits take an
-- advisory lock first, so `seq` order is commit order): what another
-- replica reads to catch up (after a NOTIFY, or after a lost connection).
CREATE TABLE catalog_changes (
    seq          bigserial PRIMARY KEY,
    committed_at timestamptz NOT NULL DEFAULT now(),
    -- The portal process that committed it (it skips its own).
    replica      text NOT NULL,
    entity_refs  text[] NOT NULL,
    source_keys  text[] NOT NULL,
    location_ids text[] NOT NULL
);
