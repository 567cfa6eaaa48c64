//! `db::SQLITE_MIGRATIONS` and `db::POSTGRES_MIGRATIONS` are embedded by `embed_migrations!`,
//! which reads `migrations/` while the crate compiles. Cargo does not know that: a migration
//! folder added or changed after the last build was left out until something in `src/`
//! changed too. This tells Cargo to build again whenever anything under `migrations/` changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
