//! Host double of `src/params.rs`: the getters of the module parameters that the handler's
//! `ModuleParams` reads, returning C's defaults. The tests do not use them (their interfaces
//! read `TestParams`, which each test sets); they only let `KcsInterface` compile.

/// `max_users`.
pub(crate) fn ripmi_param_max_users() -> u32 {
    30
}

/// `max_msgs_per_user`.
pub(crate) fn ripmi_param_max_msgs_per_user() -> u32 {
    100
}

/// `poll_max_busy_us`.
pub(crate) fn ripmi_param_poll_max_busy_us() -> u32 {
    0
}

/// `default_retry_ms`.
pub(crate) fn ripmi_param_default_retry_ms() -> u64 {
    2000
}

/// `default_max_retries`.
pub(crate) fn ripmi_param_default_max_retries() -> u32 {
    4
}

/// `default_maintenance_retry_ms`.
pub(crate) fn ripmi_param_default_maintenance_retry_ms() -> u64 {
    3000
}

/// `maintenance_mode_timeout_ms`.
pub(crate) fn ripmi_param_maintenance_mode_timeout_ms() -> u64 {
    30000
}
