//! Spec files → validated [`Spec`]. Loading YAML happens here and nowhere else; every problem is
//! collected as a located [`Diagnostic`] and nothing is emitted while any remains.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_yaml::{Mapping, Value};

use crate::diag::{Diagnostic, Diagnostics, Loc};
use crate::example;
use crate::locate::LineIndex;
use crate::model::*;
use crate::naming::{camel, is_camel, is_snake, request_name, response_name, snake};
use crate::raw::*;

mod names;

const TYPE_HELP: &str =
    "string, i64, f64, bool, json, [T], map<K, V> or a type declared under `types:`";

/// One spec file, read from disk or given in memory (tests).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Name shown in diagnostics and headers, e.g. `spec/user.yaml`.
    pub display: String,
    /// The file stem, the default area name.
    pub stem: String,
    /// YAML text.
    pub text: String,
}

/// Reads every `*.yaml` file below `dir`, sorted by path so the output never depends on the
/// order the file system lists them in.
pub fn read_dir(dir: &Path) -> Result<Vec<SourceFile>, Vec<Diagnostic>> {
    let shown = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let fail = |path: &Path, e: std::io::Error| {
        vec![Diagnostic {
            loc: Loc {
                file: path.display().to_string(),
                line: 1,
            },
            message: format!("cannot read: {e}"),
        }]
    };
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| fail(&d, e))?;
        for entry in entries {
            let path = entry.map_err(|e| fail(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| fail(&path, e))?;
        let rel: PathBuf = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
        let display = format!("{shown}/{}", rel.display()).replace('\\', "/");
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(SourceFile {
            display,
            stem,
            text,
        });
    }
    Ok(files)
}

/// Parses and validates spec files into the model, or returns every problem found.
pub fn check(files: &[SourceFile]) -> Result<Spec, Vec<Diagnostic>> {
    let mut cx = Checker::default();
    let mut parsed = Vec::new();
    for file in files {
        if let Some(p) = cx.parse_file(file) {
            parsed.push(p);
        }
    }
    // Pass 1: every type name, so references can point forwards and across files.
    for p in &parsed {
        cx.declare_types(p);
    }
    // Names the emitter introduces are reserved: area and type names are checked once every
    // name is known, the members next to them once they are resolved (below).
    let area_locs: Vec<(String, Loc)> = parsed
        .iter()
        .map(|p| (p.area.clone(), cx.loc(p, &["area"])))
        .collect();
    names::check_areas(&area_locs, &mut cx.diags);
    names::check_types(
        parsed.iter().map(|p| p.area.as_str()),
        &cx.declared,
        &mut cx.diags,
    );
    // Pass 2: resolve types and endpoints.
    let mut areas = Vec::new();
    for p in &parsed {
        areas.push(cx.resolve_area(p));
    }
    // Pagination refers to response types that may be declared in any file: resolve it last.
    for (area, name, pg, loc) in std::mem::take(&mut cx.pending_pages) {
        if let Some(ep) = areas
            .iter_mut()
            .filter(|a| a.name == area)
            .flat_map(|a| a.endpoints.iter_mut())
            .find(|e| e.name == name)
        {
            ep.pagination = resolve_pagination(&cx.types, &mut cx.diags, ep, &pg, loc);
        }
    }
    areas.sort_by(|a, b| a.name.cmp(&b.name));
    let mut spec = Spec {
        areas,
        types: std::mem::take(&mut cx.types),
    };
    mark_sent(&mut spec);
    // Union variants must be structs (known only once every type is resolved), and a reply
    // field must be a string field of the variant's struct.
    for def in spec.types.values() {
        if let TypeKind::Union(u) = &def.kind {
            for v in &u.variants {
                if let (Some(reply), Some(TypeKind::Struct(fields))) =
                    (&v.reply, spec.types.get(&v.ty).map(|t| &t.kind))
                {
                    if !fields
                        .iter()
                        .any(|f| &f.wire == reply && f.ty == Ty::String)
                    {
                        cx.diags.error(
                            v.loc.clone(),
                            format!("union `{}`: variant `{}` answers with `{reply}`, but `{}` has no string field `{reply}`: name one of its string fields", def.name, v.tag, v.ty),
                        );
                    }
                }
                if !matches!(
                    spec.types.get(&v.ty).map(|t| &t.kind),
                    Some(TypeKind::Struct(_)) | None
                ) {
                    cx.diags.error(
                        def.loc.clone(),
                        format!("union `{}`: variant `{}` needs a struct type, but `{}` is not a struct", def.name, v.tag, v.ty),
                    );
                }
            }
        }
    }
    // Flattened body params: a struct or union whose keys do not clash with their siblings'.
    for area in &spec.areas {
        for ep in &area.endpoints {
            let mut flat_keys: Vec<(String, Vec<String>)> = Vec::new();
            for f in ep.body.iter().filter(|f| f.flatten) {
                let Ty::Named(name) = &f.ty else { continue };
                let keys: Vec<String> = match spec.types.get(name).map(|t| &t.kind) {
                    Some(TypeKind::Struct(fields)) => {
                        fields.iter().map(|g| g.wire.clone()).collect()
                    }
                    Some(TypeKind::Union(u)) => {
                        let mut keys = vec![u.tag_key.clone()];
                        for v in &u.variants {
                            match &u.content {
                                UnionContent::ByTag => keys.push(v.tag.clone()),
                                UnionContent::JsonTextAt(at) => keys.push(at.clone()),
                                UnionContent::Inline => {
                                    if let Some(TypeKind::Struct(fields)) =
                                        spec.types.get(&v.ty).map(|t| &t.kind)
                                    {
                                        keys.extend(fields.iter().map(|g| g.wire.clone()));
                                    }
                                }
                            }
                        }
                        keys.dedup();
                        keys
                    }
                    _ => {
                        cx.diags.error(
                            f.loc.clone(),
                            format!("endpoint `{}`, body param `{}`: `flatten: true` needs a struct or union type, and `{name}` is neither", ep.name, f.wire),
                        );
                        continue;
                    }
                };
                for sibling in ep.body.iter().filter(|g| g.wire != f.wire) {
                    if !sibling.flatten && keys.contains(&sibling.wire) {
                        cx.diags.error(
                            sibling.loc.clone(),
                            format!("endpoint `{}`, body param `{}`: the flattened `{}` also sends a `{}` key; rename or remove one", ep.name, sibling.wire, f.wire, sibling.wire),
                        );
                    }
                }
                // Two flattened params must not send the same key either.
                if let Some((earlier, key)) =
                    flat_keys
                        .iter()
                        .find_map(|(name, ks): &(String, Vec<String>)| {
                            ks.iter()
                                .find(|k| keys.contains(k))
                                .map(|k| (name.clone(), k.clone()))
                        })
                {
                    cx.diags.error(
                        f.loc.clone(),
                        format!("endpoint `{}`, body param `{}`: it and the flattened `{earlier}` both send a `{key}` key; keep one", ep.name, f.wire),
                    );
                }
                flat_keys.push((f.wire.clone(), keys));
            }
        }
    }
    names::check_members(&spec, &mut cx.diags);
    // A stale-ticket code must be in the error table, as every code the client reacts to.
    let known: BTreeSet<String> = spec
        .areas
        .iter()
        .flat_map(|a| &a.errors)
        .map(|e| match &e.code {
            crate::model::Code::Errcode(n) => n.to_string(),
            crate::model::Code::Service(s) => s.clone(),
        })
        .collect();
    for area in &spec.areas {
        for ep in &area.endpoints {
            for code in ep
                .issues
                .iter()
                .flat_map(|i| &i.stale_ticket)
                .filter(|c| !known.contains(*c))
            {
                cx.diags.error(
                    ep.loc.clone(),
                    format!("endpoint `{}`: `issues.stale_ticket` lists `{code}`, which no `errors:` table declares; add it to spec/errors.yaml or remove it", ep.name),
                );
            }
        }
    }
    // The client reads the envelope's keys of an oapi answer itself: a type that is the whole
    // answer never sees them, so a field of that name would always be empty.
    for area in &spec.areas {
        for ep in area.endpoints.iter().filter(|ep| ep.host == Host::Oapi) {
            let (None, Some(Ty::Named(name))) = (&ep.response.at, ep.response.ty()) else {
                continue;
            };
            let Some(def) = spec.types.get(name) else {
                continue;
            };
            let TypeKind::Struct(fields) = &def.kind else {
                continue;
            };
            for (field, key) in fields.iter().flat_map(|f| {
                std::iter::once(&f.wire)
                    .chain(&f.aliases)
                    .filter(|k| dingtalk_wire::ENVELOPE_KEYS.contains(&k.as_str()))
                    .map(move |k| (f, k))
            }) {
                cx.diags.error(
                    def.loc.clone(),
                    format!(
                        "type `{name}`, field `{}`: `{name}` is the whole answer of `{}.{}`, whose envelope keys ({}) the client reads itself, so `{key}` never reaches the type; drop the field (a failed call's error carries errcode, errmsg and request_id)",
                        field.wire,
                        area.name,
                        ep.name,
                        dingtalk_wire::ENVELOPE_KEYS.join(", ")
                    ),
                );
            }
        }
    }
    // Pass 3: examples decode into what they claim to.
    for area in &spec.areas {
        let index = parsed
            .iter()
            .find(|p| p.src.display == area.file)
            .map(|p| &p.index);
        for ep in &area.endpoints {
            // Example problems point at `example:`, not at the endpoint's first line.
            let loc = Loc {
                file: area.file.clone(),
                line: index.map_or(ep.loc.line, |i| i.line(&["endpoints", &ep.name, "example"])),
            };
            example::check_endpoint(&spec, ep, loc, &mut cx.diags);
            for f in ep.params() {
                example::check_param(&spec, &ep.name, f, &mut cx.diags);
            }
        }
    }
    for def in spec.types.values() {
        if def.example.is_some() {
            let index = parsed.iter().find(|p| p.area == def.area).map(|p| &p.index);
            let loc = Loc {
                file: def.loc.file.clone(),
                line: index.map_or(def.loc.line, |i| i.line(&["types", &def.name, "example"])),
            };
            example::check_type(&spec, def, loc, &mut cx.diags);
        }
    }
    if cx.diags.is_empty() {
        Ok(spec)
    } else {
        Err(cx.diags.into_sorted())
    }
}

/// Marks every type a request can carry: the named types of every param, and everything they
/// contain (fields, list items, map values, union variants).
fn mark_sent(spec: &mut Spec) {
    fn named(ty: &Ty, out: &mut Vec<String>) {
        match ty {
            Ty::Named(n) => out.push(n.clone()),
            Ty::List(inner) | Ty::Map(_, inner) => named(inner, out),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    for ep in spec.areas.iter().flat_map(|a| &a.endpoints) {
        for f in ep.params() {
            named(&f.ty, &mut todo);
        }
    }
    // A type declared `sent: true` is built by the app itself (a callback's answer): it and
    // everything it contains are marked from scratch below, like a param's type.
    for def in spec.types.values_mut().filter(|d| d.sent) {
        def.sent = false;
        todo.push(def.name.clone());
    }
    while let Some(name) = todo.pop() {
        let Some(def) = spec.types.get_mut(&name) else {
            continue;
        };
        if def.sent {
            continue;
        }
        def.sent = true;
        match &def.kind {
            TypeKind::Struct(fields) => fields.iter().for_each(|f| named(&f.ty, &mut todo)),
            TypeKind::Union(u) => todo.extend(u.variants.iter().map(|v| v.ty.clone())),
            TypeKind::Enum(_) => {}
        }
    }
}

struct ParsedFile<'a> {
    src: &'a SourceFile,
    index: LineIndex,
    raw: RawFile,
    area: String,
}

/// What a file says for all its endpoints unless one says otherwise.
#[derive(Clone, Copy)]
struct AreaDefaults {
    rate: RateClass,
    host: Host,
}

#[derive(Default)]
struct Checker {
    diags: Diagnostics,
    types: BTreeMap<String, TypeDef>,
    /// Declared type names → (area, loc), filled in pass 1.
    declared: BTreeMap<String, (String, Loc)>,
    /// `pagination:` blocks to resolve once every type is known: (area, endpoint, block, where).
    pending_pages: Vec<(String, String, RawPagination, Loc)>,
    /// The file that declares `errors:`.
    errors_file: Option<String>,
    /// Every code declared so far, with where.
    error_codes: BTreeMap<Code, Loc>,
    /// Area name → file, to catch two files claiming one area.
    areas: BTreeMap<String, String>,
    /// Declared type names that are enums (`enum:` present), filled in pass 1.
    enums: BTreeSet<String>,
}

impl Checker {
    fn loc(&self, p: &ParsedFile<'_>, path: &[&str]) -> Loc {
        Loc {
            file: p.src.display.clone(),
            line: p.index.line(path),
        }
    }

    fn parse_file<'a>(&mut self, src: &'a SourceFile) -> Option<ParsedFile<'a>> {
        let index = LineIndex::new(&src.text);
        let value: Value = match serde_yaml::from_str(&src.text) {
            Ok(v) => v,
            Err(e) => {
                let line = e.location().map_or(1, |l| l.line());
                self.diags.error(
                    Loc {
                        file: src.display.clone(),
                        line,
                    },
                    format!("invalid YAML: {e}"),
                );
                return None;
            }
        };
        let raw: RawFile = self.de(&value, &src.display, &index, &[])?;
        let at = |path: &[&str]| Loc {
            file: src.display.clone(),
            line: index.line(path),
        };
        match raw.version {
            Some(1) => {}
            Some(v) => self.diags.error(
                at(&["version"]),
                format!("unsupported spec version {v}; write `version: 1`"),
            ),
            None => self.diags.error(
                at(&[]),
                "missing `version:`; write `version: 1` at the top of the file",
            ),
        }
        if raw.doc.as_deref().is_none_or(|d| d.trim().is_empty()) {
            self.diags.error(
                at(&["doc"]),
                "missing `doc:`; describe what this API area covers",
            );
        }
        let area = raw.area.clone().unwrap_or_else(|| src.stem.clone());
        if !is_snake(&area) {
            self.diags.error(
                at(&["area"]),
                format!(
                    "area name `{area}` is not snake_case; write `area: {}`",
                    snake(&area)
                ),
            );
        }
        // Reserved area names (`full`, `rt`, …) are checked with the other names (`names`).
        if let Some(other) = self.areas.insert(area.clone(), src.display.clone()) {
            self.diags.error(
                at(&["area"]),
                format!(
                    "area `{area}` is already defined by {other}; give this file another `area:`"
                ),
            );
        }
        Some(ParsedFile {
            src,
            index,
            raw,
            area,
        })
    }

    /// Deserializes one item, reporting a serde error at the item's (or the offending key's) line.
    fn de<T: DeserializeOwned>(
        &mut self,
        value: &Value,
        file: &str,
        index: &LineIndex,
        path: &[&str],
    ) -> Option<T> {
        match serde_yaml::from_value(value.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = e.to_string();
                // serde names the offending key in backticks: locate it when we can.
                let key = msg.split('`').nth(1).unwrap_or("");
                let mut full: Vec<&str> = path.to_vec();
                full.push(key);
                let line = index.line(&full);
                let hint = if msg.starts_with("unknown field") {
                    "; see spec/README.md for the keys this item takes"
                } else {
                    ""
                };
                let what = if path.is_empty() {
                    "file".to_string()
                } else {
                    path.join(".")
                };
                self.diags.error(
                    Loc {
                        file: file.to_string(),
                        line,
                    },
                    format!("{what}: {msg}{hint}"),
                );
                None
            }
        }
    }

    fn declare_types(&mut self, p: &ParsedFile<'_>) {
        let Some(types) = &p.raw.types else { return };
        for (key, value) in types {
            let Some(name) = key.as_str() else {
                self.diags
                    .error(self.loc(p, &["types"]), "type names must be strings");
                continue;
            };
            let loc = self.loc(p, &["types", name]);
            if !is_camel(name) {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "type name `{name}` is not UpperCamelCase; write `{}`",
                        camel(name)
                    ),
                );
            }
            if let Some((_, first)) = self.declared.get(name) {
                self.diags.error(
                    loc,
                    format!("type `{name}` is already declared at {first}; rename one of them"),
                );
                continue;
            }
            if value.get("enum").is_some() {
                self.enums.insert(name.to_string());
            }
            self.declared
                .insert(name.to_string(), (p.area.clone(), loc));
        }
    }

    fn resolve_area(&mut self, p: &ParsedFile<'_>) -> Area {
        let mut type_names = Vec::new();
        if let Some(types) = &p.raw.types {
            for (key, value) in types {
                let Some(name) = key.as_str() else { continue };
                if self
                    .declared
                    .get(name)
                    .is_some_and(|(area, _)| *area == p.area)
                    && !self.types.contains_key(name)
                {
                    if let Some(def) = self.resolve_type(p, name, value) {
                        type_names.push(name.to_string());
                        self.types.insert(name.to_string(), def);
                    }
                }
            }
        }
        // The area's rate-limit class; reported here once, not per endpoint.
        let area_rate = match p.raw.rate_limit.as_deref() {
            None => RateClass::Metered,
            Some(v) => {
                let loc = self.loc(p, &["rate_limit"]);
                self.rate_class(v, loc, "`rate_limit:`")
                    .unwrap_or(RateClass::Metered)
            }
        };
        let area_host = match p.raw.host.as_deref() {
            None => Host::Oapi,
            Some(v) => {
                let loc = self.loc(p, &["host"]);
                self.host(v, loc, "`host:`").unwrap_or(Host::Oapi)
            }
        };
        let mut endpoints = Vec::new();
        let mut names: BTreeSet<String> = BTreeSet::new();
        if let Some(eps) = &p.raw.endpoints {
            for (key, _) in eps {
                if let Some(k) = key.as_str() {
                    names.insert(k.to_string());
                }
            }
            for (key, value) in eps {
                let Some(name) = key.as_str() else {
                    self.diags.error(
                        self.loc(p, &["endpoints"]),
                        "endpoint names must be strings",
                    );
                    continue;
                };
                let defaults = AreaDefaults {
                    rate: area_rate,
                    host: area_host,
                };
                if let Some(ep) =
                    self.resolve_endpoint(p, name, value, &names, &mut type_names, defaults)
                {
                    endpoints.push(ep);
                }
            }
        }
        let errors = self.resolve_errors(p);
        Area {
            name: p.area.clone(),
            file: p.src.display.clone(),
            doc: p.raw.doc.clone().unwrap_or_default(),
            endpoints,
            types: type_names,
            errors,
        }
    }

    fn resolve_errors(&mut self, p: &ParsedFile<'_>) -> Vec<ErrorCodeDef> {
        let Some(rows) = &p.raw.errors else {
            return Vec::new();
        };
        if let Some(other) = &self.errors_file {
            self.diags.error(
                self.loc(p, &["errors"]),
                format!(
                    "`errors:` is already declared in {other}; keep every errcode in that one file"
                ),
            );
            return Vec::new();
        }
        self.errors_file = Some(p.src.display.clone());
        let mut out: Vec<ErrorCodeDef> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let item = format!("#{i}");
            let path = ["errors", item.as_str()];
            let loc = self.loc(p, &path);
            let Some(raw) = self.de::<RawErrorCode>(row, &p.src.display, &p.index, &path) else {
                continue;
            };
            let code = match &raw.code {
                Value::Number(n) => match n.as_i64() {
                    Some(n) => Code::Errcode(n),
                    None => {
                        self.diags.error(
                            loc,
                            format!("errcode {n}: not an integer; errcodes are whole numbers"),
                        );
                        continue;
                    }
                },
                Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                    self.diags.error(
                        loc,
                        format!(
                            "code `{s}`: an errcode is a number; write `code: {}` without quotes",
                            s.trim()
                        ),
                    );
                    continue;
                }
                Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                    Code::Service(s.clone())
                }
                _ => {
                    self.diags.error(
                        loc,
                        "`code:` is an errcode (a number, oapi) or a v1.0 code (a word such as `InvalidAuthentication`, api.dingtalk.com)",
                    );
                    continue;
                }
            };
            let Some((_, class)) = ERROR_CLASSES.iter().find(|(k, _)| *k == raw.class) else {
                let known: Vec<&str> = ERROR_CLASSES.iter().map(|(k, _)| *k).collect();
                self.diags.error(
                    loc,
                    format!(
                        "{code}: unknown class `{}`; use one of {}",
                        raw.class,
                        known.join(", ")
                    ),
                );
                continue;
            };
            if !is_snake(&raw.name) {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "{code}: name `{}` is not snake_case; write `{}`",
                        raw.name,
                        snake(&raw.name)
                    ),
                );
            }
            let variant = camel(&raw.name);
            if let Some(prev) = self.error_codes.get(&code) {
                self.diags.error(
                    loc,
                    format!("{code} is already listed at {prev}; keep one row per code"),
                );
                continue;
            }
            if out.iter().any(|e| e.variant == variant) || variant == "Unknown" {
                self.diags.error(
                    loc,
                    format!("{code}: the name `{}` is taken; choose another", raw.name),
                );
                continue;
            }
            if raw.doc.as_deref().is_none_or(|d| d.trim().is_empty()) {
                self.diags.error(
                    loc.clone(),
                    format!("{code}: missing `doc:`; say what it means"),
                );
            }
            self.error_codes.insert(code.clone(), loc);
            out.push(ErrorCodeDef {
                code,
                variant,
                class: *class,
                doc: raw.doc.unwrap_or_default(),
            });
        }
        out
    }

    /// An `example:` as JSON: a YAML block string holding JSON text, or YAML written out. A
    /// JSON syntax error is reported on the line it is on.
    fn example_json(
        &mut self,
        p: &ParsedFile<'_>,
        path: &[&str],
        value: &Value,
        what: &str,
    ) -> Option<serde_json::Value> {
        let Value::String(text) = value else {
            return Some(yaml_to_json(value));
        };
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => Some(v),
            Err(e) => {
                // In a block scalar (`example: |`) the JSON starts on the next line; an error
                // at the end of the text is reported one line past it, so clamp to the text.
                let first = self.loc(p, path).line;
                let block = p
                    .src
                    .text
                    .lines()
                    .nth(first - 1)
                    .and_then(|l| l.split_once("example:"))
                    .is_some_and(|(_, v)| v.trim_start().starts_with(['|', '>']));
                let line = if block {
                    first + e.line().clamp(1, text.lines().count().max(1))
                } else {
                    first
                };
                self.diags.error(
                    Loc {
                        file: p.src.display.clone(),
                        line,
                    },
                    format!("{what}: `example:` is not valid JSON: {e}"),
                );
                None
            }
        }
    }

    fn resolve_type(&mut self, p: &ParsedFile<'_>, name: &str, value: &Value) -> Option<TypeDef> {
        let path = ["types", name];
        let loc = self.loc(p, &path);
        let raw: RawType = self.de(value, &p.src.display, &p.index, &path)?;
        let doc = raw.doc.clone().unwrap_or_default();
        if doc.trim().is_empty() {
            self.diags.error(
                loc.clone(),
                format!("type `{name}`: missing `doc:`; say what it represents"),
            );
        }
        let shapes = [
            raw.fields.is_some(),
            raw.enum_kind.is_some(),
            raw.union.is_some(),
        ];
        if shapes.iter().filter(|s| **s).count() > 1 {
            self.diags.error(
                loc,
                format!(
                    "type `{name}`: has more than one of `fields:`, `enum:` and `union:`; keep one"
                ),
            );
            return None;
        }
        let kind = if let Some(fields) = &raw.fields {
            TypeKind::Struct(self.fields(
                p,
                &["types", name, "fields"],
                fields,
                &format!("type `{name}`"),
                FieldRole::Struct,
            ))
        } else if let Some(kind) = &raw.enum_kind {
            TypeKind::Enum(self.resolve_enum(p, name, kind, raw.values.as_deref())?)
        } else if let Some(union) = &raw.union {
            TypeKind::Union(self.resolve_union(p, name, union, raw.variants.as_deref())?)
        } else {
            self.diags.error(
                loc,
                format!("type `{name}`: needs `fields:` (a struct), `enum: string|integer` with `values:`, or `union:` with `variants:`"),
            );
            return None;
        };
        // A bad example is reported and dropped; the type itself stays, so its users do not
        // report it unknown.
        let example = raw.example.as_ref().and_then(|v| {
            let what = format!("type `{name}`");
            self.example_json(p, &["types", name, "example"], v, &what)
        });
        Some(TypeDef {
            name: name.to_string(),
            area: p.area.clone(),
            doc,
            kind,
            loc: self.loc(p, &path),
            sent: raw.sent.unwrap_or(false),
            example,
        })
    }

    fn resolve_union(
        &mut self,
        p: &ParsedFile<'_>,
        name: &str,
        union: &RawUnion,
        variants: Option<&[Value]>,
    ) -> Option<UnionDef> {
        let here = self.loc(p, &["types", name, "union"]);
        let content = match (union.content.as_deref(), &union.at) {
            (None | Some("inline"), None) => UnionContent::Inline,
            (Some("by_tag"), None) => UnionContent::ByTag,
            (Some("json_text"), Some(at)) if !at.is_empty() && at != &union.tag => {
                UnionContent::JsonTextAt(at.clone())
            }
            (Some("json_text"), _) => {
                self.diags.error(
                    here,
                    format!("union `{name}`: `content: json_text` needs `at:`, the key (other than the tag) whose string holds the fields, e.g. `at: msgParam`"),
                );
                return None;
            }
            (_, Some(_)) => {
                self.diags.error(
                    here,
                    format!("union `{name}`: `at:` goes with `content: json_text` only; remove it"),
                );
                return None;
            }
            (Some(other), None) => {
                self.diags.error(
                    here,
                    format!("union `{name}`: unknown content `{other}`; write `content: inline` (fields next to the tag), `content: by_tag` (fields under a key named after the tag) or `content: json_text` with `at:` (fields as JSON text under one key)"),
                );
                return None;
            }
        };
        let Some(variants) = variants.filter(|v| !v.is_empty()) else {
            self.diags.error(
                self.loc(p, &["types", name]),
                format!("union `{name}`: needs `variants:`, a list of `{{tag: ..., type: ..., doc: ...}}`"),
            );
            return None;
        };
        let mut out: Vec<UnionVariant> = Vec::new();
        for (i, v) in variants.iter().enumerate() {
            let item = format!("#{i}");
            let path = ["types", name, "variants", item.as_str()];
            let loc = self.loc(p, &path);
            let Some(raw) = self.de::<RawVariant>(v, &p.src.display, &p.index, &path) else {
                continue;
            };
            let Some(ty) = raw.ty else {
                self.diags.error(loc, format!("union `{name}`: variant `{}` needs `type:`, a struct declared under `types:`", raw.tag));
                continue;
            };
            if !self.declared.contains_key(&ty) {
                self.diags.error(loc, format!("union `{name}`: variant `{}` has unknown type `{ty}`; declare it under `types:`", raw.tag));
                continue;
            }
            if self.enums.contains(&ty) {
                self.diags.error(
                    loc,
                    format!(
                        "union `{name}`: variant `{}` needs a struct type, but `{ty}` is an enum",
                        raw.tag
                    ),
                );
                continue;
            }
            let variant = camel(raw.name.as_deref().unwrap_or(&raw.tag));
            if variant == "Unknown" {
                self.diags.error(
                    loc,
                    format!("union `{name}`: the variant name `Unknown` is reserved for tags not in the spec; give this variant another `name:`"),
                );
                continue;
            }
            if out.iter().any(|o| o.tag == raw.tag) {
                self.diags.error(
                    loc,
                    format!(
                        "union `{name}`: tag `{}` is listed twice; remove one",
                        raw.tag
                    ),
                );
                continue;
            }
            if out.iter().any(|o| o.variant == variant) {
                self.diags.error(loc, format!("union `{name}`: two tags map to the variant `{variant}`; give one a distinct `name:`"));
                continue;
            }
            let event = union.event.unwrap_or(false);
            if raw.reply.is_some() && !event {
                self.diags.error(
                    loc.clone(),
                    format!("union `{name}`: variant `{}` has `reply:`, which only an event union has: add `event: true` to `union:` or remove `reply:`", raw.tag),
                );
            }
            out.push(UnionVariant {
                tag: raw.tag,
                variant,
                ty,
                doc: raw.doc.unwrap_or_default(),
                reply: raw.reply,
                loc,
            });
        }
        Some(UnionDef {
            tag_key: union.tag.clone(),
            content,
            variants: out,
            event: union.event.unwrap_or(false),
        })
    }

    fn resolve_enum(
        &mut self,
        p: &ParsedFile<'_>,
        name: &str,
        kind: &str,
        values: Option<&[Value]>,
    ) -> Option<EnumDef> {
        let integer = match kind {
            "string" => false,
            "integer" => true,
            other => {
                self.diags.error(
                    self.loc(p, &["types", name, "enum"]),
                    format!("enum `{name}`: unknown kind `{other}`; write `enum: string` or `enum: integer`"),
                );
                return None;
            }
        };
        let Some(values) = values.filter(|v| !v.is_empty()) else {
            self.diags.error(
                self.loc(p, &["types", name]),
                format!("enum `{name}`: needs `values:`, a list of `{{value: ..., doc: ...}}`"),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut seen_variants = BTreeSet::new();
        let mut seen_wire = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let item = format!("#{i}");
            let path = ["types", name, "values", item.as_str()];
            let loc = self.loc(p, &path);
            let Some(raw) = self.de::<RawEnumValue>(v, &p.src.display, &p.index, &path) else {
                continue;
            };
            let wire = match (&raw.value, integer) {
                (Value::Number(n), true) => match n.as_i64() {
                    Some(i) => EnumWire::Int(i),
                    None => {
                        self.diags
                            .error(loc, format!("enum `{name}`: value {n} is not an integer"));
                        continue;
                    }
                },
                (Value::String(s), false) => EnumWire::Str(s.clone()),
                (Value::Number(n), false) => EnumWire::Str(n.to_string()),
                (Value::Bool(b), false) => EnumWire::Str(b.to_string()),
                (other, true) => {
                    self.diags.error(
                        loc,
                        format!("enum `{name}`: value {other:?} is not an integer; an `enum: integer` takes numbers"),
                    );
                    continue;
                }
                (other, false) => {
                    self.diags.error(
                        loc,
                        format!("enum `{name}`: value {other:?} is not a string"),
                    );
                    continue;
                }
            };
            let variant_src = match (&raw.name, &wire) {
                (Some(n), _) => n.clone(),
                (None, EnumWire::Str(s)) => s.clone(),
                (None, EnumWire::Int(i)) => {
                    self.diags.error(
                        loc,
                        format!("enum `{name}`: integer value {i} needs a `name:` for its Rust variant, e.g. `name: main_admin`"),
                    );
                    continue;
                }
            };
            if seen_wire.contains(&wire) {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "enum `{name}`: value {} is listed twice; remove one",
                        match &wire {
                            EnumWire::Str(s) => format!("{s:?}"),
                            EnumWire::Int(i) => i.to_string(),
                        }
                    ),
                );
                continue;
            }
            let variant = camel(&variant_src);
            if variant == "Unknown" {
                self.diags.error(
                    loc.clone(),
                    format!("enum `{name}`: the variant name `Unknown` is reserved for values not in the spec; give this value another `name:`"),
                );
            }
            if !seen_variants.insert(variant.clone()) {
                self.diags.error(
                    loc.clone(),
                    format!("enum `{name}`: two values map to the variant `{variant}`; give one a distinct `name:`"),
                );
            }
            seen_wire.push(wire.clone());
            out.push(EnumValue {
                wire,
                variant,
                doc: raw.doc.unwrap_or_default(),
            });
        }
        Some(EnumDef {
            integer,
            values: out,
        })
    }

    fn fields(
        &mut self,
        p: &ParsedFile<'_>,
        parent: &[&str],
        map: &Mapping,
        what: &str,
        role: FieldRole,
    ) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        for (key, value) in map {
            let Some(wire) = key
                .as_str()
                .map(str::to_string)
                .or_else(|| key.as_i64().map(|i| i.to_string()))
            else {
                self.diags.error(
                    self.loc(p, parent),
                    format!("{what}: field names must be strings"),
                );
                continue;
            };
            let mut path: Vec<&str> = parent.to_vec();
            path.push(&wire);
            let loc = self.loc(p, &path);
            let label = format!("{what}, {} `{wire}`", role.noun());
            let Some(raw) = self.de::<RawField>(value, &p.src.display, &p.index, &path) else {
                continue;
            };
            let Some(ty_src) = raw.ty.as_deref() else {
                self.diags
                    .error(loc, format!("{label}: missing `type:`; use {TYPE_HELP}"));
                continue;
            };
            let ty = match self.parse_ty(ty_src) {
                Ok(ty) => ty,
                Err(msg) => {
                    self.diags.error(loc, format!("{label}: {msg}"));
                    continue;
                }
            };
            let rust = snake(&wire);
            if let Some(prev) = out.iter().find(|f| f.rust == rust) {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "{label}: `{wire}` and `{}` both become the Rust field `{rust}`; keep one and list the other under its `aliases:`",
                        prev.wire
                    ),
                );
                continue;
            }
            let encoding = match raw.encoding.as_deref() {
                None => None,
                Some("comma") => Some(Encoding::Comma),
                Some("pipe") => Some(Encoding::Pipe),
                Some("json_text") => Some(Encoding::JsonText),
                Some("loose_map") => Some(Encoding::LooseMap),
                Some(other) => {
                    self.diags.error(
                        loc.clone(),
                        format!("{label}: unknown encoding `{other}`; use comma, pipe, json_text or loose_map"),
                    );
                    None
                }
            };
            self.check_encoding(&loc, &label, &ty, encoding);
            if raw.sensitive && ty != Ty::String {
                self.diags.error(
                    loc.clone(),
                    format!("{label}: `sensitive: true` applies to `type: string` only"),
                );
            }
            if (raw.min.is_some() || raw.max.is_some()) && !matches!(ty, Ty::I64 | Ty::F64) {
                self.diags.error(
                    loc.clone(),
                    format!("{label}: `min` and `max` apply to `i64` and `f64` only; remove them"),
                );
            }
            if let (Some(min), Some(max)) = (raw.min, raw.max) {
                if min > max {
                    self.diags.error(
                        loc.clone(),
                        format!("{label}: `min: {min}` is larger than `max: {max}`"),
                    );
                }
            }
            if raw.max_len.is_some()
                && !matches!(ty, Ty::String | Ty::List(_))
                && encoding != Some(Encoding::JsonText)
            {
                self.diags.error(
                    loc.clone(),
                    format!("{label}: `max_len` applies to strings, lists and `encoding: json_text` values only; remove it"),
                );
            }
            if role.is_param() {
                self.check_param_shape(&loc, &label, &ty, encoding, raw.required, role);
            }
            if raw.doc.as_deref().is_none_or(|d| d.trim().is_empty()) {
                self.diags
                    .error(loc.clone(), format!("{label}: missing `doc:`"));
            }
            if raw.flatten {
                if role != FieldRole::Body {
                    self.diags.error(
                        loc.clone(),
                        format!("{label}: `flatten: true` applies to body params only"),
                    );
                } else if !matches!(ty, Ty::Named(_)) || encoding.is_some() {
                    self.diags.error(
                        loc.clone(),
                        format!("{label}: `flatten: true` needs a struct or union type declared under `types:`, without `encoding:`"),
                    );
                }
            }
            if raw.whole_body && role != FieldRole::Body {
                self.diags.error(
                    loc.clone(),
                    format!("{label}: `whole_body: true` applies to body params only"),
                );
            }
            if raw.idempotency_key && role != FieldRole::Header {
                self.diags.error(
                    loc.clone(),
                    format!("{label}: `idempotency_key: true` applies to headers only"),
                );
            }
            let example = raw.example.as_ref().map(yaml_to_json);
            for alias in &raw.aliases {
                if out
                    .iter()
                    .any(|f| &f.wire == alias || f.aliases.contains(alias))
                    || alias == &wire
                {
                    self.diags.error(
                        loc.clone(),
                        format!("{label}: alias `{alias}` is already a name of another field"),
                    );
                }
            }
            out.push(Field {
                wire: wire.clone(),
                rust,
                ty,
                required: raw.required,
                doc: raw.doc.unwrap_or_default(),
                example,
                encoding,
                sensitive: raw.sensitive,
                aliases: raw.aliases,
                max_len: raw.max_len,
                min: raw.min,
                max: raw.max,
                flatten: raw.flatten,
                whole_body: raw.whole_body,
                idempotency_key: raw.idempotency_key,
                loc,
            });
        }
        out
    }

    fn check_encoding(&mut self, loc: &Loc, label: &str, ty: &Ty, encoding: Option<Encoding>) {
        let ok = match encoding {
            None | Some(Encoding::JsonText) => true,
            Some(Encoding::Comma | Encoding::Pipe) => {
                matches!(ty, Ty::List(inner) if self.is_scalar(inner))
            }
            Some(Encoding::LooseMap) => matches!(ty, Ty::Map(_, v) if self.is_scalar(v)),
        };
        if !ok {
            let need = match encoding {
                Some(Encoding::LooseMap) => "`map<K, V>` with scalar values",
                _ => "a list of scalars such as `[i64]` or `[string]`",
            };
            self.diags
                .error(loc.clone(), format!("{label}: this encoding needs {need}"));
        }
    }

    fn check_param_shape(
        &mut self,
        loc: &Loc,
        label: &str,
        ty: &Ty,
        encoding: Option<Encoding>,
        required: bool,
        role: FieldRole,
    ) {
        if role == FieldRole::Body {
            return;
        }
        if role == FieldRole::Path && !required {
            self.diags.error(
                loc.clone(),
                format!("{label}: path params are always required; add `required: true`"),
            );
        }
        let textual = self.is_scalar(ty) || encoding.is_some();
        if !textual {
            self.diags.error(
                loc.clone(),
                format!("{label}: a query or path param or a header must be a scalar or an enum; give lists `encoding: comma` or `pipe`, and objects `encoding: json_text`"),
            );
        }
    }

    fn is_scalar(&self, ty: &Ty) -> bool {
        match ty {
            Ty::String | Ty::I64 | Ty::F64 | Ty::Bool => true,
            Ty::Named(n) => {
                self.types
                    .get(n)
                    .is_some_and(|t| matches!(t.kind, TypeKind::Enum(_)))
                    || (!self.types.contains_key(n)
                        && self.declared.contains_key(n)
                        && self.is_declared_enum(n))
            }
            _ => false,
        }
    }

    fn is_declared_enum(&self, name: &str) -> bool {
        // Types declared in a file resolved later are not resolved yet; pass 1 recorded which of
        // them are enums.
        self.enums.contains(name)
    }

    fn parse_ty(&self, s: &str) -> Result<Ty, String> {
        let s = s.trim();
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return Ok(Ty::List(Box::new(self.parse_ty(inner)?)));
        }
        if let Some(inner) = s.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            let Some((k, v)) = inner.split_once(',') else {
                return Err(format!(
                    "`{s}` needs a key and a value type, e.g. `map<string, i64>`"
                ));
            };
            let key = match k.trim() {
                "string" => MapKey::String,
                "i64" => MapKey::I64,
                other => {
                    return Err(format!(
                        "map key type `{other}` is not supported; use `string` or `i64`"
                    ))
                }
            };
            return Ok(Ty::Map(key, Box::new(self.parse_ty(v)?)));
        }
        Ok(match s {
            "string" => Ty::String,
            "i64" => Ty::I64,
            "f64" => Ty::F64,
            "bool" => Ty::Bool,
            "json" => Ty::Json,
            "int" | "integer" | "long" | "i32" | "number" => {
                return Err(format!(
                    "unknown type `{s}`; write `i64` (every integer is an i64) or `f64`"
                ))
            }
            "str" | "String" => return Err(format!("unknown type `{s}`; write `string`")),
            "boolean" => return Err("unknown type `boolean`; write `bool`".into()),
            name if self.declared.contains_key(name) => Ty::Named(name.to_string()),
            name => {
                return Err(format!(
                    "unknown type `{name}`; declare it under `types:` or use {TYPE_HELP}"
                ))
            }
        })
    }

    fn resolve_endpoint(
        &mut self,
        p: &ParsedFile<'_>,
        name: &str,
        value: &Value,
        siblings: &BTreeSet<String>,
        type_names: &mut Vec<String>,
        defaults: AreaDefaults,
    ) -> Option<Endpoint> {
        let area_rate = defaults.rate;
        let path = ["endpoints", name];
        let loc = self.loc(p, &path);
        let what = format!("endpoint `{name}`");
        let raw: RawEndpoint = self.de(value, &p.src.display, &p.index, &path)?;
        let at = |k: &str| Loc {
            file: p.src.display.clone(),
            line: p.index.line(&["endpoints", name, k]),
        };
        if !is_snake(name) {
            self.diags.error(
                loc.clone(),
                format!("{what}: name is not snake_case; write `{}`", snake(name)),
            );
        }
        let summary = raw.summary.clone().unwrap_or_default();
        if summary.trim().is_empty() {
            self.diags.error(
                loc.clone(),
                format!("{what}: missing `summary:`; one line saying what the call does"),
            );
        }
        let host = match raw.host.as_deref() {
            None => defaults.host,
            Some(v) => self
                .host(v, at("host"), &format!("{what}: `host:`"))
                .unwrap_or(defaults.host),
        };
        let methods: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
        let method = match raw.method.as_deref() {
            Some(m) => match Method::ALL.iter().find(|k| k.as_str() == m) {
                Some(k) => *k,
                None => {
                    self.diags.error(
                        at("method"),
                        format!(
                            "{what}: unsupported method `{m}`; write one of {}",
                            methods.join(", ")
                        ),
                    );
                    Method::Post
                }
            },
            None => {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "{what}: missing `method:`; write one of {}",
                        methods.join(", ")
                    ),
                );
                Method::Post
            }
        };
        // Which auth kinds each host has.
        let kinds: &[(&str, Auth)] = match host {
            Host::Oapi => &[
                ("access_token", Auth::AccessToken),
                ("sso_token", Auth::SsoToken),
                ("sns_app_token", Auth::SnsAppToken),
                ("signed", Auth::Signed),
                ("suite_token", Auth::SuiteToken),
                ("suite_signed", Auth::SuiteSigned),
                ("none", Auth::None),
            ],
            Host::Api => &[
                ("access_token", Auth::AccessToken),
                ("user_token", Auth::UserToken),
                ("none", Auth::None),
            ],
        };
        let host_name = match host {
            Host::Oapi => "oapi",
            Host::Api => "api",
        };
        let kind_list = kinds.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ");
        let auth = match raw.auth.as_deref() {
            Some(a) => match kinds.iter().find(|(k, _)| *k == a) {
                Some((_, kind)) => *kind,
                None => {
                    self.diags.error(
                        at("auth"),
                        format!(
                            "{what}: auth `{a}` does not exist on host `{host_name}`; write one of {kind_list}"
                        ),
                    );
                    Auth::AccessToken
                }
            },
            None => {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: missing `auth:`; write one of {kind_list}"),
                );
                Auth::AccessToken
            }
        };
        let ep_path = raw.path.clone().unwrap_or_default();
        if raw.path.is_none() {
            self.diags.error(
                loc.clone(),
                format!(
                    "{what}: missing `path:`; write the request path, e.g. `/topapi/v2/user/get`"
                ),
            );
        } else if !ep_path.starts_with('/') {
            self.diags.error(
                at("path"),
                format!("{what}: `path:` must start with `/`, e.g. `/topapi/v2/user/get`"),
            );
        }
        let request_type = request_name(&p.area, name);
        let empty = Mapping::new();
        let section = |me: &mut Self, key: &str, role: FieldRole, map: Option<&Mapping>| {
            me.fields(
                p,
                &["endpoints", name, key],
                map.unwrap_or(&empty),
                &what,
                role,
            )
        };
        let path_params = section(
            self,
            "path_params",
            FieldRole::Path,
            raw.path_params.as_ref(),
        );
        let query = section(self, "query", FieldRole::Query, raw.query.as_ref());
        let body = section(self, "body", FieldRole::Body, raw.body.as_ref());
        let headers: Vec<Header> =
            section(self, "headers", FieldRole::Header, raw.headers.as_ref())
                .into_iter()
                .map(|field| Header {
                    idempotency_key: field.idempotency_key,
                    field,
                })
                .collect();
        for h in &headers {
            if h.idempotency_key && (h.field.required || h.field.ty != Ty::String) {
                self.diags.error(
                    h.field.loc.clone(),
                    format!("{what}, header `{}`: an idempotency key is an optional `string` (the client sends a fresh one when it is not set)", h.field.wire),
                );
            }
        }
        if auth == Auth::UserToken {
            if let Some(f) = path_params
                .iter()
                .chain(&query)
                .chain(&body)
                .find(|f| f.rust == "as_user")
            {
                self.diags.error(
                    f.loc.clone(),
                    format!("{what}: `as_user` is the generated argument naming the user whose token a `user_token` call carries; rename param `{}`", f.wire),
                );
            }
        }
        if let Some(part) = &raw.upload {
            if method != Method::Post {
                self.diags.error(
                    at("upload"),
                    format!("{what}: an upload is a POST; write `method: POST`"),
                );
            }
            if !body.is_empty() {
                self.diags.error(at("body"), format!("{what}: an upload sends `multipart/form-data`, not JSON; move these params under `query:`"));
            }
            if part.trim().is_empty() {
                self.diags.error(at("upload"), format!("{what}: `upload:` names the multipart part that carries the file, e.g. `upload: media`"));
            }
        }
        if let Some(whole) = body.iter().find(|f| f.whole_body) {
            let shaped = matches!(whole.ty, Ty::List(_) | Ty::Map(..) | Ty::Named(_));
            if body.len() > 1 {
                self.diags.error(
                    whole.loc.clone(),
                    format!("{what}, body param `{}`: a `whole_body` param is the entire body, so it is the only body param; move the others to `query:`", whole.wire),
                );
            } else if !whole.required || whole.flatten || whole.encoding.is_some() || !shaped {
                self.diags.error(
                    whole.loc.clone(),
                    format!("{what}, body param `{}`: a `whole_body` param is required, of a list, map or named type, without `flatten` or `encoding`", whole.wire),
                );
            }
        }
        if method == Method::Get && !body.is_empty() {
            self.diags.error(
                at("body"),
                format!("{what}: a GET request has no body; move these params under `query:`"),
            );
        }
        // Placeholders in the path and path params must match one to one.
        let placeholders: Vec<String> = ep_path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        for ph in &placeholders {
            if !path_params.iter().any(|f| &f.wire == ph) {
                self.diags.error(
                    at("path"),
                    format!("{what}: the path has `{{{ph}}}` but no path param `{ph}`; declare it under `path_params:`"),
                );
            }
        }
        for f in &path_params {
            if !placeholders.contains(&f.wire) {
                self.diags.error(
                    f.loc.clone(),
                    format!("{what}: path param `{}` does not appear in the path; add `{{{}}}` to `path:` or move it to `query:`", f.wire, f.wire),
                );
            }
        }
        let mut seen = BTreeMap::new();
        for f in path_params
            .iter()
            .chain(&query)
            .chain(&body)
            .chain(headers.iter().map(|h| &h.field))
        {
            if let Some(prev) = seen.insert(f.rust.clone(), f.wire.clone()) {
                self.diags.error(
                    f.loc.clone(),
                    format!("{what}: params `{prev}` and `{}` both become the Rust name `{}`; rename one", f.wire, f.rust),
                );
            }
        }
        if let Some((_, other)) = self.declared.get(&request_type) {
            let instead = names::suggestion(&request_type, |n| self.declared.contains_key(n));
            self.diags.error(
                loc.clone(),
                format!("{what}: the generated request type `{request_type}` clashes with the type declared at {other}; rename the type, e.g. `{instead}`"),
            );
        }
        let rate_class = match raw.rate_limit.as_deref() {
            None => area_rate,
            Some(v) => self
                .rate_class(v, at("rate_limit"), &format!("{what}: `rate_limit:`"))
                .unwrap_or(area_rate),
        };
        let constraints = self.constraints(
            &raw.constraints.clone().unwrap_or_default(),
            query.iter().chain(&body),
            at("constraints"),
            &what,
        );
        // A bad response does not hide the problems of the example and `deprecated:`.
        let response = self.resolve_response(p, name, &raw, type_names);
        if let Some(pg) = raw.pagination.clone() {
            let loc = self.loc(p, &["endpoints", name, "pagination"]);
            self.pending_pages
                .push((p.area.clone(), name.to_string(), pg, loc));
        }
        if let Some(dep) = &raw.deprecated {
            let looks_like_name = is_snake(dep) && !dep.contains(' ');
            if looks_like_name && !siblings.contains(dep) {
                self.diags.error(
                    at("deprecated"),
                    format!("{what}: `deprecated: {dep}` names no endpoint of this area; name the replacement endpoint or write a sentence"),
                );
            }
        }
        let example = match &raw.example {
            None => {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: missing `example:`; paste one complete success response body (JSON) from the reference"),
                );
                return None;
            }
            Some(value) => self.example_json(p, &["endpoints", name, "example"], value, &what)?,
        };
        let docs_url = raw.docs_url.clone().filter(|url| {
            let public = url.starts_with("https://open.dingtalk.com/")
                && !url.contains(char::is_whitespace);
            if !public {
                self.diags.error(
                    self.loc(p, &["endpoints", name, "docs_url"]),
                    format!("{what}: `docs_url: {url}` is not a public docs page; write its https://open.dingtalk.com/... address"),
                );
            }
            public
        });
        let issues: Vec<Issues> = raw
            .issues
            .as_ref()
            .map(|r| r.items().to_vec())
            .unwrap_or_default()
            .iter()
            .filter_map(|r| self.issues(r, at("issues"), &what, auth, &query, &body, &example))
            .collect();
        let response = response?;
        Some(Endpoint {
            name: name.to_string(),
            request_type,
            summary,
            doc: raw.doc.unwrap_or_default(),
            host,
            method,
            path: ep_path,
            auth,
            path_params,
            query,
            body,
            headers,
            response,
            example,
            deprecated: raw.deprecated,
            docs_url,
            file: p.src.display.clone(),
            idempotent: raw.idempotent.unwrap_or(method == Method::Get),
            pagination: None,
            upload: raw.upload.clone(),
            rate_class,
            constraints,
            issues,
            loc,
        })
    }

    /// `issues:` of a token endpoint: a known token kind; every param filled from a known
    /// credential or a fixed value, every required param filled; answer fields that the
    /// example has; an auth the runtime can give a token request.
    #[allow(clippy::too_many_arguments)]
    fn issues(
        &mut self,
        raw: &crate::raw::RawIssues,
        loc: Loc,
        what: &str,
        auth: Auth,
        query: &[Field],
        body: &[Field],
        example: &serde_json::Value,
    ) -> Option<Issues> {
        let names = |t: &[(&str, &str)]| t.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        let Some(kind) = Vocab::find(&TOKEN_KINDS, &raw.token) else {
            self.diags.error(
                loc,
                format!(
                    "{what}: `issues: {{token: {}}}` names no token; write one of {}",
                    raw.token,
                    names(&TOKEN_KINDS)
                ),
            );
            return None;
        };
        let mut ok = true;
        if !matches!(auth, Auth::None | Auth::SuiteToken | Auth::SuiteSigned) {
            self.diags.error(
                loc.clone(),
                format!("{what}: a token endpoint is called with `auth: none`, `suite_token` or `suite_signed`, not `{}`", snake(&format!("{auth:?}"))),
            );
            ok = false;
        }
        let mut params = Vec::new();
        // Params named in `from`, valid or not: a bad source is one error, not two.
        let mut named: Vec<String> = Vec::new();
        for (key, value) in &raw.from {
            let Some(name) = key.as_str() else {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: `issues.from` keys are param names"),
                );
                ok = false;
                continue;
            };
            named.push(name.to_string());
            let in_body = body.iter().any(|f| f.wire == name);
            if !in_body && !query.iter().any(|f| f.wire == name) {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: `issues.from` fills `{name}`, which is not a query or body param of the endpoint; declare it or remove it"),
                );
                ok = false;
                continue;
            }
            let source = match value {
                Value::String(c) => match Vocab::find(&CREDENTIALS, c) {
                    Some(v) => TokenSource::Credential(v),
                    None => {
                        self.diags.error(
                            loc.clone(),
                            format!("{what}: `issues.from.{name}: {c}` names no credential; write one of {}, or `{{value: text}}` for a fixed value", names(&CREDENTIALS)),
                        );
                        ok = false;
                        continue;
                    }
                },
                Value::Mapping(m) if m.len() == 1 => match m.get("value").and_then(Value::as_str) {
                    Some(v) => TokenSource::Value(v.to_string()),
                    None => {
                        self.diags.error(loc.clone(), format!("{what}: `issues.from.{name}` is a credential's name or `{{value: text}}`"));
                        ok = false;
                        continue;
                    }
                },
                _ => {
                    self.diags.error(loc.clone(), format!("{what}: `issues.from.{name}` is a credential's name or `{{value: text}}`"));
                    ok = false;
                    continue;
                }
            };
            params.push((name.to_string(), in_body, source));
        }
        for f in query.iter().chain(body).filter(|f| f.required) {
            if !named.contains(&f.wire) {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: required param `{}` is not filled by `issues.from`; add `{}: <credential>`", f.wire, f.wire),
                );
                ok = false;
            }
        }
        let a = &raw.answer;
        if kind.name == "suite_ticket_push" {
            if a.token.is_some() {
                self.diags.error(loc.clone(), format!("{what}: `suite_ticket_push` issues no token (DingTalk pushes the ticket); remove `answer.token`"));
                ok = false;
            }
        } else if a.token.is_none() {
            self.diags.error(loc.clone(), format!("{what}: `issues.answer.token` names the answer field that holds the token, e.g. `token: access_token`"));
            ok = false;
        }
        if matches!(kind.name, "user_sign_in" | "user_refresh") && a.refresh_token.is_none() {
            self.diags.error(loc.clone(), format!("{what}: a user token endpoint names the refresh token's field: `answer.refresh_token`"));
            ok = false;
        }
        let payload = example;
        for (label, field) in [
            ("token", &a.token),
            ("expires_in", &a.expires_in),
            ("refresh_token", &a.refresh_token),
            ("corp_id", &a.corp_id),
        ] {
            if let Some(field) = field {
                if payload.get(field).is_none() {
                    self.diags.error(
                        loc.clone(),
                        format!("{what}: `issues.answer.{label}: {field}` is not a field of the example answer; name the answer's field"),
                    );
                    ok = false;
                }
            }
        }
        let stale_ticket: Vec<String> = raw
            .stale_ticket
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if stale_ticket.len() != raw.stale_ticket.len() {
            self.diags.error(
                loc.clone(),
                format!("{what}: `issues.stale_ticket` lists error codes (numbers or words)"),
            );
            ok = false;
        }
        ok.then(|| Issues {
            kind,
            params,
            token: a.token.clone(),
            expires_in: a.expires_in.clone(),
            refresh_token: a.refresh_token.clone(),
            corp_id: a.corp_id.clone(),
            stale_ticket,
        })
    }

    /// A `host:` value.
    fn host(&mut self, value: &str, loc: Loc, what: &str) -> Option<Host> {
        match value {
            "oapi" => Some(Host::Oapi),
            "api" => Some(Host::Api),
            other => {
                self.diags.error(
                    loc,
                    format!("{what} `{other}` is not a host; write `oapi` (oapi.dingtalk.com) or `api` (api.dingtalk.com)"),
                );
                None
            }
        }
    }

    /// A `rate_limit:` value.
    fn rate_class(&mut self, value: &str, loc: Loc, what: &str) -> Option<RateClass> {
        match value {
            "basic" => Some(RateClass::Basic),
            "metered" => Some(RateClass::Metered),
            "work_notice" => Some(RateClass::WorkNotice),
            other => {
                self.diags.error(
                    loc,
                    format!("{what} unknown class `{other}`; write basic, metered or work_notice"),
                );
                None
            }
        }
    }

    /// The `constraints:` of an endpoint, each naming params of `params`.
    fn constraints<'f>(
        &mut self,
        raw: &[RawConstraint],
        params: impl Iterator<Item = &'f Field> + Clone,
        loc: Loc,
        what: &str,
    ) -> Vec<Constraint> {
        let mut out = Vec::new();
        for c in raw {
            let [from, to] = c.span.as_slice() else {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: `span:` names two params, the earlier and the later, e.g. `span: [start_time, end_time]`"),
                );
                continue;
            };
            let mut find = |name: &str| -> Option<Field> {
                let Some(f) = params.clone().find(|f| f.wire == name) else {
                    self.diags.error(
                        loc.clone(),
                        format!("{what}: `span:` names `{name}`, which is not a query or body param of this endpoint"),
                    );
                    return None;
                };
                if !matches!(f.ty, Ty::String | Ty::I64) {
                    self.diags.error(
                        loc.clone(),
                        format!("{what}: `span:` param `{name}` must be a `string` (`yyyy-MM-dd HH:mm:ss`) or an `i64` (ms)"),
                    );
                    return None;
                }
                Some(f.clone())
            };
            let (from, to) = (find(from), find(to));
            let (Some(from), Some(to)) = (from, to) else {
                continue;
            };
            if from.ty != to.ty {
                self.diags.error(
                    loc.clone(),
                    format!(
                        "{what}: `span:` params `{}` and `{}` must have the same type",
                        from.wire, to.wire
                    ),
                );
                continue;
            }
            if c.max_days == 0 {
                self.diags.error(
                    loc.clone(),
                    format!("{what}: `max_days:` must be at least 1"),
                );
                continue;
            }
            out.push(Constraint::Span {
                from,
                to,
                max_days: c.max_days,
                whole_days: c.whole_days,
            });
        }
        out
    }

    fn resolve_response(
        &mut self,
        p: &ParsedFile<'_>,
        name: &str,
        raw: &RawEndpoint,
        type_names: &mut Vec<String>,
    ) -> Option<Response> {
        let path = ["endpoints", name, "response"];
        let loc = self.loc(p, &path);
        let what = format!("endpoint `{name}`");
        let value = match &raw.response {
            None => {
                self.diags.error(
                    self.loc(p, &["endpoints", name]),
                    format!("{what}: missing `response:`; write `response: none` or describe the payload"),
                );
                return None;
            }
            Some(Value::String(s)) if s == "none" => {
                return Some(Response {
                    at: None,
                    body: ResponseBody::Nothing,
                })
            }
            Some(Value::String(s)) if s == "binary" => {
                return Some(Response {
                    at: None,
                    body: ResponseBody::File,
                })
            }
            Some(v) => v,
        };
        let raw_resp: RawResponse = self.de(value, &p.src.display, &p.index, &path)?;
        let ty = match (&raw_resp.ty, &raw_resp.fields) {
            (Some(_), Some(_)) => {
                self.diags.error(
                    loc,
                    format!("{what}: `response:` has both `type:` and `fields:`; keep one"),
                );
                return None;
            }
            (None, None) => {
                self.diags.error(loc, format!("{what}: `response:` needs `type:` or `fields:` (or write `response: none`)"));
                return None;
            }
            (Some(t), None) => match self.parse_ty(t) {
                Ok(ty) => ty,
                Err(msg) => {
                    self.diags.error(
                        self.loc(p, &["endpoints", name, "response", "type"]),
                        format!("{what}, response: {msg}"),
                    );
                    return None;
                }
            },
            (None, Some(fields)) => {
                let type_name = response_name(&p.area, name);
                if let Some((_, other)) = self.declared.get(&type_name) {
                    let instead = names::suggestion(&type_name, |n| self.declared.contains_key(n));
                    self.diags.error(
                        loc.clone(),
                        format!("{what}: the generated response type `{type_name}` clashes with the type declared at {other}; rename that type, e.g. `{instead}`"),
                    );
                    return None;
                }
                let resolved = self.fields(
                    p,
                    &["endpoints", name, "response", "fields"],
                    fields,
                    &format!("{what}, response"),
                    FieldRole::Struct,
                );
                self.declared
                    .insert(type_name.clone(), (p.area.clone(), loc.clone()));
                self.types.insert(
                    type_name.clone(),
                    TypeDef {
                        name: type_name.clone(),
                        area: p.area.clone(),
                        doc: format!(
                            "Response of [`{}Api::{}`](super::{}::{}Api::{}).",
                            camel(&p.area),
                            crate::naming::ident(name),
                            p.area,
                            camel(&p.area),
                            crate::naming::ident(name)
                        ),
                        kind: TypeKind::Struct(resolved),
                        loc,
                        sent: false,
                        example: None,
                    },
                );
                type_names.push(type_name.clone());
                Ty::Named(type_name)
            }
        };
        if let Some(at) = &raw_resp.at {
            if at.is_empty() || at.contains(char::is_whitespace) {
                self.diags.error(
                    self.loc(p, &["endpoints", name, "response", "at"]),
                    format!("{what}: `at:` must be a JSON key such as `result`"),
                );
            }
        }
        Some(Response {
            at: raw_resp.at,
            body: ResponseBody::Payload(ty),
        })
    }
}

/// Resolves `pagination:` once every type is known: the position param, the response fields.
fn resolve_pagination(
    types: &BTreeMap<String, TypeDef>,
    diags: &mut Diagnostics,
    ep: &Endpoint,
    pg: &RawPagination,
    loc: Loc,
) -> Option<Pagination> {
    let name = &ep.name;
    let what = format!("endpoint `{name}`, pagination");
    let param = |me: &mut Diagnostics, wire: &str, role: &str| -> Option<Field> {
        let found = ep
            .query
            .iter()
            .chain(&ep.body)
            .find(|f| f.wire == wire)
            .cloned();
        match found {
            Some(f) if f.ty == Ty::I64 => Some(f),
            // A string cursor (`nextToken`) moves only by the answer's next token.
            Some(f) if f.ty == Ty::String && role == "cursor" && pg.next.is_some() => Some(f),
            Some(_) if role == "cursor" => {
                me.error(
                    loc.clone(),
                    format!("{what}: cursor `{wire}` must be an `i64` param, or a `string` one (a `nextToken`) with `next`"),
                );
                None
            }
            Some(_) => {
                me.error(
                    loc.clone(),
                    format!("{what}: {role} `{wire}` must be an `i64` param"),
                );
                None
            }
            None => {
                me.error(
                    loc.clone(),
                    format!(
                        "{what}: {role} `{wire}` is not a query or body param of this endpoint"
                    ),
                );
                None
            }
        }
    };
    let payload = match ep.response.ty() {
        Some(Ty::Named(n)) => types.get(n).and_then(|t| match &t.kind {
            TypeKind::Struct(fields) => Some(fields.clone()),
            _ => None,
        }),
        _ => None,
    };
    let Some(payload) = payload else {
        diags.error(loc, format!("{what}: the response must be a struct (declare it under `types:` or `fields:`) holding the items"));
        return None;
    };
    let field = |me: &mut Diagnostics,
                 wire: &str,
                 role: &str,
                 ok: &dyn Fn(&Ty) -> bool,
                 want: &str|
     -> Option<Field> {
        match payload.iter().find(|f| f.wire == wire) {
            Some(f) if ok(&f.ty) => Some(f.clone()),
            Some(_) => {
                me.error(
                    loc.clone(),
                    format!("{what}: {role} `{wire}` must be {want}"),
                );
                None
            }
            None => {
                me.error(
                    loc.clone(),
                    format!("{what}: {role} `{wire}` is not a field of the response"),
                );
                None
            }
        }
    };
    let cursor = param(diags, &pg.cursor, "cursor");
    let step = pg.step.as_deref().and_then(|s| param(diags, s, "step"));
    // The next position has the cursor's type.
    let cursor_ty = cursor.as_ref().map_or(Ty::I64, |c| c.ty.clone());
    let want = if cursor_ty == Ty::String {
        "a `string`, like the cursor"
    } else {
        "an `i64`"
    };
    let next = pg
        .next
        .as_deref()
        .and_then(|n| field(diags, n, "next", &|t: &Ty| *t == cursor_ty, want));
    let has_more = pg
        .has_more
        .as_deref()
        .and_then(|h| field(diags, h, "has_more", &|t: &Ty| *t == Ty::Bool, "a `bool`"));
    let items = field(
        diags,
        &pg.items,
        "items",
        &|t: &Ty| matches!(t, Ty::List(_)),
        "a list",
    );
    if pg.next.is_some() && pg.step.is_some() {
        diags.error(
            loc.clone(),
            format!("{what}: give `next` (cursor style) or `step` (offset style), not both"),
        );
        return None;
    }
    Some(Pagination {
        cursor: cursor?,
        next,
        step,
        has_more,
        items: items?,
    })
}

/// What a list of fields belongs to; params have extra shape rules.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FieldRole {
    Struct,
    Path,
    Query,
    Body,
    Header,
}

impl FieldRole {
    fn noun(self) -> &'static str {
        match self {
            FieldRole::Struct => "field",
            FieldRole::Path => "path param",
            FieldRole::Query => "query param",
            FieldRole::Body => "body param",
            FieldRole::Header => "header",
        }
    }

    fn is_param(self) -> bool {
        self != FieldRole::Struct
    }
}

/// Converts a YAML value into JSON (examples may be written in either).
pub fn yaml_to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => {
            serde_json::Value::Array(items.iter().map(yaml_to_json).collect())
        }
        Value::Mapping(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        other => serde_yaml::to_string(other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Value::Tagged(t) => yaml_to_json(&t.value),
    }
}
