// Whether the agent runs in a container, where the host name is the container's id: a new one
// with every `docker run`, so it cannot be the device's default id (docs/device.md).
import { existsSync } from 'node:fs'

/** Files container engines create in the container: Docker's and Podman's. */
const MARKERS = ['/.dockerenv', '/run/.containerenv']

/**
 * What shows that this process runs in a container (the `container` variable that Podman,
 * systemd-nspawn and LXC set, or a marker file), or undefined when nothing does.
 */
export function containerMarker (env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean = existsSync): string | undefined {
  const v = env.container
  if (v !== undefined && v !== '') return `the environment says container=${v}`
  const file = MARKERS.find((f) => exists(f))
  return file === undefined ? undefined : `${file} exists`
}
