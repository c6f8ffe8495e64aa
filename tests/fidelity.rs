// SPDX-License-Identifier: GPL-2.0-only
//! Fidelity of the ported files to the patch under test.
//!
//! Reads the diff in `c-tests/data/pgmap_request_folio.patch` (a copy of
//! the seed's diff) and checks that every hunk's lines stand in the files
//! that port it, contiguously and in order, white space ignored: the after
//! side (context and '+' lines) in the after file, the before side (context
//! and '-' lines) in the before file. Blank lines are part of a hunk. The
//! hunks of one patch file must also appear in patch order. A failure names
//! the first missing line: the ported file, the patch file and hunk, and the
//! line as the patch has it.
//!
//! Every file that carries patch lines must open (first 5 lines) with the
//! SPDX line and a comment saying where its lines come from.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const PATCH: &str = "c-tests/data/pgmap_request_folio.patch";

/// Which hunks of a patch file a ported file holds.
#[derive(Clone, Copy, Debug)]
enum Hunks {
    All,
    Only(&'static [usize]),
}

/// One row of the map from patch files to ported files.
struct Port {
    patch_file: &'static str,
    hunks: Hunks,
    after: &'static str,
    before: &'static str,
    /// Written by another work item: reported as pending while the file
    /// does not exist; once it exists it must pass.
    may_be_pending: bool,
}

const PORTS: &[Port] = &[
    Port {
        patch_file: "arch/powerpc/kvm/book3s_hv_uvmem.c",
        hunks: Hunks::All,
        after: "c-tests/callers/after/book3s_hv_uvmem.c",
        before: "c-tests/callers/before/book3s_hv_uvmem.c",
        may_be_pending: false,
    },
    Port {
        patch_file: "drivers/dax/mapping.c",
        hunks: Hunks::All,
        after: "c-tests/callers/after/dax_mapping.c",
        before: "c-tests/callers/before/dax_mapping.c",
        may_be_pending: false,
    },
    Port {
        patch_file: "drivers/gpu/drm/amd/amdkfd/kfd_migrate.c",
        hunks: Hunks::All,
        after: "c-tests/callers/after/kfd_migrate.c",
        before: "c-tests/callers/before/kfd_migrate.c",
        may_be_pending: false,
    },
    Port {
        patch_file: "drivers/gpu/drm/nouveau/nouveau_dmem.c",
        hunks: Hunks::All,
        after: "c-tests/callers/after/nouveau_dmem.c",
        before: "c-tests/callers/before/nouveau_dmem.c",
        may_be_pending: false,
    },
    Port {
        patch_file: "lib/test_hmm.c",
        hunks: Hunks::All,
        after: "c-tests/callers/after/test_hmm.c",
        before: "c-tests/callers/before/test_hmm.c",
        may_be_pending: false,
    },
    // pfn_to_pgmap_offset()'s inline body: the C reference holds it.
    Port {
        patch_file: "include/linux/memremap.h",
        hunks: Hunks::Only(&[1]),
        after: "c-tests/reference/after.c",
        before: "c-tests/reference/before.c",
        may_be_pending: true,
    },
    // The prototypes and the !CONFIG_ZONE_DEVICE stubs: our header has both
    // the pre-patch and the post-patch declarations.
    Port {
        patch_file: "include/linux/memremap.h",
        hunks: Hunks::Only(&[2, 3]),
        after: "include/linux/memremap.h",
        before: "include/linux/memremap.h",
        may_be_pending: false,
    },
    Port {
        patch_file: "mm/memremap.c",
        hunks: Hunks::All,
        after: "c-tests/reference/after.c",
        before: "c-tests/reference/before.c",
        may_be_pending: true,
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    After,
    Before,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::After => "after ('+' and context lines)",
            Side::Before => "before ('-' and context lines)",
        })
    }
}

/// One line of a hunk, as the patch has it (marker included).
#[derive(Clone, Debug)]
struct Line {
    marker: char,
    text: String,
}

#[derive(Clone, Debug)]
struct Hunk {
    file: String,
    /// 1-based, within its patch file.
    number: usize,
    header: String,
    lines: Vec<Line>,
}

impl Hunk {
    fn side(&self, side: Side) -> Vec<&Line> {
        let keep = match side {
            Side::After => '+',
            Side::Before => '-',
        };
        self.lines
            .iter()
            .filter(|l| l.marker == ' ' || l.marker == keep)
            .collect()
    }
}

/// A line with all of its white space removed.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn count(spec: &str) -> Result<usize, String> {
    // "-12,7" or "+5" (a count of 1).
    let body = &spec[1..];
    match body.split_once(',') {
        Some((_, n)) => n.parse().map_err(|e| format!("bad count in {spec:?}: {e}")),
        None => Ok(1),
    }
}

/// The hunks of a unified diff, in patch order. Text before the first
/// "diff --git" line is ignored.
fn parse(patch: &str) -> Result<Vec<Hunk>, String> {
    let mut hunks = Vec::new();
    let mut file: Option<String> = None;
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    let mut lines = patch.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        if let Some(rest) = line.strip_prefix("+++ ") {
            let path = rest.strip_prefix("b/").unwrap_or(rest);
            file = Some(path.to_string());
            continue;
        }
        if !line.starts_with("@@ -") {
            continue;
        }
        let Some(f) = file.clone() else {
            return Err(format!("line {}: hunk before any '+++' line", n + 1));
        };
        let mut parts = line.split_whitespace().skip(1);
        let (Some(old), Some(new)) = (parts.next(), parts.next()) else {
            return Err(format!("line {}: bad hunk header {line:?}", n + 1));
        };
        let (mut old_left, mut new_left) = (count(old)?, count(new)?);
        let number = {
            let e = numbers.entry(f.clone()).or_insert(0);
            *e += 1;
            *e
        };
        let mut hunk = Hunk {
            file: f,
            number,
            header: line.to_string(),
            lines: Vec::new(),
        };
        while old_left > 0 || new_left > 0 {
            let Some((m, l)) = lines.next() else {
                return Err(format!("{}: hunk {number} is cut short", hunk.file));
            };
            // A context line whose single space was lost reads as empty.
            let marker = l.chars().next().unwrap_or(' ');
            let text = l.get(1..).unwrap_or("").to_string();
            match marker {
                ' ' => {
                    old_left = old_left.checked_sub(1).ok_or("context overruns")?;
                    new_left = new_left.checked_sub(1).ok_or("context overruns")?;
                }
                '-' => old_left = old_left.checked_sub(1).ok_or("'-' overruns")?,
                '+' => new_left = new_left.checked_sub(1).ok_or("'+' overruns")?,
                '\\' => continue,
                _ => return Err(format!("line {}: not a hunk line: {l:?}", m + 1)),
            }
            hunk.lines.push(Line { marker, text });
        }
        hunks.push(hunk);
    }
    Ok(hunks)
}

/// Files by path (relative to the crate root); None when absent.
type Files = BTreeMap<String, Option<String>>;

fn load(root: &Path) -> Files {
    let mut files = Files::new();
    for p in PORTS {
        for f in [p.after, p.before] {
            files
                .entry(f.to_string())
                .or_insert_with(|| std::fs::read_to_string(root.join(f)).ok());
        }
    }
    files
}

#[derive(Debug, Default)]
struct Outcome {
    /// (file, what) pairs checked and found.
    checked: Vec<String>,
    /// Files reported as pending.
    pending: Vec<String>,
}

/// Where hunk `h`'s `side` lines stand in `text`, searching from line
/// `from`: Ok(line after the match) or Err(index of the first hunk line
/// that could not be matched, at the best partial match).
fn find(h: &Hunk, side: Side, text: &[String], from: usize) -> Result<usize, usize> {
    let want: Vec<String> = h.side(side).iter().map(|l| squash(&l.text)).collect();
    let mut best = 0;
    for start in from..text.len() {
        let k = want
            .iter()
            .zip(&text[start..])
            .take_while(|(a, b)| a == b)
            .count();
        if k == want.len() {
            return Ok(start + k);
        }
        best = best.max(k);
    }
    Err(best)
}

fn hunk_selected(p: &Port, n: usize) -> bool {
    match p.hunks {
        Hunks::All => true,
        Hunks::Only(list) => list.contains(&n),
    }
}

/// Check every port; the first problem is the error.
fn check(hunks: &[Hunk], files: &Files) -> Result<Outcome, String> {
    let mut out = Outcome::default();
    // Every hunk of the patch is ported exactly once.
    for h in hunks {
        let n = PORTS
            .iter()
            .filter(|p| p.patch_file == h.file && hunk_selected(p, h.number))
            .count();
        if n != 1 {
            return Err(format!(
                "{} hunk {} ({}) is mapped to {n} ported files, not 1",
                h.file, h.number, h.header
            ));
        }
    }
    for p in PORTS {
        let mine: Vec<&Hunk> = hunks
            .iter()
            .filter(|h| h.file == p.patch_file && hunk_selected(p, h.number))
            .collect();
        if mine.is_empty() {
            return Err(format!("the patch has no hunks for {}", p.patch_file));
        }
        for (side, path) in [(Side::After, p.after), (Side::Before, p.before)] {
            let Some(content) = files.get(path).cloned().flatten() else {
                if p.may_be_pending {
                    out.pending.push(path.to_string());
                    continue;
                }
                return Err(format!("{path} does not exist"));
            };
            let text: Vec<String> = content.lines().map(squash).collect();
            let mut from = 0;
            for h in &mine {
                match find(h, side, &text, from) {
                    Ok(next) => from = next,
                    Err(k) => {
                        let line = h.side(side)[k];
                        let why = if find(h, side, &text, 0).is_ok() {
                            "stands before an earlier hunk's lines (out of order)"
                        } else {
                            "is missing or out of place"
                        };
                        return Err(format!(
                            "{path}: {} hunk {} {}, {side}: line {} of the hunk {why}: \
                             \"{}{}\"",
                            h.file,
                            h.number,
                            h.header,
                            k + 1,
                            line.marker,
                            line.text
                        ));
                    }
                }
            }
            out.checked
                .push(format!("{path} ({} {side})", p.patch_file));
        }
    }
    Ok(out)
}

/// The SPDX line and a provenance comment (one that names the patch) in
/// the first 5 lines of every file that carries patch lines.
fn check_headers(files: &Files) -> Result<(), String> {
    for (path, content) in files {
        let Some(content) = content else { continue };
        let head: Vec<&str> = content.lines().take(5).collect();
        if !head
            .iter()
            .any(|l| l.contains("SPDX-License-Identifier: GPL-2.0-only"))
        {
            return Err(format!("{path}: no SPDX line in its first 5 lines"));
        }
        let provenance = head.iter().any(|l| {
            let t = l.trim_start();
            (t.starts_with("/*") || t.starts_with('*') || t.starts_with("//"))
                && !t.contains("SPDX")
                && t.to_lowercase().contains("patch")
        });
        if !provenance {
            return Err(format!(
                "{path}: no comment saying where its lines come from (naming the patch) \
                 in its first 5 lines"
            ));
        }
    }
    Ok(())
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn patch_hunks() -> Vec<Hunk> {
    let text = std::fs::read_to_string(root().join(PATCH)).expect("the patch data is readable");
    let hunks = parse(&text).expect("the patch parses");
    // 7 files: 2 + 2 + 3 + 2 + 3 + 2 + 1 hunks.
    assert_eq!(hunks.len(), 15, "hunks in the patch");
    hunks
}

#[test]
fn every_hunk_stands_in_its_ported_files() {
    let hunks = patch_hunks();
    let files = load(root());
    match check(&hunks, &files) {
        Ok(out) => {
            for c in &out.checked {
                println!("ok: {c}");
            }
            for p in &out.pending {
                println!("pending: {p} does not exist yet");
            }
        }
        Err(e) => panic!("{e}"),
    }
    if let Err(e) = check_headers(&files) {
        panic!("{e}");
    }
}

/// The index of the line of `content` whose squashed text is `want`.
fn line_index(content: &str, want: &str) -> Option<usize> {
    let w = squash(want);
    content.lines().position(|l| squash(l) == w)
}

fn replace_line(content: &str, index: usize, new: &str) -> String {
    let mut v: Vec<String> = content.lines().map(str::to_string).collect();
    v[index] = new.to_string();
    v.join("\n") + "\n"
}

/// Change one non-blank character of `line`.
fn mutate_one_char(line: &str) -> String {
    let pos = line
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| i)
        .expect("a line with a character to change");
    let c = line[pos..].chars().next().unwrap_or('x');
    let new = if c == '#' { '@' } else { '#' };
    format!("{}{}{}", &line[..pos], new, &line[pos + c.len_utf8()..])
}

#[test]
fn the_checker_fails_when_one_character_changes() {
    let hunks = patch_hunks();
    let files = load(root());
    check(&hunks, &files).expect("the ported files pass unchanged");
    let mut tried = 0;
    // For every hunk and side, change one character of one of its lines
    // that is not blank, in the file that ports it: the check must fail and
    // name that hunk. Changing white space only must still pass.
    for p in PORTS {
        for h in hunks
            .iter()
            .filter(|h| h.file == p.patch_file && hunk_selected(p, h.number))
        {
            for (side, path) in [(Side::After, p.after), (Side::Before, p.before)] {
                let Some(content) = files.get(path).cloned().flatten() else {
                    continue;
                };
                let lines = h.side(side);
                // The hunk's own changed line when it has one, else its middle.
                let pick = lines
                    .iter()
                    .find(|l| l.marker != ' ' && !squash(&l.text).is_empty())
                    .or_else(|| lines.iter().find(|l| !squash(&l.text).is_empty()))
                    .expect("a hunk with a line that is not blank");
                // Find the ported copy of the hunk, then the line within it.
                let text: Vec<String> = content.lines().map(squash).collect();
                let mut from = 0;
                let mut at = None;
                for g in hunks
                    .iter()
                    .filter(|g| g.file == p.patch_file && hunk_selected(p, g.number))
                {
                    let end = find(g, side, &text, from).expect("ports pass");
                    if g.number == h.number {
                        let start = end - g.side(side).len();
                        let k = lines
                            .iter()
                            .position(|l| std::ptr::eq(*l, *pick))
                            .expect("picked from this hunk");
                        at = Some(start + k);
                    }
                    from = end;
                }
                let at = at.expect("the hunk was found");
                let original = content.lines().nth(at).expect("in range").to_string();
                let mut mutated = files.clone();
                mutated.insert(
                    path.to_string(),
                    Some(replace_line(&content, at, &mutate_one_char(&original))),
                );
                let err = check(&hunks, &mutated)
                    .err()
                    .unwrap_or_else(|| panic!("{path}: changing {original:?} went unnoticed"));
                let names = format!("{} hunk {} ", h.file, h.number);
                assert!(
                    err.contains(path) && err.contains(&names),
                    "{path}: the error does not name the hunk: {err}"
                );
                let mut spaced = files.clone();
                spaced.insert(
                    path.to_string(),
                    Some(replace_line(&content, at, &format!("\t {} ", original))),
                );
                check(&hunks, &spaced)
                    .unwrap_or_else(|e| panic!("white space alone must not matter: {e}"));
                tried += 1;
            }
        }
    }
    // 15 hunks, two sides each (pending files are skipped).
    assert!(tried >= 2 * 11, "only {tried} mutations tried");
}

#[test]
fn the_checker_names_the_first_missing_line() {
    let hunks = patch_hunks();
    let files = load(root());
    let path = "c-tests/callers/after/nouveau_dmem.c";
    let content = files[path].clone().expect("the nouveau port exists");
    let want = "folio = pgmap_request_folio(pgmap, pfn_to_pgmap_offset(pgmap, pfn), 0);";
    let at = line_index(&content, want).expect("the converted request is there");
    let mut m = files.clone();
    m.insert(
        path.to_string(),
        Some(replace_line(&content, at, &want.replace(", 0)", ", 1)"))),
    );
    let err = check(&hunks, &m).expect_err("a changed order must fail");
    assert!(
        err.contains("drivers/gpu/drm/nouveau/nouveau_dmem.c hunk 2"),
        "{err}"
    );
    assert!(err.contains(&format!("\"+{want}\"")), "{err}");

    // A blank line of a hunk is part of it.
    let blank = content
        .lines()
        .enumerate()
        .skip(at)
        .find(|(_, l)| l.trim().is_empty())
        .map(|(i, _)| i)
        .expect("a blank line after the request");
    let removed: String = content
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != blank)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let mut m = files.clone();
    m.insert(path.to_string(), Some(removed));
    let err = check(&hunks, &m).expect_err("a missing blank line must fail");
    assert!(err.contains("hunk 2"), "{err}");

    // Two hunks swapped are out of order.
    let kvm = "c-tests/callers/before/book3s_hv_uvmem.c";
    let text = files[kvm].clone().expect("the kvmppc port exists");
    let lines: Vec<String> = text.lines().map(squash).collect();
    let h1 = hunks
        .iter()
        .find(|h| h.file == "arch/powerpc/kvm/book3s_hv_uvmem.c" && h.number == 1)
        .expect("hunk 1");
    let h2 = hunks
        .iter()
        .find(|h| h.file == "arch/powerpc/kvm/book3s_hv_uvmem.c" && h.number == 2)
        .expect("hunk 2");
    let e1 = find(h1, Side::Before, &lines, 0).expect("hunk 1 found");
    let s1 = e1 - h1.side(Side::Before).len();
    let e2 = find(h2, Side::Before, &lines, e1).expect("hunk 2 found");
    let s2 = e2 - h2.side(Side::Before).len();
    let orig: Vec<&str> = text.lines().collect();
    let mut swapped: Vec<&str> = Vec::new();
    swapped.extend(&orig[..s1]);
    swapped.extend(&orig[s2..e2]);
    swapped.extend(&orig[e1..s2]);
    swapped.extend(&orig[s1..e1]);
    swapped.extend(&orig[e2..]);
    let mut m = files.clone();
    m.insert(kvm.to_string(), Some(swapped.join("\n") + "\n"));
    let err = check(&hunks, &m).expect_err("swapped hunks must fail");
    assert!(
        err.contains("hunk 2") && err.contains("out of order"),
        "{err}"
    );
}

#[test]
fn every_ported_file_says_where_its_lines_come_from() {
    let files = load(root());
    check_headers(&files).unwrap_or_else(|e| panic!("{e}"));
    let mut bad = files.clone();
    let path = "c-tests/callers/after/dax_mapping.c";
    let content = bad[path].clone().expect("the dax port exists");
    let stripped: String = content
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i < 5 {
                "\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    bad.insert(path.to_string(), Some(stripped));
    let err = check_headers(&bad).expect_err("a file without its header must fail");
    assert!(err.contains(path), "{err}");
}
