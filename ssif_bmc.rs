// SPDX-License-Identifier: GPL-2.0

//! BMC side of the IPMI SMBus System Interface (SSIF).
//!
//! The host talks IPMI to the BMC over SMBus; this driver is the BMC's I2C target. Requests are
//! handed to user space through `/dev/ipmi-ssif-host` (ABI of `<linux/ipmi_ssif_bmc.h>`), and
//! responses written there are served to the host's reads.
//!
//! - [`protocol`]: the SSIF state machine, pure `core` Rust, also tested on the host;
//! - [`state`]: that machine under the kernel crate's `SpinLockIrq`, shared by bus, file and the
//!   response timer (the kernel crate's `hrtimer`);
//! - [`target`], [`chardev`]: the thin FFI glue the kernel crate of 7.3 lacks (I2C target
//!   registration, misc device with `poll`, a parent and an attribute).

use kernel::{
    debugfs,
    device::Core,
    driver, i2c, of,
    prelude::*,
    str::CString,
    sync::{
        atomic::{ordering, Atomic},
        Arc,
    },
};

mod chardev;
#[cfg(CONFIG_SSIF_BMC_RUST_KUNIT_TEST)]
mod kunit;
// Private, so that only what the driver uses is compiled into the module (a `pub` module keeps
// every public item, wanted or not). The host crate in `protocol-tests/` exports the same file,
// hence its `pub` items, and uses the few helpers the driver does not.
#[allow(unreachable_pub, dead_code)]
mod protocol;
mod state;
mod target;

use chardev::PollMiscDevice;
use state::{timeout_valid, Shared, TIMEOUT_MAX_MS};
use target::TargetRegistration;

/// The misc device name ssifbridged opens by default.
const DEFAULT_NAME: &CStr = c"ipmi-ssif-host";

/// The device-tree compatible the driver binds to.
const COMPATIBLE: &CStr = c"ssif-bmc";

/// With no `ssif-bmc` node in the device tree: whether a device has the name [`DEFAULT_NAME`].
static DEFAULT_NAME_TAKEN: Atomic<bool> = Atomic::new(false);

/// The misc device name of a bound device, by a rule that does not depend on the order in
/// which devices bind:
/// - [`DEFAULT_NAME`] for the device of the first available `ssif-bmc` node of the device
///   tree, in tree order, whether or not it is bound: a one-host BMC's only node, or the first
///   of several;
/// - `ipmi-ssif-host-<bus>-<address>` for each other device, after its I2C device, e.g.
///   `ipmi-ssif-host-5-1010` for `/sys/bus/i2c/devices/5-1010`;
/// - with no available `ssif-bmc` node at all (every device instantiated by I2C id, e.g.
///   through `new_device`), [`DEFAULT_NAME`] for the first to bind, while it is bound.
enum MiscName {
    /// [`DEFAULT_NAME`], by the device tree.
    Default,
    /// [`DEFAULT_NAME`], held through [`DEFAULT_NAME_TAKEN`] (no `ssif-bmc` node).
    DefaultTaken,
    /// Named after the I2C device.
    Own,
}

impl MiscName {
    fn claim(client: &i2c::I2cClient<Core<'_>>) -> Self {
        match target::client_is_first_of_compatible(client, COMPATIBLE) {
            Some(true) => Self::Default,
            Some(false) => Self::Own,
            // `Acquire`: the previous holder's device is gone.
            None => match DEFAULT_NAME_TAKEN.cmpxchg(false, true, ordering::Acquire) {
                Ok(_) => Self::DefaultTaken,
                Err(_) => Self::Own,
            },
        }
    }

    fn name(&self, client: &i2c::I2cClient<Core<'_>>) -> Result<CString> {
        match self {
            Self::Default | Self::DefaultTaken => CString::try_from_fmt(fmt!("{}", DEFAULT_NAME)),
            Self::Own => {
                let device = target::client_name(client);
                CString::try_from_fmt(fmt!("{}-{}", DEFAULT_NAME, device))
            }
        }
    }
}

impl Drop for MiscName {
    fn drop(&mut self) {
        if let Self::DefaultTaken = self {
            // `Release`: our misc device is deregistered (field order of `SsifBmc`).
            DEFAULT_NAME_TAKEN.store(false, ordering::Release);
        }
    }
}

kernel::i2c_device_table!(
    I2C_TABLE,
    <SsifBmcDriver as i2c::Driver>::IdInfo,
    [(i2c::DeviceId::new(c"ipmi-ssif-host"), ())]
);

kernel::of_device_table!(
    OF_TABLE,
    <SsifBmcDriver as i2c::Driver>::IdInfo,
    [(of::DeviceId::new(COMPATIBLE), ())]
);

struct SsifBmcDriver;

/// The `counters` debugfs file: one `name value` line per counter.
struct CounterView(Arc<Shared>);

impl debugfs::Writer for CounterView {
    fn write(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let values = self.0.counters().values();
        for (name, value) in protocol::Counters::NAMES.iter().zip(values) {
            writeln!(f, "{name} {value}")?;
        }
        Ok(())
    }
}

/// Retires the shared state when the device goes away (see [`Shared::retire`]).
struct Retire(Arc<Shared>);

impl Drop for Retire {
    // Inlined into the drop glue, its only caller (no dead copy of its own).
    #[inline]
    fn drop(&mut self) {
        self.0.retire();
    }
}

/// A bound SSIF device. Fields are dropped in declaration order, the reverse of probe: no new
/// opens (and the name free again), no debugfs, no bus events, then the timer stops and
/// sleepers get `ENODEV`.
#[pin_data]
struct SsifBmc {
    #[pin]
    _misc: PollMiscDevice<Shared>,
    _name: MiscName,
    #[pin]
    _counters: debugfs::File<CounterView>,
    _debugfs: debugfs::Dir,
    _target: TargetRegistration,
    _retire: Retire,
}

impl SsifBmcDriver {
    /// The response deadline: the device tree's `timeout-ms` if the node has one, else the
    /// module parameter. Out of range: `EINVAL`, reported.
    fn timeout_ms(client: &i2c::I2cClient<Core<'_>>) -> Result<u32> {
        let dev = client.as_ref();
        let property = dev
            .fwnode()
            .and_then(|node| node.property_read::<u32>(c"timeout-ms").optional());
        let (timeout_ms, source) = match property {
            Some(ms) => (ms, "device-tree property timeout-ms"),
            None => (
                module_parameters::response_timeout_ms.value(),
                "response_timeout_ms",
            ),
        };
        if !timeout_valid(timeout_ms) {
            dev_err!(
                dev,
                "{}={} is out of range (1..={})\n",
                source,
                timeout_ms,
                TIMEOUT_MAX_MS
            );
            return Err(EINVAL);
        }
        Ok(timeout_ms)
    }

    /// Checks the configuration; creates the shared state and the debugfs directory name.
    fn shared(client: &i2c::I2cClient<Core<'_>>) -> Result<(Arc<Shared>, CString)> {
        let timeout_ms = Self::timeout_ms(client)?;
        let (address, adapter) = target::client_location(client);
        let name = CString::try_from_fmt(fmt!("ssif_bmc-{}-{:04x}", adapter, address))?;
        Ok((Shared::new(address as u8, timeout_ms)?, name))
    }
}

impl i2c::Driver for SsifBmcDriver {
    type IdInfo = ();
    type Data<'bound> = SsifBmc;

    const I2C_ID_TABLE: Option<i2c::IdTable<Self::IdInfo>> = Some(&I2C_TABLE);
    const OF_ID_TABLE: Option<of::IdTable<Self::IdInfo>> = Some(&OF_TABLE);

    fn probe<'bound>(
        client: &'bound i2c::I2cClient<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self::Data<'bound>, Error> + 'bound {
        pin_init::pin_init_scope(move || {
            // Everything the callbacks use exists before the first callback can run; the misc
            // device, the way in for user space, comes last.
            let (shared, debugfs_name) = Self::shared(client)?;
            let misc_name = MiscName::claim(client);
            let name = misc_name.name(client)?;
            let retire = Retire(shared.clone());
            let target = TargetRegistration::new(client, shared.clone()).inspect_err(|e| {
                dev_err!(client.as_ref(), "cannot register as I2C target: {:?}\n", e)
            })?;
            let counters = CounterView(shared.clone());
            Ok(try_pin_init!(SsifBmc {
                _retire: retire,
                _target: target,
                _debugfs: debugfs::Dir::new(&debugfs_name),
                _counters <- _debugfs.read_only_file(c"counters", counters),
                _misc <- PollMiscDevice::register(client.as_ref(), name, 0o600, shared),
                _name: misc_name,
            }? Error))
        })
    }
}

/// The I2C driver's name, upstream's (`/sys/bus/i2c/drivers/ipmi-ssif-host/`); the module is
/// `ssif_bmc`, as upstream's is.
const DRIVER_NAME: &CStr = c"ipmi-ssif-host";

/// The module: the I2C driver's registration. `module_i2c_driver!` would name the driver after
/// the module.
#[pin_data]
struct SsifBmcModule {
    #[pin]
    _driver: driver::Registration<i2c::Adapter<SsifBmcDriver>>,
}

impl kernel::InPlaceModule for SsifBmcModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- driver::Registration::new(DRIVER_NAME, module),
        })
    }
}

module! {
    type: SsifBmcModule,
    name: "ssif_bmc",
    authors: ["ssif-bmc-rs developers"],
    description: "IPMI SMBus System Interface (SSIF), BMC side, in Rust",
    license: "GPL",
    params: {
        response_timeout_ms: u32 {
            default: 500,
            description: "Drop a request user space has not answered after this many ms (1..60000)",
        },
    },
}
