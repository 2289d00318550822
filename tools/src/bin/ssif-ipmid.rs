// SPDX-License-Identifier: GPL-2.0
//! A stand-in for OpenBMC's ipmid (phosphor-host-ipmid) on D-Bus, for the real ssifbridged to
//! call: it forwards each IPMI request to OpenIPMI's `ipmi_sim` over its VM serial protocol
//! (`ssif_tools::simcalls`) and returns the simulator's answer.
//!
//! The D-Bus side is ipmid's, as github openbmc/phosphor-host-ipmid `ipmid-new.cpp` (at
//! 00dabf5ed43561feca122820b3bd33e48956ef2d) has it: the name `xyz.openbmc_project.Ipmi.Host`,
//! object `/xyz/openbmc_project/Ipmi`, interface `xyz.openbmc_project.Ipmi.Server`, method
//! `execute` (registered as `ipmi::executionEntry`), in `yyyaya{sv}` (netfn, LUN, cmd, data,
//! options), returning one struct `(yyyyay)`: netfn | 1, LUN and cmd of the request, then the
//! completion code and the data. ipmid runs each call as a coroutine of its own, so a slow
//! command does not hold up the next; here each call is a task of its own (zbus spawns one
//! per method call) and the calls in flight share the simulator connection under sequence
//! bytes of their own. When the simulator is away, breaks the connection, gives a reply
//! that is not for the request or none in `--timeout-ms`, the call fails with a D-Bus
//! error (`org.freedesktop.DBus.Error.Failed`): ssifbridged then writes nothing.
//!
//! Options: `--connect HOST:PORT` (default 127.0.0.1:9002), `--timeout-ms N` (default 10000,
//! within ssifbridged's own 14 s), `--retry-ms N` (default 200), `--session` (the session
//! bus instead of the system bus, for tests), `-v` (log every call).

use ssif_tools::simcalls::{Config, SimCalls};
use std::{collections::HashMap, sync::Arc, time::Duration};
use zbus::{fdo, interface, wire::OwnedVariant};

const NAME: &str = "xyz.openbmc_project.Ipmi.Host";
const PATH: &str = "/xyz/openbmc_project/Ipmi";

struct Ipmid {
    sim: Arc<SimCalls>,
    verbose: bool,
}

#[interface(name = "xyz.openbmc_project.Ipmi.Server")]
impl Ipmid {
    /// ipmid's `execute`: one IPMI request, one answer `(netfn | 1, lun, cmd, cc, data)`.
    #[zbus(name = "execute")]
    async fn execute(
        &self,
        netfn: u8,
        lun: u8,
        cmd: u8,
        data: Vec<u8>,
        _options: HashMap<String, OwnedVariant>,
    ) -> fdo::Result<((u8, u8, u8, u8, Vec<u8>),)> {
        let mut req = vec![(netfn << 2) | (lun & 3), cmd];
        req.extend_from_slice(&data);
        match self.sim.call(&req).await {
            Ok(reply) => {
                if self.verbose {
                    eprintln!(
                        "ssif-ipmid: {netfn:02x}/{cmd:02x} -> cc {:02x} ({} data bytes)",
                        reply[2],
                        reply.len() - 3
                    );
                }
                Ok(((netfn | 1, lun, cmd, reply[2], reply[3..].to_vec()),))
            }
            Err(e) => {
                eprintln!("ssif-ipmid: {netfn:02x}/{cmd:02x}: {e}");
                Err(fdo::Error::Failed(e.to_string()))
            }
        }
    }
}

fn main() {
    let args = ssif_tools::args::Args::from_env();
    let ms = |name: &str, default: u64| {
        Duration::from_millis(
            args.opt(name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(default),
        )
    };
    let verbose = args.flag("-v");
    let sim = SimCalls::start(Config {
        connect: args
            .opt("--connect")
            .unwrap_or_else(|| "127.0.0.1:9002".into()),
        timeout: ms("--timeout-ms", 10_000),
        retry: ms("--retry-ms", 200),
        verbose,
        name: "ssif-ipmid",
    });
    let builder = if args.flag("--session") {
        zbus::connection::Builder::session()
    } else {
        zbus::connection::Builder::system()
    };
    let r: zbus::Result<()> = zbus::block_on(async {
        let _conn = builder
            .name(NAME)
            .serve_at(PATH, Ipmid { sim, verbose })
            .build()
            .await?;
        eprintln!("ssif-ipmid: serving {NAME} {PATH}");
        std::future::pending::<()>().await;
        Ok(())
    });
    if let Err(e) = r {
        eprintln!("ssif-ipmid: D-Bus: {e}");
        std::process::exit(1);
    }
}
