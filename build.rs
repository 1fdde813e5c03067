//! Turns PostgreSQL integration tests on when `LIAISON_TEST_POSTGRES` names a server,
//! so that without it they are listed as ignored, with the reason, rather than
//! silently passing.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=LIAISON_TEST_POSTGRES");
    if std::env::var_os("LIAISON_TEST_POSTGRES").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
