//! ISV suites: keeping the suite ticket of a decoded `suite_ticket` push.

use crate::api::callback::EventSuiteTicket;
use crate::{Client, Error};

impl Client {
    /// Keeps the ticket of a `suite_ticket` push (see [`Client::set_suite_ticket`]); says
    /// whether it was kept (an older push than the stored ticket's is not).
    ///
    /// ```no_run
    /// # async fn run(client: dingtalk::Client, event: dingtalk::api::callback::Event) -> Result<(), dingtalk::Error> {
    /// if let dingtalk::api::callback::Event::SuiteTicket(push) = &event {
    ///     client.accept_suite_ticket(push).await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// A push without a ticket, or for another suite, is an [`Error::Config`] and keeps nothing.
    pub async fn accept_suite_ticket(&self, push: &EventSuiteTicket) -> Result<bool, Error> {
        let Some(ticket) = &push.suite_ticket else {
            return Err(Error::Config(
                "the suite_ticket push carries no SuiteTicket".into(),
            ));
        };
        let ours = self.inner.suite.as_ref().map(|s| s.key.as_str());
        if let (Some(theirs), Some(ours)) = (push.suite_key.as_deref(), ours) {
            if theirs != ours {
                return Err(Error::Config(format!(
                    "a suite ticket for suite `{theirs}` was given to the client of suite `{ours}`"
                )));
            }
        }
        // A push without a timestamp is taken as current.
        let pushed_at = push
            .time_stamp
            .unwrap_or_else(crate::runtime::store::now_ms);
        self.set_suite_ticket(ticket.clone(), pushed_at).await
    }
}
