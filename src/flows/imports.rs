//! Importing customs messages (placeholder during build-up; replaced by the return flow).
use crate::db::writer::Writer;
use crate::error::AppError;
pub fn import_files(_w: &Writer, _f: &[std::path::PathBuf]) -> Result<i32, AppError> {
    Err(AppError::Startup("import is not available yet".into()))
}
