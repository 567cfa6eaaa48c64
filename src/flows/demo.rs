//! The demo data set (placeholder during build-up).
use crate::db::{writer::Writer, Pool};
use crate::error::AppError;
pub fn load_if_empty(_p: &Pool, _w: &Writer) -> Result<(), AppError> {
    Ok(())
}
