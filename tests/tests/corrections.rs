//! The corrections a cross-check of the spec against the official docs and the classic Java SDK
//! found (issue #13), each pinned so that a later edit cannot quietly undo it. The endpoints
//! themselves are called by the spec-driven round trip (`endpoints.rs`).

use dingtalk_codegen::model::{Endpoint, Field, Spec, Ty};
use dingtalk_tests::load_spec;

fn endpoint<'a>(spec: &'a Spec, area: &str, name: &str) -> &'a Endpoint {
    spec.areas
        .iter()
        .find(|a| a.name == area)
        .and_then(|a| a.endpoints.iter().find(|e| e.name == name))
        .unwrap_or_else(|| panic!("{area}.{name} is not in the spec"))
}

fn param<'a>(ep: &'a Endpoint, wire: &str) -> &'a Field {
    ep.params()
        .find(|f| f.wire == wire)
        .unwrap_or_else(|| panic!("{} has no param `{wire}`", ep.name))
}

#[test]
fn documented_endpoints_that_were_only_prose_are_endpoints() {
    let spec = load_spec();
    let batch = endpoint(&spec, "user", "legacy_batch_delete");
    assert_eq!(batch.path, "/user/batchdelete");
    assert!(param(batch, "useridlist").required);
    let info = endpoint(&spec, "cspace", "get_approval_space");
    assert_eq!(info.path, "/topapi/processinstance/cspace/info");
    assert!(param(info, "user_id").required);
    assert!(!param(info, "agent_id").required);
    let preview = endpoint(&spec, "cspace", "grant_approval_preview");
    assert_eq!(preview.path, "/topapi/processinstance/cspace/preview");
    assert!(param(preview, "request").required);
}

#[test]
fn optional_params_the_spec_had_required() {
    let spec = load_spec();
    let list = endpoint(&spec, "user", "legacy_list");
    assert!(!param(list, "offset").required && !param(list, "size").required);
    let by_mobile = endpoint(&spec, "user", "get_by_mobile");
    assert!(!param(by_mobile, "support_exclusive_account_search").required);
    for name in ["legacy_list_parents_by_user", "legacy_list_parents_by_dept"] {
        let ep = endpoint(&spec, "department", name);
        assert!(ep.params().all(|f| !f.required), "{name}");
    }
}

#[test]
fn documented_params_that_were_missing() {
    let spec = load_spec();
    param(endpoint(&spec, "user", "get"), "login_id");
    for name in ["create", "update"] {
        let ep = endpoint(&spec, "user", name);
        for wire in ["avatarMediaId", "nickname", "send_password_to_user"] {
            param(ep, wire);
        }
    }
    let update = endpoint(&spec, "department", "legacy_update");
    param(update, "deptPerimits");
    param(update, "userPerimits");
}

#[test]
fn limits_and_types_follow_the_docs() {
    let spec = load_spec();
    for name in ["list", "list_simple"] {
        let size = param(endpoint(&spec, "user", name), "size");
        assert_eq!((size.min, size.max), (Some(1), Some(100)), "user.{name}");
    }
    // The docs say 20 where the Java SDK checks 100; the docs win.
    let leave = param(endpoint(&spec, "attendance", "get_leave_status"), "size");
    assert_eq!(leave.max, Some(20));
    // The docs say 100 where the Java SDK checks 300.
    let depts = param(endpoint(&spec, "user", "update"), "dept_id_list");
    assert_eq!(depts.max_len, Some(100));
    // Numeric strings, as the docs type them.
    let create = endpoint(&spec, "department", "legacy_create");
    assert_eq!(param(create, "parentid").ty, Ty::String);
    assert_eq!(param(create, "order").ty, Ty::String);
}
