// SPDX-License-Identifier: GPL-2.0-only
//! Generates the C ABI header from the Rust entry points with cbindgen,
//! when MEMREMAP_ABI_HEADER names where to write it (the Makefile does).
//!
//! With the `reference` feature, also compiles the seed's C reference
//! (c-tests/reference/*.c) into the crate, for tests/differential.rs.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=MEMREMAP_ABI_HEADER");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    if std::env::var_os("CARGO_FEATURE_REFERENCE").is_some() {
        reference(Path::new(&dir));
    }
    let Ok(out) = std::env::var("MEMREMAP_ABI_HEADER") else {
        return;
    };
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen must understand src/ffi.rs and src/ffi/")
        .write_to_file(out);
}

/// The seed's C, under reference names, with the kernel's default warning
/// set: those lines must compile unchanged.
fn reference(dir: &Path) {
    let src = dir.join("c-tests/reference");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-changed={}", dir.join("include").display());
    let mut files: Vec<_> = std::fs::read_dir(&src)
        .expect("c-tests/reference must exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    let mut build = cc::Build::new();
    build
        .include(dir.join("include"))
        .warnings(false)
        .extra_warnings(false)
        .flag("-std=gnu11")
        .flag("-fno-strict-aliasing")
        .flag("-Wall")
        .flag("-Wno-sign-compare")
        .flag("-Werror")
        .files(&files);
    build.compile("memremap_reference");
}
