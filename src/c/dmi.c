// SPDX-License-Identifier: GPL-2.0
/*
 * ripmi: the SMBIOS table walk, for which the Rust kernel crate has no binding.
 * Hands every SMBIOS structure to ripmi_dmi_record() (src/discovery.rs), nothing more.
 */
#include <linux/dmi.h>

void ripmi_dmi_record(const struct dmi_header *dm, void *data);
int ripmi_dmi_walk(void *data);

int ripmi_dmi_walk(void *data)
{
	return dmi_walk(ripmi_dmi_record, data);
}
