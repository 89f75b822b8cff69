// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs tables for ripmi (src/sysfs.rs, src/bmc.rs): the "ipmi" class, the ipmi_bmc device type
 * and the attribute group of the SI device. The kernel crate has no class or attribute API, so
 * the tables are declared here; every show and is_visible forwards to Rust, nothing more.
 */
#include <linux/device.h>
#include <linux/kdev_t.h>
#include <linux/namei.h>
#include <linux/platform_device.h>
#include <linux/sysfs.h>

/* Rust (src/bmc.rs, src/sysfs.rs). */
ssize_t ripmi_bmc_show(struct device *dev, unsigned int idx, const struct attribute *attr,
		       char *buf);
bool ripmi_bmc_visible(struct device *dev, unsigned int idx);
ssize_t ripmi_si_show(struct device *dev, unsigned int idx, char *buf);

/* Called from Rust. */
int ripmi_class_register(void);
void ripmi_class_unregister(void);
struct device *ripmi_class_device_create(struct device *parent, struct device *misc,
					 unsigned int num);
int ripmi_bmc_driver_register(void);
void ripmi_bmc_driver_unregister(void);
struct platform_device *ripmi_bmc_register(int id, void *bmc, bool bind);
extern const struct attribute_group *ripmi_si_groups[];

/*
 * The class device: devt 0 (the misc device owns the number, and the driver core allows one
 * device per devt); drvdata is the misc device, whose devt `dev` and the uevent report.
 */
static ssize_t dev_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct device *misc = dev_get_drvdata(dev);

	return print_dev_t(buf, misc->devt);
}
static DEVICE_ATTR_RO(dev);

static struct attribute *ripmi_class_attrs[] = {
	&dev_attr_dev.attr,
	NULL
};
ATTRIBUTE_GROUPS(ripmi_class);

static int ripmi_class_uevent(const struct device *dev, struct kobj_uevent_env *env)
{
	const struct device *misc = dev_get_drvdata(dev);

	if (!misc)
		return 0;
	if (add_uevent_var(env, "MAJOR=%u", MAJOR(misc->devt)) ||
	    add_uevent_var(env, "MINOR=%u", MINOR(misc->devt)))
		return -ENOMEM;
	return add_uevent_var(env, "DEVNAME=%s", dev_name(misc));
}

static const struct class ripmi_class = {
	.name = "ipmi",
	.dev_groups = ripmi_class_groups,
	.dev_uevent = ripmi_class_uevent,
};

/* -EEXIST, without trying, when a class "ipmi" exists (ipmi_devintf loaded). */
int ripmi_class_register(void)
{
	struct path path;

	if (!kern_path("/sys/class/ipmi", 0, &path)) {
		path_put(&path);
		return -EEXIST;
	}
	return class_register(&ripmi_class);
}

void ripmi_class_unregister(void)
{
	class_unregister(&ripmi_class);
}

struct device *ripmi_class_device_create(struct device *parent, struct device *misc,
					 unsigned int num)
{
	return device_create(&ripmi_class, parent, 0, misc, "ipmi%u", num);
}

/* The BMC device: attributes in C's bmc_dev_attrs[] order (the index Rust gets). */
#define RIPMI_BMC_ATTR(name, idx)						\
static ssize_t name##_show(struct device *dev, struct device_attribute *attr,	\
			   char *buf)						\
{										\
	return ripmi_bmc_show(dev, idx, &attr->attr, buf);			\
}										\
static DEVICE_ATTR_RO(name)

RIPMI_BMC_ATTR(device_id, 0);
RIPMI_BMC_ATTR(provides_device_sdrs, 1);
RIPMI_BMC_ATTR(revision, 2);
RIPMI_BMC_ATTR(firmware_revision, 3);
RIPMI_BMC_ATTR(ipmi_version, 4);
RIPMI_BMC_ATTR(additional_device_support, 5);
RIPMI_BMC_ATTR(manufacturer_id, 6);
RIPMI_BMC_ATTR(product_id, 7);
RIPMI_BMC_ATTR(aux_firmware_revision, 8);
RIPMI_BMC_ATTR(guid, 9);

static struct attribute *ripmi_bmc_attrs[] = {
	&dev_attr_device_id.attr,
	&dev_attr_provides_device_sdrs.attr,
	&dev_attr_revision.attr,
	&dev_attr_firmware_revision.attr,
	&dev_attr_ipmi_version.attr,
	&dev_attr_additional_device_support.attr,
	&dev_attr_manufacturer_id.attr,
	&dev_attr_product_id.attr,
	&dev_attr_aux_firmware_revision.attr,
	&dev_attr_guid.attr,
	NULL
};

static umode_t ripmi_bmc_is_visible(struct kobject *kobj, struct attribute *attr, int idx)
{
	return ripmi_bmc_visible(kobj_to_dev(kobj), idx) ? attr->mode : 0;
}

static const struct attribute_group ripmi_bmc_group = {
	.attrs = ripmi_bmc_attrs,
	.is_visible = ripmi_bmc_is_visible,
};
__ATTRIBUTE_GROUPS(ripmi_bmc);

static const struct device_type ripmi_bmc_type = {
	.groups = ripmi_bmc_groups,
};

/* The driver BMC devices are bound to, as C's ipmidriver: no callbacks, only the name. */
static struct platform_driver ripmi_bmc_driver = {
	.driver = {
		.name = "ipmi",
		.bus = &platform_bus_type,
	},
};

/* -EBUSY, without trying, when a driver "ipmi" exists (ipmi_msghandler loaded). */
int ripmi_bmc_driver_register(void)
{
	if (driver_find("ipmi", &platform_bus_type))
		return -EBUSY;
	return platform_driver_register(&ripmi_bmc_driver);
}

void ripmi_bmc_driver_unregister(void)
{
	platform_driver_unregister(&ripmi_bmc_driver);
}

/* Registers ipmi_bmc.<id>, whose drvdata is `bmc` (the Rust BMC); bound to "ipmi" if `bind`. */
struct platform_device *ripmi_bmc_register(int id, void *bmc, bool bind)
{
	struct platform_device *pdev = platform_device_alloc("ipmi_bmc", id);
	int rv;

	if (!pdev)
		return ERR_PTR(-ENOMEM);
	pdev->dev.type = &ripmi_bmc_type;
	if (bind)
		pdev->dev.driver = &ripmi_bmc_driver.driver;
	platform_set_drvdata(pdev, bmc);
	rv = platform_device_add(pdev);
	if (rv) {
		platform_device_put(pdev);
		return ERR_PTR(rv);
	}
	return pdev;
}

/* The SI device's files, in this order (the index Rust gets). */
#define RIPMI_SI_ATTR(name, idx)						\
static ssize_t si_##name##_show(struct device *dev,				\
				struct device_attribute *attr, char *buf)	\
{										\
	return ripmi_si_show(dev, idx, buf);					\
}										\
static struct device_attribute dev_attr_si_##name =				\
	__ATTR(name, 0444, si_##name##_show, NULL)

RIPMI_SI_ATTR(nr_users, 0);
RIPMI_SI_ATTR(nr_msgs, 1);
RIPMI_SI_ATTR(maintenance_mode, 2);
RIPMI_SI_ATTR(type, 3);
RIPMI_SI_ATTR(interrupts_enabled, 4);
RIPMI_SI_ATTR(params, 5);

static struct attribute *ripmi_si_attrs[] = {
	&dev_attr_si_nr_users.attr,
	&dev_attr_si_nr_msgs.attr,
	&dev_attr_si_maintenance_mode.attr,
	&dev_attr_si_type.attr,
	&dev_attr_si_interrupts_enabled.attr,
	&dev_attr_si_params.attr,
	NULL
};

static const struct attribute_group ripmi_si_group = {
	.attrs = ripmi_si_attrs,
};

/* The driver's dev_groups: added after probe, removed before remove. */
const struct attribute_group *ripmi_si_groups[] = {
	&ripmi_si_group,
	NULL
};
