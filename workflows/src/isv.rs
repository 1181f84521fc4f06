//! ISV suites: keeping the suite ticket of a `suite_ticket` push, and the old authorisation
//! flow for a `tmp_auth_code` push.

use std::future::Future;

use dingtalk::api::callback::{EventSuiteTicket, EventTmpAuthCode};
use dingtalk::prelude::*;
use dingtalk::{Client, Error, SecretString};

/// An organisation that authorised the suite, from [`Isv::accept_authorization`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Authorization {
    /// The organisation's CorpId.
    pub corp_id: String,
    /// Its name, when DingTalk gave it.
    pub corp_name: Option<String>,
    /// The permanent authorisation code: store it, the temporary code cannot be traded again.
    pub permanent_code: SecretString,
    /// The organisation's client, its token fetched with the permanent code.
    pub client: Client,
    /// Whether `activate_suite` succeeded. On failure, call it again with the permanent code
    /// above; nothing else is lost.
    pub activation: Result<(), Error>,
}

/// What an ISV suite's client does with the pushes DingTalk sends it.
pub trait Isv {
    /// Keeps the ticket of a `suite_ticket` push (see [`Client::set_suite_ticket`]); says
    /// whether it was kept (an older push than the stored ticket's is not).
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk::Client, event: dingtalk::api::callback::Event) -> Result<(), dingtalk::Error> {
    /// use dingtalk_workflows::Isv;
    /// if let dingtalk::api::callback::Event::SuiteTicket(push) = &event {
    ///     client.accept_suite_ticket(push).await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// A push without a ticket, or for another suite, is an [`Error::Config`] and keeps nothing.
    fn accept_suite_ticket(
        &self,
        push: &EventSuiteTicket,
    ) -> impl Future<Output = Result<bool, Error>> + Send;

    /// The old ISV authorisation flow in one call, for a `tmp_auth_code` push: trades the
    /// single-use code for the organisation's permanent code (`get_permanent_code`), activates
    /// the suite there (`activate_suite`), and returns the organisation's client.
    ///
    /// The permanent code is returned even when the activation fails (see
    /// [`Authorization::activation`]), since the temporary code is spent by then.
    fn accept_authorization(
        &self,
        push: &EventTmpAuthCode,
    ) -> impl Future<Output = Result<Authorization, Error>> + Send;
}

impl Isv for Client {
    async fn accept_suite_ticket(&self, push: &EventSuiteTicket) -> Result<bool, Error> {
        let Some(ticket) = &push.suite_ticket else {
            return Err(Error::Config(
                "the suite_ticket push carries no SuiteTicket".into(),
            ));
        };
        suite_key_for(self, push.suite_key.as_deref())?;
        // A push without a timestamp is taken as current.
        let pushed_at = push.time_stamp.unwrap_or_else(dingtalk::store::now_ms);
        self.set_suite_ticket(ticket.clone(), pushed_at).await
    }

    async fn accept_authorization(&self, push: &EventTmpAuthCode) -> Result<Authorization, Error> {
        let Some(code) = &push.auth_code else {
            return Err(Error::Config(
                "the tmp_auth_code push carries no AuthCode".into(),
            ));
        };
        let suite_key = suite_key_for(self, push.suite_key.as_deref())?;
        let answer = self.auth().get_permanent_code(code.clone()).await?;
        let (corp_id, corp_name) = answer
            .auth_corp_info
            .map_or((None, None), |c| (c.corpid, c.corp_name));
        let Some(corp_id) = corp_id.filter(|id| !id.is_empty()) else {
            return Err(Error::Decode {
                endpoint: "auth.get_permanent_code".into(),
                message: "the answer names no organisation (`auth_corp_info.corpid`)".into(),
                snippet: String::new(),
            });
        };
        let permanent_code = answer.permanent_code;
        let activation = self
            .auth()
            .activate_suite(suite_key, corp_id.as_str(), permanent_code.clone())
            .await
            .map(|_| ());
        let client = self.corp_with_permanent_code(&corp_id, permanent_code.clone())?;
        Ok(Authorization {
            corp_id,
            corp_name,
            permanent_code,
            client,
            activation,
        })
    }
}

/// The client's suite key, checked against the key a push names.
fn suite_key_for(client: &Client, pushed: Option<&str>) -> Result<String, Error> {
    let Some(ours) = client.suite_key() else {
        return Err(Error::Config(
            "this needs an ISV suite: configure `suite` on the client builder".into(),
        ));
    };
    match pushed {
        Some(theirs) if theirs != ours => Err(Error::Config(format!(
            "a push for suite `{theirs}` was given to the client of suite `{ours}`"
        ))),
        _ => Ok(ours.to_string()),
    }
}
