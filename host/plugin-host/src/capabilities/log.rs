//! `log`: a plugin's lines go to the portal's log, tagged with the plugin, and to
//! the call's sink (a template task's live log). Bounded per call, so a plugin
//! cannot flood either.

use super::HostState;
use crate::LogLevel;

const MAX_LINE_BYTES: usize = 8 * 1024;
const MAX_LINES_PER_CALL: u32 = 2_000;

pub(crate) fn log(state: &mut HostState, level: LogLevel, message: &str) {
    state.call.log_lines += 1;
    if state.call.log_lines > MAX_LINES_PER_CALL {
        if state.call.log_lines == MAX_LINES_PER_CALL + 1 {
            tracing::warn!(plugin = %state.plugin.name, "log limit of {MAX_LINES_PER_CALL} lines per call reached; dropping the rest");
        }
        return;
    }
    let message = truncate(message, MAX_LINE_BYTES);
    let plugin = state.plugin.name.as_str();
    match level {
        LogLevel::Trace => tracing::trace!(target: "plugin", plugin, "{message}"),
        LogLevel::Debug => tracing::debug!(target: "plugin", plugin, "{message}"),
        LogLevel::Info => tracing::info!(target: "plugin", plugin, "{message}"),
        LogLevel::Warn => tracing::warn!(target: "plugin", plugin, "{message}"),
        LogLevel::Error => tracing::error!(target: "plugin", plugin, "{message}"),
    }
    if let Some(sink) = &state.call.log_sink {
        sink(level, message);
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
