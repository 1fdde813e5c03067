//! Turns on the integration tests that need something outside Rust when a variable
//! names it, so that without it they are listed as ignored, with the reason, rather
//! than silently passing: PostgreSQL (`LIAISON_TEST_POSTGRES`) and the headless
//! Chromium check of `/docs` (`LIAISON_TEST_CHROMIUM`).
//!
//! Also rebuilds the crate when a migration is added: `embed_migrations!` reads the
//! `migrations` folders at compile time, and cargo would not see a new one.

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    for (var, cfg) in [
        ("LIAISON_TEST_POSTGRES", "postgres_tests"),
        ("LIAISON_TEST_CHROMIUM", "chromium_tests"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var_os(var).is_some_and(|v| !v.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
