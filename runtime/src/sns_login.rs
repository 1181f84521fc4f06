//! The first step of third-party (SNS) login: the DingTalk page the user is sent to. DingTalk
//! sends the user back to `redirect_uri` with `code` and `state`; the `sns` endpoints take it
//! from there (`get_user_info_by_code`, or `get_persistent_code` → `get_sns_token` →
//! `get_user_info`).

use crate::{Client, Error};

/// Which DingTalk login page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnsLoginPage {
    /// `connect/oauth2/sns_authorize`: the account-and-password page (also inside DingTalk).
    Authorize,
    /// `connect/qrconnect`: a QR code to scan with the DingTalk app.
    QrCode,
}

impl Client {
    /// The URL of DingTalk's login page for the SNS app configured with
    /// [`ClientBuilder::sns_app`](crate::ClientBuilder::sns_app). `state` comes back unchanged
    /// with the code: bind it to the user's session to refuse forged answers.
    pub fn sns_login_url(
        &self,
        page: SnsLoginPage,
        redirect_uri: &str,
        state: &str,
    ) -> Result<String, Error> {
        let Some((app_id, _)) = &self.inner.sns else {
            return Err(Error::Config(
                "a login URL needs the SNS app: configure `sns_app` on the client builder".into(),
            ));
        };
        let path = match page {
            SnsLoginPage::Authorize => "/connect/oauth2/sns_authorize",
            SnsLoginPage::QrCode => "/connect/qrconnect",
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("appid", app_id)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_login")
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri)
            .finish();
        Ok(format!("{}{path}?{query}", self.inner.base_url))
    }
}

#[cfg(test)]
mod tests {
    use super::SnsLoginPage;

    #[test]
    fn the_login_url_carries_the_app_and_the_encoded_redirect() {
        let client = crate::ClientBuilder::new(crate::grant::NO_TOKEN_ENDPOINTS)
            .sns_app("dingoa123", "secret")
            .build()
            .expect("client");
        let url = client
            .sns_login_url(
                SnsLoginPage::QrCode,
                "https://example.com/cb?x=1&y=2",
                "s 1",
            )
            .expect("url");
        assert_eq!(
            url,
            "https://oapi.dingtalk.com/connect/qrconnect?appid=dingoa123&response_type=code&scope=snsapi_login&state=s+1&redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Fx%3D1%26y%3D2"
        );
        assert!(!url.contains("secret"));
        let page = client
            .sns_login_url(SnsLoginPage::Authorize, "https://example.com/cb", "s")
            .expect("url");
        assert!(page.starts_with(
            "https://oapi.dingtalk.com/connect/oauth2/sns_authorize?appid=dingoa123&"
        ));
        let without = crate::ClientBuilder::new(crate::grant::NO_TOKEN_ENDPOINTS)
            .build()
            .expect("client");
        assert!(matches!(
            without.sns_login_url(SnsLoginPage::QrCode, "https://e", "s"),
            Err(crate::Error::Config(_))
        ));
    }
}
