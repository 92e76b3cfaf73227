/**
 * The wire layout of a PDU field, carried as an annotation on the field's Schema so that
 * the codec is compiled from the same declaration as the types.
 */
import type * as SchemaAST from "effect/SchemaAST"

export const WireAnnotationId: unique symbol = Symbol.for("@effect-smpp/schema/Wire")

export type Wire =
  | { readonly kind: "u8" }
  | { readonly kind: "u32" }
  /** C-Octet String: `max` octets including the NUL; `sizes` restricts the size (incl. NUL) to a set. */
  | {
    readonly kind: "cstring"
    readonly max: number
    readonly sizes?: ReadonlyArray<number>
    readonly status: number
  }
  /** sm_length (1 octet) followed by that many octets. */
  | { readonly kind: "shortMessage" }
  /** number_of_dests then dest_address entries (submit_multi). */
  | { readonly kind: "destAddresses" }
  /** no_unsuccess then unsuccess_sme entries (submit_multi_resp). */
  | { readonly kind: "unsuccessSmes" }

export const PduAnnotationId: unique symbol = Symbol.for("@effect-smpp/schema/PduWire")

export interface PduWire {
  readonly commandId: number
  /** Whether optional parameters may follow the mandatory ones. */
  readonly tlvs: boolean
}

export const wireOf = (ast: SchemaAST.AST): Wire | undefined =>
  ast.annotations[WireAnnotationId] as Wire | undefined

export const pduWireOf = (ast: SchemaAST.AST): PduWire | undefined =>
  ast.annotations[PduAnnotationId] as PduWire | undefined
