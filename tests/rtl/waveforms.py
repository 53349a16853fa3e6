"""Checks of waveform files written by the Verilated top-k engine: the FST header (the layout of
fstapi.c's fstWriterEmitHdr, which Verilator's VerilatedFstC uses) and the size the tools say
before a dump."""
import re
import struct
from pathlib import Path

FST_HEADER_BLOCK = 0  # FST_BL_HDR
FST_HEADER_LENGTH = 329  # section length after the block type byte
FST_ENDIAN_TEST = 2.7182818284590452354  # e, written as a native double


def fst_header(path: Path) -> dict:
    """The FST header's fields; raises AssertionError when the file is not an FST file."""
    data = Path(path).read_bytes()[:330]
    assert len(data) == 330, f"{path}: {len(data)} bytes, shorter than an FST header"
    assert data[0] == FST_HEADER_BLOCK, f"{path}: first block is type {data[0]}, not a header"
    length, start, end = struct.unpack(">QQQ", data[1:25])
    assert length == FST_HEADER_LENGTH, f"{path}: header section of {length} bytes"
    (endian,) = struct.unpack("<d", data[25:33])
    assert endian == FST_ENDIAN_TEST, f"{path}: endian test {endian}, not e"
    scopes, variables = struct.unpack(">QQ", data[41:57])
    version = data[74:202].split(b"\0", 1)[0].decode()
    return {"start_time": start, "end_time": end, "scopes": scopes, "vars": variables,
            "version": version}


def announced_mb(stderr: str) -> float:
    """The size a tool said it would write ("about 0.9 MB of FST ..."), in MB."""
    match = re.search(r"about ([0-9.]+) MB of (VCD|FST)", stderr)
    assert match, f"no size estimate in: {stderr}"
    return float(match.group(1))
