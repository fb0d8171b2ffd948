//! Scenes: the RON schema, its validation, and resolution into a [`Model`].

pub mod locate;
pub mod model;
mod protocol;
pub mod readouts;
pub mod schema;
pub mod set;
mod validate;

pub use model::{
    DopamineModel, InputKind, InputModel, Model, NeuronKind, PopulationModel, ProjectionModel, ScalingModel, StdpModel,
};
pub use schema::{Param, Rule, Scene};

use crate::error::{Error, Result};
use std::path::Path;

/// The quickstart scene: two regions, two seconds of plain simulation.
pub const QUICKSTART: &str = include_str!("../../scenes/quickstart.ron");
/// The default scene, embedded so that `rewire run` works with no arguments: the stroke and
/// rehabilitation showcase.
pub const DEFAULT_SCENE: &str = include_str!("../../scenes/stroke_rehab.ron");

/// Reads, parses and validates a scene file.
pub fn load(path: &Path) -> Result<Model> {
    let src = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&src, &path.display().to_string())
}

/// Parses and validates scene text; `file` names the source in errors.
pub fn parse(src: &str, file: &str) -> Result<Model> {
    let scene: Scene = ron_options().from_str(src).map_err(|e| {
        let (line, column) = (e.span.start.line, e.span.start.col);
        Error::Scene {
            file: file.to_string(),
            line,
            column,
            field: field_before(src, line, column),
            message: e.code.to_string(),
        }
    })?;
    let default_name = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    validate::resolve(scene, src, file, default_name)
}

/// How scene text is read: RON with implicit `Some` and unwrapped newtype variants.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES | ron::extensions::Extensions::IMPLICIT_SOME,
    )
}

/// The name of the field whose value contains the given position: the last `name:` written
/// before it. Serde's messages name the expected type; this names where it was expected.
fn field_before(src: &str, line: usize, column: usize) -> String {
    let mut offset = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(l.len(), |(b, _)| b);
            break;
        }
        offset += l.len();
    }
    let before = &src[..offset.min(src.len())];
    let bytes = before.as_bytes();
    let mut i = bytes.len();
    while i > 0 {
        i -= 1;
        if bytes[i] == b':' && (i + 1 >= bytes.len() || bytes[i + 1] != b':') {
            let mut end = i;
            while end > 0 && bytes[end - 1].is_ascii_whitespace() {
                end -= 1;
            }
            let mut start = end;
            while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                start -= 1;
            }
            if start < end {
                return before[start..end].to_string();
            }
        }
    }
    "scene".to_string()
}
