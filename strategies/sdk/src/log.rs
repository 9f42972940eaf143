//! Messages from the strategy to the user, shown by the host with the
//! strategy's name. Natively they go to standard error.

pub use crate::bindings::nasbox::strategy::log::Level;

/// Emit one message at `level`.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::nasbox::strategy::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    if matches!(level, Level::Warn | Level::Error) || std::env::var_os("NASBOX_SDK_LOG").is_some() {
        eprintln!("[{level:?}] {message}");
    }
}

/// Details useful when debugging a strategy.
pub fn debug(message: &str) {
    log(Level::Debug, message)
}

/// Normal progress.
pub fn info(message: &str) {
    log(Level::Info, message)
}

/// Something looks wrong but the strategy carries on.
pub fn warn(message: &str) {
    log(Level::Warn, message)
}
