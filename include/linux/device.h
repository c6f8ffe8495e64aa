/* SPDX-License-Identifier: GPL-2.0-only */
/* struct device and its life, devres, and dev_*() logging. */
#ifndef _DEVICE_H_
#define _DEVICE_H_

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/kdev_t.h>
#include <linux/kref.h>
#include <linux/printk.h>
#include <linux/types.h>

#define NUMA_NO_NODE	(-1)

/* linux/kobject.h: what a device holds. */
struct kobject {
	const char		*name;
	struct kobject		*parent;
	struct kref		kref;
	unsigned int		state_initialized:1;
};

/*
 * A subset of the kernel's fields, in its order. Managed resources
 * (devm_*()) are kept by the library against the device's address, so a
 * zeroed device collects them without device_initialize(); its reference
 * count (kobj.kref) needs device_initialize() first, as in the kernel.
 */
struct device {
	struct device	*parent;
	struct kobject	kobj;
	const char	*init_name;
	void		*driver_data;
	int		numa_node;
	dev_t		devt;
	void		(*release)(struct device *dev);
};

/* The library reads these fields: the layout is checked against its own. */
_Static_assert(__builtin_offsetof(struct device, kobj.kref) == 24,
	       "struct device: kobj.kref at 24");
_Static_assert(__builtin_offsetof(struct device, init_name) == 32,
	       "struct device: init_name at 32");
_Static_assert(__builtin_offsetof(struct device, devt) == 56,
	       "struct device: devt at 56");
_Static_assert(__builtin_offsetof(struct device, release) == 64,
	       "struct device: release at 64");
_Static_assert(sizeof(struct device) == 72, "struct device is 72 bytes");

static inline const char *dev_name(const struct device *dev)
{
	if (dev->kobj.name)
		return dev->kobj.name;
	return dev->init_name ? dev->init_name : "(unnamed device)";
}

static inline void *dev_get_drvdata(const struct device *dev)
{
	return dev->driver_data;
}

static inline void dev_set_drvdata(struct device *dev, void *data)
{
	dev->driver_data = data;
}

static inline int dev_to_node(struct device *dev)
{
	return dev->numa_node;
}

static inline void set_dev_node(struct device *dev, int node)
{
	dev->numa_node = node;
}

/*
 * Run every managed resource of @dev (devm_*(), devm_memremap_pages()
 * among them), newest first, as the driver core does when the device goes
 * away. put_device() of the last reference does it too.
 */
void devres_release_all(struct device *dev);

/*
 * One reference, the kobject marked initialised. The last put_device()
 * releases the device: its managed resources newest first, a DMA-API
 * check that no mapping is left, then @dev->release(@dev) (a device
 * without one WARNs, as the kernel's does). A get or put of a device never
 * initialised, or a put past zero, WARNs and changes nothing.
 */
void device_initialize(struct device *dev);
struct device *get_device(struct device *dev);
void put_device(struct device *dev);

/*
 * Managed memory: kmalloc()ed (in the ledger, under fault injection),
 * freed when @dev goes or by devm_kfree(). Size 0 answers ZERO_SIZE_PTR.
 */
void *__devm_kmalloc_site(struct device *dev, size_t size, gfp_t gfp,
			  const char *file, int line);
#define devm_kmalloc(dev, size, gfp) \
	__devm_kmalloc_site((dev), (size), (gfp), __FILE__, __LINE__)
#define devm_kzalloc(dev, size, gfp) \
	devm_kmalloc((dev), (size), (gfp) | __GFP_ZERO)

static inline void *__devm_kmalloc_array_site(struct device *dev, size_t n,
					      size_t size, gfp_t gfp,
					      const char *file, int line)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return __devm_kmalloc_site(dev, bytes, gfp, file, line);
}

#define devm_kmalloc_array(dev, n, size, gfp) \
	__devm_kmalloc_array_site((dev), (n), (size), (gfp), __FILE__, __LINE__)
#define devm_kcalloc(dev, n, size, gfp) \
	devm_kmalloc_array((dev), (n), (size), (gfp) | __GFP_ZERO)

/* Free managed memory now; memory @dev does not manage WARNs. */
void devm_kfree(struct device *dev, const void *p);

/*
 * Run @action(@data) when @dev goes: 0, or -ENOMEM when the entry cannot
 * be allocated (fault injection). devm_add_action_or_reset() runs the
 * action at once on that failure.
 */
int devm_add_action(struct device *dev, void (*action)(void *), void *data);
/*
 * Forget (devm_remove_action) or run now (devm_release_action) an action;
 * WARNs when @dev has no such action.
 */
void devm_remove_action(struct device *dev, void (*action)(void *),
			void *data);
void devm_release_action(struct device *dev, void (*action)(void *),
			 void *data);

static inline int devm_add_action_or_reset(struct device *dev,
					   void (*action)(void *), void *data)
{
	int ret = devm_add_action(dev, action, data);

	if (ret)
		action(data);
	return ret;
}

#define dev_printk(level, dev, fmt, ...) \
	printk(level "%s: " fmt, dev_name(dev), ##__VA_ARGS__)

#define dev_emerg(dev, fmt, ...) dev_printk(KERN_EMERG, dev, fmt, ##__VA_ARGS__)
#define dev_crit(dev, fmt, ...)	dev_printk(KERN_CRIT, dev, fmt, ##__VA_ARGS__)
#define dev_err(dev, fmt, ...)	dev_printk(KERN_ERR, dev, fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) \
	dev_printk(KERN_WARNING, dev, fmt, ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) \
	dev_printk(KERN_NOTICE, dev, fmt, ##__VA_ARGS__)
#define dev_info(dev, fmt, ...)	dev_printk(KERN_INFO, dev, fmt, ##__VA_ARGS__)

#ifdef DEBUG
#define dev_dbg(dev, fmt, ...)	dev_printk(KERN_DEBUG, dev, fmt, ##__VA_ARGS__)
#else
#define dev_dbg(dev, fmt, ...)						\
({									\
	if (0)								\
		dev_printk(KERN_DEBUG, dev, fmt, ##__VA_ARGS__);	\
	0;								\
})
#endif

/* Cross-check the prototypes above against the library's. */
#ifdef CONFIG_ZONE_DEVICE
#include <memremap/abi.h>
#endif

#endif /* _DEVICE_H_ */
