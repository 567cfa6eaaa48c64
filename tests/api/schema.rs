//! The two migration folders stay twins, and `src/db/schema.rs` (one portable schema for both
//! backends) describes exactly what the migrations make on each backend.

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{Bool, Integer, Text};

use bonded_returns::db;

use crate::support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn migration_names(backend: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{ROOT}/migrations/{backend}"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| {
            for f in ["up.sql", "down.sql"] {
                assert!(p.join(f).is_file(), "{} has no {f}", p.display());
            }
            p.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect()
}

#[test]
fn the_two_migration_folders_list_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must hold migrations of the same names"
    );
}

/// A column as `schema.rs` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Declared {
    sql_type: String,
    nullable: bool,
}

/// Reads the `diesel::table!` blocks of `src/db/schema.rs`: table → column → type.
fn declared_schema() -> BTreeMap<String, BTreeMap<String, Declared>> {
    let text = std::fs::read_to_string(format!("{ROOT}/src/db/schema.rs")).unwrap();
    let mut tables = BTreeMap::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if !line.starts_with("diesel::table!") {
            continue;
        }
        let mut current: Option<(String, BTreeMap<String, Declared>)> = None;
        for line in lines.by_ref() {
            if line.is_empty()
                || line.starts_with("//")
                || line.starts_with('#')
                || line.starts_with("use ")
            {
                continue;
            }
            if line == "}" {
                break;
            }
            if line.ends_with('{') && current.is_none() {
                let name = line.split([' ', '(']).next().unwrap().to_string();
                current = Some((name, BTreeMap::new()));
                continue;
            }
            if let Some((column, ty)) = line.trim_end_matches(',').split_once("->") {
                let column = column.trim().trim_start_matches("r#").to_string();
                let ty = ty.trim();
                let (sql_type, nullable) = match ty
                    .strip_prefix("Nullable<")
                    .and_then(|t| t.strip_suffix('>'))
                {
                    Some(inner) => (inner.to_string(), true),
                    None => (ty.to_string(), false),
                };
                current
                    .as_mut()
                    .expect("a column outside a table")
                    .1
                    .insert(column, Declared { sql_type, nullable });
            }
        }
        let (name, columns) = current.expect("a table! block without a table");
        assert!(!columns.is_empty(), "table {name} has no columns");
        tables.insert(name, columns);
    }
    assert!(tables.len() >= 10, "schema.rs was not read: {tables:?}");
    tables
}

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(diesel::QueryableByName, Debug)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

/// Does a database type hold what diesel's `sql_type` maps to on this backend?
fn compatible(backend: Backend, sql_type: &str, db_type: &str) -> bool {
    let t = db_type.to_ascii_lowercase();
    let accepted: &[&str] = match (backend, sql_type) {
        (Backend::Sqlite, "Text") => &["text"],
        (Backend::Sqlite, "BigInt") => &["bigint", "integer"],
        (Backend::Sqlite, "Integer") => &["integer", "int"],
        (Backend::Sqlite, "Bool") => &["boolean", "bool"],
        (Backend::Sqlite, "Timestamp") => &["timestamp", "datetime"],
        (Backend::Sqlite, "Binary") => &["blob"],
        (Backend::Sqlite, "Double") => &["real", "double"],
        (Backend::Sqlite, "Date") => &["date"],
        (Backend::Postgres, "Text") => &["text", "character varying"],
        (Backend::Postgres, "BigInt") => &["bigint"],
        (Backend::Postgres, "Integer") => &["integer"],
        (Backend::Postgres, "SmallInt") => &["smallint"],
        (Backend::Postgres, "Bool") => &["boolean"],
        (Backend::Postgres, "Timestamp") => &["timestamp without time zone"],
        (Backend::Postgres, "Binary") => &["bytea"],
        (Backend::Postgres, "Double") => &["double precision"],
        (Backend::Postgres, "Date") => &["date"],
        _ => panic!(
            "schema.rs uses {sql_type}: teach this test how {} stores it",
            backend.name()
        ),
    };
    accepted.contains(&t.as_str())
}

both! {
    fn every_table_and_column_of_schema_rs_exists_in_the_migrated_database(app: &TestApp) {
        let fresh = TestDb::fresh(app.backend);
        let mut conn = fresh.connect();
        let applied = db::migrate(&mut conn).unwrap();
        assert_eq!(applied, migration_names(app.backend.name()).len());

        let tables_sql = match app.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' \
                                AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
                .to_string(),
            Backend::Postgres => "SELECT table_name::text AS name FROM information_schema.tables \
                                  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                                  AND table_name <> '__diesel_schema_migrations'"
                .to_string(),
        };
        let in_db: BTreeSet<String> = sql_rows::<TableName>(&mut conn, &tables_sql)
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        let declared = declared_schema();
        let in_schema: BTreeSet<String> = declared.keys().cloned().collect();
        assert_eq!(
            in_schema,
            in_db,
            "tables of schema.rs (left) and of the migrated {} database (right)",
            app.backend.name()
        );

        for (table, columns) in &declared {
            let sql = match app.backend {
                Backend::Sqlite => format!(
                    "SELECT name AS column_name, type AS data_type, \"notnull\" = 1 AS not_null, pk \
                     FROM pragma_table_info('{table}')"
                ),
                Backend::Postgres => format!(
                    "SELECT column_name::text AS column_name, data_type::text AS data_type, \
                     is_nullable = 'NO' AS not_null, 0 AS pk FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = '{table}'"
                ),
            };
            let actual: BTreeMap<String, ColumnInfo> = sql_rows::<ColumnInfo>(&mut conn, &sql)
                .unwrap()
                .into_iter()
                .map(|c| (c.column_name.clone(), c))
                .collect();
            let want: BTreeSet<&String> = columns.keys().collect();
            let have: BTreeSet<&String> = actual.keys().collect();
            assert_eq!(
                want, have,
                "columns of {table}: schema.rs (left), database (right)"
            );
            for (name, d) in columns {
                let c = &actual[name];
                assert!(
                    compatible(app.backend, &d.sql_type, &c.data_type),
                    "{table}.{name}: schema.rs says {}, the database has {}",
                    d.sql_type,
                    c.data_type
                );
                // SQLite's INTEGER PRIMARY KEY is the rowid, never NULL whatever it declares.
                let not_null =
                    c.not_null || (c.pk > 0 && c.data_type.eq_ignore_ascii_case("integer"));
                assert_eq!(
                    d.nullable, !not_null,
                    "{table}.{name}: schema.rs says nullable = {}, the database disagrees",
                    d.nullable
                );
            }
        }
    }
}
