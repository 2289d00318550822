// SPDX-License-Identifier: GPL-2.0
//! Instructions of the protocol core per bus byte, for `scripts/cost.sh` (run under
//! `valgrind --tool=callgrind --toggle-collect=*run_workload*`). A workload's bus events and
//! user-space operations are generated beforehand, so what `run_workload` executes is the core
//! plus a trivial loop. Prints `bytes=<bus bytes per run> runs=<n>`.

use ssif_protocol::protocol::{pec, BusEvent, Message, Ssif};
use std::hint::black_box;

enum Op {
    Bus(BusEvent),
    Take,
    Respond,
}

/// One transaction: a request written in parts (with PEC), taken, answered, read back.
fn script(req: &[u8], resp_len: usize, ops: &mut Vec<Op>) -> usize {
    let mut bytes = 0;
    let mut write = |ops: &mut Vec<Op>, cmd: u8, data: &[u8]| {
        let mut frame = vec![0x20, cmd, data.len() as u8];
        frame.extend_from_slice(data);
        let p = pec(&frame);
        ops.push(Op::Bus(BusEvent::WriteRequested));
        for &b in frame[1..].iter().chain([p].iter()) {
            ops.push(Op::Bus(BusEvent::WriteReceived(b)));
        }
        ops.push(Op::Bus(BusEvent::Stop));
        bytes += frame.len() + 1;
    };
    if req.len() <= 32 {
        write(ops, 0x02, req);
    } else {
        write(ops, 0x06, &req[..32]);
        let mut rest = &req[32..];
        while rest.len() > 32 {
            write(ops, 0x07, &rest[..32]);
            rest = &rest[32..];
        }
        write(ops, 0x08, rest);
    }
    ops.push(Op::Take);
    ops.push(Op::Respond);
    // Read parts: first (03) then middles (09); each part is len + data + PEC.
    let parts = if resp_len <= 32 {
        vec![resp_len]
    } else {
        let mut v = vec![30 + 2];
        let mut left = resp_len - 30;
        while left > 0 {
            let n = left.min(31);
            v.push(n + 1);
            left -= n;
        }
        v
    };
    for (i, n) in parts.iter().enumerate() {
        ops.push(Op::Bus(BusEvent::WriteRequested));
        ops.push(Op::Bus(BusEvent::WriteReceived(if i == 0 {
            0x03
        } else {
            0x09
        })));
        ops.push(Op::Bus(BusEvent::ReadRequested));
        for _ in 0..n + 1 {
            ops.push(Op::Bus(BusEvent::ReadProcessed));
        }
        ops.push(Op::Bus(BusEvent::Stop));
        bytes += 3 + n + 2;
    }
    bytes
}

#[inline(never)]
fn run_workload(ssif: &mut Ssif, ops: &[Op], response: &Message) {
    for op in ops {
        match op {
            Op::Bus(e) => {
                black_box(ssif.on_bus(*e));
            }
            Op::Take => {
                black_box(ssif.take_request());
            }
            Op::Respond => {
                black_box(ssif.respond(response.clone()).ok());
            }
        }
    }
}

fn main() {
    let workload = std::env::args().nth(1).unwrap_or_default();
    let (req, resp_len): (Vec<u8>, usize) = match workload.as_str() {
        "get_device_id_pec" => (vec![0x18, 0x01], 15),
        "multipart_250" => ((0..250).map(|i| i as u8).collect(), 250),
        _ => {
            eprintln!("usage: ssif-cost get_device_id_pec|multipart_250");
            std::process::exit(2);
        }
    };
    let runs = 1000;
    let mut ops = Vec::new();
    let bytes = script(&req, resp_len, &mut ops);
    let response = Message::from_slice(&vec![0x5a; resp_len]).unwrap();
    let mut ssif = Ssif::new(0x10);
    for _ in 0..runs {
        run_workload(&mut ssif, &ops, &response);
    }
    assert_eq!(ssif.counters().requests, runs, "workload script is wrong");
    assert_eq!(
        ssif.counters().responses_delivered,
        runs,
        "workload script is wrong"
    );
    println!("bytes={bytes} runs={runs}");
}
