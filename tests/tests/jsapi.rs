//! The `dd.config` signature: the ticket is fetched once and cached, and the signature is the
//! one a page would compute from the same ticket, nonce, timestamp and URL.

use dingtalk::runtime::sign::{jsapi_signature, JsapiHash};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::StandIn;
use dingtalk_workflows::Jsapi;

#[tokio::test]
async fn the_ticket_is_cached_and_the_signature_verifies() {
    let spec = load_spec();
    let ticket = spec
        .areas
        .iter()
        .flat_map(|a| &a.endpoints)
        .find(|e| e.path == "/get_jsapi_ticket")
        .and_then(|e| e.example["ticket"].as_str().map(str::to_string))
        .expect("the spec's ticket example");
    let standin = StandIn::start(&spec).await.expect("bind");
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(standin.base_url())
        .build()
        .expect("client");
    let page = "https://app.example.com/page?x=1#/home";
    let a = client
        .jsapi_config(page, JsapiHash::Sha1)
        .await
        .expect("config");
    let b = client
        .jsapi_config(page, JsapiHash::Sha256)
        .await
        .expect("config");
    assert_eq!(a.url, "https://app.example.com/page?x=1");
    assert_eq!(
        a.signature,
        jsapi_signature(&ticket, &a.nonce, &a.timestamp, &a.url, JsapiHash::Sha1)
    );
    assert_eq!(
        b.signature,
        jsapi_signature(&ticket, &b.nonce, &b.timestamp, &b.url, JsapiHash::Sha256)
    );
    assert_eq!((a.signature.len(), b.signature.len()), (40, 64));
    assert_ne!(a.nonce, b.nonce);
    let ticket_calls = standin
        .seen()
        .iter()
        .filter(|s| s.path == "/get_jsapi_ticket")
        .count();
    assert_eq!(ticket_calls, 1, "the ticket is cached");
    assert_eq!(
        standin
            .seen()
            .iter()
            .find(|s| s.path == "/get_jsapi_ticket")
            .and_then(|s| s.query.get("type").cloned())
            .as_deref(),
        Some("jsapi")
    );
}
