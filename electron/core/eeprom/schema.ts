/**
 * bootcard's schema of the bootloader EEPROM config keys (bootconf.txt).
 *
 * Built from the official bootloader documentation, the rpi-eeprom release
 * notes and the key table in the firmware binaries (collected in
 * ../shared/reference/eeprom-keys.json, which tests/eeprom/schema.test.ts
 * checks this table against). Keys with `documented: false` are read by the
 * firmware but described nowhere: the validator accepts them with a warning.
 *
 * Value types:
 *   bool        0 or 1                    int       decimal integer (min/max/allowed)
 *   hex         0x-prefixed hex (or decimal) with min/max; bitField: only listed bits
 *   ipv4        dotted quad (allowEmpty: an empty value means "not set")
 *   mac         six colon-separated hex octets
 *   bootOrder   see boot-order.ts          otpRows   "A,B" customer OTP rows 0..7
 *   hostname    lower-case name or IPv4, no scheme, no '/'
 *   sha256      64 hex characters          url       http(s)://...
 *   vidPidList  comma-separated 8-hex-digit VID:PID values
 *   string      free text (maxLength)
 */
import type { Board } from './image.js';

export type EepromValueType =
  | 'bool' | 'int' | 'hex' | 'ipv4' | 'mac' | 'bootOrder' | 'otpRows' | 'hostname' | 'sha256' | 'url' | 'vidPidList' | 'string';

export interface EepromKeySpec {
  readonly key: string;
  readonly type: EepromValueType;
  readonly boards: readonly Board[];
  readonly documented: boolean;
  /** Documented default (as written in the docs: a number, or a string such as "0xf41" or ""). */
  readonly default: number | string | null;
  readonly min?: number;
  readonly max?: number;
  readonly allowed?: readonly number[];
  /** Bit meanings of a bit-field value (XHCI_DEBUG). */
  readonly flags?: Readonly<Record<number, string>>;
  readonly bitField?: boolean;
  readonly maxLength?: number;
  readonly maxEntries?: number;
  readonly allowEmpty?: boolean;
  readonly unit?: string;
  readonly description: string;
}

export const EEPROM_KEYS: readonly EepromKeySpec[] = [
  { key: "BOOT_UART", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "Enables bootloader debug output on the UART (GPIO14/15; Pi 5 dedicated debug UART), 115200 8N1 unless UART_BAUD is set." },
  { key: "UART_BAUD", type: 'int', boards: ["2712"], documented: true, default: 115200, allowed: [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600], unit: "baud", description: "Baud rate of the bootloader debug UART." },
  { key: "WAKE_ON_GPIO", type: 'int', boards: ["2711", "2712"], documented: true, default: 1, allowed: [0, 1, 2], description: "If 1, 'sudo halt' enters a low-power state that wakes when GPIO3 or GLOBAL_EN is pulled to ground; 2 on Pi 400 selects an external GPIO power button instead of the built-in key." },
  { key: "POWER_OFF_ON_HALT", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "If 1 (and WAKE_ON_GPIO=0 on Pi 4), halt switches off all PMIC outputs (Pi 5: PMIC STANDBY); lowest-power halt state." },
  { key: "WAIT_FOR_POWER_BUTTON", type: 'bool', boards: ["2712"], documented: true, default: 0, description: "With POWER_OFF_ON_HALT=1, after power is first applied the board stays in standby until the power button (or an RTC alarm) is pressed instead of booting immediately." },
  { key: "BOOT_ORDER", type: 'bootOrder', boards: ["2711", "2712"], documented: true, default: "0xf41", min: 0x0, max: 0xffffffff, description: "Ordered list of boot modes packed as nibbles of a 32-bit value, tried from least-significant nibble upward (see boot-order.json)." },
  { key: "MAX_RESTARTS", type: 'int', boards: ["2711", "2712"], documented: true, default: -1, min: -1, description: "Number of RESTART (0xf) loops allowed before the bootloader triggers a watchdog reset; -1 means unlimited." },
  { key: "SD_BOOT_MAX_RETRIES", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: -1, description: "How many times SD boot is retried before moving to the next BOOT_ORDER mode; -1 = retry forever." },
  { key: "NET_BOOT_MAX_RETRIES", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: -1, description: "How many times network (TFTP) boot is retried before moving to the next BOOT_ORDER mode; -1 = retry forever." },
  { key: "BOOT_WATCHDOG_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: 0, unit: "s", description: "Seconds before a hardware watchdog in the bootloader resets the board if the OS has not been started; 0 disables it." },
  { key: "BOOT_WATCHDOG_PARTITION", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: 0, description: "Partition number passed to the next boot when the bootloader watchdog fires (e.g. a recovery partition); 0 = default partition." },
  { key: "REBOOT_ON_FATAL_ERROR", type: 'bool', boards: ["2711", "2712"], documented: true, default: 1, description: "After a fatal boot error the LED pattern is shown three times and the board hard-resets; 0 shows the error pattern forever instead." },
  { key: "SD_OVERCURRENT_CHECK", type: 'bool', boards: ["2711", "2712"], documented: true, default: 1, description: "Checks the SD power-switch over-current signal before booting; 0 turns the check from a blocking error (retry after 5 s) into a warning." },
  { key: "SD_QUIRKS", type: 'hex', boards: ["2711", "2712"], documented: true, default: "0x0", min: 0x0, max: 0x1, allowed: [0, 1], bitField: true, description: "Bit-field of SD interoperability workarounds; bit 0 (0x1) disables SD high-speed modes (clock limited to 12.5 MHz)." },
  { key: "DHCP_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 45000, min: 5000, unit: "ms", description: "Timeout for the whole DHCP exchange before the current network-boot attempt fails." },
  { key: "DHCP_REQ_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 4000, min: 500, unit: "ms", description: "Timeout before a DHCP DISCOVER or REQUEST is retransmitted." },
  { key: "TFTP_FILE_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 30000, min: 5000, unit: "ms", description: "Timeout for downloading a single file over TFTP." },
  { key: "TFTP_IP", type: 'ipv4', boards: ["2711", "2712"], documented: true, default: "", allowEmpty: true, description: "TFTP server address (dotted decimal) that overrides the server IP supplied by DHCP; with CLIENT_IP/SUBNET it enables static IP (DHCP skipped)." },
  { key: "TFTP_PREFIX", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, allowed: [0, 1, 2], description: "Selects the per-device TFTP directory prefix: 0 = serial number, 1 = TFTP_PREFIX_STR, 2 = MAC address (dc-a6-32-01-36-c2/)." },
  { key: "TFTP_PREFIX_STR", type: 'string', boards: ["2711", "2712"], documented: true, default: "", maxLength: 32, description: "Custom TFTP directory prefix used when TFTP_PREFIX=1 (e.g. tftp_test/)." },
  { key: "PXE_OPTION43", type: 'string', boards: ["2711", "2712"], documented: true, default: "Raspberry Pi Boot", description: "Replaces the string the bootloader matches in the DHCP/PXE Option 43 menu." },
  { key: "DHCP_OPTION97", type: 'hex', boards: ["2711", "2712"], documented: true, default: "0x34695052", min: 0x0, max: 0xffffffff, description: "4-byte prefix of the DHCP client GUID (Option 97); the GUID is prefix + board revision + low 4 bytes of MAC + serial. 0 restores the legacy serial-repeated-4-times GUID." },
  { key: "MAC_ADDRESS", type: 'mac', boards: ["2711", "2712"], documented: true, default: "", description: "Overrides the Ethernet MAC address used by the bootloader (and propagated to the OS by the firmware)." },
  { key: "MAC_ADDRESS_OTP", type: 'otpRows', boards: ["2711", "2712"], documented: true, default: "", description: "Takes the Ethernet MAC address from two Customer OTP rows given as 'A,B' (first row: OUI + top 8 bits, second: low 16 bits)." },
  { key: "CLIENT_IP", type: 'ipv4', boards: ["2711", "2712"], documented: true, default: "", allowEmpty: true, description: "Static client IPv4 address; with TFTP_IP (and SUBNET/GATEWAY) set, DHCP is skipped." },
  { key: "SUBNET", type: 'ipv4', boards: ["2711", "2712"], documented: true, default: "", allowEmpty: true, description: "Subnet mask for static IP configuration (e.g. 255.255.255.0)." },
  { key: "GATEWAY", type: 'ipv4', boards: ["2711", "2712"], documented: true, default: "", allowEmpty: true, description: "Gateway for static IP configuration; may be omitted when the TFTP server is on the client's subnet." },
  { key: "NETCONSOLE", type: 'string', boards: ["2711", "2712"], documented: true, default: "", maxLength: 32, description: "Mirrors bootloader debug messages as UDP packets; format src_port@src_ip/dev_name,dst_port@dst_ip/dst_mac." },
  { key: "DISABLE_HDMI", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "Disables the HDMI boot-diagnostics screen (and network install)." },
  { key: "HDMI_DELAY", type: 'int', boards: ["2711", "2712"], documented: true, default: 5, min: 0, unit: "s", description: "Suppresses the HDMI diagnostics screen for up to N seconds unless a fatal error occurs." },
  { key: "ENABLE_SELF_UPDATE", type: 'bool', boards: ["2711", "2712"], documented: true, default: 1, description: "Lets the bootloader reflash itself from pieeprom.upd/pieeprom.sig (and vl805.bin/.sig) found on the TFTP/USB/NVMe/SD boot filesystem." },
  { key: "FREEZE_VERSION", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "If 1, rpi-eeprom-update skips automatic updates and the bootloader ignores self-update (overrides ENABLE_SELF_UPDATE)." },
  { key: "HTTP_HOST", type: 'hostname', boards: ["2711", "2712"], documented: true, default: "fw-download-alias1.raspberrypi.com", description: "Server from which network install / HTTP boot (mode 7) fetch boot.img and boot.sig; setting it switches to plain HTTP unless HTTP_CACERT_HASH is also set." },
  { key: "HTTP_PORT", type: 'int', boards: ["2711", "2712"], documented: true, default: 443, min: 1, max: 65535, description: "TCP port for network install / HTTP boot." },
  { key: "HTTP_PATH", type: 'string', boards: ["2711", "2712"], documented: true, default: "net_install", description: "Case-sensitive path on HTTP_HOST holding boot.img/boot.sig; ignored unless HTTP_HOST is set." },
  { key: "HTTP_CACERT_HASH", type: 'sha256', boards: ["2711", "2712"], documented: true, default: "", description: "SHA-256 (hex) of a DER CA certificate embedded with rpi-eeprom-config --cacertder; with HTTP_HOST/HTTP_PATH it makes network install / HTTP boot use HTTPS on 443." },
  { key: "IMAGER_REPO_URL", type: 'url', boards: ["2711", "2712"], documented: true, default: "", description: "URL of the OS-list JSON used by the embedded Raspberry Pi Imager during network install." },
  { key: "NET_INSTALL_ENABLED", type: 'bool', boards: ["2711", "2712"], documented: true, default: 1, description: "Shows the network-install screen at boot when a keyboard is detected (hold SHIFT); 0 disables it and saves ~1 s of USB enumeration." },
  { key: "NET_INSTALL_AT_POWER_ON", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "Briefly shows the network-install UI after a cold boot; overrides NET_INSTALL_ENABLED if they conflict." },
  { key: "NET_INSTALL_KEYBOARD_WAIT", type: 'int', boards: ["2711", "2712"], documented: true, default: 900, min: 0, unit: "ms", description: "How long the bootloader waits to detect a keyboard and SHIFT for network install; 0 disables the wait." },
  { key: "PARTITION", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: 0, description: "Boot partition to use when none was requested by 'reboot N' or autoboot.txt; can also remap high (>31) watchdog/reboot partition numbers." },
  { key: "PARTITION_WALK", type: 'bool', boards: ["2711", "2712"], documented: true, default: 1, description: "If the requested partition is not bootable and has no valid autoboot.txt, try each partition in turn (up to 8, wrapping to 0) before moving to the next boot mode." },
  { key: "BOOTVAR0", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: 0, max: 0xffffffff, description: "Sets the bootvar0 variable that config.txt conditionals can test (e.g. [bootvar0&0x10])." },
  { key: "PCIE_PROBE", type: 'bool', boards: ["2712"], documented: true, default: 0, description: "Enumerates the PCIe x1 connector to find NVMe drives on non-HAT+ adapters (HAT+ devices are auto-detected)." },
  { key: "PSU_MAX_CURRENT", type: 'int', boards: ["2712"], documented: true, default: null, unit: "mA", description: "Skips USB-PD negotiation and assumes a supply with this current rating (typically 3000 or 5000)." },
  { key: "USB_MSD_EXCLUDE_VID_PID", type: 'vidPidList', boards: ["2711", "2712"], documented: true, default: "", maxEntries: 4, description: "Up to four USB VID/PID pairs the bootloader ignores during mass-storage enumeration (a matching hub hides everything behind it)." },
  { key: "USB_MSD_DISCOVER_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 20000, min: 5000, unit: "ms", description: "If no USB mass-storage device appears within this time, USB-MSD boot gives up and the next mode is tried." },
  { key: "USB_MSD_LUN_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: true, default: 2000, min: 100, unit: "ms", description: "Time to wait before moving on to the next LUN (e.g. multi-slot card readers)." },
  { key: "USB_MSD_PWR_OFF_TIME", type: 'int', boards: ["2711"], documented: true, default: 1000, min: 0, max: 5000, unit: "ms", description: "How long USB port power is held off at reboot before USB-MSD boot (0 skips the extra power-off)." },
  { key: "USB_MSD_STARTUP_DELAY", type: 'int', boards: ["2711", "2712"], documented: true, default: 0, min: 0, max: 30000, unit: "ms", description: "Delay after the USB host controller is initialised before devices are enumerated (slow-starting HDDs)." },
  { key: "VL805", type: 'bool', boards: ["2711"], documented: true, default: 0, description: "CM4: initialise an external VL805 xHCI controller on PCIe using the VL805 firmware embedded in the bootloader EEPROM." },
  { key: "XHCI_DEBUG", type: 'hex', boards: ["2711", "2712"], documented: true, default: "0x0", min: 0x0, max: 0x7f, flags: {0x1: "USB descriptors", 0x2: "mass-storage state machine", 0x4: "mass-storage state machine (verbose)", 0x8: "all USB requests", 0x10: "device and hub state machines", 0x20: "all xHCI TRBs (very verbose)", 0x40: "all xHCI events (very verbose)"}, description: "Bit-field enabling USB/xHCI debug logging during mass-storage boot." },
  { key: "SDRAM_BANKLOW", type: 'int', boards: ["2711", "2712"], documented: true, default: null, min: 0, max: 4, allowed: [0, 1, 2, 3, 4], description: "Chooses how SDRAM bank bits map into the address space (affects performance and the numa=fake=<n> the bootloader adds)." },
  { key: "SIGNED_BOOT", type: 'bool', boards: ["2711", "2712"], documented: true, default: 0, description: "Requires a signed boot.img/boot.sig ramdisk (signature checked against the EEPROM public key); for testing signed images without OTP secure-boot." },
  { key: "USE_IPV6", type: 'bool', boards: ["2711", "2712"], documented: false, default: null, description: "Apparently selects IPv6 for network (TFTP) boot." },
  { key: "DNS_IP", type: 'ipv4', boards: ["2711", "2712"], documented: false, default: null, description: "Apparently a static DNS server address (companion to CLIENT_IP/SUBNET/GATEWAY, for HTTP boot by hostname)." },
  { key: "NVME_CONTROLLER", type: 'int', boards: ["2711", "2712"], documented: false, default: null, description: "Apparently selects which NVMe controller is used for NVMe boot." },
  { key: "USB_DEV_BOOT_MAX_RETRIES", type: 'int', boards: ["2711", "2712"], documented: false, default: null, description: "Apparently the retry count for RPIBOOT (USB device) boot mode." },
  { key: "USB_DEV_FILE_TIMEOUT", type: 'int', boards: ["2711", "2712"], documented: false, default: null, unit: "ms", description: "Apparently the per-file timeout for RPIBOOT (USB device) boot mode." },
  { key: "BOOT_MENU_OPTIONS", type: 'string', boards: ["2711", "2712"], documented: false, default: null, description: "Apparently configures the SPACE-at-power-on boot-mode menu (added 2024-10-10)." },
  { key: "BOOT_MENU_ENABLED", type: 'bool', boards: ["2712"], documented: false, default: null, description: "Apparently enables/disables the SPACE-at-power-on boot menu." },
];

const byKey = new Map(EEPROM_KEYS.map((k) => [k.key, k]));

export function eepromKeySpec(key: string): EepromKeySpec | undefined {
  return byKey.get(key);
}
