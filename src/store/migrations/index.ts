/** Every migration, in order. Forward-only: a released migration is never edited, only followed. */
import * as m001 from "./001_initial.js";
import * as m002 from "./002_file_signatures.js";
import * as m003 from "./003_loop_resolution.js";
import * as m004 from "./004_run_attempt_index.js";
import * as m005 from "./005_run_attempt_max.js";
import * as m006 from "./006_aar_review.js";
import * as m007 from "./007_rule_modes.js";
import * as m008 from "./008_continuity.js";
import * as m009 from "./009_aar_compact.js";
import * as m010 from "./010_aar_inputs.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: m001.name, sql: m001.sql },
  { version: 2, name: m002.name, sql: m002.sql },
  { version: 3, name: m003.name, sql: m003.sql },
  { version: 4, name: m004.name, sql: m004.sql },
  { version: 5, name: m005.name, sql: m005.sql },
  { version: 6, name: m006.name, sql: m006.sql },
  { version: 7, name: m007.name, sql: m007.sql },
  { version: 8, name: m008.name, sql: m008.sql },
  { version: 9, name: m009.name, sql: m009.sql },
  { version: 10, name: m010.name, sql: m010.sql },
];
