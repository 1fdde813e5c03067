DROP TABLE participants;
DROP TABLE enterprises;
