/** One row of the generated helper table: id, name, C return type, C parameters. */
export type HelperRow = readonly [id: number, name: string, returns: string, params: readonly string[]];
