// SPDX-License-Identifier: GPL-2.0-only
//! Generates the C ABI header from the Rust entry points with cbindgen,
//! when MEMREMAP_ABI_HEADER names where to write it (the Makefile does).

fn main() {
    println!("cargo:rerun-if-env-changed=MEMREMAP_ABI_HEADER");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src");
    let Ok(out) = std::env::var("MEMREMAP_ABI_HEADER") else {
        return;
    };
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml"))
        .expect("cbindgen.toml must parse");
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen must understand src/ffi.rs")
        .write_to_file(out);
}
