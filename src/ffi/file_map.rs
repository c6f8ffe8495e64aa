// SPDX-License-Identifier: GPL-2.0-only
//! C entry points of file mappings of device memory (linux/mm.h:
//! `vmf_insert_page_mkwrite()`, `unmap_mapping_range()`,
//! `unmap_mapping_pages()`) and the test API's `memremap_mm_munmap()`:
//! pointer checks, then `file_map`.
#![allow(clippy::missing_safety_doc)]

use crate::address_space::{MmStruct, VmAreaStruct, PAGE_SIZE};
use crate::fault::VmFault;
use crate::file_map;
use crate::types::Page;
use core::ffi::{c_int, c_long, c_uint, c_ulong};

/// `struct address_space`, opaque: only its address is used.
#[repr(C)]
pub struct AddressSpace {
    _private: [u8; 0],
}

/// The `f_mapping` of a VMA's `vm_file`: the first word of the C
/// `struct file` (<linux/fs.h> asserts its offset).
fn f_mapping(file: usize) -> usize {
    // SAFETY: `file` is a VMA's non-NULL `vm_file`, which C set to a live
    // `struct file` for as long as the VMA exists; the word is read by
    // value.
    unsafe { (file as *const usize).read() }
}

#[no_mangle]
pub unsafe extern "C" fn vmf_insert_page_mkwrite(
    vmf: *mut VmFault,
    page: *mut Page,
    write: bool,
) -> c_uint {
    // SAFETY: per the ffi contract, NULL or the vm_fault the library passed
    // to ->fault() and a page of the memmap (Page is all atomics).
    let (Some(vmf), Some(p)) = (unsafe { vmf.as_ref() }, unsafe { page.as_ref() }) else {
        crate::warn_if!("vmf_insert_page_mkwrite", true, "NULL vmf or page");
        return file_map::VM_FAULT_SIGBUS;
    };
    file_map::insert_page_mkwrite(vmf, p, write)
}

#[no_mangle]
pub extern "C" fn unmap_mapping_pages(
    mapping: *mut AddressSpace,
    start: c_ulong,
    nr: c_ulong,
    even_cows: bool,
) {
    let _ = even_cows; // no private COW copies in this model
    if mapping.is_null() || nr == 0 {
        return;
    }
    let last = start.saturating_add(nr - 1);
    file_map::unmap_mapping_pages(mapping as usize, start, last, f_mapping);
}

#[no_mangle]
pub extern "C" fn unmap_mapping_range(
    mapping: *mut AddressSpace,
    holebegin: c_long,
    holelen: c_long,
    even_cows: c_int,
) {
    // As mm/memory.c: a length of 0 means to the end of the file.
    let shift = PAGE_SIZE.trailing_zeros();
    let first = (holebegin.max(0) as u64) >> shift;
    let mut nr = (holelen.max(0) as u64).div_ceil(PAGE_SIZE);
    if holelen <= 0 || first.checked_add(nr).is_none() {
        nr = u64::MAX - first;
    }
    unmap_mapping_pages(mapping, first, nr, even_cows != 0);
}

#[no_mangle]
pub unsafe extern "C" fn memremap_mm_munmap(mm: *mut MmStruct, vma: *mut VmAreaStruct) -> c_int {
    let ok = file_map::munmap(mm as usize, vma as usize);
    crate::warn_if!(
        "memremap_mm_munmap",
        !ok,
        "memremap_mm_munmap({mm:p}, {vma:p}): not a VMA of that mm"
    );
    if ok {
        0
    } else {
        -libc::EINVAL
    }
}

#[no_mangle]
pub extern "C" fn memremap_device_memory_live() -> c_long {
    crate::memmap::devmem::live() as c_long
}
