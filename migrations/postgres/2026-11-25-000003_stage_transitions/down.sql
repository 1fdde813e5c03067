DROP TABLE stage_transitions;
