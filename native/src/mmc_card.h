// The SD card side of bootcard's write-protect addon: finding a card's RCA in
// sysfs and talking to it through the kernel's MMC_IOC_CMD ioctl. Plain C++,
// no Node-API, so it runs on a worker thread. See electron/core/sdlock/csd.ts
// for the CSD layout and the command sequence.
#pragma once

#include <cstdint>
#include <string>

namespace sdlock {

constexpr size_t kCsdBytes = 16;

// A failure, in words the TypeScript side maps to a BootcardError.
struct CardError {
  // An errno name ("EACCES", "ENOTTY", ...) or one of: "NO_SYSFS_CARD"
  // (no mmc device in sysfs owns this block device), "NOT_WHOLE_CARD"
  // (a partition), "CARD_STATUS" (the card answered with error bits),
  // "CSD_CHANGED" (the CSD is not what the caller last read).
  std::string code;
  int errnum = 0;
  // What was being done: "open", "sysfs", "CMD7 deselect", "CMD9 SEND_CSD", ...
  std::string step;
  std::string detail;
  bool has_card_status = false;
  uint32_t card_status = 0;
};

// Where the card sits in sysfs.
struct CardLocation {
  std::string block_name;   // mmcblk0
  std::string mmc_device;   // mmc0:aaaa
  std::string sysfs_path;   // <sysfs>/bus/mmc/devices/mmc0:aaaa
  std::string card_type;    // the `type` attribute: SD, MMC, SDIO, SDcombo; empty when absent
  uint32_t rca = 0;
};

// Finds the mmc device under <sysfs_root>/bus/mmc/devices whose block/<name>
// is this device, and its RCA (the `rca` attribute, else the hex after the
// colon of the device name).
bool LocateCard(const std::string& device, const std::string& sysfs_root, CardLocation& out, CardError& error);

// The result of one run.
struct CsdRun {
  CardLocation location;
  uint8_t before[kCsdBytes] = {};
  bool programmed = false;
  uint8_t after[kCsdBytes] = {};
  bool has_status_after_program = false;
  uint32_t status_after_program = 0;
  std::string trace;
};

// Reads the CSD: CMD7(0) deselect -> CMD9 SEND_CSD -> CMD7(RCA) select.
bool ReadCsd(const std::string& device, const std::string& sysfs_root, CsdRun& run, CardError& error);

// Reads the CSD, checks bytes 0..14 equal `expected`, programs `next` with
// CMD27 PROGRAM_CSD, waits for the card to leave the programming state
// (CMD13), and reads the CSD again into run.after.
bool ProgramCsd(const std::string& device, const std::string& sysfs_root, const uint8_t expected[kCsdBytes],
                const uint8_t next[kCsdBytes], CsdRun& run, CardError& error);

}  // namespace sdlock
