/**
 * BTF constants and the decoded type model. Numbers mirror include/uapi/linux/btf.h
 * (struct btf_header, struct btf_type, BTF_KIND_*, BTF_INT_*, enum btf_func_linkage,
 * BTF_VAR_*).
 */

/** BTF_MAGIC from include/uapi/linux/btf.h; the first u16 of a BTF blob in its byte order. */
export const BTF_MAGIC = 0xeb9f;
/** BTF_VERSION from include/uapi/linux/btf.h. */
export const BTF_VERSION = 1;
/** sizeof(struct btf_header). */
export const BTF_HEADER_SIZE = 24;
/** sizeof(struct btf_type): name_off, info, size/type. */
export const BTF_TYPE_SIZE = 12;
/** BTF_MAX_STR_OFFSET from libbpf (libbpf_internal.h): the largest string offset accepted. */
export const BTF_MAX_STR_OFFSET = 0x7fffffff;
/** BTF_MAX_VLEN: vlen is 16 bits of btf_type.info. */
export const BTF_MAX_VLEN = 0xffff;

/** BTF_KIND_* from include/uapi/linux/btf.h. */
export const BtfKind = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;
/** A BTF kind number (BTF_KIND_*). */
export type BtfKind = (typeof BtfKind)[keyof typeof BtfKind];

/** Highest kind this decoder knows (BTF_KIND_MAX). */
export const BTF_KIND_MAX = 19;

/** Kind names as bpftool prints them, indexed by kind number (0 is 'UNKNOWN'). */
export const BTF_KIND_NAMES: readonly string[] = [
  'UNKNOWN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE',
  'CONST', 'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG',
  'ENUM64',
];

/** The name of a kind number, 'UNKNOWN' for kinds this decoder does not know. */
export function kindName(kind: number): string {
  return BTF_KIND_NAMES[kind] ?? 'UNKNOWN';
}

/** BTF_INT_ENCODING bits (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL). */
export const BtfIntEncoding = { NONE: 0, SIGNED: 1, CHAR: 2, BOOL: 4 } as const;
/** A BTF_INT_ENCODING value. */
export type BtfIntEncoding = (typeof BtfIntEncoding)[keyof typeof BtfIntEncoding];

/** enum btf_func_linkage: stored in the vlen of a FUNC. */
export const BtfFuncLinkage = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;
/** A btf_func_linkage value. */
export type BtfFuncLinkage = (typeof BtfFuncLinkage)[keyof typeof BtfFuncLinkage];

/** BTF_VAR_* linkage of a VAR (struct btf_var). */
export const BtfVarLinkage = { STATIC: 0, GLOBAL_ALLOCATED: 1, GLOBAL_EXTERN: 2 } as const;
/** A BTF_VAR_* linkage value. */
export type BtfVarLinkage = (typeof BtfVarLinkage)[keyof typeof BtfVarLinkage];

/** Size of the fixed part plus the vlen-dependent part that follows a btf_type, per kind. */
export function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.INT: return 4;
    case BtfKind.ARRAY: return 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION: return 12 * vlen;
    case BtfKind.ENUM: return 8 * vlen;
    case BtfKind.FUNC_PROTO: return 8 * vlen;
    case BtfKind.VAR: return 4;
    case BtfKind.DATASEC: return 12 * vlen;
    case BtfKind.DECL_TAG: return 4;
    case BtfKind.ENUM64: return 12 * vlen;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG: return 0;
    default: return -1;
  }
}

/** BTF_KIND_INT: `encoding` is a BtfIntEncoding bit set; `bitsOffset`/`bits` from the u32 after the type. */
export interface BtfInt {
  kind: typeof BtfKind.INT;
  name: string;
  size: number;
  encoding: number;
  bitsOffset: number;
  bits: number;
}

/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT: a name (empty except for TYPEDEF) and the type referred to. */
export interface BtfRef {
  kind: typeof BtfKind.PTR | typeof BtfKind.TYPEDEF | typeof BtfKind.VOLATILE | typeof BtfKind.CONST | typeof BtfKind.RESTRICT;
  name: string;
  type: number;
}

/** BTF_KIND_ARRAY (struct btf_array). */
export interface BtfArray {
  kind: typeof BtfKind.ARRAY;
  name: string;
  type: number;
  indexType: number;
  nelems: number;
}

/** One member of a struct or union (struct btf_member), offsets decoded per the kflag. */
export interface BtfMember {
  name: string;
  type: number;
  /** Offset of the member from the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield width in bits, 0 for ordinary members (always 0 when the struct's kflag is clear). */
  bitfieldSize: number;
}

/**
 * STRUCT or UNION. The kflag is implied: it is set (offsets carry bitfield sizes) when any member
 * has a bitfieldSize; the builder sets it the same way.
 */
export interface BtfStruct {
  kind: typeof BtfKind.STRUCT | typeof BtfKind.UNION;
  name: string;
  size: number;
  members: BtfMember[];
}

/** One enumerator of an ENUM; `value` is an int32 when the enum is signed, a uint32 otherwise. */
export interface BtfEnumValue {
  name: string;
  value: number;
}

/** BTF_KIND_ENUM; `signed` is the kflag. */
export interface BtfEnum {
  kind: typeof BtfKind.ENUM;
  name: string;
  size: number;
  signed: boolean;
  values: BtfEnumValue[];
}

/** One enumerator of an ENUM64; `value` is an int64 when the enum is signed, a uint64 otherwise. */
export interface BtfEnum64Value {
  name: string;
  value: bigint;
}

/** BTF_KIND_ENUM64; `signed` is the kflag. */
export interface BtfEnum64 {
  kind: typeof BtfKind.ENUM64;
  name: string;
  size: number;
  signed: boolean;
  values: BtfEnum64Value[];
}

/** BTF_KIND_FWD; `union` is the kflag (forward-declared union rather than struct). */
export interface BtfFwd {
  kind: typeof BtfKind.FWD;
  name: string;
  union: boolean;
}

/** BTF_KIND_FUNC: `type` is its FUNC_PROTO, `linkage` a BtfFuncLinkage (stored in vlen). */
export interface BtfFunc {
  kind: typeof BtfKind.FUNC;
  name: string;
  type: number;
  linkage: number;
}

/** One parameter of a FUNC_PROTO (struct btf_param); a last parameter of type 0 means varargs. */
export interface BtfParam {
  name: string;
  type: number;
}

/** BTF_KIND_FUNC_PROTO. */
export interface BtfFuncProto {
  kind: typeof BtfKind.FUNC_PROTO;
  name: string;
  returnType: number;
  params: BtfParam[];
}

/** BTF_KIND_VAR (struct btf_var). */
export interface BtfVar {
  kind: typeof BtfKind.VAR;
  name: string;
  type: number;
  linkage: number;
}

/** One variable of a DATASEC (struct btf_var_secinfo). */
export interface BtfVarSecinfo {
  type: number;
  offset: number;
  size: number;
}

/** BTF_KIND_DATASEC. */
export interface BtfDatasec {
  kind: typeof BtfKind.DATASEC;
  name: string;
  size: number;
  vars: BtfVarSecinfo[];
}

/** BTF_KIND_FLOAT. */
export interface BtfFloat {
  kind: typeof BtfKind.FLOAT;
  name: string;
  size: number;
}

/**
 * BTF_KIND_DECL_TAG: tags `type` (componentIdx -1) or its member/parameter number componentIdx.
 * `attribute` is the kflag: the tag is a plain `__attribute__((...))` rather than btf_decl_tag.
 */
export interface BtfDeclTag {
  kind: typeof BtfKind.DECL_TAG;
  name: string;
  type: number;
  componentIdx: number;
  attribute: boolean;
}

/** BTF_KIND_TYPE_TAG; `attribute` is the kflag, as for DECL_TAG. */
export interface BtfTypeTag {
  kind: typeof BtfKind.TYPE_TAG;
  name: string;
  type: number;
  attribute: boolean;
}

/** Any decoded BTF type; narrow on `kind`. */
export type BtfType =
  | BtfInt
  | BtfRef
  | BtfArray
  | BtfStruct
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag
  | BtfTypeTag;

/** The pseudo type of id 0. */
export const VOID_ID = 0;

/** Whether `kind` only qualifies another type (CONST, VOLATILE, RESTRICT, TYPE_TAG). */
export function isModifierKind(kind: number): boolean {
  return kind === BtfKind.CONST || kind === BtfKind.VOLATILE || kind === BtfKind.RESTRICT || kind === BtfKind.TYPE_TAG;
}
