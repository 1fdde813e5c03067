//! Liaison: the partnership tracker of a vocational college's school–enterprise
//! cooperation office. `http` → `domain` → `db`, assembled by `startup`;
//! `seed` loads demo and synthetic data through `db::bulk`.

pub mod cli;
pub mod db;
pub mod domain;
pub mod export;
pub mod export_command;
pub mod http;
pub mod import;
pub mod import_command;
pub mod seed;
pub mod startup;
pub mod telemetry;
pub mod token_command;
