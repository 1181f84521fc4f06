//! The names generated code uses, in one place (`use crate::runtime::codegen as rt;`).

pub use crate::runtime::files::{Download, UploadFile};
pub use crate::runtime::paginate::{paginate, paginate_items, Stream};
pub use crate::runtime::request::{
    check_max_len, check_range, check_span, encode_path_segment, Auth, Endpoint, EndpointMeta,
    InvalidRequest, Method, Moment, Query, RateClass, Validate,
};
pub use crate::runtime::wire::{drop_shadowed_aliases, join, json_text, Empty, Scalar, Wire};
