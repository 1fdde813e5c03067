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
-- Statistics for the new indexes: without them SQLite took the pipeline's index for
-- the stalled report (every live enterprise, then a sort) over the one in its order.
ANALYZE enterprises;
ANALYZE order_classes;
ANALYZE internship_bases;
