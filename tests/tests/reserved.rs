//! The generator reserves the runtime `Client`'s method names as area names (an inherent method
//! would hide the area's handle): the list must name every public method of `impl Client`.

use std::path::Path;

/// `pub fn` / `pub async fn` names inside `impl Client {` blocks of the runtime's sources.
fn client_methods() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
    let mut names = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("runtime sources") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let mut inside = false;
            for line in text.lines() {
                if line.starts_with("impl Client {") {
                    inside = true;
                } else if inside && line.starts_with('}') {
                    inside = false;
                } else if inside {
                    let l = line.trim_start();
                    let rest = l
                        .strip_prefix("pub fn ")
                        .or_else(|| l.strip_prefix("pub async fn "));
                    if let Some(rest) = rest {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        names.push(name);
                    }
                }
            }
        }
    }
    names.sort();
    names
}

#[test]
fn every_client_method_is_a_reserved_area_name() {
    let methods = client_methods();
    assert!(
        methods.len() >= 10,
        "the scan found too few methods: {methods:?}"
    );
    for m in &methods {
        assert!(
            dingtalk_codegen::naming::CLIENT_METHODS.contains(&m.as_str()),
            "`Client::{m}` is not in naming::CLIENT_METHODS; add it so no area can be named `{m}`"
        );
        assert!(dingtalk_codegen::naming::reserved_area_name(m).is_some());
    }
}
