//! The runtime's decoder and the generator's example check agree on DingTalk's odd spellings.
//!
//! Each case is a declared field type (and encoding); each input is JSON for that field. The
//! runtime side decodes the input through the same `dingtalk_runtime::wire` function generated
//! code uses for such a field; the generator side checks a one-field spec whose example carries
//! the input. Both must give the documented answer (the rules in `dingtalk-wire`).

use std::collections::BTreeMap;

use dingtalk::api::attendance::AttendanceCheckType as StringEnum;
use dingtalk::api::chat::ChatStatus as IntegerEnum;
use dingtalk::runtime::wire::{self, Scalar, Wire};
use dingtalk_codegen::check::{check, SourceFile};
use serde_json::Value;

/// Decodes a field's JSON the way the generated field does; `true` when it decodes.
type Decode = fn(Value) -> bool;

fn plain<T: Wire>(v: Value) -> bool {
    wire::de::<_, T>(v).is_ok()
}

fn comma<T: Scalar + Wire>(v: Value) -> bool {
    wire::comma::de::<_, T>(v).is_ok()
}

fn pipe<T: Scalar + Wire>(v: Value) -> bool {
    wire::pipe::de::<_, T>(v).is_ok()
}

fn json_text<T: Wire>(v: Value) -> bool {
    wire::json_text::de::<_, T>(v).is_ok()
}

fn loose_map<V: Scalar + Wire + Ord>(v: Value) -> bool {
    wire::loose_map::de::<_, i64, V>(v).is_ok()
}

struct Case {
    /// The spec type of the field.
    ty: &'static str,
    encoding: Option<&'static str>,
    required: bool,
    /// The runtime's decoder for such a field.
    decode: Decode,
    /// Inputs both sides accept.
    accept: &'static [&'static str],
    /// Inputs both sides reject.
    reject: &'static [&'static str],
    /// Inputs the runtime decodes (into a catch-all) that the check refuses on purpose.
    lint: &'static [&'static str],
}

const fn case(ty: &'static str, required: bool, decode: Decode) -> Case {
    Case {
        ty,
        encoding: None,
        required,
        decode,
        accept: &[],
        reject: &[],
        lint: &[],
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            accept: &[
                "7",
                "-7",
                "\"7\"",
                "\" 42 \"",
                "\"+7\"",
                "1.0",
                "-3.0",
                "1e3",
                "176318668975061512",
                "\"176318668975061512\"",
                "9223372036854775807",
            ],
            reject: &[
                "1.5",
                "\"1.0\"",
                "\"\"",
                "\"seven\"",
                "true",
                "null",
                "9223372036854775808",
                "9007199254740992.0",
                "[7]",
                "{}",
            ],
            ..case("i64", true, plain::<i64>)
        },
        Case {
            accept: &["null", "7", "\"7\"", "1.0"],
            reject: &["\"\"", "\"1.0\"", "false"],
            ..case("i64", false, plain::<Option<i64>>)
        },
        Case {
            accept: &["1.5", "7", "-1e3", "\"1.5\"", "\" 2 \"", "\"1e3\""],
            reject: &["\"NaN\"", "\"inf\"", "\"\"", "true", "null", "[1.5]"],
            ..case("f64", true, plain::<f64>)
        },
        Case {
            accept: &[
                "true",
                "false",
                "\"true\"",
                "\"True\"",
                "\"TRUE\"",
                "\"False\"",
                "\"1\"",
                "\"0\"",
                "\" false \"",
                "1",
                "0",
            ],
            reject: &[
                "\"yes\"", "\"tRuE\"", "\"\"", "2", "-1", "1.0", "null", "[true]",
            ],
            ..case("bool", true, plain::<bool>)
        },
        Case {
            accept: &["\"x\"", "\"\"", "7", "-7", "1.5", "1.0", "true"],
            reject: &["null", "[]", "{}"],
            ..case("string", true, plain::<String>)
        },
        Case {
            accept: &["[1, \"2\", 3.0]", "[]", "null", "7", "\"7\"", "1.0"],
            reject: &["[1.5]", "[null]", "\"1,2\"", "{\"a\": 1}", "true"],
            ..case("[i64]", true, plain::<Vec<i64>>)
        },
        Case {
            accept: &["1.5", "[1.5, \"2\"]", "\"2.5\""],
            reject: &["true", "[\"x\"]"],
            ..case("[f64]", true, plain::<Vec<f64>>)
        },
        Case {
            accept: &["\"True\"", "[1, \"0\", \"FALSE\"]", "true"],
            reject: &["\"yes\"", "[2]"],
            ..case("[bool]", true, plain::<Vec<bool>>)
        },
        Case {
            accept: &["[[1, \"2\"], [3]]", "[null]", "[7]", "[]"],
            reject: &["[[1.5]]", "[[\"x\"]]"],
            ..case("[[i64]]", true, plain::<Vec<Vec<i64>>>)
        },
        Case {
            encoding: Some("comma"),
            accept: &[
                "\"2,3, 4\"",
                "\"\"",
                "\" , \"",
                "\"7\"",
                "[5, \"6\"]",
                "7",
                "1.0",
                "null",
            ],
            reject: &["\"1,x\"", "\"1.5\"", "\"1,2.0\"", "true", "[1.5]", "{}"],
            ..case("[i64]", true, comma::<i64>)
        },
        Case {
            encoding: Some("comma"),
            accept: &["\"true,False,1\"", "true", "[\"TRUE\", 0]"],
            reject: &["\"true,yes\"", "2", "1.0"],
            ..case("[bool]", true, comma::<bool>)
        },
        Case {
            encoding: Some("pipe"),
            accept: &["\"a|b\"", "\"a,b\"", "\"\"", "true", "1.5", "[\"a\", 1]"],
            reject: &["{}", "[[\"a\"]]", "[null]"],
            ..case("[string]", true, pipe::<String>)
        },
        Case {
            accept: &["\"x\"", "\"unknown\"", "7", "1.5"],
            reject: &["null", "{}", "[]"],
            lint: &["true"],
            ..case("Shade", true, plain::<StringEnum>)
        },
        Case {
            accept: &["1", "\"1\"", "\" 2 \"", "1.0", "99"],
            reject: &["\"x\"", "1.5", "\"1.0\"", "true", "null"],
            ..case("Level", true, plain::<IntegerEnum>)
        },
        Case {
            encoding: Some("comma"),
            accept: &["\"1, 2\"", "[1, \"2\"]"],
            reject: &["\"1,x\"", "\"1.0\""],
            ..case("[Level]", true, comma::<IntegerEnum>)
        },
        Case {
            accept: &["{\"1\": 5, \" 2 \": \"6\"}", "{}", "null"],
            reject: &["\"{1:1}\"", "{\"a\": 1}", "{\"1\": 1.5}", "[1]"],
            ..case("map<i64, i64>", true, plain::<BTreeMap<i64, i64>>)
        },
        Case {
            encoding: Some("loose_map"),
            accept: &[
                "\"{1:false, 2:True}\"",
                "\"{\\\"1\\\": \\\"1\\\"}\"",
                "\"{}\"",
                "\"\"",
                "\"{1:true,}\"",
                "{\"1\": true, \"2\": \"0\"}",
                "null",
            ],
            reject: &[
                "\"1:1\"",
                "\"{1}\"",
                "\"{x:true}\"",
                "\"{1:yes}\"",
                "\"{1:2}\"",
                "{\"x\": true}",
                "7",
            ],
            ..case("map<i64, bool>", true, loose_map::<bool>)
        },
        Case {
            encoding: Some("loose_map"),
            accept: &["\"{1:1,2:30}\"", "\"{ 1 : \\\" 7 \\\" }\""],
            reject: &["\"{1:1.0}\"", "\"{1:}\""],
            ..case("map<i64, i64>", true, loose_map::<i64>)
        },
        Case {
            encoding: Some("json_text"),
            accept: &[
                "\"[1, 2]\"",
                "\"\"",
                "\"  \"",
                "[1]",
                "\"7\"",
                "\"[\\\"1\\\"]\"",
            ],
            reject: &["\"{not json\"", "\"[1.5]\"", "\"[true]\""],
            ..case("[i64]", true, json_text::<Vec<i64>>)
        },
        Case {
            encoding: Some("json_text"),
            accept: &["\"7\"", "7", "\"\\\"7\\\"\""],
            reject: &["\"\"", "\"x\"", "\"1.5\"", "null"],
            ..case("i64", true, json_text::<i64>)
        },
        Case {
            encoding: Some("json_text"),
            accept: &["\"\"", "\"7\"", "null", "\"null\""],
            reject: &["\"true\"", "\"{\""],
            ..case("i64", false, json_text::<Option<i64>>)
        },
    ]
}

/// A spec with one endpoint whose response is a struct with the field `v` of `case`'s type and
/// whose example sets `v` to `input`.
fn spec(case: &Case, input: &str) -> String {
    let encoding = case
        .encoding
        .map(|e| format!(", encoding: {e}"))
        .unwrap_or_default();
    format!(
        r#"version: 1
doc: Leniency probe.
types:
  Probe:
    doc: One field.
    fields:
      v: {{type: "{ty}", required: {required}{encoding}, doc: The value.}}
  Shade:
    doc: A string enum.
    enum: string
    values:
      - {{value: red, doc: Red.}}
  Level:
    doc: An integer enum.
    enum: integer
    values:
      - {{value: 1, name: low, doc: Low.}}
endpoints:
  get:
    summary: Get the probe.
    method: POST
    path: /topapi/probe/get
    auth: access_token
    response:
      at: result
      type: Probe
    example: |
      {{"errcode": 0, "errmsg": "ok", "result": {{"v": {input}}}}}
"#,
        ty = case.ty,
        required = case.required,
    )
}

/// Whether the generator's check accepts the example; other diagnostics fail the test.
fn generator_accepts(case: &Case, input: &str) -> Result<bool, String> {
    let file = SourceFile {
        display: "spec/probe.yaml".into(),
        stem: "probe".into(),
        text: spec(case, input),
    };
    match check(&[file]) {
        Ok(_) => Ok(true),
        Err(diags) => {
            let decode: Vec<_> = diags
                .iter()
                .filter(|d| d.message.contains("the example does not decode"))
                .collect();
            if decode.len() == diags.len() {
                Ok(false)
            } else {
                Err(format!("the probe spec itself is wrong: {diags:#?}"))
            }
        }
    }
}

#[test]
fn runtime_and_generator_agree_on_odd_inputs() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let what = format!(
            "`{}`{}{}",
            case.ty,
            case.encoding.map(|e| format!(" ({e})")).unwrap_or_default(),
            if case.required { "" } else { " optional" },
        );
        let inputs = case
            .accept
            .iter()
            .map(|i| (i, true, true))
            .chain(case.reject.iter().map(|i| (i, false, false)))
            .chain(case.lint.iter().map(|i| (i, true, false)));
        for (input, runtime_want, generator_want) in inputs {
            checked += 1;
            let value: Value = match serde_json::from_str(input) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{what}: {input} is not JSON: {e}"));
                    continue;
                }
            };
            let runtime = (case.decode)(value);
            if runtime != runtime_want {
                problems.push(format!(
                    "{what}: the runtime {} {input}",
                    if runtime { "accepts" } else { "rejects" }
                ));
            }
            match generator_accepts(&case, input) {
                Ok(generator) if generator != generator_want => problems.push(format!(
                    "{what}: the generator's example check {} {input}",
                    if generator { "accepts" } else { "rejects" }
                )),
                Ok(_) => {}
                Err(e) => problems.push(format!("{what}, {input}: {e}")),
            }
        }
    }
    assert!(checked > 100, "only {checked} inputs");
    assert!(
        problems.is_empty(),
        "{} disagreement(s) with the rules:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
