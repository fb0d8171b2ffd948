//! Reads the CSV files a run writes (plain comma-separated, one header line, no quoting) back
//! into columns, for figures and comparisons.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Free text (a run folder's name, a scene's name) made into one plain field of these files:
/// commas become ';', quotes '\'', line breaks spaces, so splitting on commas reads it back whole.
pub fn plain_field(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ',' => ';',
            '"' => '\'',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// Free text as one double-quoted field of the group and sensitivity tables (quotes inside become
/// '\'').
pub fn quoted_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "'"))
}

/// One CSV file of a run folder: its header and its rows as text.
#[derive(Clone, Debug)]
pub struct Table {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `dir/name`; a missing file is an error naming it.
    pub fn read(dir: &Path, name: &str) -> Result<Table> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<String> = lines
            .next()
            .ok_or_else(|| Error::data(&path, "empty file (no header line)"))?
            .split(',')
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, l) in lines.enumerate() {
            let row: Vec<String> = l.split(',').map(str::to_string).collect();
            if row.len() != header.len() {
                return Err(Error::data(
                    &path,
                    format!("line {}: {} fields, the header has {}", i + 2, row.len(), header.len()),
                ));
            }
            rows.push(row);
        }
        Ok(Table { path, header, rows })
    }

    /// Reads `dir/name` when it exists (runs without a protocol or structure lack some files).
    pub fn read_optional(dir: &Path, name: &str) -> Result<Option<Table>> {
        if dir.join(name).exists() {
            Table::read(dir, name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The index of a column, or an error naming the file and the column.
    pub fn col(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::data(&self.path, format!("no column {name:?}")))
    }

    /// A column parsed as numbers; an empty field (e.g. no latency) is NaN.
    pub fn f64s(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.col(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let s = r[c].trim();
                if s.is_empty() {
                    return Ok(f64::NAN);
                }
                s.parse::<f64>()
                    .map_err(|_| Error::data(&self.path, format!("line {}: {name} = {s:?} is not a number", i + 2)))
            })
            .collect()
    }

    /// A column as text.
    pub fn strs(&self, name: &str) -> Result<Vec<&str>> {
        let c = self.col(name)?;
        Ok(self.rows.iter().map(|r| r[c].as_str()).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn plain_field_keeps_one_field_on_one_line() {
        assert_eq!(
            super::plain_field("M1 stroke, \"rehab\"\nday 2"),
            "M1 stroke; 'rehab' day 2"
        );
        assert_eq!(super::plain_field("Área_motora"), "Área_motora");
    }
}
