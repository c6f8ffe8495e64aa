// SPDX-License-Identifier: GPL-2.0-only
//! What a step does on each side, as the model predicts it: the
//! substrate's own functions (shared by both), the library's contract, and
//! the seed's C, defects included (docs/FINDINGS.md).

use super::{Conc, Model, Obs, Ret, World};
use crate::{MASK52, MINUS_ONE};

impl Model {
    // -- effects shared by both sides: the substrate's own functions --

    /// `folio_put()`.
    pub fn put(&self, w: &mut World, o: u64, obs: &mut Obs) {
        let c = w.counts.entry(o).or_insert(0);
        if *c <= 0 {
            obs.warns += 1;
            return;
        }
        *c -= 1;
        if *c == 0 {
            if self.has_page_free() {
                obs.freed.push(o);
            }
            w.pins -= 1;
            if w.dying && w.pins == 0 {
                w.released = true;
            }
        }
    }

    /// A reference on a folio of a live pgmap; the 0 -> 1 step pins it.
    pub fn activate(&self, w: &mut World, o: u64) {
        let c = w.counts.entry(o).or_insert(0);
        *c += 1;
        if *c == 1 {
            w.pins += 1;
        }
    }

    pub fn kill(&self, w: &mut World, obs: &mut Obs) {
        if w.dying {
            obs.warns += 1;
            return;
        }
        w.dying = true;
        if w.pins == 0 {
            w.released = true;
        }
    }

    /// `pgmap_request_folio()` at an offset inside the pgmap (both sides).
    pub fn request_inside(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        let pfn = self.pfn_at(o);
        if !self.is_head(pfn) || w.dying || order != self.l.shift as i32 {
            obs.warns += 1;
            return Ret::Folio(None);
        }
        self.activate(w, o);
        Ret::Folio(Some(o))
    }

    // -- the library's contract --

    pub fn lib_request(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        if o >= self.total {
            obs.warns += 1;
            return Ret::Folio(None);
        }
        self.request_inside(w, o, order, obs)
    }

    pub fn lib_p2o(&self, w: &World, pfn: u64, obs: &mut Obs) -> u64 {
        if w.dying {
            obs.warns += 1;
            return MINUS_ONE;
        }
        self.p2o(pfn).unwrap_or(MINUS_ONE)
    }

    pub fn lib_o2p(&self, w: &World, o: u64, obs: &mut Obs) -> u64 {
        if w.dying {
            obs.warns += 1;
            return MINUS_ONE;
        }
        self.o2p(o).unwrap_or(MINUS_ONE)
    }

    pub fn lib_step(&self, op: &Conc, w: &mut World) -> Obs {
        let mut obs = Obs::default();
        let s = self.fsize();
        obs.ret = match *op {
            Conc::Request(o, order) => self.lib_request(w, o, order, &mut obs),
            Conc::RequestPfn(pfn, order) => {
                let o = self.lib_p2o(w, pfn, &mut obs);
                self.lib_request(w, o, order, &mut obs)
            }
            Conc::Put(o) => {
                self.put(w, o, &mut obs);
                Ret::Unit
            }
            Conc::Kill => {
                self.kill(w, &mut obs);
                Ret::Unit
            }
            Conc::PfnToOffset(pfn) => Ret::Word(self.lib_p2o(w, pfn, &mut obs)),
            Conc::OffsetToPfn(o) => Ret::Word(self.lib_o2p(w, o, &mut obs)),
            Conc::RequestFolios(o, nr) => {
                let p = self.pfn_at(o);
                if nr <= 0 || self.run_len(p) < nr || self.crosses(o, nr) || w.dying {
                    obs.warns += 1;
                    Ret::Bool(false)
                } else {
                    for i in 0..nr as u64 {
                        let oi = self.p2o(p + i * s).unwrap_or(MINUS_ONE);
                        self.activate(w, oi);
                    }
                    Ret::Bool(true)
                }
            }
            Conc::ReleaseFolios(o, nr) => {
                let p = self.pfn_at(o);
                for i in 0..nr.max(0) as u64 {
                    let oi = self.p2o(p + i * s).unwrap_or(MINUS_ONE);
                    self.put(w, oi, &mut obs);
                }
                Ret::Unit
            }
            Conc::Nop => Ret::Unit,
        };
        obs
    }

    // -- the seed's C --

    pub fn c_request(&self, w: &mut World, o: u64, order: i32, obs: &mut Obs) -> Ret {
        let o = o & MASK52;
        if o >= self.total {
            // pfn_to_page(-1): the substrate's WARN, then the seed's
            // WARN_ON_ONCE(page->pgmap != pgmap).
            obs.warns += 2;
            return Ret::Folio(None);
        }
        self.request_inside(w, o, order, obs)
    }

    pub fn c_p2o(&self, pfn: u64) -> u64 {
        self.p2o(pfn & MASK52).unwrap_or(MINUS_ONE)
    }

    pub fn c_o2p(&self, o: u64) -> u64 {
        self.o2p(o & MASK52).unwrap_or(MINUS_ONE)
    }

    /// `folio_next()` of the folio at `pfn`, in the C's loops.
    pub fn c_next(&self, pfn: u64, obs: &mut Obs) {
        if !self.mapped(pfn + self.fsize()) {
            obs.warns += 1;
        }
    }

    pub fn c_step(&self, op: &Conc, w: &mut World) -> Obs {
        let mut obs = Obs::default();
        let s = self.fsize();
        obs.ret = match *op {
            Conc::Request(o, order) => self.c_request(w, o, order, &mut obs),
            Conc::RequestPfn(pfn, order) => self.c_request(w, self.c_p2o(pfn), order, &mut obs),
            Conc::Put(o) => {
                self.put(w, o, &mut obs);
                Ret::Unit
            }
            Conc::Kill => {
                self.kill(w, &mut obs);
                Ret::Unit
            }
            Conc::PfnToOffset(pfn) => Ret::Word(self.c_p2o(pfn)),
            Conc::OffsetToPfn(o) => Ret::Word(self.c_o2p(o)),
            Conc::RequestFolios(o, nr) => {
                let p = self.pfn_at(o);
                // VM_WARN_ON_ONCE(!folio_span_valid(...)): the ends only.
                let delta = (s as i32).wrapping_mul(nr).wrapping_sub(1);
                let end = p.wrapping_add(delta as i64 as u64);
                if !self.mapped(p) || (end > p && !self.mapped(end)) {
                    obs.warns += 1;
                }
                if w.dying {
                    obs.warns += 1;
                    Ret::Bool(false)
                } else {
                    // The order loop computes folio_next(folio) max(nr, 1)
                    // times; the spans drawn are uniform, so it passes.
                    for _ in 0..nr.max(1) {
                        self.c_next(p, &mut obs);
                    }
                    for i in 0..nr.max(0) as u64 {
                        let pi = p + i * s;
                        self.activate(w, self.p2o(pi).unwrap_or(MINUS_ONE));
                        self.c_next(pi, &mut obs);
                    }
                    Ret::Bool(true)
                }
            }
            Conc::ReleaseFolios(o, nr) => {
                let p = self.pfn_at(o);
                let second = self.p2o(p + s).unwrap_or(MINUS_ONE);
                for i in 0..nr.max(0) {
                    self.put(w, if i == 0 { o } else { second }, &mut obs);
                    self.c_next(p, &mut obs);
                }
                Ret::Unit
            }
            Conc::Nop => Ret::Unit,
        };
        obs
    }
}
