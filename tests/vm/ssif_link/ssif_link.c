// SPDX-License-Identifier: GPL-2.0
/*
 * ssif_link: a software SMBus wire for testing SSIF inside one VM (test-only).
 *
 * Creates pairs of I2C adapters. "ssif-link-host" is a master: every transfer on
 * it is delivered byte by byte as I2C target events to the target registered on
 * "ssif-link-bmc", as a wire between a host's SMBus controller and the BMC's
 * Aspeed controller would. links=N creates N such pairs; the first keeps those
 * names, the others are "ssif-link-host-<i>" and "ssif-link-bmc-<i>" (i = 1..N-1).
 *
 * It behaves like Linux's Aspeed bus driver (aspeed_i2c_slave_irq):
 *  - events are delivered from hard interrupt context (an irq_work per bus
 *    event, raised by a hard hrtimer when the bus time is over) while the
 *    master's transfer waits for the last one;
 *    hardirq=0 delivers them from the master's process context with interrupts
 *    off instead, as this link did before;
 *  - where an irq_work raises no interrupt of its own (a uniprocessor ARM such as
 *    the AST2500's ARM1176: arch_irq_work_has_interrupt() is is_smp(), so no
 *    self-IPI, and a queued irq_work waits for the next tick, 10 ms at HZ=100),
 *    the hrtimer runs it at once, in its own hard interrupt, as the tick would
 *    (irq_work_inline, found out at load);
 *  - bytes take the time of a bus at bus_khz (default 100: 90 us per byte
 *    and ACK), measured from the end of the previous callback, since the
 *    controller stretches the clock until its interrupt has been handled;
 *    bus_khz=0 sends them back to back;
 *  - an errno from WRITE_REQUESTED ACKs the address and NAKs the next byte
 *    (which the target still receives), and the master sees -EIO; the return
 *    value of every other event is ignored;
 *  - WRITE_REQUESTED and READ_REQUESTED get the address byte in val, as
 *    i2c-aspeed passes the byte it received; for STOP and READ_PROCESSED, where
 *    i2c-aspeed leaves val unset, val holds a changing pattern (garbage=0: 0);
 *  - a read is READ_REQUESTED for the first byte, READ_PROCESSED for each
 *    further byte; the master NAKs the last byte, which i2c-aspeed turns into a
 *    STOP, and the STOP condition that follows gives a second STOP;
 *  - events run with interrupts off and under the lock that unreg_slave takes,
 *    as in the Aspeed interrupt handler.
 * SMBus block reads (I2C_M_RECV_LEN) and PEC work through the I2C core's
 * emulation on top of master_xfer.
 *
 * Faults for the fault campaign, one-shot, set through module parameters (the
 * next transfer on any link takes them):
 *  fault_corrupt=N   XOR 0x01 into byte N (0 = command) of the next write
 *  fault_truncate=N  cut the next write after N bytes (STOP follows)
 *  fault_no_stop=1   end the next transfer without the STOP condition
 *
 * For profiling, /sys/kernel/debug/ssif_link/target_time (target_time-<i> for
 * the others) gives, per target event type, the number of events delivered and
 * the nanoseconds spent in the target's callback (since load; readers take
 * differences). Only the callback is timed, not the bus time around it. Its last line,
 * "timing_overhead <n> <ns>", is measured at each read: n timing windows with no
 * callback in them, what each event's nanoseconds include besides the callback.
 *
 * Written in C because the Rust I2C abstractions of Linux 7.3 cannot create an
 * adapter or an i2c_algorithm; in Rust this module would be all raw bindings.
 */

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/i2c.h>
#include <linux/irq_work.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#define MAX_LINKS 8

static int fault_corrupt = -1;
module_param(fault_corrupt, int, 0600);
MODULE_PARM_DESC(fault_corrupt, "XOR 0x01 into this byte of the next write (-1: off)");
static int fault_truncate = -1;
module_param(fault_truncate, int, 0600);
MODULE_PARM_DESC(fault_truncate, "Cut the next write after this many bytes (-1: off)");
static bool fault_no_stop;
module_param(fault_no_stop, bool, 0600);
MODULE_PARM_DESC(fault_no_stop, "End the next transfer without STOP");
static bool hardirq = true;
module_param(hardirq, bool, 0644);
MODULE_PARM_DESC(hardirq, "Deliver target events from hard IRQ context (default Y)");
static unsigned int bus_khz = 100;
module_param(bus_khz, uint, 0644);
MODULE_PARM_DESC(bus_khz, "Bus clock in kHz that paces the bytes (default 100; 0: no delay)");
static bool garbage = true;
module_param(garbage, bool, 0644);
MODULE_PARM_DESC(garbage, "Changing garbage in val where i2c-aspeed leaves it unset (default Y)");
static int irq_work_inline = -1;
module_param(irq_work_inline, int, 0644);
MODULE_PARM_DESC(irq_work_inline,
		 "Run the bus events' irq_work from the hrtimer (-1 at load: if irq_work raises no interrupt here; 0: never; 1: always)");
static unsigned int nr_links = 1;
module_param_named(links, nr_links, uint, 0400);
MODULE_PARM_DESC(links, "Number of host/BMC adapter pairs (1.." __stringify(MAX_LINKS) ")");

/* Where the transfer in flight is: the next step of link_step(). */
enum link_phase {
	PHASE_ADDRESS,	/* address of msgs[msg] */
	PHASE_DATA,	/* byte pos of msgs[msg] */
	PHASE_NAK_STOP,	/* the master NAKed the last read byte */
	PHASE_STOP,	/* the STOP condition */
};

struct ssif_link {
	struct i2c_adapter host;
	struct i2c_adapter bmc;
	spinlock_t lock;		/* protects target, as the Aspeed bus lock */
	struct i2c_client *target;
	/* Per event type: events delivered and time in the callback (under lock). */
	u64 calls[I2C_SLAVE_STOP + 1];
	u64 ns[I2C_SLAVE_STOP + 1];
	u8 garbage;			/* the next undefined val */

	/*
	 * The transfer in flight (the I2C core runs one at a time per adapter):
	 * set up by link_xfer, then advanced only by link_step.
	 */
	struct hrtimer timer;		/* the bus time until the next event */
	struct irq_work work;		/* delivers the next event */
	struct completion done;
	unsigned int bit_ns;		/* 0: no bus time */
	struct i2c_msg *msgs;
	int num;
	int msg;
	int pos;
	enum link_phase phase;
	int ret;
	bool refused;			/* WRITE_REQUESTED returned an errno */
	bool no_stop;
	int corrupt;
	int truncate;
};

static struct ssif_link *links;
static struct dentry *debugfs_dir;

/* Delivers one event; -ENODEV if no target answers at @addr. */
static int link_event(struct ssif_link *l, u16 addr, enum i2c_slave_event event, u8 *val)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&l->lock, flags);
	if (!l->target || l->target->addr != addr) {
		ret = -ENODEV;
	} else {
		u64 t0 = ktime_get_ns();

		ret = i2c_slave_event(l->target, event, val);
		l->ns[event] += ktime_get_ns() - t0;
		l->calls[event]++;
	}
	spin_unlock_irqrestore(&l->lock, flags);
	return ret;
}

/* What i2c-aspeed passes where it sets no val: whatever its stack held. */
static u8 undefined_val(struct ssif_link *l)
{
	if (!garbage)
		return 0;
	l->garbage = l->garbage * 73 + 0x2b;
	return l->garbage;
}

/* The step after the last byte of msgs[msg]: repeated START or STOP, in bits. */
static int link_next_msg(struct ssif_link *l)
{
	/* The faults apply to the first write message only. */
	if (!(l->msgs[l->msg].flags & I2C_M_RD))
		l->corrupt = l->truncate = -1;
	if (++l->msg < l->num) {
		l->phase = PHASE_ADDRESS;
		return 1 + 9;
	}
	l->phase = PHASE_STOP;
	return 1;
}

static int link_address(struct ssif_link *l, struct i2c_msg *m)
{
	u8 val = m->addr << 1 | !!(m->flags & I2C_M_RD);
	int ret;

	l->pos = 0;
	if (m->flags & I2C_M_RD) {
		ret = link_event(l, m->addr, I2C_SLAVE_READ_REQUESTED, &val);
		if (ret == -ENODEV)
			goto nak;
		m->buf[0] = val;
		l->pos = 1;
		if (m->flags & I2C_M_RECV_LEN) {
			if (val > I2C_SMBUS_BLOCK_MAX) {
				l->ret = -EPROTO;
				l->phase = PHASE_NAK_STOP;
				return 9;
			}
			m->len += val;
		}
		l->phase = l->pos < m->len ? PHASE_DATA : PHASE_NAK_STOP;
		return 9;
	}
	ret = link_event(l, m->addr, I2C_SLAVE_WRITE_REQUESTED, &val);
	if (ret == -ENODEV)
		goto nak;
	if (ret < 0) {
		/* Aspeed: address ACKed, next byte NAKed but still received. */
		l->refused = true;
		if (!m->len) {
			l->ret = -EIO;
			l->phase = PHASE_STOP;
			return 1;
		}
	}
	if (!m->len)
		return link_next_msg(l);
	l->phase = PHASE_DATA;
	return 9;
nak:
	l->ret = -ENXIO;
	l->phase = PHASE_STOP;
	return 1;
}

/*
 * Runs the next step of the transfer in flight. Returns the bus time until the
 * step after, in bit periods, or -1 when the transfer is over.
 */
static int link_step(struct ssif_link *l)
{
	struct i2c_msg *m = &l->msgs[l->msg];
	u8 val;

	switch (l->phase) {
	case PHASE_ADDRESS:
		return link_address(l, m);
	case PHASE_DATA:
		if (m->flags & I2C_M_RD) {
			val = undefined_val(l);
			link_event(l, m->addr, I2C_SLAVE_READ_PROCESSED, &val);
			m->buf[l->pos++] = val;
			if (l->pos == m->len)
				l->phase = PHASE_NAK_STOP;
			return 9;
		}
		if (l->pos == l->truncate) {
			l->ret = -EIO;
			l->phase = PHASE_STOP;
			return 1;
		}
		val = m->buf[l->pos] ^ (l->pos == l->corrupt ? 0x01 : 0);
		/* Aspeed ignores this return value. */
		link_event(l, m->addr, I2C_SLAVE_WRITE_RECEIVED, &val);
		l->pos++;
		if (l->refused) {
			l->ret = -EIO;
			l->phase = PHASE_STOP;
			return 1;
		}
		if (l->pos < m->len)
			return 9;
		return link_next_msg(l);
	case PHASE_NAK_STOP:
		/* i2c-aspeed: TX NAK after READ_PROCESSED is a STOP... */
		val = undefined_val(l);
		link_event(l, m->addr, I2C_SLAVE_STOP, &val);
		if (!l->ret)
			return link_next_msg(l);
		l->phase = PHASE_STOP;
		return 1;
	case PHASE_STOP:
		/* ...and so is the STOP condition that follows it. */
		if (!l->no_stop) {
			val = undefined_val(l);
			link_event(l, l->msgs[0].addr, I2C_SLAVE_STOP, &val);
		}
		return -1;
	}
	return -1;
}

/*
 * One bus event (or, with no bus time, all of them) in hard IRQ context. An
 * irq_work without IRQ_WORK_HARD_IRQ, not the hard hrtimer itself: that is the
 * context of i2c-aspeed's handler (a plain request_irq, threaded under
 * PREEMPT_RT), where lockdep allows spinlock_t. In a hard hrtimer only raw
 * spinlocks are valid, which no target driver (ours or upstream's) uses.
 */
static void link_work_fn(struct irq_work *work)
{
	struct ssif_link *l = container_of(work, struct ssif_link, work);
	int bits;

	do
		bits = link_step(l);
	while (bits >= 0 && !l->bit_ns);
	if (bits < 0)
		complete(&l->done);
	else
		hrtimer_start(&l->timer, ns_to_ktime((u64)bits * l->bit_ns), HRTIMER_MODE_REL_HARD);
}

/*
 * Raises the irq_work of the next bus event from the hard hrtimer. Where irq_work
 * has no interrupt of its own, irq_work_run() here does what irq_work_tick() would
 * do at the next tick: each work runs in this hard interrupt with irq_work's
 * lockdep context (spinlock_t allowed, as in a non-threaded request_irq handler).
 */
static void link_raise(struct ssif_link *l)
{
	irq_work_queue(&l->work);
	if (READ_ONCE(irq_work_inline) > 0)
		irq_work_run();
}

/* The bus time is over: the controller raises its interrupt. */
static enum hrtimer_restart link_timer_fn(struct hrtimer *t)
{
	struct ssif_link *l = container_of(t, struct ssif_link, timer);

	link_raise(l);
	return HRTIMER_NORESTART;
}

static int link_xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
{
	struct ssif_link *l = i2c_get_adapdata(adap);
	unsigned int khz = READ_ONCE(bus_khz);
	int bits = 1 + 9;	/* START and the address byte */

	l->msgs = msgs;
	l->num = num;
	l->msg = 0;
	l->phase = PHASE_ADDRESS;
	l->ret = 0;
	l->refused = false;
	l->no_stop = xchg(&fault_no_stop, false);
	l->corrupt = xchg(&fault_corrupt, -1);
	l->truncate = xchg(&fault_truncate, -1);
	l->bit_ns = khz ? DIV_ROUND_UP(NSEC_PER_MSEC, khz) : 0;

	if (READ_ONCE(hardirq)) {
		reinit_completion(&l->done);
		/* Without bus time, the irq_work at once, through the hrtimer if it must run it. */
		if (l->bit_ns || READ_ONCE(irq_work_inline) > 0)
			hrtimer_start(&l->timer, ns_to_ktime((u64)bits * l->bit_ns),
				      HRTIMER_MODE_REL_HARD);
		else
			irq_work_queue(&l->work);
		/* Bounded: a transfer is at most a few hundred bus bytes. */
		wait_for_completion(&l->done);
	} else {
		do {
			if (l->bit_ns)
				fsleep(DIV_ROUND_UP(bits * l->bit_ns, NSEC_PER_USEC));
			bits = link_step(l);
		} while (bits >= 0);
	}
	return l->ret ? l->ret : num;
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
	struct ssif_link *l = i2c_get_adapdata(client->adapter);
	unsigned long flags;
	int ret = 0;

	if (client->flags & I2C_CLIENT_TEN)
		return -EAFNOSUPPORT;
	spin_lock_irqsave(&l->lock, flags);
	if (l->target)
		ret = -EBUSY;
	else
		l->target = client;
	spin_unlock_irqrestore(&l->lock, flags);
	return ret;
}

static int link_unreg_slave(struct i2c_client *client)
{
	struct ssif_link *l = i2c_get_adapdata(client->adapter);
	unsigned long flags;

	spin_lock_irqsave(&l->lock, flags);
	l->target = NULL;
	spin_unlock_irqrestore(&l->lock, flags);
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
	struct ssif_link *l = s->private;
	u64 calls[ARRAY_SIZE(names)], ns[ARRAY_SIZE(names)];
	unsigned long flags;
	int i;

	spin_lock_irqsave(&l->lock, flags);
	memcpy(calls, l->calls, sizeof(calls));
	memcpy(ns, l->ns, sizeof(ns));
	spin_unlock_irqrestore(&l->lock, flags);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		seq_printf(s, "%s %llu %llu\n", names[i], calls[i], ns[i]);
	seq_printf(s, "timing_overhead 1000 %llu\n", timing_overhead_ns(1000));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(target_time);

/* The first link's names have no suffix, so that one link looks as it always did. */
static void link_name(char *buf, size_t size, const char *base, int i)
{
	if (i)
		snprintf(buf, size, "%s-%d", base, i);
	else
		strscpy(buf, base, size);
}

static int link_add(struct ssif_link *l, int i)
{
	char name[32];
	int ret;

	spin_lock_init(&l->lock);
	init_completion(&l->done);
	hrtimer_setup(&l->timer, link_timer_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	init_irq_work(&l->work, link_work_fn);

	l->bmc.owner = THIS_MODULE;
	l->bmc.algo = &link_bmc_algo;
	link_name(l->bmc.name, sizeof(l->bmc.name), "ssif-link-bmc", i);
	i2c_set_adapdata(&l->bmc, l);
	l->host.owner = THIS_MODULE;
	l->host.algo = &link_host_algo;
	l->host.retries = 0;
	link_name(l->host.name, sizeof(l->host.name), "ssif-link-host", i);
	i2c_set_adapdata(&l->host, l);

	ret = i2c_add_adapter(&l->bmc);
	if (ret)
		return ret;
	ret = i2c_add_adapter(&l->host);
	if (ret) {
		i2c_del_adapter(&l->bmc);
		return ret;
	}
	link_name(name, sizeof(name), "target_time", i);
	debugfs_create_file(name, 0400, debugfs_dir, l, &target_time_fops);
	return 0;
}

static void link_del(struct ssif_link *l)
{
	i2c_del_adapter(&l->host);
	i2c_del_adapter(&l->bmc);
	/* No transfer can be in flight once the host adapter is gone. */
	hrtimer_cancel(&l->timer);
	irq_work_sync(&l->work);
}

static struct irq_work probe_work;

static void probe_fn(struct irq_work *work)
{
}

/*
 * Whether irq_work raises an interrupt here (arch_irq_work_has_interrupt(), which a
 * module cannot call on ARM: is_smp() reads the unexported smp_on_up): with one, a
 * work queued with interrupts off has run within microseconds of enabling them;
 * without, it waits for the next tick. Three tries, so that a tick that happens to
 * come within one of the 200 us windows cannot pass for the interrupt.
 */
static bool irq_work_has_irq(void)
{
	unsigned long flags;
	int try, us;

	init_irq_work(&probe_work, probe_fn);
	for (try = 0; try < 3; try++) {
		local_irq_save(flags);
		irq_work_queue(&probe_work);
		local_irq_restore(flags);
		for (us = 0; us < 200 && irq_work_is_pending(&probe_work); us++)
			udelay(1);
		if (irq_work_is_pending(&probe_work)) {
			irq_work_sync(&probe_work);
			return false;
		}
		irq_work_sync(&probe_work);
	}
	return true;
}

static int __init ssif_link_init(void)
{
	int i, ret;

	if (irq_work_inline < 0)
		irq_work_inline = !irq_work_has_irq();
	pr_info("ssif_link: irq_work_inline=%d\n", irq_work_inline);

	if (nr_links < 1 || nr_links > MAX_LINKS)
		return -EINVAL;
	links = kcalloc(nr_links, sizeof(*links), GFP_KERNEL);
	if (!links)
		return -ENOMEM;
	debugfs_dir = debugfs_create_dir("ssif_link", NULL);
	for (i = 0; i < nr_links; i++) {
		ret = link_add(&links[i], i);
		if (ret)
			goto undo;
	}
	return 0;
undo:
	while (i--)
		link_del(&links[i]);
	debugfs_remove(debugfs_dir);
	kfree(links);
	return ret;
}

static void __exit ssif_link_exit(void)
{
	int i;

	debugfs_remove(debugfs_dir);
	for (i = 0; i < nr_links; i++)
		link_del(&links[i]);
	kfree(links);
}

module_init(ssif_link_init);
module_exit(ssif_link_exit);
MODULE_DESCRIPTION("Software SMBus link for SSIF tests (test only)");
MODULE_LICENSE("GPL");
