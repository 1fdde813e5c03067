-- The seventh round's experiment (docs/PERFORMANCE.md), tried and not kept: a page's
-- link queries read a visit's participants with their roles, each participant and
-- each enterprise from indexes alone, without a seek into the table for every row.
-- On a copy of the SQLite data set, never on a database in use:
--   cp target/bench/liaison-40000.db /tmp/covering.db
--   sqlite3 /tmp/covering.db < docs/bench/covering.sql
--   python3 docs/bench/page_queries.py /tmp/covering.db
CREATE INDEX visit_participants_embed_idx ON visit_participants (visit_id, participant_id, role);
CREATE INDEX participants_embed_idx
    ON participants (id, name_key, full_name, title, side, enterprise_id, archived_at);
DROP INDEX enterprises_id_live_idx;
CREATE INDEX enterprises_id_live_idx ON enterprises (id, archived_at, name_key, name, kind);
ANALYZE visit_participants;
ANALYZE participants;
ANALYZE enterprises;
