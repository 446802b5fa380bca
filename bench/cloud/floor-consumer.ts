// The floor of bench/cloud/scale-out: a bare MQTT.js shared-subscription consumer with no lambkin
// code (mqtt, pg and cbor-x only) doing the same work per upload as a cloud instance does: one
// PostgreSQL transaction per batch on lambkin's schema (the device row locked, the stream's
// mark read, the records inserted with ON CONFLICT DO NOTHING, the stream and device rows
// written, COMMIT), then the device's down/ack. Uploads run at once on a pool of the same size
// as the cloud's (10). Mode `pipelined`: MQTT.js acknowledges each message when handed over
// (no hold of the PUBACK); mode `serial`: MQTT.js's own manual ack (handleMessage, one message
// at a time, PUBACK after the commit). Usage: floor-consumer.js <mode> <brokerUrl> <dbUrl>;
// prints "ready" once subscribed.
import { Encoder } from 'cbor-x'
import mqtt from 'mqtt'
import pg from 'pg'

const [mode, brokerUrl, dbUrl] = process.argv.slice(2)
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true })
const pool = new pg.Pool({ connectionString: dbUrl, max: 10 })
const day = Math.floor(Date.now() / 86_400_000)

interface Rec { seq: number, kind: string, fn?: string, time: number, data: unknown }

async function store (device: string, frame: { stream?: string, batchId?: number, records: Rec[] }): Promise<number> {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    await c.query('SELECT streams FROM lambkin.devices WHERE id = $1 FOR UPDATE', [device])
    const stream = frame.stream ?? ''
    const st = (await c.query<{ ord: number, high_water: string }>('SELECT ord, high_water FROM lambkin.streams WHERE device = $1 AND id = $2', [device, stream])).rows[0]
    const hw = st === undefined ? 0 : Number(st.high_water)
    const fresh = frame.records.filter((r) => r.seq > hw)
    const res = await c.query(
      `INSERT INTO lambkin.records (device, ord, seq, day, received_at, kind, fn, time, data)
       SELECT $1, 1, u.seq, $2, $3, u.kind, u.fn, u.time, u.data FROM unnest($4::bigint[], $5::text[], $6::text[], $7::float8[], $8::bytea[]) AS u(seq, kind, fn, time, data)
       ON CONFLICT DO NOTHING`,
      [
        device,
        day,
        Date.now(),
        fresh.map((r) => r.seq),
        fresh.map((r) => r.kind),
        fresh.map((r) => r.fn ?? null),
        fresh.map((r) => r.time),
        fresh.map((r) => cbor.encode(r.data))
      ]
    )
    const top = Math.max(hw, ...fresh.map((r) => r.seq))
    await c.query(
      `WITH st AS (INSERT INTO lambkin.streams (device, id, ord, first_seen, last_seen, high_water, stored) VALUES ($1, $2, 1, $3, $3, $4, $5)
         ON CONFLICT (device, id) DO UPDATE SET last_seen = EXCLUDED.last_seen, high_water = EXCLUDED.high_water, stored = lambkin.streams.stored + $5)
       UPDATE lambkin.devices SET last_seen = $3, heard_at = clock_timestamp(), stream = $2, streams = 1, high_water = $4, stored = stored + $5 WHERE id = $1`,
      [device, stream, Date.now(), top, res.rowCount ?? 0])
    await c.query('COMMIT')
    return top
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    c.release()
  }
}

const client = mqtt.connect(brokerUrl, { protocolVersion: 5, clientId: `floor-${process.pid}`, clean: true, properties: { receiveMaximum: 256 }, reconnectPeriod: 1000 })
const handle = async (topic: string, payload: Buffer): Promise<void> => {
  const device = topic.split('/')[2]
  if (!topic.endsWith('/up/batch')) return
  const frame = cbor.decode(payload) as { stream?: string, batchId?: number, records: Rec[] }
  const seq = await store(device, frame)
  client.publish(`lambkin/v1/${device}/down/ack`, cbor.encode({ v: 1, seq, ...(frame.stream === undefined ? {} : { stream: frame.stream }), ...(frame.batchId === undefined ? {} : { batchId: frame.batchId }) }), { qos: 1 })
}
client.handleMessage = (packet, callback) => {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
  const work = handle(packet.topic, payload)
  if (mode === 'serial') work.then(() => callback(), (err: Error) => callback(err))
  else { callback(); work.catch((err: Error) => { console.error(err.message) }) }
}
client.on('connect', () => {
  client.subscribe('$share/lambkin-cloud/lambkin/v1/+/up/+', { qos: 1 }, () => { process.stdout.write('ready\n') })
})
process.on('SIGTERM', () => { client.end(true); void pool.end().then(() => process.exit(0)) })
