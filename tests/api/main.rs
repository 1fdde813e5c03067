//! Integration tests: the real app over HTTP, every test on SQLite and PostgreSQL.

mod contract;
mod helpers;

mod concurrency;
mod enterprise_page;
mod enterprises;
mod errors;
mod openapi;
mod participants;
mod visits;
