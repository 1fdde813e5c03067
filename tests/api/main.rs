//! Integration tests: the real app over HTTP, every test on SQLite and PostgreSQL.

mod helpers;

mod agreements;
mod concurrency;
mod enterprises;
mod errors;
mod internship_bases;
mod openapi;
mod order_classes;
mod participants;
