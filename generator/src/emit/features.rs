//! The `dingtalk` crate's cargo features, one per API area, so a build compiles only the areas
//! it uses. An area's feature turns on the areas whose types its module names (a chat message
//! is a `message::Message`); `full` turns on all of them.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Spec, Ty, TypeKind};

pub use crate::output::{BEGIN, END};

/// The block's lines, markers included.
pub fn block(spec: &Spec) -> String {
    let deps = area_dependencies(spec);
    let list = |names: &mut dyn Iterator<Item = &String>| {
        names
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("{BEGIN}\n");
    out.push_str(&format!(
        "full = [{}]\n",
        list(
            &mut spec
                .areas
                .iter()
                .filter(|a| a.has_module())
                .map(|a| &a.name)
        )
    ));
    // The generated `conformance` module calls every endpoint.
    out.push_str("conformance = [\"full\", \"serialize\", \"eq\"]\n");
    // `Serialize` for the types only answers carry (requests always have it).
    out.push_str("serialize = []\n");
    // `PartialEq` for generated structs, requests and unions.
    out.push_str("eq = []\n");
    for area in spec.areas.iter().filter(|a| a.has_module()) {
        let needs = deps.get(&area.name).cloned().unwrap_or_default();
        out.push_str(&format!("{} = [{}]\n", area.name, list(&mut needs.iter())));
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// For each area, the other areas whose types its module refers to.
pub fn area_dependencies(spec: &Spec) -> BTreeMap<String, BTreeSet<String>> {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for area in &spec.areas {
        let mut named = Vec::new();
        for t in area.types.iter().filter_map(|n| spec.types.get(n)) {
            match &t.kind {
                TypeKind::Struct(fields) => named.extend(fields.iter().map(|f| &f.ty)),
                TypeKind::Union(u) => {
                    for v in &u.variants {
                        if let Some(def) = spec.types.get(&v.ty) {
                            deps_of(&def.area, &area.name, &mut deps);
                        }
                    }
                }
                TypeKind::Enum(_) => {}
            }
        }
        for ep in &area.endpoints {
            named.extend(ep.params().map(|f| &f.ty));
            named.extend(ep.response.ty());
        }
        let mut names = Vec::new();
        for ty in named {
            collect(ty, &mut names);
        }
        for name in names {
            if let Some(def) = spec.types.get(&name) {
                deps_of(&def.area, &area.name, &mut deps);
            }
        }
        deps.entry(area.name.clone()).or_default();
    }
    deps
}

fn deps_of(owner: &str, user: &str, deps: &mut BTreeMap<String, BTreeSet<String>>) {
    if owner != user {
        deps.entry(user.to_string())
            .or_default()
            .insert(owner.to_string());
    }
}

fn collect(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Named(n) => out.push(n.clone()),
        Ty::List(inner) | Ty::Map(_, inner) => collect(inner, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{check, SourceFile};

    fn src(stem: &str, text: &str) -> SourceFile {
        SourceFile {
            display: format!("spec/{stem}.yaml"),
            stem: stem.into(),
            text: text.into(),
        }
    }

    #[test]
    fn an_area_that_names_another_areas_type_turns_its_feature_on() {
        let a = "version: 1\ndoc: A.\ntypes:\n  Note:\n    doc: A note.\n    fields:\n      text: {type: string, doc: Text.}\n";
        let b = r#"version: 1
doc: B.
endpoints:
  send:
    summary: Send a note.
    method: POST
    path: /b/send
    auth: access_token
    body:
      notes: {type: "[Note]", required: true, doc: Notes., example: [{text: hi}]}
    response: none
    example: '{"errcode": 0}'
"#;
        let spec = match check(&[src("a", a), src("b", b)]) {
            Ok(spec) => spec,
            Err(d) => panic!("{d:?}"),
        };
        assert_eq!(
            super::block(&spec),
            format!(
                "{}\nfull = [\"a\", \"b\"]\nconformance = [\"full\", \"serialize\", \"eq\"]\nserialize = []\neq = []\na = []\nb = [\"a\"]\n{}\n",
                super::BEGIN,
                super::END
            )
        );
    }
}
