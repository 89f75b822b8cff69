// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel IPMI API of include/linux/ipmi.h, as ipmi_msghandler exports it, so that the
 * kernel's own ipmi_devintf, ipmi_watchdog, ipmi_poweroff and acpi_ipmi run on ripmi.
 *
 * A Rust module cannot export a symbol by itself; this file does, with the names, signatures
 * and export kinds of ipmi_msghandler.c, and forwards each call to a Rust function of
 * src/kapi/ (ripmi_kapi_*), nothing more. The static_asserts pin the layouts Rust mirrors in
 * src/kapi/abi.rs (bindgen for an out-of-tree module does not include linux/ipmi.h).
 *
 * These symbols are ipmi_msghandler's: ripmi and ipmi_msghandler cannot be loaded together.
 * The module loader refuses the second one ("exports duplicate symbol ipmi_create_user (owned
 * by ...)"); Documentation/kernel-api.rst says more.
 */
#include <linux/build_bug.h>
#include <linux/export.h>
#include <linux/ipmi.h>
#include <linux/ipmi_smi.h>
#include <linux/kmod.h>
#include <linux/stddef.h>

/* The layouts of src/kapi/abi.rs (x86_64). */
static_assert(sizeof(struct ipmi_addr) == 40);
static_assert(sizeof(struct kernel_ipmi_msg) == 16);
static_assert(offsetof(struct kernel_ipmi_msg, data) == 8);
static_assert(sizeof(struct ipmi_recv_msg) == 384);
static_assert(offsetof(struct ipmi_recv_msg, recv_type) == 16);
static_assert(offsetof(struct ipmi_recv_msg, user) == 24);
static_assert(offsetof(struct ipmi_recv_msg, addr) == 32);
static_assert(offsetof(struct ipmi_recv_msg, msgid) == 72);
static_assert(offsetof(struct ipmi_recv_msg, msg) == 80);
static_assert(offsetof(struct ipmi_recv_msg, user_msg_data) == 96);
static_assert(offsetof(struct ipmi_recv_msg, done) == 104);
static_assert(offsetof(struct ipmi_recv_msg, msg_data) == 112);
static_assert(sizeof(struct ipmi_user_hndl) == 32);
static_assert(offsetof(struct ipmi_user_hndl, shutdown) == 24);
static_assert(offsetof(struct ipmi_smi_watcher, owner) == 16);
static_assert(offsetof(struct ipmi_smi_watcher, new_smi) == 24);
static_assert(offsetof(struct ipmi_smi_watcher, smi_gone) == 32);
static_assert(offsetof(struct ipmi_smi_msg, done) == 592);
static_assert(offsetof(struct ipmi_smi_info, addr_src) == 0);
static_assert(offsetof(struct ipmi_smi_info, dev) == 8);
static_assert(offsetof(struct ipmi_smi_info, addr_info) == 16);
static_assert(SI_HARDCODED == 2 && SI_ACPI == 4 && SI_SMBIOS == 5 && SI_LAST == 9);

/* The Rust side (src/kapi/mod.rs). */
int ripmi_kapi_smi_watcher_register(struct ipmi_smi_watcher *watcher);
int ripmi_kapi_smi_watcher_unregister(struct ipmi_smi_watcher *watcher);
int ripmi_kapi_validate_addr(struct ipmi_addr *addr, int len);
unsigned int ripmi_kapi_addr_length(int addr_type);
int ripmi_kapi_create_user(unsigned int if_num, const struct ipmi_user_hndl *handler,
			   void *handler_data, struct ipmi_user **user);
int ripmi_kapi_get_smi_info(int if_num, struct ipmi_smi_info *data);
void ripmi_kapi_destroy_user(struct ipmi_user *user);
int ripmi_kapi_get_version(struct ipmi_user *user, unsigned char *major, unsigned char *minor);
int ripmi_kapi_set_my_address(struct ipmi_user *user, unsigned int channel,
			      unsigned char address);
int ripmi_kapi_get_my_address(struct ipmi_user *user, unsigned int channel,
			      unsigned char *address);
int ripmi_kapi_set_my_lun(struct ipmi_user *user, unsigned int channel, unsigned char lun);
int ripmi_kapi_get_my_lun(struct ipmi_user *user, unsigned int channel, unsigned char *lun);
int ripmi_kapi_get_maintenance_mode(struct ipmi_user *user);
int ripmi_kapi_set_maintenance_mode(struct ipmi_user *user, int mode);
int ripmi_kapi_set_gets_events(struct ipmi_user *user, bool val);
int ripmi_kapi_register_for_cmd(struct ipmi_user *user, unsigned char netfn, unsigned char cmd,
				unsigned int chans);
int ripmi_kapi_unregister_for_cmd(struct ipmi_user *user, unsigned char netfn,
				  unsigned char cmd, unsigned int chans);
unsigned char ripmi_kapi_ipmb_checksum(unsigned char *data, int size);
int ripmi_kapi_request(struct ipmi_user *user, struct ipmi_addr *addr, long msgid,
		       struct kernel_ipmi_msg *msg, void *user_msg_data, void *supplied_smi,
		       struct ipmi_recv_msg *supplied_recv, int priority, int max_retries,
		       unsigned int retry_time_ms);
void ripmi_kapi_poll_interface(struct ipmi_user *user);
void ripmi_kapi_free_recv_msg(struct ipmi_recv_msg *msg);
void ripmi_kapi_panic_request_and_wait(struct ipmi_user *user, struct ipmi_addr *addr,
				       struct kernel_ipmi_msg *msg);

int ipmi_smi_watcher_register(struct ipmi_smi_watcher *watcher)
{
	return ripmi_kapi_smi_watcher_register(watcher);
}
EXPORT_SYMBOL(ipmi_smi_watcher_register);

int ipmi_smi_watcher_unregister(struct ipmi_smi_watcher *watcher)
{
	return ripmi_kapi_smi_watcher_unregister(watcher);
}
EXPORT_SYMBOL(ipmi_smi_watcher_unregister);

int ipmi_validate_addr(struct ipmi_addr *addr, int len)
{
	return ripmi_kapi_validate_addr(addr, len);
}
EXPORT_SYMBOL(ipmi_validate_addr);

unsigned int ipmi_addr_length(int addr_type)
{
	return ripmi_kapi_addr_length(addr_type);
}
EXPORT_SYMBOL(ipmi_addr_length);

int ipmi_create_user(unsigned int if_num, const struct ipmi_user_hndl *handler,
		     void *handler_data, struct ipmi_user **user)
{
	return ripmi_kapi_create_user(if_num, handler, handler_data, user);
}
EXPORT_SYMBOL(ipmi_create_user);

int ipmi_get_smi_info(int if_num, struct ipmi_smi_info *data)
{
	return ripmi_kapi_get_smi_info(if_num, data);
}
EXPORT_SYMBOL(ipmi_get_smi_info);

void ipmi_destroy_user(struct ipmi_user *user)
{
	ripmi_kapi_destroy_user(user);
}
EXPORT_SYMBOL(ipmi_destroy_user);

int ipmi_get_version(struct ipmi_user *user, unsigned char *major, unsigned char *minor)
{
	return ripmi_kapi_get_version(user, major, minor);
}
EXPORT_SYMBOL(ipmi_get_version);

int ipmi_set_my_address(struct ipmi_user *user, unsigned int channel, unsigned char address)
{
	return ripmi_kapi_set_my_address(user, channel, address);
}
EXPORT_SYMBOL(ipmi_set_my_address);

int ipmi_get_my_address(struct ipmi_user *user, unsigned int channel, unsigned char *address)
{
	return ripmi_kapi_get_my_address(user, channel, address);
}
EXPORT_SYMBOL(ipmi_get_my_address);

int ipmi_set_my_LUN(struct ipmi_user *user, unsigned int channel, unsigned char LUN)
{
	return ripmi_kapi_set_my_lun(user, channel, LUN);
}
EXPORT_SYMBOL(ipmi_set_my_LUN);

int ipmi_get_my_LUN(struct ipmi_user *user, unsigned int channel, unsigned char *address)
{
	return ripmi_kapi_get_my_lun(user, channel, address);
}
EXPORT_SYMBOL(ipmi_get_my_LUN);

int ipmi_get_maintenance_mode(struct ipmi_user *user)
{
	return ripmi_kapi_get_maintenance_mode(user);
}
EXPORT_SYMBOL(ipmi_get_maintenance_mode);

int ipmi_set_maintenance_mode(struct ipmi_user *user, int mode)
{
	return ripmi_kapi_set_maintenance_mode(user, mode);
}
EXPORT_SYMBOL(ipmi_set_maintenance_mode);

int ipmi_set_gets_events(struct ipmi_user *user, bool val)
{
	return ripmi_kapi_set_gets_events(user, val);
}
EXPORT_SYMBOL(ipmi_set_gets_events);

int ipmi_register_for_cmd(struct ipmi_user *user, unsigned char netfn, unsigned char cmd,
			  unsigned int chans)
{
	return ripmi_kapi_register_for_cmd(user, netfn, cmd, chans);
}
EXPORT_SYMBOL(ipmi_register_for_cmd);

int ipmi_unregister_for_cmd(struct ipmi_user *user, unsigned char netfn, unsigned char cmd,
			    unsigned int chans)
{
	return ripmi_kapi_unregister_for_cmd(user, netfn, cmd, chans);
}
EXPORT_SYMBOL(ipmi_unregister_for_cmd);

unsigned char ipmb_checksum(unsigned char *data, int size)
{
	return ripmi_kapi_ipmb_checksum(data, size);
}
EXPORT_SYMBOL(ipmb_checksum);

int ipmi_request_settime(struct ipmi_user *user, struct ipmi_addr *addr, long msgid,
			 struct kernel_ipmi_msg *msg, void *user_msg_data, int priority,
			 int max_retries, unsigned int retry_time_ms)
{
	return ripmi_kapi_request(user, addr, msgid, msg, user_msg_data, NULL, NULL, priority,
				  max_retries, retry_time_ms);
}
EXPORT_SYMBOL(ipmi_request_settime);

int ipmi_request_supply_msgs(struct ipmi_user *user, struct ipmi_addr *addr, long msgid,
			     struct kernel_ipmi_msg *msg, void *user_msg_data,
			     void *supplied_smi, struct ipmi_recv_msg *supplied_recv,
			     int priority)
{
	return ripmi_kapi_request(user, addr, msgid, msg, user_msg_data, supplied_smi,
				  supplied_recv, priority, -1, 0);
}
EXPORT_SYMBOL(ipmi_request_supply_msgs);

void ipmi_poll_interface(struct ipmi_user *user)
{
	ripmi_kapi_poll_interface(user);
}
EXPORT_SYMBOL(ipmi_poll_interface);

void ipmi_free_recv_msg(struct ipmi_recv_msg *msg)
{
	ripmi_kapi_free_recv_msg(msg);
}
EXPORT_SYMBOL(ipmi_free_recv_msg);

void ipmi_panic_request_and_wait(struct ipmi_user *user, struct ipmi_addr *addr,
				 struct kernel_ipmi_msg *msg)
{
	ripmi_kapi_panic_request_and_wait(user, addr, msg);
}
EXPORT_SYMBOL(ipmi_panic_request_and_wait);

/*
 * For an interface ACPI describes, ask for acpi_ipmi (the ACPI IPMI operation region), as
 * ipmi_si_platform.c does: request_module_nowait() is a macro over a variadic function.
 */
void ripmi_request_acpi_ipmi(void);
void ripmi_request_acpi_ipmi(void)
{
	request_module_nowait("acpi_ipmi");
}
