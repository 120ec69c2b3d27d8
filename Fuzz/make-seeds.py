#!/usr/bin/env python3
"""Seeds for the fuzzers, from the public capture corpus (../shared/corpus).

  make-seeds.py CORPUS OUT

OUT/decoder/  one file per distinct frame: 2-byte DLT (big-endian) + frame,
              from classic pcap and pcapng files, at most 20 frames a file.
OUT/capture/  the capture files themselves, cut to 64 KiB (a cut file is a
              case worth having too).
Deterministic: the same corpus gives the same seeds.
"""
import hashlib
import os
import struct
import sys

MAX_FRAMES_PER_FILE = 20
MAX_CAPTURE_SEED = 64 * 1024


def classic_frames(data):
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
              b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None or len(data) < 24:
        return
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    offset = 24
    while offset + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[offset + 8:offset + 12])[0]
        offset += 16
        if caplen > 262144 or offset + caplen > len(data):
            return
        yield linktype, data[offset:offset + caplen]
        offset += caplen


def pcapng_frames(data):
    if data[:4] != b"\x0a\x0d\x0d\x0a" or len(data) < 12:
        return
    endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    interfaces = []
    offset = 0
    while offset + 12 <= len(data):
        kind, length = struct.unpack(endian + "II", data[offset:offset + 8])
        if length < 12 or offset + length > len(data):
            return
        body = data[offset + 8:offset + length - 4]
        if kind == 1 and len(body) >= 2:  # interface description
            interfaces.append(struct.unpack(endian + "H", body[:2])[0])
        elif kind == 6 and len(body) >= 20:  # enhanced packet
            interface, _, _, caplen = struct.unpack(endian + "IIII", body[:16])
            if interface < len(interfaces) and 20 + caplen <= len(body):
                yield interfaces[interface], body[20:20 + caplen]
        elif kind == 3 and len(body) >= 4 and interfaces:  # simple packet
            yield interfaces[0], body[4:]
        offset += length


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    decoder_dir = os.path.join(out, "decoder")
    capture_dir = os.path.join(out, "capture")
    os.makedirs(decoder_dir, exist_ok=True)
    os.makedirs(capture_dir, exist_ok=True)
    frames = captures = 0
    for directory, _, names in sorted(os.walk(corpus)):
        for name in sorted(names):
            path = os.path.join(directory, name)
            if name.endswith((".md", ".txt", ".tsv", ".log")) or name.startswith(("README", "LICENSE", "COPYING")):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4",
                                b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a"):
                continue
            seed = data[:MAX_CAPTURE_SEED]
            digest = hashlib.sha1(seed).hexdigest()
            with open(os.path.join(capture_dir, digest), "wb") as handle:
                handle.write(seed)
            captures += 1
            source = pcapng_frames(data) if data[:4] == b"\x0a\x0d\x0d\x0a" else classic_frames(data)
            for count, (linktype, frame) in enumerate(source):
                if count >= MAX_FRAMES_PER_FILE:
                    break
                seed = struct.pack(">H", linktype & 0xFFFF) + frame
                digest = hashlib.sha1(seed).hexdigest()
                target = os.path.join(decoder_dir, digest)
                if not os.path.exists(target):
                    with open(target, "wb") as handle:
                        handle.write(seed)
                frames += 1
    print(f"make-seeds: {len(os.listdir(decoder_dir))} decoder seeds, {captures} capture-file seeds in {out}")


if __name__ == "__main__":
    main()
