// How `lambkin devices` and `lambkin status` read the fleet from the operator API, whose
// GET /v1/devices and /v1/status answer in pages (docs/cloud.md, "Pages"): one page when the
// user asks for one (--limit, --after), else every page in turn, the largest the API gives,
// saying on stderr how far it got while a long list is read.
import { DEVICE_PAGES } from '../cloud-sync/api/device-pages.js'
import type { ApiClient } from './api-client.js'
import type { CliIo } from './io.js'

/** What a page answer holds: its devices and the cursor of the next page (null or absent: none). */
export interface PageAnswer<D> { devices: D[], next?: string | null }

/** --limit and --after as commander hands them over. */
export interface PageFlags { limit?: number, after?: string }

/** `--limit` and `--after` on a listing command; either reads that one page only. */
export const PAGE_OPTIONS = Object.freeze({
  limit: `with --after or alone: show one page of at most this many devices (1 to ${DEVICE_PAGES.maxLimit}), in id order, and the --after for the next; without either, every page is read`,
  after: 'show the page of devices whose id sorts after this one (the "next" a page printed)'
})

/**
 * The devices of `route`: with --limit or --after that one page (and its `next`), else every
 * page, DEVICE_PAGES.maxLimit at a time, with a line on stderr after each page but the last.
 * A cloud from before pages answers everything at once without `next`: one page.
 * `last` is the last page's answer (its other fields: /v1/status's `cloud`).
 */
export interface ReadDevices<D, A> { devices: D[], next: string | null, last: A, paged: boolean }

export async function readDevices<D, A extends PageAnswer<D>> (
  client: ApiClient, route: string, f: PageFlags, io: CliIo, what: string
): Promise<ReadDevices<D, A>> {
  const url = (limit: number, after: string | undefined): string => `${route}?limit=${limit}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`
  if (f.limit !== undefined || f.after !== undefined) {
    const a = await client.call<A>('GET', url(f.limit ?? DEVICE_PAGES.defaultLimit, f.after))
    return { devices: a.devices, next: a.next ?? null, last: a, paged: true }
  }
  const devices: D[] = []
  let after: string | undefined
  for (;;) {
    const a = await client.call<A>('GET', url(DEVICE_PAGES.maxLimit, after))
    for (const d of a.devices) devices.push(d)
    const next = a.next ?? null
    // A cursor that does not move on would read the same page for ever.
    if (next === null || next === after) return { devices, next: null, last: a, paged: false }
    io.stderr(`${what}: ${devices.length.toLocaleString('en-US')} devices read, reading on after ${next}\n`)
    after = next
  }
}

/** The line after one page that says how to ask for the next. */
export function nextHint (command: string, next: string | null, limit: number | undefined): string {
  if (next === null) return ''
  return `more devices: ${command} --after ${next}${limit === undefined ? '' : ` --limit ${limit}`}\n`
}
