// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the constants dev_ipmi.txt uses, as "NAME = VALUE" lines, for the ABI it is built for
 * (gen-const.sh builds it -m64 and -m32 and merges the two into dev_ipmi.txt.const). The values
 * come from the <linux/ipmi.h> the compiler sees, so they check the descriptions against it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/ipmi.h>

#define P(x) printf("%s = %llu\n", #x, (unsigned long long)(long long)(x))

int main(void)
{
	P(AT_FDCWD);
	P(IPMICTL_RECEIVE_MSG_TRUNC);
	P(IPMICTL_RECEIVE_MSG);
	P(IPMICTL_SEND_COMMAND);
	P(IPMICTL_REGISTER_FOR_CMD);
	P(IPMICTL_UNREGISTER_FOR_CMD);
	P(IPMICTL_SET_GETS_EVENTS_CMD);
	P(IPMICTL_SET_MY_ADDRESS_CMD);
	P(IPMICTL_GET_MY_ADDRESS_CMD);
	P(IPMICTL_SET_MY_LUN_CMD);
	P(IPMICTL_GET_MY_LUN_CMD);
	P(IPMICTL_SEND_COMMAND_SETTIME);
	P(IPMICTL_SET_TIMING_PARMS_CMD);
	P(IPMICTL_GET_TIMING_PARMS_CMD);
	P(IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD);
	P(IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD);
	P(IPMICTL_SET_MY_CHANNEL_LUN_CMD);
	P(IPMICTL_GET_MY_CHANNEL_LUN_CMD);
	P(IPMICTL_REGISTER_FOR_CMD_CHANS);
	P(IPMICTL_UNREGISTER_FOR_CMD_CHANS);
	P(IPMICTL_GET_MAINTENANCE_MODE_CMD);
	P(IPMICTL_SET_MAINTENANCE_MODE_CMD);
	P(IPMI_BMC_CHANNEL);
	P(IPMI_CHAN_ALL);
	P(IPMI_IPMB_ADDR_TYPE);
	P(IPMI_IPMB_BROADCAST_ADDR_TYPE);
	P(IPMI_IPMB_DIRECT_ADDR_TYPE);
	P(IPMI_LAN_ADDR_TYPE);
	P(IPMI_MAINTENANCE_MODE_AUTO);
	P(IPMI_MAINTENANCE_MODE_OFF);
	P(IPMI_MAINTENANCE_MODE_ON);
	P(IPMI_MAX_MSG_LENGTH);
	P(IPMI_SYSTEM_INTERFACE_ADDR_TYPE);
	P(__NR_ioctl);
	P(__NR_openat);
	return 0;
}
