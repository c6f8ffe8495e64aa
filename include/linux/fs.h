/* SPDX-License-Identifier: GPL-2.0-only */
/* Files, inodes and their address spaces, as a mapped device uses them. */
#ifndef _LINUX_FS_H
#define _LINUX_FS_H

#include <linux/compiler.h>
#include <linux/kdev_t.h>
#include <linux/mm_types.h>
#include <linux/stddef.h>
#include <linux/types.h>

/*
 * The library reads one field, struct file's f_mapping (unmap_mapping_range()
 * finds a file's VMAs by it); the rest is the driver's and its test's.
 */
struct module;
struct inode;
struct file;
struct address_space_operations;

/* A file's pages: @host owns them. */
struct address_space {
	struct inode *host;
	const struct address_space_operations *a_ops;
	unsigned long nrpages;
};

/* Inode flags (include/linux/fs.h): S_DAX, direct access. */
#define S_DAX		(1 << 13)
#define IS_DAX(inode)	((inode)->i_flags & S_DAX)

struct inode {
	struct address_space *i_mapping;
	struct address_space i_data;
	unsigned int i_flags;
	dev_t i_rdev;
	void *i_private;
};

struct file_operations {
	struct module *owner;
	int (*open)(struct inode *inode, struct file *filp);
	int (*release)(struct inode *inode, struct file *filp);
	int (*mmap)(struct file *filp, struct vm_area_struct *vma);
};

/* An open file: f_mapping first (the library reads it there). */
struct file {
	struct address_space *f_mapping;
	const struct file_operations *f_op;
	struct inode *f_inode;
	void *private_data;
	unsigned int f_flags;
};

_Static_assert(offsetof(struct file, f_mapping) == 0,
	       "struct file.f_mapping at 0 (src/ffi/file_map.rs)");

static inline struct inode *file_inode(const struct file *f)
{
	return f->f_inode;
}

/* A VMA mapping a DAX file. */
static inline bool vma_is_dax(const struct vm_area_struct *vma)
{
	return vma->vm_file && vma->vm_file->f_mapping &&
	       vma->vm_file->f_mapping->host &&
	       IS_DAX(vma->vm_file->f_mapping->host);
}

#endif /* _LINUX_FS_H */
