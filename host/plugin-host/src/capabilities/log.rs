//! `log`: a plugin's lines go to the portal's log, tagged with the plugin, and to
//! the call's sink (a template task's live log).
//!
//! A plugin's message is a field of a structured event (`message_text`), written
//! with its control characters escaped (newlines, carriage returns, ESC, the
//! other C0 and C1 controls, U+2028/U+2029, quotes), so it can never start a
//! line of its own or forge another event. Volume is bounded twice: per call
//! (2,000 lines) and per plugin over a window (`plugins.quotas.log_*`): beyond
//! the quota, lines are dropped, and when the window ends one line says how many.

use super::{HostState, PluginContext};
use crate::LogLevel;
use std::time::{Duration, Instant};

const MAX_LINE_BYTES: usize = 8 * 1024;
const MAX_LINES_PER_CALL: u32 = 2_000;

/// One plugin's log use in the current window.
#[derive(Debug)]
pub(crate) struct LogWindow {
    started: Instant,
    pub lines: u64,
    pub bytes: u64,
    /// Dropped in this window (reported when it ends).
    pub dropped: u64,
    /// Dropped since the plugin was loaded (its status).
    pub dropped_total: u64,
}

impl Default for LogWindow {
    fn default() -> Self {
        LogWindow {
            started: Instant::now(),
            lines: 0,
            bytes: 0,
            dropped: 0,
            dropped_total: 0,
        }
    }
}

impl LogWindow {
    /// Starts a new window if this one is over, reporting what it dropped.
    fn roll(&mut self, plugin: &str, window: Duration, now: Instant) {
        if now.duration_since(self.started) < window {
            return;
        }
        if self.dropped > 0 {
            let dropped = self.dropped;
            tracing::warn!(
                target: "plugin",
                plugin,
                dropped,
                "{dropped} lines dropped: plugin `{plugin}` went over its log quota in the last {} s",
                window.as_secs()
            );
        }
        self.started = now;
        self.lines = 0;
        self.bytes = 0;
        self.dropped = 0;
    }

    /// Counts a line of `bytes` against the quota; false when it must be dropped.
    fn admit(&mut self, bytes: u64, max_lines: u64, max_bytes: u64) -> bool {
        if self.lines >= max_lines || self.bytes.saturating_add(bytes) > max_bytes {
            self.dropped += 1;
            self.dropped_total += 1;
            return false;
        }
        self.lines += 1;
        self.bytes += bytes;
        true
    }
}

fn window_length(plugin: &PluginContext) -> Duration {
    Duration::from_secs(plugin.quotas.log_window_seconds.max(1))
}

/// Ends the plugin's log window if it is over (at the start of each call, so
/// the summary of dropped lines comes even when the plugin logs no more).
pub(crate) fn roll_window(plugin: &PluginContext) {
    let mut window = plugin.usage.log.lock().unwrap_or_else(|e| e.into_inner());
    window.roll(&plugin.name, window_length(plugin), Instant::now());
}

pub(crate) fn log(state: &mut HostState, level: LogLevel, message: &str) {
    state.call.log_lines += 1;
    if state.call.log_lines > MAX_LINES_PER_CALL {
        if state.call.log_lines == MAX_LINES_PER_CALL + 1 {
            tracing::warn!(plugin = %state.plugin.name, "log limit of {MAX_LINES_PER_CALL} lines per call reached; dropping the rest");
        }
        return;
    }
    let message = truncate(message, MAX_LINE_BYTES);
    let plugin = &*state.plugin;
    {
        let quotas = &plugin.quotas;
        let mut window = plugin.usage.log.lock().unwrap_or_else(|e| e.into_inner());
        window.roll(&plugin.name, window_length(plugin), Instant::now());
        let admitted = window.admit(
            message.len() as u64,
            quotas.log_lines_per_window,
            quotas.log_bytes_per_window,
        );
        if !admitted {
            if window.dropped == 1 {
                tracing::warn!(
                    target: "plugin",
                    plugin = %plugin.name,
                    "plugin `{}` reached its log quota ({} lines / {} bytes per {} s); dropping its lines until the window ends",
                    plugin.name,
                    quotas.log_lines_per_window,
                    quotas.log_bytes_per_window,
                    quotas.log_window_seconds
                );
            }
            return;
        }
    }
    // A template action's lines belong to its task's log, which masks the
    // task's secrets; the portal's own log would show them as they are.
    if let Some(sink) = &state.call.log_sink {
        sink(level, message);
        return;
    }
    let name = plugin.name.as_str();
    // `?` writes the text as a quoted, escaped string: whatever the plugin sends
    // stays inside this one field of this one line.
    match level {
        LogLevel::Trace => {
            tracing::trace!(target: "plugin", plugin = name, message_text = ?message, "plugin log")
        }
        LogLevel::Debug => {
            tracing::debug!(target: "plugin", plugin = name, message_text = ?message, "plugin log")
        }
        LogLevel::Info => {
            tracing::info!(target: "plugin", plugin = name, message_text = ?message, "plugin log")
        }
        LogLevel::Warn => {
            tracing::warn!(target: "plugin", plugin = name, message_text = ?message, "plugin log")
        }
        LogLevel::Error => {
            tracing::error!(target: "plugin", plugin = name, message_text = ?message, "plugin log")
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_written_with_every_control_character_escaped() {
        // What `message_text = ?message` writes.
        let hostile = "ok\n2026-01-01T00:00:00Z  INFO portal: forged\r\u{1b}[31mred\u{7}\u{85}\u{9b}\u{2028}\u{2029}\"quoted\"\\";
        let written = format!("{hostile:?}");
        for c in written.chars() {
            assert!(
                !c.is_control() && c != '\u{2028}' && c != '\u{2029}',
                "{c:?} written raw in {written}"
            );
        }
        assert_eq!(
            written,
            r#""ok\n2026-01-01T00:00:00Z  INFO portal: forged\r\u{1b}[31mred\u{7}\u{85}\u{9b}\u{2028}\u{2029}\"quoted\"\\""#
        );
    }

    #[test]
    fn the_window_drops_over_quota_and_starts_again() {
        let start = Instant::now();
        let mut window = LogWindow {
            started: start,
            ..LogWindow::default()
        };
        let minute = Duration::from_secs(60);
        assert!(window.admit(10, 2, 100));
        assert!(window.admit(10, 2, 100));
        assert!(!window.admit(10, 2, 100), "third line over 2 lines");
        window.roll("p", minute, start + Duration::from_secs(59));
        assert_eq!(window.dropped, 1, "the window is not over yet");
        window.roll("p", minute, start + minute);
        assert_eq!(
            (window.lines, window.dropped, window.dropped_total),
            (0, 0, 1)
        );
        assert!(!window.admit(101, 2, 100), "over the byte quota");
        assert!(window.admit(100, 2, 100));
    }
}
