//! Reports drawn from a run folder's files: figures, and comparisons of several runs.

pub mod compare;
pub mod figures;
pub mod table;

pub use table::Table;
