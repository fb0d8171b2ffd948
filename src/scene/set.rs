//! `--set PATH=VALUE`: changes fields of a scene from the command line by editing the scene's text,
//! so every other field, comment and default stays as written, and the result is validated like any
//! scene file.
//!
//! A path names fields with dots (`seed`, `task.trial_ms`, `time.offline_ms`); list elements are
//! picked by position (`projections[2].weight` or `projections.2.weight`), by their variant or
//! struct name when it is unique in the list (`protocol.Rehab.days`, `protocol.Lesion.kind.core_mm`)
//! or by their `name` field (`regions.M1.radius_mm`, `regions.M1.populations.M1_E.count`).
//! A field the scene does not write may be set when it is the last step of the path; the schema
//! then decides whether it exists.

use super::locate::{self, Seg};
use crate::error::{Error, Result};

/// The `--set` path of the scene's seed: a sweep or screening that varies it runs replicates.
pub const SEED_PATH: &str = "seed";

/// The arm a scenario's settings stand for: every setting but the seed, `path=value`, space
/// separated; `all` when the seed is the only one (the replicates of one arm share it).
pub fn arm_label(settings: &[(String, String)]) -> String {
    let shown: Vec<String> = settings
        .iter()
        .filter(|(p, _)| p != SEED_PATH)
        .map(|(p, v)| format!("{p}={v}"))
        .collect();
    if shown.is_empty() {
        "all".to_string()
    } else {
        shown.join(" ")
    }
}

/// One `--set PATH=V1,V2,...` option: a field and the values it takes (a sweep runs each).
#[derive(Clone, Debug, PartialEq)]
pub struct SetOption {
    pub path: String,
    pub values: Vec<String>,
}

impl SetOption {
    /// Parses `PATH=V1,V2,...`; values are RON, split at commas outside brackets and quotes, so
    /// `protocol.Rehab.days=(2, 8),(14, 20)` gives two values.
    pub fn parse(arg: &str) -> Result<SetOption> {
        let usage = |why: &str| Error::Usage(format!("--set {arg:?}: {why} (expected PATH=VALUE[,VALUE...])"));
        let (path, values) = arg.split_once('=').ok_or_else(|| usage("no `=`"))?;
        let path = path.trim();
        if path.is_empty() {
            return Err(usage("no path before `=`"));
        }
        let values = split_top(values);
        if values.iter().any(|v| v.is_empty()) {
            return Err(usage("an empty value"));
        }
        if values.iter().any(|v| v.contains('\n')) {
            return Err(usage("a value spans lines"));
        }
        parse_path(path)?;
        Ok(SetOption {
            path: path.to_string(),
            values,
        })
    }
}

/// Splits at commas outside brackets, parentheses and quoted strings; trims each part.
fn split_top(s: &str) -> Vec<String> {
    let (mut parts, mut cur, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, false);
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quote = !quote,
            '\\' if quote => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '(' | '[' | '{' if !quote => depth += 1,
            ')' | ']' | '}' if !quote => depth -= 1,
            ',' if !quote && depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur.trim().to_string());
    parts
}

/// One step of a `--set` path as written.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Name(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Step>> {
    let bad = |why: String| Error::Usage(format!("--set path {path:?}: {why}"));
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !name.is_empty() {
            steps.push(match name.parse::<usize>() {
                Ok(i) => Step::Index(i),
                Err(_) if name.chars().all(|c| c.is_alphanumeric() || c == '_') => Step::Name(name.to_string()),
                Err(_) => return Err(bad(format!("`{name}` is not a field name"))),
            });
        } else if rest.is_empty() {
            return Err(bad("an empty step".into()));
        }
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(|| bad("an unclosed `[`".into()))?;
            let index = rest[1..close]
                .trim()
                .parse::<usize>()
                .map_err(|_| bad(format!("`{}` is not a list position", &rest[..=close])))?;
            steps.push(Step::Index(index));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return Err(bad(format!("unexpected `{rest}` after `]`")));
            }
        }
    }
    Ok(steps)
}

/// A path step resolved against the text.
#[derive(Clone, Debug)]
enum Owned {
    Field(String),
    Index(usize),
}

fn segs(path: &[Owned]) -> Vec<Seg<'_>> {
    path.iter()
        .map(|s| match s {
            Owned::Field(f) => Seg::Field(f),
            Owned::Index(i) => Seg::Index(*i),
        })
        .collect()
}

/// The text of the value at a resolved path.
fn text_at<'s>(src: &'s str, path: &[Owned]) -> Option<&'s str> {
    locate::span(src, &segs(path)).map(|r| &src[r])
}

/// Where a `--set` path leads: an existing value (its byte range), or a field the scene does not
/// write, to be inserted into its struct at a byte offset.
enum Target {
    Value(std::ops::Range<usize>),
    Absent { at: usize, field: String },
}

fn resolve(src: &str, path: &str) -> Result<Target> {
    let steps = parse_path(path)?;
    let mut cur: Vec<Owned> = Vec::new();
    let shown = |cur: &[Owned]| {
        let mut s = String::new();
        for seg in cur {
            match seg {
                Owned::Field(f) if s.is_empty() => s.push_str(f),
                Owned::Field(f) => s.push_str(&format!(".{f}")),
                Owned::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        if s.is_empty() {
            "the scene".to_string()
        } else {
            format!("`{s}`")
        }
    };
    let fail = |why: String| Error::Usage(format!("--set {path}: {why}"));
    for (k, step) in steps.iter().enumerate() {
        let last = k + 1 == steps.len();
        let here = text_at(src, &cur).unwrap_or("");
        let is_list = here.starts_with('[');
        match step {
            Step::Index(i) => {
                let mut next = cur.clone();
                next.push(Owned::Index(*i));
                if text_at(src, &next).is_none() {
                    let n = (0..)
                        .take_while(|j| text_at(src, &with(&cur, Owned::Index(*j))).is_some())
                        .count();
                    return Err(fail(format!("{} has no element {i} (it has {n})", shown(&cur))));
                }
                cur = next;
            }
            Step::Name(name) if is_list => {
                let mut found = Vec::new();
                let mut names = Vec::new();
                for j in 0.. {
                    let el = with(&cur, Owned::Index(j));
                    if text_at(src, &el).is_none() {
                        break;
                    }
                    let variant = locate::value_name(src, &segs(&el));
                    let named =
                        text_at(src, &with(&el, Owned::Field("name".into()))).map(|t| t.trim_matches('"').to_string());
                    if variant.as_deref() == Some(name) || named.as_deref() == Some(name) {
                        found.push(j);
                    }
                    names.push(named.or(variant).unwrap_or_else(|| j.to_string()));
                }
                match found[..] {
                    [j] => cur.push(Owned::Index(j)),
                    [] => {
                        return Err(fail(format!(
                            "{} has no element named `{name}` (its elements: {})",
                            shown(&cur),
                            names.join(", ")
                        )));
                    }
                    _ => {
                        return Err(fail(format!(
                            "{} elements of {} are `{name}`; pick one by position, e.g. {}[{}]",
                            found.len(),
                            shown(&cur),
                            shown(&cur).trim_matches('`'),
                            found[0]
                        )));
                    }
                }
            }
            Step::Name(name) => {
                let next = with(&cur, Owned::Field(name.clone()));
                if text_at(src, &next).is_some() {
                    cur = next;
                } else if let (true, Some(at)) = (last, locate::inside(src, &segs(&cur))) {
                    return Ok(Target::Absent {
                        at,
                        field: name.clone(),
                    });
                } else {
                    return Err(fail(format!("{} has no field `{name}`", shown(&cur))));
                }
            }
        }
    }
    locate::span(src, &segs(&cur))
        .map(Target::Value)
        .ok_or_else(|| fail("the path leads to no value".into()))
}

fn with(path: &[Owned], seg: Owned) -> Vec<Owned> {
    let mut p = path.to_vec();
    p.push(seg);
    p
}

/// The kind of a RON value, told from its text: what a replacement must match.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Number,
    Bool,
    Str,
    Tuple(usize),
    List,
    /// `Name(...)`: a struct or an enum variant with data (also what a distribution parameter
    /// such as `Uniform(1, 3)` is).
    Named,
    /// A bare identifier: a unit enum variant such as `RegularSpiking`.
    Ident,
}

impl Kind {
    fn of(text: &str) -> Option<Kind> {
        let t = text.trim();
        let first = t.chars().next()?;
        Some(match first {
            '"' => Kind::Str,
            '[' => Kind::List,
            '(' => Kind::Tuple(
                (0..)
                    .take_while(|i| locate::span(t, &[Seg::Index(*i)]).is_some())
                    .count(),
            ),
            '0'..='9' | '-' | '+' | '.' => Kind::Number,
            _ if t == "true" || t == "false" => Kind::Bool,
            _ if t == "inf" || t == "NaN" => Kind::Number,
            c if c.is_alphabetic() || c == '_' => {
                if locate::value_name(t, &[]).is_some() && t.contains('(') {
                    Kind::Named
                } else {
                    Kind::Ident
                }
            }
            _ => return None,
        })
    }

    fn describe(&self) -> String {
        match self {
            Kind::Number => "a number".into(),
            Kind::Bool => "true or false".into(),
            Kind::Str => "a string in double quotes".into(),
            Kind::Tuple(n) => format!("a tuple of {n}, like ({})", vec!["…"; *n].join(", ")),
            Kind::List => "a list in [ ]".into(),
            Kind::Named => "a named value like Name(...)".into(),
            Kind::Ident => "a name".into(),
        }
    }

    /// Whether a value of kind `new` may replace one of this kind. Numbers and named values may
    /// stand for each other (a parameter is a number or a distribution such as `Uniform(1, 3)`),
    /// as may bare and data-carrying variants; the scene's schema checks the rest.
    fn accepts(&self, new: &Kind) -> bool {
        use Kind::*;
        self == new
            || matches!(
                (self, new),
                (Number, Named) | (Named, Number) | (Named, Ident) | (Ident, Named)
            )
    }
}

/// Applies `path = value` settings to scene text, one after another, and returns the new text. A
/// path that leads nowhere, or a value of another kind than the one it replaces, is refused with
/// the path and the expected kind; the caller parses the result, which checks everything else.
pub fn apply(src: &str, settings: &[(String, String)]) -> Result<String> {
    let mut text = src.to_string();
    for (path, value) in settings {
        let fail = |why: String| Error::Usage(format!("--set {path}={value}: {why}"));
        let new = Kind::of(value).ok_or_else(|| fail("the value is not a RON value".into()))?;
        match resolve(&text, path)? {
            Target::Value(range) => {
                let old = &text[range.clone()];
                let want = Kind::of(old).ok_or_else(|| fail(format!("cannot tell the type of `{old}`")))?;
                if !want.accepts(&new) {
                    return Err(fail(format!(
                        "expected {} (the scene has `{old}`), got {}",
                        want.describe(),
                        new.describe()
                    )));
                }
                text.replace_range(range, value);
            }
            Target::Absent { at, field } => text.insert_str(at, &format!("{field}: {value}, ")),
        }
    }
    Ok(text)
}

/// Parses scene text after `settings`. When the result is refused, the first setting whose
/// prefix of the settings fails is named (with a hint when a fraction replaced an integer), or
/// all of them when only their combination fails.
pub fn parse_with(src: &str, file: &str, settings: &[(String, String)]) -> Result<super::Model> {
    let text = apply(src, settings)?;
    let Err(whole) = super::parse(&text, file) else {
        return super::parse(&text, file);
    };
    if settings.is_empty() {
        return Err(whole);
    }
    for k in 1..=settings.len() {
        let before = apply(src, &settings[..k - 1])?;
        if let Err(e) = super::parse(&apply(src, &settings[..k])?, file) {
            let (path, value) = &settings[k - 1];
            let old = match resolve(&before, path) {
                Ok(Target::Value(r)) => Some(before[r].to_string()),
                _ => {
                    // A field the scene did not write: the schema's message names what exists.
                    if let Error::Scene { message, .. } = &e {
                        return Err(Error::Usage(format!("--set {path}={value}: {message}")));
                    }
                    None
                }
            };
            let integer =
                |t: &str| !t.is_empty() && t.trim_start_matches(['-', '+']).chars().all(|c| c.is_ascii_digit());
            let hint = match old {
                Some(old) if integer(&old) && !integer(value) && Kind::of(value) == Some(Kind::Number) => {
                    format!(" (the scene writes the integer `{old}` here: the field may take whole numbers only)")
                }
                _ => String::new(),
            };
            return Err(Error::Usage(format!("--set {path}={value}: {e}{hint}")));
        }
    }
    let shown: Vec<String> = settings.iter().map(|(p, v)| format!("{p}={v}")).collect();
    Err(Error::Usage(format!("with --set {}: {whole}", shown.join(" "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"Scene(
    seed: 3, // the seed
    regions: [
        Region(name: "S1", radius_mm: 1.0, populations: [Population(name: "S1_E", count: 200)]),
        Region(name: "M1", radius_mm: 1.0, populations: [Population(name: "M1_E", count: 100)]),
    ],
    projections: [Projection(from: "S1_E", to: "M1_E", delay_ms: Uniform(1, 3))],
    task: Task(trial_ms: 250),
    protocol: [
        Train(days: (-8, -1), trials: 40),
        Lesion(day: 0, kind: Focal(centre_mm: (10, 0, 0), core_mm: 0.88)),
        Rest(days: (0, 1)),
        Rehab(days: (2, 8), trials: 20), Rest(days: (9, 40)),
    ],
)"#;

    fn set(path: &str, value: &str) -> Result<String> {
        apply(SRC, &[(path.to_string(), value.to_string())])
    }

    #[test]
    fn values_split_at_top_level_commas() {
        let o = SetOption::parse("protocol.Rehab.days=(2, 8),(14,20)").unwrap();
        assert_eq!(o.path, "protocol.Rehab.days");
        assert_eq!(o.values, ["(2, 8)", "(14,20)"]);
        let o = SetOption::parse(r#"name="a, b",c"#).unwrap();
        assert_eq!(o.values, [r#""a, b""#, "c"]);
        for bad in ["seed", "=3", "seed=", "seed=1,,2", "a..b=1", "a[x]=1", "a-b=1"] {
            assert!(SetOption::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_reach_fields_elements_variants_and_names() {
        assert!(set("seed", "9").unwrap().contains("seed: 9, // the seed"));
        assert!(set("task.trial_ms", "100").unwrap().contains("Task(trial_ms: 100)"));
        assert!(
            set("protocol.Rehab.days", "(14, 20)")
                .unwrap()
                .contains("Rehab(days: (14, 20), trials: 20)")
        );
        assert!(
            set("protocol[3].trials", "5")
                .unwrap()
                .contains("Rehab(days: (2, 8), trials: 5)")
        );
        assert!(set("protocol.3.trials", "5").unwrap().contains("trials: 5)"));
        let t = set("protocol.Lesion.kind.core_mm", "0.75").unwrap();
        assert!(t.contains("core_mm: 0.75))"));
        let t = set("regions.M1.radius_mm", "2.5").unwrap();
        assert!(t.contains(r#"Region(name: "M1", radius_mm: 2.5"#) && t.contains(r#"name: "S1", radius_mm: 1.0"#));
        let t = set("regions.M1.populations.M1_E.count", "50").unwrap();
        assert!(t.contains(r#"(name: "M1_E", count: 50)"#));
        // A distribution may replace a number and the other way round.
        assert!(set("projections[0].delay_ms", "2").unwrap().contains("delay_ms: 2)"));
        // A field the scene leaves to its default is written in.
        assert!(
            set("task.guidance", "4")
                .unwrap()
                .contains("Task(guidance: 4, trial_ms: 250)")
        );
        // Settings apply in order.
        let two = [
            ("seed".to_string(), "1".to_string()),
            ("task.trial_ms".into(), "9".into()),
        ];
        let t = apply(SRC, &two).unwrap();
        assert!(t.contains("seed: 1,") && t.contains("trial_ms: 9"));
    }

    #[test]
    fn bad_paths_and_kinds_are_refused_with_the_path() {
        let err = |p: &str, v: &str| set(p, v).unwrap_err().to_string();
        let e = err("protocol.Rest.days", "(1, 2)");
        assert!(
            e.contains("2 elements of `protocol` are `Rest`") && e.contains("protocol[2]"),
            "{e}"
        );
        let e = err("protocol.Booster.days", "(1, 2)");
        assert!(e.contains("no element named `Booster`") && e.contains("Rehab"), "{e}");
        let e = err("regions.V1.radius_mm", "1");
        assert!(e.contains("no element named `V1`") && e.contains("S1, M1"), "{e}");
        let e = err("protocol[9].days", "1");
        assert!(e.contains("has no element 9 (it has 5)"), "{e}");
        let e = err("nope.x", "1");
        assert!(e.contains("--set nope.x") && e.contains("no field `nope`"), "{e}");
        let e = err("protocol.Rehab.days", "5");
        assert!(e.contains("--set protocol.Rehab.days=5: expected a tuple of 2"), "{e}");
        let e = err("seed", "\"x\"");
        assert!(
            e.contains("--set seed=\"x\": expected a number") && e.contains("got a string"),
            "{e}"
        );
        let e = err("regions.S1.name", "S2");
        assert!(e.contains("expected a string in double quotes"), "{e}");
        let e = err("seed", "(1, 2)");
        assert!(e.contains("expected a number") && e.contains("got a tuple of 2"), "{e}");
    }
}
