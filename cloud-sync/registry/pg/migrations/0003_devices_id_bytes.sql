-- The devices list in pages (docs/cloud.md, "Pages"): `WHERE id COLLATE "C" > $after ORDER BY id
-- COLLATE "C" LIMIT $n`. Pages follow byte order, as the LevelDB registry's keys do, whatever
-- collation the database was made with (en_US.UTF-8 would put `a-b` after `a_a`, C before it);
-- the primary key's index follows the database's collation, so this one serves the pages.
CREATE INDEX devices_id_bytes ON devices (id COLLATE "C");
