/**
 * The handle every repository takes first, and the statements that concern the
 * database as a whole rather than one table.
 *
 * @module
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../db.ts";

/** A database handle or an open transaction. */
export type Q = Kysely<Database> | Transaction<Database>;
