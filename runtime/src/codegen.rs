//! The names generated code uses, in one place (`use ::dingtalk_runtime::codegen as rt;`).

pub use crate::callback::{CallbackEvent, MalformedEvent};
pub use crate::decode;
pub use crate::files::{Download, UploadFile};
pub use crate::grant;
pub use crate::paginate::{paginate, paginate_items, Stream};
pub use crate::request::{
    check_max_len, check_range, check_span, encode_path_segment, Auth, Endpoint, EndpointMeta,
    Headers, Host, InvalidRequest, Method, Moment, Query, RateClass, Validate,
};
pub use crate::store::random_id;
pub use crate::wire::{join, json_text, Empty, Scalar, Wire};
pub use crate::{
    ApiCode, ApiError, CallOptions, Client, Error, ErrorClass, RetryPolicy, SecretString,
};

/// The future of a sent call (`Call`'s `IntoFuture`).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
