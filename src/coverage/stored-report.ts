/**
 * The shape a stored report (`latest.json`, read back by `status --latest`) must have before it is
 * rendered: the renderers index labels and totals by feature and state, so an unknown feature or
 * state, or totals missing a feature, would throw deep inside them. Extra fields are allowed (a
 * newer function may add some); anything the renderers rely on is checked.
 */
import { z } from 'zod';
import {
  COVERAGE_FEATURES,
  COVERAGE_SCHEMA_VERSION,
  COVERAGE_STATES,
  type CoverageSummary,
} from './model.js';

const feature = z.enum(COVERAGE_FEATURES);
const state = z.enum(COVERAGE_STATES as readonly [string, ...string[]]);
const itemState = z.enum(['protected', 'partial', 'unprotected', 'not-applicable', 'unknown']);
const count = z.number().int().nonnegative();
const reason = z.looseObject({ code: z.string(), text: z.string() });

const stateCounts = z.looseObject(Object.fromEntries(COVERAGE_STATES.map((s) => [s, count])));

export const storedCellSchema = z.looseObject({
  accountId: z.string(),
  region: z.string(),
  feature,
  state,
  counts: z.looseObject({
    total: count,
    protected: count,
    // Added after the first reports were stored: an older report has none.
    partial: count.optional(),
    unprotected: count,
    notApplicable: count,
    unknown: count,
  }),
  reasons: z.array(reason),
  // In latest.json the items are beside the summary (`details`); a document printed by --json has them inline.
  items: z.optional(
    z.array(
      z.looseObject({
        kind: z.string(),
        id: z.string(),
        name: z.string().optional(),
        state: itemState,
        reasons: z.array(reason),
        facts: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      }),
    ),
  ),
});

export const storedReportSchema = z
  .looseObject({
    schemaVersion: z.literal(COVERAGE_SCHEMA_VERSION),
    generatedAt: z.string(),
    scope: z.looseObject({
      partition: z.string(),
      homeRegion: z.string(),
      targets: z.array(z.string()),
      excludeAccounts: z.array(z.string()),
      accountFilter: z.array(z.string()).optional(),
      features: z.array(feature),
    }),
    accounts: z.array(
      z.looseObject({
        id: z.string(),
        name: z.string().optional(),
        readable: z.boolean(),
        reason: reason.optional(),
      }),
    ),
    regions: z.array(z.string()),
    cells: z.array(storedCellSchema),
    totals: z.partialRecord(feature, stateCounts),
    allProtected: z.boolean(),
    details: z.looseObject({ layout: z.literal('per-account'), prefix: z.string() }).optional(),
  })
  .superRefine((report, ctx) => {
    for (const f of report.scope.features) {
      if (report.totals[f] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['totals', f], message: `missing (the report covers ${f})` });
      }
    }
  });

/** The report when it is valid, else its first problems as `cells[3].state: <what is wrong>`. */
export function checkStoredReport(value: unknown): { report?: CoverageSummary; problems: string[] } {
  const parsed = storedReportSchema.safeParse(value);
  if (parsed.success) return { report: value as CoverageSummary, problems: [] };
  return { problems: parsed.error.issues.slice(0, 3).map((i) => `${pathOf(i.path)}: ${i.message}`) };
}

function pathOf(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path)
    out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(the report)' : out;
}
