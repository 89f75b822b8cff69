/*
 * SPDX-License-Identifier: GPL-2.0
 *
 * ipmi-opregion.asl: an SSDT with an ACPI IPMI operation region, for t-kapi-acpi-opregion
 * (tests/guest). scripts/vm compiles it with iasl at boot time and passes the AML to QEMU
 * (-acpitable file=...) in the boots that have ACPI.
 *
 * \_SB.IPMT holds the region: ACPI 6.5, 5.5.2.4.4 "IPMI Operation Region". The region's
 * address is the network function shifted left by 8 (App, 0x06), a field's byte offset in it
 * is the command (0x01, Get Device ID), so a write of the 66-byte buffer (status, length,
 * data) to GDID goes to the kernel's IPMI space handler (drivers/acpi/acpi_ipmi.c) with address
 * 0x0601; the same buffer comes back holding acpi_ipmi's status (0 = ok), the response length
 * and the response, whose byte 0 is the completion code and byte 1 the device ID.
 *
 * Nothing may touch the region before a handler is installed for it: _REG(7, 1) (7 = IPMI)
 * runs when acpi_ipmi installs its handler, _REG(7, 0) when it removes it, and AVAL follows.
 *
 * \_TZ.IPTZ is a thermal zone whose _TMP (evaluated on each read of
 * /sys/class/thermal/thermal_zoneN/temp) does the access: with a handler it returns
 * 2732 + device ID (deci-Kelvin), which Linux shows as device ID * 100 millidegrees Celsius
 * (0 to 25500); without one 3000 (26800); if the access completed with a non-zero status or
 * completion code, 3010 (27800). One deci-Kelvin per ID rather than ten: Linux takes trip
 * points only up to 4480 dK (drivers/acpi/thermal_lib.c), so 2732 + 10 * 255 could not stay
 * below a valid _CRT, and a zone without any trip point logs "[Firmware Bug]: No valid trip
 * points!". _CRT, 3732 (100 C), is above every value _TMP gives.
 */
DefinitionBlock ("", "SSDT", 2, "RIPMI", "IPMIOPR", 0x00000001)
{
	Scope (\_SB)
	{
		Device (IPMT)
		{
			/* An ID no driver claims. */
			Name (_HID, "RIPM0001")
			Name (AVAL, Zero)
			Name (BUFF, Buffer (66) {})
			CreateByteField (BUFF, 0x00, STAT)
			CreateByteField (BUFF, 0x01, LENG)
			CreateByteField (BUFF, 0x02, CMPC)
			CreateByteField (BUFF, 0x03, DEVI)

			OperationRegion (IPMR, IPMI, 0x0600, 0x0100)
			Field (IPMR, BufferAcc, NoLock, Preserve)
			{
				AccessAs (BufferAcc, 0x01),
				Offset (0x01),
				GDID, 8
			}

			Method (_REG, 2, NotSerialized)
			{
				If ((Arg0 == 0x07))
				{
					AVAL = Arg1
				}
			}

			/* Get Device ID through the region: the device ID, or Ones on failure. */
			Method (DVID, 0, Serialized)
			{
				/* A request with no data; then the response replaces it. */
				BUFF = Buffer (66) {}
				BUFF = (GDID = BUFF)
				If (((STAT != Zero) || ((LENG < 0x02) || (CMPC != Zero))))
				{
					Return (Ones)
				}
				Return (DEVI)
			}
		}
	}

	Scope (\_TZ)
	{
		ThermalZone (IPTZ)
		{
			Method (_TMP, 0, Serialized)
			{
				If (!\_SB.IPMT.AVAL)
				{
					Return (3000)
				}
				Local0 = \_SB.IPMT.DVID ()
				If ((Local0 == Ones))
				{
					Return (3010)
				}
				Return ((2732 + Local0))
			}

			Method (_CRT, 0, NotSerialized)
			{
				Return (3732)
			}
		}
	}
}
