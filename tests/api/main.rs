//! Integration tests: the real app over HTTP, every test on SQLite and PostgreSQL.

mod helpers;

mod concurrency;
mod enterprises;
mod errors;
mod openapi;
mod participants;
mod seed;
