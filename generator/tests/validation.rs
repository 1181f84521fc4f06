//! One test per kind of spec mistake the checker reports: each builds a small in-memory spec with
//! exactly one mistake and asserts the `file:line` and the message (with the fix it suggests).

use dingtalk_codegen::check::{check, SourceFile};
use dingtalk_codegen::naming;
use dingtalk_codegen::Diagnostic;

/// A valid spec; most tests replace one line of it. Line numbers are noted on the right.
const BASE: &str = r#"version: 1
doc: Test area.
types:
  Item:
    doc: An item.
    fields:
      id: {type: i64, required: true, doc: Item id.}
      name: {type: string, doc: Item name.}
  Color:
    doc: A color.
    enum: string
    values:
      - {value: red, doc: Red.}
      - {value: blue, doc: Blue.}
endpoints:
  get:
    summary: Get an item.
    method: POST
    path: /topapi/item/get
    auth: access_token
    body:
      item_id: {type: i64, required: true, doc: The item., example: 7}
    response:
      at: result
      type: Item
    example: |
      {"errcode": 0, "errmsg": "ok",
       "result": {"id": 7, "name": "seven"}}
"#;
// Lines of BASE used below: 1 version, 2 doc, 4 Item, 7 id, 8 name, 9 Color, 11 enum, 13/14 values,
// 16 get, 17 summary, 18 method, 19 path, 20 auth, 21 body, 22 item_id, 23 response, 25 type,
// 26 example, 27/28 the JSON.

fn src(stem: &str, text: &str) -> SourceFile {
    SourceFile {
        display: format!("spec/{stem}.yaml"),
        stem: stem.into(),
        text: text.into(),
    }
}

/// BASE with `from` (which must occur exactly once) replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` must occur once in BASE"
    );
    BASE.replacen(from, to, 1)
}

/// Every diagnostic for the given files (the check must fail).
fn errors(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    let files: Vec<SourceFile> = files.iter().map(|(s, t)| src(s, t)).collect();
    match check(&files) {
        Ok(_) => panic!("the spec was accepted"),
        Err(diags) => diags,
    }
}

/// The single diagnostic for `spec/x.yaml` with this text.
fn only_error(text: &str) -> Diagnostic {
    let diags = errors(&[("x", text)]);
    assert_eq!(
        diags.len(),
        1,
        "expected exactly one diagnostic, got {diags:#?}"
    );
    diags.into_iter().next().unwrap()
}

/// Asserts the location (`file:line`) and that the message contains every part.
#[track_caller]
fn assert_diag(d: &Diagnostic, loc: &str, parts: &[&str]) {
    assert_eq!(d.loc.to_string(), loc, "wrong location for: {d}");
    for part in parts {
        assert!(d.message.contains(part), "`{part}` not in: {d}");
    }
}

#[test]
fn base_spec_is_valid() {
    let spec = check(&[src("x", BASE)]).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(spec.areas.len(), 1);
    assert_eq!(spec.areas[0].endpoints.len(), 1);
}

#[test]
fn display_is_file_line_message() {
    let d = only_error(&edit("    method: POST\n", "    method: FETCH\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:18: endpoint `get`: unsupported method `FETCH`; write one of GET, POST, PUT, DELETE, PATCH"
    );
}

// ---------------------------------------------------------------- file level

#[test]
fn invalid_yaml_syntax() {
    // An unclosed flow mapping on line 22.
    let d = only_error(&edit(
        "item_id: {type: i64, required: true, doc: The item., example: 7}",
        "item_id: {type: i64, required: true, doc: The item.",
    ));
    assert!(d.message.starts_with("invalid YAML: "), "{d}");
    assert_eq!(d.loc.file, "spec/x.yaml");
    assert!((22..=23).contains(&d.loc.line), "{d}");
}

#[test]
fn invalid_yaml_bad_indentation() {
    let d = only_error(&edit(
        "    path: /topapi/item/get\n",
        "   path: /topapi/item/get\n",
    ));
    assert!(d.message.starts_with("invalid YAML: "), "{d}");
    assert_eq!(d.loc.to_string(), "spec/x.yaml:19", "{d}");
}

#[test]
fn unknown_key_in_endpoint() {
    let d = only_error(&edit("    summary: Get", "    sumary: Get"));
    assert_diag(
        &d,
        "spec/x.yaml:17",
        &[
            "endpoints.get: unknown field `sumary`, expected one of",
            "`summary`",
            "see spec/README.md for the keys this item takes",
        ],
    );
}

#[test]
fn unknown_key_in_param() {
    let d = only_error(&edit(
        "required: true, doc: The item.",
        "requird: true, doc: The item.",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:22",
        &[
            "endpoints.get.body.item_id: unknown field `requird`, expected one of",
            "`required`",
            "see spec/README.md",
        ],
    );
}

#[test]
fn unknown_top_level_key() {
    let d = only_error(&edit("doc: Test area.\n", "doc: Test area.\ntypos: {}\n"));
    assert_diag(
        &d,
        "spec/x.yaml:3",
        &[
            "file: unknown field `typos`",
            "`types`",
            "see spec/README.md",
        ],
    );
}

#[test]
fn missing_version() {
    let d = only_error(&edit("version: 1\n", "# no version\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:1: missing `version:`; write `version: 1` at the top of the file"
    );
}

#[test]
fn unsupported_version() {
    let d = only_error(&format!(
        "# comment\n{}",
        edit("version: 1\n", "version: 2\n")
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:2: unsupported spec version 2; write `version: 1`"
    );
}

#[test]
fn missing_doc() {
    let d = only_error(&edit("doc: Test area.\n", ""));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:1: missing `doc:`; describe what this API area covers"
    );
}

#[test]
fn empty_doc() {
    let d = only_error(&edit("doc: Test area.\n", "doc: \"  \"\n"));
    assert_diag(&d, "spec/x.yaml:2", &["missing `doc:`"]);
}

#[test]
fn area_not_snake_case() {
    let d = only_error(&edit(
        "doc: Test area.\n",
        "area: ItemStore\ndoc: Test area.\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:2: area name `ItemStore` is not snake_case; write `area: item_store`"
    );
}

#[test]
fn two_files_claim_one_area() {
    let diags = errors(&[
        ("a", "version: 1\narea: shared\ndoc: A.\n"),
        ("b", "version: 1\ndoc: B.\narea: shared\n"),
    ]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/b.yaml:3: area `shared` is already defined by spec/a.yaml; give this file another `area:`"
    );
}

#[test]
fn file_stem_claims_an_existing_area() {
    let diags = errors(&[
        ("a", "version: 1\ndoc: A.\n"),
        ("b", "version: 1\narea: a\ndoc: B.\n"),
    ]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_diag(
        &diags[0],
        "spec/b.yaml:2",
        &["area `a` is already defined by spec/a.yaml"],
    );
}

// ---------------------------------------------------------------- types

#[test]
fn duplicate_type_across_files() {
    let other = "version: 1\ndoc: Other.\ntypes:\n  Color:\n    doc: Clash.\n    enum: string\n    values:\n      - {value: x, doc: X.}\n";
    let diags = errors(&[("x", BASE), ("y", other)]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/y.yaml:4: type `Color` is already declared at spec/x.yaml:9; rename one of them"
    );
}

#[test]
fn type_name_not_upper_camel_case() {
    let d = only_error(&edit("  Color:\n", "  color_name:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:9: type name `color_name` is not UpperCamelCase; write `ColorName`"
    );
}

#[test]
fn type_without_doc() {
    let d = only_error(&edit("    doc: A color.\n", ""));
    assert_diag(
        &d,
        "spec/x.yaml:9",
        &["type `Color`: missing `doc:`; say what it represents"],
    );
}

#[test]
fn type_neither_struct_nor_enum() {
    let d = only_error(&edit(
        "    enum: string\n    values:\n      - {value: red, doc: Red.}\n      - {value: blue, doc: Blue.}\n",
        "",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:9",
        &["type `Color`: needs `fields:` (a struct), `enum: string|integer` with `values:`, or `union:` with `variants:`"],
    );
}

#[test]
fn unknown_type_in_body_param() {
    let d = only_error(&edit("item_id: {type: i64,", "item_id: {type: ItemId,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`, body param `item_id`: unknown type `ItemId`; declare it under `types:` or use string, i64, f64, bool, json, [T], map<K, V> or a type declared under `types:`"
    );
}

#[test]
fn unknown_type_in_response() {
    let d = only_error(&edit("      type: Item\n", "      type: Itme\n"));
    assert_diag(
        &d,
        "spec/x.yaml:25",
        &[
            "endpoint `get`, response: unknown type `Itme`",
            "declare it under `types:`",
        ],
    );
}

#[test]
fn unknown_type_in_struct_field() {
    let d = only_error(&edit("name: {type: string,", "name: {type: \"[Strng]\","));
    assert_diag(
        &d,
        "spec/x.yaml:8",
        &["type `Item`, field `name`: unknown type `Strng`"],
    );
}

#[test]
fn int_instead_of_i64() {
    let d = only_error(&edit("      id: {type: i64,", "      id: {type: int,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:7: type `Item`, field `id`: unknown type `int`; write `i64` (every integer is an i64) or `f64`"
    );
}

#[test]
fn bad_map_key_type() {
    let d = only_error(&edit(
        "name: {type: string,",
        "name: {type: \"map<bool, string>\",",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:8: type `Item`, field `name`: map key type `bool` is not supported; use `string` or `i64`"
    );
}

#[test]
fn field_without_type() {
    let d = only_error(&edit("name: {type: string, doc", "name: {doc"));
    assert_diag(
        &d,
        "spec/x.yaml:8",
        &["type `Item`, field `name`: missing `type:`; use string, i64"],
    );
}

#[test]
fn field_without_doc() {
    let d = only_error(&edit(
        "name: {type: string, doc: Item name.}",
        "name: {type: string}",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:8: type `Item`, field `name`: missing `doc:`"
    );
}

// ---------------------------------------------------------------- endpoints

#[test]
fn endpoint_name_not_snake_case() {
    let d = only_error(&edit("  get:\n", "  getItem:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `getItem`: name is not snake_case; write `get_item`"
    );
}

#[test]
fn missing_summary() {
    let d = only_error(&edit(
        "    summary: Get an item.\n",
        "    doc: Longer text.\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `get`: missing `summary:`; one line saying what the call does"
    );
}

#[test]
fn unsupported_method() {
    let d = only_error(&edit("    method: POST\n", "    method: post\n"));
    assert_diag(
        &d,
        "spec/x.yaml:18",
        &["endpoint `get`: unsupported method `post`; write one of GET, POST, PUT, DELETE, PATCH"],
    );
}

#[test]
fn missing_method() {
    let d = only_error(&edit("    method: POST\n", "    doc: Longer text.\n"));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &["endpoint `get`: missing `method:`; write one of GET, POST, PUT, DELETE, PATCH"],
    );
}

#[test]
fn unknown_auth() {
    let d = only_error(&edit("    auth: access_token\n", "    auth: token\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:20: endpoint `get`: auth `token` does not exist on host `oapi`; write one of access_token, sso_token, sns_app_token, signed, suite_token, suite_signed, none"
    );
}

#[test]
fn missing_auth() {
    let d = only_error(&edit("    auth: access_token\n", "    doc: Longer text.\n"));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &["endpoint `get`: missing `auth:`; write one of access_token, sso_token, sns_app_token, signed, suite_token, suite_signed, none"],
    );
}

#[test]
fn path_without_leading_slash() {
    let d = only_error(&edit(
        "    path: /topapi/item/get\n",
        "    path: topapi/item/get\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:19: endpoint `get`: `path:` must start with `/`, e.g. `/topapi/v2/user/get`"
    );
}

#[test]
fn missing_path() {
    let d = only_error(&edit(
        "    path: /topapi/item/get\n",
        "    doc: Longer text.\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `get`: missing `path:`; write the request path, e.g. `/topapi/v2/user/get`"
    );
}

#[test]
fn path_placeholder_without_path_param() {
    let d = only_error(&edit(
        "    path: /topapi/item/get\n",
        "    path: /topapi/item/{item_key}/get\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:19: endpoint `get`: the path has `{item_key}` but no path param `item_key`; declare it under `path_params:`"
    );
}

#[test]
fn path_param_not_in_path() {
    let d = only_error(&edit(
        "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "    path_params:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`: path param `item_id` does not appear in the path; add `{item_id}` to `path:` or move it to `query:`"
    );
}

#[test]
fn optional_path_param() {
    let d = only_error(&edit(
        "    path: /topapi/item/get\n    auth: access_token\n    body:\n      item_id: {type: i64, required: true,",
        "    path: /topapi/item/{item_id}\n    auth: access_token\n    path_params:\n      item_id: {type: i64,",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:22",
        &["path param `item_id`: path params are always required; add `required: true`"],
    );
}

#[test]
fn body_on_get() {
    let d = only_error(&edit("    method: POST\n", "    method: GET\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:21: endpoint `get`: a GET request has no body; move these params under `query:`"
    );
}

#[test]
fn query_param_of_struct_type_without_encoding() {
    let d = only_error(&edit(
        "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "    query:\n      item: {type: Item, required: true, doc: The item.}\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`, query param `item`: a query or path param or a header must be a scalar or an enum; give lists `encoding: comma` or `pipe`, and objects `encoding: json_text`"
    );
}

#[test]
fn query_param_of_struct_type_declared_in_a_later_file() {
    // The struct is resolved only after this file's endpoints; it must still be rejected.
    let text = edit(
        "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "    query:\n      other: {type: Other, required: true, doc: The other.}\n",
    );
    let later = "version: 1\ndoc: Later.\ntypes:\n  Other:\n    doc: Other.\n    fields:\n      a: {type: i64, doc: A.}\n";
    let diags = errors(&[("x", &text), ("z", later)]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_diag(
        &diags[0],
        "spec/x.yaml:22",
        &["query param `other`: a query or path param or a header must be a scalar or an enum"],
    );
}

#[test]
fn query_param_list_without_encoding() {
    let d = only_error(&edit(
        "    body:\n      item_id: {type: i64,",
        "    query:\n      item_id: {type: \"[i64]\",",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:22",
        &["give lists `encoding: comma` or `pipe`"],
    );
}

#[test]
fn encoding_on_the_wrong_type() {
    let d = only_error(&edit(
        "name: {type: string, doc: Item name.}",
        "name: {type: string, encoding: comma, doc: Item name.}",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:8: type `Item`, field `name`: this encoding needs a list of scalars such as `[i64]` or `[string]`"
    );
}

#[test]
fn loose_map_on_a_list() {
    let d = only_error(&edit(
        "name: {type: string, doc: Item name.}",
        "name: {type: \"[i64]\", encoding: loose_map, doc: Item name.}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:8",
        &["this encoding needs `map<K, V>` with scalar values"],
    );
}

#[test]
fn unknown_encoding() {
    let d = only_error(&edit(
        "name: {type: string, doc: Item name.}",
        "name: {type: \"[string]\", encoding: csv, doc: Item name.}",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:8: type `Item`, field `name`: unknown encoding `csv`; use comma, pipe, json_text or loose_map"
    );
}

#[test]
fn sensitive_on_a_non_string() {
    let d = only_error(&edit(
        "required: true, doc: The item.",
        "required: true, sensitive: true, doc: The item.",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`, body param `item_id`: `sensitive: true` applies to `type: string` only"
    );
}

#[test]
fn max_len_on_an_i64() {
    let d = only_error(&edit(
        "required: true, doc: The item.",
        "required: true, max_len: 10, doc: The item.",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`, body param `item_id`: `max_len` applies to strings, lists and `encoding: json_text` values only; remove it"
    );
}

#[test]
fn two_wire_names_one_rust_name_in_one_section() {
    let d = only_error(&edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      userId: {type: string, doc: The user.}\n      user_id: {type: string, doc: The user.}\n",
    ));
    // Line 23 is `user_id`, the second of the two.
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:23: endpoint `get`, body param `user_id`: `user_id` and `userId` both become the Rust field `user_id`; keep one and list the other under its `aliases:`"
    );
}

#[test]
fn two_wire_names_one_rust_name_across_sections() {
    let d = only_error(&edit(
        "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "    query:\n      userId: {type: string, doc: The user.}\n    body:\n      user_id: {type: string, doc: The user.}\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:24: endpoint `get`: params `userId` and `user_id` both become the Rust name `user_id`; rename one"
    );
}

#[test]
fn duplicate_alias() {
    let d = only_error(&edit(
        "name: {type: string, doc: Item name.}",
        "name: {type: string, aliases: [id], doc: Item name.}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:8",
        &["field `name`: alias `id` is already a name of another field"],
    );
}

#[test]
fn deprecated_names_a_missing_endpoint() {
    let d = only_error(&edit(
        "    auth: access_token\n",
        "    auth: access_token\n    deprecated: get_v2\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:21: endpoint `get`: `deprecated: get_v2` names no endpoint of this area; name the replacement endpoint or write a sentence"
    );
}

#[test]
fn deprecated_sentence_is_accepted() {
    let text = edit(
        "    auth: access_token\n",
        "    auth: access_token\n    deprecated: Use the v2 API instead.\n",
    );
    check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
}

#[test]
fn generated_request_type_clashes_with_a_declared_type() {
    let d = only_error(&edit("  Color:\n", "  XGetRequest:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `get`: the generated request type `XGetRequest` clashes with the type declared at spec/x.yaml:9; rename the type, e.g. `XGetRequestInfo`"
    );
}

#[test]
fn generated_request_type_clashes_with_a_type_of_another_file() {
    // Request types sit in their area's module, but type names are global to the spec.
    let other = "version: 1\ndoc: Other.\ntypes:\n  XGetRequest:\n    doc: Clash.\n    fields:\n      id: {type: i64, doc: Id.}\n  XGetRequestInfo:\n    doc: Taken too.\n    fields:\n      id: {type: i64, doc: Id.}\n";
    let diags = errors(&[("x", BASE), ("y", other)]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/x.yaml:16: endpoint `get`: the generated request type `XGetRequest` clashes with the type declared at spec/y.yaml:4; rename the type, e.g. `XGetRequestData`"
    );
}

#[test]
fn generated_response_type_clashes_with_a_declared_type() {
    let text = edit("  Color:\n", "  XGetResponse:\n").replace(
        "      type: Item\n",
        "      fields: {id: {type: i64, doc: Id.}}\n",
    );
    let d = only_error(&text);
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:23: endpoint `get`: the generated response type `XGetResponse` clashes with the type declared at spec/x.yaml:9; rename that type, e.g. `XGetResponseInfo`"
    );
}

#[test]
fn a_declared_type_named_like_the_default_response_may_be_the_response() {
    // Only `fields:` generates `XGetResponse`; naming the type in `type:` generates nothing.
    let text = edit("  Item:\n", "  XGetResponse:\n")
        .replace("      type: Item\n", "      type: XGetResponse\n");
    check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
}

#[test]
fn missing_response() {
    let d = only_error(&edit(
        "    response:\n      at: result\n      type: Item\n",
        "",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `get`: missing `response:`; write `response: none` or describe the payload"
    );
}

#[test]
fn response_with_neither_type_nor_fields() {
    let d = only_error(&edit("      type: Item\n", ""));
    assert_diag(
        &d,
        "spec/x.yaml:23",
        &["endpoint `get`: `response:` needs `type:` or `fields:` (or write `response: none`)"],
    );
}

// ---------------------------------------------------------------- examples

#[test]
fn missing_example() {
    let d = only_error(&edit(
        "    example: |\n      {\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}\n",
        "",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `get`: missing `example:`; paste one complete success response body (JSON) from the reference"
    );
}

#[test]
fn example_not_json_points_inside_the_block() {
    // A doubled comma on line 27, the first line of the JSON.
    let d = only_error(&edit("\"errmsg\": \"ok\",\n", "\"errmsg\": \"ok\",,\n"));
    assert_diag(
        &d,
        "spec/x.yaml:27",
        &["endpoint `get`: `example:` is not valid JSON: "],
    );
}

#[test]
fn example_not_json_error_on_the_second_line() {
    let d = only_error(&edit("{\"id\": 7,", "{\"id\" 7,"));
    assert_diag(
        &d,
        "spec/x.yaml:28",
        &["endpoint `get`: `example:` is not valid JSON: expected `:`"],
    );
}

#[test]
fn example_truncated_json_points_at_its_last_line() {
    // A missing closing brace: serde_json reports the end of the text, one line past the JSON;
    // the diagnostic must still point inside the block, not at whatever follows it.
    let text = edit("\"seven\"}}\n", "\"seven\"}\n") + "  other:\n    summary: Other.\n";
    let diags = errors(&[("x", &text)]);
    let d = diags
        .iter()
        .find(|d| d.message.contains("not valid JSON"))
        .unwrap_or_else(|| panic!("{diags:#?}"));
    assert_diag(
        d,
        "spec/x.yaml:28",
        &["endpoint `get`: `example:` is not valid JSON: EOF while parsing an object"],
    );
}

#[test]
fn example_inline_string_not_json() {
    let d = only_error(&edit(
        "    example: |\n      {\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}\n",
        "    example: '{\"errcode\": 0,, \"result\": {\"id\": 7}}'\n",
    ));
    assert_diag(&d, "spec/x.yaml:26", &["`example:` is not valid JSON"]);
}

#[test]
fn example_not_an_object() {
    let d = only_error(&edit(
        "    example: |\n      {\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}\n",
        "    example: |\n      [1, 2]\n\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:26",
        &["endpoint `get`: `example:` must be a JSON object (the whole response body)"],
    );
}

#[test]
fn example_with_nonzero_errcode() {
    let d = only_error(&edit("{\"errcode\": 0,", "{\"errcode\": 40014,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:26: endpoint `get`: the example has errcode 40014; use a success response (errcode 0)"
    );
}

#[test]
fn example_missing_the_at_key() {
    let d = only_error(&edit("\"result\": {\"id\"", "\"data\": {\"id\""));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:26: endpoint `get`: the response sits at `result`, but the example has no `result` key; add it or fix `at:`"
    );
}

#[test]
fn example_field_of_the_wrong_type() {
    let d = only_error(&edit("{\"id\": 7,", "{\"id\": [7],"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:26: endpoint `get`: the example does not decode into the response: at `result.id`: expected an integer, found an array"
    );
}

#[test]
fn example_nested_path_is_reported() {
    // A list of structs: the path names the element index.
    let text = edit("      type: Item\n", "      type: \"[Item]\"\n").replace(
        "\"result\": {\"id\": 7, \"name\": \"seven\"}}",
        "\"result\": [{\"id\": 7}, {\"id\": 8, \"name\": {}}]}",
    );
    let d = only_error(&text);
    assert_diag(
        &d,
        "spec/x.yaml:26",
        &["at `result[1].name`: expected a string, found an object"],
    );
}

#[test]
fn example_missing_a_required_response_field() {
    let d = only_error(&edit("{\"id\": 7, \"name\"", "{\"name\""));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:26: endpoint `get`: the example does not decode into the response: at `result.id`: required field `id` of `Item` is missing"
    );
}

#[test]
fn a_whole_answer_type_declaring_an_envelope_key() {
    // `Item` as the whole oapi answer: its `errmsg` would never be filled.
    let text = edit("    response:\n      at: result\n", "    response:\n")
        .replace("name: {type: string, doc: Item name.}", "errmsg: {type: string, doc: Text.}")
        .replace(
            "{\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}",
            "{\"errcode\": 0, \"errmsg\": \"ok\", \"id\": 7}",
        );
    let d = only_error(&text);
    assert_diag(
        &d,
        "spec/x.yaml:4",
        &[
            "type `Item`, field `errmsg`: `Item` is the whole answer of `x.get`",
            "errcode, errmsg, sub_code, sub_msg, request_id",
            "drop the field",
        ],
    );
    // Under `at:` the same type is fine: the envelope is the object around it.
    let nested = edit(
        "name: {type: string, doc: Item name.}",
        "errmsg: {type: string, doc: Text.}",
    )
    .replace("\"name\": \"seven\"", "\"errmsg\": \"inner\"");
    assert!(check(&[src("x", &nested)]).is_ok());
}

#[test]
fn example_enum_of_the_wrong_kind() {
    let text = edit("name: {type: string,", "name: {type: Color,");
    let d = only_error(&text.replace("\"name\": \"seven\"", "\"name\": true"));
    assert_diag(
        &d,
        "spec/x.yaml:26",
        &["at `result.name`: expected a string (enum `Color`: red, blue), found a boolean"],
    );
}

#[test]
fn example_written_as_yaml_is_checked_too() {
    let d = only_error(&edit(
        "    example: |\n      {\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}\n",
        "    example:\n      errcode: 0\n      result: {id: seven}\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:26",
        &["at `result.id`: expected an integer, found a string"],
    );
}

#[test]
fn param_example_of_the_wrong_type() {
    let d = only_error(&edit("example: 7}", "example: seven}"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:22: endpoint `get`, param `item_id`: `example:` does not fit its type: at `item_id`: expected an integer, found a string"
    );
}

// ---------------------------------------------------------------- enums

#[test]
fn enum_with_no_values() {
    let d = only_error(&edit(
        "    values:\n      - {value: red, doc: Red.}\n      - {value: blue, doc: Blue.}\n",
        "    values: []\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:9: enum `Color`: needs `values:`, a list of `{value: ..., doc: ...}`"
    );
}

#[test]
fn enum_of_unknown_kind() {
    let d = only_error(&edit("    enum: string\n", "    enum: str\n"));
    assert_diag(
        &d,
        "spec/x.yaml:11",
        &["enum `Color`: unknown kind `str`; write `enum: string` or `enum: integer`"],
    );
}

#[test]
fn enum_integer_value_without_name() {
    let text = edit("    enum: string\n", "    enum: integer\n")
        .replace("{value: red,", "{value: 1, name: red,")
        .replace("{value: blue,", "{value: 2,");
    let d = only_error(&text);
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:14: enum `Color`: integer value 2 needs a `name:` for its Rust variant, e.g. `name: main_admin`"
    );
}

#[test]
fn enum_integer_value_that_is_a_string() {
    let text = edit("    enum: string\n", "    enum: integer\n")
        .replace("{value: red,", "{value: 1, name: red,")
        .replace("{value: blue,", "{value: two, name: blue,");
    let d = only_error(&text);
    assert_diag(
        &d,
        "spec/x.yaml:14",
        &[
            "enum `Color`: value",
            "is not an integer; an `enum: integer` takes numbers",
        ],
    );
}

#[test]
fn enum_variant_named_unknown() {
    let d = only_error(&edit("{value: blue,", "{value: unknown,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:14: enum `Color`: the variant name `Unknown` is reserved for values not in the spec; give this value another `name:`"
    );
}

#[test]
fn enum_integer_variant_named_unknown() {
    let text = edit("    enum: string\n", "    enum: integer\n")
        .replace("{value: red,", "{value: 1, name: red,")
        .replace("{value: blue,", "{value: 0, name: unknown,");
    let d = only_error(&text);
    assert_diag(
        &d,
        "spec/x.yaml:14",
        &["the variant name `Unknown` is reserved"],
    );
}

#[test]
fn enum_two_values_one_variant() {
    let d = only_error(&edit("{value: blue,", "{value: Red,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:14: enum `Color`: two values map to the variant `Red`; give one a distinct `name:`"
    );
}

#[test]
fn enum_value_listed_twice() {
    // One mistake, one diagnostic: the fix is to delete the copy, not to rename it.
    let d = only_error(&edit("{value: blue,", "{value: red,"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:14: enum `Color`: value \"red\" is listed twice; remove one"
    );
}

#[test]
fn enum_value_with_unknown_key() {
    let d = only_error(&edit(
        "{value: blue, doc: Blue.}",
        "{value: blue, dok: Blue.}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:14",
        &["types.Color.values.#1: unknown field `dok`", "`doc`"],
    );
}

// ---------------------------------------------------------------- several at once

#[test]
fn every_mistake_in_a_file_is_reported_in_line_order() {
    let text = r#"version: 1
doc: Several mistakes.
types:
  item_info:
    doc: An item.
    fields:
      id: {type: int, required: true, doc: Id.}
endpoints:
  getItem:
    summary: Get an item.
    method: FETCH
    path: topapi/item/get
    auth: access_token
    body:
      n: {type: i64, sensitive: true, doc: N.}
    response: none
    example: {errcode: 1}
  list:
    summary: List items.
    method: GET
    path: /topapi/item/list
    auth: sso
    response: none
"#;
    let diags = errors(&[("x", text)]);
    let got: Vec<String> = diags.iter().map(ToString::to_string).collect();
    let want = [
        "spec/x.yaml:4: type name `item_info` is not UpperCamelCase; write `ItemInfo`",
        "spec/x.yaml:7: type `item_info`, field `id`: unknown type `int`; write `i64` (every integer is an i64) or `f64`",
        "spec/x.yaml:9: endpoint `getItem`: name is not snake_case; write `get_item`",
        "spec/x.yaml:11: endpoint `getItem`: unsupported method `FETCH`; write one of GET, POST, PUT, DELETE, PATCH",
        "spec/x.yaml:12: endpoint `getItem`: `path:` must start with `/`, e.g. `/topapi/v2/user/get`",
        "spec/x.yaml:15: endpoint `getItem`, body param `n`: `sensitive: true` applies to `type: string` only",
        "spec/x.yaml:17: endpoint `getItem`: the example has errcode 1; use a success response (errcode 0)",
        "spec/x.yaml:18: endpoint `list`: missing `example:`; paste one complete success response body (JSON) from the reference",
        "spec/x.yaml:22: endpoint `list`: auth `sso` does not exist on host `oapi`; write one of access_token, sso_token, sns_app_token, signed, suite_token, suite_signed, none",
    ];
    assert_eq!(got, want);
    let lines: Vec<usize> = diags.iter().map(|d| d.loc.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn mistakes_in_several_files_are_all_reported() {
    let a = edit("    method: POST\n", "    method: FETCH\n");
    let b = "version: 3\ndoc: B.\n";
    let diags = errors(&[("b", b), ("a", &a)]);
    let got: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "spec/a.yaml:18: endpoint `get`: unsupported method `FETCH`; write one of GET, POST, PUT, DELETE, PATCH",
            "spec/b.yaml:1: unsupported spec version 3; write `version: 1`",
        ]
    );
}

#[test]
fn a_bad_response_does_not_hide_other_endpoint_mistakes() {
    let text = edit("      type: Item\n", "      type: Itme\n")
        .replace("\"errmsg\": \"ok\",\n", "\"errmsg\": \"ok\",,\n");
    let diags = errors(&[("x", &text)]);
    let got: Vec<String> = diags.iter().map(|d| d.loc.to_string()).collect();
    assert_eq!(got, ["spec/x.yaml:25", "spec/x.yaml:27"], "{diags:#?}");
}

/// A spec with one union type, for the union checks.
fn union_spec(union: &str, variants: &str) -> String {
    format!(
        "version: 1\ndoc: Unions.\ntypes:\n  Body:\n    doc: A body.\n    union: {union}\n    variants:\n{variants}  Text:\n    doc: Text.\n    fields:\n      content: {{type: string, required: true, doc: Text.}}\n  Level:\n    doc: A level.\n    enum: string\n    values:\n      - {{value: high, doc: High.}}\n"
    )
}

fn union_errors(union: &str, variants: &str) -> Vec<String> {
    let files = [dingtalk_codegen::check::SourceFile {
        display: "spec/x.yaml".into(),
        stem: "x".into(),
        text: union_spec(union, variants),
    }];
    match dingtalk_codegen::check::check(&files) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn a_valid_union_passes() {
    assert_eq!(
        union_errors(
            "{tag: msgtype, content: by_tag}",
            "      - {tag: text, type: Text, doc: Text.}\n"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn union_with_unknown_content() {
    assert_eq!(
        union_errors("{tag: msgtype, content: nested}", "      - {tag: text, type: Text, doc: Text.}\n"),
        vec!["spec/x.yaml:6: union `Body`: unknown content `nested`; write `content: inline` (fields next to the tag), `content: by_tag` (fields under a key named after the tag) or `content: json_text` with `at:` (fields as JSON text under one key)"]
    );
}

#[test]
fn a_json_text_union_names_its_key() {
    let text = "      - {tag: text, type: Text, doc: Text.}\n";
    assert_eq!(
        union_errors("{tag: msgKey, content: json_text, at: msgParam}", text),
        Vec::<String>::new()
    );
    let needs_at = "spec/x.yaml:6: union `Body`: `content: json_text` needs `at:`, the key (other than the tag) whose string holds the fields, e.g. `at: msgParam`";
    assert_eq!(
        union_errors("{tag: msgKey, content: json_text}", text),
        vec![needs_at]
    );
    assert_eq!(
        union_errors("{tag: msgKey, content: json_text, at: msgKey}", text),
        vec![needs_at]
    );
    assert_eq!(
        union_errors("{tag: msgtype, content: by_tag, at: msgParam}", text),
        vec!["spec/x.yaml:6: union `Body`: `at:` goes with `content: json_text` only; remove it"]
    );
}

#[test]
fn union_variant_with_unknown_or_enum_type() {
    assert_eq!(
        union_errors("{tag: msgtype}", "      - {tag: text, type: Txt, doc: Text.}\n      - {tag: level, type: Level, doc: L.}\n"),
        vec![
            "spec/x.yaml:8: union `Body`: variant `text` has unknown type `Txt`; declare it under `types:`",
            "spec/x.yaml:9: union `Body`: variant `level` needs a struct type, but `Level` is an enum",
        ]
    );
}

#[test]
fn union_with_duplicate_tag_or_reserved_name() {
    assert_eq!(
        union_errors(
            "{tag: msgtype}",
            "      - {tag: text, type: Text, doc: Text.}\n      - {tag: text, type: Text, doc: Again.}\n      - {tag: unknown, type: Text, doc: Reserved.}\n"
        ),
        vec![
            "spec/x.yaml:9: union `Body`: tag `text` is listed twice; remove one",
            "spec/x.yaml:10: union `Body`: the variant name `Unknown` is reserved for tags not in the spec; give this variant another `name:`",
        ]
    );
}

#[test]
fn union_without_variants() {
    assert_eq!(
        union_errors("{tag: msgtype}", ""),
        vec!["spec/x.yaml:4: union `Body`: needs `variants:`, a list of `{tag: ..., type: ..., doc: ...}`"]
    );
}

fn errors_spec(rows: &str) -> Vec<String> {
    let text = format!("version: 1\ndoc: Errors.\nerrors:\n{rows}");
    let files = [dingtalk_codegen::check::SourceFile {
        display: "spec/errors.yaml".into(),
        stem: "errors".into(),
        text,
    }];
    match dingtalk_codegen::check::check(&files) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn errcode_with_unknown_class() {
    assert_eq!(
        errors_spec("  - {code: -1, name: busy, class: retry, doc: Busy.}\n"),
        vec!["spec/errors.yaml:4: errcode -1: unknown class `retry`; use one of token_invalid, rate_limited, suspended, busy, permission, invalid_argument, not_found, other"]
    );
}

#[test]
fn errcode_listed_twice_or_name_taken() {
    assert_eq!(
        errors_spec("  - {code: -1, name: busy, class: busy, doc: Busy.}\n  - {code: -1, name: busy_again, class: busy, doc: Again.}\n  - {code: 7, name: busy, class: other, doc: Seven.}\n"),
        vec![
            "spec/errors.yaml:5: errcode -1 is already listed at spec/errors.yaml:4; keep one row per code",
            "spec/errors.yaml:6: errcode 7: the name `busy` is taken; choose another",
        ]
    );
}

#[test]
fn errors_in_two_files() {
    let file = |name: &str| dingtalk_codegen::check::SourceFile {
        display: format!("spec/{name}.yaml"),
        stem: name.into(),
        text:
            "version: 1\ndoc: Errors.\nerrors:\n  - {code: 1, name: one, class: other, doc: One.}\n"
                .replace("one", name),
    };
    let errs: Vec<String> = match dingtalk_codegen::check::check(&[file("a"), file("b")]) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    };
    assert_eq!(errs, vec!["spec/b.yaml:3: `errors:` is already declared in spec/a.yaml; keep every errcode in that one file"]);
}

fn paged_spec(pagination: &str) -> Vec<String> {
    let text = format!(
        "version: 1\ndoc: Paged.\nendpoints:\n  list:\n    summary: List.\n    method: POST\n    path: /list\n    auth: access_token\n    pagination: {pagination}\n    body:\n      cursor: {{type: i64, required: true, doc: Position.}}\n      name: {{type: string, doc: Name.}}\n    response:\n      fields:\n        more: {{type: bool, doc: More.}}\n        next: {{type: i64, doc: Next.}}\n        items: {{type: \"[string]\", doc: Items.}}\n    example: '{{\"errcode\": 0}}'\n"
    );
    let files = [dingtalk_codegen::check::SourceFile {
        display: "spec/x.yaml".into(),
        stem: "x".into(),
        text,
    }];
    match dingtalk_codegen::check::check(&files) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(|d| d.to_string()).collect(),
    }
}

#[test]
fn valid_pagination_passes() {
    assert_eq!(
        paged_spec("{cursor: cursor, next: next, has_more: more, items: items}"),
        Vec::<String>::new()
    );
}

#[test]
fn pagination_naming_missing_or_mistyped_fields() {
    assert_eq!(
        paged_spec("{cursor: offset, next: more, has_more: next, items: name}"),
        vec![
            "spec/x.yaml:9: endpoint `list`, pagination: cursor `offset` is not a query or body param of this endpoint",
            "spec/x.yaml:9: endpoint `list`, pagination: has_more `next` must be a `bool`",
            "spec/x.yaml:9: endpoint `list`, pagination: items `name` is not a field of the response",
            "spec/x.yaml:9: endpoint `list`, pagination: next `more` must be an `i64`",
        ]
    );
}

#[test]
fn pagination_with_both_next_and_step() {
    assert_eq!(
        paged_spec("{cursor: cursor, next: next, step: cursor, items: items}"),
        vec!["spec/x.yaml:9: endpoint `list`, pagination: give `next` (cursor style) or `step` (offset style), not both"]
    );
}

#[test]
fn unknown_rate_limit_class() {
    let d = only_error(&edit(
        "    auth: access_token\n",
        "    auth: access_token\n    rate_limit: fast\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:21: endpoint `get`: `rate_limit:` unknown class `fast`; write basic, metered or work_notice"
    );
    let d = only_error(&edit(
        "doc: Test area.\n",
        "doc: Test area.\nrate_limit: slow\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:3: `rate_limit:` unknown class `slow`; write basic, metered or work_notice"
    );
}

/// BASE with two time params and `constraints:` (the constraint line is 21).
fn with_span(constraint: &str, from_ty: &str) -> String {
    edit(
        "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        &format!(
            "    constraints:\n      - {constraint}\n    body:\n      item_id: {{type: i64, required: true, doc: The item., example: 7}}\n      start: {{type: {from_ty}, doc: Start.}}\n      end: {{type: i64, doc: End.}}\n"
        ),
    )
}

#[test]
fn span_constraints_name_two_time_params_of_one_type() {
    assert_eq!(
        only_error(&with_span("{span: [start], max_days: 7}", "i64")).to_string(),
        "spec/x.yaml:21: endpoint `get`: `span:` names two params, the earlier and the later, e.g. `span: [start_time, end_time]`"
    );
    assert_eq!(
        only_error(&with_span("{span: [start, finish], max_days: 7}", "i64")).to_string(),
        "spec/x.yaml:21: endpoint `get`: `span:` names `finish`, which is not a query or body param of this endpoint"
    );
    assert_eq!(
        only_error(&with_span("{span: [start, end], max_days: 7}", "bool")).to_string(),
        "spec/x.yaml:21: endpoint `get`: `span:` param `start` must be a `string` (`yyyy-MM-dd HH:mm:ss`) or an `i64` (ms)"
    );
    assert_eq!(
        only_error(&with_span("{span: [start, end], max_days: 7}", "string")).to_string(),
        "spec/x.yaml:21: endpoint `get`: `span:` params `start` and `end` must have the same type"
    );
    assert_eq!(
        only_error(&with_span("{span: [start, end], max_days: 0}", "i64")).to_string(),
        "spec/x.yaml:21: endpoint `get`: `max_days:` must be at least 1"
    );
    // And a correct one passes.
    let ok = with_span("{span: [start, end], max_days: 7}", "i64");
    assert!(check(&[src("x", &ok)]).is_ok());
}

#[test]
fn flatten_needs_a_body_struct_or_union_whose_keys_do_not_clash() {
    let flat = |param: &str| {
        edit(
            "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
            &format!(
                "      item_id: {{type: i64, required: true, doc: The item., example: 7}}\n{param}"
            ),
        )
    };
    // Line 23 is the new param.
    assert_eq!(
        only_error(&flat("      more: {type: i64, flatten: true, doc: More.}\n")).to_string(),
        "spec/x.yaml:23: endpoint `get`, body param `more`: `flatten: true` needs a struct or union type declared under `types:`, without `encoding:`"
    );
    assert_eq!(
        only_error(&flat("      more: {type: Color, flatten: true, doc: More.}\n")).to_string(),
        "spec/x.yaml:23: endpoint `get`, body param `more`: `flatten: true` needs a struct or union type, and `Color` is neither"
    );
    // Item sends `id` and `name`: a sibling `name` clashes.
    let clash = flat("      more: {type: Item, flatten: true, doc: More.}\n      name: {type: string, doc: A name.}\n");
    assert_eq!(
        only_error(&clash).to_string(),
        "spec/x.yaml:24: endpoint `get`, body param `name`: the flattened `more` also sends a `name` key; rename or remove one"
    );
    let query = edit(
        "    body:\n",
        "    query:\n      more: {type: i64, flatten: true, doc: More.}\n    body:\n",
    );
    assert_eq!(
        only_error(&query).to_string(),
        "spec/x.yaml:22: endpoint `get`, query param `more`: `flatten: true` applies to body params only"
    );
    assert!(check(&[src(
        "x",
        &flat("      more: {type: Item, flatten: true, doc: More.}\n")
    )])
    .is_ok());
}

#[test]
fn reserved_area_names() {
    let d = only_error(&edit("doc: Test area.\n", "area: full\ndoc: Test area.\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:2: area name `full` is reserved (every area is a cargo feature, and `full` already is one); give the file another `area:`"
    );
}

// ---------------------------------------------------------------- reserved names

#[test]
fn reserved_area_names_rt_and_prelude() {
    for (area, why) in [
        ("rt", "the generated code writes paths starting with `rt::`"),
        (
            "prelude",
            "the generated crate already has a module `prelude`",
        ),
        (
            "conformance",
            "every area is a cargo feature, and `conformance` already is one",
        ),
        (
            "serde",
            "the generated code writes paths starting with `serde::`",
        ),
        (
            "corp",
            "`client.corp()` is already a method of the runtime's `Client`",
        ),
    ] {
        let d = only_error(&edit(
            "doc: Test area.\n",
            &format!("area: {area}\ndoc: Test area.\n"),
        ));
        assert_eq!(
            d.to_string(),
            format!(
                "spec/x.yaml:2: area name `{area}` is reserved ({why}); give the file another `area:`"
            )
        );
    }
}

#[test]
fn reserved_area_name_from_the_file_stem() {
    // Without `area:`, the stem is the area and the file's first line is the place to fix.
    let diags = errors(&[("prelude", BASE)]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/prelude.yaml:1: area name `prelude` is reserved (the generated crate already has a module `prelude`); give the file another `area:`"
    );
}

#[test]
fn type_named_like_its_areas_handle() {
    let diags = errors(&[("user", &edit("  Color:\n", "  UserApi:\n"))]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/user.yaml:9: type `UserApi` clashes with the handle of area `user` (`client.user()` returns a `UserApi`); rename the type, e.g. `UserApiInfo`"
    );
}

#[test]
fn type_named_like_another_areas_handle() {
    let user = edit("  Color:\n", "  DepartmentApi:\n");
    // Without a `department` area the name is free.
    check(&[src("user", &user)]).unwrap_or_else(|d| panic!("{d:#?}"));
    let department = "version: 1\ndoc: Departments.\n";
    let diags = errors(&[("user", &user), ("department", department)]);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        diags[0].to_string(),
        "spec/user.yaml:9: type `DepartmentApi` clashes with the handle of area `department` (`client.department()` returns a `DepartmentApi`); rename the type, e.g. `DepartmentApiInfo`"
    );
}

#[test]
fn type_named_result() {
    let d = only_error(&edit("  Color:\n", "  Result:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:9: type `Result` clashes with `Result`, a name of the Rust prelude, which the generated code uses unqualified; rename the type, e.g. `ResultInfo`"
    );
}

#[test]
fn type_named_like_a_crate_root_or_runtime_name() {
    let d = only_error(&edit("  Color:\n", "  Client:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:9: type `Client` clashes with `Client`, a name the crate exports from its root or its `api` module, which users import next to the area's types; rename the type, e.g. `ClientInfo`"
    );
    // The suggestion skips names already taken.
    let text = edit("  Color:\n", "  Wire:\n")
        .replace("  Item:\n", "  WireInfo:\n")
        .replace("type: Item", "type: WireInfo");
    let d = only_error(&text);
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:9: type `Wire` clashes with `Wire`, a runtime trait or type the generated code implements or names (`rt::Validate`, …); rename the type, e.g. `WireData`"
    );
}

#[test]
fn endpoint_named_like_the_handles_constructor() {
    let d = only_error(&edit("  get:\n", "  new:\n"));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:16: endpoint `new`: the name is taken by the handle's constructor `XApi::new`; rename the endpoint, e.g. `create`"
    );
}

#[test]
fn optional_param_named_like_a_method_of_call() {
    let text = edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n      map: {type: string, doc: A map name.}\n",
    );
    assert_eq!(
        only_error(&text).to_string(),
        "spec/x.yaml:23: endpoint `get`, body param `map`: its setter `map` clashes with the method `Call::map` (`Call` has new, map, request, into_request, into_parts, retry, timeout); make it `required: true` so it becomes an argument of the method"
    );
    // A required param is an argument, not a setter.
    let required = text.replace("map: {type: string,", "map: {type: string, required: true,");
    check(&[src("x", &required)]).unwrap_or_else(|d| panic!("{d:#?}"));
}

#[test]
fn optional_param_named_like_a_paged_calls_method() {
    let text = r#"version: 1
doc: Test area.
endpoints:
  list:
    summary: List.
    method: POST
    path: /x/list
    auth: access_token
    body:
      cursor: {type: i64, required: true, doc: Position.}
      items: {type: string, doc: Which items.}
    pagination: {cursor: cursor, next: next, items: list}
    response:
      fields:
        next: {type: i64, doc: Next position.}
        list: {type: "[i64]", doc: Ids.}
    example: '{"errcode": 0, "next": 1, "list": [1]}'
"#;
    assert_eq!(
        only_error(text).to_string(),
        "spec/x.yaml:11: endpoint `list`, body param `items`: its setter `items` clashes with the method `Call::items` (`Call` has new, map, request, into_request, into_parts, retry, timeout, pages, items); make it `required: true` so it becomes an argument of the method"
    );
    // Without `pagination:` there is no `Call::items`.
    let unpaged = text.replace(
        "    pagination: {cursor: cursor, next: next, items: list}\n",
        "",
    );
    check(&[src("x", &unpaged)]).unwrap_or_else(|d| panic!("{d:#?}"));
}

#[test]
fn optional_field_named_like_the_constructor() {
    let d = only_error(&edit(
        "      name: {type: string, doc: Item name.}\n",
        "      new: {type: bool, doc: Whether it is new.}\n",
    ));
    assert_eq!(
        d.to_string(),
        "spec/x.yaml:8: type `Item`, field `new`: its setter `new` clashes with the constructor `Item::new`; make it `required: true` if it is always present"
    );
}

#[test]
fn upload_param_named_file() {
    let text = r#"version: 1
doc: Test area.
endpoints:
  upload:
    summary: Upload.
    method: POST
    path: /x/upload
    auth: access_token
    upload: media
    query:
      file: {type: string, required: true, doc: A file name.}
    response: none
    example: '{"errcode": 0}'
"#;
    assert_eq!(
        only_error(text).to_string(),
        "spec/x.yaml:11: endpoint `upload`, query param `file`: the Rust name `file` is taken by the uploaded file (the request's field and the method's last argument); a param's Rust name follows its wire name, so drop this param or ask for a generator change"
    );
}

#[test]
fn generated_names_match_the_emitted_code() {
    // The checker reserves the names `naming` gives; the emitter must use the same ones.
    let text = edit(
        "      type: Item\n",
        "      fields: {id: {type: i64, doc: Id.}}\n",
    )
    .replace(
        "\"result\": {\"id\": 7, \"name\": \"seven\"}",
        "\"result\": {\"id\": 7}",
    );
    let files =
        dingtalk_codegen::generate_sources(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
    let module = files.get("src/api/x.rs").expect("the area's module");
    for item in [
        format!("pub struct {}<'c>", naming::handle_name("x")),
        format!("pub struct {} ", naming::request_name("x", "get")),
        format!("pub struct {} ", naming::response_name("x", "get")),
    ] {
        assert!(module.contains(&item), "`{item}` not in:\n{module}");
    }
}

#[test]
fn two_flattened_params_may_not_send_the_same_key() {
    // Item sends `id` and `name`; so does a second flattened Item (line 24).
    let text = edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n      one: {type: Item, flatten: true, doc: One.}\n      two: {type: Item, flatten: true, doc: Two.}\n",
    );
    assert_eq!(
        only_error(&text).to_string(),
        "spec/x.yaml:24: endpoint `get`, body param `two`: it and the flattened `one` both send a `id` key; keep one"
    );
}

// ---------------------------------------------------------------- docs pages

#[test]
fn docs_url_must_be_a_public_docs_page() {
    let d = only_error(&edit(
        "    method: POST\n",
        "    method: POST\n    docs_url: ../shared/dingtalk-api/contact.md\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:19",
        &[
            "endpoint `get`: `docs_url: ../shared/dingtalk-api/contact.md` is not a public docs page",
            "https://open.dingtalk.com/",
        ],
    );
    let ok = edit(
        "    method: POST\n",
        "    method: POST\n    docs_url: https://open.dingtalk.com/document/orgapp/query-user-details\n",
    );
    let spec = check(&[src("x", &ok)]).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(
        spec.areas[0].endpoints[0].docs_url.as_deref(),
        Some("https://open.dingtalk.com/document/orgapp/query-user-details")
    );
}

// ---------------------------------------------------------------- api.dingtalk.com

/// BASE moved to api.dingtalk.com: a v1.0 path, no envelope in the example.
fn api_base() -> String {
    edit("doc: Test area.\n", "doc: Test area.\nhost: api\n")
        .replace("/topapi/item/get", "/v1.0/items/query")
        .replace(
            "    response:\n      at: result\n      type: Item\n",
            "    response:\n      type: Item\n",
        )
        .replace(
            "{\"errcode\": 0, \"errmsg\": \"ok\",\n       \"result\": {\"id\": 7, \"name\": \"seven\"}}",
            "{\"id\": 7, \"name\": \"seven\"}",
        )
}

#[test]
fn api_base_is_valid_and_says_its_host() {
    let spec = check(&[src("x", &api_base())]).unwrap_or_else(|d| panic!("{d:#?}"));
    let ep = &spec.areas[0].endpoints[0];
    assert_eq!(ep.host, dingtalk_codegen::model::Host::Api);
    // PUT, PATCH and a body-less DELETE are fine there.
    for (method, body) in [("PUT", true), ("PATCH", true), ("DELETE", false)] {
        let text = api_base().replace("    method: POST\n", &format!("    method: {method}\n"));
        let text = if body {
            text
        } else {
            text.replace(
                "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
                "",
            )
        };
        let spec = check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{method}: {d:#?}"));
        assert_eq!(spec.areas[0].endpoints[0].json_body(), body, "{method}");
    }
}

#[test]
fn unknown_host() {
    let d = only_error(&edit("doc: Test area.\n", "doc: Test area.\nhost: v1\n"));
    assert_diag(
        &d,
        "spec/x.yaml:3",
        &["`host:` `v1` is not a host; write `oapi` (oapi.dingtalk.com) or `api` (api.dingtalk.com)"],
    );
}

#[test]
fn an_auth_kind_of_the_other_host() {
    let d = only_error(&api_base().replace("auth: access_token", "auth: suite_token"));
    assert_diag(
        &d,
        "spec/x.yaml:21",
        &["auth `suite_token` does not exist on host `api`; write one of access_token, user_token, none"],
    );
    let d = only_error(&edit("auth: access_token", "auth: user_token"));
    assert_diag(
        &d,
        "spec/x.yaml:20",
        &["auth `user_token` does not exist on host `oapi`"],
    );
}

#[test]
fn a_user_token_call_takes_as_user_itself() {
    let text = api_base().replace("auth: access_token", "auth: user_token").replace(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n      as_user: {type: string, doc: Clashes.}\n",
    );
    let d = only_error(&text);
    assert_diag(
        &d,
        "spec/x.yaml:24",
        &[
            "`as_user` is the generated argument naming the user",
            "rename param `as_user`",
        ],
    );
}

#[test]
fn headers_are_scalars_and_idempotency_keys_optional_strings() {
    let with_header = |h: &str| {
        api_base().replace(
            "    response:\n      type: Item\n",
            &format!("    headers:\n      {h}\n    response:\n      type: Item\n"),
        )
    };
    let spec = check(&[src(
        "x",
        &with_header(
            "x-client-token: {type: string, idempotency_key: true, doc: Idempotency key.}",
        ),
    )])
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let ep = &spec.areas[0].endpoints[0];
    assert!(ep.headers[0].idempotency_key);
    assert_eq!(ep.headers[0].field.rust, "x_client_token");
    let d = only_error(&with_header(
        "x-client-token: {type: i64, idempotency_key: true, doc: Idempotency key.}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:25",
        &["an idempotency key is an optional `string`"],
    );
    let d = only_error(&with_header("x-extra: {type: Item, doc: An object.}"));
    assert_diag(
        &d,
        "spec/x.yaml:25",
        &["header `x-extra`: a query or path param or a header must be a scalar"],
    );
    let d = only_error(&edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, idempotency_key: true, doc: The item., example: 7}\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:22",
        &["`idempotency_key: true` applies to headers only"],
    );
}

#[test]
fn v1_codes_in_the_error_table() {
    assert_eq!(
        errors_spec("  - {code: InvalidAuthentication, name: invalid_authentication, class: token_invalid, doc: Bad token.}\n  - {code: 40014, name: invalid_access_token, class: token_invalid, doc: Bad token.}\n"),
        Vec::<String>::new()
    );
    assert_eq!(
        errors_spec("  - {code: \"40014\", name: invalid_access_token, class: token_invalid, doc: Bad token.}\n"),
        vec!["spec/errors.yaml:4: code `40014`: an errcode is a number; write `code: 40014` without quotes"]
    );
    assert_eq!(
        errors_spec("  - {code: Bad.Code, name: a, class: other, doc: A.}\n  - {code: Bad.Code, name: b, class: other, doc: B.}\n"),
        vec!["spec/errors.yaml:5: code `Bad.Code` is already listed at spec/errors.yaml:4; keep one row per code"]
    );
    assert_eq!(
        errors_spec("  - {code: \"has space\", name: a, class: other, doc: A.}\n"),
        vec!["spec/errors.yaml:4: `code:` is an errcode (a number, oapi) or a v1.0 code (a word such as `InvalidAuthentication`, api.dingtalk.com)"]
    );
}

#[test]
fn a_string_cursor_needs_next() {
    let paged = |pagination: &str| {
        api_base()
            .replace("    method: POST\n", "    method: GET\n")
            .replace(
                "    body:\n      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
                &format!("    query:\n      nextToken: {{type: string, doc: Cursor.}}\n    pagination: {pagination}\n"),
            )
            .replace(
                "    response:\n      type: Item\n",
                "    response:\n      fields:\n        nextToken: {type: string, doc: Next.}\n        list: {type: \"[Item]\", doc: Items.}\n",
            )
            .replace("{\"id\": 7, \"name\": \"seven\"}", "{\"nextToken\": \"n\", \"list\": []}")
    };
    check(&[src(
        "x",
        &paged("{cursor: nextToken, next: nextToken, items: list}"),
    )])
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let d = only_error(&paged("{cursor: nextToken, items: list}"));
    assert_diag(
        &d,
        "spec/x.yaml:24",
        &["cursor `nextToken` must be an `i64` param, or a `string` one (a `nextToken`) with `next`"],
    );
}

// ---------------------------------------------------------------- a type's own example and `sent:`

#[test]
fn a_type_example_that_decodes_is_kept_and_shown() {
    let text = edit(
        "      name: {type: string, doc: Item name.}\n",
        "      name: {type: string, doc: Item name.}\n    example: '{\"id\": \"8\", \"name\": \"eight\"}'\n",
    );
    let spec = check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(
        spec.types["Item"].example,
        Some(serde_json::json!({"id": "8", "name": "eight"}))
    );
}

#[test]
fn a_type_example_that_does_not_decode() {
    // Line 9: the example, right after Item's fields.
    let d = only_error(&edit(
        "      name: {type: string, doc: Item name.}\n",
        "      name: {type: string, doc: Item name.}\n    example: {name: eight}\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:9",
        &["type `Item`: the example does not decode into it", "`id`"],
    );
}

#[test]
fn a_type_example_that_is_not_json() {
    let d = only_error(&edit(
        "      name: {type: string, doc: Item name.}\n",
        "      name: {type: string, doc: Item name.}\n    example: '{\"id\": 8,'\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:9",
        &["type `Item`: `example:` is not valid JSON"],
    );
}

#[test]
fn a_type_declared_sent_is_built_like_a_param_type() {
    // `Item` is only an answer in BASE; `Answer` is built by the app and carries an `Item`.
    let text = edit(
        "  Color:\n",
        "  Answer:\n    doc: A callback's answer.\n    sent: true\n    fields:\n      item: {type: Item, doc: The item.}\n  Color:\n",
    );
    let spec = check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(spec.types["Answer"].sent);
    assert!(
        spec.types["Item"].sent,
        "what a sent type contains is sent too"
    );
    let base = check(&[src("x", BASE)]).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(!base.types["Item"].sent);
}

/// A valid token endpoint; the `issues_*` tests change one line of it. `issues:` is line 16.
const TOKEN: &str = r#"version: 1
doc: Tokens.
endpoints:
  get_token:
    summary: Get a token.
    method: GET
    path: /gettoken
    auth: none
    query:
      appkey: {type: string, required: true, doc: Key.}
      appsecret: {type: string, required: true, sensitive: true, doc: Secret.}
    response:
      fields:
        access_token: {type: string, required: true, sensitive: true, doc: Token.}
        expires_in: {type: i64, doc: Lifetime.}
    issues:
      token: app
      from: {appkey: app_key, appsecret: app_secret}
      answer: {token: access_token, expires_in: expires_in}
    example: '{"errcode": 0, "access_token": "t", "expires_in": 7200}'
"#;

fn token_edit(from: &str, to: &str) -> String {
    assert_eq!(TOKEN.matches(from).count(), 1, "`{from}` must occur once");
    TOKEN.replacen(from, to, 1)
}

#[test]
fn issues_describe_a_token_endpoint() {
    let spec = check(&[src("x", TOKEN)]).unwrap_or_else(|d| panic!("{d:#?}"));
    let issues = &spec.areas[0].endpoints[0].issues;
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].kind.variant, "App");
    let filled: Vec<(&str, &str)> = issues[0]
        .params
        .iter()
        .map(|(name, _, source)| match source {
            dingtalk_codegen::model::TokenSource::Credential(c) => (name.as_str(), c.variant),
            dingtalk_codegen::model::TokenSource::Value(_) => (name.as_str(), "?"),
        })
        .collect();
    assert_eq!(filled, [("appkey", "AppKey"), ("appsecret", "AppSecret")]);
    assert_eq!(issues[0].token.as_deref(), Some("access_token"));
}

#[test]
fn issues_with_an_unknown_token_kind() {
    let d = only_error(&token_edit("token: app", "token: apps"));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &[
            "`issues: {token: apps}` names no token",
            "app, sso, sns_app",
        ],
    );
}

#[test]
fn issues_with_an_unknown_credential() {
    let d = only_error(&token_edit("appkey: app_key,", "appkey: appkey,"));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &[
            "`issues.from.appkey: appkey` names no credential",
            "app_key, app_secret",
            "{value: text}",
        ],
    );
}

#[test]
fn issues_filling_a_param_the_endpoint_lacks_and_missing_a_required_one() {
    let diags = errors(&[("x", &token_edit("appkey: app_key,", "app_key: app_key,"))]);
    let texts: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        texts,
        [
            "spec/x.yaml:16: endpoint `get_token`: `issues.from` fills `app_key`, which is not a query or body param of the endpoint; declare it or remove it",
            "spec/x.yaml:16: endpoint `get_token`: required param `appkey` is not filled by `issues.from`; add `appkey: <credential>`",
        ]
    );
}

#[test]
fn issues_naming_an_answer_field_the_example_lacks() {
    let d = only_error(&token_edit(
        "answer: {token: access_token,",
        "answer: {token: accessToken,",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &["`issues.answer.token: accessToken` is not a field of the example answer"],
    );
}

#[test]
fn issues_without_the_token_field_or_a_users_refresh_token() {
    let d = only_error(&token_edit(
        "answer: {token: access_token, expires_in: expires_in}",
        "answer: {expires_in: expires_in}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &["`issues.answer.token` names the answer field"],
    );
    let d = only_error(&token_edit("token: app", "token: user_refresh"));
    assert_diag(&d, "spec/x.yaml:16", &["names the refresh token's field"]);
}

#[test]
fn issues_on_an_endpoint_that_needs_a_token_itself() {
    let d = only_error(&token_edit("auth: none", "auth: access_token"));
    assert_diag(
        &d,
        "spec/x.yaml:16",
        &["a token endpoint is called with `auth: none`, `suite_token` or `suite_signed`, not `access_token`"],
    );
}

#[test]
fn issues_with_a_stale_ticket_code_no_table_declares() {
    let d = only_error(&token_edit(
        "answer: {token: access_token, expires_in: expires_in}",
        "answer: {token: access_token, expires_in: expires_in}\n      stale_ticket: [40078]",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:4",
        &["`issues.stale_ticket` lists `40078`, which no `errors:` table declares"],
    );
}

#[test]
fn issues_with_a_fixed_value_and_several_forms() {
    let text = token_edit(
        "    issues:\n      token: app\n      from: {appkey: app_key, appsecret: app_secret}\n      answer: {token: access_token, expires_in: expires_in}\n",
        "    issues:\n      - token: app\n        from: {appkey: app_key, appsecret: app_secret}\n        answer: {token: access_token}\n      - token: sns_app\n        from: {appkey: {value: fixed}, appsecret: sns_app_secret}\n        answer: {token: access_token}\n",
    );
    let spec = check(&[src("x", &text)]).unwrap_or_else(|d| panic!("{d:#?}"));
    let issues = &spec.areas[0].endpoints[0].issues;
    assert_eq!(issues.len(), 2);
    assert_eq!(
        issues[1].params[0].2,
        dingtalk_codegen::model::TokenSource::Value("fixed".into())
    );
}

#[test]
fn whole_body_beside_other_body_params_or_on_a_scalar() {
    let d = only_error(&edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n      items: {type: \"[i64]\", required: true, whole_body: true, doc: Items.}\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:23",
        &["a `whole_body` param is the entire body, so it is the only body param"],
    );
    let d = only_error(&edit(
        "      item_id: {type: i64, required: true, doc: The item., example: 7}\n",
        "      item_id: {type: i64, required: true, whole_body: true, doc: The item., example: 7}\n",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:22",
        &["a `whole_body` param is required, of a list, map or named type"],
    );
}

#[test]
fn whole_body_outside_the_body() {
    let d = only_error(&edit(
        "      id: {type: i64, required: true, doc: Item id.}",
        "      id: {type: i64, required: true, whole_body: true, doc: Item id.}",
    ));
    assert_diag(
        &d,
        "spec/x.yaml:7",
        &["`whole_body: true` applies to body params only"],
    );
}
