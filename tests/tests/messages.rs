//! Message bodies (message.md §7): every message type built with the typed constructors and
//! setters serializes to exactly the reference's wire shape and decodes back to the same value;
//! unknown message types survive a round trip; the field limits are checked client-side.

use dingtalk::api::message::{
    Message, MessageActionCard, MessageActionCardButton, MessageBtnOrientation, MessageFile,
    MessageImage, MessageLink, MessageMarkdown, MessageOa, MessageOaBody, MessageOaForm,
    MessageOaHead, MessageOaRich, MessageOaStatusBar, MessageText, MessageVoice,
};
use dingtalk::runtime::request::Validate;
use dingtalk::InvalidRequest;
use serde_json::{json, Value};

/// Serializes `msg`, compares it with the reference shape, then decodes the shape back.
fn assert_wire(msg: Message, expected: Value) {
    let value = serde_json::to_value(&msg).expect("serialize");
    assert_eq!(value, expected);
    let back: Message = serde_json::from_value(expected).expect("deserialize");
    assert_eq!(back, msg);
}

#[test]
fn text() {
    assert_wire(
        Message::Text(MessageText::new("月会通知")),
        json!({"msgtype": "text", "text": {"content": "月会通知"}}),
    );
}

#[test]
fn image() {
    assert_wire(
        Message::Image(MessageImage::new("@lADOADmaWMzazQKA")),
        json!({"msgtype": "image", "image": {"media_id": "@lADOADmaWMzazQKA"}}),
    );
}

#[test]
fn voice() {
    assert_wire(
        Message::Voice(MessageVoice::new("@lATOADmaWM4C2Y4", "10")),
        json!({"msgtype": "voice", "voice": {"media_id": "@lATOADmaWM4C2Y4", "duration": "10"}}),
    );
}

#[test]
fn file() {
    assert_wire(
        Message::File(MessageFile::new("@lAJOADmaWM4C2Y4")),
        json!({"msgtype": "file", "file": {"media_id": "@lAJOADmaWM4C2Y4"}}),
    );
}

#[test]
fn link() {
    assert_wire(
        Message::Link(MessageLink::new(
            "https://www.dingtalk.com",
            "@lALOACZwe2Rk",
            "测试",
            "测试链接消息",
        )),
        json!({"msgtype": "link", "link": {
            "messageUrl": "https://www.dingtalk.com",
            "picUrl": "@lALOACZwe2Rk",
            "title": "测试",
            "text": "测试链接消息"
        }}),
    );
}

#[test]
fn oa() {
    let body = MessageOaBody::new()
        .title("正文标题")
        .form(vec![
            MessageOaForm::new().key("姓名:").value("张三"),
            MessageOaForm::new().key("年龄:").value("20"),
        ])
        .rich(MessageOaRich::new().num("15.6").unit("元"))
        .content("大段文本大段文本")
        .image("@lADOADmaWMzazQKA")
        .file_count("3")
        .author("李四 ");
    let oa = MessageOa::new(
        "https://www.dingtalk.com",
        MessageOaHead::new("FFBBBBBB", "头部标题"),
        body,
    )
    .pc_message_url("dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fwww.dingtalk.com")
    .status_bar(
        MessageOaStatusBar::new()
            .status_value("进行中")
            .status_bg("0xFFF65E5E"),
    );
    assert_wire(
        Message::Oa(oa),
        json!({"msgtype": "oa", "oa": {
            "message_url": "https://www.dingtalk.com",
            "pc_message_url": "dingtalk://dingtalkclient/page/link?url=https%3A%2F%2Fwww.dingtalk.com",
            "head": {"bgcolor": "FFBBBBBB", "text": "头部标题"},
            "status_bar": {"status_value": "进行中", "status_bg": "0xFFF65E5E"},
            "body": {
                "title": "正文标题",
                "form": [
                    {"key": "姓名:", "value": "张三"},
                    {"key": "年龄:", "value": "20"}
                ],
                "rich": {"num": "15.6", "unit": "元"},
                "content": "大段文本大段文本",
                "image": "@lADOADmaWMzazQKA",
                "file_count": "3",
                "author": "李四 "
            }
        }}),
    );
}

#[test]
fn oa_minimal_omits_optional_fields() {
    assert_wire(
        Message::Oa(MessageOa::new(
            "https://www.dingtalk.com",
            MessageOaHead::new("FFBBBBBB", "头部标题"),
            MessageOaBody::new(),
        )),
        json!({"msgtype": "oa", "oa": {
            "message_url": "https://www.dingtalk.com",
            "head": {"bgcolor": "FFBBBBBB", "text": "头部标题"},
            "body": {}
        }}),
    );
}

#[test]
fn markdown() {
    assert_wire(
        Message::Markdown(MessageMarkdown::new(
            "首屏会话透出的展示内容",
            "# 这是支持markdown的文本 \n## 标题2",
        )),
        json!({"msgtype": "markdown", "markdown": {
            "title": "首屏会话透出的展示内容",
            "text": "# 这是支持markdown的文本 \n## 标题2"
        }}),
    );
}

#[test]
fn action_card_single_button() {
    let card = MessageActionCard::new("支持markdown格式的正文内容")
        .title("是透出到会话列表和通知的文案")
        .single_title("查看详情")
        .single_url("https://open.dingtalk.com");
    assert_wire(
        Message::ActionCard(card),
        json!({"msgtype": "action_card", "action_card": {
            "title": "是透出到会话列表和通知的文案",
            "markdown": "支持markdown格式的正文内容",
            "single_title": "查看详情",
            "single_url": "https://open.dingtalk.com"
        }}),
    );
}

#[test]
fn action_card_multi_button() {
    let card = MessageActionCard::new("支持markdown格式的正文内容")
        .title("是透出到会话列表和通知的文案")
        .btn_orientation(MessageBtnOrientation::Horizontal)
        .btn_json_list(vec![
            MessageActionCardButton::new()
                .title("一个按钮")
                .action_url("https://www.taobao.com"),
            MessageActionCardButton::new()
                .title("两个按钮")
                .action_url("https://www.tmall.com"),
        ]);
    assert_wire(
        Message::ActionCard(card),
        json!({"msgtype": "action_card", "action_card": {
            "title": "是透出到会话列表和通知的文案",
            "markdown": "支持markdown格式的正文内容",
            "btn_orientation": "1",
            "btn_json_list": [
                {"title": "一个按钮", "action_url": "https://www.taobao.com"},
                {"title": "两个按钮", "action_url": "https://www.tmall.com"}
            ]
        }}),
    );
}

#[test]
fn action_card_vertical_orientation_is_zero() {
    let card = MessageActionCard::new("正文")
        .btn_orientation(MessageBtnOrientation::Vertical)
        .btn_json_list(vec![MessageActionCardButton::new()
            .title("按钮")
            .action_url("https://www.dingtalk.com")]);
    assert_wire(
        Message::ActionCard(card),
        json!({"msgtype": "action_card", "action_card": {
            "markdown": "正文",
            "btn_orientation": "0",
            "btn_json_list": [{"title": "按钮", "action_url": "https://www.dingtalk.com"}]
        }}),
    );
}

#[test]
fn unknown_msgtype_is_kept_raw_and_reserialized_unchanged() {
    let raw = json!({"msgtype": "sticker", "sticker": {"id": 1}});
    let msg: Message = serde_json::from_value(raw.clone()).expect("deserialize");
    assert_eq!(
        msg,
        Message::Unknown {
            tag: "sticker".to_string(),
            raw: raw.clone()
        }
    );
    assert_eq!(msg.tag(), "sticker");
    assert_eq!(serde_json::to_value(&msg).expect("serialize"), raw);
    assert_eq!(Validate::validate(&msg), Ok(()));
}

// Limits. String limits count characters, not bytes: the texts below are CJK (3 bytes each).

#[test]
fn string_max_len_at_boundary_is_ok() {
    let msg = Message::Text(MessageText::new("字".repeat(5000)));
    assert_eq!(Validate::validate(&msg), Ok(()));
}

#[test]
fn string_max_len_past_boundary_is_too_long() {
    let msg = Message::Text(MessageText::new("字".repeat(5001)));
    assert_eq!(
        Validate::validate(&msg),
        Err(InvalidRequest::TooLong {
            field: "content",
            len: 5001,
            max: 5000
        })
    );
}

fn oa_with_form_rows(rows: usize) -> Message {
    let form = (0..rows)
        .map(|i| MessageOaForm::new().key(format!("第{i}项:")).value("值"))
        .collect();
    Message::Oa(MessageOa::new(
        "https://www.dingtalk.com",
        MessageOaHead::new("FFBBBBBB", "头部标题"),
        MessageOaBody::new().form(form),
    ))
}

#[test]
fn list_max_len_at_boundary_is_ok() {
    assert_eq!(Validate::validate(&oa_with_form_rows(6)), Ok(()));
}

#[test]
fn list_max_len_past_boundary_is_too_long() {
    assert_eq!(
        Validate::validate(&oa_with_form_rows(7)),
        Err(InvalidRequest::TooLong {
            field: "form",
            len: 7,
            max: 6
        })
    );
}

#[test]
#[allow(deprecated)] // the legacy endpoint is the one with a flat message
fn the_legacy_send_carries_its_message_flat_next_to_the_recipients() {
    use dingtalk::api::message::MessageLegacySendRequest;
    use dingtalk::prelude::*;
    use dingtalk::Endpoint;
    // A request is built through its call, and taken out to be sent (or inspected) by hand.
    let client = dingtalk::client().build().expect("client");
    let request: MessageLegacySendRequest = client
        .message()
        .legacy_send(2476262581, Message::Text(MessageText::new("月会通知")))
        .touser(vec!["manager4220".into(), "zhangsan01".into()])
        .into_request();
    assert_eq!(
        serde_json::to_value(&request).expect("serialize"),
        json!({
            "touser": "manager4220|zhangsan01",
            "agentid": 2476262581i64,
            "msgtype": "text",
            "text": {"content": "月会通知"}
        })
    );
    // Limits inside the flattened message are still checked.
    let long = MessageLegacySendRequest::new(
        1,
        Message::Oa(match oa_with_form_rows(7) {
            Message::Oa(oa) => oa,
            _ => unreachable!("built as an OA message"),
        }),
    );
    assert!(matches!(
        long.validate(),
        Err(InvalidRequest::TooLong { field: "form", .. })
    ));
}
