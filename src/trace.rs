// SPDX-License-Identifier: GPL-2.0-only
//! Call traces for WARNs, in the kernel's shape: the library's entry point
//! and every C frame above it, `function+0xoff/0xsize` and, where the
//! program has debug information, `file:line`, with inlined functions
//! listed as `[inline]` above the function they were inlined into (as
//! scripts/decode_stacktrace.sh prints them), up to `main` or the thread's
//! start routine.
//!
//! The unwinding and the DWARF reading are the `backtrace` crate's: the
//! same code (backtrace-rs, gimli, addr2line) that std's `Backtrace`
//! vendors, which reads the whole executable's DWARF, C frames included.
//! std's `Backtrace` only renders text: it gives neither a frame's address
//! nor its symbol's, so neither `+0xoff/0xsize` nor where the library's
//! frames end could be had from it. The symbol table (start and size of
//! each function, as kallsyms has them) is read with the `object` crate,
//! which `backtrace` already uses.

use object::{Object, ObjectSegment, ObjectSymbol, SymbolKind};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Frames looked at, at most: deeper stacks are cut (and say so).
const MAX_FRAMES: usize = 128;

/// Print call traces with WARNs (the default) or not.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether WARNs print call traces.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// One function of the executable's symbol table, at its link address.
struct Func {
    start: u64,
    size: u64,
    name: Box<[u8]>,
}

/// The executable's functions, sorted by start, its executable segments
/// (link address, bytes) and its load bias.
struct Symtab {
    funcs: Vec<Func>,
    text: Vec<(u64, Vec<u8>)>,
    bias: u64,
}

impl Symtab {
    /// The function holding runtime address `addr`, if the executable has
    /// one there.
    fn lookup(&self, addr: u64) -> Option<&Func> {
        let addr = addr.checked_sub(self.bias)?;
        let i = self.funcs.partition_point(|f| f.start <= addr);
        let f = self.funcs.get(i.checked_sub(1)?)?;
        (addr < f.start + f.size).then_some(f)
    }

    /// The target of the direct call (`call rel32`, x86_64's e8) that
    /// returns to runtime address `ret`, if that is what precedes it.
    fn call_target(&self, ret: u64) -> Option<u64> {
        let at = ret.checked_sub(self.bias)?.checked_sub(5)?;
        let (base, bytes) = self
            .text
            .iter()
            .find(|(base, b)| *base <= at && at + 5 <= base + b.len() as u64)?;
        let i = usize::try_from(at - base).ok()?;
        let insn = bytes.get(i..i + 5)?;
        if insn[0] != 0xe8 {
            return None;
        }
        let rel = i32::from_le_bytes([insn[1], insn[2], insn[3], insn[4]]);
        Some(ret.wrapping_add_signed(rel as i64))
    }
}

/// The runtime address of the executable's program headers, as the kernel
/// handed it to the program.
fn phdr_runtime() -> u64 {
    // SAFETY: getauxval() only reads the auxiliary vector; an absent entry
    // is 0, which `load` below treats as "no bias known".
    unsafe { libc::getauxval(libc::AT_PHDR) }
}

fn load() -> Option<Symtab> {
    let path = std::env::current_exe().ok()?;
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    // The bias is where the program headers are minus where the file says
    // they are: the segment holding them, at e_phoff into the file.
    let phoff = match &file {
        object::File::Elf64(elf) => {
            use object::read::elf::FileHeader;
            elf.elf_header().e_phoff(elf.endian())
        }
        _ => return None,
    };
    let phdr_link = file.segments().find_map(|s| {
        let (off, size) = s.file_range();
        (off <= phoff && phoff < off + size).then(|| s.address() + (phoff - off))
    })?;
    let bias = phdr_runtime().checked_sub(phdr_link)?;
    let mut funcs: Vec<Func> = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
        .filter_map(|s| {
            Some(Func {
                start: s.address(),
                size: s.size(),
                name: s.name_bytes().ok()?.into(),
            })
        })
        .collect();
    if funcs.is_empty() {
        // A stripped program: frames are then named from DWARF alone.
        return None;
    }
    funcs.sort_by_key(|f| f.start);
    let text = file
        .segments()
        .filter(|s| matches!(s.flags(), object::SegmentFlags::Elf { p_flags } if p_flags & object::elf::PF_X != 0))
        .filter_map(|s| Some((s.address(), s.data().ok()?.to_vec())))
        .collect();
    Some(Symtab { funcs, text, bias })
}

fn symtab() -> Option<&'static Symtab> {
    static SYMTAB: OnceLock<Option<Symtab>> = OnceLock::new();
    SYMTAB.get_or_init(load).as_ref()
}

/// A frame, resolved: its function (from the symbol table) and the
/// source positions DWARF gives, innermost inlined function first.
struct Resolved {
    /// Raw (mangled) name, start and size, from the symbol table.
    func: Option<(Vec<u8>, u64, u64)>,
    /// (name, file, line) from DWARF; the last is the function itself.
    lines: Vec<(String, Option<String>, Option<u32>)>,
    ip: u64,
}

impl Resolved {
    fn raw_name(&self) -> Option<&[u8]> {
        self.func.as_ref().map(|f| f.0.as_slice())
    }

    /// A Rust function's name is mangled; C's and the `#[no_mangle]`
    /// entry points' are not.
    fn is_mangled(&self) -> bool {
        self.raw_name()
            .is_some_and(|n| n.starts_with(b"_ZN") || n.starts_with(b"_R"))
    }

    /// Written in Rust, by its DWARF file.
    fn is_rust_source(&self) -> bool {
        self.lines
            .last()
            .and_then(|l| l.1.as_deref())
            .is_some_and(|f| f.ends_with(".rs"))
    }

    /// One of the library's C entry points: an unmangled Rust function.
    fn is_entry(&self) -> bool {
        !self.is_mangled() && self.is_rust_source()
    }

    fn is_rust_internal(&self) -> bool {
        self.is_mangled()
    }

    fn name(&self) -> String {
        match (&self.func, self.lines.last()) {
            (Some((raw, _, _)), _) => format!("{:#}", backtrace::SymbolName::new(raw)),
            (None, Some(l)) => l.0.clone(),
            (None, None) => String::from("?"),
        }
    }

    /// Where a trace ends: `main`, or below a thread's start routine.
    fn is_main(&self) -> bool {
        self.raw_name() == Some(b"main".as_slice())
    }

    fn is_thread_start(&self) -> bool {
        let name = self.name();
        matches!(
            name.as_str(),
            "start_thread" | "clone" | "clone3" | "__clone" | "__libc_start_call_main"
        )
    }
}

fn short_path(p: &str) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(cwd) = cwd.to_str() {
            if let Some(rest) = p.strip_prefix(cwd) {
                if let Some(rest) = rest.strip_prefix('/') {
                    return rest.to_owned();
                }
            }
        }
    }
    p.to_owned()
}

fn resolve(frame: &backtrace::Frame) -> Resolved {
    let ip = frame.ip() as u64;
    // A return address is one past the call: look up the call itself.
    let func = symtab()
        .and_then(|t| t.lookup(ip.saturating_sub(1)).map(|f| (f, t.bias)))
        .map(|(f, bias)| (f.name.to_vec(), f.start + bias, f.size));
    let mut lines = Vec::new();
    backtrace::resolve_frame(frame, |s| {
        let name = s
            .name()
            .map_or_else(|| String::from("?"), |n| format!("{n:#}"));
        let file = s.filename().map(|f| short_path(&f.to_string_lossy()));
        lines.push((name, file, s.lineno()));
    });
    Resolved { func, lines, ip }
}

fn write_frame(out: &mut String, r: &Resolved) {
    let n = r.lines.len();
    for (i, (name, file, line)) in r.lines.iter().enumerate() {
        let at = match (file, line) {
            (Some(f), Some(l)) => format!(" {f}:{l}"),
            (Some(f), None) => format!(" {f}"),
            _ => String::new(),
        };
        if i + 1 < n {
            let _ = writeln!(out, " {name}{at} [inline]");
            continue;
        }
        match &r.func {
            Some((_, start, size)) => {
                let off = r.ip - start;
                let _ = writeln!(out, " {}+{off:#x}/{size:#x}{at}", r.name());
            }
            None => {
                let _ = writeln!(out, " {}{at}", r.name());
            }
        }
    }
    if n == 0 {
        match &r.func {
            Some((_, start, size)) => {
                let _ = writeln!(out, " {}+{:#x}/{size:#x}", r.name(), r.ip - start);
            }
            None => {
                let _ = writeln!(out, " {:#x}", r.ip);
            }
        }
    }
}

/// Part of the WARN machinery (this module, `warn`, the unwinder): the
/// frames a trace never shows.
fn is_machinery(r: &Resolved) -> bool {
    const OURS: [&str; 5] = [
        "memremap::trace::capture",
        "memremap::warn::report",
        "memremap::warn::cold",
        "backtrace::",
        "_Unwind",
    ];
    let named = |n: &str| OURS.iter().any(|p| n.starts_with(p));
    named(&r.name()) || r.lines.iter().any(|l| named(&l.0))
}

/// The library's entry point that the C frame `r` called, when the entry
/// point's own frame is gone (it tail-called on): read from the call
/// instruction before `r`'s return address.
fn tail_called_entry(r: &Resolved) -> Option<String> {
    let t = symtab()?;
    let target = t.call_target(r.ip)?;
    let f = t.lookup(target)?;
    if f.start + t.bias != target || f.name.starts_with(b"_ZN") || f.name.starts_with(b"_R") {
        return None;
    }
    let mut at = None;
    // resolve() looks up the byte before the address it is given (a
    // return address's call): give it the function's second byte.
    backtrace::resolve((target + 1) as *mut core::ffi::c_void, |s| {
        if let (Some(file), Some(line)) = (s.filename(), s.lineno()) {
            at = Some((short_path(&file.to_string_lossy()), line));
        }
    });
    let (file, line) = at?;
    if !file.ends_with(".rs") {
        return None;
    }
    let name = backtrace::SymbolName::new(&f.name);
    Some(format!(
        " {name:#}+0x0/{:#x} {file}:{line} [tail call]\n",
        f.size
    ))
}

/// The call trace of the calling thread, from the library's entry point
/// up, as the lines the kernel prints after `Call Trace:` (each ending in
/// a newline). An entry point that left the stack by a tail call is read
/// back from its caller's call instruction and marked `[tail call]`.
/// Called from Rust alone (no C frame on the stack), it lists the Rust
/// frames above the WARN machinery instead.
pub fn capture() -> String {
    let mut frames = Vec::new();
    backtrace::trace(|f| {
        frames.push(f.clone());
        frames.len() < MAX_FRAMES
    });
    let cut = frames.len() >= MAX_FRAMES;
    // Frames outside the executable (the C library's: start_thread(),
    // __libc_start_call_main(), a sanitizer's interceptors) are not
    // shown, nor looked up: their debug information, where installed, is
    // compressed, and reading it would cost a first WARN a second.
    let in_exe = |f: &&backtrace::Frame| {
        symtab().map_or(true, |t| {
            t.lookup((f.ip() as u64).saturating_sub(1)).is_some()
        })
    };
    let resolved: Vec<Resolved> = frames.iter().filter(in_exe).map(resolve).collect();
    let start = resolved.iter().rposition(is_machinery).map_or(0, |i| i + 1);
    let mut above = resolved.get(start..).unwrap_or_default();
    if let Some(end) = above.iter().position(Resolved::is_thread_start) {
        above = &above[..end];
    }
    let from_c = above.iter().any(|r| !r.is_rust_internal());
    let mut out = String::from("Call Trace:\n <TASK>\n");
    let mut callee_is_entry = false;
    for r in above {
        if from_c && r.is_rust_internal() {
            callee_is_entry = false;
            continue;
        }
        if from_c && !r.is_entry() && !callee_is_entry {
            if let Some(line) = tail_called_entry(r) {
                out.push_str(&line);
            }
        }
        write_frame(&mut out, r);
        callee_is_entry = r.is_entry();
        if r.is_main() {
            break;
        }
    }
    if cut {
        out.push_str(" ...\n");
    }
    out.push_str(" </TASK>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Not a tail call: at opt-level 1 (the dev profile) `capture()` in
    // tail position becomes a jump, and this frame leaves the stack.
    #[inline(never)]
    fn a_caller_of_ours() -> String {
        std::hint::black_box(capture())
    }

    #[test]
    fn a_rust_caller_is_named_with_offset_size_and_line() {
        let t = a_caller_of_ours();
        assert!(t.starts_with("Call Trace:\n <TASK>\n"), "{t}");
        assert!(t.ends_with(" </TASK>\n"), "{t}");
        let line = t
            .lines()
            .find(|l| l.contains("a_caller_of_ours"))
            .unwrap_or_else(|| panic!("no frame of the caller in\n{t}"));
        assert!(line.contains("+0x") && line.contains("/0x"), "{line}");
        assert!(line.contains("src/trace.rs:"), "{line}");
        assert!(!t.contains("memremap::trace::capture"), "{t}");
    }

    #[test]
    fn the_symbol_table_covers_this_function() {
        let t = symtab().expect("the test binary's symbol table");
        let here = a_caller_of_ours as *const () as usize as u64;
        let f = t.lookup(here).expect("a symbol for a_caller_of_ours");
        assert_eq!(f.start + t.bias, here);
        assert!(f.size > 0);
    }
}
