// SPDX-License-Identifier: GPL-2.0
//! The BMC's answers, as ssifbridged + ipmid would give them for the commands we serve.

/// `struct ipmi_ssif_msg`: `unsigned int len` + 254 payload bytes.
pub const PAYLOAD_MAX: usize = 254;
/// What ssifbridged reads into: `len` + 254 bytes.
pub const READ_BUF: usize = 4 + PAYLOAD_MAX;

pub const NETFN_APP: u8 = 0x06;
/// OEM netfn used for the echo command (OEM range 0x30..0x3f).
pub const NETFN_OEM: u8 = 0x30;
pub const CMD_ECHO: u8 = 0x01;
/// OEM "slow echo": answered like the echo; the responder's `--slow-cmd 30:02` answers it late.
pub const CMD_SLOW_ECHO: u8 = 0x02;
pub const CC_OK: u8 = 0x00;
pub const CC_INVALID_COMMAND: u8 = 0xc1;

/// Get System Interface Capabilities (SSIF): multi-part start/middle/end (0b10 << 6), PEC
/// (bit 3), version 0; 254-byte messages both ways. This is what the Rust driver supports.
pub const SSIF_CAPS: u8 = 0x88;

/// Get System Interface Capabilities (netfn 0x06, cmd 0x57) for the SSIF interface type
/// (data byte 0 is 0), answered with what the driver supports: the response payload
/// (`netfn|1 << 2 | lun, cmd, cc, reserved, caps, max in, max out`). None for any other
/// request. ssifbridged and our bridge answer it themselves: ipmid and the simulator do not.
pub fn system_interface_caps(request: &[u8]) -> Option<Vec<u8>> {
    match request {
        [netfn_lun, 0x57, 0x00, ..] if netfn_lun >> 2 == NETFN_APP => Some(vec![
            ((NETFN_APP | 1) << 2) | (netfn_lun & 3),
            0x57,
            CC_OK,
            0x00,
            SSIF_CAPS,
            PAYLOAD_MAX as u8,
            PAYLOAD_MAX as u8,
        ]),
        _ => None,
    }
}

/// Builds the response payload (netfn|1, cmd, cc, data) for a request payload.
pub fn answer(request: &[u8], global_enables: &mut u8) -> Vec<u8> {
    if let Some(caps) = system_interface_caps(request) {
        return caps;
    }
    let (netfn, lun, cmd) = (
        request[0] >> 2,
        request[0] & 3,
        request.get(1).copied().unwrap_or(0),
    );
    let data = request.get(2..).unwrap_or(&[]);
    let mut out = vec![((netfn | 1) << 2) | lun, cmd];
    let body: Vec<u8> = match (netfn, cmd) {
        // Get Device ID
        (NETFN_APP, 0x01) => vec![
            CC_OK, 0x20, 0x81, 0x01, 0x00, 0x02, 0xbf, 0x00, 0x00, 0x00, 0x34, 0x12, 0x00, 0x00,
            0x00, 0x00,
        ],
        // Get Self Test Results: no error
        (NETFN_APP, 0x04) => vec![CC_OK, 0x55, 0x00],
        // Set / Get BMC Global Enables
        (NETFN_APP, 0x2e) => {
            *global_enables = data.first().copied().unwrap_or(0);
            vec![CC_OK]
        }
        (NETFN_APP, 0x2f) => vec![CC_OK, *global_enables],
        // Clear / Get Message Flags: nothing queued
        (NETFN_APP, 0x30) => vec![CC_OK],
        (NETFN_APP, 0x31) => vec![CC_OK, 0x00],
        // OEM echo: the data back
        (NETFN_OEM, CMD_ECHO | CMD_SLOW_ECHO) => {
            let mut v = vec![CC_OK];
            v.extend_from_slice(&data[..data.len().min(PAYLOAD_MAX - 3)]);
            v
        }
        _ => vec![CC_INVALID_COMMAND],
    };
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_advertise_n_part_multipart_and_pec() {
        let r = answer(&[NETFN_APP << 2, 0x57, 0x00], &mut 0);
        // [netfn|1][cmd][cc][reserved][caps][max in][max out], as ipmi_ssif parses it.
        assert_eq!(r, [0x1c, 0x57, CC_OK, 0x00, 0x88, 254, 254]);
        assert_eq!((r[4] >> 6) & 3, 2, "SSIF_MULTI_n_PART");
        assert_eq!((r[4] >> 3) & 1, 1, "PEC");
        assert_eq!(
            system_interface_caps(&[(NETFN_APP << 2) | 1, 0x57, 0x00]).unwrap()[0],
            0x1d
        );
        assert_eq!(system_interface_caps(&[NETFN_APP << 2, 0x57, 0x01]), None);
        assert_eq!(system_interface_caps(&[NETFN_APP << 2, 0x57]), None);
    }

    #[test]
    fn unknown_command_gets_c1_with_netfn_and_lun_kept() {
        assert_eq!(
            answer(&[(0x0a << 2) | 2, 0x42], &mut 0),
            [(0x0b << 2) | 2, 0x42, CC_INVALID_COMMAND]
        );
    }

    #[test]
    fn echo_returns_the_data_and_fits_254_bytes() {
        let mut req = vec![NETFN_OEM << 2, CMD_ECHO];
        req.extend(0..=251u8);
        let r = answer(&req, &mut 0);
        assert_eq!(r.len(), PAYLOAD_MAX);
        assert_eq!(&r[..3], &[(NETFN_OEM | 1) << 2, CMD_ECHO, CC_OK]);
        assert_eq!(&r[3..], &req[2..2 + PAYLOAD_MAX - 3]);
    }

    #[test]
    fn global_enables_are_remembered() {
        let mut ge = 0;
        answer(&[NETFN_APP << 2, 0x2e, 0x0d], &mut ge);
        assert_eq!(
            answer(&[NETFN_APP << 2, 0x2f], &mut ge),
            [0x1c, 0x2f, CC_OK, 0x0d]
        );
    }
}
