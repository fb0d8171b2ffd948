//! Reports drawn from a run folder's files: figures, and comparisons of several runs.

pub mod bold;
pub mod compare;
pub mod figures;
pub mod fmri;
pub mod groups;
pub mod icms;
pub mod imaging;
pub mod lfp;
pub mod table;
pub mod tracts;

pub use table::Table;

/// A run folder's `summary.json`, when it has one (a run that stopped early has none).
pub fn summary(dir: &std::path::Path) -> crate::error::Result<Option<serde_json::Value>> {
    let path = dir.join("summary.json");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| crate::error::Error::io(&path, e))?;
    let value = serde_json::from_str(&text).map_err(|e| crate::error::Error::data(&path, format!("not JSON: {e}")))?;
    Ok(Some(value))
}
