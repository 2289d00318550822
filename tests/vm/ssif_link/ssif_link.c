// SPDX-License-Identifier: GPL-2.0
/*
 * ssif_link: a software SMBus wire for testing SSIF inside one VM (test-only).
 *
 * Creates two I2C adapters. "ssif-link-host" is a master: every transfer on it is
 * delivered byte by byte as I2C target events to the target registered on
 * "ssif-link-bmc", as a wire between a host's SMBus controller and the BMC's
 * Aspeed controller would. It reproduces what the Aspeed bus driver does:
 *  - an errno from WRITE_REQUESTED ACKs the address and NAKs the next byte (which
 *    the target still receives), and the master sees -EIO;
 *  - the return value of WRITE_RECEIVED is ignored;
 *  - a read is READ_REQUESTED for the first byte, READ_PROCESSED for each
 *    further byte; the last byte is NAKed by the master, so no event follows it;
 *  - events run with interrupts off and under the bus lock that unreg_slave
 *    takes, as in the Aspeed interrupt handler.
 * SMBus block reads (I2C_M_RECV_LEN) and PEC work through the I2C core's
 * emulation on top of master_xfer.
 *
 * Faults for the fault campaign, one-shot, set through module parameters:
 *  fault_corrupt=N   XOR 0x01 into byte N (0 = command) of the next write
 *  fault_truncate=N  cut the next write after N bytes (STOP follows)
 *  fault_no_stop=1   end the next transfer without STOP
 *
 * For profiling, /sys/kernel/debug/ssif_link/target_time gives, per target event
 * type, the number of events delivered and the nanoseconds spent in the target's
 * callback (since load; readers take differences). Its last line,
 * "timing_overhead <n> <ns>", is measured at each read: n timing windows with no
 * callback in them, what each event's nanoseconds include besides the callback.
 *
 * Written in C because the Rust I2C abstractions of Linux 7.3 cannot create an
 * adapter or an i2c_algorithm; in Rust this module would be all raw bindings.
 */

#include <linux/debugfs.h>
#include <linux/i2c.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/spinlock.h>

static int fault_corrupt = -1;
module_param(fault_corrupt, int, 0600);
MODULE_PARM_DESC(fault_corrupt, "XOR 0x01 into this byte of the next write (-1: off)");
static int fault_truncate = -1;
module_param(fault_truncate, int, 0600);
MODULE_PARM_DESC(fault_truncate, "Cut the next write after this many bytes (-1: off)");
static bool fault_no_stop;
module_param(fault_no_stop, bool, 0600);
MODULE_PARM_DESC(fault_no_stop, "End the next transfer without STOP");

struct ssif_link {
	struct i2c_adapter host;
	struct i2c_adapter bmc;
	spinlock_t lock;		/* protects target, as the Aspeed bus lock */
	struct i2c_client *target;
	/* Per event type: events delivered and time in the callback (under lock). */
	u64 calls[I2C_SLAVE_STOP + 1];
	u64 ns[I2C_SLAVE_STOP + 1];
	struct dentry *debugfs;
};

static struct ssif_link *link;

/* Delivers one event; -ENODEV if no target answers at @addr. */
static int link_event(u16 addr, enum i2c_slave_event event, u8 *val)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&link->lock, flags);
	if (!link->target || link->target->addr != addr)
		ret = -ENODEV;
	else {
		u64 t0 = ktime_get_ns();

		ret = i2c_slave_event(link->target, event, val);
		link->ns[event] += ktime_get_ns() - t0;
		link->calls[event]++;
	}
	spin_unlock_irqrestore(&link->lock, flags);
	return ret;
}

static int link_write(struct i2c_msg *msg)
{
	int corrupt = xchg(&fault_corrupt, -1);
	int truncate = xchg(&fault_truncate, -1);
	u8 val = 0;
	int i, ret;

	ret = link_event(msg->addr, I2C_SLAVE_WRITE_REQUESTED, &val);
	if (ret == -ENODEV)
		return -ENXIO;
	if (ret < 0) {
		/* Aspeed: address ACKed, next byte NAKed but still received. */
		if (msg->len) {
			val = msg->buf[0];
			link_event(msg->addr, I2C_SLAVE_WRITE_RECEIVED, &val);
		}
		return -EIO;
	}
	for (i = 0; i < msg->len; i++) {
		if (i == truncate)
			return -EIO;
		val = msg->buf[i] ^ (i == corrupt ? 0x01 : 0);
		/* Aspeed ignores this return value. */
		link_event(msg->addr, I2C_SLAVE_WRITE_RECEIVED, &val);
	}
	return 0;
}

static int link_read(struct i2c_msg *msg)
{
	u8 val = 0;
	int i, ret;

	ret = link_event(msg->addr, I2C_SLAVE_READ_REQUESTED, &val);
	if (ret == -ENODEV)
		return -ENXIO;
	msg->buf[0] = val;
	if (msg->flags & I2C_M_RECV_LEN) {
		if (val > I2C_SMBUS_BLOCK_MAX)
			return -EPROTO;
		msg->len += val;
	}
	for (i = 1; i < msg->len; i++) {
		link_event(msg->addr, I2C_SLAVE_READ_PROCESSED, &val);
		msg->buf[i] = val;
	}
	return 0;
}

static int link_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	bool no_stop = xchg(&fault_no_stop, false);
	u8 val = 0;
	int i, ret = 0;

	for (i = 0; i < num && !ret; i++)
		ret = msgs[i].flags & I2C_M_RD ? link_read(&msgs[i]) : link_write(&msgs[i]);
	if (!no_stop)
		link_event(msgs[0].addr, I2C_SLAVE_STOP, &val);
	return ret ? ret : num;
}

static u32 link_host_func(struct i2c_adapter *adap)
{
	return I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL_ALL | I2C_FUNC_SMBUS_PEC;
}

static int link_no_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	return -EOPNOTSUPP;
}

static u32 link_bmc_func(struct i2c_adapter *adap)
{
	return I2C_FUNC_SLAVE;
}

static int link_reg_slave(struct i2c_client *client)
{
	unsigned long flags;
	int ret = 0;

	if (client->flags & I2C_CLIENT_TEN)
		return -EAFNOSUPPORT;
	spin_lock_irqsave(&link->lock, flags);
	if (link->target)
		ret = -EBUSY;
	else
		link->target = client;
	spin_unlock_irqrestore(&link->lock, flags);
	return ret;
}

static int link_unreg_slave(struct i2c_client *client)
{
	unsigned long flags;

	spin_lock_irqsave(&link->lock, flags);
	link->target = NULL;
	spin_unlock_irqrestore(&link->lock, flags);
	return 0;
}

static const struct i2c_algorithm link_host_algo = {
	.xfer = link_xfer,
	.functionality = link_host_func,
};

static const struct i2c_algorithm link_bmc_algo = {
	.xfer = link_no_xfer,
	.functionality = link_bmc_func,
	.reg_target = link_reg_slave,
	.unreg_target = link_unreg_slave,
};

/* The cost of link_event()'s timing alone: @n empty windows, timed as it times an event. */
static u64 timing_overhead_ns(int n)
{
	unsigned long flags;
	u64 sum = 0, t0;
	int i;

	for (i = 0; i < n; i++) {
		local_irq_save(flags);
		t0 = ktime_get_ns();
		sum += ktime_get_ns() - t0;
		local_irq_restore(flags);
	}
	return sum;
}

static int target_time_show(struct seq_file *s, void *unused)
{
	static const char *const names[] = {
		[I2C_SLAVE_READ_REQUESTED] = "read_requested",
		[I2C_SLAVE_WRITE_REQUESTED] = "write_requested",
		[I2C_SLAVE_READ_PROCESSED] = "read_processed",
		[I2C_SLAVE_WRITE_RECEIVED] = "write_received",
		[I2C_SLAVE_STOP] = "stop",
	};
	u64 calls[ARRAY_SIZE(names)], ns[ARRAY_SIZE(names)];
	unsigned long flags;
	int i;

	spin_lock_irqsave(&link->lock, flags);
	memcpy(calls, link->calls, sizeof(calls));
	memcpy(ns, link->ns, sizeof(ns));
	spin_unlock_irqrestore(&link->lock, flags);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		seq_printf(s, "%s %llu %llu\n", names[i], calls[i], ns[i]);
	seq_printf(s, "timing_overhead 1000 %llu\n", timing_overhead_ns(1000));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(target_time);

static int __init ssif_link_init(void)
{
	int ret;

	link = kzalloc(sizeof(*link), GFP_KERNEL);
	if (!link)
		return -ENOMEM;
	spin_lock_init(&link->lock);

	link->bmc.owner = THIS_MODULE;
	link->bmc.algo = &link_bmc_algo;
	strscpy(link->bmc.name, "ssif-link-bmc", sizeof(link->bmc.name));
	link->host.owner = THIS_MODULE;
	link->host.algo = &link_host_algo;
	link->host.retries = 0;
	strscpy(link->host.name, "ssif-link-host", sizeof(link->host.name));

	ret = i2c_add_adapter(&link->bmc);
	if (ret)
		goto free;
	ret = i2c_add_adapter(&link->host);
	if (ret)
		goto del_bmc;
	link->debugfs = debugfs_create_dir("ssif_link", NULL);
	debugfs_create_file("target_time", 0400, link->debugfs, NULL, &target_time_fops);
	return 0;
del_bmc:
	i2c_del_adapter(&link->bmc);
free:
	kfree(link);
	return ret;
}

static void __exit ssif_link_exit(void)
{
	debugfs_remove(link->debugfs);
	i2c_del_adapter(&link->host);
	i2c_del_adapter(&link->bmc);
	kfree(link);
}

module_init(ssif_link_init);
module_exit(ssif_link_exit);
MODULE_DESCRIPTION("Software SMBus link for SSIF tests (test only)");
MODULE_LICENSE("GPL");
