//! Integration tests: the real app over HTTP, every test on SQLite and PostgreSQL.

mod contract;
mod helpers;

mod access;
mod agreements;
mod backup;
mod calendar;
mod concurrency;
mod docs;
mod enterprise_page;
mod enterprises;
mod errors;
mod export;
mod import;
mod internship_bases;
mod logging;
mod metrics;
mod openapi;
mod order_classes;
mod participants;
mod query_plans;
mod reliability;
mod reports;
mod seed;
mod startup;
mod timeline;
mod transitions;
mod visits;
