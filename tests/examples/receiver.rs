//! Receives DingTalk callback pushes on localhost and prints each typed event.
//!
//! ```sh
//! DINGTALK_CALLBACK_TOKEN=... DINGTALK_AES_KEY=... DINGTALK_OWNER_KEY=dingcorpid \
//!     cargo run -p dingtalk-tests --example receiver
//! ```
//!
//! Without the variables it uses DingTalk's published sample token, key and suite key, so the
//! sample push from the docs can be replayed against it. Listens on 127.0.0.1:8080 (or `PORT`).

use dingtalk::api::callback::Event;
use dingtalk::callback::{receiver, CallbackCrypto, CryptoError};

/// The published sample registration (the callback crypto page's first test vector).
const SAMPLE: (&str, &str, &str) = (
    "123456",
    "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
    "suite4xxxxxxxxxxxxxxx",
);

/// The receiving app: verifies, decrypts, prints, and acknowledges every push.
pub fn app(crypto: CallbackCrypto) -> axum::Router {
    receiver::router(crypto, |event| async move {
        match &event {
            Event::UserAddOrg(e) => println!("users joined: {:?}", e.user_id),
            Event::CheckUrl(_) => println!("DingTalk is checking this URL"),
            Event::Unknown { tag, raw } => {
                println!("an event this spec does not know: {tag} {raw}")
            }
            other => println!("{} event", other.tag()),
        }
        Ok(())
    })
}

/// The cipher from the environment, or the sample registration.
pub fn crypto_from_env() -> Result<CallbackCrypto, CryptoError> {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    CallbackCrypto::new(
        &var("DINGTALK_CALLBACK_TOKEN", SAMPLE.0),
        &var("DINGTALK_AES_KEY", SAMPLE.1),
        &var("DINGTALK_OWNER_KEY", SAMPLE.2),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "receiving callback pushes on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app(crypto_from_env()?)).await?;
    Ok(())
}
