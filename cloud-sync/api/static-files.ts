// The dashboard's static files, as scripts/build-web.mjs left them in dist/cloud-sync/web/:
// index.html (never cached: it names the current bundles) and assets/ whose names carry their
// content hash (cached for a year, immutable), each with a gzipped twin. Read once at start;
// nothing here touches the registry, so these routes need no token (docs/dashboard.md).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes } from '../../src/errors.js'
import { errorBody } from './error-answers.js'

/** Where the build writes the page, beside this file's compiled folder. */
export const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url))

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.map': 'application/json' }

/** The page may load only its own files and talk only to this API (no CDN, no inline script). */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

interface File { body: Buffer, gz?: Buffer, type: string }

export interface Site { index?: File, assets: Map<string, File> }

function load (path: string, type: string): File {
  const gzPath = `${path}.gz`
  return { body: readFileSync(path), type, ...(existsSync(gzPath) ? { gz: readFileSync(gzPath) } : {}) }
}

/** The built page, or a site with no index when the build has not run. */
export function loadSite (dir = WEB_DIR): Site {
  const assets = new Map<string, File>()
  const indexPath = join(dir, 'index.html')
  if (!existsSync(indexPath)) return { assets }
  const assetDir = join(dir, 'assets')
  for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
    const ext = name.slice(name.lastIndexOf('.'))
    if (name.endsWith('.gz') || TYPES[ext] === undefined) continue
    assets.set(name, load(join(assetDir, name), TYPES[ext]))
  }
  return { index: load(indexPath, 'text/html; charset=utf-8'), assets }
}

/** Paths these routes serve: the only ones besides /v1/health that need no operator token. */
export function isStaticPath (path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/')
}

async function send (req: FastifyRequest, reply: FastifyReply, f: File, cache: string): Promise<FastifyReply> {
  const gzip = f.gz !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
  void reply.header('cache-control', cache).header('vary', 'accept-encoding').header('x-content-type-options', 'nosniff').type(f.type)
  if (gzip) void reply.header('content-encoding', 'gzip')
  return await reply.send(gzip ? f.gz : f.body)
}

export function registerStaticRoutes (app: FastifyInstance, site: Site): void {
  const index = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    if (site.index === undefined) {
      return await reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store')
        .send('The dashboard has not been built: run `npm run build` in the lambkin folder, then restart lambkin cloud.\n')
    }
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY')
    return await send(req, reply, site.index, 'no-cache')
  }
  app.get('/', index)
  app.get('/index.html', index)
  app.get('/assets/:name', async (req, reply) => {
    const f = site.assets.get((req.params as { name: string }).name)
    // The API's one error shape (error-answers.ts), also for a file the page does not have.
    if (f === undefined) return await reply.status(404).header('cache-control', 'no-store').send(errorBody(ErrorCodes.ROUTE_NOT_FOUND, `the dashboard has no file ${String((req.params as { name: string }).name).slice(0, 100)}; reload the page (the cloud may have been updated)`))
    return await send(req, reply, f, 'public, max-age=31536000, immutable')
  })
}
