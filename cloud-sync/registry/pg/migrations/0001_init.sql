-- The cloud registry in PostgreSQL (docs/postgres.md): the tables of cloud-sync/registry/types.ts
-- and deploy-types.ts, in the schema `lambkin` so the database may be shared. Times that come
-- from the cloud's clock are ms since the epoch (bigint), as the Registry interface has them;
-- `heard_at` alone is the database's own clock, so every instance ages a device the same way.
-- Structured values no query looks into are CBOR (bytea), as the LevelDB backend keeps them.

CREATE TABLE devices (
  id text PRIMARY KEY,
  grp text,
  secret_hash text NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint,
  rotated_at bigint,
  -- The cloud's clock when anything last arrived, and the database's clock at the same moment.
  last_seen bigint,
  heard_at timestamptz,
  status bytea,
  heartbeat bytea,
  -- The current stream's high-water mark and counts over all streams [W4].
  high_water bigint NOT NULL DEFAULT 0,
  stored bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  gaps bigint NOT NULL DEFAULT 0,
  gap_seqs bigint NOT NULL DEFAULT 0,
  streams integer NOT NULL DEFAULT 0,
  stream text,
  conflict bytea,
  takeovers bytea
);

-- One outbox stream of a device [W4]: `ord` numbers a device's streams in the order first seen.
CREATE TABLE streams (
  device text NOT NULL,
  id text NOT NULL,
  ord integer NOT NULL,
  first_seen bigint NOT NULL,
  last_seen bigint NOT NULL,
  high_water bigint NOT NULL DEFAULT 0,
  stored bigint NOT NULL DEFAULT 0,
  duplicates bigint NOT NULL DEFAULT 0,
  gaps bigint NOT NULL DEFAULT 0,
  gap_seqs bigint NOT NULL DEFAULT 0,
  conflicts bytea,
  PRIMARY KEY (device, id),
  UNIQUE (device, ord)
);

-- What a stream covers above its high-water mark (records or gaps that came out of order), one
-- row per range, so a batch writes a bounded number of rows however many holes are open.
CREATE TABLE stream_ranges (
  device text NOT NULL,
  ord integer NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  PRIMARY KEY (device, ord, from_seq)
);

-- Declared gaps [W4].
CREATE TABLE gaps (
  device text NOT NULL,
  ord integer NOT NULL,
  from_seq bigint NOT NULL,
  to_seq bigint NOT NULL,
  reason text NOT NULL,
  received_at bigint NOT NULL,
  PRIMARY KEY (device, ord, from_seq)
);

-- Ingested records, partitioned by the UTC day they arrived (`day`, days since the epoch of
-- received_at): one partition a day, made ahead by partitions.ts, dropped whole by retention.
-- A key across partitions must hold the partition key, so (device, ord, seq) is made unique by
-- ingest itself (the device row locked, the stream's cursor moved in the same transaction) and
-- the primary key below catches a same-day repeat as a second line.
CREATE TABLE records (
  device text NOT NULL,
  ord integer NOT NULL,
  seq bigint NOT NULL,
  day integer NOT NULL,
  received_at bigint NOT NULL,
  kind text NOT NULL,
  fn text,
  time double precision NOT NULL,
  -- The record's data as the CBOR bytes the device sent.
  data bytea NOT NULL,
  PRIMARY KEY (device, ord, seq, day)
) PARTITION BY RANGE (day);
CREATE INDEX records_by_fn ON records (device, fn, ord, seq);
CREATE INDEX records_by_kind ON records (device, kind, ord, seq);

-- Counters given out one at a time under the row's lock: deployment ids [W5], rollout ids.
CREATE TABLE counters (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('deployments', 0), ('rollouts', 0);

CREATE TABLE bundles (
  sha256 text PRIMARY KEY,
  name text NOT NULL,
  version text NOT NULL,
  number integer NOT NULL,
  size integer NOT NULL,
  signature bytea NOT NULL,
  key_id text NOT NULL,
  uploaded_at bigint NOT NULL,
  bytes bytea NOT NULL,
  UNIQUE (name, number)
);
-- Each function's highest version number.
CREATE TABLE bundle_numbers (
  name text PRIMARY KEY,
  last integer NOT NULL
);

-- Each device's desired state [W5]: `functions` is the slots map (DesiredSlot), CBOR.
CREATE TABLE desired (
  device text PRIMARY KEY,
  deployment_id bigint NOT NULL,
  updated_at bigint NOT NULL,
  functions bytea NOT NULL
);

-- Each device's last `up/reported` (ReportedRow, CBOR).
CREATE TABLE reported (
  device text PRIMARY KEY,
  received_at bigint NOT NULL,
  frame bytea NOT NULL
);

-- Rollouts: the head (RolloutHeadRow, CBOR) with the columns queries need, and one row per
-- target device, so a tick that moves a few devices of a large rollout writes only theirs.
CREATE TABLE rollouts (
  seq bigint PRIMARY KEY,
  fn text NOT NULL,
  state text NOT NULL,
  open boolean NOT NULL,
  devices integer NOT NULL,
  head bytea NOT NULL
);
CREATE INDEX rollouts_open ON rollouts (seq) WHERE open;

CREATE TABLE rollout_devices (
  rollout bigint NOT NULL,
  idx integer NOT NULL,
  device text NOT NULL,
  state text NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (rollout, idx)
);
