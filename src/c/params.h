/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The getters of ripmi's module parameters (params.c), called from Rust (src/params.rs, which
 * declares them by hand: keep both in step). Each returns the parameter's value now, read with
 * READ_ONCE(), so Rust sees the value in effect when it uses it, including one written since
 * through /sys/module/ripmi/parameters/. They take no lock, never sleep, and may be called
 * from any context (interrupt, timer, process).
 */
#ifndef RIPMI_C_PARAMS_H
#define RIPMI_C_PARAMS_H

#include <linux/types.h>

/* Read at load (mode 0444): where a BMC without an ACPI entry is. */
u64 ripmi_param_ports(void);
u32 ripmi_param_regspacing(void);
u32 ripmi_param_irq(void);

/* Read at probe (mode 0444). */
u32 ripmi_param_devnum(void);
bool ripmi_param_devintf(void);
bool ripmi_param_no_direct_complete(void);
bool ripmi_param_smart_prepare(void);
u32 ripmi_param_rpm_watch_ms(void);

/* Read at use (mode 0644), as C's ipmi_msghandler and ipmi_si read theirs. */
u32 ripmi_param_max_users(void);
u32 ripmi_param_max_msgs_per_user(void);
u32 ripmi_param_poll_max_busy_us(void);
u64 ripmi_param_default_retry_ms(void);
u32 ripmi_param_default_max_retries(void);
u64 ripmi_param_default_maintenance_retry_ms(void);
u64 ripmi_param_maintenance_mode_timeout_ms(void);

/* Read by the panic notifier (mode 0600): 0 none, 1 event, 2 string. */
u32 ripmi_param_panic_op(void);

#endif /* RIPMI_C_PARAMS_H */
