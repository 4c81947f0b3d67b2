// The card sequence, sent one command per MMC_IOC_CMD ioctl, the way sdtool
// and mmc-utils do it. Response flags are the kernel's (include/linux/mmc/core.h,
// not part of the uapi headers, so repeated here).

// node-gyp builds with _FILE_OFFSET_BITS=64, which turns open() into open64().
// Nothing here needs file offsets, and calling the plain open symbol keeps
// LD_PRELOAD interposers (test card emulators) that wrap only open() working.
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <linux/mmc/ioctl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mmc_card.h"

namespace sdlock {
namespace {

constexpr unsigned kRspPresent = 1u << 0;
constexpr unsigned kRsp136 = 1u << 1;
constexpr unsigned kRspCrc = 1u << 2;
constexpr unsigned kRspBusy = 1u << 3;
constexpr unsigned kRspOpcode = 1u << 4;
constexpr unsigned kCmdAc = 0u << 5;
constexpr unsigned kCmdAdtc = 1u << 5;
constexpr unsigned kRspNone = 0;
constexpr unsigned kRspR1 = kRspPresent | kRspCrc | kRspOpcode;
constexpr unsigned kRspR1b = kRspPresent | kRspCrc | kRspOpcode | kRspBusy;
constexpr unsigned kRspR2 = kRspPresent | kRsp136 | kRspCrc;

constexpr uint32_t kSelectDeselectCard = 7;  // CMD7, ac, [31:16] RCA, R1b (no response when deselecting)
constexpr uint32_t kSendCsd = 9;             // CMD9, ac, [31:16] RCA, R2
constexpr uint32_t kSendStatus = 13;         // CMD13, ac, [31:16] RCA, R1
constexpr uint32_t kProgramCsd = 27;         // CMD27, adtc, stuff bits, R1, 16-byte data block

// R1 card status (SD Physical Layer spec, "Card Status"): the error bits
// OUT_OF_RANGE..ERROR, CSD_OVERWRITE, WP_ERASE_SKIP, AKE_SEQ_ERROR.
constexpr uint32_t kStatusErrorMask = 0xFDF98008u;
// ILLEGAL_COMMAND and COM_CRC_ERROR have clear condition B: they describe the
// command before the one answered (which already failed visibly, with no
// response). In CMD7's answer they are stale news, not about the select.
constexpr uint32_t kStatusPreviousCommand = (1u << 22) | (1u << 23);
constexpr uint32_t kStatusIllegalCommand = 1u << 22;
constexpr uint32_t kStatusStateShift = 9;
constexpr uint32_t kStatusStateMask = 0xFu;
constexpr uint32_t kStateStandby = 3;
constexpr uint32_t kStateTransfer = 4;
constexpr uint32_t kStateProgramming = 7;

constexpr int kProgramWaitMs = 3000;

const char* ErrnoName(int e) {
  switch (e) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTTY: return "ENOTTY";
    case EINVAL: return "EINVAL";
    case ENOMEDIUM: return "ENOMEDIUM";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case ENXIO: return "ENXIO";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EILSEQ: return "EILSEQ";
    case EIO: return "EIO";
    case EROFS: return "EROFS";
    case EBUSY: return "EBUSY";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case ENOTBLK: return "ENOTBLK";
    case EISDIR: return "EISDIR";
    default: return nullptr;
  }
}

void SetErrno(CardError& error, int e, const std::string& step) {
  const char* name = ErrnoName(e);
  error.code = name ? name : ("E" + std::to_string(e));
  error.errnum = e;
  error.step = step;
  error.detail = strerror(e);
}

void SleepMs(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

class Card {
 public:
  Card(const CardLocation& location, std::string& trace) : location_(location), trace_(trace) {}
  ~Card() {
    if (fd_ >= 0) close(fd_);
  }

  bool Open(const std::string& device, CardError& error) {
    // Read-only on purpose: MMC_IOC_CMD needs CAP_SYS_RAWIO, not write
    // access (mmc_blk_check_blkdev); a write-protected card's disk may be
    // read-only; and closing a block device opened for writing makes udev
    // re-probe it (and desktops re-mount it).
    fd_ = open(device.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      SetErrno(error, errno, "open");
      return false;
    }
    return true;
  }

  // CMD7(0) -> CMD9(RCA) -> CMD7(RCA). While the card is deselected the
  // kernel must not send it block I/O, so the three go as one
  // MMC_IOC_MULTI_CMD batch (the kernel runs a batch as one request, nothing
  // in between). Where the batch ioctl is not available they go one by one.
  bool ReadCsd(uint8_t csd[kCsdBytes], CardError& error) {
    bool unsupported = false;
    if (ReadCsdBatch(csd, error, unsupported)) return true;
    if (!unsupported) return false;
    error = CardError();
    return ReadCsdSingly(csd, error);
  }

  // On a failure after the deselect the card is selected again (best effort)
  // so the block device keeps working.
  bool ReadCsdSingly(uint8_t csd[kCsdBytes], CardError& error) {
    uint32_t response[4];
    if (!Send("CMD7 deselect", kSelectDeselectCard, 0, kRspNone | kCmdAc, response, error)) return false;
    if (!Send("CMD9 SEND_CSD", kSendCsd, Rca(), kRspR2 | kCmdAc, response, error)) {
      Reselect();
      return false;
    }
    CsdFromR2(response, csd);
    uint32_t status[4];
    if (!Send("CMD7 select", kSelectDeselectCard, Rca(), kRspR1b | kCmdAc, status, error)) return false;
    return CheckStatus("CMD7 select", status[0] & ~kStatusPreviousCommand, error);
  }

  bool ReadCsdBatch(uint8_t csd[kCsdBytes], CardError& error, bool& unsupported) {
    constexpr size_t kCount = 3;
    alignas(8) uint8_t buffer[sizeof(struct mmc_ioc_multi_cmd) + kCount * sizeof(struct mmc_ioc_cmd)];
    memset(buffer, 0, sizeof buffer);
    auto* multi = reinterpret_cast<struct mmc_ioc_multi_cmd*>(buffer);
    multi->num_of_cmds = kCount;
    struct mmc_ioc_cmd* cmds = multi->cmds;
    cmds[0].opcode = kSelectDeselectCard;
    cmds[0].arg = 0;
    cmds[0].flags = kRspNone | kCmdAc;
    cmds[1].opcode = kSendCsd;
    cmds[1].arg = Rca();
    cmds[1].flags = kRspR2 | kCmdAc;
    cmds[2].opcode = kSelectDeselectCard;
    cmds[2].arg = Rca();
    cmds[2].flags = kRspR1b | kCmdAc;

    int rc = ioctl(fd_, MMC_IOC_MULTI_CMD, multi);
    int saved = errno;
    for (size_t i = 0; i < kCount; i++) Trace("batch", cmds[i], rc == 0 ? 0 : saved);
    if (rc != 0) {
      // Unknown request (ENOTTY/EINVAL/...); EBADF from an interposer that
      // only knows MMC_IOC_CMD. A real failure repeats on the single path.
      if (saved == ENOTTY || saved == EINVAL || saved == ENOSYS || saved == EOPNOTSUPP || saved == EBADF) {
        unsupported = true;
        return false;
      }
      // The kernel stops at the failing command; a CSD in the reply means CMD9 got through.
      const bool got_csd = (cmds[1].response[0] | cmds[1].response[1] | cmds[1].response[2] | cmds[1].response[3]) != 0;
      SetErrno(error, saved, got_csd ? "CMD7 select" : "CMD9 SEND_CSD");
      Reselect();
      return false;
    }
    // A batch that "succeeded" without a CSD or without the select's status
    // (stand-by when it arrived) was not really run: go one by one.
    const uint32_t select_state = (cmds[2].response[0] >> kStatusStateShift) & kStatusStateMask;
    CsdFromR2(cmds[1].response, csd);
    bool any = false;
    for (size_t i = 0; i + 1 < kCsdBytes; i++) any = any || csd[i] != 0;
    if (!any || select_state != kStateStandby) {
      unsupported = true;
      return false;
    }
    return CheckStatus("CMD7 select", cmds[2].response[0] & ~kStatusPreviousCommand, error);
  }

  // R2: response[0] holds CSD bits 127..96, response[3] bits 31..0, big end
  // first. Hosts drop the CRC7 byte (bits 7..0) or pass it through.
  static void CsdFromR2(const uint32_t response[4], uint8_t csd[kCsdBytes]) {
    for (size_t i = 0; i < kCsdBytes; i++) csd[i] = static_cast<uint8_t>(response[i / 4] >> (24 - 8 * (i % 4)));
  }

  bool ProgramCsd(const uint8_t csd[kCsdBytes], CardError& error) {
    alignas(8) uint8_t block[kCsdBytes];
    memcpy(block, csd, kCsdBytes);
    struct mmc_ioc_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.write_flag = 1;
    cmd.opcode = kProgramCsd;
    cmd.arg = 0;
    cmd.flags = kRspR1 | kCmdAdtc;
    cmd.blksz = kCsdBytes;
    cmd.blocks = 1;
    mmc_ioc_cmd_set_data(cmd, block);
    if (!Ioctl("CMD27 PROGRAM_CSD", cmd, error)) return false;
    // The command before CMD27 was our CMD7 select, which succeeded; a
    // COM_CRC_ERROR here is the card's word on the CSD block.
    return CheckStatus("CMD27 PROGRAM_CSD", cmd.response[0] & ~kStatusIllegalCommand, error);
  }

  // Polls CMD13 until the card is back in the transfer state. A card that
  // refused the new CSD says so here (CSD_OVERWRITE is reported with the next
  // command). If SEND_STATUS itself fails, the read-back still decides.
  bool WaitProgrammed(bool& has_status, uint32_t& last_status, CardError& error) {
    for (int waited = 0;; waited += 5) {
      uint32_t status[4];
      CardError ignored;
      if (!Send("CMD13 SEND_STATUS", kSendStatus, Rca(), kRspR1 | kCmdAc, status, ignored)) {
        SleepMs(50);
        return true;
      }
      has_status = true;
      last_status = status[0];
      if (!CheckStatus("CMD27 PROGRAM_CSD (CMD13 status)", status[0], error)) return false;
      const uint32_t state = (status[0] >> kStatusStateShift) & kStatusStateMask;
      if (state != kStateProgramming) return true;
      if (waited >= kProgramWaitMs) {
        SetErrno(error, ETIMEDOUT, "CMD27 PROGRAM_CSD (still programming)");
        return false;
      }
      SleepMs(5);
    }
  }

 private:
  uint32_t Rca() const { return location_.rca << 16; }

  void Reselect() {
    uint32_t response[4];
    CardError ignored;
    Send("CMD7 select (recovery)", kSelectDeselectCard, Rca(), kRspR1b | kCmdAc, response, ignored);
  }

  bool Send(const char* step, uint32_t opcode, uint32_t arg, unsigned flags, uint32_t response[4], CardError& error) {
    struct mmc_ioc_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.opcode = opcode;
    cmd.arg = arg;
    cmd.flags = flags;
    bool ok = Ioctl(step, cmd, error);
    memcpy(response, cmd.response, sizeof cmd.response);
    return ok;
  }

  void Trace(const char* step, const struct mmc_ioc_cmd& cmd, int err) {
    char line[192];
    snprintf(line, sizeof line, "%s: CMD%u arg=0x%08x flags=0x%x -> %s rsp=%08x %08x %08x %08x\n", step, cmd.opcode, cmd.arg, cmd.flags,
             err == 0 ? "ok" : strerror(err), cmd.response[0], cmd.response[1], cmd.response[2], cmd.response[3]);
    trace_ += line;
  }

  bool Ioctl(const char* step, struct mmc_ioc_cmd& cmd, CardError& error) {
    int rc = ioctl(fd_, MMC_IOC_CMD, &cmd);
    int saved = errno;
    Trace(step, cmd, rc == 0 ? 0 : saved);
    if (rc != 0) {
      SetErrno(error, saved, step);
      return false;
    }
    return true;
  }

  static bool CheckStatus(const char* step, uint32_t status, CardError& error) {
    if ((status & kStatusErrorMask) == 0) return true;
    error.code = "CARD_STATUS";
    error.step = step;
    error.has_card_status = true;
    error.card_status = status;
    char text[32];
    snprintf(text, sizeof text, "card status 0x%08x", status);
    error.detail = text;
    return false;
  }

  const CardLocation& location_;
  std::string& trace_;
  int fd_ = -1;
};

void FlushTrace(const std::string& trace) {
  const char* want = getenv("BOOTCARD_SDLOCK_TRACE");
  if (want && *want && strcmp(want, "0") != 0) fputs(trace.c_str(), stderr);
}

}  // namespace

bool ReadCsd(const std::string& device, const std::string& sysfs_root, CsdRun& run, CardError& error) {
  if (!LocateCard(device, sysfs_root, run.location, error)) return false;
  Card card(run.location, run.trace);
  bool ok = card.Open(device, error) && card.ReadCsd(run.before, error);
  FlushTrace(run.trace);
  return ok;
}

bool ProgramCsd(const std::string& device, const std::string& sysfs_root, const uint8_t expected[kCsdBytes],
                const uint8_t next[kCsdBytes], CsdRun& run, CardError& error) {
  if (!LocateCard(device, sysfs_root, run.location, error)) return false;
  Card card(run.location, run.trace);
  bool ok = card.Open(device, error) && card.ReadCsd(run.before, error);
  // Bytes 0..14 only: hosts differ in whether they pass the CRC byte through.
  if (ok && memcmp(run.before, expected, kCsdBytes - 1) != 0) {
    error.code = "CSD_CHANGED";
    error.step = "CMD9 SEND_CSD";
    error.detail = "the card's CSD changed since it was read";
    ok = false;
  }
  if (ok) ok = card.ProgramCsd(next, error);
  if (ok) {
    run.programmed = true;
    ok = card.WaitProgrammed(run.has_status_after_program, run.status_after_program, error);
  }
  if (ok) ok = card.ReadCsd(run.after, error);
  FlushTrace(run.trace);
  return ok;
}

}  // namespace sdlock
