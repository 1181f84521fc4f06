//! Sends a robot message to a user and reads an approval (a process instance): the two calls on
//! api.dingtalk.com most integrations start with, on one client and one app token.
//!
//! ```sh
//! # against the local stand-in, which answers with the spec's examples
//! cargo run -p dingtalk-tests --example robot_and_approval
//! # against DingTalk
//! DINGTALK_APP_KEY=ding... DINGTALK_APP_SECRET=... DINGTALK_ROBOT_CODE=ding... \
//!   DINGTALK_USER_ID=manager4220 DINGTALK_PROCESS_INSTANCE_ID=... \
//!   cargo run -p dingtalk-tests --example robot_and_approval
//! ```
//!
//! The app needs the robot's permission (`qyapi_robot_sendmsg`) and the approval read
//! permission (`Workflow.Instance.Read`); see
//! <https://open.dingtalk.com/document/orgapp/chatbots-send-one-on-one-chat-messages-in-batches>
//! and <https://open.dingtalk.com/document/orgapp/obtains-the-details-of-a-single-approval-instance-pop>.

use dingtalk::api::robot::{RobotMessage, RobotSampleMarkdown};
use dingtalk::prelude::*;
use dingtalk::Client;

/// What the example needs to know.
struct Target {
    robot_code: String,
    user_id: String,
    process_instance_id: String,
}

/// The two calls.
async fn run(client: &Client, target: &Target) -> Result<(), dingtalk::Error> {
    let message = RobotMessage::SampleMarkdown(RobotSampleMarkdown::new(
        "Approval update",
        "## Your request was read\nThe approval below is being processed.",
    ));
    let sent = client
        .robot()
        .batch_send_oto(&target.robot_code, vec![target.user_id.clone()], message)
        .await?;
    println!(
        "robot message sent (processQueryKey {}); not delivered to {:?}",
        sent.process_query_key, sent.invalid_staff_id_list
    );

    let instance = client
        .workflow()
        .get_process_instance(&target.process_instance_id)
        .await?;
    println!(
        "approval {:?}: status {:?}, result {:?}, started by {:?} at {:?}",
        instance.title,
        instance.status,
        instance.result,
        instance.originator_user_id,
        instance.create_time
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok();
    if let (Some(key), Some(secret)) = (env("DINGTALK_APP_KEY"), env("DINGTALK_APP_SECRET")) {
        let (Some(robot_code), Some(user_id), Some(process_instance_id)) = (
            env("DINGTALK_ROBOT_CODE"),
            env("DINGTALK_USER_ID"),
            env("DINGTALK_PROCESS_INSTANCE_ID"),
        ) else {
            return Err(
                "set DINGTALK_ROBOT_CODE, DINGTALK_USER_ID and DINGTALK_PROCESS_INSTANCE_ID too"
                    .into(),
            );
        };
        let client = dingtalk::client().app_key(key, secret).build()?;
        let target = Target {
            robot_code,
            user_id,
            process_instance_id,
        };
        run(&client, &target).await?;
        return Ok(());
    }

    let standin = dingtalk_tests::standin::StandIn::start(&dingtalk_tests::load_spec()).await?;
    let client = dingtalk::client()
        .app_key("dingexampleapp", "example-secret")
        .base_url(standin.base_url())
        .build()?;
    let target = Target {
        robot_code: "dingexamplerobot".into(),
        user_id: "manager4220".into(),
        process_instance_id: "a171de6c-8bab-4d0b-a3b5-ae5f2d8a3f0c".into(),
    };
    run(&client, &target).await?;
    let seen = standin.seen();
    let problems: Vec<&String> = seen.iter().flat_map(|s| &s.violations).collect();
    if !problems.is_empty() {
        return Err(
            format!("the stand-in saw requests DingTalk would refuse: {problems:?}").into(),
        );
    }
    println!(
        "against the stand-in: {} requests ({} for the token)",
        seen.len(),
        standin.token_requests()
    );
    Ok(())
}
