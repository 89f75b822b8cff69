// SPDX-License-Identifier: GPL-2.0
/*
 * ripmi's module parameters.
 *
 * They are declared here, in C, rather than in Rust's module! macro: the 7.3 kernel crate
 * registers module! parameters with permission 0, so they would not appear under
 * /sys/module/ripmi/parameters/ and could not be changed at run time. Here each one gets the
 * permission C's IPMI stack gives its counterpart (0644 where a value may change at run time),
 * or 0444 where C's is 0 (ipmi_si's ports, irqs, regspacings: C hides them, ripmi shows them)
 * and for ripmi's own load- and probe-time parameters. Documentation/parameters.rst lists them.
 *
 * Nothing else lives here: Rust reads each value through the getter below (READ_ONCE: a sysfs
 * write may change it at any time), at the moment it uses it, as C reads its globals.
 */
#include <linux/compiler.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "params.h"

/* Where a BMC with no ACPI IPI0001 entry is (read at load). */

static unsigned long long ports;
module_param(ports, ullong, 0444);
MODULE_PARM_DESC(ports,
		 "KCS data register I/O port for a BMC with no ACPI IPI0001 entry (0: use ACPI only)");

static unsigned int regspacing = 1;
module_param(regspacing, uint, 0444);
MODULE_PARM_DESC(regspacing,
		 "Distance in bytes between the KCS data and status registers (with ports=)");

static unsigned int irq;
module_param(irq, uint, 0444);
MODULE_PARM_DESC(irq, "IRQ of the KCS given with ports= (0: poll)");

/* How a bound BMC is set up (read at probe). */

static unsigned int devnum;
module_param(devnum, uint, 0444);
MODULE_PARM_DESC(devnum,
		 "N of the first /dev/ipmiN node; pick one the C ipmi_devintf does not use");

static bool devintf = true;
module_param(devintf, bool, 0444);
MODULE_PARM_DESC(devintf,
		 "Provide /dev/ipmiN (0: leave it to the kernel's ipmi_devintf, through the in-kernel API)");

static bool no_direct_complete;
module_param(no_direct_complete, bool, 0444);
MODULE_PARM_DESC(no_direct_complete,
		 "Set DPM_FLAG_NO_DIRECT_COMPLETE: never let the PM core skip suspend/resume");

static bool smart_prepare;
module_param(smart_prepare, bool, 0444);
MODULE_PARM_DESC(smart_prepare,
		 "Set DPM_FLAG_SMART_PREPARE: the ACPI PM domain keeps prepare's 0 (no direct-complete)");

static unsigned int rpm_watch_ms = 250;
module_param(rpm_watch_ms, uint, 0444);
MODULE_PARM_DESC(rpm_watch_ms,
		 "While runtime-suspended, how often the KCS status is checked for attention, in ms");

/* Read each time they are used: C's ipmi_msghandler parameters, and ipmi_si's busy limit. */

static unsigned int max_users = 30;
module_param(max_users, uint, 0644);
MODULE_PARM_DESC(max_users,
		 "Most users (open files) per interface; further opens fail with EBUSY");

static unsigned int max_msgs_per_user = 100;
module_param(max_msgs_per_user, uint, 0644);
MODULE_PARM_DESC(max_msgs_per_user,
		 "Most messages queued for one user before incoming ones are held back");

static unsigned int poll_max_busy_us;
module_param(poll_max_busy_us, uint, 0644);
MODULE_PARM_DESC(poll_max_busy_us,
		 "Without an IRQ: after this many us of one KCS wait, poll once per 4 ms instead of closely (0: no limit; as kipmid_max_busy_us)");

static unsigned long default_retry_ms = 2000;
module_param(default_retry_ms, ulong, 0644);
MODULE_PARM_DESC(default_retry_ms,
		 "The time (milliseconds) between retry sends");

static unsigned int default_max_retries = 4;
module_param(default_max_retries, uint, 0644);
MODULE_PARM_DESC(default_max_retries,
		 "How many times an IPMB or LAN request that gives no number is sent again before it times out (0xC3)");

static unsigned long default_maintenance_retry_ms = 3000;
module_param(default_maintenance_retry_ms, ulong, 0644);
MODULE_PARM_DESC(default_maintenance_retry_ms,
		 "The time (milliseconds) between retry sends in maintenance mode");

static unsigned long maintenance_mode_timeout_ms = 30000;
module_param(maintenance_mode_timeout_ms, ulong, 0644);
MODULE_PARM_DESC(maintenance_mode_timeout_ms,
		 "The time (milliseconds) after the last maintenance message that the connection stays in maintenance mode.");

u64 ripmi_param_ports(void)
{
	return READ_ONCE(ports);
}

u32 ripmi_param_regspacing(void)
{
	return READ_ONCE(regspacing);
}

u32 ripmi_param_irq(void)
{
	return READ_ONCE(irq);
}

u32 ripmi_param_devnum(void)
{
	return READ_ONCE(devnum);
}

bool ripmi_param_devintf(void)
{
	return READ_ONCE(devintf);
}

bool ripmi_param_no_direct_complete(void)
{
	return READ_ONCE(no_direct_complete);
}

bool ripmi_param_smart_prepare(void)
{
	return READ_ONCE(smart_prepare);
}

u32 ripmi_param_rpm_watch_ms(void)
{
	return READ_ONCE(rpm_watch_ms);
}

u32 ripmi_param_max_users(void)
{
	return READ_ONCE(max_users);
}

u32 ripmi_param_max_msgs_per_user(void)
{
	return READ_ONCE(max_msgs_per_user);
}

u32 ripmi_param_poll_max_busy_us(void)
{
	return READ_ONCE(poll_max_busy_us);
}

u64 ripmi_param_default_retry_ms(void)
{
	return READ_ONCE(default_retry_ms);
}

u32 ripmi_param_default_max_retries(void)
{
	return READ_ONCE(default_max_retries);
}

u64 ripmi_param_default_maintenance_retry_ms(void)
{
	return READ_ONCE(default_maintenance_retry_ms);
}

u64 ripmi_param_maintenance_mode_timeout_ms(void)
{
	return READ_ONCE(maintenance_mode_timeout_ms);
}

/*
 * panic_op: what a kernel panic sends to the BMC (ipmi_msghandler's panic_op, same values,
 * parsing, output, mode and default). Read by the panic notifier (src/panic.rs).
 */
static const char *const panic_op_str[] = { "none", "event", "string", NULL };

#ifdef CONFIG_IPMI_PANIC_STRING
#define RIPMI_PANIC_DEFAULT 2
#elif defined(CONFIG_IPMI_PANIC_EVENT)
#define RIPMI_PANIC_DEFAULT 1
#else
#define RIPMI_PANIC_DEFAULT 0
#endif

static unsigned int panic_op = RIPMI_PANIC_DEFAULT;

static int panic_op_set(const char *val, const struct kernel_param *kp)
{
	char valcp[16];
	int e;

	strscpy(valcp, val, sizeof(valcp));
	e = match_string(panic_op_str, -1, strstrip(valcp));
	if (e < 0)
		return e;

	WRITE_ONCE(panic_op, e);
	return 0;
}

static int panic_op_get(char *buffer, const struct kernel_param *kp)
{
	unsigned int op = READ_ONCE(panic_op);

	return sprintf(buffer, "%s\n", op < 3 ? panic_op_str[op] : "???");
}

static const struct kernel_param_ops panic_op_ops = {
	.set = panic_op_set,
	.get = panic_op_get,
};
module_param_cb(panic_op, &panic_op_ops, NULL, 0600);
MODULE_PARM_DESC(panic_op,
		 "Sets if the IPMI driver will attempt to store panic information in the event log in the event of a panic.  Set to 'none' for no, 'event' for a single event, or 'string' for a generic event and the panic string in IPMI OEM events.");

u32 ripmi_param_panic_op(void)
{
	return READ_ONCE(panic_op);
}
