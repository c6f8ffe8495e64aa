// SPDX-License-Identifier: GPL-2.0-only
//! The engine: a scenario planned by the model, run through each side on
//! the same pfns, compared step by step (and with the model), the
//! reference resynced after each step where it misbehaves; the campaign's
//! proptest runner, which shrinks a failing scenario, and its coverage.

use crate::capi::{folio_at, pfn_of, put, ref_inc, refcount, take_freed, warns, Api, Side};
use crate::common;
use crate::generator::{scenario_strategy, Op, Scenario};
use crate::model::{Class, Conc, Model, Obs, Ret, World};
use crate::MINUS_ONE;
use memremap::ffi::{self, Folio};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::collections::BTreeMap;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// One step as planned by the model.
#[derive(Debug)]
pub struct Planned {
    pub op: Conc,
    pub class: Class,
    pub lib: Obs,
    pub c: Obs,
    /// The library's state after the step, which the reference is brought
    /// back to after a step where it misbehaved.
    pub after: World,
}

/// The scenario as the model runs it: every step, and every folio touched.
pub struct Plan {
    pub steps: Vec<Planned>,
    pub touched: Vec<u64>,
}

pub fn snapshot(w: &World, touched: &[u64]) -> Vec<(u64, i32)> {
    touched
        .iter()
        .map(|o| (*o, w.counts.get(o).copied().unwrap_or(0)))
        .collect()
}

pub fn plan(m: &Model, ops: &[Op]) -> Result<Plan, TestCaseError> {
    let mut w = World::default();
    let mut raw = Vec::new();
    let mut touched = std::collections::BTreeSet::new();
    for op in ops {
        let op = m.resolve(op, &w);
        let class = m.classify(&op, &w);
        let (mut lw, mut cw) = (w.clone(), w.clone());
        let lib = m.lib_step(&op, &mut lw);
        let c = m.c_step(&op, &mut cw);
        if class == Class::Same {
            prop_assert_eq!(
                (&lib, &lw),
                (&c, &cw),
                "model bug: step {:?} is unclassified but the models differ",
                op
            );
        }
        touched.extend(lw.counts.keys().chain(cw.counts.keys()).copied());
        let stop = cw.released && !lw.released;
        raw.push((op, class, lib, lw.clone(), c, cw));
        w = lw;
        if stop {
            // The reference dropped the last pin of a dying pgmap that the
            // library still holds: its release ran and cannot be undone,
            // so the scenario ends at this (checked) step.
            break;
        }
    }
    let touched: Vec<u64> = touched.into_iter().collect();
    let steps = raw
        .into_iter()
        .map(|(op, class, mut lib, lw, mut c, cw)| {
            lib.counts = snapshot(&lw, &touched);
            lib.pins = lw.pins;
            c.counts = snapshot(&cw, &touched);
            c.pins = cw.pins;
            Planned {
                op,
                class,
                lib,
                c,
                after: lw,
            }
        })
        .collect();
    Ok(Plan { steps, touched })
}

// ---- running a scenario ----

impl Api {
    pub fn folio(&self, m: &Model, o: u64) -> *mut Folio {
        folio_at(m.pfn_at(o))
    }

    pub fn ret_folio(&self, m: &Model, f: *mut Folio) -> Ret {
        if f.is_null() {
            return Ret::Folio(None);
        }
        let pfn = pfn_of(f);
        match m.p2o(pfn) {
            Some(o) if m.is_head(pfn) => Ret::Folio(Some(o)),
            _ => Ret::Foreign(pfn),
        }
    }

    pub fn observe(&self, m: &Model, touched: &[u64]) -> (Vec<(u64, i32)>, i64) {
        let counts = touched
            .iter()
            .map(|&o| (o, refcount(self.folio(m, o))))
            .collect();
        (counts, self.pins())
    }

    pub fn step(&self, m: &Model, op: &Conc, touched: &[u64]) -> Obs {
        // Pointers first: pfn_to_page() of a mapped pfn never WARNs.
        let (f, nr) = match *op {
            Conc::Put(o) => (self.folio(m, o), 0),
            Conc::RequestFolios(o, nr) | Conc::ReleaseFolios(o, nr) => (self.folio(m, o), nr),
            _ => (null_mut(), 0),
        };
        take_freed();
        memremap::warn::rearm();
        let w0 = warns();
        // A folio is turned into an offset only once the WARNs are counted.
        let (ret, folio) = match *op {
            Conc::Request(o, order) => (Ret::Unit, self.request(o, order)),
            Conc::RequestPfn(pfn, order) => {
                (Ret::Unit, self.request(self.pfn_to_offset(pfn), order))
            }
            Conc::Put(_) => {
                put(f);
                (Ret::Unit, null_mut())
            }
            Conc::Kill => {
                self.kill();
                (Ret::Unit, null_mut())
            }
            Conc::PfnToOffset(pfn) => (Ret::Word(self.pfn_to_offset(pfn)), null_mut()),
            Conc::OffsetToPfn(o) => (Ret::Word(self.offset_to_pfn(o)), null_mut()),
            Conc::RequestFolios(..) => (Ret::Bool(self.request_folios(f, nr)), null_mut()),
            Conc::ReleaseFolios(..) => {
                self.release_folios(f, nr);
                (Ret::Unit, null_mut())
            }
            Conc::Nop => (Ret::Unit, null_mut()),
        };
        let warns = warns() - w0;
        let freed = take_freed()
            .into_iter()
            .map(|p| m.p2o(pfn_of(p as *const Folio)).unwrap_or(MINUS_ONE))
            .collect();
        let ret = match op {
            Conc::Request(..) | Conc::RequestPfn(..) => self.ret_folio(m, folio),
            _ => ret,
        };
        let (counts, pins) = self.observe(m, touched);
        Obs {
            ret,
            warns,
            freed,
            counts,
            pins,
        }
    }

    /// Bring the pgmap to `want` with the substrate's own calls.
    pub fn resync(&self, m: &Model, want: &World, touched: &[u64]) -> Result<(), TestCaseError> {
        for &o in touched {
            let f = self.folio(m, o);
            let target = want.counts.get(&o).copied().unwrap_or(0);
            let mut now = refcount(f);
            while now > target {
                put(f);
                now -= 1;
            }
            if now < target && now == 0 {
                self.ref_get(1);
            }
            while now < target {
                ref_inc(f);
                now += 1;
            }
        }
        take_freed();
        let (counts, pins) = self.observe(m, touched);
        prop_assert_eq!(
            (counts, pins),
            (snapshot(want, touched), want.pins),
            "engine bug: the reference could not be brought back to the library's state"
        );
        Ok(())
    }

    /// Put every folio back, check the pins are gone, unmap.
    pub fn finish(&self, m: &Model, touched: &[u64]) -> Result<(), String> {
        for &o in touched {
            let f = self.folio(m, o);
            while refcount(f) > 0 {
                put(f);
            }
        }
        take_freed();
        let pins = self.pins();
        if pins > 0 {
            self.ref_put(pins as u64);
        } else if pins < 0 {
            self.ref_get(pins.unsigned_abs());
        }
        // SAFETY: `p` is a live, mapped pgmap struct.
        unsafe { ffi::memunmap_pages(self.p) };
        // SAFETY: as above.
        if unsafe { ffi::memremap_pgmap_is_mapped(self.p) } {
            return Err(format!("{:?}: the pgmap could not be unmapped", self.side));
        }
        if pins != 0 {
            return Err(format!(
                "{:?}: {pins} pins left once every folio was put",
                self.side
            ));
        }
        Ok(())
    }
}

/// Run the plan through one side; the reference is resynced after every
/// step where it is expected to misbehave.
pub fn run(m: &Model, plan: &Plan, side: Side) -> Result<Vec<Obs>, TestCaseError> {
    let mut p = m.l.build();
    let rc = common::try_map(&mut p);
    prop_assert_eq!(rc, 0, "memremap_pages() refused a drawn layout");
    let api = Api {
        side,
        p: &mut p.pgmap,
    };
    let mut out = Vec::with_capacity(plan.steps.len());
    // Touching each folio once creates its memmap before the first step.
    api.observe(m, &plan.touched);
    let mut result = Ok(());
    for s in &plan.steps {
        out.push(api.step(m, &s.op, &plan.touched));
        if side == Side::Ref && s.class != Class::Same {
            if let Err(e) = api.resync(m, &s.after, &plan.touched) {
                result = Err(e);
                break;
            }
        }
    }
    let finished = api.finish(m, &plan.touched);
    if finished.is_err() {
        // Still registered: its memory must outlive the process.
        std::mem::forget(p);
    }
    result?;
    finished.map_err(TestCaseError::fail)?;
    Ok(out)
}

/// Classes seen by the campaign, for its coverage check.
pub static SEEN: Mutex<BTreeMap<Class, u64>> = Mutex::new(BTreeMap::new());

/// What the campaign's agreeing steps did, for its coverage check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    /// A request returned a folio.
    Granted,
    /// A pre-patch request took a span.
    SpanGranted,
    /// A translation found its pfn or offset.
    Translated,
    /// A step freed folios back to the driver.
    Freed,
}

pub static EVENTS: Mutex<BTreeMap<Event, u64>> = Mutex::new(BTreeMap::new());

/// Scenarios checked so far, and whether to say so every 100,000 (fuzz).
pub static CHECKED: AtomicU64 = AtomicU64::new(0);
pub static PROGRESS: AtomicBool = AtomicBool::new(false);

/// One scenario: plan, run both sides, compare.
pub fn check(sc: &Scenario) -> Result<(), TestCaseError> {
    let n = CHECKED.fetch_add(1, Ordering::Relaxed) + 1;
    if PROGRESS.load(Ordering::Relaxed) && n % 100_000 == 0 {
        eprintln!("differential fuzz: {n} scenarios checked");
    }
    let m = Model::new(&sc.layout);
    let plan = plan(&m, &sc.ops)?;
    let lib = run(&m, &plan, Side::Lib)?;
    let refc = run(&m, &plan, Side::Ref)?;
    let start = Obs {
        counts: snapshot(&World::default(), &plan.touched),
        ..Obs::default()
    };
    for (k, s) in plan.steps.iter().enumerate() {
        let at = format!("step {k}: {:?} (class {:?})", s.op, s.class);
        if s.class == Class::Same {
            prop_assert_eq!(
                &lib[k],
                &refc[k],
                "unexplained difference, library vs reference, at {}",
                at
            );
        }
        prop_assert_eq!(&lib[k], &s.lib, "the library breaks its contract at {}", at);
        prop_assert_eq!(
            &refc[k],
            &s.c,
            "the reference is not the seed's C as modelled at {}",
            at
        );
        let before = match k {
            0 => &start,
            _ => &lib[k - 1],
        };
        library_is_safe(s.class, &s.op, &lib[k], before)
            .map_err(|e| TestCaseError::fail(format!("{e} at {at}")))?;
    }
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let mut events = EVENTS.lock().unwrap_or_else(|e| e.into_inner());
    for s in &plan.steps {
        *seen.entry(s.class).or_insert(0) += 1;
        let event = match (s.class, s.lib.ret) {
            (Class::Same, Ret::Folio(Some(_))) => Some(Event::Granted),
            (Class::Same, Ret::Bool(true)) => Some(Event::SpanGranted),
            (Class::Same, Ret::Word(w)) if w != MINUS_ONE => Some(Event::Translated),
            _ => None,
        };
        if let Some(e) = event {
            *events.entry(e).or_insert(0) += 1;
        }
        if s.class == Class::Same && !s.lib.freed.is_empty() {
            *events.entry(Event::Freed).or_insert(0) += 1;
        }
    }
    Ok(())
}

/// Where the seed's C misbehaves, the library refuses: no folio, no count
/// moved, no page freed, a WARN; translations answer -1 (with a WARN when
/// the pgmap is dying). Where the C's pre-patch loops go wrong (or the
/// substrate's folio_next() is loud), the library does what its contract
/// says, which the model check covers.
pub fn library_is_safe(class: Class, op: &Conc, obs: &Obs, before: &Obs) -> Result<(), String> {
    let unchanged = obs.counts == before.counts && obs.pins == before.pins && obs.freed.is_empty();
    let safe = match (class, op) {
        (Class::Same | Class::ReleaseLoop | Class::NextPastSpan, _) => true,
        (_, Conc::PfnToOffset(_) | Conc::OffsetToPfn(_)) => {
            obs.ret == Ret::Word(MINUS_ONE)
                && unchanged
                && (obs.warns >= 1) == (class == Class::Dying)
        }
        _ => matches!(obs.ret, Ret::Folio(None) | Ret::Bool(false)) && obs.warns >= 1 && unchanged,
    };
    if safe {
        Ok(())
    } else {
        Err(format!("the library is not safe and loud here: {obs:?}"))
    }
}

pub fn run_campaign(seed: u64, cases: u32) -> Result<(), String> {
    // XorShift: ChaCha, unoptimized as tests are built, would take most of
    // the campaign's time.
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..].copy_from_slice(&(!seed).to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 8192,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &bytes));
    memremap::warn::set_quiet(true);
    ffi::memremap_set_wait_bound_ms(1000);
    let r = runner.run(&scenario_strategy(), |sc| check(&sc));
    ffi::memremap_set_wait_bound_ms(10_000);
    memremap::warn::set_quiet(false);
    match r {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, sc)) => Err(format!(
            "differential campaign failed (replay: make fuzz SEED={seed} COUNT={cases})\n\
             {why}\nminimal scenario:\n{sc:#?}"
        )),
        Err(TestError::Abort(why)) => Err(format!("campaign aborted (seed {seed}): {why}")),
    }
}

pub fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| {
        let v = v.trim();
        v.strip_prefix("0x")
            .map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
    })
}
