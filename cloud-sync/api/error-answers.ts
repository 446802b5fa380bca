// One shape for every error the operator API answers, `{ error: { code, message } }` with a
// code from src/errors.ts, whoever refuses: a route (a LambkinError), Fastify itself (no such
// route, a path part over maxParamLength, a body that does not parse, a content type it has no
// parser for, a body over its limit) or Node's HTTP server below it (a request that did not
// arrive within requestTimeout, headers over the size limit, bytes that are not HTTP). The CLI
// (cli/api-client.ts) and the dashboard read the code; none of them has to know Fastify's shape.
import http from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCodes } from '../../src/errors.js'

/** HTTP status for each error code the API answers with; a code not listed answers 400 (or the error's own 4xx). */
export const STATUS: Readonly<Record<string, number>> = Object.freeze({
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.DEVICE_NOT_FOUND]: 404,
  [ErrorCodes.ROUTE_NOT_FOUND]: 404,
  [ErrorCodes.DEVICE_EXISTS]: 409,
  [ErrorCodes.REQUEST_INVALID]: 400,
  [ErrorCodes.PAGE_LIMIT_INVALID]: 400,
  [ErrorCodes.CURSOR_INVALID]: 400,
  [ErrorCodes.BUNDLE_INVALID]: 400,
  [ErrorCodes.SIGNATURE_INVALID]: 400,
  [ErrorCodes.MANIFEST_INVALID]: 400,
  [ErrorCodes.LIMIT_EXCEEDS_CAP]: 400,
  [ErrorCodes.KEY_UNTRUSTED]: 403,
  [ErrorCodes.ROLLOUT_NOT_FOUND]: 404,
  [ErrorCodes.FUNCTION_NOT_FOUND]: 404,
  [ErrorCodes.DEVICE_OFFLINE]: 409,
  [ErrorCodes.CLOSED]: 503,
  [ErrorCodes.DB_UNAVAILABLE]: 503,
  // The broker behind the cloud refused or did not answer (broker/dynsec.ts).
  [ErrorCodes.BROKER_ADMIN_FAILED]: 502,
  [ErrorCodes.INVOKE_TIMEOUT]: 504
})

export interface ErrorBody { error: { code: string, message: string } }

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } })

/** A route's Fastify `config`: the code a body over its bodyLimit answers (default LAMBKIN_REQUEST_INVALID). */
export interface BodyLimitConfig { overBodyLimit?: string }

const has = (code: string): boolean => Object.hasOwn(STATUS, code)

/** What an error a route or Fastify raised answers: status and body. */
export function answerFor (err: Error, req: FastifyRequest, bodyLimit: number): { status: number, body: ErrorBody } {
  const code = (err as { code?: unknown }).code
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // Fastify's own message names no limit; say which one and what to do.
    // A route whose body is one capped input (an invocation's event) names the cap's own code.
    const limit = req.routeOptions.bodyLimit ?? bodyLimit
    const own = (req.routeOptions.config as BodyLimitConfig | undefined)?.overBodyLimit
    return { status: 413, body: errorBody(own ?? ErrorCodes.REQUEST_INVALID, `request body is too large: ${req.method} ${req.routeOptions.url ?? req.url} takes at most ${limit} bytes (${Math.floor(limit / 1024)} KiB); send a smaller body (a smaller event or bundle)`) }
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: errorBody(ErrorCodes.REQUEST_INVALID, `the API takes JSON bodies only: send Content-Type: application/json (got ${String(req.headers['content-type'] ?? 'none')})`) }
  }
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    // Fastify's parser (secure-json-parse) refuses both alike and keeps no cause.
    return { status: 400, body: errorBody(ErrorCodes.REQUEST_INVALID, 'the request body is not JSON the API takes: it does not parse, or it names a "__proto__" or "constructor": { "prototype" } key, which is refused') }
  }
  if (typeof code === 'string' && has(code)) return { status: STATUS[code], body: errorBody(code, err.message) }
  const status = (err as { statusCode?: number }).statusCode ?? 500
  if (status < 500) return { status, body: errorBody(ErrorCodes.REQUEST_INVALID, err.message) }
  return { status: 500, body: errorBody(ErrorCodes.STORE_ERROR, err.message) }
}

/** Routes' and Fastify's own errors, and unknown routes, in the one shape. */
export function installErrorAnswers (app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler(async (err: Error, req, reply) => {
    const a = answerFor(err, req, bodyLimit)
    return await reply.status(a.status).send(a.body)
  })
  app.setNotFoundHandler(async (req, reply) => {
    return await reply.status(404).send(errorBody(ErrorCodes.ROUTE_NOT_FOUND, `the API has no ${req.method} ${req.url.split('?')[0].slice(0, 200)}; is this lambkin command newer than the cloud it calls? Update the cloud, or check --api`))
  })
}

/** Fastify's `frameworkErrors`: a URL it cannot decode, a path part over maxParamLength. */
export function frameworkErrors (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(errorBody(ErrorCodes.REQUEST_INVALID, 'a part of the URL path is too long: ids and names are at most 63 characters, sha256s 64'))
    return
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send(errorBody(ErrorCodes.REQUEST_INVALID, 'the URL cannot be decoded (a bad %-escape?)'))
    return
  }
  void reply.status(500).send(errorBody(ErrorCodes.STORE_ERROR, err.message))
}

/** What Node's HTTP server refuses below Fastify, as an answer written on the socket, which is then closed. */
export function clientErrorAnswer (err: NodeJS.ErrnoException, requestTimeoutMs: number): { status: number, body: ErrorBody } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, body: errorBody(ErrorCodes.REQUEST_INVALID, `the request did not arrive whole within ${requestTimeoutMs} ms; send it again`) }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, body: errorBody(ErrorCodes.REQUEST_INVALID, 'the request\'s URL and headers are too large; send a shorter URL') }
  return { status: 400, body: errorBody(ErrorCodes.REQUEST_INVALID, 'the request is not valid HTTP') }
}

/** Fastify's `clientErrorHandler` for clientErrorAnswer. */
export function clientErrorHandler (requestTimeoutMs: number): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return
    const a = clientErrorAnswer(err, requestTimeoutMs)
    const body = JSON.stringify(a.body)
    if (socket.writable) socket.write(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? ''}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`)
    socket.destroy()
  }
}
