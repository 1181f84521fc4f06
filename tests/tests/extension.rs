//! A crate generated from a spec folder of its own (`generator/tests/golden/basic`, built as
//! the workspace member `dingtalk-golden-basic`, which depends on the runtime alone) calls its
//! endpoints on the same `Client` as the `dingtalk` crate: one token, one refresh, one limiter.

use dingtalk::prelude::*;
use dingtalk_golden_basic::prelude::*;
use dingtalk_tests::client_for;
use dingtalk_tests::standin::StandIn;

/// `spec/` and the fixture's spec folder, validated together for a stand-in that serves both.
/// The fixture's own errcode table is left out: one spec declares errcodes once, and the
/// stand-in needs only the endpoints.
fn both_specs() -> dingtalk_codegen::model::Spec {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["spec", "generator/tests/golden/basic/spec"] {
        match dingtalk_codegen::check::read_dir(&root.join(dir)) {
            Ok(f) => files.extend(f),
            Err(d) => panic!("{dir} does not load: {d:?}"),
        }
    }
    for f in files.iter_mut().filter(|f| f.stem == "golden_basic") {
        if let Some(at) = f.text.find("\nerrors:") {
            f.text.truncate(at + 1);
        }
    }
    match dingtalk_codegen::check::check(&files) {
        Ok(spec) => spec,
        Err(d) => panic!("the two spec folders do not validate together: {d:?}"),
    }
}

#[tokio::test]
async fn an_extension_crates_endpoints_share_the_clients_token() {
    let standin = StandIn::start(&both_specs()).await.expect("stand-in");
    let client = client_for(&standin.base_url());

    let widget = client.golden_basic().get(7).await.expect("extension call");
    assert_eq!(widget.id, 7);
    let user = client
        .user()
        .get("manager4220")
        .await
        .expect("dingtalk call");
    assert_eq!(user.userid, "manager4220");
    let created = client.golden_basic().create("w").await;
    assert!(created.is_ok(), "{created:?}");
    assert_eq!(standin.token_requests(), 1, "one token for both crates");
    assert_eq!(standin.business_requests(), 3);
    let paths: Vec<String> = standin.seen().into_iter().map(|s| s.path).collect();
    assert!(paths.contains(&"/widget/get".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"/topapi/v2/user/get".to_string()),
        "{paths:?}"
    );

    // A token rejected on an extension endpoint is refreshed once (its own error table says
    // 40014 is `token_invalid`), and the dingtalk crate's next call uses the new token.
    standin.revoke_tokens();
    standin.clear_seen();
    client.golden_basic().get(7).await.expect("refreshed");
    client
        .user()
        .get("manager4220")
        .await
        .expect("same new token");
    assert_eq!(standin.token_requests(), 1, "one refresh for both crates");
    assert_eq!(
        standin.business_requests(),
        3,
        "rejected, repeated, then the dingtalk call"
    );
    let tokens = standin.tokens_used();
    let last_two: Vec<&String> = tokens.iter().rev().take(2).collect();
    assert_eq!(
        last_two[0], last_two[1],
        "both crates carried the refreshed token: {tokens:?}"
    );
}

#[test]
fn each_crate_classifies_errcodes_with_its_own_table() {
    use dingtalk::runtime::Endpoint;
    use dingtalk::ErrorClass;
    let extension = dingtalk_golden_basic::api::golden_basic::GoldenBasicGetRequest::META;
    let main = dingtalk::api::user::UserGetRequest::META;
    assert_eq!(
        (extension.classify)(&dingtalk::ApiCode::Errcode(40014)),
        ErrorClass::TokenInvalid
    );
    assert_eq!(
        (main.classify)(&dingtalk::ApiCode::Errcode(40014)),
        ErrorClass::TokenInvalid
    );
    // 60011 is only in the dingtalk crate's table.
    assert_eq!(
        (main.classify)(&dingtalk::ApiCode::Errcode(60011)),
        ErrorClass::Permission
    );
    assert_eq!(
        (extension.classify)(&dingtalk::ApiCode::Errcode(60011)),
        ErrorClass::Other
    );
}
