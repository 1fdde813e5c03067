DROP TABLE visit_internship_bases;
DROP TABLE visit_order_classes;
DROP TABLE visit_participants;
DROP TABLE visit_enterprises;
DROP TABLE visits;
DROP TABLE agreements;
DROP TABLE internship_bases;
DROP TABLE order_classes;
