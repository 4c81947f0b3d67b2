// Finding a card's relative card address (RCA) in sysfs. The kernel names each
// card's device after its host and RCA (mmc0:aaaa) and, on most kernels, also
// exports the RCA as the `rca` attribute:
//
//   <sysfs>/bus/mmc/devices/mmc0:aaaa -> ../../../devices/.../mmc_host/mmc0/mmc0:aaaa
//   <sysfs>/bus/mmc/devices/mmc0:aaaa/block/mmcblk0
//   <sysfs>/bus/mmc/devices/mmc0:aaaa/{type,csd,cid,rca}
//   <sysfs>/block/mmcblk0/device -> the same mmc0:aaaa directory
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>

#include "mmc_card.h"

namespace sdlock {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string ReadAttribute(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::string value;
  std::getline(in, value);
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\r')) value.pop_back();
  return value;
}

std::string Basename(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "0xaaaa" or "43690"; 0 when unreadable.
uint32_t ParseRca(const std::string& text, int base) {
  if (text.empty()) return 0;
  errno = 0;
  char* end = nullptr;
  unsigned long value = strtoul(text.c_str(), &end, base);
  if (errno != 0 || end == text.c_str() || *end != '\0' || value == 0 || value > 0xffff) return 0;
  return static_cast<uint32_t>(value);
}

bool Fill(const std::string& dir, const std::string& mmc_device, CardLocation& out, CardError& error) {
  out.mmc_device = mmc_device;
  out.sysfs_path = dir;
  out.card_type = ReadAttribute(dir + "/type");
  out.rca = ParseRca(ReadAttribute(dir + "/rca"), 0);
  if (out.rca == 0) {
    auto colon = mmc_device.find_last_of(':');
    if (colon != std::string::npos) out.rca = ParseRca(mmc_device.substr(colon + 1), 16);
  }
  if (out.rca == 0) {
    error.code = "NO_SYSFS_CARD";
    error.step = "sysfs";
    error.detail = "cannot tell the card's RCA from " + dir;
    return false;
  }
  return true;
}

}  // namespace

bool LocateCard(const std::string& device, const std::string& sysfs_root, CardLocation& out, CardError& error) {
  // /dev/disk/by-id/... links resolve to the kernel name; a path that does not
  // exist (yet) is taken by its name.
  std::string name = Basename(device);
  char resolved[PATH_MAX];
  if (realpath(device.c_str(), resolved) != nullptr) name = Basename(resolved);
  out.block_name = name;

  static const std::regex partition("^mmcblk[0-9]+(p[0-9]+|boot[0-9]+|rpmb|gp[0-9]+)$");
  if (std::regex_match(name, partition)) {
    error.code = "NOT_WHOLE_CARD";
    error.step = "sysfs";
    error.detail = name;
    return false;
  }

  const std::string bus = sysfs_root + "/bus/mmc/devices";
  if (DIR* dir = opendir(bus.c_str())) {
    while (struct dirent* entry = readdir(dir)) {
      const std::string mmc_device = entry->d_name;
      if (mmc_device == "." || mmc_device == "..") continue;
      const std::string card_dir = bus + "/" + mmc_device;
      if (Exists(card_dir + "/block/" + name)) {
        closedir(dir);
        return Fill(card_dir, mmc_device, out, error);
      }
    }
    closedir(dir);
  }

  // Fallback: the block device's own link to its mmc device.
  const std::string link = sysfs_root + "/block/" + name + "/device";
  if (realpath(link.c_str(), resolved) != nullptr) {
    const std::string card_dir = resolved;
    const std::string mmc_device = Basename(card_dir);
    if (mmc_device.rfind("mmc", 0) == 0 && mmc_device.find(':') != std::string::npos) {
      return Fill(card_dir, mmc_device, out, error);
    }
  }

  error.code = "NO_SYSFS_CARD";
  error.step = "sysfs";
  error.detail = "no device under " + bus + " has block/" + name;
  return false;
}

}  // namespace sdlock
