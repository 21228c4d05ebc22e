// Shell run by the worker on the Docker host, each under `flock <image>.lock`, so workers on one
// host never mkfs, mount or grow the same image at once. Arguments are positional, never spliced.

/**
 * `ensure IMAGE MOUNTPOINT SIZE_MB UID:GID [FROM]`: creates the ext4 image (sparse; journal and
 * inode tables initialised lazily, so creating it writes almost nothing), mounts it at the mount
 * point with `loop,nodev,nosuid`, and grows it to `SIZE_MB` when smaller: online (which needs
 * CAP_SYS_RESOURCE), else offline when nothing else has it mounted, else not this time. `FROM` is the
 * directory of an unlimited volume whose content a fresh image starts with (the migration path);
 * it is sized to hold that content. A fresh image is built as `IMAGE.new` and renamed once
 * complete, so a crash half-way is started over. The mount point is made immutable while nothing
 * is mounted on it, so a volume bound to it before the image is mounted (after a reboot) refuses
 * every write instead of writing to the host's disk. `lost+found` is removed so the engine copies
 * the image's home into a fresh volume as it does for plain ones.
 */
export const ENSURE_DISK_SCRIPT = `
set -eu
img=$1 mnt=$2 size_mb=$3 owner=$4 from=\${5:-}
attach() {
  mkdir -p "$mnt"
  chattr +i "$mnt"
  mount -t ext4 -o loop,nodev,nosuid "$1" "$mnt"
}
if [ ! -e "$img" ]; then
  if mountpoint -q "$mnt"; then umount "$mnt"; fi
  if [ -n "$from" ]; then
    need=$(( $(du -sm "$from" | cut -f1) * 5 / 4 + 32 ))
    if [ "$need" -gt "$size_mb" ]; then size_mb=$need; fi
  fi
  rm -f "$img.new"
  truncate -s "\${size_mb}M" "$img.new"
  mkfs.ext4 -q -F -m 0 -E "lazy_itable_init=1,lazy_journal_init=1,root_owner=$owner" "$img.new"
  attach "$img.new"
  rmdir "$mnt/lost+found"
  if [ -n "$from" ]; then cp -a "$from/." "$mnt/"; fi
  mv "$img.new" "$img"
elif ! mountpoint -q "$mnt"; then
  attach "$img"
fi
want=$(( size_mb * 1048576 ))
had=$(stat -c %s "$img")
if [ "$had" -lt "$want" ]; then
  dev=$(findmnt -n -o SOURCE --mountpoint "$mnt")
  truncate -s "$want" "$img"
  losetup -c "$dev"
  if ! resize2fs "$dev" >/dev/null 2>&1; then
    if [ "$(findmnt -n -S "$dev" | wc -l)" -eq 1 ]; then
      umount "$mnt"
      # The loop device caches the old superblock: let it go before the image is changed.
      losetup -d "$dev" 2>/dev/null || true
      tries=0
      while [ -n "$(losetup -j "$img")" ] && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries + 1)); done
      e2fsck -fp "$img" >/dev/null || [ $? -le 1 ]
      resize2fs "$img" >/dev/null
      attach "$img"
    else
      truncate -s "$had" "$img"
      losetup -c "$dev"
    fi
  fi
fi
`;

/**
 * `remove IMAGE MOUNTPOINT`: unmounts and deletes an image (its Docker volume is already gone, so
 * no container can bind it again). A mount still busy after 2 s (the last process of a container
 * just removed, still exiting; a shell left in it) is detached lazily: it leaves the host's mount
 * table now and the kernel frees the file system when its last user goes.
 */
export const REMOVE_DISK_SCRIPT = `
set -eu
img=$1 mnt=$2
tries=0
while mountpoint -q "$mnt"; do
  if umount "$mnt" 2>/dev/null; then break; fi
  tries=$((tries + 1))
  if [ "$tries" -ge 20 ]; then umount -l "$mnt"; break; fi
  sleep 0.1
done
rm -f "$img" "$img.new"
if [ -d "$mnt" ]; then chattr -i "$mnt"; rmdir "$mnt"; fi
rm -f "$img.lock"
`;
