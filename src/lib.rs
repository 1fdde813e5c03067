//! Liaison: the partnership tracker of a vocational college's school–enterprise
//! cooperation office. `http` → `domain` → `db`, assembled by `startup`.

pub mod cli;
pub mod db;
pub mod domain;
pub mod http;
pub mod startup;
pub mod telemetry;
