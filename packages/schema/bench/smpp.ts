/**
 * node-smpp (the npm package `smpp`, CommonJS, no type declarations) loaded for the
 * benchmark, with just the surface the benchmark touches typed.
 */
import { createRequire } from "node:module"

/** A node-smpp PDU: header fields, then the PDU's fields and TLVs as snake_case properties. */
export interface SmppPdu {
  readonly command: string
  readonly command_length: number
  readonly command_id: number
  readonly command_status: number
  readonly sequence_number: number
  toBuffer(): Buffer
  readonly [field: string]: unknown
}

export interface SmppPduConstructor {
  new(command: string, fields?: Readonly<Record<string, unknown>>): SmppPdu
  /** `false` when the buffer holds less than one whole PDU. */
  fromBuffer(buffer: Buffer): SmppPdu | false
}

export interface SmppModule {
  readonly PDU: SmppPduConstructor
}

const requireCjs = createRequire(import.meta.url)

export const smpp: SmppModule = requireCjs("smpp") as SmppModule

/** The installed version, read from its package.json. */
export const version: string = (requireCjs("smpp/package.json") as { readonly version: string }).version
