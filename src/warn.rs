// SPDX-License-Identifier: GPL-2.0-only
//! Kernel-style WARN reports: a `WARNING: CPU: n PID: p at file:line func`
//! line on stderr, a global count, the last report kept for tests, and
//! `WARN_ON_ONCE` sites that tests can re-arm.

use core::ffi::{c_char, c_int};
use std::fmt;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

static COUNT: AtomicU64 = AtomicU64::new(0);
static QUIET: AtomicBool = AtomicBool::new(false);
/// The generation ONCE sites compare against; bumping it re-arms them all.
static GENERATION: AtomicU64 = AtomicU64::new(1);
static LAST: Mutex<Option<Record>> = Mutex::new(None);

/// One WARN, as tests see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub file: String,
    pub line: u32,
    pub function: String,
    pub message: String,
}

/// `struct memremap_warn_record` (memremap/test.h): a [`Record`] in
/// fixed, NUL-terminated C strings.
#[repr(C)]
pub struct WarnRecord {
    pub file: [c_char; 128],
    pub function: [c_char; 64],
    pub message: [c_char; 512],
    pub line: c_int,
}

fn copy_str(dst: &mut [c_char], s: &str) {
    let n = s.len().min(dst.len().saturating_sub(1));
    for (d, b) in dst.iter_mut().zip(s.bytes().take(n)) {
        *d = b as c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

impl WarnRecord {
    /// Fill in from `rec`, each string cut to fit.
    pub fn fill(&mut self, rec: &Record) {
        copy_str(&mut self.file, &rec.file);
        copy_str(&mut self.function, &rec.function);
        copy_str(&mut self.message, &rec.message);
        self.line = rec.line as c_int;
    }
}

/// Number of WARNs reported since the process started.
pub fn count() -> u64 {
    COUNT.load(Ordering::Relaxed)
}

/// The last WARN reported, if any.
pub fn last() -> Option<Record> {
    LAST.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Stop (or resume) printing WARNs; they are still counted.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Re-arm every `WARN_ON_ONCE` site, in Rust and in C.
pub fn rearm() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// Claim a ONCE site: true the first time it fires in this generation.
pub fn once_claim(site: &AtomicU64) -> bool {
    let gen = GENERATION.load(Ordering::Acquire);
    let mut seen = site.load(Ordering::Relaxed);
    while seen != gen {
        match site.compare_exchange_weak(seen, gen, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return true,
            Err(now) => seen = now,
        }
    }
    false
}

fn cpu_and_pid() -> (i64, i64) {
    // SAFETY: both calls take no arguments and cannot fail in a way that
    // touches memory; a -1 from sched_getcpu is printed as is.
    unsafe { (libc::sched_getcpu() as i64, libc::getpid() as i64) }
}

/// Report a WARN. Never panics: a failing stderr is ignored.
pub fn report(file: &str, line: u32, function: &str, message: fmt::Arguments<'_>) {
    report_with(file, line, function, &|_| String::new(), message)
}

/// Report a WARN after the text `prelude` makes of its message (a
/// `dump_page()`, say: the kernel prints it before the `cut here` line),
/// in the kernel's shape:
///
/// ```text
/// ------------[ cut here ]------------
/// WARNING: CPU: n PID: p at file:line function
/// message
/// Call Trace:
///  <TASK>
///  frames (see crate::trace)
///  </TASK>
/// ---[ end trace 0000000000000000 ]---
/// ```
///
/// Quiet WARNs are counted and kept, not printed: they make no prelude
/// and take no trace.
pub fn report_with(
    file: &str,
    line: u32,
    function: &str,
    prelude: &dyn Fn(&str) -> String,
    message: fmt::Arguments<'_>,
) {
    COUNT.fetch_add(1, Ordering::Relaxed);
    let message = message.to_string();
    if !QUIET.load(Ordering::Relaxed) {
        let (cpu, pid) = cpu_and_pid();
        let mut text = prelude(&message);
        let _ = writeln!(
            text,
            "------------[ cut here ]------------\n\
             WARNING: CPU: {cpu} PID: {pid} at {file}:{line} {function}"
        );
        if !message.is_empty() {
            let _ = writeln!(text, "{message}");
        }
        if crate::trace::enabled() {
            text.push_str(&crate::trace::capture());
        }
        text.push_str("---[ end trace 0000000000000000 ]---\n");
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        capture_append(&text);
    }
    let rec = Record {
        file: file.to_owned(),
        line,
        function: function.to_owned(),
        message,
    };
    *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some(rec);
}

/// Print diagnostic `text` (a `dump_page()`) on stderr, quiet or not,
/// and copy it into the capture buffer like a WARN's.
pub fn print(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
    capture_append(text);
}

/// What printed WARNs are copied into while capturing (see [`capture`]).
static CAPTURE: Mutex<Option<String>> = Mutex::new(None);
/// Bytes kept per capture, at most; the rest is counted, not kept.
const CAPTURE_MAX: usize = 64 * 1024;

fn capture_append(text: &str) {
    let mut c = CAPTURE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(buf) = c.as_mut() {
        if buf.len() + text.len() <= CAPTURE_MAX {
            buf.push_str(text);
        } else if !buf.ends_with(CAPTURE_FULL) {
            buf.push_str(CAPTURE_FULL);
        }
    }
}

const CAPTURE_FULL: &str = "(further WARNs not kept: capture buffer full)\n";

/// Start (`true`, emptying the buffer) or stop copying the text of every
/// printed WARN, as printed, into a buffer that tests read with
/// [`captured`]: a test harness keeps a failing case's evidence.
pub fn capture(on: bool) {
    *CAPTURE.lock().unwrap_or_else(|e| e.into_inner()) = on.then(String::new);
}

/// The text captured since [`capture`]`(true)` (empty when not capturing).
pub fn captured() -> String {
    CAPTURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Run `f`, out of line: keeps the reporting off the hot paths.
#[cold]
#[inline(never)]
pub fn cold(f: impl FnOnce()) {
    f()
}

/// `WARN(cond, fmt, ...)`: report when `cond` holds; evaluates to `cond`.
#[macro_export]
macro_rules! warn_if {
    ($func:expr, $cond:expr, $($fmt:tt)+) => {{
        let c: bool = $cond;
        if c {
            $crate::warn::cold(move || {
                $crate::warn::report(file!(), line!(), $func, format_args!($($fmt)+))
            });
        }
        c
    }};
}

/// `WARN_ONCE(cond, fmt, ...)`: like `warn_if!`, reported once per site
/// (until re-armed); evaluates to `cond` every time.
#[macro_export]
macro_rules! warn_once_if {
    ($func:expr, $cond:expr, $($fmt:tt)+) => {{
        static SITE: ::std::sync::atomic::AtomicU64 = ::std::sync::atomic::AtomicU64::new(0);
        let c: bool = $cond;
        if c {
            $crate::warn::cold(move || {
                if $crate::warn::once_claim(&SITE) {
                    $crate::warn::report(file!(), line!(), $func, format_args!($($fmt)+));
                }
            });
        }
        c
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_site_fires_once_per_generation() {
        let _serial = crate::test_serial();
        let site = AtomicU64::new(0);
        assert!(once_claim(&site));
        assert!(!once_claim(&site));
        rearm();
        assert!(once_claim(&site));
        assert!(!once_claim(&site));
    }

    #[test]
    fn report_counts_and_keeps_last() {
        let _serial = crate::test_serial();
        set_quiet(true);
        let before = count();
        let fired = warn_if!("tester", 1 + 1 == 2, "value {}", 7);
        assert!(fired);
        assert!(!warn_if!("tester", false, "never"));
        assert!(count() > before);
        let last = last().expect("a record");
        assert_eq!(last.function, "tester");
        assert!(last.file.ends_with("warn.rs"));
        set_quiet(false);
    }
}
