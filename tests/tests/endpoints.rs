//! Every endpoint in spec/, called through the typed client against the local stand-in. The
//! endpoint list comes from the spec (via the generated conformance module), so a new endpoint
//! is covered without new test code.

use dingtalk::api::conformance;
use dingtalk_tests::compare::{example_payload, same};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::StandIn;

#[tokio::test]
async fn every_endpoint_round_trips_its_example() {
    let spec = load_spec();
    let standin = StandIn::start(&spec).await.expect("bind the stand-in");
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .sso_secret("dingcorp", "sso-secret")
        .sns_app("dingoasnsapp", dingtalk_tests::standin::SNS_SECRET)
        .suite("suitexxxxxxxx", dingtalk_tests::standin::SUITE_SECRET)
        .base_url(standin.base_url())
        .build()
        .expect("client");
    // ISV endpoints need the ticket DingTalk pushed.
    let pushed_at = dingtalk_tests::now_ms();
    client
        .set_suite_ticket("pushed-ticket", pushed_at)
        .await
        .expect("keep the suite ticket");
    // User-token endpoints act for a signed-in user.
    client
        .sign_in_user(conformance::USER, "example-auth-code")
        .await
        .expect("sign the conformance user in");

    let mut failures = Vec::new();
    let mut checked = 0;
    for area in &spec.areas {
        for ep in &area.endpoints {
            let key = format!("{}.{}", area.name, ep.name);
            standin.clear_seen();
            let result = match conformance::call(&client, &key).await {
                Some(r) => r,
                None => {
                    failures.push(format!(
                        "{key}: not in the generated conformance module (regenerate)"
                    ));
                    continue;
                }
            };
            checked += 1;
            // What the stand-in saw: exactly one request to this endpoint, nothing it objected to.
            let seen = standin.seen();
            let calls: Vec<_> = seen
                .iter()
                .filter(|s| s.endpoint.as_deref() == Some(key.as_str()))
                .collect();
            if calls.len() != 1 {
                failures.push(format!(
                    "{key}: the stand-in saw {} requests for it: {seen:?}",
                    calls.len()
                ));
            }
            for s in &seen {
                for v in &s.violations {
                    failures.push(format!("{key}: {v}"));
                }
            }
            match result {
                Err(e) => failures.push(format!("{key}: call failed: {e}")),
                Ok(actual) => {
                    if ep.response.is_file() && actual != ep.example {
                        failures.push(format!(
                            "{key}: downloaded {actual}, the example is {}",
                            ep.example
                        ));
                    }
                    if let Some(ty) = ep.response.ty() {
                        if let Err(diff) =
                            same(&spec, ty, None, &example_payload(ep), &actual, &key)
                        {
                            failures.push(format!("{key}: {diff}"));
                        }
                    }
                }
            }
        }
    }
    assert_eq!(
        checked,
        conformance::ENDPOINTS.len(),
        "the spec and the generated conformance list disagree; regenerate"
    );
    assert!(checked > 0);
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
