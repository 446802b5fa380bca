-- What one cloud instance hands another that is too large for a NOTIFY (PostgreSQL takes under
-- 8000 bytes): a remote-invoke answer up to a function's 1 MiB result, taken by the instance the
-- broker gave it to for a request another instance holds (docs/scale-out.md, "Several
-- instances"). The note on the bus names the row; the instance holding the request reads and
-- deletes it. A row nobody claims (its instance died) is deleted by the next parcel's writer
-- once older than any request waits. UNLOGGED: a parcel is worth nothing after a server crash,
-- its request has timed out by then, and it is written without WAL.

CREATE UNLOGGED TABLE bus_parcels (
  id uuid PRIMARY KEY,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX bus_parcels_created_at ON bus_parcels (created_at);
