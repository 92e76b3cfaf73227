/**
 * Optional parameters (TLVs) of SMPP 3.4: every standard tag typed by name and size.
 * Unknown tags are kept raw under their tag in hex (`"0x1403"`), in wire order, so a PDU
 * re-encodes byte for byte.
 *
 * Three TLVs may occur more than once in a PDU (SMPP 3.4, 5.3.2.36–5.3.2.38: a handset
 * may be given several call-back numbers): callback_num, callback_num_pres_ind and
 * callback_num_atag. Each of them is a non-empty list of its values, in wire order, kept
 * under the place of its first occurrence; the encoder writes a list's elements one after
 * another there. So a PDU re-encodes byte for byte when the occurrences of each of these
 * tags are adjacent on the wire (as every encoder we know writes them).
 *
 * @since 0.1.0
 */
import * as Arbitrary from "effect/Arbitrary"
import * as Schema from "effect/Schema"

/**
 * How a TLV's value is laid out.
 *
 * @since 0.1.0
 * @category models
 */
export type TlvKind =
  | { readonly kind: "u8" }
  | { readonly kind: "u16" }
  | { readonly kind: "u32" }
  /** C-Octet String; `max` includes the NUL. */
  | { readonly kind: "cstring"; readonly max: number }
  | { readonly kind: "octets"; readonly min: number; readonly max: number }
  /** No value (length 0). */
  | { readonly kind: "flag" }
  /** network_error_code: network type (1 octet), error code (2 octets). */
  | { readonly kind: "networkErrorCode" }

const u8 = { kind: "u8" } as const
const u16 = { kind: "u16" } as const
const u32 = { kind: "u32" } as const
const cstring = (max: number) => ({ kind: "cstring", max }) as const
const octets = (min: number, max: number) => ({ kind: "octets", min, max }) as const
/** May occur more than once in one PDU: typed as a list of values. */
const repeatable = { repeatable: true } as const

/**
 * The standard TLVs: name (the spec's, in camelCase), tag and layout.
 *
 * @since 0.1.0
 * @category models
 */
export const definitions = {
  destAddrSubunit: { tag: 0x0005, ...u8 },
  destNetworkType: { tag: 0x0006, ...u8 },
  destBearerType: { tag: 0x0007, ...u8 },
  destTelematicsId: { tag: 0x0008, ...u16 },
  sourceAddrSubunit: { tag: 0x000d, ...u8 },
  sourceNetworkType: { tag: 0x000e, ...u8 },
  sourceBearerType: { tag: 0x000f, ...u8 },
  sourceTelematicsId: { tag: 0x0010, ...u8 },
  qosTimeToLive: { tag: 0x0017, ...u32 },
  payloadType: { tag: 0x0019, ...u8 },
  additionalStatusInfoText: { tag: 0x001d, ...cstring(256) },
  receiptedMessageId: { tag: 0x001e, ...cstring(65) },
  msMsgWaitFacilities: { tag: 0x0030, ...u8 },
  privacyIndicator: { tag: 0x0201, ...u8 },
  sourceSubaddress: { tag: 0x0202, ...octets(2, 23) },
  destSubaddress: { tag: 0x0203, ...octets(2, 23) },
  userMessageReference: { tag: 0x0204, ...u16 },
  userResponseCode: { tag: 0x0205, ...u8 },
  sourcePort: { tag: 0x020a, ...u16 },
  destinationPort: { tag: 0x020b, ...u16 },
  sarMsgRefNum: { tag: 0x020c, ...u16 },
  languageIndicator: { tag: 0x020d, ...u8 },
  sarTotalSegments: { tag: 0x020e, ...u8 },
  sarSegmentSeqnum: { tag: 0x020f, ...u8 },
  scInterfaceVersion: { tag: 0x0210, ...u8 },
  callbackNumPresInd: { tag: 0x0302, ...u8, ...repeatable },
  callbackNumAtag: { tag: 0x0303, ...octets(0, 65), ...repeatable },
  numberOfMessages: { tag: 0x0304, ...u8 },
  callbackNum: { tag: 0x0381, ...octets(4, 19), ...repeatable },
  dpfResult: { tag: 0x0420, ...u8 },
  setDpf: { tag: 0x0421, ...u8 },
  msAvailabilityStatus: { tag: 0x0422, ...u8 },
  networkErrorCode: { tag: 0x0423, kind: "networkErrorCode" },
  messagePayload: { tag: 0x0424, ...octets(0, 0xffff) },
  deliveryFailureReason: { tag: 0x0425, ...u8 },
  moreMessagesToSend: { tag: 0x0426, ...u8 },
  messageState: { tag: 0x0427, ...u8 },
  ussdServiceOp: { tag: 0x0501, ...u8 },
  displayTime: { tag: 0x1201, ...u8 },
  smsSignal: { tag: 0x1203, ...u16 },
  msValidity: { tag: 0x1204, ...u8 },
  alertOnMessageDelivery: { tag: 0x130c, kind: "flag" },
  itsReplyType: { tag: 0x1380, ...u8 },
  itsSessionInfo: { tag: 0x1383, ...u16 }
} as const satisfies Record<string, { readonly tag: number; readonly repeatable?: true } & TlvKind>

/**
 * @since 0.1.0
 * @category models
 */
export type TlvName = keyof typeof definitions

/**
 * The TLVs that may occur more than once in a PDU, typed as lists.
 *
 * @since 0.1.0
 * @category models
 */
export type RepeatableTlvName = {
  readonly [K in TlvName]: (typeof definitions)[K] extends { readonly repeatable: true } ? K : never
}[TlvName]

/**
 * @since 0.1.0
 * @category models
 */
export type TlvDefinition = {
  readonly name: TlvName
  readonly tag: number
  /** Whether the TLV may occur more than once (its value is then a list). */
  readonly repeatable: boolean
} & TlvKind

/**
 * Every standard TLV, by tag.
 *
 * @since 0.1.0
 * @category models
 */
export const byTag: ReadonlyMap<number, TlvDefinition> = new Map(
  (Object.keys(definitions) as Array<TlvName>).map((name) => {
    const def = definitions[name]
    return [def.tag, { ...def, name, repeatable: "repeatable" in def }]
  })
)

/**
 * The names of the TLVs that may occur more than once (callback_num and its two companions).
 *
 * @since 0.1.0
 * @category models
 */
export const repeatableNames: ReadonlySet<RepeatableTlvName> = new Set(
  (Object.keys(definitions) as Array<TlvName>).filter((name): name is RepeatableTlvName =>
    "repeatable" in definitions[name]
  )
)

/**
 * The key an unknown tag is kept under: `0x` and four lowercase hex digits.
 *
 * @since 0.1.0
 * @category utils
 */
export const unknownKey = (tag: number): `0x${string}` => `0x${tag.toString(16).padStart(4, "0")}`

const Uint = (max: number) => Schema.Int.pipe(Schema.between(0, max))

const valueSchema = (def: TlvKind) => {
  switch (def.kind) {
    case "u8":
      return Uint(0xff)
    case "u16":
      return Uint(0xffff)
    case "u32":
      return Uint(0xffffffff)
    case "cstring":
      return Schema.String.pipe(
        Schema.maxLength(def.max - 1),
        Schema.pattern(/^[\x01-\xff]*$/)
      )
    case "octets":
      return Schema.Uint8ArrayFromSelf.pipe(
        Schema.filter((bytes) => bytes.length >= def.min && bytes.length <= def.max),
        // Generate in range directly: filtering random arrays would reject most of them.
        Schema.annotations({
          arbitrary: () => (fc) => fc.uint8Array({ minLength: def.min, maxLength: Math.min(def.max, def.min + 64) })
        })
      )
    case "flag":
      return Schema.Literal(true)
    case "networkErrorCode":
      return Schema.Struct({ networkType: Uint(0xff), errorCode: Uint(0xffff) })
  }
}

type ValueOf<K extends TlvKind> = K extends { kind: "u8" | "u16" | "u32" } ? number
  : K extends { kind: "cstring" } ? string
  : K extends { kind: "octets" } ? Uint8Array
  : K extends { kind: "flag" } ? true
  : K extends { kind: "networkErrorCode" } ? { readonly networkType: number; readonly errorCode: number }
  : never

/** A repeatable TLV's value: one or more values (an empty list has no wire form). */
const listSchema = <A, I>(element: Schema.Schema<A, I>) =>
  Schema.Array(element).pipe(
    Schema.minItems(1, {
      // Property tests: 1–3 occurrences (a left-out TLV stands for none).
      arbitrary: () => (fc) => fc.array(Arbitrary.make(element), { minLength: 1, maxLength: 3 })
    })
  )

type FieldOf<D> = D extends { readonly repeatable: true } ? ReadonlyArray<ValueOf<D & TlvKind>>
  : ValueOf<D & TlvKind>

type KnownFields = {
  readonly [K in TlvName]: Schema.optionalWith<Schema.Schema<FieldOf<(typeof definitions)[K]>>, { exact: true }>
}

const knownFields = Object.fromEntries(
  (Object.keys(definitions) as Array<TlvName>).map((name) => {
    const def = definitions[name]
    const value: Schema.Schema.AnyNoContext = valueSchema(def)
    return [name, Schema.optionalWith("repeatable" in def ? listSchema(value) : value, { exact: true })]
  })
) as unknown as KnownFields

/**
 * The optional parameters of a PDU: standard ones by name, unknown ones by tag.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Tlvs = Schema.Struct(
  knownFields,
  Schema.Record({
    key: Schema.TemplateLiteral("0x", Schema.String).pipe(
      Schema.pattern(/^0x[0-9a-f]{4}$/),
      // Property tests draw unknown tags from the vendor range, never a standard tag.
      Schema.annotations({
        arbitrary: () => (fc) => fc.integer({ min: 0x1400, max: 0x3fff }).map(unknownKey)
      })
    ),
    value: Schema.Uint8ArrayFromSelf.pipe(
      Schema.filter((bytes) => bytes.length <= 0xffff),
      Schema.annotations({ arbitrary: () => (fc) => fc.uint8Array({ maxLength: 32 }) })
    )
  })
)

/**
 * @since 0.1.0
 * @category models
 */
export type Tlvs = typeof Tlvs.Type
