/**
 * Which configured devices are online. Several signals say the same thing (the connection opening,
 * `avail/{id}` = online, the will `offline`, the connection closing); only changes become events.
 */
export class Availability {
  private readonly online = new Set<string>();

  /** Records the state; true when it changed (the caller emits device.online / device.offline). */
  set(deviceId: string, online: boolean): boolean {
    if (online === this.online.has(deviceId)) return false;
    if (online) this.online.add(deviceId);
    else this.online.delete(deviceId);
    return true;
  }

  isOnline(deviceId: string): boolean {
    return this.online.has(deviceId);
  }

  count(): number {
    return this.online.size;
  }
}
