-- Reports at a million visits (issue 8; tests/api/query_plans.rs explains them).
-- The stalled report walks items in the order of their last stage move and stops at
-- the end of its page.
CREATE INDEX enterprises_stage_changed_idx ON enterprises (stage_changed_at, id);
CREATE INDEX order_classes_stage_changed_idx ON order_classes (stage_changed_at, id);
CREATE INDEX internship_bases_stage_changed_idx ON internship_bases (stage_changed_at, id);

-- The pipeline counts live items per stage from the index alone.
CREATE INDEX enterprises_live_stage_idx ON enterprises (archived_at, stage);
CREATE INDEX order_classes_live_stage_idx ON order_classes (archived_at, stage, enterprise_id);
CREATE INDEX internship_bases_live_stage_idx ON internship_bases (archived_at, stage, enterprise_id);
-- ... and checks that their enterprise is live from an index too.
CREATE INDEX enterprises_id_live_idx ON enterprises (id, archived_at);
-- No ANALYZE here, unlike SQLite: plain column indexes need no statistics of their
-- own, and analysing the still-empty tables of a new database told the planner they
-- are empty for good. A connection then kept sequential-scan plans for its prepared
-- statements while the tables grew (an import slowed to a crawl wherever autovacuum
-- is off); autovacuum keeps the statistics of a live database.
