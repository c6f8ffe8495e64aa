// SPDX-License-Identifier: GPL-2.0-only
//! Differential tests: the seed's own C (c-tests/reference/, linked under
//! `ref_*` names when the `reference` feature is on) against the library,
//! over the same substrate.
//!
//! The engine draws random pgmaps and random operation sequences, runs each
//! scenario twice on the same pfns (once through the library, once through
//! the reference, unmapping in between) and compares, after every step, what
//! came back (a folio as an offset into the pgmap, a word, a bool), every
//! touched folio's refcount, the pgmap's pins, the `page_free()` calls and
//! the WARNs of the step (`WARN_ON_ONCE` sites re-armed before each step).
//!
//! A small model of both sides (the seed's C and the library's contract)
//! classifies every step. On a step of class `Same` the two traces must be
//! equal: any difference is unexplained and fails the campaign, shrunk to a
//! minimal scenario. On a step where the seed's C misbehaves
//! (docs/DESIGN.md §5, docs/FINDINGS.md) the reference must do exactly what
//! the model of the C says (it really misbehaves) and the library what its
//! contract says (safe and loud); the reference is then brought back to the
//! library's state and the scenario goes on.
//!
//! `make check` runs a fixed-seed campaign; `make fuzz SEED=.. COUNT=..` a
//! long one. The finding tests show each defect on its minimal input.
//!
//! The files, each one concern (docs/DESIGN.md §8):
//! - `main.rs`: this crate root, the shared constants and the campaigns
//!   (`campaign`, `fuzz`, the engine's stop rule);
//! - `capi.rs`: the two sides' C entry points (the library's `ffi` and the
//!   reference's `ref_*`), the driver callbacks, one mapped pgmap as an
//!   `Api`, and the test that the `ref_*` names are other code;
//! - `generator.rs`: what is drawn: layouts, operations, scenarios;
//! - `model.rs`: the pgmap as the model sees it, the state a step changes,
//!   and the classification of each step (`Class`);
//!   `model/sides.rs`: what each step does on each side (the substrate's
//!   shared effects, the library's contract, the seed's C);
//! - `engine.rs`: planning a scenario, running it on both sides,
//!   comparing, the proptest runner that shrinks a failure;
//! - `fixture.rs`: mapped pgmaps and measurements for the hand-written tests;
//! - `findings.rs`: one test per finding of docs/FINDINGS.md.
#![cfg(feature = "reference")]

#[path = "../common/mod.rs"]
mod common;

mod capi;
mod engine;
mod findings;
mod fixture;
mod generator;
mod model;

use common::{serial, Pgmap};
use engine::{check, env_u64, plan, run_campaign, Event, EVENTS, PROGRESS, SEEN};
use fixture::Quiet;
use generator::{Layout, OffSel, Op, OpsKind, OrderSel, Scenario};
use memremap::types::*;
use model::{Class, Conc, Model};
use std::sync::atomic::Ordering;

/// Does the library's pre-patch `pgmap_request_folios()` take a span that
/// crosses from one range into an adjacent one, as the C does? Not yet
/// (src/request.rs `span_valid()`); set this with the fix, which turns
/// [`Class::CrossRanges`] into [`Class::Same`].
pub const LIB_SPANS_CROSS_RANGES: bool = true;

/// `PFN_PHYS()` keeps the low 52 bits of a pfn or an offset.
pub const MASK52: u64 = (1 << 52) - 1;
/// Pages in a 2 MiB subsection.
pub const SUB: u64 = 512;
/// pfns of addressable memory are below this (2^52 bytes).
pub const PFN_LIMIT: u64 = 1 << 40;
/// -1 as `pgoff_t` / `unsigned long`.
pub const MINUS_ONE: u64 = u64::MAX;

pub type Pg = Pgmap<63>;

/// 1 GiB, as a pfn.
pub const GIB_PFN: u64 = 1 << 18;

/// A step after which the reference has released a dying pgmap the library
/// still holds cannot be undone: the scenario is checked up to that step,
/// and both runs still end clean.
#[test]
fn engine_stops_where_the_reference_cannot_come_back() {
    let _s = serial();
    let _q = Quiet::new();
    let layout = Layout {
        ty: MEMORY_DEVICE_GENERIC,
        ops: OpsKind::Free,
        shift: 0,
        ranges: vec![(GIB_PFN, SUB)],
        altmap: None,
    };
    let req = |k| Op::Request(OffSel::Head(k), OrderSel::Right);
    // Folio 0 held once, folio 1 twice; the C's release of 3 folios puts
    // folio 0 once and folio 1 twice: the last pin goes while dying.
    let ops = vec![
        req(0),
        req(1),
        req(1),
        Op::Kill,
        Op::ReleaseFolios(0, 3),
        req(2),
    ];
    let m = Model::new(&layout);
    let p = plan(&m, &ops).expect("a plan");
    assert_eq!(p.steps.len(), 5);
    assert_eq!(p.steps[4].op, Conc::ReleaseFolios(0, 3));
    assert_eq!(p.steps[4].class, Class::ReleaseLoop);
    check(&Scenario { layout, ops }).expect("checked up to the step");
}

/// The `make check` campaign: a fixed seed, 10,000 scenarios.
#[test]
fn campaign() {
    let _s = serial();
    let seed = env_u64("DIFF_SEED").unwrap_or(0x6d65_6d72_656d_6170);
    let cases = env_u64("DIFF_CASES").unwrap_or(10_000) as u32;
    SEEN.lock().unwrap_or_else(|e| e.into_inner()).clear();
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let t = std::time::Instant::now();
    if let Err(e) = run_campaign(seed, cases) {
        panic!("{e}");
    }
    let seen = SEEN.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let events = EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    eprintln!(
        "differential campaign: seed {seed:#x}, {cases} scenarios, {:?}; steps by class: \
         {seen:?}; agreeing steps that: {events:?}",
        t.elapsed()
    );
    // Every known divergence is drawn, and checked, by the fixed campaign.
    if cases >= 2000 {
        for c in [
            Class::Same,
            Class::PastEnd,
            Class::MinusOne,
            Class::Alias,
            Class::AliasPfn,
            Class::Dying,
            Class::NonPositive,
            Class::ReleaseLoop,
            Class::CrossRanges,
            Class::NextPastSpan,
        ] {
            // Cross-range spans are drawn all the same; once the library
            // takes them they count as Same.
            if c == Class::CrossRanges && LIB_SPANS_CROSS_RANGES {
                continue;
            }
            assert!(
                seen.get(&c).copied().unwrap_or(0) > 0,
                "no step of class {c:?} drawn"
            );
        }
        for e in [
            Event::Granted,
            Event::SpanGranted,
            Event::Translated,
            Event::Freed,
        ] {
            assert!(events.get(&e).copied().unwrap_or(0) > 0, "no step {e:?}");
        }
    }
}

/// `make fuzz SEED=.. COUNT=..`: a long campaign; prints its seed.
#[test]
#[ignore]
fn fuzz() {
    let _s = serial();
    let seed = env_u64("DIFF_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        t ^ u64::from(std::process::id()) << 32
    });
    let cases = env_u64("DIFF_CASES").unwrap_or(1_000_000) as u32;
    eprintln!("differential fuzz: seed {seed} ({seed:#x}), {cases} scenarios");
    PROGRESS.store(true, Ordering::Relaxed);
    let t = std::time::Instant::now();
    if let Err(e) = run_campaign(seed, cases) {
        panic!("{e}");
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "differential fuzz: seed {seed}: {cases} scenarios passed in {secs:.2} s: \
         {:.0} scenarios/s, {:.2} s of CPU",
        f64::from(cases) / secs,
        cpu_seconds()
    );
}

/// CPU time (user and system) this process has used, in seconds: what a
/// loaded machine inflates less than wall time.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage() fills the struct it is given, nothing else.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}
