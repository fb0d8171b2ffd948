//! Finds where a value sits in RON source text, so scene errors can name line and column.

/// One step of a path into a RON document: a named field of a struct/map, or an index into a list/tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A struct field, or a map key (an identifier, or a string key's contents).
    Field(&'a str),
    /// The zero-based position of an element in a list, tuple, struct or map.
    Index(usize),
}

/// A 1-based line and column (column counted in chars).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in chars (not bytes).
    pub column: usize,
}

/// Where the value at `path` begins in `src` (the first character of the value, e.g. the `U` of
/// `Uniform(0, 1)`, the `"` of a string, the `-` of `-5`, the `[` of a list). The empty path is the
/// top-level value. None when the path is not present (e.g. a missing field) or the text cannot be scanned.
pub fn locate(src: &str, path: &[Seg]) -> Option<Location> {
    find(src, path).map(|pos| location(src, pos))
}

/// Where the *field name* `field` is written inside the struct at `parent` (e.g. the `c` of `c: 5`);
/// falls back to the start of the parent value when the field is absent. Useful for "missing field" errors.
pub fn locate_field(src: &str, parent: &[Seg], field: &str) -> Option<Location> {
    let pos = find(src, parent)?;
    let mut sc = Scanner { s: src, i: pos };
    let at = sc.child(Seg::Field(field)).map_or(pos, |(name, _)| name);
    Some(location(src, at))
}

/// The identifier written right before a value's opening parenthesis, e.g. Some("Uniform") for
/// `Uniform(0, 1)` or Some("Normal") for `Normal(mean: 1, sd: 2)`, Some("Poisson") for `Poisson(...)`,
/// and for a unit-like bare identifier `RegularSpiking` returns Some("RegularSpiking"). None for numbers,
/// strings, lists, maps, plain tuples `(1, 2)`, or a missing path.
pub fn value_name(src: &str, path: &[Seg]) -> Option<String> {
    let i = find(src, path)?;
    let mut sc = Scanner { s: src, i };
    let name = sc.ident()?;
    sc.ws();
    let ends = matches!(sc.peek(), None | Some('(' | ',' | ')' | ']' | '}' | ':'));
    let literal = matches!(name, "true" | "false" | "inf" | "NaN");
    (ends && !literal).then(|| name.to_string())
}

/// The byte range of the value at `path` in `src`, from its first character to its last (trailing
/// whitespace, comments and separators excluded). None when the path is not present.
pub fn span(src: &str, path: &[Seg]) -> Option<std::ops::Range<usize>> {
    let start = find(src, path)?;
    let mut sc = Scanner { s: src, i: start };
    let end = sc.skip_value();
    (end > start).then_some(start..end)
}

/// The byte offset just inside the opening parenthesis of the struct at `path` (e.g. after the
/// `(` of `Task(`), where a field can be inserted. None when the value is not a parenthesized struct.
pub fn inside(src: &str, path: &[Seg]) -> Option<usize> {
    let mut sc = Scanner {
        s: src,
        i: find(src, path)?,
    };
    sc.ident();
    sc.ws();
    sc.eat('(')?;
    Some(sc.i)
}

/// Byte offset of the value at `path`, past leading whitespace, comments and `#![...]` attributes.
fn find(src: &str, path: &[Seg]) -> Option<usize> {
    let mut sc = Scanner { s: src, i: 0 };
    sc.ws();
    while sc.rest().starts_with("#!") {
        sc.i += 2;
        sc.ws();
        sc.skip_atom();
        sc.ws();
    }
    if matches!(sc.peek()?, ')' | ']' | '}' | ',' | ':') {
        return None;
    }
    for seg in path {
        sc.i = sc.child(*seg)?.1;
    }
    Some(sc.i)
}

/// Converts a byte offset (on a char boundary) into a 1-based line and char column.
fn location(src: &str, pos: usize) -> Location {
    let before = src.get(..pos).unwrap_or(src);
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let column = before[line_start..].chars().count() + 1;
    let line = before.matches('\n').count() + 1;
    Location { line, column }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| !is_word(c)).unwrap_or(s.len())
}

/// A cursor over RON text; `i` is always a byte offset on a char boundary.
struct Scanner<'s> {
    s: &'s str,
    i: usize,
}

impl<'s> Scanner<'s> {
    fn rest(&self) -> &'s str {
        &self.s[self.i..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        self.i += self.peek().map_or(0, char::len_utf8);
    }

    /// Consumes `c` if it is the next char.
    fn eat(&mut self, c: char) -> Option<()> {
        (self.peek()? == c).then(|| self.bump())
    }

    /// Skips whitespace, `//` line comments and (nested) `/* */` block comments.
    fn ws(&mut self) {
        let mut depth = 0usize; // block comment nesting
        loop {
            let rest = self.rest();
            if rest.starts_with("/*") {
                (depth, self.i) = (depth + 1, self.i + 2);
            } else if depth > 0 && rest.starts_with("*/") {
                (depth, self.i) = (depth - 1, self.i + 2);
            } else if depth == 0 && rest.starts_with("//") {
                self.i += rest.find('\n').unwrap_or(rest.len());
            } else if !rest.is_empty() && (depth > 0 || rest.starts_with(char::is_whitespace)) {
                self.bump();
            } else {
                return;
            }
        }
    }

    /// If a raw string (`r"`, `r#"`, `br"`...) starts here: its prefix length and `#` count.
    fn raw_prefix(&self) -> Option<(usize, usize)> {
        let rest = self.rest();
        let after_r = rest.strip_prefix('b').unwrap_or(rest).strip_prefix('r')?;
        let hashes = after_r.len() - after_r.trim_start_matches('#').len();
        let prefix = rest.len() - after_r.len() + hashes + 1;
        let quoted = after_r[hashes..].starts_with('"');
        quoted.then_some((prefix, hashes))
    }

    /// Reads an identifier (optionally `r#`-prefixed) and returns it without the prefix.
    fn ident(&mut self) -> Option<&'s str> {
        let rest = self.rest();
        let body = rest.strip_prefix("r#").unwrap_or(rest);
        let first = body.chars().next()?;
        if self.raw_prefix().is_some() || !(first.is_alphabetic() || first == '_') {
            return None;
        }
        let len = word_len(body);
        self.i += rest.len() - body.len() + len;
        Some(&body[..len])
    }

    /// Skips one token (string, char, raw string, word or other char), or a whole bracketed
    /// group; groups are tracked with a counter, so deep nesting cannot overflow the stack.
    fn skip_atom(&mut self) {
        let mut depth = 0usize;
        loop {
            if let Some((prefix, hashes)) = self.raw_prefix() {
                self.i += prefix;
                let close = format!("\"{}", "#".repeat(hashes));
                let rest = self.rest();
                self.i += rest.find(&close).map_or(rest.len(), |n| n + close.len());
            } else {
                match self.peek() {
                    None => return,
                    Some(q @ ('"' | '\'')) => self.quoted(q),
                    Some(c) if is_word(c) => self.i += word_len(self.rest()),
                    Some(c) => {
                        depth += usize::from(matches!(c, '(' | '[' | '{'));
                        depth = depth.saturating_sub(usize::from(matches!(c, ')' | ']' | '}')));
                        self.bump();
                    }
                }
            }
            if depth == 0 {
                return;
            }
            self.ws();
        }
    }

    /// Skips a quoted string or char literal starting at its opening quote `q`.
    fn quoted(&mut self, q: char) {
        self.bump();
        while let Some(c) = self.peek() {
            self.bump();
            if c == '\\' {
                self.bump();
            } else if c == q {
                return;
            }
        }
    }

    /// Skips one value (up to a top-level `,`, `:` or closing bracket); returns where it ended.
    fn skip_value(&mut self) -> usize {
        let mut end = self.i;
        loop {
            self.ws();
            if matches!(self.peek(), None | Some(',' | ':' | ')' | ']' | '}')) {
                return end;
            }
            self.skip_atom();
            end = self.i;
        }
    }

    /// With the cursor at a value's start, finds the element `seg` inside it and returns
    /// (start of its field name or key, or of the element itself; start of its value).
    fn child(&mut self, seg: Seg) -> Option<(usize, usize)> {
        self.ident(); // optional struct or variant name
        self.ws();
        let open = self.peek().filter(|c| matches!(c, '(' | '[' | '{'))?;
        self.bump();
        for index in 0.. {
            self.ws();
            if matches!(self.peek()?, ')' | ']' | '}') {
                return None;
            }
            let (start, mut name) = (self.i, None);
            if open == '(' {
                let word = self.ident();
                self.ws();
                match word {
                    Some(w) if self.eat(':').is_some() => name = Some(w),
                    _ => self.i = start,
                }
            } else if open == '{' {
                let key = &self.s[start..self.skip_value()];
                let inner = key.strip_prefix('"').and_then(|k| k.strip_suffix('"'));
                name = Some(inner.unwrap_or(key));
                self.eat(':')?;
            }
            self.ws();
            if matches!(seg, Seg::Field(f) if name == Some(f)) || seg == Seg::Index(index) {
                return Some((start, self.i));
            }
            self.skip_value();
            self.eat(',')?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Seg::{Field as F, Index as I};
    use super::*;

    const SCENE: &str = r##"#![enable(implicit_some)]
// A scene: "not(a, string): here"
Scene(
    seed: 7, /* block /* nested */ comment, ) */
    name: "a (tricky), string: with // inside \" and ] \u{29} \\",
    regions: [
        (name: "r0", populations: []),
        Region(
            name: r#"raw ", ) string"#, // comment with ( and :
            populations: [
                (count: -5, model: Uniform(0, 1), tag: '\'', t2: ')'),
                (count: +2, model: Normal(mean: 1.5e-3, sd: 2), kind: RegularSpiking),
            ],
        ),
    ],
    weights: { "exc:": 0x1F, inh: NaN, "a, b": [1, 2] },
    rate: Some(Poisson(lambda: inf)),
    pair: (1, 2), flag: true, bytes: b"x", raw: r#Foo,
)"##;

    /// Where `needle` first occurs on `line` of SCENE (computed independently of the scanner).
    fn w(line: usize, needle: &str) -> Option<Location> {
        let text = SCENE.lines().nth(line - 1)?;
        let column = text[..text.find(needle)?].chars().count() + 1;
        Some(Location { line, column })
    }

    fn at(line: usize, column: usize) -> Option<Location> {
        Some(Location { line, column })
    }

    /// Test shorthand for a path, e.g. `"regions.1.name"`; numeric parts are indices.
    fn p(s: &str) -> Vec<Seg<'_>> {
        let parts = s.split('.').filter(|x| !x.is_empty());
        parts.map(|x| x.parse().map_or(F(x), I)).collect()
    }

    #[test]
    fn locates_values_on_nested_paths() {
        let cases = [
            ("", 3, "Scene"),
            ("seed", 4, "7"),
            ("name", 5, "\"a ("),
            ("regions", 6, "["),
            ("regions.1.name", 9, "r#"),
            ("regions.1.populations.0.count", 11, "-5"),
            ("regions.1.populations.0.model", 11, "Uniform"),
            ("regions.1.populations.0.model.1", 11, "1)"),
            ("regions.1.populations.0.tag", 11, "'\\''"),
            ("regions.1.populations.0.t2", 11, "')'"),
            ("regions.1.populations.1.count", 12, "+2"),
            ("regions.1.populations.1.model.mean", 12, "1.5e"),
            ("regions.1.populations.1.kind", 12, "RegularSpiking"),
            ("weights.exc:", 16, "0x1F"),
            ("weights.inh", 16, "NaN"),
            ("weights.1", 16, "NaN"),
            ("weights.a, b.1", 16, "2]"),
            ("rate.0.lambda", 17, "inf"),
            ("pair.1", 18, "2)"),
        ];
        for (path, line, needle) in cases {
            assert_eq!(locate(SCENE, &p(path)), w(line, needle), "{path}");
        }
        assert_eq!(locate("  42 ", &[]), at(1, 3));
        assert_eq!(locate("[[[", &[I(0), I(0)]), at(1, 3));
    }

    #[test]
    fn missing_paths_are_none() {
        let missing = "nope regions.2 regions.0.populations.0 regions.1.populations.0.absent \
                       seed.0 pair.x weights.missing regions.1.populations.1.kind.0";
        for path in missing.split(' ') {
            assert_eq!(locate(SCENE, &p(path)), None, "{path}");
        }
        assert_eq!(locate("", &[]), None);
        assert_eq!(locate("// only a comment", &[]), None);
        assert_eq!(locate("[[[", &[I(0), I(0), I(0)]), None);
    }

    #[test]
    fn field_names_fall_back_to_parent() {
        let cases = [
            ("regions.1.populations.1", "model", 12, "model"),
            ("regions.1.populations.1", "absent", 12, "(count"),
            ("", "seed", 4, "seed"),
            ("", "absent", 3, "Scene"),
            ("weights", "inh", 16, "inh"),
            ("weights", "exc:", 16, "\"exc"),
        ];
        for (parent, field, line, needle) in cases {
            let got = locate_field(SCENE, &p(parent), field);
            assert_eq!(got, w(line, needle), "{parent} {field}");
        }
        assert_eq!(locate_field(SCENE, &[F("nope")], "x"), None);
    }

    #[test]
    fn value_names() {
        let cases = [
            ("", Some("Scene")),
            ("regions.1", Some("Region")),
            ("regions.1.populations.0.model", Some("Uniform")),
            ("regions.1.populations.1.model", Some("Normal")),
            ("regions.1.populations.1.kind", Some("RegularSpiking")),
            ("rate", Some("Some")),
            ("rate.0", Some("Poisson")),
            ("raw", Some("Foo")),
        ];
        let nones = "seed name regions pair weights nope regions.0 regions.1.name \
                     weights.inh rate.0.lambda regions.1.populations.0.tag \
                     regions.1.populations.0.count flag bytes";
        for (path, want) in cases.into_iter().chain(nones.split(' ').map(|n| (n, None))) {
            assert_eq!(value_name(SCENE, &p(path)).as_deref(), want, "{path}");
        }
    }

    #[test]
    fn spans_cover_whole_values() {
        let text = |path: &str| span(SCENE, &p(path)).map(|r| &SCENE[r]);
        assert_eq!(text("seed"), Some("7"));
        assert_eq!(text("regions.1.populations.0.model"), Some("Uniform(0, 1)"));
        assert_eq!(text("regions.1.populations.1.count"), Some("+2"));
        assert_eq!(text("pair"), Some("(1, 2)"));
        assert_eq!(text("weights.a, b"), Some("[1, 2]"));
        assert_eq!(text("regions.0"), Some("(name: \"r0\", populations: [])"));
        assert_eq!(text("nope"), None);
        let at = inside(SCENE, &p("regions.1.populations.1")).unwrap();
        assert!(SCENE[at..].starts_with("count: +2"));
        assert_eq!(inside(SCENE, &p("seed")), None);
    }

    #[test]
    fn multibyte_columns_count_chars() {
        let src = "(name: \"héllo wörld ☃\", /* ü */ x: 5,\n  é: 1, y: [\"日本\", 3])";
        assert_eq!(locate(src, &[F("x")]), at(1, 36));
        assert_eq!(locate(src, &[F("é")]), at(2, 6));
        assert_eq!(locate(src, &[F("y"), I(1)]), at(2, 19));
        assert_eq!(locate_field(src, &[], "y"), at(2, 9));
    }

    #[test]
    fn garbage_and_truncated_text_never_panics() {
        let garbage = "((( [[[ \"open r#\" r##\"x\"# /*/* ' {: #! #![ (a: , r# b'\\ } é\u{301}";
        let mut inputs: Vec<String> = garbage.split(' ').map(String::from).collect();
        let cuts = SCENE.char_indices().map(|(i, _)| SCENE.split_at(i));
        inputs.extend(cuts.flat_map(|(a, b)| [a, b]).map(String::from));
        inputs.extend(["[", "(a: ", "/*", "#![", "{a:"].map(|s| s.repeat(30_000)));
        for src in &inputs {
            for path in ["", "regions.1", "0.0.0", "a", "weights.a, b"] {
                let path = p(path);
                let _ = locate(src, &path).zip(locate_field(src, &path, "a"));
                let _ = value_name(src, &path);
            }
        }
    }
}
