/*
 * A simulated SD card behind the Linux MMC_IOC_CMD and MMC_IOC_MULTI_CMD ioctls, for testing
 * bootcard's SD write-protect addon without hardware. Loaded with LD_PRELOAD;
 * it intercepts open/open64/openat/close/ioctl for one device path and passes
 * everything else through.
 *
 * The card follows the SD Physical Layer spec's state machine for the
 * commands involved:
 *   CMD7  (select/deselect, arg RCA<<16): stand-by <-> transfer; arg 0 or
 *         another RCA deselects (no response); programming -> disconnect.
 *   CMD9  (SEND_CSD, R2): only in stand-by and addressed to this RCA. The reply
 *         is laid out as the kernel returns it: response[0] = bits 127..96, ...,
 *         response[3] = bits 31..0 with the CRC byte dropped (00).
 *   CMD13 (SEND_STATUS, R1): card status with the current state; reports and
 *         clears pending error bits (CSD_OVERWRITE, ILLEGAL_COMMAND).
 *   CMD27 (PROGRAM_CSD, write, one 16-byte block): only in transfer. Checks
 *         the block's CRC7 (x^7+x^3+1) in byte 15 (EILSEQ if wrong), refuses
 *         with CSD_OVERWRITE a change to a read-only field, a cleared COPY or
 *         PERM_WRITE_PROTECT bit, or any change once PERM_WRITE_PROTECT is set.
 *         The card then programs (state 7) until the next CMD13.
 *   Any other command, or one in the wrong state: no response (ETIMEDOUT)
 *   and ILLEGAL_COMMAND in the next status.
 *
 * Environment:
 *   SDEMU_DEVICE  the device path to emulate (default /dev/mmcblk0)
 *   SDEMU_STATE   file holding the card between processes (required): csd hex and state
 *   SDEMU_CSD     the CSD (32 hex digits) when the state file does not exist yet
 *   SDEMU_RCA     the card's RCA (default 0xaaaa)
 *   SDEMU_LOG     file to append one line per command to
 *   SDEMU_DELAY_MS  sleep this long in every MMC command (a slow card)
 *   SDEMU_MOUNTS  a file served in place of /proc/self/mounts (a mounted card)
 *   SDEMU_FAULT   eacces (open fails), nomedium (open fails), enotty (a USB
 *                 reader: the ioctl is unknown), eperm (no CAP_SYS_RAWIO),
 *                 crc (CMD27 data is corrupted on the "bus"), timeout (CMD9
 *                 never answers), ignore-csd (CMD27 accepted but not stored),
 *                 no-cmd13 (a minimal card model: CMD13 is illegal and
 *                 programming finishes at once), no-multi (MMC_IOC_MULTI_CMD
 *                 is unknown: ENOTTY), multi-noop (MMC_IOC_MULTI_CMD returns
 *                 0 and does nothing)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mmc/ioctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define RSP_PRESENT (1u << 0)
#define RSP_136 (1u << 1)
#define CMD_ADTC (1u << 5)
#define CMD_TYPE_MASK (3u << 5)

#define ST_STBY 3u
#define ST_TRAN 4u
#define ST_PRG 7u
#define ST_DIS 8u

#define S_CSD_OVERWRITE (1u << 16)
#define S_ILLEGAL_COMMAND (1u << 22)
#define S_READY_FOR_DATA (1u << 8)

#define MAX_FDS 64

static int fake_fds[MAX_FDS];
static int fake_count;

struct card {
  uint8_t csd[16];
  unsigned state;
  uint32_t pending;
};

static const char *device_path(void) {
  const char *p = getenv("SDEMU_DEVICE");
  return p && *p ? p : "/dev/mmcblk0";
}

static const char *fault(void) {
  const char *f = getenv("SDEMU_FAULT");
  return f ? f : "";
}

static unsigned card_rca(void) {
  const char *r = getenv("SDEMU_RCA");
  return r && *r ? (unsigned)strtoul(r, NULL, 0) : 0xaaaau;
}

static uint8_t crc7(const uint8_t *bytes, size_t n) {
  uint8_t crc = 0;
  for (size_t i = 0; i < n; i++) {
    for (int bit = 7; bit >= 0; bit--) {
      unsigned feedback = ((crc >> 6) & 1u) ^ ((bytes[i] >> bit) & 1u);
      crc = (uint8_t)((crc << 1) & 0x7f);
      if (feedback) crc ^= 0x09;
    }
  }
  return crc;
}

static int parse_hex(const char *hex, uint8_t out[16]) {
  if (!hex || strlen(hex) < 32) return -1;
  for (int i = 0; i < 16; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return 0;
}

/* The real libc functions, looked up lazily. */
static int (*real_open)(const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);

static void resolve(void) {
  if (!real_open) real_open = dlsym(RTLD_NEXT, "open");
  if (!real_close) real_close = dlsym(RTLD_NEXT, "close");
  if (!real_ioctl) real_ioctl = dlsym(RTLD_NEXT, "ioctl");
}

static int load(struct card *c) {
  const char *path = getenv("SDEMU_STATE");
  if (!path) return -1;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (parse_hex(getenv("SDEMU_CSD"), c->csd) != 0) return -1;
    c->csd[15] = (uint8_t)((crc7(c->csd, 15) << 1) | 1);
    c->state = ST_TRAN;
    c->pending = 0;
    return 0;
  }
  char hex[64] = {0};
  int ok = fscanf(f, "csd=%40s state=%u pending=%u", hex, &c->state, &c->pending) == 3 && parse_hex(hex, c->csd) == 0;
  fclose(f);
  return ok ? 0 : -1;
}

static void save(const struct card *c) {
  const char *path = getenv("SDEMU_STATE");
  if (!path) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "csd=");
  for (int i = 0; i < 16; i++) fprintf(f, "%02x", c->csd[i]);
  fprintf(f, " state=%u pending=%u\n", c->state, c->pending);
  fclose(f);
  rename(tmp, path);
}

static void log_line(const struct mmc_ioc_cmd *cmd, unsigned state_before, int err) {
  const char *path = getenv("SDEMU_LOG");
  if (!path) return;
  FILE *f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "CMD%u arg=0x%08x flags=0x%x write=%d blksz=%u blocks=%u state=%u -> %s\n", cmd->opcode, cmd->arg, cmd->flags,
          cmd->write_flag, cmd->blksz, cmd->blocks, state_before, err ? strerror(err) : "ok");
  fclose(f);
}

static void log_batch(uint64_t n) {
  const char *path = getenv("SDEMU_LOG");
  if (!path) return;
  FILE *f = fopen(path, "a");
  if (!f) return;
  fprintf(f, "MULTI %llu\n", (unsigned long long)n);
  fclose(f);
}

static int is_fake(int fd) {
  for (int i = 0; i < fake_count; i++)
    if (fake_fds[i] == fd) return 1;
  return 0;
}

static int open_fake(int flags) {
  if (!strcmp(fault(), "eacces")) {
    errno = EACCES;
    return -1;
  }
  if (!strcmp(fault(), "nomedium")) {
    errno = ENOMEDIUM;
    return -1;
  }
  resolve();
  int fd = real_open("/dev/null", (flags & O_ACCMODE) | O_CLOEXEC);
  if (fd >= 0 && fake_count < MAX_FDS) fake_fds[fake_count++] = fd;
  return fd;
}

static int wants_fake(const char *path) { return path && !strcmp(path, device_path()); }

/* /proc/self/mounts, or the table the test wants bootcard to see. */
static const char *mounts_override(const char *path) {
  const char *table = getenv("SDEMU_MOUNTS");
  return path && table && *table && !strcmp(path, "/proc/self/mounts") ? table : path;
}

int open(const char *path, int flags, ...) {
  resolve();
  if (wants_fake(path)) return open_fake(flags);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  return real_open(mounts_override(path), flags, mode);
}

int open64(const char *path, int flags, ...) {
  resolve();
  if (wants_fake(path)) return open_fake(flags);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  return real_open(mounts_override(path), flags | O_LARGEFILE, mode);
}

int __open_2(const char *path, int flags) { return open(path, flags, 0); }
int __open64_2(const char *path, int flags) { return open64(path, flags, 0); }

int openat(int dirfd, const char *path, int flags, ...) {
  static int (*real_openat)(int, const char *, int, ...);
  if (!real_openat) real_openat = dlsym(RTLD_NEXT, "openat");
  if (wants_fake(path)) return open_fake(flags);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  return real_openat(dirfd, mounts_override(path), flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = va_arg(ap, mode_t);
  va_end(ap);
  return openat(dirfd, path, flags | O_LARGEFILE, mode);
}

int close(int fd) {
  resolve();
  for (int i = 0; i < fake_count; i++) {
    if (fake_fds[i] == fd) {
      fake_fds[i] = fake_fds[--fake_count];
      break;
    }
  }
  return real_close(fd);
}

static uint32_t status_word(struct card *c, unsigned state) {
  uint32_t s = c->pending | (state << 9) | (state == ST_PRG ? 0 : S_READY_FOR_DATA);
  c->pending = 0;
  return s;
}

/* Returns 0 or an errno. */
static int run_command(struct card *c, struct mmc_ioc_cmd *cmd) {
  const unsigned rca = card_rca();
  const unsigned addressed = (cmd->arg >> 16) == rca;
  const unsigned before = c->state;
  memset(cmd->response, 0, sizeof cmd->response);

  switch (cmd->opcode) {
    case 7:
      if (!addressed) {
        /* Deselect: every card not addressed leaves transfer/programming and stays silent. */
        if (c->state == ST_TRAN) c->state = ST_STBY;
        else if (c->state == ST_PRG) c->state = ST_DIS;
        return (cmd->flags & RSP_PRESENT) ? ETIMEDOUT : 0;
      }
      if (c->state == ST_STBY) c->state = ST_TRAN;
      else if (c->state == ST_DIS) c->state = ST_PRG;
      else break; /* already selected: illegal */
      if (!(cmd->flags & RSP_PRESENT) || (cmd->flags & RSP_136)) return EINVAL;
      cmd->response[0] = status_word(c, before);
      return 0;
    case 9:
      if (!addressed || c->state != ST_STBY) break;
      if (!(cmd->flags & RSP_136) || cmd->write_flag || cmd->blocks) return EINVAL;
      if (!strcmp(fault(), "timeout")) return ETIMEDOUT;
      for (int i = 0; i < 4; i++)
        cmd->response[i] = (uint32_t)c->csd[4 * i] << 24 | (uint32_t)c->csd[4 * i + 1] << 16 | (uint32_t)c->csd[4 * i + 2] << 8 |
                           (i == 3 ? 0 : c->csd[4 * i + 3]);
      return 0;
    case 13:
      if (!addressed || c->state == ST_DIS || !strcmp(fault(), "no-cmd13")) break;
      cmd->response[0] = status_word(c, before);
      if (c->state == ST_PRG) c->state = ST_TRAN; /* programming finishes */
      return 0;
    case 27: {
      if (c->state != ST_TRAN) break;
      if (!cmd->write_flag || cmd->blksz != 16 || cmd->blocks != 1 || !cmd->data_ptr || (cmd->flags & CMD_TYPE_MASK) != CMD_ADTC ||
          (cmd->flags & RSP_136))
        return EINVAL;
      uint8_t block[16];
      memcpy(block, (const void *)(uintptr_t)cmd->data_ptr, 16);
      if (!strcmp(fault(), "crc")) block[3] ^= 0x04; /* noise on the bus */
      if (block[15] != (uint8_t)((crc7(block, 15) << 1) | 1)) return EILSEQ;
      cmd->response[0] = status_word(c, before);
      c->state = strcmp(fault(), "no-cmd13") ? ST_PRG : ST_TRAN;
      const uint8_t programmable = 0xfc; /* FILE_FORMAT_GRP, COPY, PERM, TMP, FILE_FORMAT */
      int overwrite = memcmp(block, c->csd, 14) != 0 || ((block[14] ^ c->csd[14]) & ~programmable) != 0 ||
                      ((c->csd[14] & 0x40) && !(block[14] & 0x40)) || ((c->csd[14] & 0x20) && block[14] != c->csd[14]);
      if (overwrite) c->pending |= S_CSD_OVERWRITE;
      else if (strcmp(fault(), "ignore-csd") != 0) memcpy(c->csd, block, 16);
      return 0;
    }
    default:
      break;
  }
  /* Illegal in this state: the card does not answer. */
  c->pending |= S_ILLEGAL_COMMAND;
  return ETIMEDOUT;
}

int ioctl(int fd, unsigned long request, ...) {
  resolve();
  va_list ap;
  va_start(ap, request);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!is_fake(fd)) return real_ioctl(fd, request, arg);
  const int multi = request == MMC_IOC_MULTI_CMD;
  if ((request != MMC_IOC_CMD && !multi) || !strcmp(fault(), "enotty") || (multi && !strcmp(fault(), "no-multi"))) {
    errno = ENOTTY;
    return -1;
  }
  if (multi && !strcmp(fault(), "multi-noop")) return 0; /* a careless interposer: "succeeds", does nothing */
  if (!strcmp(fault(), "eperm")) {
    errno = EPERM;
    return -1;
  }
  const char *delay = getenv("SDEMU_DELAY_MS");
  if (delay && *delay) {
    long ms = strtol(delay, NULL, 10);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  struct card c;
  if (load(&c) != 0) {
    errno = ENOMEDIUM;
    return -1;
  }
  int err = 0;
  if (multi) {
    /* The kernel runs a batch as one request and stops at the first failure. */
    struct mmc_ioc_multi_cmd *batch = arg;
    log_batch(batch->num_of_cmds);
    for (uint64_t i = 0; i < batch->num_of_cmds && !err; i++) {
      unsigned before = c.state;
      err = run_command(&c, &batch->cmds[i]);
      log_line(&batch->cmds[i], before, err);
    }
  } else {
    struct mmc_ioc_cmd *cmd = arg;
    unsigned before = c.state;
    err = run_command(&c, cmd);
    log_line(cmd, before, err);
  }
  save(&c);
  if (err) {
    errno = err;
    return -1;
  }
  return 0;
}
