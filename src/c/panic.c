// SPDX-License-Identifier: GPL-2.0
/*
 * ripmi's panic notifier (C ipmi_msghandler's panic_block, priority 200). The kernel crate has
 * no panic notifier API, so the block lives here; it forwards the panic string to Rust
 * (src/panic.rs), which does the work. Nothing else lives here.
 */
#include <linux/notifier.h>
#include <linux/panic_notifier.h>

/* Defined in Rust (src/panic.rs). */
void ripmi_panic_event(const char *str);
/* Called from Rust (src/panic.rs) at load and unload. */
void ripmi_panic_register(void);
void ripmi_panic_unregister(void);

static int ripmi_panic_notify(struct notifier_block *nb, unsigned long event, void *ptr)
{
	ripmi_panic_event(ptr);
	return NOTIFY_DONE;
}

static struct notifier_block ripmi_panic_block = {
	.notifier_call = ripmi_panic_notify,
	.priority = 200,
};

void ripmi_panic_register(void)
{
	atomic_notifier_chain_register(&panic_notifier_list, &ripmi_panic_block);
}

void ripmi_panic_unregister(void)
{
	atomic_notifier_chain_unregister(&panic_notifier_list, &ripmi_panic_block);
}
