//! Nothing lost, nobody in: crash, race, overload, fault, hostile-input and
//! auth-abuse tests, each recording what it tried for `docs/RELIABILITY.md`.

mod auth_abuse;
mod crash;
mod faults;
mod hostile;
mod proxy;
mod race;
pub mod report;
pub mod server;

/// `binary_tests!(name, …)`: like `backend_tests!`, for `async fn name(backend)`
/// bodies that make their own databases and servers (the real binary, or an app
/// with settings of their own).
macro_rules! binary_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(
                    not(postgres_tests),
                    ignore = "PostgreSQL tests were not run: set LIAISON_TEST_POSTGRES (see README)"
                )]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use binary_tests;

/// Rounds of the crash and two-instance tests: a few in CI, more for a soak
/// (`LIAISON_SOAK_ROUNDS=50 cargo test --test api reliability::`).
pub fn rounds(default: usize) -> usize {
    std::env::var("LIAISON_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}
