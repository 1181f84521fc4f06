//! The naming pass: every name the emitter introduces is reserved, so a spec that takes one
//! fails here, at its file and line, instead of generating code that does not compile.
//!
//! The reserved names themselves live in [`crate::naming`]; this module only finds the spec
//! names that hit them. A declared type that is named like a generated request or response is
//! reported where that endpoint is resolved (see `resolve_endpoint` and `resolve_response`).

use std::collections::BTreeMap;

use crate::diag::{Diagnostics, Loc};
use crate::model::{Field, Spec, TypeKind};
use crate::naming::{
    handle_name, is_camel, is_snake, reserved_area_name, reserved_type_name, CALL_METHODS,
    CONSTRUCTOR, PAGED_CALL_METHODS, UPLOAD_FIELD,
};

/// Area names against [`crate::naming::RESERVED_AREA_NAMES`]; `areas` holds each file's area
/// and where it is named.
pub(super) fn check_areas(areas: &[(String, Loc)], diags: &mut Diagnostics) {
    for (area, loc) in areas {
        // A name that is not snake_case (`crate`, `self`) is already reported as such.
        if !is_snake(area) {
            continue;
        }
        if let Some(why) = reserved_area_name(area) {
            diags.error(
                loc.clone(),
                format!("area name `{area}` is reserved ({why}); give the file another `area:`"),
            );
        }
    }
}

/// Declared type names (name → (area, where)) against every area's handle and
/// [`crate::naming::RESERVED_TYPE_NAMES`].
pub(super) fn check_types<'a>(
    areas: impl IntoIterator<Item = &'a str>,
    declared: &BTreeMap<String, (String, Loc)>,
    diags: &mut Diagnostics,
) {
    // Every area's handle, not only the type's own: areas name each other's types as
    // `super::<area>::Name`, and the handles all sit in `crate::api::<area>`.
    let handles: BTreeMap<String, &str> = areas.into_iter().map(|a| (handle_name(a), a)).collect();
    for (name, (_, loc)) in declared {
        // A name that is not UpperCamelCase (`Self`) is already reported as such.
        if !is_camel(name) {
            continue;
        }
        let clash = if let Some(area) = handles.get(name) {
            format!("the handle of area `{area}` (`client.{area}()` returns a `{name}`)")
        } else if let Some(why) = reserved_type_name(name) {
            format!("`{name}`, {why}")
        } else {
            continue;
        };
        let instead = suggestion(name, |n| {
            declared.contains_key(n) || handles.contains_key(n)
        });
        diags.error(
            loc.clone(),
            format!("type `{name}` clashes with {clash}; rename the type, e.g. `{instead}`"),
        );
    }
}

/// A free name to suggest instead of `name`: `name` plus a suffix that is not `taken` (by a
/// declared type or a generated one) and not reserved.
pub(super) fn suggestion(name: &str, taken: impl Fn(&str) -> bool) -> String {
    ["Info", "Data", "Value", "Item"]
        .iter()
        .map(|suffix| format!("{name}{suffix}"))
        .find(|n| !taken(n) && reserved_type_name(n).is_none())
        .unwrap_or_else(|| format!("{name}Info"))
}

/// Members the emitter adds next to spec names: the handle's and every struct's `new`, the
/// methods of `Call` next to the setters of optional params, and an upload's `file`.
pub(super) fn check_members(spec: &Spec, diags: &mut Diagnostics) {
    for area in &spec.areas {
        let handle = handle_name(&area.name);
        for ep in &area.endpoints {
            let what = format!("endpoint `{}`", ep.name);
            if ep.name == CONSTRUCTOR {
                diags.error(
                    ep.loc.clone(),
                    format!("{what}: the name is taken by the handle's constructor `{handle}::{CONSTRUCTOR}`; rename the endpoint, e.g. `create`"),
                );
            }
            let mut taken: Vec<&str> = CALL_METHODS.to_vec();
            if ep.pagination.is_some() {
                taken.extend(PAGED_CALL_METHODS);
            }
            let sections = [
                ("path param", &ep.path_params),
                ("query param", &ep.query),
                ("body param", &ep.body),
            ];
            for (noun, fields) in sections {
                for f in fields.iter() {
                    let label = format!("{what}, {noun} `{}`", f.wire);
                    if ep.upload.is_some() && f.rust == UPLOAD_FIELD {
                        diags.error(
                            f.loc.clone(),
                            format!("{label}: the Rust name `{UPLOAD_FIELD}` is taken by the uploaded file (the request's field and the method's last argument); a param's Rust name follows its wire name, so drop this param or ask for a generator change"),
                        );
                    } else if !f.required && taken.contains(&f.rust.as_str()) {
                        diags.error(
                            f.loc.clone(),
                            format!("{label}: its setter `{}` clashes with the method `Call::{}` (`Call` has {}); make it `required: true` so it becomes an argument of the method", f.rust, f.rust, taken.join(", ")),
                        );
                    }
                }
            }
        }
    }
    for def in spec.types.values() {
        let TypeKind::Struct(fields) = &def.kind else {
            continue;
        };
        for f in fields.iter().filter(|f| is_constructor_setter(f)) {
            diags.error(
                f.loc.clone(),
                format!("type `{}`, field `{}`: its setter `{CONSTRUCTOR}` clashes with the constructor `{}::{CONSTRUCTOR}`; make it `required: true` if it is always present", def.name, f.wire, def.name),
            );
        }
    }
}

/// Whether `f` gets a setter named like the constructor.
fn is_constructor_setter(f: &Field) -> bool {
    !f.required && f.rust == CONSTRUCTOR
}
