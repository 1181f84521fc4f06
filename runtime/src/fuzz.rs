//! Property tests: arbitrary bytes and strings fed to response decoding, wire decoding and the
//! callback cipher never panic, and a length field never drives a large allocation.

use proptest::prelude::*;

use crate::callback::CallbackCrypto;
use crate::request::{Auth, EndpointMeta, Method};
use crate::transport::decode;

const META: EndpointMeta = EndpointMeta {
    rate_class: crate::request::RateClass::Metered,
    secret_response: false,
    area: "user",
    name: "get",
    host: crate::request::Host::Oapi,
    method: Method::Post,
    json_body: true,
    path: "/topapi/v2/user/get",
    auth: Auth::AccessToken,
    payload_at: Some("result"),
    idempotent: true,
    binary: false,
    classify: crate::error::unclassified,
};

/// A record with the field kinds generated types have (the generated crate fuzzes its own).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Record {
    #[serde(default, deserialize_with = "crate::wire::de")]
    userid: Option<String>,
    #[serde(default, deserialize_with = "crate::wire::de")]
    dept_id_list: Vec<i64>,
    #[serde(default, deserialize_with = "crate::wire::de")]
    active: Option<bool>,
}

impl crate::wire::Wire for Record {
    fn wire<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <Self as serde::Deserialize>::deserialize(d)
    }
}

fn crypto() -> CallbackCrypto {
    match CallbackCrypto::new(
        "123456",
        "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
        "suite4xxxxxxxxxxxxxxx",
    ) {
        Ok(c) => c,
        Err(e) => panic!("the sample key is valid: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn response_decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode::<Record>(&body, &META, None);
        let _ = decode::<Vec<Record>>(&body, &META, None);
        let _ = decode::<serde_json::Value>(&body, &META, None);
    }

    #[test]
    fn json_shaped_bodies_decode_or_fail_cleanly(
        code in prop_oneof![Just("0".to_string()), Just("\"0\"".to_string()), any::<i64>().prop_map(|c| c.to_string())],
        value in "[a-z0-9\\[\\]{}\":, .-]{0,64}",
    ) {
        let body = format!(r#"{{"errcode":{code},"result":{{"userid":{value}}}}}"#);
        let _ = decode::<Record>(body.as_bytes(), &META, None);
    }

    #[test]
    fn callback_decryption_never_panics(
        signature in "[0-9a-f]{0,40}",
        timestamp in "[0-9]{0,14}",
        nonce in "[a-zA-Z0-9]{0,8}",
        encrypt in "[A-Za-z0-9+/=]{0,256}",
    ) {
        let c = crypto();
        // Signed correctly, so the cipher itself (base64, blocks, padding, length) is exercised.
        let good = c.signature(&timestamp, &nonce, &encrypt);
        let _ = c.verify_and_decrypt_at(&good, &timestamp, &nonce, &encrypt, timestamp.parse().unwrap_or(0));
        let _ = c.verify_and_decrypt_at(&signature, &timestamp, &nonce, &encrypt, 0);
    }

    #[test]
    fn callback_round_trips_any_text(text in any::<String>()) {
        let c = crypto();
        let encrypt = c.encrypt(&text).unwrap_or_default();
        let sig = c.signature("1445827045067", "n", &encrypt);
        let back = c.verify_and_decrypt_at(&sig, "1445827045067", "n", &encrypt, 1_445_827_045_067);
        prop_assert_eq!(back.ok(), Some(text));
    }

    #[test]
    fn loose_maps_and_lists_never_panic(text in any::<String>()) {
        let _ = crate::wire::loose_map::parse::<i64, i64>(&text);
        let _ = crate::wire::loose_map::parse::<String, bool>(&text);
        let json = serde_json::json!({"ids": text});
        #[derive(serde::Deserialize)]
        struct Ids {
            #[serde(deserialize_with = "crate::wire::comma::de")]
            #[allow(dead_code)]
            ids: Vec<i64>,
        }
        let _ = serde_json::from_value::<Ids>(json);
    }
}
