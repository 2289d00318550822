#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""mkfru.py OUT: write the BMC's FRU inventory (IPMI Platform Management FRU Information
Storage Definition v1.0): a common header, a board info area and a product info area,
each 8-byte aligned and closed by a zero-sum checksum. bmc.emu loads OUT as FRU device 0."""
import sys

BOARD = {
    "mfg_minutes": 15_000_000,  # minutes since 1996-01-01 00:00 (a date in 2024)
    "manufacturer": "SSIF-BMC-RS Project",
    "product": "AST2600 EVB (QEMU)",
    "serial": "SSIF0019",
    "part": "EVB-2600-SIM",
    "file_id": "fru-v1",
}
PRODUCT = {
    "manufacturer": "SSIF-BMC-RS Project",
    "product": "ipmi_sim behind ssif_bmc",
    "part": "SIM-19",
    "version": "1.0",
    "serial": "PRD0019",
    "asset": "lab-vm",
    "file_id": "fru-v1",
}


def field(text):
    data = text.encode("ascii")
    assert 1 < len(data) < 64
    return bytes([0xC0 | len(data)]) + data


def close_area(body):
    """Append the end marker, pad to 8 bytes (counting the checksum), set the length byte."""
    body = bytearray(body) + b"\xc1"
    while (len(body) + 1) % 8:
        body.append(0)
    body[1] = (len(body) + 1) // 8
    body.append((-sum(body)) & 0xFF)
    return bytes(body)


def board_area(b):
    m = b["mfg_minutes"]
    body = bytearray([0x01, 0, 0x00, m & 0xFF, (m >> 8) & 0xFF, (m >> 16) & 0xFF])
    for k in ("manufacturer", "product", "serial", "part", "file_id"):
        body += field(b[k])
    return close_area(body)


def product_area(p):
    body = bytearray([0x01, 0, 0x00])
    for k in ("manufacturer", "product", "part", "version", "serial", "asset", "file_id"):
        body += field(p[k])
    return close_area(body)


def main():
    board = board_area(BOARD)
    product = product_area(PRODUCT)
    header = bytearray([0x01, 0, 0, 1, 1 + len(board) // 8, 0, 0])
    header.append((-sum(header)) & 0xFF)
    image = bytes(header) + board + product
    # bmc.emu declares a 256-byte FRU device: pad the rest with zeros.
    assert len(image) <= 256
    image += bytes(256 - len(image))
    with open(sys.argv[1], "wb") as f:
        f.write(image)


main()
