//! The JSAPI (`dd.config`) signature for a web page, with the ticket cached like a token.

use std::future::Future;

use dingtalk::prelude::*;
use dingtalk::sign::{jsapi_signature, JsapiHash};
use dingtalk::{Client, Error};

/// What a page passes to `dd.config` (plus its own `agentId` and `corpId`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsapiConfig {
    /// The page URL that was signed (without `#fragment`).
    pub url: String,
    /// `nonceStr`.
    pub nonce: String,
    /// `timeStamp`, milliseconds.
    pub timestamp: String,
    /// `signature`, lowercase hex.
    pub signature: String,
}

/// Signing web pages for DingTalk's JSAPI.
pub trait Jsapi {
    /// Signs `url` for `dd.config`: fetches the JSAPI ticket (`/get_jsapi_ticket`) on first use,
    /// caches it like a token (refreshed before its 7200 s run out), and signs with a fresh
    /// nonce and timestamp. `hash` picks SHA-1 (the long-standing form) or SHA-256.
    fn jsapi_config(
        &self,
        url: &str,
        hash: JsapiHash,
    ) -> impl Future<Output = Result<JsapiConfig, Error>> + Send;
}

impl Jsapi for Client {
    async fn jsapi_config(&self, url: &str, hash: JsapiHash) -> Result<JsapiConfig, Error> {
        let ticket = self
            .jsapi_ticket(|| async {
                let answer = self.auth().get_jsapi_ticket().r#type("jsapi").await?;
                Ok((answer.ticket, answer.expires_in))
            })
            .await?;
        let nonce = dingtalk::store::random_id();
        let timestamp = dingtalk::store::now_ms().to_string();
        let url = url.split('#').next().unwrap_or(url).to_string();
        let signature = jsapi_signature(ticket.expose_secret(), &nonce, &timestamp, &url, hash);
        Ok(JsapiConfig {
            url,
            nonce,
            timestamp,
            signature,
        })
    }
}
