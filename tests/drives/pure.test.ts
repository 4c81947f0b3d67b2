import { describe, expect, it } from 'vitest';
import { parseMountinfo, parseSwaps } from '../../electron/core/drives/mountinfo.js';
import { busFromSysfsPath, csdWriteProtect, decodeMmcAttributes, isNeverATarget, looksLikeCardReader } from '../../electron/core/drives/sysfs-facts.js';

describe('mount table parsing', () => {
  it('ties mounts to MAJOR:MINOR and unescapes paths', () => {
    const mounts = parseMountinfo(
      [
        '23 1 179:2 / / rw,noatime shared:1 - ext4 /dev/root rw',
        '301 23 8:17 / /media/alice/My\\040Card rw,nosuid shared:160 master:3 - vfat /dev/sdb1 rw,uid=1000',
        'garbage line',
      ].join('\n'),
    );
    expect(mounts).toEqual([
      { deviceNumber: '179:2', mountpoint: '/', fstype: 'ext4', source: '/dev/root' },
      { deviceNumber: '8:17', mountpoint: '/media/alice/My Card', fstype: 'vfat', source: '/dev/sdb1' },
    ]);
  });

  it('lists active swap', () => {
    expect(parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/dev/sda3 partition 8388604 0 -2\n/swapfile file 1024 0 -3\n')).toEqual(['/dev/sda3', '/swapfile']);
  });
});

describe('sysfs facts', () => {
  it('tells the bus from the resolved device path', () => {
    expect(busFromSysfsPath('/sys/devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0', 'mmcblk0')).toBe('mmc');
    expect(busFromSysfsPath('/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb', 'sdb')).toBe('usb');
    expect(busFromSysfsPath('/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda', 'sda')).toBe('sata');
    expect(busFromSysfsPath('/sys/devices/virtual/block/loop3', 'loop3')).toBe('loop');
  });

  it('recognises card readers by their SCSI vendor/model, not USB sticks', () => {
    for (const [vendor, model] of [['Generic-', 'SD/MMC'], ['Generic-', 'Micro SD/M2'], ['Generic', 'STORAGE DEVICE'], ['USB3.0', 'CRW -SD'], ['Realtek', 'RTSX USB Card Reader']]) {
      expect(looksLikeCardReader(vendor, model), `${vendor} ${model}`).toBe(true);
    }
    for (const [vendor, model] of [['SanDisk', 'Ultra Fit'], ['Kingston', 'DataTraveler 3.0'], ['Samsung', 'Flash Drive FIT']]) {
      expect(looksLikeCardReader(vendor, model), `${vendor} ${model}`).toBe(false);
    }
  });

  it('never targets eMMC boot/RPMB partitions, RAM disks or optical drives', () => {
    for (const name of ['mmcblk0boot0', 'mmcblk1boot1', 'mmcblk0rpmb', 'zram0', 'ram0', 'sr0']) expect(isNeverATarget(name), name).toBe(true);
    for (const name of ['mmcblk0', 'sdb', 'loop0', 'nvme0n1']) expect(isNeverATarget(name), name).toBe(false);
  });

  it('reads the CSD write-protect bits and decodes the CID attributes', () => {
    expect(csdWriteProtect('400e00325b590000ee7f7f800a405059')).toEqual({ temporary: true, permanent: false });
    expect(csdWriteProtect('400e00325b590000ee7f7f800a406059')).toEqual({ temporary: false, permanent: true });
    expect(csdWriteProtect('not a csd')).toBeUndefined();
    expect(decodeMmcAttributes({ type: 'SD', manfid: '0x000041', oemid: '0x3432', name: 'SD32G', serial: '0x00c0ffee', date: '1/2024' })).toMatchObject({
      manufacturer: 'Kingston',
      oemId: '42',
      serial: '0x00c0ffee',
      manufactureDate: '2024-01',
    });
  });
});
