#!/usr/bin/env python3
"""Independent reader of an edk2 NV variable store, for bootcard's tests.

Written straight from the edk2 struct definitions (MdePkg PiFirmwareVolume.h, MdeModulePkg
VariableFormat.h / AuthenticatedVariableFormat.h / SystemNvDataGuid.h), sharing no code with
bootcard's TypeScript. Standard library only.

usage: edk2_varstore.py FILE [--offset N]
prints JSON: {"fv_offset", "store_format", "fv_checksum_ok", "ftw_crc_ok", "ftw_pending",
              "variables": [{"name", "guid", "attributes", "state", "live", "data"}]}
"""
import json
import struct
import sys
import uuid
import zlib

NV_FV_GUID = uuid.UUID("fff12b8d-7696-4c8b-a985-2747075b4f50")
AUTH_STORE_GUID = uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792")
PLAIN_STORE_GUID = uuid.UUID("ddcf3616-3275-4164-98b6-fe85707ffe7d")
FTW_GUID = uuid.UUID("9e58292b-7c68-497d-a0ce-6500fd9f1b95")

# EFI_FIRMWARE_VOLUME_HEADER: ZeroVector[16], FileSystemGuid, FvLength, Signature, Attributes,
# HeaderLength, Checksum, ExtHeaderOffset, Reserved, Revision
FV_HEADER = struct.Struct("<16s16sQ4sIHHHBB")
# VARIABLE_STORE_HEADER: Signature, Size, Format, State, Reserved, Reserved1
STORE_HEADER = struct.Struct("<16sIBBHI")
# AUTHENTICATED_VARIABLE_HEADER: StartId, State, Reserved, Attributes, MonotonicCount,
# TimeStamp (EFI_TIME, 16 bytes), PubKeyIndex, NameSize, DataSize, VendorGuid
AUTH_VAR_HEADER = struct.Struct("<HBBIQ16sIII16s")
# VARIABLE_HEADER: StartId, State, Reserved, Attributes, NameSize, DataSize, VendorGuid
PLAIN_VAR_HEADER = struct.Struct("<HBBIII16s")
# EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER: Signature, Crc, state bits, Reserved3[3], WriteQueueSize
FTW_HEADER = struct.Struct("<16sIB3sQ")

VAR_ADDED = 0x3F
VAR_IN_DELETED_TRANSITION = 0xFE


def find_fv(data, hint):
    candidates = [hint] if hint is not None else []
    candidates += [{0x1F0000: 0x1D0000, 0x3E0000: 0x3B0000}.get(len(data), 0), 0]
    candidates += range(0, len(data) - FV_HEADER.size, 0x1000)
    for off in candidates:
        if off + FV_HEADER.size > len(data):
            continue
        fields = FV_HEADER.unpack_from(data, off)
        if fields[3] == b"_FVH" and uuid.UUID(bytes_le=fields[1]) == NV_FV_GUID:
            return off
    raise SystemExit("no NV firmware volume found")


def main():
    path = sys.argv[1]
    hint = int(sys.argv[sys.argv.index("--offset") + 1], 0) if "--offset" in sys.argv else None
    data = open(path, "rb").read()
    fv = find_fv(data, hint)
    _, _, fv_length, _, _, header_length, _, _, _, revision = FV_HEADER.unpack_from(data, fv)
    words = struct.unpack_from("<%dH" % (header_length // 2), data, fv)
    fv_checksum_ok = sum(words) & 0xFFFF == 0 and revision == 2

    store = fv + header_length
    sig, size, fmt, state, _, _ = STORE_HEADER.unpack_from(data, store)
    sig = uuid.UUID(bytes_le=sig)
    if sig == AUTH_STORE_GUID:
        header, store_format = AUTH_VAR_HEADER, "authenticated"
    elif sig == PLAIN_STORE_GUID:
        header, store_format = PLAIN_VAR_HEADER, "plain"
    else:
        raise SystemExit("unknown variable store signature %s" % sig)
    if fmt != 0x5A or state != 0xFE:
        raise SystemExit("variable store not formatted/healthy")
    end = store + size
    pos = (store + STORE_HEADER.size + 3) & ~3
    records = []
    while pos + header.size <= end:
        fields = header.unpack_from(data, pos)
        if fields[0] != 0x55AA:
            break
        if header is AUTH_VAR_HEADER:
            _, st, _, attrs, _, _, _, name_size, data_size, guid = fields
        else:
            _, st, _, attrs, name_size, data_size, guid = fields
        name_at = pos + header.size
        name = data[name_at:name_at + name_size].decode("utf-16-le").split("\x00")[0]
        value = data[name_at + name_size:name_at + name_size + data_size]
        records.append({"name": name, "guid": str(uuid.UUID(bytes_le=guid)), "attributes": attrs,
                        "state": st, "data": value.hex(), "offset": pos})
        pos = (name_at + name_size + data_size + 3) & ~3
    free_erased = all(b == 0xFF for b in data[pos:end])

    # GetVariable semantics: VAR_ADDED wins; an in-deleted-transition copy counts only when alone.
    added = {(r["guid"], r["name"]) for r in records if r["state"] == VAR_ADDED}
    for r in records:
        r["live"] = r["state"] == VAR_ADDED or (
            r["state"] == VAR_ADDED & VAR_IN_DELETED_TRANSITION and (r["guid"], r["name"]) not in added)

    ftw = data.find(FTW_GUID.bytes_le, end, fv + fv_length)
    sig, crc, bits, reserved, queue_size = FTW_HEADER.unpack_from(data, ftw)
    blank = bytearray(data[ftw:ftw + FTW_HEADER.size])
    blank[16:21] = b"\xff" * 5  # Crc and the state byte are erased when edk2 computes the CRC
    ftw_crc_ok = zlib.crc32(bytes(blank)) == crc and bits == 0xFE and reserved == b"\xff\xff\xff"
    # The write queue: the first header whose Complete bit (bit 2) is still 1 decides.
    q = ftw + FTW_HEADER.size
    pending = False
    while q + 40 <= ftw + FTW_HEADER.size + queue_size:
        flags = data[q]
        n_writes, private = struct.unpack_from("<QQ", data, q + 24)
        if flags & 0x04 == 0:
            q += 40 + n_writes * (40 + private)
            continue
        pending = flags & 0x01 == 0
        break

    json.dump({"fv_offset": fv, "store_format": store_format, "fv_checksum_ok": fv_checksum_ok,
               "ftw_crc_ok": ftw_crc_ok, "ftw_pending": pending, "free_space_erased": free_erased,
               "variables": records}, sys.stdout)


if __name__ == "__main__":
    main()
